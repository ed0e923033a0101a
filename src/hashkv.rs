//! The `HashKV` figure etcd 3.4/3.5 return for `etcdctl endpoint hashkv
//! --rev N`: comparable across members holding the same data (unlike the
//! `snapshot status` hash, which covers every bucket byte for byte).
//!
//! etcd's `mvcc.store.HashByRev`: CRC-32C over the bucket name `key`, then
//! the key and value bytes of each `key`-bucket entry with main revision
//! ≤ N, in bucket order, except that entries at or below the compaction
//! revision are only hashed when they are in the key index's keep-set for
//! N (and the keep-set is not empty). N ≤ compaction revision is "compacted",
//! N > current revision "future".
//!
//! The keep-set of N (`treeIndex.Keep`): for each key, its newest revision
//! at or below N, unless that revision is a tombstone.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::bolt::BoltError;
use crate::etcd::meta::MetaInfo;
use crate::etcd::schema::{Revision, KEY_BUCKET, META_BUCKET};
use crate::etcd::Snapshot;
use crate::mvcc::{Record, Store};

#[derive(Debug, Error)]
pub enum HashKvError {
    #[error("{file}: revision {asked} has been compacted (compaction revision {compacted}; etcd answers \"mvcc: required revision has been compacted\")")]
    Compacted {
        file: String,
        asked: i64,
        compacted: i64,
    },
    #[error("{file}: revision {asked} is a future revision (the latest is {current}; etcd answers \"mvcc: required revision is a future revision\")")]
    Future {
        file: String,
        asked: i64,
        current: i64,
    },
    #[error("{file}: bucket key: {source}")]
    Bolt {
        file: String,
        #[source]
        source: BoltError,
    },
}

/// What `etcdctl endpoint hashkv -w json` reports (plus the revision hashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HashKv {
    pub hash: u32,
    /// etcd's `compactMainRev`: -1 when the store was never compacted.
    pub compact_revision: i64,
    /// The revision hashed (N, or the current revision when N is 0).
    pub hash_revision: i64,
    /// The store's current revision (the response header's revision).
    pub current_revision: i64,
}

/// The compaction revision etcd holds after opening this store: the
/// scheduled one when a compaction was scheduled but not finished (etcd
/// finishes it on start), -1 when there was none.
pub(crate) fn compact_revision(store: &Store<'_>) -> i64 {
    let finished = store.compacted.unwrap_or(-1);
    store.scheduled_compaction().unwrap_or(-1).max(finished)
}

/// Computes `HashKV` at `rev` (the current revision when `None` or 0).
pub fn hash_kv(store: &Store<'_>, rev: Option<i64>) -> Result<HashKv, HashKvError> {
    let compact = compact_revision(store);
    // etcd: an empty store is at revision 1, and the current revision is
    // never below the compaction revision.
    let current = store.current.max(compact).max(1);
    let at = check(store.snapshot(), rev, compact, current)?;
    // `treeIndex.Keep(at)`: per key its newest revision <= `at` unless a
    // tombstone, the one rule compaction uses too.
    let keep = crate::mvcc::compaction_keep(store.records(), at);
    hash_at(
        store.snapshot(),
        compact,
        current,
        at,
        &keep,
        store.overlay_records(),
    )
}

