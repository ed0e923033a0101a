//! MVCC over the `key` bucket: the revisions of every key, the live state at
//! the latest or any retained revision, and the history of one key.
//!
//! The `key` bucket is ordered by revision; the state of a key is its newest
//! revision at or below the one asked for (a tombstone means deleted).
//! Decoding runs in parallel over chunks of leaf pages; records borrow the
//! mapped file.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::bolt::{BoltError, LeafRef};
use crate::etcd::meta::MetaInfo;
use crate::etcd::schema::{Revision, KEY_BUCKET, META_BUCKET};
use crate::etcd::{KeyValue, Snapshot};

#[derive(Debug, Error)]
pub enum MvccError {
    #[error("{file}: {source}")]
    Bolt {
        file: String,
        #[source]
        source: BoltError,
    },
    #[error("{file}: bucket key, revision key {key}: {what}")]
    BadRevision {
        file: String,
        key: String,
        what: String,
    },
    #[error("{file}: revision {asked} has been compacted: the oldest revision still held is {compacted}")]
    Compacted {
        file: String,
        asked: i64,
        compacted: i64,
    },
    #[error("{file}: revision {asked} is newer than the snapshot's latest revision {current}")]
    Future {
        file: String,
        asked: i64,
        current: i64,
    },
}

pub type Result<T> = std::result::Result<T, MvccError>;

/// A key kept by [`Store::state_at`]: its bytes in an arena, and the
/// index of its record.
struct KeptKey {
    at: usize,
    len: usize,
    index: usize,
}

/// One revision of one key.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub rev: Revision,
    /// For a tombstone only `key` is set.
    pub kv: KeyValue<'a>,
}

impl Record<'_> {
    pub fn is_delete(&self) -> bool {
        self.rev.tombstone
    }
}

/// A key deleted within the held history.
#[derive(Debug, Clone, Copy)]
pub struct Deleted<'a> {
    pub key: &'a [u8],
    /// The main revision of the deletion.
    pub deleted_at: i64,
    /// The newest put before the deletion, when still held.
    pub last: Option<Record<'a>>,
}

impl Deleted<'_> {
    /// The newest revision at which the key still existed.
    pub fn last_live_revision(&self) -> i64 {
        self.deleted_at - 1
    }
}

/// A history entry as `history` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub revision: i64,
    pub sub: i64,
    pub op: &'static str,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
    pub size: usize,
}

/// The MVCC view of one snapshot.
pub struct Store<'a> {
    snap: &'a Snapshot,
    /// All revisions in revision order.
    records: Vec<Record<'a>>,
    /// `finishedCompactRev` from the meta bucket.
    pub compacted: Option<i64>,
    /// The newest main revision in the `key` bucket.
    pub current: i64,
    /// `scheduledCompactRev` from the meta bucket.
    scheduled: Option<i64>,
    /// `records[overlay_from..]` were laid over the db (see
    /// [`Store::apply_overlay`]); all of them are newer than the db's.
    overlay_from: usize,
}

