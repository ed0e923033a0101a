//! Reading a WAL directory as etcd does when it starts: segments in
//! sequence order, every frame decoded, the CRC chain checked across
//! segments, and a torn last record (a crash mid-write) dropped as etcd's
//! `wal.Repair` drops it. Record data borrows the mapped segments.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use serde::Serialize;
use thiserror::Error;

use super::record::{decode_frame_size, is_torn, parse_segment_name, CRC_TYPE, MAX_RECORD_SIZE};
use crate::wire::{expect_bytes, expect_varint, Fields, WireError};

#[derive(Debug, Error)]
pub enum WalError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{dir}: no WAL segments (*.wal)")]
    Empty { dir: String },
    #[error("{dir}: segment {missing} is missing: {before} is followed by {after} (sequence numbers must be consecutive)")]
    MissingSegment {
        dir: String,
        missing: String,
        before: String,
        after: String,
    },
    #[error("{segment} at offset {offset}: CRC mismatch: the record holds {stored:#010x}, the chain gives {computed:#010x}")]
    Crc {
        segment: String,
        offset: u64,
        stored: u32,
        computed: u32,
    },
    #[error("{segment} at offset {offset}: not a walpb.Record: {source}")]
    Record {
        segment: String,
        offset: u64,
        #[source]
        source: WireError,
    },
    #[error("{segment} at offset {offset}: {what}")]
    Frame {
        segment: String,
        offset: u64,
        what: String,
    },
}

/// One segment file.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
    pub seq: u64,
    /// The raft index its name says its first entry follows.
    pub index: u64,
    pub size: u64,
}

/// One record: type, CRC and where its data lies.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub segment: usize,
    pub offset: u64,
    pub typ: i64,
    pub crc: u32,
    pub data: &'a [u8],
}

/// A record etcd would drop at start as a torn write.
#[derive(Debug, Clone, Serialize)]
pub struct Torn {
    pub segment: String,
    pub offset: u64,
    pub why: String,
}

/// The mapped segments of a WAL dir.
pub struct WalFiles {
    pub dir: PathBuf,
    pub segments: Vec<Segment>,
    maps: Vec<Option<Mmap>>,
    /// Opened for salvage past a gap in the sequence: the position of the
    /// first segment after the gap, and the error naming the gap.
    gap: Option<(usize, WalError)>,
}

/// Where reading a WAL stopped: the error, the segment (its position in
/// [`WalFiles::segments`]) it concerns and the offset of the damaged
/// record (`None` for a missing segment: reading resumes, if at all, at
/// the start of `segment`).
#[derive(Debug)]
pub struct Damage {
    pub error: WalError,
    pub segment: usize,
    pub offset: Option<u64>,
}

/// The records of a WAL, in order.
pub struct WalRecords<'a> {
    pub records: Vec<Record<'a>>,
    pub torn: Option<Torn>,
    /// The running CRC after the last record.
    pub crc: u32,
    /// Per segment, the bytes of records before the zero fill (or the
    /// torn record).
    pub used: Vec<u64>,
}

impl WalFiles {
    /// Lists and maps the segments of `dir`, checking that their sequence
    /// numbers are consecutive.
    pub fn open(dir: &Path) -> Result<WalFiles, WalError> {
        WalFiles::open_with(dir, false)
    }

    /// As [`WalFiles::open`], but a gap in the sequence numbers is kept as
    /// damage for [`WalFiles::records_until_damage`] to stop at.
    pub(crate) fn open_salvage(dir: &Path) -> Result<WalFiles, WalError> {
        WalFiles::open_with(dir, true)
    }

