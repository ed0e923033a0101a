//! Browsing: one page of a resource's objects with the printer columns
//! `kubectl get` shows, one object with the facts of its stored value, and
//! an object's history with the field-level diff between consecutive
//! revisions (the paths `etcdsnap diff` prints).

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value as J;

use crate::crypt::KeyRing;
use crate::forensics::diff::{json_diff, recreated, FieldChange, PathPattern, DEFAULT_IGNORES};
use crate::kube::key;
use crate::kube::print::{Column, Printer};
use crate::mvcc::{HistoryEntry, Record, Store};
use crate::query::{Encryption, Item, LabelSelector, QueryError};
use crate::redact::{self, Redaction};

/// What a list request selects.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    /// Substring of the name (case-insensitive).
    pub name: String,
    pub labels: Option<LabelSelector>,
    /// Prefix of the etcd key.
    pub key_prefix: String,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub key: String,
    pub namespace: String,
    pub name: String,
    pub cells: Vec<J>,
    /// Why the object could not be read (its cells are then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ListPage {
    pub columns: Vec<Column>,
    /// Objects that match (all pages).
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<Row>,
}

/// The object name an etcd key names (empty for keys of no layout).
fn name_of(k: &[u8]) -> &str {
    key::parse(k).map_or("", |k| k.name)
}

/// One page of `records` (sorted by namespace and name) that match `q`,
/// with the cells of printer `p`.
/// Names and key prefixes are matched without decoding; a label selector
/// decodes labels only; the page's rows alone are decoded in full, and
/// redacted by `red` before their cells are taken.
pub(crate) fn list(
    records: &[Record<'_>],
    p: &Printer,
    keys: Option<&KeyRing>,
    now: i64,
    q: &ListQuery,
    red: Redaction,
) -> ListPage {
    let needle = q.name.to_lowercase();
    let cheap = |r: &&Record<'_>| {
        (needle.is_empty() || name_of(r.kv.key).to_lowercase().contains(&needle))
            && (q.key_prefix.is_empty() || r.kv.key.starts_with(q.key_prefix.as_bytes()))
    };
    let selected: Vec<&Record<'_>> = match &q.labels {
        None => records.iter().filter(cheap).collect(),
        Some(sel) => records
            .par_iter()
            .filter(|r| cheap(r))
            .filter(|r| Item::new(**r, keys).labels().is_ok_and(|l| sel.matches(&l)))
            .collect(),
    };
    let end = selected.len().min(q.offset.saturating_add(q.limit));
    let page = selected.get(q.offset..end).unwrap_or(&[]);
    let rows = page
        .par_iter()
        .map(|r| {
            let it = Item::new(**r, keys);
            let (cells, error) = match it.object() {
                Ok(mut o) => {
                    // A CRD's columns may point anywhere in the object.
                    red.apply(r.kv.key, &mut o);
                    (p.row(&o, now), None)
                }
                Err(err) => (Vec::new(), Some(err.to_string())),
            };
            let k = key::parse(r.kv.key);
            Row {
                key: String::from_utf8_lossy(r.kv.key).into_owned(),
                namespace: k
                    .as_ref()
                    .and_then(|k| k.namespace)
                    .unwrap_or("")
                    .to_string(),
                name: k.map_or("", |k| k.name).to_string(),
                cells,
                error,
            }
        })
        .collect();
    ListPage {
        columns: p.columns.clone(),
        total: selected.len(),
        offset: q.offset,
        rows,
    }
}

/// One object as the object page shows it.
#[derive(Debug, Serialize)]
pub(crate) struct ObjectView {
    pub key: String,
    #[serde(flatten)]
    pub place: super::Place,
    /// The revision asked for.
    pub at: i64,
    #[serde(flatten)]
    pub entry: HistoryEntry,
    pub deleted: bool,
    /// `protobuf`, `json`, ... of the bytes decoded (after decryption).
    pub encoding: String,
    pub encryption: Option<Encryption>,
    /// The provider of the stored value (`identity` when plain).
    pub provider: String,
    pub error: Option<String>,
    /// The object as YAML, keys sorted (as `kubectl get -o yaml`).
    pub yaml: Option<String>,
    /// A Secret (or a value holding one): its data is hidden unless
    /// revealed.
    pub secret: bool,
    /// Whether Secret data in `yaml` is replaced by digests.
    pub hidden: bool,
}

/// The record of `key` live at `rev` (the newest at or before it).
fn at_rev<'a>(store: &Store<'a>, key: &[u8], rev: i64) -> Option<Record<'a>> {
    store.history(key).into_iter().rfind(|r| r.rev.main <= rev)
}

