//! Decrypting the committed encrypted fixtures (made by real etcd, encrypted
//! by Python `cryptography`/PyNaCl in scripts/make-crypt-fixtures.py) and
//! comparing every value with the manifest; plus the key sources' error
//! cases.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use common::*;
use etcdsnap::crypt::{read_tarball, Component, CryptError, KeyRing, ProviderKind};
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::Store;
use serde_json::Value;
use sha2::{Digest, Sha256};

const DIRS: &[&str] = &["encrypted", "encrypted-3.4"];

fn manifest(dir: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(&format!("{dir}/manifest.json"))).unwrap())
        .unwrap()
}

/// A fixture dir's manifest and its snapshot, opened.
fn manifest_and_snapshot(dir: &str) -> (Value, Snapshot) {
    let m = manifest(dir);
    let snap = Snapshot::open(&fixture(&format!(
        "{dir}/{}",
        m["snapshot"].as_str().unwrap()
    )))
    .unwrap();
    (m, snap)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The ring a user gets from the backup dir, the upstream config, and the
/// second stage.
fn full_ring(dir: &str, store: &Store) -> (KeyRing, Vec<String>) {
    let mut ring = KeyRing::new();
    let notes = ring.load_backup_dir(&fixture(dir)).unwrap();
    ring.load_config_file(
        &fixture(&format!("{dir}/upstream-encryption-config.yaml")),
        Component::Unknown,
    )
    .unwrap();
    let found = ring.load_from_store(store);
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    (ring, notes)
}

#[test]
fn every_value_matches_the_manifest() {
    for dir in DIRS {
        let m = manifest(dir);
        let snap = Snapshot::open(&fixture(&format!(
            "{dir}/{}",
            m["snapshot"].as_str().unwrap()
        )))
        .unwrap();
        let store = Store::open(&snap).unwrap();
        let (ring, notes) = full_ring(dir, &store);
        assert!(
            notes.iter().any(|n| n.contains("revisions 6, 7")),
            "{notes:?}"
        );
        let mut want: HashMap<(String, i64), &Value> = HashMap::new();
        for v in m["values"].as_array().unwrap() {
            want.insert(
                (
                    v["key"].as_str().unwrap().to_string(),
                    v["revision"].as_i64().unwrap(),
                ),
                v,
            );
        }
        let mut checked = 0;
        let mut by_provider: HashMap<ProviderKind, usize> = HashMap::new();
        for r in store.records() {
            if r.is_delete() {
                continue;
            }
            let key = String::from_utf8(r.kv.key.to_vec()).unwrap();
            let w = want
                .remove(&(key.clone(), r.rev.main))
                .unwrap_or_else(|| panic!("{dir}: {key}@{} not in the manifest", r.rev.main));
            checked += 1;
            let got = ring.decrypt(r.kv.key, r.kv.value);
            if let Some(expect) = w["expect_error"].as_str() {
                let e = got.expect_err(&key);
                let msg = e.to_string();
                assert!(msg.starts_with(&key), "{msg}");
                match expect {
                    "missing-key" => {
                        assert!(matches!(e, CryptError::MissingKey { .. }), "{msg}");
                        assert!(
                            msg.contains(&format!("\"{}\"", w["key_name"].as_str().unwrap())),
                            "{msg}"
                        );
                    }
                    "kms" => {
                        assert!(matches!(e, CryptError::Kms { .. }), "{msg}");
                        assert!(msg.contains(w["kms_key_id"].as_str().unwrap()), "{msg}");
                    }
                    "tag-mismatch" => {
                        assert!(matches!(e, CryptError::TagMismatch { .. }), "{msg}")
                    }
                    other => panic!("manifest expects unknown error {other}"),
                }
                continue;
            }
            let d = got.unwrap_or_else(|e| panic!("{dir}: {e}"));
            assert_eq!(
                hex(&Sha256::digest(&d.plaintext)),
                w["sha256"].as_str().unwrap(),
                "{dir}: {key}@{}",
                r.rev.main
            );
            assert_eq!(
                d.plaintext.len() as u64,
                w["plaintext_len"].as_u64().unwrap()
            );
            if w["encrypted"].as_bool().unwrap() {
                let k = ring.key(d.key.expect("decrypted with a key")).unwrap();
                assert_eq!(k.name, w["key_name"].as_str().unwrap(), "{key}");
                assert_eq!(
                    k.provider.as_str(),
                    w["provider"].as_str().unwrap(),
                    "{key}"
                );
                let comp = w["component"].as_str().unwrap();
                if comp == "upstream" {
                    assert_eq!(k.component, Component::Unknown);
                } else {
                    assert_eq!(k.component.as_str(), comp, "{key}");
                }
                *by_provider.entry(k.provider).or_default() += 1;
            } else {
                assert!(d.key.is_none(), "{key}");
            }
        }
        assert!(
            want.is_empty(),
            "{dir}: not in the snapshot: {:?}",
            want.keys()
        );
        assert!(checked >= 30, "{dir}: {checked}");
        for p in [
            ProviderKind::AesCbc,
            ProviderKind::AesGcm,
            ProviderKind::Secretbox,
        ] {
            assert!(
                by_provider.get(&p).copied().unwrap_or(0) > 0,
                "{dir}: no {p} value"
            );
        }
    }
}

#[test]
fn tarball_alone_decrypts_kube_values_and_names_missing_component_keys() {
    let dir = "encrypted";
    let (m, snap) = manifest_and_snapshot(dir);
    let store = Store::open(&snap).unwrap();
    let mut ring = KeyRing::new();
    let tar = fixture(&format!("{dir}/{}", m["tarball"].as_str().unwrap()));
    assert_eq!(ring.load_tarball(&tar).unwrap(), [6, 7]);
    let by_key: HashMap<(String, i64), &Value> = m["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                (
                    v["key"].as_str().unwrap().to_string(),
                    v["revision"].as_i64().unwrap(),
                ),
                v,
            )
        })
        .collect();
    let mut second_stage = 0;
    for r in store.records().iter().filter(|r| !r.is_delete()) {
        let key = String::from_utf8_lossy(r.kv.key).into_owned();
        let w = by_key[&(key.clone(), r.rev.main)];
        let got = ring.decrypt(r.kv.key, r.kv.value);
        match w["stage"].as_str() {
            Some("none") | Some("tarball") => {
                let d = got.unwrap();
                assert_eq!(
                    hex(&Sha256::digest(&d.plaintext)),
                    w["sha256"].as_str().unwrap()
                );
            }
            Some("snapshot") => {
                // openshift-apiserver's "2" is aescbc like kube-apiserver's
                // "2": it must be reported missing, not tried.
                second_stage += 1;
                let e = got.unwrap_err();
                assert!(matches!(e, CryptError::MissingKey { .. }), "{e}");
                let comp = w["component"].as_str().unwrap();
                assert!(e.to_string().contains(comp), "{e}");
            }
            _ => {}
        }
    }
    assert!(second_stage >= 5);
    // The second stage then adds openshift-apiserver's and
    // oauth-apiserver's keys (and kube-apiserver's own key Secrets).
    let found = ring.load_from_store(&store);
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    let added = found.added.join("\n");
    for want in [
        "openshift-apiserver aescbc key \"2\"",
        "openshift-apiserver aesgcm key \"3\"",
        "oauth-apiserver aesgcm key \"1\"",
        "oauth-apiserver secretbox key \"2\"",
    ] {
        assert!(added.contains(want), "{want} not in\n{added}");
    }
    assert!(ring.notes().iter().any(|n| n.contains("placeholder")));
}

