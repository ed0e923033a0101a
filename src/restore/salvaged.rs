//! The db a `restore --salvage` starts from: every top-level bucket as far
//! as the damaged tree can be read, with the `key` bucket replaced by the
//! salvaged revisions (the tree's and the orphaned leaves', never the
//! free pages' older copies), each value exactly as it lay on disk. The
//! normal restore then rewrites members and meta and writes the WAL.

use std::collections::BTreeMap;
use std::path::Path;

use crate::bolt::{BoltWriter, WriteError, WriteSummary, WriterOptions};
use crate::etcd::schema::{Revision, FINISHED_COMPACT_KEY, KEY_BUCKET, META_BUCKET};
use crate::etcd::Snapshot;
use crate::salvage::Salvage;

/// A bucket's keys and values, in key order.
type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

/// Writes the salvaged db to `path` (created 0600; must not exist).
pub fn write_salvaged_db(
    snap: &Snapshot,
    s: &Salvage<'_>,
    path: &Path,
) -> Result<WriteSummary, WriteError> {
    let reach = snap.db.reach();
    // name → (sequence, key → value), from what the tree still reaches.
    let mut buckets: BTreeMap<Vec<u8>, (u64, Entries)> = BTreeMap::new();
    for (b, leaves) in &reach.buckets {
        if b.path.contains('/') || b.name == KEY_BUCKET {
            continue;
        }
        let entry = buckets
            .entry(b.name.to_vec())
            .or_insert_with(|| (b.sequence, BTreeMap::new()));
        for leaf in leaves {
            for e in leaf.elems() {
                let Ok(e) = e else { break };
                if !e.is_bucket() {
                    entry.1.insert(e.key.to_vec(), e.value.to_vec());
                }
            }
        }
    }
    let meta = buckets
        .entry(META_BUCKET.to_vec())
        .or_insert_with(|| (0, BTreeMap::new()));
    if !meta.1.contains_key(FINISHED_COMPACT_KEY) {
        if let Some(c) = s.meta.finished_compact_revision {
            let rev = Revision {
                main: c,
                sub: 0,
                tombstone: false,
            };
            meta.1.insert(FINISHED_COMPACT_KEY.to_vec(), rev.to_bytes());
        }
    }
    let key_seq = reach
        .bucket(KEY_BUCKET)
        .map(|(b, _)| b.sequence)
        .unwrap_or(0);
    buckets.insert(KEY_BUCKET.to_vec(), (key_seq, BTreeMap::new()));

    let opts = WriterOptions {
        page_size: snap.db.page_size(),
        ..WriterOptions::default()
    };
    let mut w = BoltWriter::create(path, opts)?;
    for (name, (seq, kvs)) in &buckets {
        w.begin_bucket(name, *seq)?;
        if name.as_slice() == KEY_BUCKET {
            for r in s.records(false) {
                let value = s.raw_value(&r).unwrap_or(&[]);
                w.put(&r.rev.to_bytes(), value)?;
            }
        } else {
            for (k, v) in kvs {
                w.put(k, v)?;
            }
        }
        w.end_bucket()?;
    }
    w.finish_file()
}
