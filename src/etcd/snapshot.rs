//! A snapshot file: the bbolt bytes, optionally followed by the SHA-256 of
//! those bytes that `etcdctl snapshot save` appends (docs/etcd.md, "trailer").

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{EtcdError, Result};
use crate::bolt::{Db, Storage};

pub const TRAILER_LEN: usize = 32;

/// The SHA-256 trailer of a saved snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub stored: [u8; 32],
}

/// An opened snapshot (or raw bbolt file).
pub struct Snapshot {
    pub path: PathBuf,
    pub db: Db,
    pub trailer: Option<Trailer>,
    pub file_len: u64,
}

impl Snapshot {
    /// Maps `path` and opens it. A trailer is assumed, as etcd does, when the
    /// file size is 32 more than a multiple of 512.
    pub fn open(path: &Path) -> Result<Snapshot> {
        let storage = Storage::map(path).map_err(|e| bolt(path, e))?;
        Snapshot::from_storage_at(path, storage)
    }

    /// Opens bytes already in memory (tests, fuzzing).
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Snapshot> {
        Snapshot::from_storage_at(Path::new(name), Storage::Owned(bytes))
    }

    /// Opens an already-mapped file.
    pub(crate) fn from_storage_at(path: &Path, storage: Storage) -> Result<Snapshot> {
        Snapshot::over(path, storage, Db::from_storage)
    }

    /// Splits off the trailer (when the size says there is one) and opens
    /// the bbolt bytes before it with `open_db`: the strict or the salvage
    /// reader.
    fn over(
        path: &Path,
        storage: Storage,
        open_db: fn(Storage, usize) -> crate::bolt::Result<Db>,
    ) -> Result<Snapshot> {
        let len = storage.bytes().len();
        let (bolt_len, trailer) = if has_trailer(len as u64) {
            let mut stored = [0u8; 32];
            stored.copy_from_slice(&storage.bytes()[len - TRAILER_LEN..]);
            (len - TRAILER_LEN, Some(Trailer { stored }))
        } else {
            (len, None)
        };
        let db = open_db(storage, bolt_len).map_err(|e| bolt(path, e))?;
        Ok(Snapshot {
            path: path.to_path_buf(),
            db,
            trailer,
            file_len: len as u64,
        })
    }

    /// Opens for salvage: as [`Snapshot::open`], but a file whose meta pages
    /// are all invalid still opens (see `Db::from_storage_salvage`).
    pub fn open_salvage(path: &Path) -> Result<Snapshot> {
        let storage = Storage::map(path).map_err(|e| bolt(path, e))?;
        Snapshot::from_storage_salvage_at(path, storage)
    }

    /// [`Snapshot::open_salvage`] over bytes in memory (tests, fuzzing).
    pub fn from_bytes_salvage(name: &str, bytes: Vec<u8>) -> Result<Snapshot> {
        Snapshot::from_storage_salvage_at(Path::new(name), Storage::Owned(bytes))
    }

    fn from_storage_salvage_at(path: &Path, storage: Storage) -> Result<Snapshot> {
        Snapshot::over(path, storage, Db::from_storage_salvage)
    }

    /// SHA-256 of the bbolt bytes (what the trailer should hold).
    pub(crate) fn compute_sha256(&self) -> [u8; 32] {
        sha256(self.db.data())
    }

    pub fn display(&self) -> String {
        self.path.display().to_string()
    }
}

/// etcd's rule: a snapshot carries a hash when `size % 512 == 32`.
pub(crate) fn has_trailer(len: u64) -> bool {
    len >= TRAILER_LEN as u64 && len % 512 == TRAILER_LEN as u64
}

/// SHA-256 in 4 MiB steps (keeps the hasher's working set in cache).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for chunk in data.chunks(4 << 20) {
        h.update(chunk);
    }
    h.finalize().into()
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bolt(path: &Path, source: crate::bolt::BoltError) -> EtcdError {
    EtcdError::Bolt {
        path: path.display().to_string(),
        source,
    }
}