/// The fast path for a db never compacted (nothing to keep or skip): the
/// meta bucket and the `key` bucket's bytes only, no decoding. `None` when
/// the db has a compaction revision (use [`hash_kv`]).
pub fn hash_kv_uncompacted(
    snap: &Snapshot,
    rev: Option<i64>,
) -> Result<Option<HashKv>, HashKvError> {
    let db = &snap.db;
    let bolt = |source| HashKvError::Bolt {
        file: snap.display(),
        source,
    };
    let mut meta = MetaInfo::default();
    if let Ok(mb) = db.bucket(META_BUCKET) {
        db.for_each(&mb, |e| {
            let _ = meta.apply(e.key, e.value);
            Ok(())
        })
        .map_err(bolt)?;
    }
    if meta.finished_compact_revision.is_some() || meta.scheduled_compact_revision.is_some() {
        return Ok(None);
    }
    // etcd's current revision: the newest revision key (any, as its
    // restore reads them all), at least 1.
    let mut current = 1i64;
    if let Ok(kb) = db.bucket(KEY_BUCKET) {
        let leaves = db.leaves(&kb).map_err(bolt)?;
        if let Some(last) = leaves.last() {
            if let Some(e) = last.elems().last() {
                let e = e.map_err(bolt)?;
                current = current.max(rev_of(e.key).main);
            }
        }
    }
    let at = check(snap, rev, -1, current)?;
    hash_at(snap, -1, current, at, &HashSet::new(), &[]).map(Some)
}

/// etcd's checks of the asked revision; returns the revision to hash.
fn check(
    snap: &Snapshot,
    rev: Option<i64>,
    compact: i64,
    current: i64,
) -> Result<i64, HashKvError> {
    let asked = rev.unwrap_or(0);
    if asked > 0 && asked <= compact {
        return Err(HashKvError::Compacted {
            file: snap.display(),
            asked,
            compacted: compact,
        });
    }
    if asked > current {
        return Err(HashKvError::Future {
            file: snap.display(),
            asked,
            current,
        });
    }
    Ok(if asked > 0 { asked } else { current })
}

fn hash_at(
    snap: &Snapshot,
    compact: i64,
    current: i64,
    at: i64,
    keep: &HashSet<(i64, i64)>,
    overlay: &[Record<'_>],
) -> Result<HashKv, HashKvError> {
    let filter_old = !keep.is_empty();
    let included = |r: Revision| -> bool {
        if r.main > at {
            return false;
        }
        if r.main <= compact && filter_old {
            return keep.contains(&(r.main, r.sub));
        }
        true
    };

    let db = &snap.db;
    let bolt = |source| HashKvError::Bolt {
        file: snap.display(),
        source,
    };
    let mut crc = crc32c::crc32c(KEY_BUCKET);
    if let Ok(kb) = db.bucket(KEY_BUCKET) {
        let leaves = db.leaves(&kb).map_err(bolt)?;
        let chunk = leaves
            .len()
            .div_ceil(rayon::current_num_threads() * 8)
            .max(16);
        // Each chunk's CRC (from 0) and byte count, joined in order.
        let parts: Vec<Result<(u32, u64), BoltError>> = leaves
            .par_chunks(chunk)
            .map(|run| {
                let mut c = 0u32;
                let mut n = 0u64;
                for leaf in run {
                    for e in leaf.elems() {
                        let e = e?;
                        if !included(rev_of(e.key)) {
                            continue;
                        }
                        c = crc32c::crc32c_append(c, e.key);
                        c = crc32c::crc32c_append(c, e.value);
                        n += (e.key.len() + e.value.len()) as u64;
                    }
                }
                Ok((c, n))
            })
            .collect();
        for p in parts {
            let (c, n) = p.map_err(bolt)?;
            crc = crate::crc::crc_combine(crc, c, n);
        }
    }
    // Revisions replayed from the WAL follow every revision of the db.
    for r in overlay {
        if !included(r.rev) {
            continue;
        }
        crc = crc32c::crc32c_append(crc, &r.rev.to_bytes());
        crc = crc32c::crc32c_append(crc, &r.kv.encode());
    }
    Ok(HashKv {
        hash: crc,
        compact_revision: compact,
        hash_revision: at,
        current_revision: current,
    })
}

/// etcd's `bytesToRev`: main and sub, ignoring a tombstone mark (short keys,
/// which etcd never writes, read as zeros rather than panicking).
fn rev_of(k: &[u8]) -> Revision {
    let be = |b: Option<&[u8]>| {
        b.and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
            .unwrap_or(0)
    };
    Revision {
        main: be(k.get(0..8)),
        sub: be(k.get(9..17)),
        tombstone: false,
    }
}
