//! The report `diff` gives: objects added, removed and changed between two
//! states of a selection, each named by resource, namespace and name, with
//! the field paths that changed, who changed them (managedFields), and
//! objects deleted and created again. A value; the CLI prints it as text
//! or as the `etcdsnap.diff` document (docs/json/diff.schema.json: this
//! struct's serde shape is that document's body).

use rayon::prelude::*;
use serde::Serialize;

use crate::crypt::KeyRing;
use crate::forensics::diff::{
    changed_by, diff_states, json_diff, recreated, FieldChange, FieldManager, PathPattern,
};
use crate::kube::key::KeyKind;
use crate::mvcc::Record;
use crate::query::{Filter, Item, QueryError};
use crate::redact::Redaction;

/// An object added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: String,
    /// `resource.group` as kubectl names it, or a parenthesized note for
    /// keys of no Kubernetes layout.
    pub resource: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    /// Its mod revision on the side where it exists.
    pub revision: i64,
}

/// An object whose stored bytes differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    pub key: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
    pub old_revision: i64,
    pub new_revision: i64,
    /// Why no fields are given (a side that does not decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Deleted and created again: the old and new uid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recreated: Option<(String, String)>,
    /// managedFields entries that are new or changed: who changed it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<FieldManager>,
    pub fields: Vec<FieldChange>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// "N added, N removed, N changed, N unchanged" (recreated objects
    /// counted apart).
    pub summary: String,
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    /// Objects where only ignored paths changed are left out.
    pub changed: Vec<Changed>,
}

impl DiffReport {
    /// Whether the two states differ (the CLI exits 1 then).
    pub fn is_different(&self) -> bool {
        !(self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty())
    }
}

/// What to compare and how.
pub struct DiffOptions<'a> {
    /// Names each key (its custom etcd prefix, if any).
    pub filter: &'a Filter,
    /// Field paths left out of the comparison.
    pub ignore: &'a [PathPattern],
    /// Applied to both objects before comparing, so the report shows no
    /// more than `get` would.
    pub redaction: Redaction,
}

