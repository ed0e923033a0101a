//! A library session: what INPUT names, resolved, opened and read in one
//! call — input resolution → snapshot → MVCC store → key ring — with the
//! notes a user should see (which file was chosen, which keys were loaded,
//! which key Secrets could not be read) returned as values, never printed.
//!
//! The CLI prints the notes; a server logs them or shows them on a page.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::crypt::{CryptError, KeyRing};
use crate::etcd::{EtcdError, Snapshot};
use crate::input::{Input, InputError};
use crate::mvcc::{MvccError, Store};

#[derive(Debug, Error)]
pub enum SessionError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    #[error(transparent)]
    Mvcc(#[from] MvccError),
    #[error("--keys {path}: {source}")]
    Keys {
        path: String,
        #[source]
        source: Box<CryptError>,
    },
}

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Which file of INPUT is read.
    Input,
    /// A key source loaded.
    Keys,
    /// Something the user should look at (a key source that could not be
    /// read, a tarball paired by a different timestamp).
    Warning,
}

/// One thing to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: NoteKind,
    pub text: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            NoteKind::Input => f.write_str(&self.text),
            NoteKind::Keys => write!(f, "keys: {}", self.text),
            NoteKind::Warning => write!(f, "warning: {}", self.text),
        }
    }
}

/// Resolves INPUT and maps the snapshot it names.
pub fn open_snapshot(path: &Path) -> Result<(Input, Snapshot), SessionError> {
    let input = crate::input::resolve(path)?;
    let snap = Snapshot::open(&input.db)?;
    Ok((input, snap))
}

/// An opened snapshot with its revisions read and its key ring built.
pub struct Session<'a> {
    pub input: Input,
    pub store: Store<'a>,
    /// `None` when no key source was given or found.
    pub keys: Option<KeyRing>,
    pub notes: Vec<Note>,
}

impl<'a> Session<'a> {
    /// Reads the revisions of `snap` and builds the key ring from `keys`
    /// and the tarball paired with a backup dir (see [`load_keys`]), then
    /// loads the key Secrets found inside the snapshot.
    pub fn open(input: Input, snap: &'a Snapshot, keys: &[PathBuf]) -> Result<Self, SessionError> {
        let store = Store::open(snap)?;
        Self::with_store(input, store, keys, true)
    }

    /// As [`Session::open`], over revisions read some other way (salvage,
    /// a replayed WAL); `pair` = false leaves a backup dir's tarball out.
    pub fn with_store(
        input: Input,
        store: Store<'a>,
        keys: &[PathBuf],
        pair: bool,
    ) -> Result<Self, SessionError> {
        let mut notes: Vec<Note> = input
            .notes
            .iter()
            .map(|n| Note {
                kind: if n.starts_with("warning: ") {
                    NoteKind::Warning
                } else {
                    NoteKind::Input
                },
                text: n.strip_prefix("warning: ").unwrap_or(n).to_string(),
            })
            .collect();
        let keys = load_keys(&input, keys, &store, pair, &mut notes)?;
        Ok(Session {
            input,
            store,
            keys,
            notes,
        })
    }

    pub fn snapshot(&self) -> &Snapshot {
        self.store.snapshot()
    }
}

impl Session<'static> {
    /// One call from a path: resolve, open, read, load keys. The mapped
    /// snapshot lives as long as the process (it is leaked), which is what
    /// a server or a one-shot command wants; use [`open_snapshot`] and
    /// [`Session::open`] to control its lifetime.
    pub fn open_path(path: &Path, keys: &[PathBuf]) -> Result<Session<'static>, SessionError> {
        let (input, snap) = open_snapshot(path)?;
        let snap: &'static Snapshot = Box::leak(Box::new(snap));
        Session::open(input, snap, keys)
    }
}

/// Builds the key ring from `keys` and, when `pair` (and it is not among
/// `keys` already), the tarball paired with a backup dir; then the key
/// Secrets inside the snapshot. `--keys` add to the paired tarball; only
/// `--no-pair` leaves it out. `None` when no key source was given or found.
pub fn load_keys(
    input: &Input,
    keys: &[PathBuf],
    store: &Store<'_>,
    pair: bool,
    notes: &mut Vec<Note>,
) -> Result<Option<KeyRing>, SessionError> {
    let note = |kind, text: String| Note { kind, text };
    let mut ring = KeyRing::new();
    let mut any = false;
    for k in keys {
        let loaded = ring.load_path(k).map_err(|e| SessionError::Keys {
            path: k.display().to_string(),
            source: Box::new(e),
        })?;
        notes.extend(loaded.into_iter().map(|n| note(NoteKind::Keys, n)));
        any = true;
    }
    // Already among `keys` (the tarball itself, or the backup dir).
    let given = |t: &PathBuf| keys.iter().any(|k| k == t || *k == input.given);
    if let Some(t) = input.tarball.as_ref().filter(|t| pair && !given(t)) {
        match ring.load_tarball(t) {
            Ok(revs) => {
                notes.push(note(
                    NoteKind::Keys,
                    format!(
                        "{} (encryption-config of kube-apiserver revisions {:?})",
                        t.display(),
                        revs
                    ),
                ));
                any = true;
            }
            Err(e) => notes.push(note(NoteKind::Keys, e.to_string())),
        }
    }
    if !any {
        return Ok(None);
    }
    let second = ring.load_from_store(store);
    for a in second.added {
        notes.push(note(NoteKind::Keys, format!("from the snapshot: {a}")));
    }
    for p in second.problems {
        notes.push(note(NoteKind::Warning, format!("keys: {p}")));
    }
    Ok(Some(ring))
}

/// The snapshot's time (Unix seconds): the timestamp in an OpenShift
/// backup's file name (`snapshot_2026-11-21_101500.db`), else the file's
/// modification time.
pub fn snapshot_time(db: &Path) -> Option<i64> {
    let name = db.file_name()?.to_str()?;
    if let Some(t) = crate::input::name_time(name) {
        if let Some((s, _)) = crate::kube::timefmt::parse_rfc3339(&format!("{t}Z")) {
            return Some(s);
        }
    }
    let m = std::fs::metadata(db).ok()?.modified().ok()?;
    m.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn backup_dir_pairs_tarball_and_loads_snapshot_keys() {
        let s = Session::open_path(&repo().join("fixtures/encrypted"), &[]).unwrap();
        assert!(s.keys.is_some());
        assert!(s.store.current > 0);
        let text: Vec<String> = s.notes.iter().map(|n| n.to_string()).collect();
        assert!(
            text.iter().any(|n| n.starts_with("backup dir: using")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|n| n.starts_with("keys: from the snapshot:")),
            "{text:?}"
        );
    }

    #[test]
    fn no_keys_no_ring_and_bad_keys_name_the_path() {
        let s = Session::open_path(&repo().join("fixtures/etcd-3.5/small.db"), &[]).unwrap();
        assert!(s.keys.is_none());
        assert!(s.notes.is_empty());
        let bad = repo().join("Cargo.toml");
        let e = Session::open_path(&repo().join("fixtures/etcd-3.5/small.db"), &[bad])
            .err()
            .unwrap();
        assert!(e.to_string().contains("Cargo.toml"), "{e}");
    }
}
