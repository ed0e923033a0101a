//! Fuzzes the bbolt reader, the status hash and the layered verify with
//! arbitrary bytes. Any panic, hang or out-of-bounds read is a bug.
//!
//!     cargo install cargo-fuzz
//!     cargo +nightly fuzz run reader -- -max_total_time=60
//! (seed the corpus with fixtures: `mkdir -p fuzz/corpus/reader &&
//! cp fixtures/openshift-backup/*.db fuzz/corpus/reader/`)

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = etcdsnap::verify::verify_bytes("fuzz", data);
    assert!(report.exit_code() <= 2);
    if let Ok(snap) = etcdsnap::etcd::Snapshot::from_bytes("fuzz", data.to_vec()) {
        let _ = etcdsnap::etcd::status::detail(&snap);
        if let Ok(buckets) = snap.db.buckets() {
            for b in &buckets {
                let _ = snap.db.for_each(b, |_| Ok(()));
            }
        }
    }
});
