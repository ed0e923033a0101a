//! The etcd WAL (write-ahead log) as a restore creates it
//! (etcd `server/wal/{wal,encoder,decoder}.go`; docs/wal-and-snap.md).
//! The frame and record format is defined once in [`crate::wal::record`],
//! which the reader uses too; the file is preallocated to 64,000,000 bytes
//! of zeros.

use std::io::Write;
use std::path::Path;

use prost::Message;

use crate::proto::{etcdserverpb, raftpb, walpb};

use crate::wal::record::{decode_frame_size, encode_frame};
pub use crate::wal::record::{
    CRC_TYPE, ENTRY_TYPE, METADATA_TYPE, SEGMENT_SIZE, SNAPSHOT_TYPE, STATE_TYPE,
};

/// Builds the bytes of a WAL segment in memory (a restore's WAL is a few
/// hundred bytes per member).
#[derive(Debug, Clone)]
pub struct WalEncoder {
    buf: Vec<u8>,
    crc: u32,
}

impl WalEncoder {
    /// A new segment: its first record is a `crc` record holding `prev_crc`
    /// (0 for the first segment).
    pub fn new(prev_crc: u32) -> WalEncoder {
        let mut w = WalEncoder {
            buf: Vec::new(),
            crc: prev_crc,
        };
        w.frame(&walpb::Record {
            r#type: Some(CRC_TYPE),
            crc: Some(prev_crc),
            data: None,
        });
        w
    }

    /// Appends a record of `typ` with `data`, chaining the CRC.
    pub fn record(&mut self, typ: i64, data: Vec<u8>) {
        self.crc = crc32c::crc32c_append(self.crc, &data);
        let rec = walpb::Record {
            r#type: Some(typ),
            crc: Some(self.crc),
            data: Some(data),
        };
        self.frame(&rec);
    }

    fn frame(&mut self, rec: &walpb::Record) {
        encode_frame(&mut self.buf, rec);
    }

    /// The metadata record: raw bytes (etcd writes an encoded
    /// `etcdserverpb.Metadata`).
    pub fn metadata(&mut self, data: Vec<u8>) {
        self.record(METADATA_TYPE, data);
    }

    pub fn entry(&mut self, e: &raftpb::Entry) {
        self.record(ENTRY_TYPE, e.encode_to_vec());
    }

    pub(crate) fn state(&mut self, hs: &raftpb::HardState) {
        self.record(STATE_TYPE, hs.encode_to_vec());
    }

