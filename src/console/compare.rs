//! Comparing two states — two revisions of one snapshot, or two
//! snapshots — as the diff page shows them: keys added, removed and changed
//! grouped by resource and namespace, each changed object with its field
//! paths (the key-level join and field walk of [`crate::forensics::diff`]).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::crypt::KeyRing;
use crate::forensics::diff::{
    diff_states, json_diff, recreated, FieldChange, PathPattern, DEFAULT_IGNORES,
};
use crate::mvcc::{MvccError, Store};
use crate::query::Item;
use crate::redact::Redaction;

/// One side of a comparison.
pub(crate) struct Side<'s, 'a> {
    pub store: &'s Store<'a>,
    pub keys: Option<&'s KeyRing>,
    /// `None`: the latest revision.
    pub rev: Option<i64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Named {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Changed {
    pub name: String,
    pub key: String,
    pub changes: Vec<FieldChange>,
    pub recreated: Option<(String, String)>,
    /// Why the field diff could not be made (a value that does not decode).
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Group {
    pub resource: String,
    pub namespace: String,
    pub added: Vec<Named>,
    pub removed: Vec<Named>,
    pub changed: Vec<Changed>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DiffView {
    pub from_revision: i64,
    pub to_revision: i64,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Keys identical on both sides, or whose stored bytes differ with no
    /// field changed (re-encrypted, or only resourceVersion).
    pub unchanged: usize,
    pub groups: Vec<Group>,
    /// Changed objects beyond `max_detailed`: counted, not listed.
    pub truncated: usize,
}

/// Compares `a` (old) with `b` (new). At most `max_detailed` changed
/// objects are decoded for their field paths; Secret data shows as
/// digests unless `red` reveals it.
pub(crate) fn diff(
    a: &Side<'_, '_>,
    b: &Side<'_, '_>,
    red: Redaction,
    max_detailed: usize,
) -> Result<DiffView, MvccError> {
    let old = a.store.state_at(a.rev, |_| true)?;
    let new = b.store.state_at(b.rev, |_| true)?;
    let d = diff_states(&old, &new);
    let ignore: Vec<PathPattern> = DEFAULT_IGNORES
        .iter()
        .map(|p| PathPattern::parse(p))
        .collect();
    let truncated = d.changed.len().saturating_sub(max_detailed);
    let detailed: Vec<Option<Changed>> = d.changed[..d.changed.len() - truncated]
        .par_iter()
        .map(|(ra, rb)| {
            let key = String::from_utf8_lossy(rb.kv.key).into_owned();
            let name = super::place(rb.kv.key).name;
            let obj = |r, keys| {
                Item::new(r, keys).object().map(|mut o| {
                    red.apply(rb.kv.key, &mut o);
                    o
                })
            };
            match (obj(*ra, a.keys), obj(*rb, b.keys)) {
                (Ok(x), Ok(y)) => {
                    let changes = json_diff(&x, &y, &ignore);
                    let rec = recreated(&x, &y);
                    if changes.is_empty() && rec.is_none() {
                        return None;
                    }
                    Some(Changed {
                        name,
                        key,
                        changes,
                        recreated: rec,
                        error: None,
                    })
                }
                (x, y) => Some(Changed {
                    name,
                    key,
                    changes: Vec::new(),
                    recreated: None,
                    error: x.err().or(y.err()).map(|e| e.to_string()),
                }),
            }
        })
        .collect();
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut add = |k: &[u8], which: u8, c: Option<Changed>| {
        let p = super::place(k);
        let g = groups
            .entry((p.resource.clone(), p.namespace.clone()))
            .or_insert_with(|| Group {
                resource: p.resource.clone(),
                namespace: p.namespace.clone(),
                ..Default::default()
            });
        let named = || Named {
            name: p.name.clone(),
            key: String::from_utf8_lossy(k).into_owned(),
        };
        match which {
            0 => g.added.push(named()),
            1 => g.removed.push(named()),
            _ => g.changed.extend(c),
        }
    };
    for r in &d.added {
        add(r.kv.key, 0, None);
    }
    for r in &d.removed {
        add(r.kv.key, 1, None);
    }
    let mut changed = truncated;
    let mut quiet = 0;
    for c in detailed {
        match c {
            Some(c) => {
                changed += 1;
                let k = c.key.clone();
                add(k.as_bytes(), 2, Some(c));
            }
            None => quiet += 1,
        }
    }
    Ok(DiffView {
        from_revision: a.rev.unwrap_or(a.store.current),
        to_revision: b.rev.unwrap_or(b.store.current),
        added: d.added.len(),
        removed: d.removed.len(),
        changed,
        unchanged: d.unchanged + quiet,
        groups: groups.into_values().collect(),
        truncated,
    })
}