impl<'a> Store<'a> {
    /// Reads and decodes every revision (in parallel).
    pub fn open(snap: &'a Snapshot) -> Result<Store<'a>> {
        let file = snap.display();
        let bolt = |source| MvccError::Bolt {
            file: file.clone(),
            source,
        };
        let db = &snap.db;
        let mut meta = MetaInfo::default();
        if let Ok(mb) = db.bucket(META_BUCKET) {
            db.for_each(&mb, |e| {
                let _ = meta.apply(e.key, e.value);
                Ok(())
            })
            .map_err(bolt)?;
        }
        let kb = db.bucket(KEY_BUCKET).map_err(bolt)?;
        let leaves = db.leaves(&kb).map_err(bolt)?;
        let chunk = leaves
            .len()
            .div_ceil(rayon::current_num_threads() * 8)
            .max(16);
        let parts: Vec<Result<Vec<Record<'a>>>> = leaves
            .par_chunks(chunk)
            .map(|run| decode_leaves(&file, run))
            .collect();
        // One allocation for all: growing it part by part copied the
        // records (~100 bytes each) again at every doubling.
        let mut records = Vec::with_capacity(
            parts
                .iter()
                .map(|p| p.as_ref().map_or(0, Vec::len))
                .sum::<usize>(),
        );
        for p in parts {
            records.extend(p?);
        }
        let current = records.last().map(|r| r.rev.main).unwrap_or(0);
        let overlay_from = records.len();
        Ok(Store {
            snap,
            records,
            compacted: meta.finished_compact_revision,
            current,
            scheduled: meta.scheduled_compact_revision,
            overlay_from,
        })
    }

    /// `scheduledCompactRev` of the meta bucket (a compaction etcd finishes
    /// when it starts, if newer than the finished one).
    pub(crate) fn scheduled_compaction(&self) -> Option<i64> {
        self.scheduled
    }

    /// Lays revisions written on top of the db over it (a data dir's WAL
    /// replayed as a restarted etcd replays it, see `crate::wal::replay`):
    /// `records` are in revision order and all newer than the db's,
    /// `revision` is the store's revision after them, and a compaction at
    /// `compacted` drops what etcd drops when it finishes it. The store
    /// takes the records as they are, borrowing whatever they borrow.
    pub fn apply_overlay(
        &mut self,
        records: Vec<Record<'a>>,
        revision: i64,
        compacted: Option<i64>,
    ) {
        self.overlay_from = self.records.len();
        self.records.extend(records);
        self.current = self.current.max(revision);
        if let Some(at) = compacted {
            let keep = compaction_keep(&self.records, at);
            let db_part = self.overlay_from;
            let mut i = 0usize;
            let mut dropped_db = 0usize;
            self.records.retain(|r| {
                let k = r.rev.main > at || keep.contains(&(r.rev.main, r.rev.sub));
                if !k && i < db_part {
                    dropped_db += 1;
                }
                i += 1;
                k
            });
            self.overlay_from -= dropped_db;
            self.compacted = Some(at);
            self.scheduled = Some(at);
        }
    }

    /// The revisions added on top of the db by [`Store::apply_overlay`].
    pub fn overlay_records(&self) -> &[Record<'a>] {
        &self.records[self.overlay_from.min(self.records.len())..]
    }

    /// A store over records gathered elsewhere (salvage), in revision
    /// order. `compacted` limits `--rev` as for a store read from the tree.
    pub fn from_records(
        snap: &'a Snapshot,
        records: Vec<Record<'a>>,
        compacted: Option<i64>,
    ) -> Store<'a> {
        let current = records.iter().map(|r| r.rev.main).max().unwrap_or(0);
        Store {
            snap,
            records,
            compacted,
            current,
            scheduled: None,
            overlay_from: usize::MAX,
        }
    }

    pub(crate) fn snapshot(&self) -> &Snapshot {
        self.snap
    }

    /// Every revision, in revision order.
    pub fn records(&self) -> &[Record<'a>] {
        &self.records
    }

    /// Checks that `rev` can be read.
    pub(crate) fn check_rev(&self, rev: i64) -> Result<()> {
        if let Some(c) = self.compacted {
            if rev < c {
                return Err(MvccError::Compacted {
                    file: self.snap.display(),
                    asked: rev,
                    compacted: c,
                });
            }
        }
        if rev > self.current {
            return Err(MvccError::Future {
                file: self.snap.display(),
                asked: rev,
                current: self.current,
            });
        }
        Ok(())
    }

