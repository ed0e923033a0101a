//! Fuzzes the salvage path: the page scanner, the tolerant tree walk and
//! the record merge, on arbitrary bytes (no valid meta needed). Any panic,
//! hang or out-of-bounds read is a bug.
//!
//!     cargo +nightly fuzz run scanner -- -max_total_time=60
//! (seed: `mkdir -p fuzz/corpus/scanner && cp fixtures/etcd-3.4/*.db
//! fuzz/corpus/scanner/`)

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = etcdsnap::etcd::Snapshot::from_bytes_salvage("fuzz", data.to_vec()) {
        let s = etcdsnap::salvage::Salvage::run(&snap);
        for r in s.records(true) {
            // Every salvaged record passed the revision checks.
            assert!(r.rev.tombstone || r.kv.mod_revision == r.rev.main);
        }
        let _ = s.summary_lines();
        let reach = snap.db.reach();
        let scan = etcdsnap::bolt::PageScan::scan(&snap.db, &reach);
        assert_eq!(scan.pages.len() as u64, scan.file_pages);
    }
});