/// Decodes a record, applies `red`, sorts keys.
fn decoded<'a>(
    r: Record<'a>,
    keys: Option<&KeyRing>,
    red: Redaction,
) -> (Item<'a>, Result<J, QueryError>) {
    let it = Item::new(r, keys);
    let o = it.object().map(|mut o| {
        red.apply(r.kv.key, &mut o);
        crate::query::sort_keys(&mut o);
        o
    });
    (it, o)
}

fn is_secret(key: &[u8], obj: Option<&J>) -> bool {
    redact::is_secret_key(key)
        || redact::is_key_material(key)
        || obj.is_some_and(|o| o.get("kind").and_then(J::as_str) == Some("Secret"))
}

/// `key` as it stood at `rev`; `None` when no revision at or before `rev`
/// is held. `red` says what to hide.
pub(crate) fn object(
    store: &Store<'_>,
    keys: Option<&KeyRing>,
    key: &[u8],
    rev: i64,
    red: Redaction,
) -> Option<ObjectView> {
    let r = at_rev(store, key, rev)?;
    let mut v = ObjectView {
        key: String::from_utf8_lossy(key).into_owned(),
        place: super::place(key),
        at: rev,
        entry: HistoryEntry::from_record(&r),
        deleted: r.is_delete(),
        encoding: String::new(),
        encryption: None,
        provider: String::new(),
        error: None,
        yaml: None,
        secret: redact::is_secret_key(key) || redact::is_key_material(key),
        hidden: false,
    };
    if r.is_delete() {
        return Some(v);
    }
    let (it, o) = decoded(r, keys, red);
    v.encoding = it.encoding.to_string();
    v.encryption = it.encryption.clone();
    v.provider = super::provider_of(r.kv.value);
    match o {
        Ok(o) => {
            v.secret = is_secret(key, Some(&o));
            v.hidden = v.secret && red.may_change(key);
            match serde_saphyr::to_string(&o) {
                Ok(y) => v.yaml = Some(y),
                Err(e) => v.error = Some(format!("{}: {e}", v.key)),
            }
        }
        Err(e) => v.error = Some(e.to_string()),
    }
    Some(v)
}

/// One held revision of an object and what changed from the one before.
#[derive(Debug, Serialize)]
pub(crate) struct Step {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    pub encryption: Option<Encryption>,
    /// First revision held, or the first after a deletion.
    pub created: bool,
    pub deleted: bool,
    /// (old uid, new uid) when deleted and created again under the key.
    pub recreated: Option<(String, String)>,
    /// Field paths changed since the previous live revision (the default
    /// ignores of `etcdsnap diff`: resourceVersion, managedFields).
    pub changes: Vec<FieldChange>,
    pub error: Option<String>,
}

/// A revision's encryption and its object (`None` for a deletion).
type Decoded = (Option<Encryption>, Option<Result<J, QueryError>>);

/// Every held revision of `key`, oldest first, each with its field diff
/// against the previous live revision.
pub(crate) fn history(
    store: &Store<'_>,
    keys: Option<&KeyRing>,
    key: &[u8],
    red: Redaction,
) -> Vec<Step> {
    let recs = store.history(key);
    let objs: Vec<Decoded> = recs
        .par_iter()
        .map(|r| {
            if r.is_delete() {
                (None, None)
            } else {
                let (it, o) = decoded(*r, keys, red);
                (it.encryption.clone(), Some(o))
            }
        })
        .collect();
    let ignore: Vec<PathPattern> = DEFAULT_IGNORES
        .iter()
        .map(|p| PathPattern::parse(p))
        .collect();
    let mut out = Vec::with_capacity(recs.len());
    let mut prev: Option<&J> = None;
    let mut after_delete = false;
    let mut last_live: Option<&J> = None;
    for (i, (r, (enc, obj))) in recs.iter().zip(&objs).enumerate() {
        let mut s = Step {
            entry: HistoryEntry::from_record(r),
            encryption: enc.clone(),
            created: false,
            deleted: r.is_delete(),
            recreated: None,
            changes: Vec::new(),
            error: None,
        };
        match obj {
            None => {
                prev = None;
                after_delete = true;
            }
            Some(Err(e)) => {
                s.error = Some(e.to_string());
                s.created = i == 0 || after_delete;
                prev = None;
                after_delete = false;
            }
            Some(Ok(o)) => {
                s.created = i == 0 || after_delete;
                if let Some(p) = prev {
                    s.changes = json_diff(p, o, &ignore);
                } else if let Some(l) = last_live.filter(|_| after_delete) {
                    s.recreated = recreated(l, o);
                }
                prev = Some(o);
                last_live = Some(o);
                after_delete = false;
            }
        }
        out.push(s);
    }
    out
}
