//! Criterion bench of the WAL reader and replay: a WAL of 100,000 put
//! entries (Kubernetes-like keys, 600-byte values) in 64 MB segments, built
//! with the same record format etcd writes, read back (frames + CRC chain),
//! decoded (raft entries + InternalRaftRequest, with prost and with the
//! replay's zero-copy reader), and replayed over the committed `deep.db`
//! fixture.

use std::path::Path;

#[path = "support/put_wal.rs"]
mod put_wal;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::Store;
use etcdsnap::wal::{request, Log, WalFiles};

const ENTRIES: u64 = 100_000;
const FIRST_INDEX: u64 = 1 << 32;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let wal = put_wal::PutWal {
        first_index: FIRST_INDEX,
        entries: ENTRIES,
        namespace_prefix: "ns",
        metadata: false,
    };
    let (_, bytes) = put_wal::write(dir.path(), &wal).unwrap();
    let files = WalFiles::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("wal");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("read frames + CRC chain + raft entries", |b| {
        b.iter(|| {
            let r = files.records().unwrap();
            Log::decode(&files, &r).unwrap().entries.len()
        })
    });
    g.bench_function("read + decode every request", |b| {
        b.iter(|| {
            let r = files.records().unwrap();
            let log = Log::decode(&files, &r).unwrap();
            log.entries
                .iter()
                .filter(|e| request::decode(e).is_ok())
                .count()
        })
    });
    g.bench_function(
        "read + decode every request zero-copy (replay's reader)",
        |b| {
            b.iter(|| {
                let r = files.records().unwrap();
                let log = Log::decode(&files, &r).unwrap();
                log.entries
                    .iter()
                    .filter(|e| etcdsnap::wal::kv_request::decode(e).is_ok())
                    .count()
            })
        },
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/etcd-3.5/deep.db");
    let snap = Snapshot::open(&fixture).expect("fixture: run scripts/make-fixtures.py");
    g.bench_function("replay 100000 puts over deep.db", |b| {
        b.iter(|| {
            let store = Store::open(&snap).unwrap();
            let r = files.records().unwrap();
            let log = Log::decode(&files, &r).unwrap();
            etcdsnap::wal::replay::replay(&store, &log, 0).records.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