#[test]
fn summary_and_errors_never_show_key_material() {
    let dir = "encrypted";
    let (m, snap) = manifest_and_snapshot(dir);
    let store = Store::open(&snap).unwrap();
    let (ring, _) = full_ring(dir, &store);
    // Every secret of every config in the tarball and the upstream file.
    let t = read_tarball(&fixture(&format!(
        "{dir}/{}",
        m["tarball"].as_str().unwrap()
    )))
    .unwrap();
    assert_eq!(t.revisions(), [6, 7]);
    let mut secrets: Vec<String> = Vec::new();
    let yaml = std::fs::read_to_string(fixture(&format!("{dir}/upstream-encryption-config.yaml")))
        .unwrap();
    for line in yaml.lines() {
        if let Some(s) = line.trim().strip_prefix("secret: ") {
            secrets.push(s.to_string());
        }
    }
    let tar_cfg = {
        let mut out = String::new();
        let f = std::fs::File::open(&t.path).unwrap();
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path()
                .unwrap()
                .ends_with("encryption-config/encryption-config")
            {
                std::io::Read::read_to_string(&mut e, &mut out).unwrap();
            }
        }
        out
    };
    for part in tar_cfg.split("\"secret\":\"").skip(1) {
        let s = part.split('"').next().unwrap();
        if s != "AAAAAAAAAAAAAAAAAAAAAA==" {
            secrets.push(s.to_string());
        }
    }
    assert!(secrets.len() >= 4);
    let summary = ring.summary();
    let mut shown = format!(
        "{ring:?}\n{t:?}\n{}\n",
        serde_json::to_string(&summary).unwrap()
    );
    for s in &summary {
        shown += &format!("{s}\n");
    }
    for r in store.records().iter().filter(|r| !r.is_delete()) {
        if let Err(e) = ring.decrypt(r.kv.key, r.kv.value) {
            shown += &format!("{e}\n{e:?}\n");
        }
    }
    for s in &secrets {
        assert!(!shown.contains(s.as_str()), "secret {s} shown");
        let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).unwrap();
        assert!(!shown.contains(&hex(&raw)));
        assert!(!shown.contains(&format!("{:?}", &raw[..8]).trim_end_matches(']').to_string()));
    }
    // The summary says which keys were found where.
    let lines: Vec<String> = summary.iter().map(|s| s.to_string()).collect();
    let all = lines.join("\n");
    assert!(
        all.contains("kube-apiserver-pod-7/secrets/encryption-config/encryption-config"),
        "{all}"
    );
    assert!(
        all.contains("encryption-key-openshift-oauth-apiserver-2"),
        "{all}"
    );
    assert!(summary
        .iter()
        .any(|s| s.write && s.component == Component::KubeApiserver && s.name == "3"));
}

