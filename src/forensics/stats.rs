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

/// The database's own numbers in the `stats` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Database {
    /// bbolt bytes (the file without its trailer).
    pub total_size: u64,
    pub file_size: u64,
    pub bytes_in_use: u64,
    pub bytes_free: u64,
    /// What a compact rewrite (`defrag`) would write.
    pub defrag_size: u64,
    /// `total_size - defrag_size`.
    pub defrag_reclaims: u64,
    pub free_pages: u64,
    pub total_key: u64,
    pub revision: i64,
    pub compacted_revision: Option<i64>,
    pub scheduled_compact_revision: Option<i64>,
    pub oldest_revision: Option<i64>,
    pub revisions_held: u64,
    pub live_objects: u64,
}

/// The whole `stats` report; its serde shape is the body of the
/// `etcdsnap.stats` document (docs/json/stats.schema.json).
#[derive(Debug, Clone, Serialize)]
pub struct StatsReport {
    pub database: Database,
    pub resources: Vec<ResourceStats>,
    pub largest: Vec<ObjectSize>,
    pub namespaces: Vec<NamespaceStats>,
    /// Page size and high-water mark, for people.
    #[serde(skip)]
    pub page_size: u32,
    #[serde(skip)]
    pub pages: u64,
    /// The newest revision the counts saw.
    #[serde(skip)]
    pub current_revision: i64,
}

impl StatsReport {
    /// Joins the status numbers, the size a defrag would write and the
    /// counts.
    pub fn new(detail: &crate::etcd::status::StatusDetail, defrag_size: u64, s: Stats) -> Self {
        StatsReport {
            database: Database {
                total_size: detail.status.total_size,
                file_size: detail.file_size,
                bytes_in_use: detail.bytes_in_use,
                bytes_free: detail.bytes_free,
                defrag_size,
                defrag_reclaims: detail.status.total_size.saturating_sub(defrag_size),
                free_pages: detail.pages_free,
                total_key: detail.status.total_key,
                revision: detail.status.revision,
                compacted_revision: s.compacted_revision,
                scheduled_compact_revision: detail.meta.scheduled_compact_revision,
                oldest_revision: s.oldest_revision,
                revisions_held: s.revisions,
                live_objects: s.live_objects,
            },
            resources: s.resources,
            largest: s.largest,
            namespaces: s.namespaces,
            page_size: detail.page_size,
            pages: detail.pages,
            current_revision: s.current_revision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::{status, Snapshot};

    #[test]
    fn report_joins_status_defrag_size_and_counts() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/etcd-3.5/small.db");
        let snap = Snapshot::open(&path).unwrap();
        let store = Store::open(&snap).unwrap();
        let detail = status::detail(&snap).unwrap();
        let place = |k: &[u8]| Place {
            resource: String::from_utf8_lossy(k)
                .split('/')
                .nth(2)
                .unwrap_or("")
                .to_string(),
            namespace: String::new(),
        };
        let s = collect(&store, 3, place, |_| "identity".to_string());
        let live = s.live_objects;
        let r = StatsReport::new(&detail, 90112, s);
        let d = &r.database;
        assert_eq!(d.total_size, 212992);
        assert_eq!(d.defrag_reclaims, 212992 - 90112);
        assert_eq!((d.revision, d.total_key), (52, 58));
        assert_eq!(d.compacted_revision, Some(37));
        assert_eq!(d.live_objects, live);
        assert!(r.largest.len() <= 3);
        let sum: u64 = r.resources.iter().map(|x| x.objects).sum();
        assert_eq!(sum, live);
        // The serde shape is the etcdsnap.stats body.
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["database", "resources", "largest", "namespaces"]);
        // A defrag never reclaims less than nothing.
        let s = collect(&store, 3, place, |_| "identity".to_string());
        assert_eq!(
            StatsReport::new(&detail, u64::MAX, s)
                .database
                .defrag_reclaims,
            0
        );
    }
}
