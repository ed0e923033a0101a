//! A WAL of put entries for the WAL benchmarks: Kubernetes-like keys,
//! 600-byte pseudo-random values, in the record format etcd writes and
//! 64 MB segments. Shared by `benches/wal.rs` and
//! `examples/bench_wal_datadir.rs`.

use std::path::Path;

use etcdsnap::proto::{etcdserverpb, raftpb};
use etcdsnap::restore::wal::{metadata_bytes, WalEncoder};
use etcdsnap::wal::record::segment_name;
use prost::Message;

/// What to write.
pub struct PutWal<'a> {
    /// The raft index of the first entry.
    pub first_index: u64,
    pub entries: u64,
    /// Keys are `/registry/pods/<prefix><i % 50>/pod-<i>`.
    pub namespace_prefix: &'a str,
    /// Start each segment with a metadata record (member 1, cluster 1), as
    /// a data dir etcd reads must.
    pub metadata: bool,
}

/// Writes the segments into `dir`: (segments written, bytes written).
pub fn write(dir: &Path, p: &PutWal<'_>) -> std::io::Result<(u64, u64)> {
    let new_segment = |crc: u32| {
        let mut w = WalEncoder::new(crc);
        if p.metadata {
            w.metadata(metadata_bytes(1, 1));
        }
        w
    };
    let (mut seq, mut total) = (0u64, 0u64);
    let mut w = new_segment(0);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..p.entries {
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
                key: format!("/registry/pods/{}{}/pod-{i}", p.namespace_prefix, i % 50)
                    .into_bytes(),
                value,
                ..Default::default()
            }),
            ..Default::default()
        };
        w.entry(&raftpb::Entry {
            r#type: Some(0),
            term: Some(2),
            index: Some(p.first_index + i),
            data: Some(req.encode_to_vec()),
        });
        if w.bytes().len() > 63_000_000 {
            std::fs::write(dir.join(segment_name(seq, 0)), w.bytes())?;
            total += w.bytes().len() as u64;
            seq += 1;
            w = new_segment(w.crc());
        }
    }
    std::fs::write(dir.join(segment_name(seq, 0)), w.bytes())?;
    Ok((seq + 1, total + w.bytes().len() as u64))
}
