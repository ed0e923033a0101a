//! An administrator's first hour (issue 16): the spellings people paste
//! from etcdctl/etcdutl and kubectl work, on fixtures made by real etcd
//! (`scripts/make-fixtures.py`, `scripts/make-crypt-fixtures.py`).

mod common;

use common::{etcdsnap, fixture, stderr, stdout};

/// `status -w table` prints etcdutl's (and etcdctl 3.4's) table byte for
/// byte, as the real tools printed it for each fixture.
#[test]
fn status_table_equals_etcdutl() {
    let mut n = 0;
    for dir in ["etcd-3.4", "etcd-3.5", "openshift-backup"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.to_string_lossy().into_owned();
            let Some(base) = name.strip_suffix(".db") else {
                continue;
            };
            for tool in ["etcdutl", "etcdctl"] {
                let want = std::fs::read_to_string(format!("{base}.{tool}-status.txt")).unwrap();
                let o = etcdsnap(&["status", "-w", "table", &name]);
                assert!(o.status.success(), "{}", stderr(&o));
                assert_eq!(stdout(&o), want, "{name} vs {tool}");
                n += 1;
            }
        }
    }
    assert!(n >= 12, "only {n} recorded tables compared");
    // And live, against the real etcdutl 3.5.1, on files of other sizes
    // (a defragmented copy, a compacted one).
    let d = tempfile::tempdir().unwrap();
    let src = fixture("etcd-3.5/deep.db");
    let out = d.path().join("x.db");
    let o = etcdsnap(&[
        "defrag",
        src.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--compact-to",
        "5000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for p in [
        out.as_path(),
        src.as_path(),
        fixture("encrypted/snapshot_2026-11-21_101500.db").as_path(),
    ] {
        let real = std::process::Command::new(common::bin_path(common::Version::V35, "etcdutl"))
            .args(["snapshot", "status", p.to_str().unwrap(), "-w", "table"])
            .output()
            .unwrap();
        assert!(real.status.success(), "{}", stderr(&real));
        let ours = etcdsnap(&["status", "-w", "table", p.to_str().unwrap()]);
        assert_eq!(stdout(&ours), stdout(&real), "{}", p.display());
    }
    // The long report stays available.
    let f = fixture("etcd-3.5/small.db");
    let f = f.to_str().unwrap();
    for args in [
        vec!["status", "-o", "wide", f],
        vec!["status", "-w", "table", "--detail", f],
        vec!["status", f],
    ] {
        let o = etcdsnap(&args);
        assert!(stdout(&o).contains("consistent index"), "{args:?}");
    }
}

