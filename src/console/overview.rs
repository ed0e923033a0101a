//! The overview page: the verify verdict of every layer, the revision
//! range, encryption (keys loaded, values per provider and key, what does
//! not decrypt) and what fills the database. Reads every value once; the
//! server computes it in the background and caches it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::crypt::keyring::KeySummary;
use crate::crypt::KeyRing;
use crate::forensics::stats::{self, NamespaceStats, ObjectSize, ResourceStats};
use crate::mvcc::Store;
use crate::verify::{self, Layer, Verdict, VerifyOptions};

/// Largest objects listed.
pub(crate) const TOP: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Overview {
    pub file: String,
    pub file_size: u64,
    /// The worst layer's verdict label (`ok` when every layer passed).
    pub verdict: String,
    pub layers: Vec<Layer>,
    pub current_revision: i64,
    pub compacted_revision: Option<i64>,
    pub oldest_revision: Option<i64>,
    pub live_objects: u64,
    pub revisions: u64,
    /// Keys loaded (never their bytes).
    pub keys: Vec<KeySummary>,
    /// provider → key name → values of every held revision.
    pub encrypted: BTreeMap<String, BTreeMap<String, u64>>,
    /// Values that do not decrypt, each naming its key and revision (the
    /// first [`verify::MAX_LISTED`]).
    pub undecryptable: Vec<String>,
    pub undecryptable_count: usize,
    pub resources: Vec<ResourceStats>,
    pub largest: Vec<ObjectSize>,
    pub namespaces: Vec<NamespaceStats>,
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Damaged => 4,
        Verdict::Incomplete => 3,
        Verdict::UnreadableOffline => 2,
        Verdict::NotChecked => 1,
        Verdict::Ok | Verdict::Absent => 0,
    }
}

/// Verifies the snapshot under `store`, tries every encrypted value with
/// `keys`, and counts what fills the database.
pub(crate) fn compute(db: &Path, store: &Store<'_>, keys: Option<&KeyRing>) -> Overview {
    let snap = store.snapshot();
    let mut report = verify::verify_snapshot_with(snap, VerifyOptions::for_path(db));
    let needed = verify::encrypted_values(store);
    let encrypted_n: u64 = needed.values().flat_map(|m| m.values()).sum();
    let (mut undecryptable, mut undecryptable_count) = (Vec::new(), 0);
    match keys {
        Some(ring) => {
            let usage = verify::key_use(store, ring, verify::value_decodes);
            undecryptable = usage.failures.clone();
            undecryptable_count = usage.failure_count;
            report.layers.push(verify::decryption_layer(&usage));
        }
        None if encrypted_n > 0 => {
            undecryptable_count = encrypted_n as usize;
            report.layers.push(verify::decryption_not_checked(&needed));
        }
        None => {}
    }
    let verdict = report
        .layers
        .iter()
        .map(|l| l.verdict)
        .max_by_key(|v| rank(*v))
        .unwrap_or(Verdict::Ok);
    let st = stats::collect(
        store,
        TOP,
        |k| {
            let p = super::place(k);
            stats::Place {
                resource: p.resource,
                namespace: p.namespace,
            }
        },
        super::provider_of,
    );
    Overview {
        file: db.display().to_string(),
        file_size: report.file_size,
        verdict: if rank(verdict) == 0 {
            "ok".into()
        } else {
            verdict.label().to_string()
        },
        layers: report.layers,
        current_revision: st.current_revision,
        compacted_revision: st.compacted_revision,
        oldest_revision: st.oldest_revision,
        live_objects: st.live_objects,
        revisions: st.revisions,
        keys: keys.map(KeyRing::summary).unwrap_or_default(),
        encrypted: needed,
        undecryptable,
        undecryptable_count,
        resources: st.resources,
        largest: st.largest,
        namespaces: st.namespaces,
    }
}
