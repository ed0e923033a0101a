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
    assert_eq!(index.as_array().unwrap().len(), 1, "{index}");

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
