//! Property test: random byte mutations of real fixtures never panic the
//! reader, status or verify, and verify always reaches a verdict.

mod common;

use common::fixture;
use etcdsnap::etcd::{status, Snapshot};
use etcdsnap::verify::verify_bytes;
use proptest::prelude::*;

fn base(i: usize) -> &'static [u8] {
    use std::sync::OnceLock;
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        [
            "etcd-3.4/small.db",
            "etcd-3.5/small.db",
            "openshift-backup/snapshot_2026-11-20_101500.db",
            "bolt/pagesize-8192.db",
        ]
        .iter()
        .map(|f| std::fs::read(fixture(f)).unwrap())
        .collect()
    });
    &files[i % files.len()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn mutations_never_panic(
        which in 0usize..4,
        edits in prop::collection::vec((any::<u32>(), any::<u8>()), 1..16),
        cut in prop::option::of(any::<u32>()),
    ) {
        let mut b = base(which).to_vec();
        for (pos, val) in edits {
            // Aim half the edits at the first pages (metas, roots, branches).
            let p = if pos % 2 == 0 { pos as usize % (b.len().min(5 * 4096)) } else { pos as usize % b.len() };
            b[p] = val;
        }
        if let Some(c) = cut {
            b.truncate(c as usize % (b.len() + 1));
        }
        let r = verify_bytes("mutated", &b);
        prop_assert!(matches!(r.exit_code(), 0..=2));
        prop_assert_eq!(r.layers.len(), 4);
        if let Ok(snap) = Snapshot::from_bytes("mutated", b.clone()) {
            let _ = status::status(&snap);
            let _ = status::detail(&snap);
        }
    }
}

#[test]
fn an_untouched_fixture_passes() {
    // The property above is only meaningful if the unmutated input passes.
    for i in 0..3 {
        assert_eq!(verify_bytes("clean", base(i)).exit_code(), 0);
    }
}
