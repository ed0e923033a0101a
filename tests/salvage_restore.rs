//! `restore --salvage` of damaged real-etcd snapshots (made by
//! `scripts/make-damaged.py`): real etcd 3.4 and 3.5 boot the data dir,
//! every salvaged key reads back with its value, and the loss report lies
//! beside the data dir.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{peer_url, Etcd, Version as V};
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::Store;
use etcdsnap::salvage::Salvage;

fn served_keys(e: &Etcd) -> BTreeMap<Vec<u8>, Vec<u8>> {
    e.get_all(None)
        .1
        .into_iter()
        .map(|kv| (kv.0, kv.1))
        .collect()
}

/// The latest state the salvage recovers.
fn salvaged_keys(file: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let snap = Snapshot::open_salvage(file).unwrap();
    let s = Salvage::run(&snap);
    let store = Store::from_records(&snap, s.records(false), None);
    store
        .state_at(None, |_| true)
        .unwrap()
        .iter()
        .map(|r| (r.kv.key.to_vec(), r.kv.value.to_vec()))
        .collect()
}

fn restore_and_boot(v: V, fixture: &str, kinds: &[&str]) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("damaged");
    let o = std::process::Command::new("python3")
        .arg(common::repo().join("scripts/make-damaged.py"))
        .arg(common::fixture(fixture))
        .arg(&out)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", common::stderr(&o));
    for kind in kinds {
        let file = out.join(format!("{kind}.db"));
        let want = salvaged_keys(&file);
        assert!(want.len() > 100, "{kind}: {}", want.len());
        let peer = peer_url();
        let data = t.path().join(format!("r-{kind}"));
        let ver = if v == V::V34 { "3.4" } else { "3.5" };
        let o = common::restore_one(&file, &data, &peer, &["--salvage", "--etcd-version", ver]);
        // Something may be lost: exit 1, but the data dir is there.
        assert_eq!(o.status.code(), Some(1), "{kind}: {}", common::stderr(&o));
        let report = format!("{}.salvage-report.json", data.display());
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(r["format"], "etcdsnap.salvage-report");
        assert_eq!(r["may_be_lost"], true);
        let e = Etcd::boot_member(v, "m1", &data, &peer, "etcd-cluster");
        assert_eq!(served_keys(&e), want, "{fixture} {kind} on etcd {ver}");
    }
}

#[test]
fn restore_salvage_boots_etcd_34() {
    restore_and_boot(
        V::V34,
        "etcd-3.4/deep.db",
        &["key-root-destroyed", "leaf-zeroed"],
    );
}

#[test]
fn restore_salvage_boots_etcd_35() {
    restore_and_boot(
        V::V35,
        "etcd-3.5/deep.db",
        &["both-metas-destroyed", "branch-zeroed"],
    );
}
