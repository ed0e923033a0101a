//! A data dir as a restarted etcd serves it: where its WAL is, and the
//! replay of that WAL over the db's [`Store`].

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::log::{Log, LogError};
use super::read::{WalError, WalFiles};
use super::replay::{replay, Overlay, ReplayReport};
use crate::etcd::meta::MetaInfo;
use crate::etcd::schema::META_BUCKET;
use crate::input::{Input, InputKind};
use crate::mvcc::Store;

#[derive(Debug, Error)]
pub enum OpenError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error(transparent)]
    Log(#[from] LogError),
}

/// The WAL dir of a data-dir input (`member/wal` beside `member/snap`),
/// when it holds at least one segment.
pub fn wal_dir_of(input: &Input) -> Option<PathBuf> {
    if input.kind != InputKind::DataDir {
        return None;
    }
    let snap_dir = input.db.parent()?;
    let dir = snap_dir.parent()?.join("wal");
    // An empty (or absent) WAL dir leaves the db alone to read.
    let has_segment = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .any(|e| super::record::parse_segment_name(&e.file_name().to_string_lossy()).is_some());
    has_segment.then_some(dir)
}

/// The db's consistent index (0 when the meta bucket has none).
pub fn consistent_index(store: &Store<'_>) -> u64 {
    let db = &store.snapshot().db;
    let mut meta = MetaInfo::default();
    if let Ok(mb) = db.bucket(META_BUCKET) {
        let _ = db.for_each(&mb, |e| {
            let _ = meta.apply(e.key, e.value);
            Ok(())
        });
    }
    meta.consistent_index.unwrap_or(0)
}

/// Whether the WAL in `dir` holds entries above the consistent index of
/// `snap`'s meta bucket (what a replay would apply); true when either
/// cannot be read, so that the full path reports why.
pub fn has_pending(snap: &crate::etcd::Snapshot, dir: &Path) -> bool {
    let db = &snap.db;
    let mut meta = MetaInfo::default();
    if let Ok(mb) = db.bucket(META_BUCKET) {
        let _ = db.for_each(&mb, |e| {
            let _ = meta.apply(e.key, e.value);
            Ok(())
        });
    }
    let ci = meta.consistent_index.unwrap_or(0);
    let Ok(files) = WalFiles::open(dir) else {
        return true;
    };
    let Ok(records) = files.records() else {
        return true;
    };
    match Log::decode(&files, &records) {
        Ok(log) => log.last_index() > ci,
        Err(_) => true,
    }
}

/// Reads the WAL in `dir`, replays the entries above the db's consistent
/// index, and lays the result over `store`. The replayed revisions borrow
/// the mapped segments, which `slot` keeps as long as the store. Returns
/// what the replay did and the torn tail, if any, as etcd would drop it.
pub fn replay_wal<'a>(
    store: &mut Store<'a>,
    dir: &Path,
    slot: &'a mut Option<WalFiles>,
) -> Result<(ReplayReport, Option<super::read::Torn>), OpenError> {
    let files: &'a WalFiles = slot.insert(WalFiles::open(dir)?);
    let records = files.records()?;
    let log = Log::decode(files, &records)?;
    let ci = consistent_index(store);
    let ov = replay(store, &log, ci);
    Ok((apply(store, ov), log.torn.clone()))
}

/// Hands the replayed revisions to the store; the report remains.
fn apply<'a>(store: &mut Store<'a>, ov: Overlay<'a>) -> ReplayReport {
    let Overlay { records, report } = ov;
    store.apply_overlay(records, report.revision, report.compacted);
    report
}

/// What [`replay_wal_salvage`] did: the replay laid over the store, the
/// torn tail etcd would drop, and the loss past a damage, if any.
pub struct SalvagedReplay {
    pub report: ReplayReport,
    pub torn: Option<super::read::Torn>,
    pub loss: Option<super::salvage::WalLoss>,
}

/// [`replay_wal`] for `--salvage`: a damaged WAL (CRC break, bad frame,
/// missing segment) replays the entries before the damage and reports the
/// rest lost. `consistent_index` is the db's (the caller knows it from the
/// tree or from the salvaged meta bucket).
pub fn replay_wal_salvage<'a>(
    store: &mut Store<'a>,
    dir: &Path,
    consistent_index: u64,
    slot: &'a mut Option<WalFiles>,
) -> Result<SalvagedReplay, OpenError> {
    let files: &'a WalFiles = slot.insert(super::salvage::open(dir)?);
    let (_records, log, loss) = super::salvage::read_until_damage(files, consistent_index);
    let ov = replay(store, &log, consistent_index);
    Ok(SalvagedReplay {
        report: apply(store, ov),
        torn: log.torn.clone(),
        loss,
    })
}
