//! One object, or every object of a selection, across many backups: per
//! backup, what was created, changed (with field paths) and deleted since
//! the backup before it.
//!
//! The caller opens the backups (in parallel) and orders them by time; this
//! module diffs each consecutive pair of states (in parallel), decoding
//! only the values whose stored bytes differ.

use rayon::prelude::*;
use serde::Serialize;

use crate::crypt::KeyRing;
use crate::forensics::diff::{diff_states, json_diff, PathPattern};
use crate::mvcc::{Record, Store};
use crate::query::{Filter, Item};

/// One backup, opened, and where it sits in time.
pub struct Backup<'a> {
    /// What to call it (its file name).
    pub name: String,
    /// When it was taken (RFC 3339), as far as is known.
    pub time: Option<String>,
    pub store: &'a Store<'a>,
    pub keys: Option<&'a KeyRing>,
}

/// An object that changed, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    pub object: String,
    /// Changed field paths (`spec.replicas`, `data.k`).
    pub paths: Vec<String>,
    /// Why no paths are given (e.g. values that could not be decoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One backup's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub backup: String,
    pub time: Option<String>,
    /// The newest revision in the backup.
    pub revision: i64,
    /// Objects selected in this backup.
    pub objects: usize,
    /// Since the previous backup (all empty for the first).
    pub created: Vec<String>,
    pub changed: Vec<Changed>,
    pub deleted: Vec<String>,
}

/// `resource/namespace/name` (or `resource/name`, or the raw key) of a key.
pub fn object_name(filter: &Filter, key: &[u8]) -> String {
    match filter.parse_key(key) {
        Some(sk) => {
            let res = match sk.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", sk.resource),
                _ => sk.resource.to_string(),
            };
            match sk.namespace {
                Some(ns) => format!("{res}/{ns}/{}", sk.name),
                None => format!("{res}/{}", sk.name),
            }
        }
        None => String::from_utf8_lossy(key).into_owned(),
    }
}

/// Whether a record passes the label selector (undecodable ones do: they
/// are reported rather than hidden).
fn selected(filter: &Filter, r: &Record<'_>, keys: Option<&KeyRing>) -> bool {
    match &filter.labels {
        None => true,
        Some(l) => Item::new(*r, keys).object().map_or(true, |o| l.matches(&o)),
    }
}

/// The rows of a timeline, one per backup in the order given.
pub fn timeline(
    backups: &[Backup<'_>],
    filter: &Filter,
    ignore: &[PathPattern],
) -> Result<Vec<Row>, crate::mvcc::MvccError> {
    let states: Vec<Vec<Record<'_>>> = backups
        .par_iter()
        .map(|b| {
            let s = b.store.state_at(None, |k| filter.key_matches(k))?;
            Ok(s.into_iter()
                .filter(|r| selected(filter, r, b.keys))
                .collect())
        })
        .collect::<Result<_, crate::mvcc::MvccError>>()?;
    let rows = (0..backups.len())
        .into_par_iter()
        .map(|i| {
            let b = &backups[i];
            let mut row = Row {
                backup: b.name.clone(),
                time: b.time.clone(),
                revision: b.store.current,
                objects: states[i].len(),
                created: Vec::new(),
                changed: Vec::new(),
                deleted: Vec::new(),
            };
            if i == 0 {
                return row;
            }
            let prev = &backups[i - 1];
            let d = diff_states(&states[i - 1], &states[i]);
            row.created = d
                .added
                .iter()
                .map(|r| object_name(filter, r.kv.key))
                .collect();
            row.deleted = d
                .removed
                .iter()
                .map(|r| object_name(filter, r.kv.key))
                .collect();
            for (o, n) in &d.changed {
                let (io, inew) = (Item::new(*o, prev.keys), Item::new(*n, b.keys));
                let object = object_name(filter, n.kv.key);
                match (io.object(), inew.object()) {
                    (Ok(x), Ok(y)) => {
                        let paths: Vec<String> = json_diff(&x, &y, ignore)
                            .into_iter()
                            .map(|c| c.path)
                            .collect();
                        if !paths.is_empty() {
                            row.changed.push(Changed {
                                object,
                                paths,
                                note: None,
                            });
                        }
                    }
                    (x, y) => row.changed.push(Changed {
                        object,
                        paths: Vec::new(),
                        note: Some(format!(
                            "stored bytes differ; not decoded: {}",
                            x.err()
                                .or(y.err())
                                .map(|e| e.to_string())
                                .unwrap_or_default()
                        )),
                    }),
                }
            }
            row
        })
        .collect();
    Ok(rows)
}
