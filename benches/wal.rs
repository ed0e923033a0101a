//! Criterion bench of the WAL reader and replay: a WAL of 100,000 put
//! entries (Kubernetes-like keys, 600-byte values) in 64 MB segments, built
//! with the same record format etcd writes, read back (frames + CRC chain),
//! decoded (raft entries + InternalRaftRequest), and replayed over the
//! committed `deep.db` fixture.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::Store;
use etcdsnap::proto::{etcdserverpb, raftpb};
use etcdsnap::restore::wal::WalEncoder;
use etcdsnap::wal::record::segment_name;
use etcdsnap::wal::{request, Log, WalFiles};
use prost::Message;

const ENTRIES: u64 = 100_000;
const FIRST_INDEX: u64 = 1 << 32;

fn build_wal(dir: &Path) -> u64 {
    let mut seq = 0u64;
    let mut w = WalEncoder::new(0);
    let mut total = 0u64;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..ENTRIES {
        let mut value = b"k8s\0".to_vec();
        for _ in 0..596 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            value.push(state as u8);
        }
        let req = etcdserverpb::InternalRaftRequest {
            header: Some(etcdserverpb::RequestHeader {
                id: i + 1,
                ..Default::default()
            }),
            put: Some(etcdserverpb::PutRequest {
                key: format!("/registry/pods/ns{}/pod-{i}", i % 50).into_bytes(),
                value,
                ..Default::default()
            }),
            ..Default::default()
        };
        w.entry(&raftpb::Entry {
            r#type: Some(0),
            term: Some(2),
            index: Some(FIRST_INDEX + i),
            data: Some(req.encode_to_vec()),
        });
        if w.bytes().len() > 63_000_000 {
            let crc = w.crc();
            std::fs::write(dir.join(segment_name(seq, 0)), w.bytes()).unwrap();
            total += w.bytes().len() as u64;
            seq += 1;
            w = WalEncoder::new(crc);
        }
    }
    std::fs::write(dir.join(segment_name(seq, 0)), w.bytes()).unwrap();
    total + w.bytes().len() as u64
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = build_wal(dir.path());
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
