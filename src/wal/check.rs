//! The WAL layer of `verify`, and the snapshot marks of the WAL matched
//! with the `member/snap/*.snap` files beside it.

use std::path::Path;

use serde::Serialize;

use super::log::Log;
use super::read::WalFiles;
use super::replay::pending;
use crate::verify::{Layer, Verdict};

/// A `<term>-<index>.snap` file of `member/snap`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SnapFile {
    pub name: String,
    pub term: u64,
    pub index: u64,
}

/// The `.snap` files in `snap_dir`, oldest first.
pub fn snap_files(snap_dir: &Path) -> Vec<SnapFile> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(snap_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".snap") else {
                continue;
            };
            let Some((t, i)) = stem.split_once('-') else {
                continue;
            };
            if let (Ok(term), Ok(index)) = (u64::from_str_radix(t, 16), u64::from_str_radix(i, 16))
            {
                out.push(SnapFile { name, term, index });
            }
        }
    }
    out.sort_by_key(|s| (s.index, s.term));
    out
}

/// How each snapshot mark of the log stands against the `.snap` files:
/// (index, term, the matching file name or None).
pub fn match_snaps(log: &Log<'_>, snaps: &[SnapFile]) -> Vec<(u64, u64, Option<String>)> {
    log.snapshots
        .iter()
        .map(|m| {
            let f = snaps
                .iter()
                .find(|s| s.index == m.index && s.term == m.term)
                .map(|s| s.name.clone());
            (m.index, m.term, f)
        })
        .collect()
}

/// The `wal` layer of `verify` for the WAL in `wal_dir` beside a db whose
/// consistent index is `ci`: the segment sequence, every record's CRC
/// chain, the torn tail etcd would drop, entries decoded, snapshot marks
/// matched with `snap_dir`.
pub(crate) fn wal_layer(wal_dir: &Path, snap_dir: &Path, ci: u64) -> Layer {
    let layer = |verdict, summary: String, problems: Vec<String>| Layer {
        name: "wal",
        verdict,
        summary,
        problem_count: problems.len(),
        problems,
    };
    let files = match WalFiles::open(wal_dir) {
        Ok(f) => f,
        Err(e) => {
            return layer(
                Verdict::Damaged,
                "the WAL cannot be read".into(),
                vec![e.to_string()],
            )
        }
    };
    let records = match files.records() {
        Ok(r) => r,
        Err(e) => {
            return layer(
                Verdict::Damaged,
                format!(
                    "{} segment(s); the CRC chain or a frame is broken",
                    files.segments.len()
                ),
                vec![e.to_string()],
            )
        }
    };
    let log = match Log::decode(&files, &records) {
        Ok(l) => l,
        Err(e) => {
            return layer(
                Verdict::Damaged,
                "a record does not decode".into(),
                vec![e.to_string()],
            )
        }
    };
    let mut problems = Vec::new();
    let mut undecodable = 0usize;
    for e in &log.entries {
        if let Err(why) = super::request::decode(e) {
            undecodable += 1;
            if problems.len() < 20 {
                problems.push(format!(
                    "{}: {why} (term {})",
                    files.segments[e.segment].name, e.term
                ));
            }
        }
    }
    let snaps = snap_files(snap_dir);
    let marks = match_snaps(&log, &snaps);
    let matched = marks.iter().filter(|m| m.2.is_some()).count();
    let first = log.entries.first().map(|e| e.index).unwrap_or(0);
    if ci + 1 < first {
        problems.push(format!(
            "the WAL starts at entry {first} but the db's consistent index is {ci}: entries {}..{} are in neither",
            ci + 1,
            first - 1
        ));
    }
    let todo = pending(&log, ci).len();
    let mut summary = format!(
        "{} segment(s), {} records, CRC chain intact; {} entries ({}..{}), {} above the db's consistent index {ci}; {} snapshot mark(s), {matched} with a .snap file",
        files.segments.len(),
        records.records.len(),
        log.entries.len(),
        first,
        log.last_index(),
        todo,
        marks.len(),
    );
    if let Some(t) = &log.torn {
        summary.push_str(&format!(
            "; torn last record in {} at offset {} (etcd drops it on restart)",
            t.segment, t.offset
        ));
    }
    if undecodable > 0 {
        summary.push_str(&format!("; {undecodable} entries do not decode"));
    }
    let verdict = if problems.is_empty() {
        Verdict::Ok
    } else {
        Verdict::Damaged
    };
    layer(verdict, summary, problems)
}
