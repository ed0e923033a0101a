//! A bbolt file holding what a restarted etcd would hold after replaying
//! its WAL: the db's buckets with the replayed revisions added, revisions
//! a replayed compaction removes dropped, leases granted/revoked, and the
//! meta bucket's consistent index (and compaction revisions) advanced.
//! `restore` and `defrag` of a data dir start from it.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use prost::Message;

use super::replay::ReplayReport;
use crate::bolt::{copy_db, BoltWriter, BucketEdit, CopyError, WriteSummary, WriterOptions};
use crate::etcd::schema::{
    Revision, CONSISTENT_INDEX_KEY, FINISHED_COMPACT_KEY, KEY_BUCKET, LEASE_BUCKET, META_BUCKET,
    SCHEDULED_COMPACT_KEY, TERM_KEY,
};
use crate::mvcc::Store;

/// Writes `store`'s db with the replay `rep` reports applied to `out` (a
/// new 0600 file): the revisions the store holds on top of its db
/// ([`Store::overlay_records`]), encoded here as etcd encodes them.
/// `store` must be the store the replay was laid over.
pub fn write_replayed_db(
    store: &Store<'_>,
    rep: &ReplayReport,
    out: &Path,
) -> Result<WriteSummary, CopyError> {
    let db = &store.snapshot().db;
    let mut edits: BTreeMap<Vec<u8>, BucketEdit> = BTreeMap::new();

    let mut keys = BucketEdit::default();
    // A replayed revision a later compaction in the same WAL removed is
    // no longer in the store: it is not written.
    for r in store.overlay_records() {
        keys.set.insert(r.rev.to_bytes(), Some(r.kv.encode()));
    }
    if let Some(at) = rep.compacted {
        // What the store still holds at or below the compaction is what
        // etcd keeps; the rest of the db's revisions there go.
        let kept: HashSet<(i64, i64)> = store
            .records()
            .iter()
            .filter(|r| r.rev.main <= at)
            .map(|r| (r.rev.main, r.rev.sub))
            .collect();
        if let Ok(kb) = db.bucket(KEY_BUCKET) {
            db.for_each(&kb, |e| {
                if let Ok(r) = Revision::parse(e.key) {
                    if r.main <= at && !kept.contains(&(r.main, r.sub)) {
                        keys.set.insert(e.key.to_vec(), None);
                    }
                }
                Ok(())
            })?;
        }
    }
    edits.insert(KEY_BUCKET.to_vec(), keys);

    let mut meta = BucketEdit::default();
    meta.set.insert(
        CONSISTENT_INDEX_KEY.to_vec(),
        Some(rep.applied_index.to_be_bytes().to_vec()),
    );
    let mut has_term = false;
    if let Ok(mb) = db.bucket(META_BUCKET) {
        db.for_each(&mb, |e| {
            has_term |= e.key == TERM_KEY;
            Ok(())
        })?;
    }
    if has_term {
        meta.set.insert(
            TERM_KEY.to_vec(),
            Some(rep.applied_term.to_be_bytes().to_vec()),
        );
    }
    if let Some(at) = rep.compacted {
        let rev = Revision {
            main: at,
            sub: 0,
            tombstone: false,
        }
        .to_bytes();
        meta.set
            .insert(SCHEDULED_COMPACT_KEY.to_vec(), Some(rev.clone()));
        meta.set.insert(FINISHED_COMPACT_KEY.to_vec(), Some(rev));
    }
    edits.insert(META_BUCKET.to_vec(), meta);

    let mut leases = BucketEdit::default();
    for &(id, ttl) in &rep.leases_granted {
        let l = crate::proto::leasepb::Lease {
            id,
            ttl,
            remaining_ttl: 0,
        };
        leases
            .set
            .insert(id.to_be_bytes().to_vec(), Some(l.encode_to_vec()));
    }
    for &id in &rep.leases_revoked {
        leases.set.insert(id.to_be_bytes().to_vec(), None);
    }
    edits.insert(LEASE_BUCKET.to_vec(), leases);

    let opts = WriterOptions {
        page_size: db.page_size(),
        ..WriterOptions::default()
    };
    let mut w = BoltWriter::create(out, opts).map_err(CopyError::from)?;
    copy_db(db, &mut w, edits)?;
    Ok(w.finish_file()?)
}
