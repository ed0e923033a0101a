//! The raft log a WAL holds: metadata, entries (a later entry at an index
//! already seen replaces it and every entry after it, as a new leader's
//! log does), the last hard state and the snapshot marks.

use serde::Serialize;

use super::read::{Record, WalFiles, WalRecords};
use super::record::{ENTRY_TYPE, METADATA_TYPE, SNAPSHOT_TYPE, STATE_TYPE};
use crate::wire::{expect_bytes, expect_varint, Fields, WireError};

pub(crate) const ENTRY_NORMAL: u64 = 0;
pub(crate) const ENTRY_CONF_CHANGE: u64 = 1;
pub(crate) const ENTRY_CONF_CHANGE_V2: u64 = 2;

/// One raft entry, its data borrowing the segment.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub index: u64,
    pub term: u64,
    pub typ: u64,
    pub data: &'a [u8],
    pub segment: usize,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct HardState {
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
}

/// A snapshot mark (`walpb.Snapshot`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SnapMark {
    pub index: u64,
    pub term: u64,
    #[serde(skip)]
    pub segment: usize,
    pub offset: u64,
}

/// The decoded log.
pub struct Log<'a> {
    /// The torn last record etcd would drop, if any.
    pub torn: Option<super::read::Torn>,
    /// `etcdserverpb.Metadata` of the first metadata record: node and
    /// cluster id.
    pub node_id: Option<u64>,
    pub cluster_id: Option<u64>,
    pub entries: Vec<Entry<'a>>,
    /// Entries replaced by a later entry at the same index.
    pub overwritten: usize,
    pub hard_state: Option<HardState>,
    pub snapshots: Vec<SnapMark>,
    /// Records of a type etcd does not write.
    pub unknown: usize,
}

/// A record whose payload does not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{segment} at offset {offset}: {what} record: {source}")]
pub struct LogError {
    pub segment: String,
    pub offset: u64,
    pub what: &'static str,
    #[source]
    pub source: WireError,
}

impl<'a> Log<'a> {
    pub fn decode(files: &WalFiles, records: &WalRecords<'a>) -> Result<Log<'a>, LogError> {
        let mut log = Log {
            torn: records.torn.clone(),
            node_id: None,
            cluster_id: None,
            entries: Vec::with_capacity(records.records.len()),
            overwritten: 0,
            hard_state: None,
            snapshots: Vec::new(),
            unknown: 0,
        };
        let err = |r: &Record<'_>, what, source: WireError| LogError {
            segment: files.segments[r.segment].name.clone(),
            offset: r.offset,
            what,
            source,
        };
        for r in &records.records {
            match r.typ {
                METADATA_TYPE => {
                    if log.node_id.is_none() {
                        let f = uints(r.data, 3).map_err(|e| err(r, "metadata", e))?;
                        log.node_id = Some(f[1]);
                        log.cluster_id = Some(f[2]);
                    }
                }
                ENTRY_TYPE => {
                    let e = entry(r).map_err(|e| err(r, "entry", e))?;
                    if let Some(pos) = log.entries.iter().rposition(|x| x.index < e.index) {
                        let cut = pos + 1;
                        log.overwritten += log.entries.len() - cut;
                        log.entries.truncate(cut);
                    } else if log.entries.first().is_some_and(|x| x.index >= e.index) {
                        log.overwritten += log.entries.len();
                        log.entries.clear();
                    }
                    log.entries.push(e);
                }
                STATE_TYPE => {
                    let f = uints(r.data, 3).map_err(|e| err(r, "hardstate", e))?;
                    // An empty hard state record is written on cut; keep the
                    // last non-empty one, as raft does.
                    if f[1] != 0 || f[2] != 0 || f[3] != 0 {
                        log.hard_state = Some(HardState {
                            term: f[1],
                            vote: f[2],
                            commit: f[3],
                        });
                    }
                }
                SNAPSHOT_TYPE => {
                    // Field 3 is the ConfState (3.5), not a number.
                    let f = uints(r.data, 2).map_err(|e| err(r, "snapshot", e))?;
                    log.snapshots.push(SnapMark {
                        index: f[1],
                        term: f[2],
                        segment: r.segment,
                        offset: r.offset,
                    });
                }
                super::record::CRC_TYPE => {}
                _ => log.unknown += 1,
            }
        }
        Ok(log)
    }

    /// The last entry's index (0 when there is none).
    pub fn last_index(&self) -> u64 {
        self.entries.last().map(|e| e.index).unwrap_or(0)
    }
}

/// The varint fields 1..=`upto` (at most 3) of a message (metadata, hard
/// state, snapshot mark); others are skipped.
fn uints(b: &[u8], upto: u32) -> Result<[u64; 4], WireError> {
    let mut out = [0u64; 4];
    for f in Fields::new(b) {
        let (n, v) = f?;
        if (1..=upto.min(3)).contains(&n) {
            out[n as usize] = expect_varint(n, v)?;
        }
    }
    Ok(out)
}

/// The index of a `walpb.Record`'s entry data, if it decodes (salvage
/// reads the entries past a damage for their indexes alone).
pub fn entry_index(data: &[u8]) -> Option<u64> {
    let mut index = None;
    for f in Fields::new(data) {
        let (n, v) = f.ok()?;
        if n == 3 {
            index = Some(expect_varint(n, v).ok()?);
        }
    }
    index
}

/// raftpb.Entry{Type=1, Term=2, Index=3, Data=4}, zero-copy.
fn entry<'a>(r: &Record<'a>) -> Result<Entry<'a>, WireError> {
    let mut e = Entry {
        index: 0,
        term: 0,
        typ: 0,
        data: &[],
        segment: r.segment,
        offset: r.offset,
    };
    for f in Fields::new(r.data) {
        let (n, v) = f?;
        match n {
            1 => e.typ = expect_varint(n, v)?,
            2 => e.term = expect_varint(n, v)?,
            3 => e.index = expect_varint(n, v)?,
            4 => e.data = expect_bytes(n, v)?,
            _ => {}
        }
    }
    Ok(e)
}
