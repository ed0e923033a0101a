//! Resolving what the user named as INPUT: a `snapshot_*.db` file, a raw
//! bbolt file, an etcd data dir, or an OpenShift backup dir holding
//! `snapshot_<ts>.db` and `static_kuberesources_<ts>.tar.gz`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: a directory, but neither an etcd data dir (member/snap/db) nor a backup dir (snapshot_*.db)")]
    UnknownDir { path: String },
    #[error("{path}: neither a file nor a directory")]
    NotAFile { path: String },
    #[error(transparent)]
    Unpack(#[from] crate::unpack::UnpackError),
    #[error("{path}: no usable snapshot_*.db: {why}")]
    NoUsableSnapshot { path: String, why: String },
}

/// What kind of thing INPUT named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// A single file (snapshot with trailer or raw bbolt; the snapshot layer
    /// tells which).
    File,
    /// An etcd data dir: the db is `member/snap/db`.
    DataDir,
    /// An OpenShift backup dir.
    BackupDir,
}

/// The resolved input.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    /// What the user typed.
    pub given: PathBuf,
    pub kind: InputKind,
    /// The bbolt file to open.
    pub db: PathBuf,
    /// The `static_kuberesources_*.tar.gz` paired with the snapshot, if any.
    pub tarball: Option<PathBuf>,
    /// What was chosen and why, for the user.
    pub notes: Vec<String>,
    /// For a compressed or archived INPUT: the private temp dir it was
    /// unpacked into, removed when the last clone is dropped.
    #[serde(skip)]
    pub unpacked: Option<std::sync::Arc<crate::unpack::TempArea>>,
    /// Snapshots of a backup dir newer than the one chosen that could not
    /// be used, each with why (a verdict must not pass over them quietly).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unusable: Vec<String>,
}

pub fn resolve(path: &Path) -> Result<Input, InputError> {
    let md = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if md.is_file() {
        // gzip, zstd, zip, tar: told by magic bytes, unpacked to a temp dir.
        if let Some(u) = crate::unpack::unpack_if_packed(path)? {
            let mut i = resolve(&u.path)?;
            i.given = path.to_path_buf();
            i.notes.insert(0, u.note);
            i.unpacked = Some(std::sync::Arc::new(u.area));
            return Ok(i);
        }
        return Ok(Input {
            given: path.to_path_buf(),
            kind: InputKind::File,
            db: path.to_path_buf(),
            tarball: None,
            notes: Vec::new(),
            unpacked: None,
            unusable: Vec::new(),
        });
    }
    if !md.is_dir() {
        return Err(InputError::NotAFile {
            path: path.display().to_string(),
        });
    }
    for rel in ["member/snap/db", "snap/db"] {
        let db = path.join(rel);
        if db.is_file() {
            return Ok(Input {
                given: path.to_path_buf(),
                kind: InputKind::DataDir,
                notes: vec![format!("etcd data dir: reading {}", db.display())],
                db,
                tarball: None,
                unpacked: None,
                unusable: Vec::new(),
            });
        }
    }
    let mut snapshots = Vec::new();
    let mut tarballs = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
        let entry = entry.map_err(|e| io(path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(ts) = strip(&name, "snapshot_", ".db") {
            // Every snapshot name counts, usable or not: the newest one
            // being unusable must be said, not skipped.
            snapshots.push((ts, entry.path()));
            continue;
        }
        if !entry.path().is_file() {
            continue;
        }
        if let Some(ts) = strip(&name, "static_kuberesources_", ".tar.gz") {
            tarballs.push((ts, entry.path()));
        }
    }
    if snapshots.is_empty() {
        return Err(InputError::UnknownDir {
            path: path.display().to_string(),
        });
    }
    // Timestamps are YYYY-MM-DD_HHMMSS: they sort as text.
    snapshots.sort();
    tarballs.sort();
    let total = snapshots.len();
    let mut unusable = Vec::new();
    let mut notes = Vec::new();
    let (ts, db) = loop {
        let Some((ts, p)) = snapshots.pop() else {
            return Err(InputError::NoUsableSnapshot {
                path: path.display().to_string(),
                why: unusable.join("; "),
            });
        };
        match unusable_why(&p) {
            None => break (ts, p),
            Some(why) => {
                let u = format!("{} is unusable: {why}", file_name(&p));
                notes.push(format!("warning: {u}"));
                unusable.push(u);
            }
        }
    };
    notes.insert(
        0,
        format!(
            "backup dir: using {} ({} of {total} snapshot{})",
            file_name(&db),
            if unusable.is_empty() {
                "newest".to_string()
            } else {
                format!("newest usable, {} newer unusable,", unusable.len())
            },
            if total == 1 { "" } else { "s" }
        ),
    );
    let tarball = match tarballs.iter().find(|(t, _)| *t == ts) {
        Some((_, p)) => Some(p.clone()),
        None => match tarballs.last() {
            Some((t, p)) => {
                notes.push(format!(
                    "warning: no static_kuberesources_{ts}.tar.gz; pairing with {} (timestamp {t} differs)",
                    file_name(p)
                ));
                Some(p.clone())
            }
            None => {
                notes.push("no static_kuberesources_*.tar.gz beside the snapshot".into());
                None
            }
        },
    };
    if let Some(t) = &tarball {
        notes.push(format!("paired with {}", file_name(t)));
    }
    Ok(Input {
        given: path.to_path_buf(),
        kind: InputKind::BackupDir,
        db,
        tarball,
        notes,
        unpacked: None,
        unusable,
    })
}

/// What an OpenShift backup dir holds of the set `cluster-backup.sh`
/// writes, and what it lacks: `(present, missing)`, each missing part
/// named with why a restore needs it. Empty for other inputs.
pub(crate) fn backup_set(input: &Input) -> (Vec<String>, Vec<String>) {
    if input.kind != InputKind::BackupDir {
        return (Vec::new(), Vec::new());
    }
    let db = file_name(&input.db);
    let ts = strip(&db, "snapshot_", ".db").unwrap_or_default();
    let want = format!("static_kuberesources_{ts}.tar.gz");
    let mut present = vec![db.clone()];
    let mut missing = Vec::new();
    match &input.tarball {
        Some(t) if file_name(t) == want => present.push(want),
        Some(t) => missing.push(format!(
            "{want}: absent; the only tarball, {}, is from another backup (its timestamp differs from {db}'s): its static pod resources and encryption config may not match this snapshot",
            file_name(t)
        )),
        None => missing.push(format!(
            "{want}: absent; OpenShift's restore (cluster-restore.sh) needs it beside {db}: it holds the static pod resources and the kube-apiserver encryption config"
        )),
    }
    (present, missing)
}

/// Why a snapshot path cannot be read as a file, if it cannot.
fn unusable_why(p: &Path) -> Option<String> {
    let lmd = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => return Some(e.to_string()),
    };
    let md = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if lmd.file_type().is_symlink() => {
            let to = std::fs::read_link(p)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Some(format!(
                "a symlink to {to:?}, which cannot be followed ({e})"
            ));
        }
        Err(e) => return Some(e.to_string()),
    };
    let ft = md.file_type();
    let what = if ft.is_file() {
        return None;
    } else if ft.is_dir() {
        "a directory"
    } else {
        special_file_kind(&ft).unwrap_or("not a regular file")
    };
    Some(what.to_string())
}

