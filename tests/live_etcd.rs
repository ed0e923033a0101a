//! Fresh snapshots from real etcd 3.4.23 and 3.5.1 servers (started here on
//! loopback), compared live with what etcdctl 3.4 and etcdutl 3.5 print.

mod common;

use common::*;
use etcdsnap::etcd::{status, Snapshot};

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

fn check(version: Version) {
    let e = Etcd::start(version);
    populate(&e);
    let out_dir = tempfile::tempdir().unwrap();
    let snap_path = out_dir.path().join("snapshot.db");
    e.save(&snap_path);
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
