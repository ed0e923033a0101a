//! `status` against what the real etcdctl 3.4 and etcdutl 3.5 printed for the
//! committed fixtures (recorded by scripts/make-fixtures.py).

mod common;

use common::*;
use etcdsnap::etcd::{status, Snapshot, Status};

const FIXTURES: &[&str] = &[
    "etcd-3.4/small",
    "etcd-3.4/deep",
    "etcd-3.5/small",
    "etcd-3.5/deep",
    "openshift-backup/snapshot_2026-11-19_101500",
    "openshift-backup/snapshot_2026-11-20_101500",
];

fn recorded(base: &str, tool: &str) -> Status {
    let p = fixture(&format!("{base}.{tool}-status.json"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn library_status_equals_recorded_etcdctl_and_etcdutl() {
    for base in FIXTURES {
        let snap = Snapshot::open(&fixture(&format!("{base}.db"))).unwrap();
        let ours = status::status(&snap).unwrap();
        assert_eq!(ours, recorded(base, "etcdctl"), "{base} vs etcdctl 3.4");
        assert_eq!(ours, recorded(base, "etcdutl"), "{base} vs etcdutl 3.5");
    }
}

#[test]
fn cli_status_json_starts_with_etcdctl_fields() {
    for base in FIXTURES {
        let db = fixture(&format!("{base}.db"));
        let o = etcdsnap(&["status", "-w", "json", db.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        let want =
            std::fs::read_to_string(fixture(&format!("{base}.etcdctl-status.json"))).unwrap();
        // Same four values, same order, same spelling: the first fields of
        // our object are etcdctl's object minus its closing brace.
        let prefix = want.trim().trim_end_matches('}');
        assert!(
            text.starts_with(prefix),
            "{base}: {text} does not start with {prefix}"
        );
    }
}

#[test]
fn status_table_shows_what_an_administrator_wants() {
    let db = fixture("etcd-3.5/small.db");
    let o = etcdsnap(&["status", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let t = stdout(&o);
    let want = recorded("etcd-3.5/small", "etcdutl");
    assert!(t.contains(&format!("{:x}", want.hash)), "{t}");
    for label in [
        "page size",
        "in use",
        "free",
        "consistent index",
        "term",
        "compacted revision",
        "scheduled compaction",
        "cluster version",
        "storage version",
        "MEMBER ID",
        "BUCKET",
    ] {
        assert!(t.contains(label), "table lacks {label}: {t}");
    }
}

#[test]
fn backup_dir_uses_newest_snapshot_and_says_so() {
    let dir = fixture("openshift-backup");
    let o = etcdsnap(&["status", "-o", "json", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("snapshot_2026-11-20_101500.db"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let want = recorded("openshift-backup/snapshot_2026-11-20_101500", "etcdctl");
    assert_eq!(v["hash"], want.hash);
}

#[test]
fn raw_db_without_trailer_has_the_same_status() {
    let db = fixture("etcd-3.4/small.db");
    let bytes = std::fs::read(&db).unwrap();
    let raw = &bytes[..bytes.len() - 32];
    let snap = Snapshot::from_bytes("raw", raw.to_vec()).unwrap();
    assert!(snap.trailer.is_none());
    assert_eq!(
        status::status(&snap).unwrap(),
        recorded("etcd-3.4/small", "etcdctl")
    );
    // A data dir holding it as member/snap/db.
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("member/snap")).unwrap();
    std::fs::write(d.path().join("member/snap/db"), raw).unwrap();
    let o = etcdsnap(&["status", "-o", "json", d.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"trailer\":false"));
}

#[test]
fn verify_passes_every_fixture() {
    for base in FIXTURES {
        let db = fixture(&format!("{base}.db"));
        let o = etcdsnap(&["verify", db.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{base}: {}", stdout(&o));
        let t = stdout(&o);
        for layer in ["trailer", "meta", "structure", "etcd schema"] {
            assert!(t.contains(layer), "{t}");
        }
        assert!(t.contains("SHA-256"), "{t}");
    }
}

#[test]
fn verify_json_report() {
    let db = fixture("etcd-3.4/deep.db");
    let o = etcdsnap(&["verify", "-o", "json", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["trailer", "meta", "structure", "etcd schema"]);
    assert!(v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["verdict"] == "ok"));
    assert_eq!(v["exit_code"], 0);
    // deep.db's key bucket is three levels deep.
    assert!(v["layers"][2]["summary"]
        .as_str()
        .unwrap()
        .contains("depth up to 3"));
}
