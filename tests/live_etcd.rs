//! Fresh snapshots from real etcd 3.4.23 and 3.5.1 servers (started here on
//! loopback), compared live with what etcdctl 3.4 and etcdutl 3.5 print.

mod common;

use common::*;
use etcdsnap::etcd::{status, Snapshot};
use etcdsnap::mvcc::Store;

fn populate(e: &Etcd) {
    for i in 0..40 {
        let v = format!("value-{i}-{}", "x".repeat(i * 37));
        e.ctl_ok(&[
            "put",
            &format!("/registry/configmaps/ns{}/cm-{i}", i % 3),
            &v,
        ]);
    }
    for i in 0..10 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/configmaps/ns{}/cm-{i}", i % 3),
            "updated",
        ]);
    }
    e.ctl_ok(&["del", "/registry/configmaps/ns0/cm-0"]);
    let big = "B".repeat(30_000); // several pages: overflow
    e.ctl_ok(&["put", "/registry/secrets/default/big", &big]);
    let lease = e.ctl_ok(&["lease", "grant", "600"]);
    let id = lease
        .split_whitespace()
        .nth(1)
        .expect("lease id in etcdctl output")
        .to_string();
    e.ctl_ok(&[
        "put",
        "--lease",
        &id,
        "/registry/events/default/ev-1",
        "event",
    ]);
    e.ctl_ok(&["compact", "20"]);
    e.ctl_ok(&["put", "/registry/pods/default/after-compaction", "p"]);
}

/// `etcdctl get "" --prefix -w json [--rev N]` in key order.
fn real_get(e: &Etcd, rev: Option<i64>) -> Vec<Kv> {
    e.get_all(rev).1
}

fn ours_get(store: &Store<'_>, rev: Option<i64>) -> Vec<Kv> {
    store_kvs(store, rev)
}

fn check(version: Version) {
    let mut e = Etcd::start(version);
    populate(&e);
    let live_latest = real_get(&e, None);
    let live_at_30 = real_get(&e, Some(30));
    assert!(!live_latest.is_empty());
    let out_dir = tempfile::tempdir().unwrap();
    let snap_path = out_dir.path().join("snapshot.db");
    e.save(&snap_path);
    e.stop();
    // The stopped server's own db: no trailer. Status must equal etcdutl's.
    let raw = e.data_dir().join("member/snap/db");
    let raw_snap = Snapshot::open(&raw).unwrap();
    assert!(raw_snap.trailer.is_none());
    let raw_ours = serde_json::to_value(status::status(&raw_snap).unwrap()).unwrap();
    assert_eq!(
        raw_ours,
        real_status(Version::V35, &raw),
        "{version:?}: data dir db"
    );
    // A db file longer than pgid × pageSize (bbolt grows files ahead of
    // use; the tail is zeros): same answer from both.
    let grown = out_dir.path().join("grown.db");
    let mut bytes = std::fs::read(&raw).unwrap();
    bytes.resize(bytes.len() + (1 << 20), 0);
    std::fs::write(&grown, &bytes).unwrap();
    let grown_snap = Snapshot::open(&grown).unwrap();
    assert!(grown_snap.file_len > grown_snap.db.size());
    let grown_ours = serde_json::to_value(status::status(&grown_snap).unwrap()).unwrap();
    assert_eq!(
        grown_ours,
        real_status(Version::V35, &grown),
        "{version:?}: grown db"
    );
    assert_eq!(grown_ours, raw_ours);
    let o = etcdsnap(&["verify", e.data_dir().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no SHA-256 trailer"), "{}", stdout(&o));
    drop(e);
    let bytes_before = std::fs::read(&snap_path).unwrap();

    let snap = Snapshot::open(&snap_path).unwrap();
    assert!(
        snap.trailer.is_some(),
        "etcdctl snapshot save appends a SHA-256"
    );
    let ours = serde_json::to_value(status::status(&snap).unwrap()).unwrap();
    // Both real tools, on this version's file.
    let etcdctl = real_status(Version::V34, &snap_path);
    let etcdutl = real_status(Version::V35, &snap_path);
    assert_eq!(ours, etcdctl, "{version:?}: ours vs etcdctl 3.4");
    assert_eq!(ours, etcdutl, "{version:?}: ours vs etcdutl 3.5");
    // 41 puts + 10 updates + 1 delete + big + lease put + final put = 55 revisions after the first.
    assert_eq!(ours["revision"], 55, "{ours}");

    let o = etcdsnap(&["verify", snap_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("1 tombstones"), "{out}");
    assert!(out.contains("compacted at 20"), "{out}");
    assert!(out.contains("1 leases"), "{out}");
    // MVCC: the latest state and the state at a retained revision equal
    // what the live server returned; a compacted revision is refused.
    let store = Store::open(&snap).unwrap();
    assert_eq!(
        ours_get(&store, None),
        live_latest,
        "{version:?}: latest state"
    );
    assert_eq!(
        ours_get(&store, Some(30)),
        live_at_30,
        "{version:?}: state at 30"
    );
    let err = store.state_at(Some(10), |_| true).unwrap_err().to_string();
    assert!(err.contains("compacted") && err.contains("20"), "{err}");
    let err = store.state_at(Some(999), |_| true).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
    // History of a key put, updated and deleted.
    let h = store.history(b"/registry/configmaps/ns0/cm-0");
    let ops: Vec<(i64, bool)> = h.iter().map(|r| (r.kv.version, r.is_delete())).collect();
    assert_eq!(
        ops,
        [(1, false), (2, false), (0, true)],
        "{version:?}: {h:?}"
    );
    // Never modify an input.
    assert_eq!(std::fs::read(&snap_path).unwrap(), bytes_before);
}

#[test]
fn live_etcd_3_4_snapshot_status_matches_real_tools() {
    check(Version::V34);
}

#[test]
fn live_etcd_3_5_snapshot_status_matches_real_tools() {
    check(Version::V35);
}