/// What a special file is (FIFO, device, socket), where the OS tells.
#[cfg(unix)]
fn special_file_kind(ft: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        Some("a FIFO (named pipe), not a file")
    } else if ft.is_block_device() || ft.is_char_device() {
        Some("a device, not a file")
    } else if ft.is_socket() {
        Some("a socket, not a file")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> Option<&'static str> {
    None
}

/// `snapshot_<ts>.db` → `<ts>` (a `__POSSIBLY_DIRTY__` suffix is kept in it).
/// The time in an OpenShift backup's snapshot name
/// (`snapshot_2026-11-21_101500.db` → `2026-11-21T10:15:00`, no zone).
pub fn name_time(name: &str) -> Option<String> {
    let ts = name.strip_prefix("snapshot_")?.strip_suffix(".db")?;
    let b = ts.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 17 || !digits(0..4) || b[4] != b'-' || b[10] != b'_' || !digits(11..17) {
        return None;
    }
    Some(format!(
        "{}T{}:{}:{}",
        &ts[..10],
        &ts[11..13],
        &ts[13..15],
        &ts[15..17]
    ))
}

/// The `static_kuberesources_<ts>.tar.gz` beside a `snapshot_<ts>.db`,
/// when it is a file.
pub fn paired_tarball(db: &Path) -> Option<PathBuf> {
    let name = db.file_name()?.to_str()?;
    let ts = name.strip_prefix("snapshot_")?.strip_suffix(".db")?;
    Some(db.with_file_name(format!("static_kuberesources_{ts}.tar.gz"))).filter(|t| t.is_file())
}

fn strip(name: &str, prefix: &str, suffix: &str) -> Option<String> {
    name.strip_prefix(prefix)?
        .strip_suffix(suffix)
        .filter(|ts| !ts.is_empty())
        .map(str::to_string)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads `r` whole, refusing more than `limit` bytes (`/dev/zero`, a wrong
/// file): for inputs that are read into memory rather than mapped.
pub fn read_whole<R: std::io::Read>(r: R, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    r.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {limit} bytes, the most read whole: not the expected kind of file"
            ),
        ));
    }
    Ok(buf)
}

/// [`read_whole`] of a file.
pub fn read_file_whole(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read_whole(std::fs::File::open(path)?, limit)
}

fn io(path: &Path, source: std::io::Error) -> InputError {
    InputError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_newest_and_pairs() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "snapshot_2026-11-19_101500.db",
            "snapshot_2026-11-20_101500.db",
            "static_kuberesources_2026-11-19_101500.tar.gz",
            "static_kuberesources_2026-11-20_101500.tar.gz",
        ] {
            std::fs::write(d.path().join(n), b"x").unwrap();
        }
        let i = resolve(d.path()).unwrap();
        assert_eq!(i.kind, InputKind::BackupDir);
        assert!(i.db.ends_with("snapshot_2026-11-20_101500.db"));
        assert!(i
            .tarball
            .unwrap()
            .ends_with("static_kuberesources_2026-11-20_101500.tar.gz"));
        assert!(i.notes[0].contains("newest of 2"));
    }

    #[test]
    fn warns_on_mismatched_timestamps() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("snapshot_2026-11-20_101500.db"), b"x").unwrap();
        std::fs::write(
            d.path()
                .join("static_kuberesources_2026-11-19_101500.tar.gz"),
            b"x",
        )
        .unwrap();
        let i = resolve(d.path()).unwrap();
        assert!(i.notes.iter().any(|n| n.contains("differs")));
    }

    #[test]
    fn data_dir_and_unknown_dir() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve(d.path()),
            Err(InputError::UnknownDir { .. })
        ));
        std::fs::create_dir_all(d.path().join("member/snap")).unwrap();
        std::fs::write(d.path().join("member/snap/db"), b"x").unwrap();
        assert_eq!(resolve(d.path()).unwrap().kind, InputKind::DataDir);
        assert!(resolve(&d.path().join("missing")).is_err());
    }
}