    /// The live keys at `rev` (latest when `None`) whose key passes
    /// `keep`, sorted by key.
    pub fn state_at<F>(&self, rev: Option<i64>, keep: F) -> Result<Vec<Record<'a>>>
    where
        F: Fn(&[u8]) -> bool + Sync,
    {
        let limit = match rev {
            Some(r) => {
                self.check_rev(r)?;
                r
            }
            None => i64::MAX,
        };
        // Records are in revision order: those up to `limit` are a prefix.
        let held = &self.records[..self
            .records
            .iter()
            .position(|r| r.rev.main > limit)
            .unwrap_or(self.records.len())];
        // `keep` often parses the key (a query's filter): it runs once per
        // record, in parallel. The newest record of each key is the last of
        // its run once the kept (key, index) pairs are sorted by both: a
        // parallel sort, where a map from key to newest index was a
        // sequential pass hashing every key. The kept keys are first copied
        // into one arena, in parallel: compared where they lie, in the
        // mapped file, every comparison of the sort was a cache and TLB miss
        // (half of `get -A`'s set-up on a 1 GiB snapshot).
        const CHUNK: usize = 4096;
        let parts: Vec<(Vec<u8>, Vec<KeptKey>)> = held
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut arena = Vec::new();
                let mut ents = Vec::new();
                for (j, r) in chunk.iter().enumerate() {
                    let k = r.kv.key;
                    if k.is_empty() || !keep(k) {
                        continue;
                    }
                    ents.push(KeptKey {
                        at: arena.len(),
                        len: k.len(),
                        index: c * CHUNK + j,
                    });
                    arena.extend_from_slice(k);
                }
                (arena, ents)
            })
            .collect();
        let mut arena = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
        let mut kept = Vec::with_capacity(parts.iter().map(|p| p.1.len()).sum());
        for (a, ents) in parts {
            let base = arena.len();
            arena.extend_from_slice(&a);
            kept.extend(ents.into_iter().map(|e| KeptKey {
                at: e.at + base,
                ..e
            }));
        }
        let arena = &arena[..];
        let key = |e: &KeptKey| &arena[e.at..e.at + e.len];
        kept.par_sort_unstable_by(|a, b| key(a).cmp(key(b)).then(a.index.cmp(&b.index)));
        Ok((0..kept.len())
            .into_par_iter()
            .with_min_len(1024)
            .filter(|&j| {
                kept.get(j + 1)
                    .is_none_or(|next| key(next) != key(&kept[j]))
            })
            .map(|j| self.records[kept[j].index])
            .filter(|r| !r.is_delete())
            .collect())
    }

    /// Keys whose newest revision at `rev` (latest when `None`) is a
    /// deletion, with what they last held, sorted by key. Only deletions
    /// still in the history are found (a compaction past one drops it).
    pub fn deleted_at<F>(&self, rev: Option<i64>, keep: F) -> Result<Vec<Deleted<'a>>>
    where
        F: Fn(&[u8]) -> bool,
    {
        let limit = match rev {
            Some(r) => {
                self.check_rev(r)?;
                r
            }
            None => i64::MAX,
        };
        // key → (newest record, newest put before it)
        let mut state: HashMap<&'a [u8], (Record<'a>, Option<Record<'a>>)> = HashMap::new();
        for r in &self.records {
            if r.rev.main > limit {
                break;
            }
            if r.kv.key.is_empty() || !keep(r.kv.key) {
                continue;
            }
            let e = state.entry(r.kv.key).or_insert((*r, None));
            if !e.0.is_delete() && e.0.rev != r.rev {
                e.1 = Some(e.0);
            }
            e.0 = *r;
        }
        let mut out: Vec<Deleted<'a>> = state
            .into_iter()
            .filter(|(_, (newest, _))| newest.is_delete())
            .map(|(key, (newest, last))| Deleted {
                key,
                deleted_at: newest.rev.main,
                last,
            })
            .collect();
        out.sort_unstable_by(|a, b| a.key.cmp(b.key));
        Ok(out)
    }

    /// Every revision of `key`, oldest first.
    pub fn history(&self, key: &[u8]) -> Vec<Record<'a>> {
        self.records
            .iter()
            .filter(|r| r.kv.key == key)
            .copied()
            .collect()
    }
}

impl HistoryEntry {
    pub fn from_record(r: &Record<'_>) -> HistoryEntry {
        HistoryEntry {
            revision: r.rev.main,
            sub: r.rev.sub,
            op: if r.is_delete() { "delete" } else { "put" },
            create_revision: r.kv.create_revision,
            mod_revision: if r.is_delete() {
                r.rev.main
            } else {
                r.kv.mod_revision
            },
            version: r.kv.version,
            lease: r.kv.lease,
            size: r.kv.value.len(),
        }
    }
}

/// The keep-set of a compaction at `at` over `records` (revision order):
/// per key its newest revision ≤ `at` unless a tombstone.
pub(crate) fn compaction_keep(
    records: &[Record<'_>],
    at: i64,
) -> std::collections::HashSet<(i64, i64)> {
    let mut newest: HashMap<&[u8], Revision> = HashMap::new();
    for r in records {
        if r.rev.main > at {
            break;
        }
        newest.insert(r.kv.key, r.rev);
    }
    newest
        .into_values()
        .filter(|r| !r.tombstone)
        .map(|r| (r.main, r.sub))
        .collect()
}

fn decode_leaves<'a>(file: &str, leaves: &[LeafRef<'a>]) -> Result<Vec<Record<'a>>> {
    let mut out = Vec::new();
    for leaf in leaves {
        for e in leaf.elems() {
            let e = e.map_err(|source| MvccError::Bolt {
                file: file.to_string(),
                source,
            })?;
            let bad = |what: String| MvccError::BadRevision {
                file: file.to_string(),
                key: crate::etcd::snapshot::hex(e.key),
                what,
            };
            let rev = Revision::parse(e.key).map_err(|e| bad(e.to_string()))?;
            if e.value.is_empty() {
                // A restore's --bump-revision marker holds no key.
                continue;
            }
            let kv = KeyValue::decode(e.value)
                .map_err(|w| bad(format!("value is not a mvccpb.KeyValue: {w}")))?;
            out.push(Record { rev, kv });
        }
    }
    Ok(out)
}
