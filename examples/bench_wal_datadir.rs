//! Builds a data dir for the WAL replay benchmark (BENCHMARKS.md): a copy
//! (hard link when possible) of a db as `member/snap/db` and a WAL of N
//! put entries above its consistent index (Kubernetes-like keys, 600-byte
//! values), in etcd's record format and 64 MB segments.
//!
//!     cargo run --release --example bench_wal_datadir -- DB OUT-DIR [N]

use std::path::PathBuf;

use etcdsnap::proto::{etcdserverpb, raftpb};
use etcdsnap::restore::wal::{metadata_bytes, WalEncoder};
use etcdsnap::wal::record::segment_name;
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: bench_wal_datadir DB OUT-DIR [N]".into());
    }
    let db = PathBuf::from(&args[1]);
    let out = PathBuf::from(&args[2]);
    let n: u64 = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let snap_dir = out.join("member/snap");
    let wal_dir = out.join("member/wal");
    std::fs::create_dir_all(&snap_dir)?;
    std::fs::create_dir_all(&wal_dir)?;
    if std::fs::hard_link(&db, snap_dir.join("db")).is_err() {
        std::fs::copy(&db, snap_dir.join("db"))?;
    }
    let snap = etcdsnap::etcd::Snapshot::open(&db)?;
    let store = etcdsnap::mvcc::Store::open(&snap)?;
    let first = etcdsnap::wal::open::consistent_index(&store) + 1;
    let mut seq = 0u64;
    let mut w = WalEncoder::new(0);
    w.metadata(metadata_bytes(1, 1));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..n {
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
                key: format!("/registry/pods/walbench-{}/pod-{i}", i % 50).into_bytes(),
                value,
                ..Default::default()
            }),
            ..Default::default()
        };
        w.entry(&raftpb::Entry {
            r#type: Some(0),
            term: Some(2),
            index: Some(first + i),
            data: Some(req.encode_to_vec()),
        });
        if w.bytes().len() > 63_000_000 {
            let crc = w.crc();
            std::fs::write(wal_dir.join(segment_name(seq, 0)), w.bytes())?;
            seq += 1;
            w = WalEncoder::new(crc);
            w.metadata(metadata_bytes(1, 1));
        }
    }
    std::fs::write(wal_dir.join(segment_name(seq, 0)), w.bytes())?;
    println!(
        "{}: db {} + {n} entries from index {first} in {} segment(s)",
        out.display(),
        db.display(),
        seq + 1
    );
    Ok(())
}
