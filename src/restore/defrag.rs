//! `defrag`: a compact rewrite of a snapshot (every bucket, key and value
//! kept, free pages dropped, leaves filled) with a fresh SHA-256 trailer,
//! so `etcdutl snapshot restore` accepts it without `--skip-hash-check`.
//!
//! With a compaction revision it also does offline what `etcdctl compact
//! REV` does: drops every revision a compaction at REV drops (for each key,
//! all revisions at or below REV but the newest, and that one too when it
//! is a deletion) and writes `scheduledCompactRev`/`finishedCompactRev` as
//! etcd's compaction leaves them.
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
use crate::bolt::{copy_db, BoltWriter, BucketEdit, WriterOptions};
use crate::etcd::schema::{
    Revision, FINISHED_COMPACT_KEY, KEY_BUCKET, META_BUCKET, SCHEDULED_COMPACT_KEY,
};
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
    /// The compaction revision written (`--compact-to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compacted_to: Option<i64>,
    /// Revisions of the `key` bucket dropped by that compaction.
    pub revisions_dropped: u64,
    /// The input's compaction revision, if any.
    pub source_compacted: Option<i64>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The `key`-bucket revision keys a compaction at `rev` removes, as etcd's
/// `keyIndex.compact` and `scheduleCompaction` decide: for each key, every
/// revision at or below `rev` except the newest of them, which goes too
/// when it is a deletion.
pub(crate) fn compaction_drops(store: &crate::mvcc::Store<'_>, rev: i64) -> Vec<Vec<u8>> {
    use std::collections::HashMap;
    // Newest revision at or below `rev` of each key.
    let mut newest: HashMap<&[u8], crate::etcd::schema::Revision> = HashMap::new();
    for r in store.records() {
        if r.rev.main > rev {
            break;
        }
        newest.insert(r.kv.key, r.rev);
    }
    let mut drops = Vec::new();
    for r in store.records() {
        if r.rev.main > rev {
            break;
        }
        let keep = newest
            .get(r.kv.key)
            .is_some_and(|n| *n == r.rev && !n.tombstone);
        if !keep {
            drops.push(r.rev.to_bytes());
        }
    }
    drops
}

/// Checks that a compaction at `rev` is possible, as etcd's `Compact`
/// does: not at or below the last compaction, not past the latest
/// revision.
fn check_compact(store: &crate::mvcc::Store<'_>, rev: i64) -> Result<(), RestoreError> {
    if let Some(c) = store.compacted {
        if rev <= c {
            return Err(RestoreError::Usage(format!(
                "--compact-to {rev}: the snapshot is already compacted at {c} (etcd answers \"required revision has been compacted\")"
            )));
        }
    }
    if rev > store.current {
        return Err(RestoreError::Usage(format!(
            "--compact-to {rev}: past the snapshot's latest revision {} (etcd answers \"required revision is a future revision\")",
            store.current
        )));
    }
    if rev < 1 {
        return Err(RestoreError::Usage(format!(
            "--compact-to {rev}: revisions start at 1"
        )));
    }
    Ok(())
}

/// [`defrag`], compacting the history at `compact_to` when given.
pub fn defrag_compact(
    input: &Path,
    out: &Path,
    skip_hash_check: bool,
    compact_to: Option<i64>,
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
    let mut edits = std::collections::BTreeMap::new();
    let mut revisions_dropped = 0u64;
    let mut source_compacted = None;
    if let Some(rev) = compact_to {
        let store =
            crate::mvcc::Store::open(&snap).map_err(|e| RestoreError::Other(e.to_string()))?;
        check_compact(&store, rev)?;
        source_compacted = store.compacted;
        let drops = compaction_drops(&store, rev);
        revisions_dropped = drops.len() as u64;
        let kset: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> =
            drops.into_iter().map(|k| (k, None)).collect();
        edits.insert(
            KEY_BUCKET.to_vec(),
            BucketEdit {
                clear: false,
                set: kset,
            },
        );
        let mark = Revision {
            main: rev,
            sub: 0,
            tombstone: false,
        }
        .to_bytes();
        let mut meta = std::collections::BTreeMap::new();
        meta.insert(SCHEDULED_COMPACT_KEY.to_vec(), Some(mark.clone()));
        meta.insert(FINISHED_COMPACT_KEY.to_vec(), Some(mark));
        edits.insert(
            META_BUCKET.to_vec(),
            BucketEdit {
                clear: false,
                set: meta,
            },
        );
    }
    let mut w = BoltWriter::create(&tmp, opts).map_err(|e| copy_err(e.into()))?;
    copy_db(&snap.db, &mut w, edits).map_err(copy_err)?;
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
    if compact_to.is_none()
        && (written.hash, written.revision, written.total_key)
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
        compacted_to: compact_to,
        revisions_dropped,
        source_compacted,
    })
}

/// The size in bytes (trailer excluded) of the file [`defrag`] would write
/// for `snap`: the same writer runs over a sink that only counts, so the
/// estimate is what the rewrite really takes, not free pages alone.
pub fn defrag_size(snap: &Snapshot) -> Result<u64, RestoreError> {
    let opts = WriterOptions {
        page_size: snap.db.page_size(),
        ..WriterOptions::default()
    };
    let err = |source: crate::bolt::CopyError| RestoreError::Copy {
        path: format!("{} (sizing a defrag)", snap.display()),
        source,
    };
    let mut w =
        BoltWriter::new(Counting::default(), snap.display(), opts).map_err(|e| err(e.into()))?;
    copy_db(&snap.db, &mut w, Default::default()).map_err(err)?;
    let (_, summary) = w.finish().map_err(|e| err(e.into()))?;
    Ok(summary.bytes)
}

/// A sink that keeps nothing: only the position and the furthest byte.
#[derive(Default)]
struct Counting {
    pos: u64,
    len: u64,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pos += buf.len() as u64;
        self.len = self.len.max(self.pos);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Counting {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
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