/// Compares two key-sorted states (as `Store::state_at` returns them),
/// decoding the changed values (in parallel) with each side's keys.
pub fn diff_report(
    old: &[Record<'_>],
    new: &[Record<'_>],
    keys_old: Option<&KeyRing>,
    keys_new: Option<&KeyRing>,
    opts: &DiffOptions<'_>,
) -> DiffReport {
    let d = diff_states(old, new);
    let changed: Vec<Changed> = d
        .changed
        .par_iter()
        .filter_map(|(o, n)| changed(o, n, keys_old, keys_new, opts))
        .collect();
    let added: Vec<Entry> = d.added.iter().map(|r| entry(opts.filter, r)).collect();
    let removed: Vec<Entry> = d.removed.iter().map(|r| entry(opts.filter, r)).collect();
    let recreated_n = changed.iter().filter(|c| c.recreated.is_some()).count();
    let summary = format!(
        "{} added, {} removed, {} changed{}, {} unchanged",
        added.len(),
        removed.len(),
        changed.len() - recreated_n,
        if recreated_n > 0 {
            format!(", {recreated_n} recreated (deleted and created again)")
        } else {
            String::new()
        },
        d.unchanged + (d.changed.len() - changed.len())
    );
    DiffReport {
        summary,
        added,
        removed,
        changed,
    }
}

/// One changed key; `None` when only ignored paths changed.
fn changed(
    o: &Record<'_>,
    n: &Record<'_>,
    keys_old: Option<&KeyRing>,
    keys_new: Option<&KeyRing>,
    opts: &DiffOptions<'_>,
) -> Option<Changed> {
    let (io, inew) = (Item::new(*o, keys_old), Item::new(*n, keys_new));
    let (resource, namespace, name) = place(opts.filter, n.kv.key);
    let mut again = None;
    let mut who = Vec::new();
    let (fields, note) = match (io.object(), inew.object()) {
        (Ok(mut x), Ok(mut y)) => {
            again = recreated(&x, &y);
            who = changed_by(&x, &y);
            opts.redaction.apply(o.kv.key, &mut x);
            opts.redaction.apply(n.kv.key, &mut y);
            (json_diff(&x, &y, opts.ignore), None)
        }
        (x, y) => {
            let (x, y) = (x.err(), y.err());
            let encrypted = x.iter().chain(&y).any(QueryError::is_encrypted);
            let why = x.or(y).map(|e| e.to_string()).unwrap_or_default();
            let note = if encrypted {
                format!("compared as ciphertext: the stored bytes differ ({why})")
            } else {
                format!("stored bytes differ; not decoded: {why}")
            };
            (Vec::new(), Some(note))
        }
    };
    if fields.is_empty() && note.is_none() && again.is_none() {
        return None;
    }
    Some(Changed {
        key: String::from_utf8_lossy(n.kv.key).into_owned(),
        resource,
        namespace,
        name,
        old_revision: o.kv.mod_revision,
        new_revision: n.kv.mod_revision,
        note,
        recreated: again,
        changed_by: who,
        fields,
    })
}

/// (resource, namespace, name) of a key.
pub fn place(f: &Filter, k: &[u8]) -> (String, String, String) {
    let raw = || String::from_utf8_lossy(k).into_owned();
    match f.parse_key(k) {
        Some(sk) if sk.kind == KeyKind::CompactRevKey => (
            "(compact_rev_key: apiserver's compaction mark)".into(),
            String::new(),
            raw(),
        ),
        Some(sk) if !sk.resource.is_empty() => {
            let res = match sk.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", sk.resource),
                _ => sk.resource.to_string(),
            };
            (
                res,
                sk.namespace.unwrap_or("").to_string(),
                sk.name.to_string(),
            )
        }
        _ => (
            "(etcd keys of no Kubernetes layout)".into(),
            String::new(),
            raw(),
        ),
    }
}

fn entry(f: &Filter, r: &Record<'_>) -> Entry {
    let (resource, namespace, name) = place(f, r.kv.key);
    Entry {
        key: String::from_utf8_lossy(r.kv.key).into_owned(),
        resource,
        namespace,
        name,
        revision: r.kv.mod_revision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::schema::Revision;
    use crate::etcd::KeyValue;
    use crate::forensics::diff::DEFAULT_IGNORES;

    fn rec<'a>(key: &'a str, rev: i64, value: &'a [u8]) -> Record<'a> {
        Record {
            rev: Revision {
                main: rev,
                sub: 0,
                tombstone: false,
            },
            kv: KeyValue {
                key: key.as_bytes(),
                create_revision: 2,
                mod_revision: rev,
                version: 1,
                value,
                lease: 0,
            },
        }
    }

    fn opts<'a>(f: &'a Filter, ignore: &'a [PathPattern]) -> DiffOptions<'a> {
        DiffOptions {
            filter: f,
            ignore,
            redaction: Redaction::new(false, false),
        }
    }

    const OLD_CM: &[u8] = br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"5"},"data":{"a":"1"}}"#;
    const NEW_CM: &[u8] = br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"9"},"data":{"a":"2"}}"#;
    const AGAIN_CM: &[u8] = br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","uid":"u2"},"data":{"a":"1"}}"#;

    #[test]
    fn added_removed_changed_and_unchanged() {
        let old = [
            rec("/registry/configmaps/shop/gone", 3, b"x"),
            rec("/registry/configmaps/shop/same", 4, b"y"),
            rec("/registry/configmaps/shop/web", 5, OLD_CM),
        ];
        let new = [
            rec("/registry/configmaps/shop/same", 4, b"y"),
            rec("/registry/configmaps/shop/web", 9, NEW_CM),
            rec("/registry/namespaces/shop", 8, b"z"),
        ];
        let f = Filter::default();
        let ignore: Vec<PathPattern> = DEFAULT_IGNORES
            .iter()
            .map(|p| PathPattern::parse(p))
            .collect();
        let r = diff_report(&old, &new, None, None, &opts(&f, &ignore));
        assert_eq!(r.summary, "1 added, 1 removed, 1 changed, 1 unchanged");
        assert!(r.is_different());
        assert_eq!(
            r.added,
            [Entry {
                key: "/registry/namespaces/shop".into(),
                resource: "namespaces".into(),
                namespace: String::new(),
                name: "shop".into(),
                revision: 8,
            }]
        );
        assert_eq!(r.removed[0].name, "gone");
        assert_eq!(r.removed[0].namespace, "shop");
        let c = &r.changed[0];
        assert_eq!((c.old_revision, c.new_revision), (5, 9));
        let paths: Vec<&str> = c.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["data.a"], "resourceVersion is ignored by default");
        assert_eq!(c.recreated, None);
        // The serde shape is the etcdsnap.diff body.
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["summary", "added", "removed", "changed"]);
        assert!(v["changed"][0].get("note").is_none());
    }

    #[test]
    fn recreated_undecodable_and_ignored_only() {
        let old = [
            rec("/registry/configmaps/shop/rv-only", 5, OLD_CM),
            rec("/registry/configmaps/shop/web", 5, OLD_CM),
            rec("/registry/secrets/shop/s", 6, b"k8s:enc:aescbc:v1:1:xxxx"),
        ];
        let rv_only = String::from_utf8_lossy(OLD_CM).replace("\"5\"", "\"7\"");
        let new = [
            rec("/registry/configmaps/shop/rv-only", 7, rv_only.as_bytes()),
            rec("/registry/configmaps/shop/web", 9, AGAIN_CM),
            rec("/registry/secrets/shop/s", 10, b"k8s:enc:aescbc:v1:1:yyyy"),
        ];
        let f = Filter::default();
        let ignore: Vec<PathPattern> = DEFAULT_IGNORES
            .iter()
            .map(|p| PathPattern::parse(p))
            .collect();
        let r = diff_report(&old, &new, None, None, &opts(&f, &ignore));
        assert_eq!(
            r.summary,
            "0 added, 0 removed, 1 changed, 1 recreated (deleted and created again), 1 unchanged"
        );
        assert_eq!(r.changed.len(), 2);
        assert_eq!(
            r.changed[0].recreated,
            Some(("u1".to_string(), "u2".to_string()))
        );
        let note = r.changed[1].note.as_deref().unwrap_or("");
        assert!(note.starts_with("compared as ciphertext"), "{note}");
        assert!(r.changed[1].fields.is_empty());
        // Equal states: nothing differs.
        let r = diff_report(&old, &old, None, None, &opts(&f, &ignore));
        assert!(!r.is_different());
        assert_eq!(r.summary, "0 added, 0 removed, 0 changed, 3 unchanged");
    }

    #[test]
    fn place_names_keys_of_no_kubernetes_layout() {
        let f = Filter::default();
        let (res, ns, name) = place(&f, b"/registry/deployments/shop/web");
        assert_eq!(
            (res.as_str(), ns.as_str(), name.as_str()),
            ("deployments", "shop", "web")
        );
        assert_eq!(
            place(&f, b"/registry/example.com/widgets/shop/w").0,
            "widgets.example.com"
        );
        let (res, ns, name) = place(&f, b"/custom/thing");
        assert_eq!(res, "(etcd keys of no Kubernetes layout)");
        assert_eq!((ns.as_str(), name.as_str()), ("", "/custom/thing"));
    }
}
