//! One definition of the WAL's on-disk record format, used by the reader
//! ([`super::read`]) and by restore's writer (`crate::restore::wal`)
//! (etcd `server/wal/{encoder,decoder}.go`; etcd-formats.md §D.4).
//!
//! A frame is an 8-byte little-endian length field, the `walpb.Record`
//! bytes, and zero padding to 8 bytes; when there is padding the length
//! field's top byte is `0x80 | pad`. Each record's CRC is CRC-32C continued
//! over the previous records' data; a `crc` record carries the running
//! value. A segment is preallocated with zeros, and a zero length field
//! ends it.

use prost::Message;

use crate::proto::walpb;

/// The size etcd preallocates for a segment.
pub const SEGMENT_SIZE: u64 = 64_000_000;
/// etcd's torn-write detection works on 512-byte sectors.
pub(crate) const SECTOR_SIZE: u64 = 512;
/// etcd 3.5 refuses a record larger than this (10 MiB).
pub(crate) const MAX_RECORD_SIZE: u64 = 10 * 1024 * 1024;

pub const METADATA_TYPE: i64 = 1;
pub const ENTRY_TYPE: i64 = 2;
pub const STATE_TYPE: i64 = 3;
pub const CRC_TYPE: i64 = 4;
pub const SNAPSHOT_TYPE: i64 = 5;

/// Appends `rec` as one frame (length field, bytes, padding) to `buf`.
pub(crate) fn encode_frame(buf: &mut Vec<u8>, rec: &walpb::Record) {
    let b = rec.encode_to_vec();
    let len = b.len() as u64;
    let pad = (8 - len % 8) % 8;
    let field = if pad == 0 {
        len
    } else {
        len | ((0x80 | pad) << 56)
    };
    buf.extend_from_slice(&field.to_le_bytes());
    buf.extend_from_slice(&b);
    buf.resize(buf.len() + pad as usize, 0);
}

/// A length field's record length and padding (etcd `decodeFrameSize`).
pub fn decode_frame_size(field: u64) -> (u64, u64) {
    if field >> 63 == 1 {
        (field & 0x00FF_FFFF_FFFF_FFFF, (field >> 56) & 0x7)
    } else {
        (field, 0)
    }
}

/// Segment file name: `<seq>-<index>.wal` in 16 hex digits each.
pub fn segment_name(seq: u64, index: u64) -> String {
    format!("{seq:016x}-{index:016x}.wal")
}

/// Parses a segment file name into (seq, index).
pub(crate) fn parse_segment_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(".wal")?;
    let (a, b) = stem.split_once('-')?;
    if a.len() != 16 || b.len() != 16 {
        return None;
    }
    Some((
        u64::from_str_radix(a, 16).ok()?,
        u64::from_str_radix(b, 16).ok()?,
    ))
}

/// etcd's `isTornEntry`: a record whose bytes (`data`, padding included,
/// starting at file offset `start`) have a 512-byte sector chunk of zeros
/// was torn by a crash while being written.
pub(crate) fn is_torn(data: &[u8], start: u64) -> bool {
    let mut off = start;
    let mut cur = 0usize;
    while cur < data.len() {
        let n = ((SECTOR_SIZE - off % SECTOR_SIZE) as usize).min(data.len() - cur);
        if data[cur..cur + n].iter().all(|&b| b == 0) {
            return true;
        }
        off += n as u64;
        cur += n;
    }
    false
}