/// Every boolean flag takes `--flag=true|false` as cobra does.
#[test]
fn boolean_flags_take_cobra_values() {
    let d = tempfile::tempdir().unwrap();
    // A raw bbolt file (the snapshot without its trailer) restores only
    // with --skip-hash-check.
    let snap = std::fs::read(fixture("etcd-3.5/small.db")).unwrap();
    let raw = d.path().join("db");
    std::fs::write(&raw, &snap[..snap.len() - 32]).unwrap();
    let raw = raw.to_str().unwrap();
    let target = d.path().join("t1");
    let o = etcdsnap(&[
        "restore",
        raw,
        "--data-dir",
        target.to_str().unwrap(),
        "--skip-hash-check=true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(target.join("member/snap/db").exists());
    let target = d.path().join("t2");
    let o = etcdsnap(&[
        "restore",
        raw,
        "--data-dir",
        target.to_str().unwrap(),
        "--skip-hash-check=false",
    ]);
    assert!(
        !o.status.success(),
        "without the skip the raw file is refused"
    );
    assert!(!target.exists());
    // A global flag and a flag of another command.
    let f = fixture("openshift-backup");
    let f = f.to_str().unwrap();
    let o = etcdsnap(&[
        "get",
        f,
        "cm",
        "-n",
        "openshift-app-0",
        "--quiet=true",
        "--redact=false",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let o = etcdsnap(&["get", f, "secret", "--redact=maybe"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a value cobra rejects is rejected"
    );
}

/// `-q` silences the notes (which file, which keys); the output is the
/// same.
#[test]
fn quiet_silences_notes() {
    let f = fixture("encrypted");
    let f = f.to_str().unwrap();
    let loud = etcdsnap(&["get", f, "secrets", "-o", "json"]);
    let quiet = etcdsnap(&["-q", "get", f, "secrets", "-o", "json"]);
    let notes = |o: &std::process::Output| {
        stderr(o)
            .lines()
            .filter(|l| l.contains("keys:") || l.contains("backup dir:") || l.contains("paired"))
            .count()
    };
    assert!(notes(&loud) >= 3, "{}", stderr(&loud));
    assert_eq!(notes(&quiet), 0, "{}", stderr(&quiet));
    // Errors still print (three values no offline key reads).
    assert!(stderr(&quiet).contains("could not be decoded"));
    assert_eq!(loud.stdout, quiet.stdout);
    let f = fixture("openshift-backup");
    let f = f.to_str().unwrap();
    for cmd in ["status", "verify", "keys", "stats", "ls"] {
        let o = etcdsnap(&[cmd, "--quiet", f]);
        assert_eq!(stderr(&o), "", "{cmd}");
    }
}

/// `TYPE/NAME` and `TYPE NAME` everywhere: get, history, export, diff.
#[test]
fn type_slash_name_everywhere() {
    let f = fixture("openshift-backup");
    let f = f.to_str().unwrap();
    let a = etcdsnap(&[
        "get",
        f,
        "cm",
        "cm-3",
        "-n",
        "openshift-app-0",
        "-o",
        "json",
    ]);
    let b = etcdsnap(&[
        "get",
        f,
        "configmap/cm-3",
        "-n",
        "openshift-app-0",
        "-o",
        "json",
    ]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    assert!(stdout(&a).contains("\"name\": \"cm-3\""));
    let o = etcdsnap(&["get", f, "configmap/cm-3", "cm-3"]);
    assert_eq!(o.status.code(), Some(2));

    let by_key = etcdsnap(&[
        "history",
        f,
        "/kubernetes.io/configmaps/openshift-app-0/cm-3",
    ]);
    let by_name = etcdsnap(&["history", f, "cm", "cm-3", "-n", "openshift-app-0"]);
    let by_slash = etcdsnap(&["history", f, "configmaps/cm-3", "-n", "openshift-app-0"]);
    assert!(by_key.status.success(), "{}", stderr(&by_key));
    assert!(stdout(&by_key).contains(" put "));
    assert_eq!(by_key.stdout, by_name.stdout, "{}", stderr(&by_name));
    assert_eq!(by_key.stdout, by_slash.stdout);
    // Without -n the name is ambiguous only when several namespaces hold it.
    let o = etcdsnap(&["history", f, "cm", "no-such"]);
    assert_eq!(o.status.code(), Some(1));

    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("x");
    let o = etcdsnap(&[
        "export",
        f,
        "cm/cm-3",
        "-n",
        "openshift-app-0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["format"], "etcdsnap.export-index", "{index}");
    assert_eq!(index["objects"].as_array().unwrap().len(), 1, "{index}");

    let older = fixture("openshift-backup/snapshot_2026-11-19_101500.db");
    let older = older.to_str().unwrap();
    let newer = fixture("openshift-backup/snapshot_2026-11-20_101500.db");
    let newer = newer.to_str().unwrap();
    let all = etcdsnap(&["diff", older, newer, "-o", "json"]);
    let cms = etcdsnap(&["diff", older, newer, "configmaps", "-o", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let cms: serde_json::Value = serde_json::from_slice(&cms.stdout).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        ["added", "removed", "changed"]
            .iter()
            .flat_map(|k| v[k].as_array().unwrap().clone())
            .map(|e| e["key"].as_str().unwrap().to_string())
            .collect()
    };
    let all_keys = keys(&all);
    let cm_keys = keys(&cms);
    assert!(
        !cm_keys.is_empty() && cm_keys.len() < all_keys.len(),
        "{all_keys:?}"
    );
    assert!(cm_keys.iter().all(|k| k.contains("/configmaps/")));
}

fn verify_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut a = vec!["verify", "-o", "json"];
    a.extend_from_slice(args);
    let o = etcdsnap(&a);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&o), stderr(&o)));
    (o.status.code().unwrap(), v, stderr(&o))
}

fn layer<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no layer {name}: {v}"))
}

/// A backup dir lacking its tarball, with a tarball of another timestamp,
/// or whose tarball has no encryption config for encrypted values, is
/// INCOMPLETE (exit 1), naming what is missing.
#[test]
fn verify_judges_the_backup_set() {
    let ts = "2026-11-20_101500";
    let src = fixture("openshift-backup");
    let snap = src.join(format!("snapshot_{ts}.db"));
    let tarball = src.join(format!("static_kuberesources_{ts}.tar.gz"));

    // The whole set: intact.
    let (code, v, _) = verify_json(&[src.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(layer(&v, "backup set")["verdict"], "ok");
    assert_eq!(v["verdict"], "intact");

    // Without the tarball.
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(&snap, d.path().join(format!("snapshot_{ts}.db"))).unwrap();
    let (code, v, _) = verify_json(&[d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verdict"], "incomplete");
    let l = layer(&v, "backup set");
    assert_eq!(l["verdict"], "incomplete");
    assert!(l["problems"][0]
        .as_str()
        .unwrap()
        .contains(&format!("static_kuberesources_{ts}.tar.gz: absent")));
    let o = etcdsnap(&["verify", d.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("verdict: INCOMPLETE"), "{}", stdout(&o));

    // A tarball of another backup.
    std::fs::copy(
        &tarball,
        d.path()
            .join("static_kuberesources_2026-11-19_101500.tar.gz"),
    )
    .unwrap();
    let (code, v, _) = verify_json(&[d.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let p = layer(&v, "backup set")["problems"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        p.contains("another backup") && p.contains("2026-11-19"),
        "{p}"
    );

    // Encrypted values, and a tarball without encryption config.
    let enc = fixture("encrypted");
    let ets = "2026-11-21_101500";
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        enc.join(format!("snapshot_{ets}.db")),
        d.path().join(format!("snapshot_{ets}.db")),
    )
    .unwrap();
    std::fs::copy(
        &tarball,
        d.path().join(format!("static_kuberesources_{ets}.tar.gz")),
    )
    .unwrap();
    let (code, v, _) = verify_json(&[d.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "incomplete");
    let p = layer(&v, "backup set")["problems"].to_string();
    assert!(
        p.contains("encryption config") && p.contains("values are encrypted"),
        "{p}"
    );
    // Nothing could decrypt: the layer says so and counts them.
    assert_eq!(layer(&v, "decryption")["verdict"], "not-checked");

    // A tarball that is not one.
    std::fs::write(
        d.path().join(format!("static_kuberesources_{ets}.tar.gz")),
        b"truncated",
    )
    .unwrap();
    let (code, v, _) = verify_json(&[d.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let p = layer(&v, "backup set")["problems"].to_string();
    assert!(p.contains("unreadable"), "{p}");
}

/// The encrypted fixture's manifest says what each value needs.
fn manifest() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture("encrypted/manifest.json")).unwrap()).unwrap()
}

/// Without keys, verify says how many values it did not decrypt; with
/// keys it tells damaged bytes from values no offline key reads; --keys
/// add to the paired tarball and --no-pair drops it.
#[test]
fn verify_decryption_says_what_it_checked() {
    let m = manifest();
    let values = m["values"].as_array().unwrap();
    let expect = |e: &str| values.iter().filter(|v| v["expect_error"] == e).count();
    let upstream = values
        .iter()
        .filter(|v| v["stage"] == "upstream-config")
        .count();
    let encrypted = values
        .iter()
        .filter(|v| v["encrypted"] == true || v.get("expect_error").is_some())
        .count();
    let dir = fixture("encrypted");
    let dir = dir.to_str().unwrap();
    let snap = fixture("encrypted/snapshot_2026-11-21_101500.db");
    let snap = snap.to_str().unwrap();

    // A lone snapshot file, no keys: intact, but not checked, counted.
    let (code, v, _) = verify_json(&[snap]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["decryption"]["encrypted_values"], encrypted as u64);
    let l = layer(&v, "decryption");
    assert_eq!(l["verdict"], "not-checked");
    assert!(
        l["summary"].as_str().unwrap().starts_with(&format!(
            "not checked — {encrypted} values under keys aescbc key 2:"
        )),
        "{l}"
    );
    let o = etcdsnap(&["verify", snap]);
    assert!(
        stdout(&o).contains("not checked: decryption"),
        "{}",
        stdout(&o)
    );

    // The backup dir (its tarball paired): damaged vs not readable offline.
    let (code, v, _) = verify_json(&[dir]);
    assert_eq!(code, 1);
    let d = &v["decryption"];
    assert_eq!(d["damaged"], expect("tag-mismatch") as u64, "{d}");
    assert_eq!(
        d["not_readable_offline"],
        (expect("missing-key") + expect("kms") + upstream) as u64,
        "{d}"
    );
    assert_eq!(
        d["damaged_values"].as_array().unwrap().len(),
        expect("tag-mismatch")
    );
    assert!(d["not_readable_offline_values"][0]
        .as_str()
        .unwrap()
        .starts_with("revision 31: /registry/secrets/default/upstream"));
    let problems = layer(&v, "decryption")["problems"].to_string();
    assert!(
        problems.contains("damaged: revision 35")
            && problems.contains("authentication tag mismatch")
    );
    assert!(problems.contains("not readable offline: revision 34") && problems.contains("KMS"));
    let decrypted = d["decrypted"].as_u64().unwrap();

    // --keys adds to the paired tarball.
    let up = fixture("encrypted/upstream-encryption-config.yaml");
    let up = up.to_str().unwrap();
    let (_, v, err) = verify_json(&[dir, "--keys", up]);
    assert_eq!(
        v["decryption"]["decrypted"].as_u64().unwrap(),
        decrypted + upstream as u64,
        "{err}"
    );
    assert_eq!(
        v["decryption"]["not_readable_offline"],
        (expect("missing-key") + expect("kms")) as u64
    );
    // Only the damaged and the lost/KMS values remain: not-readable words
    // and damaged words both appear in the text.
    let o = etcdsnap(&["verify", dir, "--keys", up]);
    assert!(stdout(&o).contains("verdict: DAMAGED"));
    // --no-pair: only the upstream config.
    let (_, v, err) = verify_json(&[dir, "--keys", up, "--no-pair"]);
    assert_eq!(v["decryption"]["decrypted"], upstream as u64, "{err}");
    assert!(
        err.contains("not using static_kuberesources_2026-11-21_101500.tar.gz (--no-pair)"),
        "{err}"
    );
    assert!(!err.contains("paired with"), "{err}");
}

/// The revision keys of the `key` bucket and the compaction marks of a
/// snapshot file.
fn key_bucket(path: &std::path::Path) -> (Vec<etcdsnap::etcd::Revision>, Option<i64>, Option<i64>) {
    let snap = etcdsnap::etcd::Snapshot::open(path).unwrap();
    let kb = snap.db.bucket(b"key").unwrap();
    let mut revs = Vec::new();
    snap.db
        .for_each(&kb, |e| {
            revs.push(etcdsnap::etcd::Revision::parse(e.key).unwrap());
            Ok(())
        })
        .unwrap();
    let detail = etcdsnap::etcd::status::detail(&snap).unwrap();
    (
        revs,
        detail.meta.scheduled_compact_revision,
        detail.meta.finished_compact_revision,
    )
}

/// `defrag --compact-to REV` drops exactly the revisions real etcd's
/// `compact REV --physical` drops and writes the same marks; real etcd
/// boots a restore of the result and answers REV-1 as compacted.
fn compact_like_etcd(v: common::Version) {
    use common::{peer_url, Etcd};
    let mut e = Etcd::start(v);
    // a: 2 4 9; b: 3, deleted 5, recreated 7; c: 6, deleted 8 (at REV);
    // d: 10, deleted 11; e: 12.
    for op in [
        "put a 1", "put b 1", "put a 2", "del b", "put c 1", "put b 2", "del c", "put a 3",
        "put d 1", "del d", "put e 1",
    ] {
        let args: Vec<&str> = op.split(' ').collect();
        e.ctl_ok(&args);
    }
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src.db");
    e.save(&src);
    let rev = 8;
    e.ctl_ok(&["compact", &rev.to_string(), "--physical"]);
    let reference = d.path().join("ref.db");
    e.save(&reference);
    e.stop();

    let ours = d.path().join("ours.db");
    let o = etcdsnap(&[
        "defrag",
        src.to_str().unwrap(),
        "--out",
        ours.to_str().unwrap(),
        "--compact-to",
        &rev.to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("saved"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "compacted at revision {rev}: 5 older revisions dropped"
        )),
        "{}",
        stdout(&o)
    );
    let (want, ws, wf) = key_bucket(&reference);
    let (got, gs, gf) = key_bucket(&ours);
    assert_eq!(got, want, "key bucket after compaction, {v:?}");
    assert_eq!((gs, gf), (ws, wf));
    assert_eq!(gf, Some(rev));

    // Restored and booted by real etcd: REV is the compaction.
    let peer = peer_url();
    let data = d.path().join("restored");
    let o = common::restore_one(&ours, &data, &peer, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = Etcd::boot_member(v, "m1", &data, &peer, "etcd-cluster");
    let o = e.ctl(&["get", "a", "--rev", &(rev - 1).to_string()]);
    assert!(
        !o.status.success() && stderr(&o).contains("compacted"),
        "{v:?}: {}",
        stderr(&o)
    );
    assert_eq!(
        e.ctl_ok(&["get", "a", "--rev", &rev.to_string(), "--print-value-only"]),
        "2\n"
    );
    assert_eq!(
        e.ctl_ok(&[
            "get",
            "",
            "--prefix",
            "--keys-only",
            "--rev",
            &rev.to_string()
        ]),
        "a\n\nb\n\n"
    );
    assert_eq!(e.status()["header"]["revision"].as_i64(), Some(12));
    // Once more is refused, as etcd refuses it.
    let again = d.path().join("again.db");
    let o = etcdsnap(&[
        "defrag",
        ours.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--compact-to",
        &rev.to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already compacted"));
}

#[test]
fn defrag_compact_to_like_etcd_34() {
    compact_like_etcd(common::Version::V34);
}

#[test]
fn defrag_compact_to_like_etcd_35() {
    compact_like_etcd(common::Version::V35);
}

/// A deleted object's hint names the revisions real etcd shows it at;
/// `get --deleted` and `ls --deleted` list it; `get --rev` below the
/// compaction points at `history`.
#[test]
fn deletions_are_findable() {
    use common::{Etcd, Version};
    let e = Etcd::start(Version::V35);
    let rev = |e: &Etcd| e.status()["header"]["revision"].as_i64().unwrap();
    let cm = std::fs::read(fixture("manifests/02-configmap.yaml")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let yaml = d.path().join("cm.yaml");
    std::fs::write(&yaml, &cm).unwrap();
    let stored = etcdsnap(&["encode", yaml.to_str().unwrap()]);
    assert!(stored.status.success(), "{}", stderr(&stored));
    let key = "/registry/configmaps/shop/web-config";
    e.put_bytes(key, &stored.stdout);
    e.put_bytes("/registry/configmaps/shop/other", &stored.stdout);
    e.put_bytes(key, &stored.stdout);
    let held = rev(&e);
    e.ctl_ok(&["put", "/registry/x", "1"]);
    e.ctl_ok(&["del", key]);
    let deleted = rev(&e);
    e.ctl_ok(&["put", "/registry/y", "1"]);
    // A compaction between the last write and the deletion.
    let compact = held + 1;
    e.ctl_ok(&["compact", &compact.to_string(), "--physical"]);
    let snap = d.path().join("snap.db");
    e.save(&snap);
    let s = snap.to_str().unwrap();

    let o = etcdsnap(&["get", s, "cm", "web-config", "-n", "shop"]);
    assert_eq!(o.status.code(), Some(1));
    let live_at = deleted - 1;
    let want = format!(
        "{key}: deleted at revision {deleted}, last held at {held}: `etcdsnap get {s} configmaps web-config -n shop --rev {live_at}`"
    );
    assert!(stderr(&o).contains(&want), "{}\nwant {want}", stderr(&o));
    // The hinted command shows what real etcd shows at that revision.
    let o = etcdsnap(&[
        "get",
        s,
        "configmaps",
        "web-config",
        "-n",
        "shop",
        "--rev",
        &live_at.to_string(),
        "-o",
        "raw",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let real = e.ctl(&[
        "get",
        key,
        "--rev",
        &live_at.to_string(),
        "--print-value-only",
    ]);
    assert_eq!([o.stdout.as_slice(), b"\n"].concat(), real.stdout);
    let o = etcdsnap(&[
        "get",
        s,
        "cm/web-config",
        "-n",
        "shop",
        "--rev",
        &live_at.to_string(),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["metadata"]["resourceVersion"], held.to_string());

    // --deleted lists it with its revisions.
    let o = etcdsnap(&["ls", s, "--deleted", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["format"], "etcdsnap.ls-deleted", "{doc}");
    let rows = &doc["deleted"];
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["key"], key);
    assert_eq!(rows[0]["deleted_revision"], deleted);
    assert_eq!(rows[0]["mod_revision"], held);
    let o = etcdsnap(&["get", s, "cm", "--deleted", "-o", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["metadata"]["name"], "web-config");
    assert!(stderr(&o).contains(&format!("deleted at revision {deleted}")));
    // Below the compaction: etcd says compacted; history still has it.
    let o = etcdsnap(&[
        "get",
        s,
        "cm",
        "web-config",
        "-n",
        "shop",
        "--rev",
        &(compact - 1).to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let real = e.ctl(&["get", key, "--rev", &(compact - 1).to_string()]);
    assert!(stderr(&real).contains("compacted"));
    assert!(
        stderr(&o).contains(&format!(
            "`etcdsnap history {s} cm web-config -n shop` still shows"
        )),
        "{}",
        stderr(&o)
    );
    let o = etcdsnap(&["history", s, "cm", "web-config", "-n", "shop", "-o", "json"]);
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let revs: Vec<i64> = h["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revs, [held, deleted]);
}

/// `stats` says what the compact rewrite saves: the size it reports for
/// the rewrite is what `defrag` writes (within 1%; the writer sizes it).
#[test]
fn stats_reclaim_is_what_defrag_writes() {
    let d = tempfile::tempdir().unwrap();
    for (i, f) in [
        "etcd-3.4/small.db",
        "etcd-3.5/small.db",
        "etcd-3.5/deep.db",
        "openshift-backup/snapshot_2026-11-20_101500.db",
        "encrypted/snapshot_2026-11-21_101500.db",
    ]
    .iter()
    .enumerate()
    {
        let p = fixture(f);
        let p = p.to_str().unwrap();
        let o = etcdsnap(&["stats", p, "-o", "json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let size = v["database"]["defrag_size"].as_u64().unwrap();
        let reclaim = v["database"]["defrag_reclaims"].as_u64().unwrap();
        let out = d.path().join(format!("{i}.db"));
        let o = etcdsnap(&["defrag", p, "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let written = std::fs::metadata(&out).unwrap().len() - 32;
        let diff = written.abs_diff(size) as f64;
        assert!(
            diff <= written as f64 * 0.01,
            "{f}: stats says {size}, defrag wrote {written}"
        );
        let before = v["database"]["total_size"].as_u64().unwrap();
        assert_eq!(reclaim, before - written.min(before), "{f}");
    }
}

/// Non-object keys get a labelled row; long resource names keep the
/// columns straight.
#[test]
fn stats_rows_are_labelled_and_aligned() {
    use common::{Etcd, Version};
    let e = Etcd::start(Version::V35);
    e.ctl_ok(&["put", "compact_rev_key", "3"]);
    let long = "/registry/averyveryverylongresourcenamethatgoesonandon.storage.averylonggroupname.example.com/shop/x";
    e.put_bytes(long, br#"{"apiVersion":"example.com/v1","kind":"Long","metadata":{"name":"x","namespace":"shop"}}"#);
    e.ctl_ok(&["put", "/registry/configmaps/shop/c", "not an object"]);
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("s.db");
    e.save(&snap);
    let o = etcdsnap(&["stats", snap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("RESOURCE"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(lines.len() >= 4, "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("(compact_rev_key")),
        "{text}"
    );
    assert!(
        lines.iter().all(|l| !l.starts_with(' ')),
        "an empty name: {text}"
    );
    // Every OBJECTS number ends where the header's does.
    let end = lines[0].find("OBJECTS").unwrap() + "OBJECTS".len();
    for l in &lines[1..] {
        let head: String = l.chars().take(end).collect();
        assert!(
            head.ends_with(|c: char| c.is_ascii_digit()) && l.chars().nth(end) == Some(' '),
            "misaligned: {l:?}\n{text}"
        );
    }
}

/// restore's report: unreadable values are warnings, member IDs are hex
/// in text and JSON, the words are right, the OpenShift steps follow.
#[test]
fn restore_report_warns_and_guides() {
    let m = manifest();
    let values = m["values"].as_array().unwrap();
    let unreadable = values
        .iter()
        .filter(|v| v.get("expect_error").is_some() || v["stage"] == "upstream-config")
        .count();
    let d = tempfile::tempdir().unwrap();
    let dir = fixture("encrypted");
    let dir = dir.to_str().unwrap();
    let data = d.path().join("a");
    let o = etcdsnap(&[
        "restore",
        dir,
        "--data-dir",
        data.to_str().unwrap(),
        "--bump-revision",
        "1000000000",
        "--mark-compacted",
        "-o",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w = v["warnings"].to_string();
    assert!(
        w.contains(&format!(
            "{unreadable} values cannot be read with the loaded keys (2 damaged"
        )),
        "{w}"
    );
    assert_eq!(v["members"][0]["id"], v["member_id"]);
    assert!(u64::from_str_radix(v["member_id"].as_str().unwrap(), 16).is_ok());
    let steps = v["next_steps"].to_string();
    assert!(
        steps.contains("static_kuberesources_2026-11-21_101500.tar.gz"),
        "{steps}"
    );
    assert!(steps.contains("forceRedeploymentReason"));

    let data = d.path().join("b");
    let up = fixture("encrypted/upstream-encryption-config.yaml");
    let o = etcdsnap(&[
        "restore",
        dir,
        "--data-dir",
        data.to_str().unwrap(),
        "--keys",
        up.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("  etcd keys:      "), "{text}");
    assert!(text.contains("(defragmented)"));
    assert!(text.contains("next steps"));
    let member = text
        .lines()
        .find_map(|l| l.strip_prefix("  member ID:      "))
        .unwrap();
    assert!(
        text.contains(&format!("  member {member} default")),
        "{text}"
    );
    assert!(
        stderr(&o).contains(&format!("{} values cannot be read", unreadable - 2)),
        "{}",
        stderr(&o)
    );
}

/// diff: a uid change is "recreated"; a change names its managedFields
/// managers.
#[test]
fn diff_names_recreation_and_managers() {
    use common::{Etcd, Version};
    let widget = |name: &str, uid: &str, color: &str, managers: &str| {
        format!(
            r#"{{"apiVersion":"example.com/v1","kind":"Widget","metadata":{{"name":"{name}","namespace":"shop","uid":"{uid}","managedFields":[{managers}]}},"spec":{{"color":"{color}"}}}}"#
        )
    };
    let apply = r#"{"manager":"kubectl-client-side-apply","operation":"Update","time":"2026-11-20T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:color":{}}}}"#;
    let edit = r#"{"manager":"kubectl-edit","operation":"Update","time":"2026-11-21T08:30:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:color":{}}}}"#;
    let e = Etcd::start(Version::V35);
    let blue = "/registry/example.com/widgets/shop/blue";
    let red = "/registry/example.com/widgets/shop/red";
    e.put_bytes(blue, widget("blue", "uid-1", "blue", apply).as_bytes());
    e.put_bytes(red, widget("red", "uid-2", "red", apply).as_bytes());
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.db");
    e.save(&a);
    e.ctl_ok(&["del", blue]);
    e.put_bytes(blue, widget("blue", "uid-3", "blue", apply).as_bytes());
    e.put_bytes(
        red,
        widget("red", "uid-2", "crimson", &format!("{apply},{edit}")).as_bytes(),
    );
    let b = d.path().join("b.db");
    e.save(&b);
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = etcdsnap(&["diff", a, b, "widgets.example.com", "-o", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changed = v["changed"].as_array().unwrap();
    let blue_c = changed.iter().find(|c| c["name"] == "blue").unwrap();
    assert_eq!(blue_c["recreated"], serde_json::json!(["uid-1", "uid-3"]));
    let red_c = changed.iter().find(|c| c["name"] == "red").unwrap();
    assert!(red_c.get("recreated").is_none());
    assert_eq!(
        red_c["changed_by"],
        serde_json::json!([{"manager":"kubectl-edit","operation":"Update","time":"2026-11-21T08:30:00Z"}])
    );
    assert!(v["summary"]
        .as_str()
        .unwrap()
        .contains("1 changed, 1 recreated"));
    let o = etcdsnap(&["diff", a, b, "widgets.example.com/red"]);
    let t = stdout(&o);
    assert!(
        t.contains("changed by kubectl-edit (Update, 2026-11-21T08:30:00Z)"),
        "{t}"
    );
    assert!(!t.contains("blue"), "TYPE/NAME selects one object: {t}");
    let o = etcdsnap(&["diff", a, b]);
    assert!(stdout(&o).contains("± blue recreated: deleted and created again (uid uid-1 → uid-3"));
}