    fn open_with(dir: &Path, tolerate_gap: bool) -> Result<WalFiles, WalError> {
        let io = |p: &Path, source| WalError::Io {
            path: p.display().to_string(),
            source,
        };
        let mut segments = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((seq, index)) = parse_segment_name(&name) else {
                continue;
            };
            let path = entry.path();
            let size = entry.metadata().map_err(|e| io(&path, e))?.len();
            segments.push(Segment {
                name,
                path,
                seq,
                index,
                size,
            });
        }
        if segments.is_empty() {
            return Err(WalError::Empty {
                dir: dir.display().to_string(),
            });
        }
        segments.sort_by_key(|s| s.seq);
        let mut gap = None;
        for (i, w) in segments.windows(2).enumerate() {
            if w[1].seq != w[0].seq + 1 {
                let e = WalError::MissingSegment {
                    dir: dir.display().to_string(),
                    missing: format!("{:016x}-*.wal", w[0].seq + 1),
                    before: w[0].name.clone(),
                    after: w[1].name.clone(),
                };
                if !tolerate_gap {
                    return Err(e);
                }
                gap = Some((i + 1, e));
                break;
            }
        }
        let mut maps = Vec::with_capacity(segments.len());
        for s in &segments {
            let f = File::open(&s.path).map_err(|e| io(&s.path, e))?;
            if s.size == 0 {
                maps.push(None);
                continue;
            }
            // SAFETY: read-only map; etcdsnap never writes its input.
            // Populated: every byte is read (CRC chain), and mapping the
            // pages in one go costs less than a fault per page.
            let m = unsafe { MmapOptions::new().populate().map(&f) }.map_err(|e| io(&s.path, e))?;
            maps.push(Some(m));
        }
        Ok(WalFiles {
            dir: dir.to_path_buf(),
            segments,
            maps,
            gap,
        })
    }

    pub(crate) fn bytes(&self, seg: usize) -> &[u8] {
        match self.maps.get(seg) {
            Some(Some(m)) => m,
            _ => &[],
        }
    }

    /// Decodes every record of every segment, checking the CRC chain. A
    /// damaged record in the last segment whose bytes are torn (a zeroed
    /// sector) or cut short by the end of the file ends the log, as etcd
    /// repairs it; anywhere else it is an error naming segment and offset.
    pub fn records(&self) -> Result<WalRecords<'_>, WalError> {
        match self.scan() {
            (r, None) => Ok(r),
            (_, Some(d)) => Err(d.error),
        }
    }

    /// What salvage reads of a damaged WAL: every record before the first
    /// damage (a CRC break, a bad frame, a missing segment when opened with
    /// [`WalFiles::open_salvage`]), and where that damage is.
    pub(crate) fn records_until_damage(&self) -> (WalRecords<'_>, Option<Damage>) {
        self.scan()
    }

    fn scan(&self) -> (WalRecords<'_>, Option<Damage>) {
        let mut damage = None;
        let mut out = Vec::new();
        let mut crc = 0u32;
        let mut torn = None;
        let last = self.segments.len() - 1;
        let mut used = vec![0u64; self.segments.len()];
        'segments: for (si, seg) in self.segments.iter().enumerate() {
            if let Some((at, e)) = &self.gap {
                if si == *at {
                    damage = Some(Damage {
                        error: gap_error(e),
                        segment: si,
                        offset: None,
                    });
                    break;
                }
            }
            let bytes: &[u8] = match self.maps.get(si) {
                Some(Some(m)) => m,
                _ => &[],
            };
            let frame_err = |offset: u64, what: String| WalError::Frame {
                segment: seg.name.clone(),
                offset,
                what,
            };
            let mut off = 0usize;
            loop {
                if off + 8 > bytes.len() {
                    if off < bytes.len() && si != last {
                        {
                            damage = hit(
                                si,
                                off,
                                frame_err(off as u64, "a partial length field".into()),
                            );
                            break 'segments;
                        }
                    }
                    break;
                }
                let mut a = [0u8; 8];
                a.copy_from_slice(&bytes[off..off + 8]);
                let field = u64::from_le_bytes(a);
                if field == 0 {
                    break;
                }
                let (len, pad) = decode_frame_size(field);
                let start = off + 8;
                // A bad record in the last segment ends the log when etcd
                // would call it torn; elsewhere it is damage.
                let tail = |why: String, data: &[u8]| -> Option<Torn> {
                    if si == last && (data.is_empty() || is_torn(data, start as u64)) {
                        Some(Torn {
                            segment: seg.name.clone(),
                            offset: off as u64,
                            why,
                        })
                    } else {
                        None
                    }
                };
                if len + pad >= MAX_RECORD_SIZE {
                    {
                        damage = hit(si, off, frame_err(
                        off as u64,
                        format!("length field {field:#x}: a record of {len} bytes (etcd's limit is {MAX_RECORD_SIZE})"),
                    ));
                        break 'segments;
                    }
                }
                let end = start + len as usize;
                if end + pad as usize > bytes.len() {
                    let why = format!(
                        "a record of {len} bytes runs past the end of the file ({} bytes)",
                        bytes.len()
                    );
                    if si == last {
                        torn = Some(Torn {
                            segment: seg.name.clone(),
                            offset: off as u64,
                            why,
                        });
                        break;
                    }
                    {
                        damage = hit(si, off, frame_err(off as u64, why));
                        break 'segments;
                    }
                }
                let framed = &bytes[start..end + pad as usize];
                let rec = match parse_record(&bytes[start..end]) {
                    Ok(r) => r,
                    Err(what) => {
                        if let Some(t) = tail(format!("not a walpb.Record: {what}"), framed) {
                            torn = Some(t);
                            break;
                        }
                        {
                            damage = hit(
                                si,
                                off,
                                WalError::Record {
                                    segment: seg.name.clone(),
                                    offset: off as u64,
                                    source: what,
                                },
                            );
                            break 'segments;
                        }
                    }
                };
                let (typ, stored, data) = rec;
                if typ == CRC_TYPE {
                    // etcd: a crc record must hold the running CRC (unless
                    // nothing was read before it) and resets the chain.
                    if crc != 0 && stored != crc {
                        {
                            damage = hit(
                                si,
                                off,
                                WalError::Crc {
                                    segment: seg.name.clone(),
                                    offset: off as u64,
                                    stored,
                                    computed: crc,
                                },
                            );
                            break 'segments;
                        }
                    }
                    crc = stored;
                } else {
                    let next = crc32c::crc32c_append(crc, data);
                    if next != stored {
                        if let Some(t) = tail(
                            format!("CRC {stored:#010x} ≠ {next:#010x} in a torn write"),
                            framed,
                        ) {
                            torn = Some(t);
                            break;
                        }
                        {
                            damage = hit(
                                si,
                                off,
                                WalError::Crc {
                                    segment: seg.name.clone(),
                                    offset: off as u64,
                                    stored,
                                    computed: next,
                                },
                            );
                            break 'segments;
                        }
                    }
                    crc = next;
                }
                out.push(Record {
                    segment: si,
                    offset: off as u64,
                    typ,
                    crc: stored,
                    data,
                });
                off = end + pad as usize;
            }
            used[si] = off as u64;
        }
        (
            WalRecords {
                records: out,
                torn,
                crc,
                used,
            },
            damage,
        )
    }
}

