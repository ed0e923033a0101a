//! What a damaged WAL still gives: the records before the first damage (a
//! CRC break, a bad frame, an undecodable record, a missing segment), the
//! raft log they hold, and a loss report saying where the damage is and
//! which entries after it cannot be applied. A restarted etcd refuses such
//! a WAL; salvage applies the entries up to the last good one, as nothing
//! after a hole in the log can be applied in order.

use std::path::Path;

use serde::Serialize;

use super::log::{entry_index, Log};
use super::read::{Damage, WalError, WalFiles, WalRecords};
use super::record::{decode_frame_size, ENTRY_TYPE, MAX_RECORD_SIZE};

/// Where a WAL is damaged and what is lost past the damage.
#[derive(Debug, Clone, Serialize)]
pub struct WalLoss {
    pub wal_dir: String,
    /// The damage, as the error without `--salvage` states it.
    pub damage: String,
    /// The damaged segment, or the missing one's pattern.
    pub segment: String,
    /// The damaged record's offset (none for a missing segment).
    pub offset: Option<u64>,
    /// The db's consistent index: entries at or below it are in the db.
    pub consistent_index: u64,
    /// The last entry read before the damage (0: none).
    pub last_good_index: u64,
    /// The first entry index that is lost: nothing from here on is
    /// applied.
    pub lost_from_index: u64,
    /// The highest entry index the records past the damage show, when any
    /// can be read (they are not applied: the log has a hole before them).
    pub lost_to_index: Option<u64>,
    /// Entries past the damage that can be read but not applied.
    pub readable_after_damage: u64,
    /// Segments not read in order because of the damage (the damaged one
    /// and every later one, or the ones after the gap).
    pub segments_not_read: Vec<String>,
    /// False only when every entry past the damage is known to be at or
    /// below the consistent index (already in the db).
    pub may_be_lost: bool,
}

impl WalLoss {
    /// The report for stderr, one line each.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out = vec![format!("WAL salvage: {}", self.damage)];
        let upto = match self.lost_to_index {
            Some(t) if t >= self.lost_from_index => format!(
                " through at least index {t} ({} entr{} past the damage can be read but not applied after the hole)",
                self.readable_after_damage,
                if self.readable_after_damage == 1 { "y" } else { "ies" }
            ),
            _ => " (no readable entry past the damage shows how many)".to_string(),
        };
        out.push(format!(
            "WAL salvage: the state is the db (consistent index {}) plus the entries up to index {}; entries from index {} on are lost{upto}",
            self.consistent_index, self.last_good_index.max(self.consistent_index), self.lost_from_index
        ));
        if !self.segments_not_read.is_empty() {
            out.push(format!(
                "WAL salvage: segments not read past the damage: {}",
                self.segments_not_read.join(", ")
            ));
        }
        if !self.may_be_lost {
            out.push(format!(
                "WAL salvage: every entry past the damage is at or below the db's consistent index {}: nothing is lost",
                self.consistent_index
            ));
        }
        out
    }
}

/// The records and raft log before the damage, and the loss report (none
/// when the WAL is intact). Errors only when the dir cannot be listed or
/// mapped.
pub(crate) fn read_until_damage<'f>(
    files: &'f WalFiles,
    consistent_index: u64,
) -> (WalRecords<'f>, Log<'f>, Option<WalLoss>) {
    let (mut records, mut damage) = files.records_until_damage();
    let log = loop {
        match Log::decode(files, &records) {
            Ok(l) => break l,
            Err(e) => {
                // A record whose CRC holds but whose payload does not
                // decode: damage at that record.
                let pos = records
                    .records
                    .iter()
                    .position(|r| {
                        files.segments[r.segment].name == e.segment && r.offset == e.offset
                    })
                    .unwrap_or(0);
                let seg = records.records.get(pos).map(|r| r.segment).unwrap_or(0);
                records.records.truncate(pos);
                records.torn = None;
                damage = Some(Damage {
                    error: WalError::Frame {
                        segment: e.segment.clone(),
                        offset: e.offset,
                        what: format!("{} record: {}", e.what, e.source),
                    },
                    segment: seg,
                    offset: Some(e.offset),
                });
            }
        }
    };
    let loss = damage.map(|d| loss_of(files, &log, &d, consistent_index));
    (records, log, loss)
}

fn loss_of(files: &WalFiles, log: &Log<'_>, d: &Damage, ci: u64) -> WalLoss {
    let last_good = log.last_index();
    let (readable, max_after, complete) = entries_after(files, d);
    let segment = match &d.error {
        WalError::MissingSegment { missing, .. } => missing.clone(),
        _ => files
            .segments
            .get(d.segment)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    };
    let lost_from = last_good.max(ci) + 1;
    let may_be_lost = !(complete && max_after.is_some_and(|m| m <= ci));
    WalLoss {
        wal_dir: files.dir.display().to_string(),
        damage: d.error.to_string(),
        segment,
        offset: d.offset,
        consistent_index: ci,
        last_good_index: last_good,
        lost_from_index: lost_from,
        lost_to_index: max_after,
        readable_after_damage: readable,
        segments_not_read: files.segments[d.segment.min(files.segments.len())..]
            .iter()
            .map(|s| s.name.clone())
            .collect(),
        may_be_lost,
    }
}

/// A lenient look past the damage (no CRC check): how many entry records
/// can still be framed and decoded, the highest index among them, and
/// whether the look reached the end of every segment.
fn entries_after(files: &WalFiles, d: &Damage) -> (u64, Option<u64>, bool) {
    let mut count = 0u64;
    let mut max = None;
    let mut complete = true;
    for si in d.segment..files.segments.len() {
        let bytes = files.bytes(si);
        let mut off = if si == d.segment {
            d.offset.unwrap_or(0) as usize
        } else {
            0
        };
        // The damaged record itself is skipped by its length field.
        let mut skip = si == d.segment && d.offset.is_some();
        while off + 8 <= bytes.len() {
            let field = u64::from_le_bytes(bytes[off..off + 8].try_into().unwrap_or([0; 8]));
            if field == 0 {
                break;
            }
            let (len, pad) = decode_frame_size(field);
            let end = (off as u64 + 8).saturating_add(len).saturating_add(pad);
            if len + pad >= MAX_RECORD_SIZE || end > bytes.len() as u64 {
                complete = false;
                break;
            }
            if !skip {
                if let Some(idx) = record_entry_index(&bytes[off + 8..off + 8 + len as usize]) {
                    count += 1;
                    max = Some(max.map_or(idx, |m: u64| m.max(idx)));
                }
            }
            skip = false;
            off = end as usize;
        }
    }
    (count, max, complete)
}

/// The entry index of a framed `walpb.Record` of type entry.
fn record_entry_index(b: &[u8]) -> Option<u64> {
    use crate::wire::{expect_bytes, expect_varint, Fields};
    let mut typ = 0i64;
    let mut data: &[u8] = &[];
    for f in Fields::new(b) {
        let (n, v) = f.ok()?;
        match n {
            1 => typ = expect_varint(n, v).ok()? as i64,
            3 => data = expect_bytes(n, v).ok()?,
            _ => {}
        }
    }
    (typ == ENTRY_TYPE).then(|| entry_index(data)).flatten()
}

/// Opens the WAL in `dir` for salvage (a gap in the segment sequence is
/// damage, not an error).
pub(crate) fn open(dir: &Path) -> Result<WalFiles, WalError> {
    WalFiles::open_salvage(dir)
}
