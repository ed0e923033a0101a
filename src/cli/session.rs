//! Opening INPUT for a command: the library [`Session`] over the store the
//! command's flags ask for (the tree, or the salvaged records with
//! `--salvage`, and a data dir's WAL replayed unless `--no-wal`), with its
//! notes printed on stderr. One place for resolve → open → store → key
//! ring, instead of each command repeating it.
//!
//! A command runs once per process: the mapped snapshot and a replayed
//! WAL are leaked so the session can borrow them for `'static`.

use std::path::{Path, PathBuf};

use etcdsnap::etcd::Snapshot;
use etcdsnap::input::Input;
use etcdsnap::salvage::Salvage;
use etcdsnap::session::Session;

/// Which store a command reads.
#[derive(Clone, Copy)]
pub(crate) enum Read {
    /// The tree as it is: no salvage, no WAL replay.
    Tree,
    /// The tree with a data dir's WAL replayed on top (unless `no_wal`),
    /// for commands that take no `--salvage`.
    Wal { no_wal: bool },
    /// The store every reading command uses (see
    /// [`super::salvage::store_or_replay`]).
    Replayed {
        salvage: bool,
        /// With `salvage`, older revisions from free pages too.
        history: bool,
        no_wal: bool,
    },
}

/// An opened session and, with `--salvage`, what the salvage found.
pub(crate) struct Opened {
    pub session: Session<'static>,
    pub salvage: Option<Salvage<'static>>,
}

/// Resolves `path` (printing which file is read), then [`open_input`].
pub(crate) fn open(path: &Path, keys: &[PathBuf], read: Read) -> anyhow::Result<Opened> {
    let input = super::resolve(path)?;
    open_input(input, keys, read)
}

/// Opens a resolved input (whose notes [`super::resolve`] printed): the
/// snapshot, the store `read` asks for, and the key ring from `keys` and
/// the paired tarball (unless `--no-pair`), printing the session's notes.
pub(crate) fn open_input(mut input: Input, keys: &[PathBuf], read: Read) -> anyhow::Result<Opened> {
    // Printed by resolve (as --no-pair and -q want them); not again.
    input.notes.clear();
    let (store, salvage) = match read {
        Read::Tree => {
            let snap: &'static Snapshot = Box::leak(Box::new(Snapshot::open(&input.db)?));
            (etcdsnap::mvcc::Store::open(snap)?, None)
        }
        Read::Wal { no_wal } => {
            let snap: &'static Snapshot = Box::leak(Box::new(Snapshot::open(&input.db)?));
            let wal = Box::leak(Box::new(None));
            (super::open_store(&input, snap, no_wal, wal)?, None)
        }
        Read::Replayed {
            salvage,
            history,
            no_wal,
        } => {
            let snap: &'static Snapshot =
                Box::leak(Box::new(super::salvage::open(&input.db, salvage)?));
            let sv = super::salvage::run(snap, salvage);
            let wal = Box::leak(Box::new(None));
            let store =
                super::salvage::store_or_replay(&input, snap, sv.as_ref(), history, no_wal, wal)?;
            (store, sv)
        }
    };
    let session = Session::with_store(input, store, keys, super::pair())?;
    super::print_notes(&session.notes);
    Ok(Opened { session, salvage })
}
