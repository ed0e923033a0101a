//! The `history` report: every revision of one key still held, each with
//! its storage (encoding, encryption) and, on request, its decoded object;
//! and which key a RESOURCE NAME selection names among all held revisions.
//!
//! Values only: the CLI prints the table or the JSON document.

use serde::Serialize;

use crate::crypt::KeyRing;
use crate::mvcc::{HistoryEntry, Store};
use crate::query::{Encryption, Filter, Item};
use crate::redact::Redaction;
use crate::salvage::Salvage;

/// One revision of the key.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    /// With a salvage: where the record was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    /// The value's encoding (after decryption); `None` for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    /// `Some(None)`: a put stored unencrypted; `None`: a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Option<Encryption>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
    /// Why the object does not decode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Revision {
    /// How the value is stored, for a table: `PROVIDER key NAME` when
    /// encrypted, else its encoding; empty for a deletion.
    pub fn storage(&self) -> String {
        match (&self.encryption, self.encoding) {
            (Some(Some(e)), _) => format!("{} key {}", e.provider, e.key),
            (_, Some(enc)) => enc.to_string(),
            _ => String::new(),
        }
    }
}

/// What a history carries besides the records' own fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryOptions {
    /// Decode each put's object (or say why it does not decode).
    pub decode: bool,
    /// With `decode`, keep the key material of encryption-key Secrets.
    pub show_key_material: bool,
}

/// Every held revision of one key, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub key: String,
    /// Revisions before this one are gone: the store's compaction, or with
    /// a salvage the meta bucket's (older revisions then come from free
    /// pages).
    pub compacted_revision: Option<i64>,
    pub current_revision: i64,
    pub revisions: Vec<Revision>,
    /// The store's own compaction (`None` with a salvage that reads free
    /// pages): whether revisions before `compacted_revision` are gone or
    /// shown from free pages.
    #[serde(skip)]
    pub store_compacted: Option<i64>,
}

impl History {
    /// The revisions of `key` in `store`, decrypted with `keys` when given;
    /// `salvage` names each record's source.
    pub fn new(
        store: &Store<'_>,
        key: &str,
        keys: Option<&KeyRing>,
        salvage: Option<&Salvage<'_>>,
        opts: HistoryOptions,
    ) -> History {
        let revisions = store
            .history(key.as_bytes())
            .iter()
            .map(|r| {
                let mut rev = Revision {
                    entry: HistoryEntry::from_record(r),
                    source: salvage.map(|s| s.source(r).label()),
                    encoding: None,
                    encryption: None,
                    object: None,
                    error: None,
                };
                if !r.is_delete() {
                    let it = Item::new(*r, keys);
                    rev.encoding = Some(it.encoding);
                    if opts.decode {
                        match it.object() {
                            Ok(mut o) => {
                                Redaction::new(false, opts.show_key_material)
                                    .apply(r.kv.key, &mut o);
                                rev.object = Some(o);
                            }
                            Err(e) => rev.error = Some(e.to_string()),
                        }
                    }
                    rev.encryption = Some(it.encryption);
                }
                rev
            })
            .collect();
        History {
            key: key.to_string(),
            compacted_revision: store
                .compacted
                .or(salvage.and_then(|s| s.meta.finished_compact_revision)),
            current_revision: store.current,
            revisions,
            store_compacted: store.compacted,
        }
    }

    /// What the table says under the rows about older revisions.
    pub fn compaction_note(&self) -> Option<String> {
        match (self.store_compacted, self.compacted_revision) {
            (Some(c), _) => Some(format!("(revisions before {c} were compacted away)")),
            (None, Some(c)) => Some(format!(
                "(compacted at {c}: older revisions shown come from free pages)"
            )),
            (None, None) => None,
        }
    }
}

/// The distinct keys of any held revision that `filter` selects, sorted:
/// an object deleted since still has its history.
pub fn matching_keys<'a>(store: &Store<'a>, filter: &Filter) -> Vec<&'a [u8]> {
    let keys: std::collections::BTreeSet<&'a [u8]> = store
        .records()
        .iter()
        .map(|r| r.kv.key)
        .filter(|k| filter.key_matches(k))
        .collect();
    keys.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;

    fn open(rel: &str) -> Session<'static> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        Session::open_path(&p, &[]).unwrap()
    }

    #[test]
    fn revisions_of_one_key_in_order_with_storage() {
        let s = open("fixtures/etcd-3.5/small.db");
        // The key with the most revisions.
        let mut counts = std::collections::BTreeMap::new();
        for r in s.store.records() {
            *counts.entry(r.kv.key).or_insert(0) += 1;
        }
        let (key, n) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
        let key = String::from_utf8_lossy(key).into_owned();
        let h = History::new(&s.store, &key, None, None, HistoryOptions::default());
        assert_eq!(h.revisions.len(), *n);
        assert_eq!(h.key, key);
        assert_eq!(h.current_revision, s.store.current);
        assert!(
            h.revisions
                .windows(2)
                .all(|w| (w[0].entry.revision, w[0].entry.sub)
                    < (w[1].entry.revision, w[1].entry.sub))
        );
        for r in &h.revisions {
            assert!(r.source.is_none() && r.object.is_none());
            if r.entry.op == "delete" {
                assert_eq!(r.storage(), "");
                assert!(r.encryption.is_none());
            } else {
                assert_eq!(r.storage(), r.encoding.unwrap());
            }
        }
        // JSON: the entry's fields first, then what was added.
        let v = serde_json::to_value(&h.revisions[0]).unwrap();
        let names: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(names[0], "revision");
        assert!(!names.iter().any(|n| *n == "store_compacted"));
    }

    #[test]
    fn decoded_puts_and_matching_keys() {
        let s = open("fixtures/etcd-3.5/small.db");
        let filter = Filter {
            resources: crate::kube::key::resolve_all("configmaps"),
            ..Filter::default()
        };
        let keys = matching_keys(&s.store, &filter);
        assert!(!keys.is_empty());
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(keys.iter().all(|k| k.starts_with(b"/registry/configmaps/")));
        let key = String::from_utf8_lossy(keys[0]).into_owned();
        let h = History::new(
            &s.store,
            &key,
            None,
            None,
            HistoryOptions {
                decode: true,
                show_key_material: false,
            },
        );
        let put = h.revisions.iter().find(|r| r.entry.op == "put").unwrap();
        assert_eq!(put.object.as_ref().unwrap()["kind"], "ConfigMap");
        assert!(put.encryption == Some(None));
    }
}
