//! What fills the database: per resource, per namespace, the largest
//! objects, and the database's own numbers (in use, free, compaction).
//!
//! The caller says how a key maps to (resource, namespace) and which
//! encryption provider a value carries; this module only counts.

use std::collections::HashMap;

use serde::Serialize;

use crate::mvcc::Store;

/// Where a key belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub resource: String,
    /// Empty for cluster-scoped objects and non-object keys.
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ResourceStats {
    pub resource: String,
    /// Live objects at the latest revision.
    pub objects: u64,
    /// Bytes of live values.
    pub bytes: u64,
    pub largest: u64,
    /// Revisions held for this resource (live, older and deletions).
    pub revisions: u64,
    /// Bytes of all held revisions (what history costs).
    pub history_bytes: u64,
    /// Live objects per encryption provider ("identity" when plain).
    pub encryption: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectSize {
    pub key: String,
    pub bytes: u64,
    pub mod_revision: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamespaceStats {
    pub namespace: String,
    pub objects: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub resources: Vec<ResourceStats>,
    pub largest: Vec<ObjectSize>,
    pub namespaces: Vec<NamespaceStats>,
    pub live_objects: u64,
    pub revisions: u64,
    pub current_revision: i64,
    pub compacted_revision: Option<i64>,
    /// The oldest main revision still in the key bucket.
    pub oldest_revision: Option<i64>,
}

/// Counts the latest state and the history of `store`.
pub fn collect<P, E>(store: &Store<'_>, top: usize, place: P, provider: E) -> Stats
where
    P: Fn(&[u8]) -> Place,
    E: Fn(&[u8]) -> String,
{
    let mut by_res: HashMap<String, ResourceStats> = HashMap::new();
    let mut by_ns: HashMap<String, NamespaceStats> = HashMap::new();
    let records = store.records();
    for r in records {
        let p = place(r.kv.key);
        let e = by_res
            .entry(p.resource.clone())
            .or_insert_with(|| ResourceStats {
                resource: p.resource.clone(),
                ..Default::default()
            });
        e.revisions += 1;
        e.history_bytes += r.kv.value.len() as u64;
    }
    let live = store.state_at(None, |_| true).unwrap_or_default();
    let mut largest: Vec<ObjectSize> = Vec::with_capacity(live.len());
    for r in &live {
        let p = place(r.kv.key);
        let size = r.kv.value.len() as u64;
        let e = by_res.entry(p.resource.clone()).or_default();
        e.objects += 1;
        e.bytes += size;
        e.largest = e.largest.max(size);
        *e.encryption.entry(provider(r.kv.value)).or_default() += 1;
        if !p.namespace.is_empty() {
            let n = by_ns
                .entry(p.namespace.clone())
                .or_insert_with(|| NamespaceStats {
                    namespace: p.namespace.clone(),
                    objects: 0,
                    bytes: 0,
                });
            n.objects += 1;
            n.bytes += size;
        }
        largest.push(ObjectSize {
            key: String::from_utf8_lossy(r.kv.key).into_owned(),
            bytes: size,
            mod_revision: r.kv.mod_revision,
        });
    }
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.key.cmp(&b.key)));
    largest.truncate(top);
    let mut resources: Vec<ResourceStats> = by_res.into_values().collect();
    resources.sort_by(|a, b| {
        b.history_bytes
            .cmp(&a.history_bytes)
            .then(a.resource.cmp(&b.resource))
    });
    let mut namespaces: Vec<NamespaceStats> = by_ns.into_values().collect();
    namespaces.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.namespace.cmp(&b.namespace)));
    Stats {
        resources,
        largest,
        namespaces,
        live_objects: live.len() as u64,
        revisions: records.len() as u64,
        current_revision: store.current,
        compacted_revision: store.compacted,
        oldest_revision: records.first().map(|r| r.rev.main),
    }
}
