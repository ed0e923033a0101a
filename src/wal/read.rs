//! Reading a WAL directory as etcd does when it starts: segments in
//! sequence order, every frame decoded, the CRC chain checked across
//! segments, and a torn last record (a crash mid-write) dropped as etcd's
//! `wal.Repair` drops it. Record data borrows the mapped segments.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use serde::Serialize;
use thiserror::Error;

use super::record::{decode_frame_size, is_torn, parse_segment_name, CRC_TYPE, MAX_RECORD_SIZE};
use crate::wire::{expect_bytes, expect_varint, Fields};

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
        for w in segments.windows(2) {
            if w[1].seq != w[0].seq + 1 {
                return Err(WalError::MissingSegment {
                    dir: dir.display().to_string(),
                    missing: format!("{:016x}-*.wal", w[0].seq + 1),
                    before: w[0].name.clone(),
                    after: w[1].name.clone(),
                });
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
            let m = unsafe { Mmap::map(&f) }.map_err(|e| io(&s.path, e))?;
            maps.push(Some(m));
        }
        Ok(WalFiles {
            dir: dir.to_path_buf(),
            segments,
            maps,
        })
    }

    pub fn bytes(&self, seg: usize) -> &[u8] {
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
        let mut out = Vec::new();
        let mut crc = 0u32;
        let mut torn = None;
        let last = self.segments.len() - 1;
        let mut used = vec![0u64; self.segments.len()];
        for (si, seg) in self.segments.iter().enumerate() {
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
                        return Err(frame_err(off as u64, "a partial length field".into()));
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
                    return Err(frame_err(
                        off as u64,
                        format!("length field {field:#x}: a record of {len} bytes (etcd's limit is {MAX_RECORD_SIZE})"),
                    ));
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
                    return Err(frame_err(off as u64, why));
                }
                let framed = &bytes[start..end + pad as usize];
                let rec = match parse_record(&bytes[start..end]) {
                    Ok(r) => r,
                    Err(what) => {
                        if let Some(t) = tail(format!("not a walpb.Record: {what}"), framed) {
                            torn = Some(t);
                            break;
                        }
                        return Err(frame_err(off as u64, format!("not a walpb.Record: {what}")));
                    }
                };
                let (typ, stored, data) = rec;
                if typ == CRC_TYPE {
                    // etcd: a crc record must hold the running CRC (unless
                    // nothing was read before it) and resets the chain.
                    if crc != 0 && stored != crc {
                        return Err(WalError::Crc {
                            segment: seg.name.clone(),
                            offset: off as u64,
                            stored,
                            computed: crc,
                        });
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
                        return Err(WalError::Crc {
                            segment: seg.name.clone(),
                            offset: off as u64,
                            stored,
                            computed: next,
                        });
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
        Ok(WalRecords {
            records: out,
            torn,
            crc,
            used,
        })
    }
}

/// walpb.Record{type=1, crc=2, data=3}, zero-copy.
fn parse_record(b: &[u8]) -> Result<(i64, u32, &[u8]), String> {
    let mut typ = 0i64;
    let mut crc = 0u32;
    let mut data: &[u8] = &[];
    for f in Fields::new(b) {
        let (n, v) = f.map_err(|e| e.to_string())?;
        match n {
            1 => typ = expect_varint(n, v).map_err(|e| e.to_string())? as i64,
            2 => crc = expect_varint(n, v).map_err(|e| e.to_string())? as u32,
            3 => data = expect_bytes(n, v).map_err(|e| e.to_string())?,
            _ => {}
        }
    }
    Ok((typ, crc, data))
}
