//! Stats and key-level diff over real fixtures.

mod common;

use common::fixture;
use etcdsnap::etcd::{status, Snapshot};
use etcdsnap::forensics::diff::diff_states;
use etcdsnap::forensics::stats::{collect, Place};
use etcdsnap::mvcc::Store;

fn place(k: &[u8]) -> Place {
    let s = String::from_utf8_lossy(k);
    let parts: Vec<&str> = s.trim_start_matches('/').split('/').collect();
    Place {
        resource: parts.get(1).unwrap_or(&"").to_string(),
        namespace: if parts.len() > 3 {
            parts[2].to_string()
        } else {
            String::new()
        },
    }
}

#[test]
fn stats_totals_agree_with_status() {
    for f in ["etcd-3.4/small.db", "etcd-3.5/deep.db"] {
        let snap = Snapshot::open(&fixture(f)).unwrap();
        let st = status::detail(&snap).unwrap();
        let store = Store::open(&snap).unwrap();
        let s = collect(&store, 5, place, |_| "identity".into());
        let key_bucket = st.buckets.iter().find(|b| b.name == "key").unwrap();
        assert_eq!(
            s.revisions, key_bucket.keys,
            "{f}: revisions = key bucket entries"
        );
        assert_eq!(s.current_revision, st.status.revision, "{f}");
        let per_res: u64 = s.resources.iter().map(|r| r.revisions).sum();
        assert_eq!(per_res, s.revisions, "{f}");
        let live: u64 = s.resources.iter().map(|r| r.objects).sum();
        assert_eq!(live, s.live_objects, "{f}");
        assert!(s.largest.len() <= 5);
        assert!(s.largest.windows(2).all(|w| w[0].bytes >= w[1].bytes));
    }
}

#[test]
fn diff_of_two_backups_finds_the_changes() {
    let a = Snapshot::open(&fixture("openshift-backup/snapshot_2026-11-19_101500.db")).unwrap();
    let b = Snapshot::open(&fixture("openshift-backup/snapshot_2026-11-20_101500.db")).unwrap();
    let (sa, sb) = (Store::open(&a).unwrap(), Store::open(&b).unwrap());
    let (la, lb) = (
        sa.state_at(None, |_| true).unwrap(),
        sb.state_at(None, |_| true).unwrap(),
    );
    let d = diff_states(&la, &lb);
    assert_eq!(d.added.len() + d.unchanged + d.changed.len(), lb.len());
    assert_eq!(d.removed.len() + d.unchanged + d.changed.len(), la.len());
    // Same input on both sides: nothing differs.
    let same = diff_states(&la, &la);
    assert!(same.is_empty());
    assert_eq!(same.unchanged, la.len());
}
