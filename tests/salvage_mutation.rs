//! Property test: damage to real-etcd fixtures — pages zeroed or filled with
//! noise, page header fields and branch pointers set to arbitrary values,
//! metas broken, the file cut — never panics the salvage, and every record
//! it returns equals the intact file's record of the same revision (or, for
//! a revision the intact tree no longer holds, the copy the intact file's
//! own free pages hold). Bytes changed inside a value cannot be told from
//! data (bbolt pages carry no checksum; the SHA-256 trailer does), and so
//! can damage to the continuation pages of an overflow run (they carry no
//! header): the damage here is structural, as in the corpus, and
//! whole-page damage spares overflow continuations.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::{fixture, kv_of, Kv};
use etcdsnap::etcd::Snapshot;
use etcdsnap::salvage::Salvage;
use proptest::prelude::*;

type Rec = Kv;

struct Base {
    bytes: Vec<u8>,
    /// Pages that are not the continuation of an overflow run.
    headed: Vec<u64>,
    /// Every revision the intact file's salvage finds (tree and free pages).
    records: HashMap<(i64, i64, bool), Rec>,
}

fn recs(s: &Salvage<'_>) -> HashMap<(i64, i64, bool), Rec> {
    s.records(true)
        .iter()
        .map(|r| ((r.rev.main, r.rev.sub, r.rev.tombstone), kv_of(r)))
        .collect()
}

fn base(i: usize) -> &'static Base {
    static B: OnceLock<Vec<Base>> = OnceLock::new();
    let all = B.get_or_init(|| {
        [
            "etcd-3.4/deep.db",
            "etcd-3.5/small.db",
            "salvage/compacted.db",
        ]
        .iter()
        .map(|f| {
            let bytes = std::fs::read(fixture(f)).unwrap();
            let snap = Snapshot::from_bytes(f, bytes.clone()).unwrap();
            // The intact tree's records must be among them.
            let store = etcdsnap::mvcc::Store::open(&snap).unwrap();
            let s = Salvage::run(&snap);
            assert!(!s.report.may_be_lost, "{f}");
            let records = recs(&s);
            let headed = s
                .scan
                .pages
                .iter()
                .filter(|p| !matches!(p.class, etcdsnap::bolt::PageClass::Overflow { .. }))
                .map(|p| p.id.get())
                .collect();
            assert_eq!(
                store.records().len(),
                s.records(true)
                    .iter()
                    .filter(|r| s.source(r) == etcdsnap::salvage::Source::Tree)
                    .count(),
                "{f}"
            );
            Base {
                bytes,
                headed,
                records,
            }
        })
        .collect()
    });
    &all[i % all.len()]
}

#[derive(Debug, Clone)]
enum Damage {
    Zero(u32),
    Noise(u32, u64),
    HeaderField(u32, u8, u64),
    BranchPointer(u32, u8, u64),
    Meta(u8),
    Cut(u32),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<u32>().prop_map(Damage::Zero),
        (any::<u32>(), any::<u64>()).prop_map(|(p, s)| Damage::Noise(p, s)),
        (any::<u32>(), 0u8..4, any::<u64>()).prop_map(|(p, f, v)| Damage::HeaderField(p, f, v)),
        (any::<u32>(), any::<u8>(), any::<u64>())
            .prop_map(|(p, e, v)| Damage::BranchPointer(p, e, v)),
        (0u8..2).prop_map(Damage::Meta),
        any::<u32>().prop_map(Damage::Cut),
    ]
}

fn apply(b: &mut Vec<u8>, d: &Damage, headed: &[u64]) {
    let ps = 4096usize;
    let pages = (b.len() / ps).max(1);
    // A headed page of the intact file that is still in the file (past
    // the end: page 2, always headed).
    let at = |p: u32| {
        let id = headed[p as usize % headed.len()] as usize;
        if id < pages {
            id * ps
        } else {
            2 * ps
        }
    };
    let len = b.len();
    match *d {
        Damage::Zero(p) => {
            let o = at(p).min(len);
            b[o..(o + ps).min(len)].fill(0);
        }
        Damage::Noise(p, mut x) => {
            let o = at(p).min(len);
            for byte in &mut b[o..(o + ps).min(len)] {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
        }
        Damage::HeaderField(p, f, v) => {
            let o = at(p);
            let (off, len) = [(0, 8), (8, 2), (10, 2), (12, 4)][f as usize];
            if o + off + len <= b.len() {
                b[o + off..o + off + len].copy_from_slice(&v.to_le_bytes()[..len]);
            }
        }
        Damage::BranchPointer(p, e, v) => {
            // Only on branch pages: the child pgid of element e.
            let o = at(p);
            if b.get(o + 8) == Some(&1) {
                let off = o + 16 + (e as usize % 64) * 16 + 8;
                if off + 8 <= b.len() {
                    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        Damage::Meta(m) => {
            let o = m as usize * ps + 16 + 20;
            if o < b.len() {
                b[o] ^= 0xff;
            }
        }
        Damage::Cut(c) => {
            let n = c as usize % (b.len() + 1);
            b.truncate(n);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn salvage_never_panics_nor_returns_a_changed_record(
        which in 0usize..3,
        damages in prop::collection::vec(damage(), 1..5),
    ) {
        let base = base(which);
        let mut b = base.bytes.clone();
        for d in &damages {
            apply(&mut b, d, &base.headed);
        }
        if let Ok(snap) = Snapshot::from_bytes_salvage("damaged", b) {
            let s = Salvage::run(&snap);
            for (rev, r) in recs(&s) {
                match base.records.get(&rev) {
                    Some(want) => prop_assert_eq!(&r, want, "revision {:?} changed", rev),
                    None => prop_assert!(false, "revision {:?} is in no copy of the intact file", rev),
                }
            }
            let _ = s.summary_lines();
        }
    }
}
