//! `etcdsnap hashkv` against real etcd 3.4.23 and 3.5.1: the same hash and
//! compaction revision as `etcdctl endpoint hashkv --rev N` at several
//! revisions, before and after a compaction.

mod common;

use common::*;

/// (hash, compact_revision) of `etcdctl endpoint hashkv --rev N -w json`.
fn real_hashkv(e: &Etcd, rev: i64) -> (u64, i64) {
    let out = e.ctl_ok(&["endpoint", "hashkv", &format!("--rev={rev}"), "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("hashkv json");
    let h = &v[0]["HashKV"];
    (
        h["hash"].as_u64().unwrap_or(0),
        h["compact_revision"].as_i64().unwrap_or(0),
    )
}

fn ours(file: &std::path::Path, rev: i64) -> (u64, i64, i64) {
    let o = etcdsnap(&[
        "hashkv",
        file.to_str().unwrap(),
        "--rev",
        &rev.to_string(),
        "-o",
        "json",
    ]);
    assert!(o.status.success(), "hashkv --rev {rev}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("our json");
    (
        v["hash"].as_u64().unwrap(),
        v["compact_revision"].as_i64().unwrap(),
        v["hash_revision"].as_i64().unwrap(),
    )
}

fn writes(e: &Etcd, round: usize) {
    for i in 0..12 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/configmaps/ns{}/cm-{i}", i % 3),
            &format!("r{round}-v{i}-{}", "x".repeat(i * 11)),
        ]);
    }
    e.ctl_ok(&["del", &format!("/registry/configmaps/ns0/cm-{}", 3 * round)]);
    e.ctl_ok(&["put", "/registry/pods/default/p", &format!("round {round}")]);
    e.ctl_ok(&["del", "/registry/secrets/", "--prefix"]);
    e.ctl_ok(&["put", "/registry/secrets/default/s", "s"]);
}

fn check(v: Version) {
    let mut e = Etcd::start(v);
    writes(&e, 0);
    writes(&e, 1);
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.db");
    e.save(&before);
    let rev = e.status()["header"]["revision"].as_i64().unwrap();
    for r in [1, 2, 7, 15, rev - 1, rev] {
        let (h, c) = real_hashkv(&e, r);
        assert_eq!(c, -1, "never compacted");
        assert_eq!(
            ours(&before, r),
            (h, c, r),
            "{v:?} --rev {r} before compaction"
        );
    }
    // Latest by default.
    let o = etcdsnap(&["hashkv", before.to_str().unwrap(), "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["hash"].as_u64().unwrap(), real_hashkv(&e, rev).0);

    let compact_at = 20;
    e.ctl_ok(&["compact", "--physical", &compact_at.to_string()]);
    writes(&e, 2);
    let after = dir.path().join("after.db");
    e.save(&after);
    let rev2 = e.status()["header"]["revision"].as_i64().unwrap();
    for r in [compact_at + 1, compact_at + 4, rev, rev2 - 3, rev2] {
        let (h, c) = real_hashkv(&e, r);
        assert_eq!(c, compact_at);
        assert_eq!(
            ours(&after, r),
            (h, c, r),
            "{v:?} --rev {r} after compaction"
        );
    }
    // Compacted and future revisions: etcd refuses them, so do we.
    assert!(!e.ctl(&["endpoint", "hashkv", "--rev=20"]).status.success());
    for bad in [compact_at, 3, rev2 + 1] {
        let o = etcdsnap(&["hashkv", after.to_str().unwrap(), "--rev", &bad.to_string()]);
        assert_eq!(o.status.code(), Some(2), "--rev {bad}");
        assert!(stderr(&o).contains("revision"), "{}", stderr(&o));
    }

    // A restarted server (index rebuilt from the db) answers the same.
    e.stop();
    let data = e.data_dir();
    let peer = peer_url();
    let e2 = Etcd::boot_member(v, "t", &data, &peer, "etcdsnap-test");
    for r in [compact_at + 1, rev2] {
        let (h, c) = real_hashkv(&e2, r);
        assert_eq!(ours(&after, r), (h, c, r), "{v:?} --rev {r} after restart");
    }
}

#[test]
fn hashkv_matches_etcd_34() {
    check(Version::V34);
}

#[test]
fn hashkv_matches_etcd_35() {
    check(Version::V35);
}
