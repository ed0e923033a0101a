//! `--salvage`, as every reading command takes it: open the snapshot
//! tolerantly, gather the records with `etcdsnap::salvage`, print the loss
//! report on stderr, and turn "something may be lost" into exit 1. Without
//! it, a damaged tree's error suggests it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::anyhow;
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::{MvccError, Store};
use etcdsnap::salvage::Salvage;

/// `--salvage`.
#[derive(clap::Args, Clone, Copy, Default)]
pub struct SalvageArg {
    /// Read everything readable out of a damaged snapshot: the tree as far
    /// as it is intact plus the revisions on leaf pages it no longer
    /// reaches (and, for history and --rev, older revisions on free pages).
    /// A loss report goes to stderr; exit 1 when anything may be lost.
    #[arg(long)]
    pub salvage: bool,
}

const HINT: &str = "the snapshot is damaged: rerun with --salvage to read everything readable (and see what may be lost)";

/// Opens the snapshot; with `--salvage` even when no meta page is valid.
pub fn open(db: &Path, salvage: bool) -> anyhow::Result<Snapshot> {
    if salvage {
        return Ok(Snapshot::open_salvage(db)?);
    }
    Snapshot::open(db).map_err(|e| {
        let damaged = matches!(
            &e,
            etcdsnap::etcd::EtcdError::Bolt {
                source: etcdsnap::bolt::BoltError::NoValidMeta { .. },
                ..
            }
        );
        let e = anyhow::Error::from(e);
        if damaged {
            e.context(HINT)
        } else {
            e
        }
    })
}

/// Runs the salvage when asked and prints its report on stderr.
pub fn run<'a>(snap: &'a Snapshot, salvage: bool) -> Option<Salvage<'a>> {
    if !salvage {
        return None;
    }
    let s = Salvage::run(snap);
    for l in s.summary_lines() {
        eprintln!("etcdsnap: {l}");
    }
    Some(s)
}

/// The MVCC store: from the salvage when there is one (free-page records
/// only with `history`, as they are older revisions), else from the tree,
/// whose damage then names the page and suggests `--salvage`.
pub fn store<'a>(
    snap: &'a Snapshot,
    salvage: Option<&Salvage<'a>>,
    history: bool,
) -> anyhow::Result<Store<'a>> {
    match salvage {
        Some(s) => {
            let records = s.records(history);
            // Revisions before the compaction may be asked for when free
            // pages gave some back.
            let compacted = if history && s.report.records.free_page > 0 {
                None
            } else {
                s.meta.finished_compact_revision
            };
            Ok(Store::from_records(snap, records, compacted))
        }
        None => Store::open(snap).map_err(|e| match e {
            MvccError::Bolt { .. } | MvccError::BadRevision { .. } => anyhow!("{e}").context(HINT),
            e => e.into(),
        }),
    }
}

/// Set when a salvaged WAL replay reported entries that may be lost (the
/// commands' exit paths read it through [`exit`]; one process, one input
/// pair at most).
static WAL_MAY_BE_LOST: AtomicBool = AtomicBool::new(false);

/// The exit code: 1 instead of 0 when the salvage says something may be
/// lost (in the db or in a data dir's WAL).
pub fn exit(code: i32, salvage: Option<&Salvage<'_>>) -> i32 {
    match salvage {
        Some(s)
            if code == 0 && (s.report.may_be_lost || WAL_MAY_BE_LOST.load(Ordering::Relaxed)) =>
        {
            1
        }
        _ => code,
    }
}

/// The db's consistent index as salvage reads it: from the salvaged meta
/// bucket, else from the tree.
pub fn consistent_index(s: &Salvage<'_>, store: &Store<'_>) -> Option<u64> {
    s.meta.consistent_index.or_else(|| {
        let ci = etcdsnap::wal::open::consistent_index(store);
        (ci > 0).then_some(ci)
    })
}

/// With `--salvage`, a data dir's WAL (unless `--no-wal`): the entries
/// before any damage replayed over `store`, the loss past it reported on
/// stderr. Returns the replay and the loss report.
#[allow(clippy::type_complexity)]
pub fn replay_wal<'a>(
    input: &etcdsnap::input::Input,
    s: &Salvage<'_>,
    store: &mut Store<'a>,
    no_wal: bool,
    slot: &'a mut Option<etcdsnap::wal::WalFiles>,
) -> anyhow::Result<(
    Option<etcdsnap::wal::replay::ReplayReport>,
    Option<etcdsnap::wal::salvage::WalLoss>,
)> {
    let Some(dir) = etcdsnap::wal::open::wal_dir_of(input) else {
        return Ok((None, None));
    };
    if no_wal {
        eprintln!(
            "etcdsnap: --no-wal: reading the db alone, not the WAL in {}",
            dir.display()
        );
        return Ok((None, None));
    }
    let Some(ci) = consistent_index(s, store) else {
        eprintln!(
            "etcdsnap: salvage: the WAL in {} is not replayed: the db's consistent index cannot be read, so which entries the db holds is unknown",
            dir.display()
        );
        WAL_MAY_BE_LOST.store(true, Ordering::Relaxed);
        return Ok((None, None));
    };
    let db_rev = store.current.max(1);
    let r = etcdsnap::wal::open::replay_wal_salvage(store, &dir, ci, slot)?;
    super::print_replay(db_rev, &r.report, r.torn.as_ref());
    if let Some(l) = &r.loss {
        for line in l.summary_lines() {
            eprintln!("etcdsnap: {line}");
        }
        if l.may_be_lost {
            WAL_MAY_BE_LOST.store(true, Ordering::Relaxed);
        }
    }
    Ok((Some(r.report), r.loss))
}

/// The store every reading command uses: the salvaged records with
/// `--salvage` (and a data dir's WAL replayed up to any damage), else the tree with a data dir's WAL replayed on top (unless
/// `--no-wal`).
pub fn store_or_replay<'a>(
    input: &etcdsnap::input::Input,
    snap: &'a Snapshot,
    salvage: Option<&Salvage<'a>>,
    history: bool,
    no_wal: bool,
    wal: &'a mut Option<etcdsnap::wal::WalFiles>,
) -> anyhow::Result<Store<'a>> {
    match salvage {
        Some(s) => {
            let mut st = store(snap, salvage, history)?;
            replay_wal(input, s, &mut st, no_wal, wal)?;
            Ok(st)
        }
        None => super::open_store(input, snap, no_wal, wal),
    }
}
