//! `defrag`: a compact rewrite of a snapshot (every bucket, key and value
//! kept, free pages dropped, leaves filled) with a fresh SHA-256 trailer,
//! so `etcdutl snapshot restore` accepts it without `--skip-hash-check`.
//!
//! Never writes over the input: the output must not exist and must not be
//! the input; it is built in a temp file beside it, fsynced, and linked
//! into place (a link, unlike a rename, fails if the name appeared
//! meanwhile).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::datadir::RestoreError;
use crate::bolt::{copy_db, BoltWriter, WriterOptions};
use crate::etcd::snapshot::{hex, sha256};
use crate::etcd::{Snapshot, Status};

#[derive(Debug, Clone, serde::Serialize)]
pub struct DefragReport {
    pub output: PathBuf,
    pub source: Status,
    pub written: Status,
    pub source_file_size: u64,
    pub written_file_size: u64,
    /// Whether the input's trailer was checked (false: none, or skipped).
    pub hash_checked: bool,
    pub sha256: String,
    pub seconds: f64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Rewrites `input` compactly into the new file `out`.
pub fn defrag(
    input: &Path,
    out: &Path,
    skip_hash_check: bool,
) -> Result<DefragReport, RestoreError> {
    let t0 = Instant::now();
    if out.exists() || out.symlink_metadata().is_ok() {
        return Err(RestoreError::Usage(format!(
            "{}: already exists; defrag never overwrites a file",
            out.display()
        )));
    }
    if same_file(input, out) {
        return Err(RestoreError::Usage(
            "--out names the input; defrag never writes over its input".into(),
        ));
    }
    let snap = Snapshot::open(input)?;
    let hash_checked = match (&snap.trailer, skip_hash_check) {
        (Some(t), false) => {
            let computed = snap.compute_sha256();
            if computed != t.stored {
                return Err(RestoreError::HashMismatch {
                    path: snap.display(),
                    stored: hex(&t.stored),
                    computed: hex(&computed),
                });
            }
            true
        }
        _ => false,
    };
    let source = crate::etcd::status::status(&snap)?;

    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "defrag".into());
    let tmp = parent.join(format!(".{base}.etcdsnap-tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let guard = RemoveOnDrop(tmp.clone());

    let copy_err = |source: crate::bolt::CopyError| RestoreError::Copy {
        path: tmp.display().to_string(),
        source,
    };
    let opts = WriterOptions {
        page_size: snap.db.page_size(),
        ..WriterOptions::default()
    };
    let mut w = BoltWriter::create(&tmp, opts).map_err(|e| copy_err(e.into()))?;
    copy_db(&snap.db, &mut w, Default::default()).map_err(copy_err)?;
    w.finish_file().map_err(|e| copy_err(e.into()))?;

    // Hash what was written (mapped, not held in memory) and append it.
    let digest = {
        let written = Snapshot::open(&tmp)?;
        sha256(written.db.data())
    };
    {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(&digest).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    let written_snap = Snapshot::open(&tmp)?;
    let written = crate::etcd::status::status(&written_snap)?;
    let written_file_size = written_snap.file_len;
    drop(written_snap);
    if (written.hash, written.revision, written.total_key)
        != (source.hash, source.revision, source.total_key)
    {
        return Err(RestoreError::Other(format!(
            "internal error: the rewritten file's status {written:?} differs from the source's {source:?}"
        )));
    }
    // A link fails if `out` appeared meanwhile; where links are not
    // supported, fall back to a rename after one more check.
    if let Err(e) = fs::hard_link(&tmp, out) {
        if e.kind() == std::io::ErrorKind::AlreadyExists || out.exists() {
            return Err(io(out)(e));
        }
        fs::rename(&tmp, out).map_err(io(out))?;
    }
    drop(guard);
    fs::File::open(&parent)
        .and_then(|d| d.sync_all())
        .map_err(io(&parent))?;
    Ok(DefragReport {
        output: out.to_path_buf(),
        source,
        written,
        source_file_size: snap.file_len,
        written_file_size,
        hash_checked,
        sha256: hex(&digest),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// True when both paths name the same existing file (or the same path).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