// ------------------------------------------------------------ key sources: errors

fn tar_gz(members: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        match data {
            Some(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                h.set_mode(0o600);
                // Raw names: tar's path API would strip "./" and refuse "/".
                let n = name.as_bytes();
                h.as_old_mut().name[..n.len()].copy_from_slice(n);
                h.set_cksum();
                b.append(&h, *d).unwrap();
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                let n = name.as_bytes();
                h.as_old_mut().name[..n.len()].copy_from_slice(n);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap().finish().unwrap()
}

const CFG: &[u8] = br#"{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"1","secret":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}]}},{"identity":{}}]}]}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

#[test]
fn tarball_member_prefixes_without_directory_entries() {
    let d = tempfile::tempdir().unwrap();
    let t = tar_gz(&[
        ("./static-pod-resources/kube-apiserver-pod-3/secrets/encryption-config/encryption-config", Some(CFG)),
        ("/static-pod-resources/kube-apiserver-pod-12/secrets/encryption-config/encryption-config", Some(CFG)),
        ("static-pod-resources/kube-apiserver-pod-5/kube-apiserver-pod.yaml", Some(b"kind: Pod\n")),
    ]);
    let p = write(d.path(), "static_kuberesources_x.tar.gz", &t);
    let mut ring = KeyRing::new();
    assert_eq!(ring.load_tarball(&p).unwrap(), [3, 12]);
    assert_eq!(ring.len(), 1, "the same key twice is one key");
    assert_eq!(ring.summary()[0].sources.len(), 2);
}

#[test]
fn tarball_errors_are_clear() {
    let d = tempfile::tempdir().unwrap();
    // Not gzip at all.
    let p = write(
        d.path(),
        "garbage.tar.gz",
        b"this is not a tarball, just text\n",
    );
    let e = read_tarball(&p).unwrap_err();
    assert!(matches!(e, CryptError::Tarball { .. }), "{e}");
    assert!(
        e.to_string().contains("garbage.tar.gz") && e.to_string().contains("not a readable"),
        "{e}"
    );
    // Empty file.
    let p = write(d.path(), "empty.tar.gz", b"");
    assert!(matches!(
        read_tarball(&p).unwrap_err(),
        CryptError::Tarball { .. }
    ));
    // Truncated in the middle.
    let whole = std::fs::read(fixture(
        "encrypted/static_kuberesources_2026-11-21_101500.tar.gz",
    ))
    .unwrap();
    let p = write(d.path(), "cut.tar.gz", &whole[..whole.len() / 2]);
    let e = read_tarball(&p).unwrap_err();
    assert!(
        matches!(
            e,
            CryptError::Tarball { .. } | CryptError::NoConfigInTarball { .. }
        ),
        "{e}"
    );
    // A real backup tarball without encryption configured.
    let e = read_tarball(&fixture(
        "openshift-backup/static_kuberesources_2026-11-20_101500.tar.gz",
    ))
    .unwrap_err();
    assert!(matches!(e, CryptError::NoConfigInTarball { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("kube-apiserver-pod-<N>/secrets/encryption-config"),
        "{e}"
    );
    // A config member that is not a config.
    let t = tar_gz(&[
        ("static-pod-resources", None),
        (
            "static-pod-resources/kube-apiserver-pod-2/secrets/encryption-config/encryption-config",
            Some(b"kind: Pod\napiVersion: v1\n"),
        ),
    ]);
    let p = write(d.path(), "bad.tar.gz", &t);
    let e = read_tarball(&p).unwrap_err();
    assert!(matches!(e, CryptError::Config { .. }), "{e}");
    assert!(e.to_string().contains("bad.tar.gz:static-pod-resources/kube-apiserver-pod-2/secrets/encryption-config/encryption-config"), "{e}");
    // Missing file.
    assert!(matches!(
        read_tarball(&d.path().join("nope.tar.gz")).unwrap_err(),
        CryptError::Io { .. }
    ));
}

#[test]
fn config_file_errors_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "enc.yaml", b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: k\n        secret: c2hvcnQ=\n");
    let e = KeyRing::new()
        .load_config_file(&p, Component::Unknown)
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("enc.yaml") && m.contains("5 bytes") && !m.contains("c2hvcnQ="),
        "{m}"
    );
}

#[test]
fn backup_dir_pairs_and_warns_on_other_timestamp() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("encrypted/snapshot_2026-11-21_101500.db"),
        d.path().join("snapshot_2026-11-22_101500.db"),
    )
    .unwrap();
    std::fs::copy(
        fixture("encrypted/static_kuberesources_2026-11-21_101500.tar.gz"),
        d.path()
            .join("static_kuberesources_2026-11-21_101500.tar.gz"),
    )
    .unwrap();
    let mut ring = KeyRing::new();
    let notes = ring.load_backup_dir(d.path()).unwrap();
    assert!(notes.iter().any(|n| n.contains("differs")), "{notes:?}");
    assert!(!ring.is_empty());
    // Without a tarball.
    std::fs::remove_file(
        d.path()
            .join("static_kuberesources_2026-11-21_101500.tar.gz"),
    )
    .unwrap();
    let e = KeyRing::new().load_backup_dir(d.path()).unwrap_err();
    assert!(matches!(e, CryptError::NoTarball { .. }), "{e}");
}

#[test]
fn load_path_dispatches_on_what_it_is() {
    let mut ring = KeyRing::new();
    let n = ring.load_path(&fixture("encrypted")).unwrap();
    assert!(n.iter().any(|n| n.contains("revisions 6, 7")), "{n:?}");
    let n = ring
        .load_path(&fixture(
            "encrypted-3.4/static_kuberesources_2026-11-21_101500.tar.gz",
        ))
        .unwrap();
    assert!(n[0].contains("revisions 6, 7"), "{n:?}");
    let before = ring.len();
    ring.load_path(&fixture("encrypted/upstream-encryption-config.yaml"))
        .unwrap();
    assert_eq!(ring.len(), before + 2);
    assert!(ring.load_path(&fixture("etcd-3.5")).is_err());
}
