//! `verify --keys` and `keys` on the encrypted fixtures (real etcd,
//! encrypted by Python's cryptography/PyNaCl, not by this crate).

mod common;

use common::*;

/// Every key secret (base64) in the fixture's tarball and config file.
fn secrets(dir: &str) -> Vec<String> {
    let mut text =
        std::fs::read_to_string(fixture(&format!("{dir}/upstream-encryption-config.yaml")))
            .unwrap();
    let tar = std::fs::read_dir(fixture(dir))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".tar.gz"))
        .unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(tar.path()).unwrap(),
    ));
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
        text.push_str(&s);
    }
    let mut out = Vec::new();
    for part in text.split("secret").skip(1) {
        let s: String = part
            .trim_start_matches(['"', ':', ' '])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '=')
            .collect();
        if s.len() >= 20 && s != "AAAAAAAAAAAAAAAAAAAAAA==" {
            out.push(s);
        }
    }
    assert!(out.len() >= 3, "found {out:?}");
    out
}

#[test]
fn verify_with_keys_names_every_value_that_cannot_be_read() {
    for dir in ["encrypted", "encrypted-3.4"] {
        let d = fixture(dir);
        let cfg = d.join("upstream-encryption-config.yaml");
        let o = etcdsnap(&[
            "verify",
            d.to_str().unwrap(),
            "--keys",
            cfg.to_str().unwrap(),
        ]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{dir}: {out}");
        assert!(out.contains("[DAMAGED] decryption"), "{out}");
        // Exactly the values the fixture made unreadable.
        for k in ["lost-key", "kms-v2", "tampered", "moved"] {
            assert!(
                out.contains(&format!("/{k}")),
                "{dir}: {k} not named: {out}"
            );
        }
        assert!(
            out.contains("aescbc key \"9\""),
            "names the missing key: {out}"
        );
        assert!(out.contains("cannot be decrypted offline"), "{out}");
        // Values under keys found only in the snapshot (second stage) decrypt.
        assert!(!out.contains("/openshift.io/routes/default/web"), "{out}");
        for s in secrets(dir) {
            assert!(
                !out.contains(&s) && !stderr(&o).contains(&s),
                "key material printed"
            );
        }
    }
}

#[test]
fn keys_command_reports_sources_and_needs_without_key_bytes() {
    let d = fixture("encrypted");
    let o = etcdsnap(&["keys", d.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "some values need keys not given");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let comps: Vec<&str> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["component"].as_str().unwrap_or(""))
        .collect();
    for c in ["kube-apiserver", "openshift-apiserver", "oauth-apiserver"] {
        assert!(comps.contains(&c), "{comps:?}");
    }
    assert!(v["values"]["needed"]["aescbc"]["3"].as_u64().unwrap() > 0);
    let all = format!("{}{}", stdout(&o), stderr(&o));
    for s in secrets("encrypted") {
        assert!(!all.contains(&s), "key material printed");
    }
}

#[test]
fn verify_without_keys_on_a_plain_file_has_no_decryption_layer() {
    let db = fixture("etcd-3.5/small.db");
    let o = etcdsnap(&["verify", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("decryption"));
}

#[test]
fn bad_key_sources_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let garbage = d.path().join("static_kuberesources_x.tar.gz");
    std::fs::write(&garbage, b"not a tarball").unwrap();
    let db = fixture("encrypted/snapshot_2026-11-21_101500.db");
    let o = etcdsnap(&[
        "verify",
        db.to_str().unwrap(),
        "--keys",
        garbage.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("static_kuberesources_x.tar.gz"),
        "{}",
        stderr(&o)
    );
    let o = etcdsnap(&[
        "keys",
        db.to_str().unwrap(),
        "--keys",
        "/nonexistent/enc.yaml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/enc.yaml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn get_ls_history_export_and_decode_read_through_the_keys() {
    let d = fixture("encrypted");
    let ds = d.to_str().unwrap();
    // A Route encrypted with openshift-apiserver's aesgcm key, which lives
    // only inside the snapshot (second stage), reads as a plain object.
    let o = etcdsnap(&[
        "get",
        ds,
        "routes.route.openshift.io",
        "console",
        "-n",
        "openshift-console",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["kind"], "Route");
    assert_eq!(v["metadata"]["name"], "console");
    // The table says which provider and key it was under.
    let o = etcdsnap(&["get", ds, "routes.route.openshift.io", "-o", "etcd"]);
    let t = stdout(&o);
    assert!(t.contains("aesgcm key 3 → protobuf"), "{t}");
    // Without keys: listed with provider and key name, not decoded.
    let db = d.join("snapshot_2026-11-21_101500.db");
    let o = etcdsnap(&[
        "ls",
        db.to_str().unwrap(),
        "/kubernetes.io/secrets/default/db-password",
    ]);
    assert!(stdout(&o).contains("aescbc key 3"), "{}", stdout(&o));
    let o = etcdsnap(&[
        "get",
        db.to_str().unwrap(),
        "secret",
        "db-password",
        "-n",
        "default",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("encrypted with aescbc key 3"),
        "{}",
        stderr(&o)
    );
    // History through three keys (plain, key 2, key 3), every revision decoded.
    let o = etcdsnap(&[
        "history",
        ds,
        "/kubernetes.io/secrets/default/db-password",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let h: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let revs = h["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 3);
    assert!(revs.iter().all(|r| r["object"]["kind"] == "Secret"), "{h}");
    // Export: 0600 files, 0700 dirs, an index; --redact hides Secret data.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    let o = etcdsnap(&["export", ds, "--out", dir.to_str().unwrap(), "--redact"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "unreadable values are counted: {}",
        stderr(&o)
    );
    let f = dir.join("default/secrets/db-password.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("sha256:"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(dir.join("default"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let lost = index["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "/kubernetes.io/secrets/default/lost-key")
        .unwrap();
    assert!(lost["error"].as_str().unwrap().contains("\"9\""), "{lost}");
    assert!(
        dir.join(lost["file"].as_str().unwrap()).exists(),
        "kept as stored"
    );
    // An existing non-empty dir is refused.
    let o = etcdsnap(&["export", ds, "--out", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // decode of one stored value, with its etcd key and the keys.
    let raw = etcdsnap(&[
        "get",
        db.to_str().unwrap(),
        "--key",
        "/kubernetes.io/secrets/default/db-password",
        "-o",
        "raw",
    ]);
    let vf = out.path().join("value.bin");
    std::fs::write(&vf, &raw.stdout).unwrap();
    let tar = d.join("static_kuberesources_2026-11-21_101500.tar.gz");
    let o = etcdsnap(&[
        "decode",
        vf.to_str().unwrap(),
        "--key",
        "/kubernetes.io/secrets/default/db-password",
        "--keys",
        tar.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["metadata"]["name"], "db-password");
    let o = etcdsnap(&["decode", vf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("aescbc key 3"), "{}", stderr(&o));
}

#[test]
fn a_value_that_decrypts_but_does_not_decode_is_a_failure() {
    use etcdsnap::crypt::KeyRing;
    use etcdsnap::etcd::Snapshot;
    use etcdsnap::mvcc::Store;
    use etcdsnap::verify::{decryption_layer, key_use, Verdict};
    let d = fixture("encrypted");
    let snap = Snapshot::open(&d.join("snapshot_2026-11-21_101500.db")).unwrap();
    let store = Store::open(&snap).unwrap();
    let mut ring = KeyRing::new();
    ring.load_path(&d).unwrap();
    ring.load_from_store(&store);
    let all_ok = key_use(&store, &ring, |_, _| Ok(()));
    let none_decode = key_use(&store, &ring, |_, _| {
        Err(etcdsnap::kube::KubeError::Unknown)
    });
    // Every value that decrypted now fails, and only those.
    assert_eq!(
        none_decode.failure_count,
        all_ok.failure_count + all_ok.decrypted as usize
    );
    assert!(none_decode
        .failures
        .iter()
        .any(|f| f.contains("decrypted but does not decode")));
    assert_eq!(decryption_layer(&none_decode).verdict, Verdict::Damaged);
}