    pub(crate) fn snapshot(&mut self, s: &walpb::Snapshot) {
        self.record(SNAPSHOT_TYPE, s.encode_to_vec());
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn crc(&self) -> u32 {
        self.crc
    }
}

/// `etcdserverpb.Metadata{NodeID, ClusterID}` with both fields written.
pub fn metadata_bytes(node_id: u64, cluster_id: u64) -> Vec<u8> {
    etcdserverpb::Metadata {
        node_id: Some(node_id),
        cluster_id: Some(cluster_id),
    }
    .encode_to_vec()
}

/// `walpb.Snapshot{index, term}` (both always written), with a ConfState
/// when given (etcd ≥ 3.5).
pub(crate) fn wal_snapshot(
    index: u64,
    term: u64,
    conf: Option<raftpb::ConfState>,
) -> walpb::Snapshot {
    walpb::Snapshot {
        index: Some(index),
        term: Some(term),
        conf_state: conf,
    }
}

/// A ConfState of voters with `auto_leave` written (as gogoproto does).
pub(crate) fn conf_state(voters: &[u64]) -> raftpb::ConfState {
    raftpb::ConfState {
        voters: voters.to_vec(),
        auto_leave: Some(false),
        ..Default::default()
    }
}

/// Writes `bytes` as a WAL segment at `path` (mode 0600, new file),
/// zero-filled to `SEGMENT_SIZE`, fsynced.
pub(crate) fn write_segment(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = crate::bolt::writer::create_new_0600(path)?;
    f.write_all(bytes)?;
    // Preallocate with real zeros (etcd uses fallocate), so the log has its
    // space reserved rather than a sparse hole.
    let zeros = vec![0u8; 1 << 20];
    let mut left = SEGMENT_SIZE.saturating_sub(bytes.len() as u64);
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    pub offset: usize,
    pub typ: i64,
    pub crc: u32,
    pub data: Vec<u8>,
}

/// Why a WAL segment does not decode: the byte offset of the record and
/// what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("offset {offset}: {what}")]
pub struct WalDecodeError {
    pub offset: usize,
    pub what: String,
}

/// Decodes a segment, checking frame padding and the CRC chain. Stops at
/// the first zero length field.
pub fn decode(bytes: &[u8]) -> Result<Vec<DecodedRecord>, WalDecodeError> {
    let mut out = Vec::new();
    let mut off = 0usize;
    let mut crc = 0u32;
    while off + 8 <= bytes.len() {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[off..off + 8]);
        let field = u64::from_le_bytes(a);
        if field == 0 {
            break;
        }
        let (len, pad) = decode_frame_size(field);
        let start = off + 8;
        let end = start
            .checked_add(len as usize)
            .filter(|&e| e + pad as usize <= bytes.len())
            .ok_or_else(|| WalDecodeError {
                offset: off,
                what: format!("record of {len} bytes runs past the end"),
            })?;
        let rec = walpb::Record::decode(&bytes[start..end]).map_err(|e| WalDecodeError {
            offset: off,
            what: format!("not a walpb.Record: {e}"),
        })?;
        let typ = rec.r#type.unwrap_or(0);
        let data = rec.data.unwrap_or_default();
        let stored = rec.crc.unwrap_or(0);
        if typ == CRC_TYPE {
            if off == 0 {
                crc = stored;
            } else if stored != crc {
                return Err(WalDecodeError {
                    offset: off,
                    what: format!("crc record {stored:#x} != {crc:#x}"),
                });
            }
        } else {
            crc = crc32c::crc32c_append(crc, &data);
            if stored != crc {
                return Err(WalDecodeError {
                    offset: off,
                    what: format!("record crc {stored:#x}, computed {crc:#x}"),
                });
            }
        }
        out.push(DecodedRecord {
            offset: off,
            typ,
            crc: stored,
            data,
        });
        off = end + pad as usize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// etcd's `server/storage/wal/testdata/TestNew.wal`: `Create(dir,
    /// "somedata")` writes crc(0), metadata "somedata", snapshot{0,0}.
    #[test]
    fn golden_create_bytes() {
        let mut w = WalEncoder::new(0);
        w.metadata(b"somedata".to_vec());
        w.snapshot(&wal_snapshot(0, 0, None));
        let mut want = hex("04000000 00000084 08041000 00000000");
        want.extend(hex("12000000 00000086 0801 1085d4fda007 1a08"));
        want.extend(b"somedata");
        want.extend(hex("000000000000"));
        want.extend(hex(
            "0e000000 00000082 0805 1080db81c101 1a04 08001000 0000",
        ));
        assert_eq!(w.bytes(), &want[..]);
        assert_eq!(crc32c::crc32c(b"somedata"), 0x741F6A05);
        let recs = decode(&want).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[2].crc, 0x18206D80);
    }

    /// A restore WAL as etcdutl 3.5.1 wrote it (one member `m1`,
    /// `http://127.0.0.1:23800`, token `etcd-cluster-1`): metadata,
    /// HardState and snapshot records with their always-written fields.
    #[test]
    fn golden_restore_records() {
        let id = 0x7b5a8be93824acf5u64;
        let cid = 0x1654c0385b8aad26u64;
        let md = metadata_bytes(id, cid);
        assert_eq!(md[0], 0x08);
        let hs = raftpb::HardState {
            term: Some(1),
            vote: Some(id),
            commit: Some(1),
        };
        let b = hs.encode_to_vec();
        assert_eq!(b[0], 0x08);
        assert_eq!(b[1], 0x01);
        assert_eq!(b[b.len() - 2..], [0x18, 0x01]);
        let s = wal_snapshot(3, 1, Some(conf_state(&[1, 2])));
        assert_eq!(s.encode_to_vec(), hex("0803 1001 1a06 0801 0802 2800"));
        let cc = raftpb::ConfChange {
            id: Some(0),
            r#type: Some(0),
            node_id: Some(5),
            context: Some(b"{}".to_vec()),
        };
        assert_eq!(cc.encode_to_vec(), hex("0800 1000 1805 2202 7b7d"));
        let e = raftpb::Entry {
            r#type: Some(1),
            term: Some(1),
            index: Some(1),
            data: Some(vec![]),
        };
        assert_eq!(e.encode_to_vec(), hex("0801 1001 1801 2200"));
    }
}