fn hit(segment: usize, off: usize, error: WalError) -> Option<Damage> {
    Some(Damage {
        error,
        segment,
        offset: Some(off as u64),
    })
}

/// A copy of the gap error [`WalFiles::open_salvage`] kept.
fn gap_error(e: &WalError) -> WalError {
    match e {
        WalError::MissingSegment {
            dir,
            missing,
            before,
            after,
        } => WalError::MissingSegment {
            dir: dir.clone(),
            missing: missing.clone(),
            before: before.clone(),
            after: after.clone(),
        },
        other => WalError::Frame {
            segment: String::new(),
            offset: 0,
            what: other.to_string(),
        },
    }
}

/// walpb.Record{type=1, crc=2, data=3}, zero-copy.
fn parse_record(b: &[u8]) -> Result<(i64, u32, &[u8]), WireError> {
    let mut typ = 0i64;
    let mut crc = 0u32;
    let mut data: &[u8] = &[];
    for f in Fields::new(b) {
        let (n, v) = f?;
        match n {
            1 => typ = expect_varint(n, v)? as i64,
            2 => crc = expect_varint(n, v)? as u32,
            3 => data = expect_bytes(n, v)?,
            _ => {}
        }
    }
    Ok((typ, crc, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::raftpb;
    use crate::restore::wal::WalEncoder;
    use crate::wal::record::segment_name;

    /// A segment of `n` entries with 600-byte payloads (so records cross
    /// 512-byte sectors), as etcd frames them, zero-filled to 8 KiB.
    fn segment(n: u64, prev_crc: u32) -> (Vec<u8>, Vec<usize>, u32) {
        let mut w = WalEncoder::new(prev_crc);
        w.metadata(crate::restore::wal::metadata_bytes(1, 2));
        let mut offs = Vec::new();
        for i in 1..=n {
            offs.push(w.bytes().len());
            w.entry(&raftpb::Entry {
                r#type: Some(0),
                term: Some(1),
                index: Some(i),
                data: Some(vec![(i % 250) as u8 + 1; 600]),
            });
        }
        let crc = w.crc();
        let mut b = w.bytes().to_vec();
        b.resize(b.len() + 8192, 0);
        (b, offs, crc)
    }

    fn dir_with(segs: &[(u64, &[u8])]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (seq, b) in segs {
            std::fs::write(d.path().join(segment_name(*seq, 0)), b).unwrap();
        }
        d
    }

    #[test]
    fn reads_chain_across_segments() {
        let (a, _, crc) = segment(5, 0);
        let (b, _, _) = segment(3, crc);
        let d = dir_with(&[(0, &a), (1, &b)]);
        let f = WalFiles::open(d.path()).unwrap();
        let r = f.records().unwrap();
        // crc + metadata + 5 entries, crc + metadata + 3 entries.
        assert_eq!(r.records.len(), 7 + 5);
        assert!(r.torn.is_none());
    }

    #[test]
    fn torn_tail_is_dropped_in_the_last_segment_only() {
        let (mut a, offs, _) = segment(5, 0);
        let last = *offs.last().unwrap();
        // Zero the last record from its second sector on: a torn write
        // (its data starts 16 bytes into a sector, so 496 bytes in).
        assert_eq!((last + 8) % 512, 16);
        for b in &mut a[last + 8 + 496..last + 8 + 700] {
            *b = 0;
        }
        let d = dir_with(&[(0, &a)]);
        let f = WalFiles::open(d.path()).unwrap();
        let r = f.records().unwrap();
        assert_eq!(r.records.len(), 2 + 4);
        let t = r.torn.unwrap();
        assert_eq!(t.offset, last as u64);
        // The same damage before another segment is an error.
        let (b, _, _) = segment(1, 0);
        let d = dir_with(&[(0, &a), (1, &b)]);
        let e = WalFiles::open(d.path()).unwrap().records().err().unwrap();
        assert!(
            matches!(e, WalError::Crc { offset, .. } if offset == last as u64),
            "{e}"
        );
    }

    #[test]
    fn crc_break_mid_segment_names_segment_and_offset() {
        let (mut a, offs, _) = segment(5, 0);
        a[offs[2] + 30] ^= 0x40;
        let d = dir_with(&[(0, &a)]);
        let e = WalFiles::open(d.path()).unwrap().records().err().unwrap();
        let s = e.to_string();
        assert!(s.contains("0000000000000000-0000000000000000.wal"), "{s}");
        assert!(s.contains(&format!("offset {}", offs[2])), "{s}");
        // Salvage keeps what precedes the damage: crc, metadata, 2 entries.
        let f = WalFiles::open(d.path()).unwrap();
        let (r, e) = f.records_until_damage();
        assert_eq!(r.records.len(), 4);
        assert!(e.is_some());
    }

    #[test]
    fn cut_short_last_record_is_torn() {
        let (a, offs, _) = segment(5, 0);
        let cut = offs[4] + 100;
        let d = dir_with(&[(0, &a[..cut])]);
        let f = WalFiles::open(d.path()).unwrap();
        let r = f.records().unwrap();
        assert_eq!(r.records.len(), 2 + 4);
        assert_eq!(r.torn.unwrap().offset, offs[4] as u64);
    }

    #[test]
    fn salvage_reads_up_to_a_missing_segment() {
        let (a, _, crc) = segment(2, 0);
        let (c, _, _) = segment(1, crc);
        let d = dir_with(&[(0, &a), (2, &c)]);
        let f = WalFiles::open_salvage(d.path()).unwrap();
        let (r, dmg) = f.records_until_damage();
        assert_eq!(r.records.len(), 4);
        let dmg = dmg.unwrap();
        assert_eq!((dmg.segment, dmg.offset), (1, None));
        assert!(matches!(dmg.error, WalError::MissingSegment { .. }));
        let (_, log, loss) = crate::wal::salvage::read_until_damage(&f, 0);
        assert_eq!(log.last_index(), 2);
        let loss = loss.unwrap();
        assert_eq!(loss.lost_from_index, 3);
        // The segment after the gap holds entry 1 again (as built here).
        assert_eq!(loss.lost_to_index, Some(1));
        assert_eq!(loss.segments_not_read.len(), 1);
    }

    #[test]
    fn missing_segment_is_named() {
        let (a, _, _) = segment(1, 0);
        let d = dir_with(&[(0, &a), (2, &a)]);
        let e = WalFiles::open(d.path()).err().unwrap().to_string();
        assert!(e.contains("0000000000000001-*.wal is missing"), "{e}");
    }
}
