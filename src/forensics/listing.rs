//! The rows of `ls`: one a live key with its revisions, lease, size,
//! encoding and (on request) its decoded object; one a deleted key with the
//! revision that deleted it and the last that still shows it.
//!
//! Values only: the CLI streams the rows as JSON or lays them out as a
//! table.

use std::borrow::Cow;

use serde::Serialize;

use crate::crypt::KeyRing;
use crate::mvcc::{MvccError, Record, Store};
use crate::query::{Encryption, Item};
use crate::redact::Redaction;

/// What a key row carries besides the record's own fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowOptions {
    /// Add the decoded object (or why it does not decode).
    pub decode: bool,
    /// With `decode`, keep the key material of encryption-key Secrets
    /// (digests otherwise).
    pub show_key_material: bool,
}

/// One live key (`ls`, `ls -o json`).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow<'a> {
    pub key: Cow<'a, str>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub lease: i64,
    pub size: usize,
    /// `encrypted` for a value decrypted with the key ring (its plaintext's
    /// encoding otherwise shows in `encryption`'s absence), else the stored
    /// value's encoding.
    pub encoding: &'static str,
    pub encryption: Option<Encryption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
    /// Why the object does not decode (with `decode`), or why an encrypted
    /// value could not be decrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With a salvage: where the record was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

impl<'a> KeyRow<'a> {
    /// The row of `record`, decrypted with `keys` when given.
    pub fn new(record: Record<'a>, keys: Option<&KeyRing>, opts: RowOptions) -> KeyRow<'a> {
        let it = Item::new(record, keys);
        let kv = &record.kv;
        let (object, error) = if opts.decode {
            match it.object() {
                Ok(mut o) => {
                    Redaction::new(false, opts.show_key_material).apply(kv.key, &mut o);
                    (Some(o), None)
                }
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, it.decrypt_error.as_ref().map(ToString::to_string))
        };
        KeyRow {
            key: String::from_utf8_lossy(kv.key),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
            size: kv.value.len(),
            encoding: if it.encryption.is_some() && !it.is_encrypted() {
                "encrypted"
            } else {
                it.encoding
            },
            encryption: it.encryption,
            object,
            error,
            source: None,
        }
    }

    /// How the value is stored, for a table: `PROVIDER key NAME` when
    /// encrypted, else its encoding.
    pub fn storage(&self) -> Cow<'_, str> {
        match &self.encryption {
            Some(e) => Cow::Owned(format!("{} key {}", e.provider, e.key)),
            None => Cow::Borrowed(self.encoding),
        }
    }

    /// The lease in hex, `-` for none.
    pub fn lease_hex(&self) -> String {
        if self.lease == 0 {
            "-".to_string()
        } else {
            format!("{:x}", self.lease)
        }
    }
}

/// One key deleted within the held history (`ls --deleted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletedRow<'a> {
    pub key: Cow<'a, str>,
    pub deleted_revision: i64,
    /// The newest revision at which the key still existed.
    pub last_live_revision: i64,
    /// The last put's revisions, when still held.
    pub create_revision: Option<i64>,
    pub mod_revision: Option<i64>,
}

/// The keys starting with `prefix` whose newest revision at `rev` (default:
/// the latest) is a deletion.
pub fn deleted<'a>(
    store: &Store<'a>,
    rev: Option<i64>,
    prefix: &[u8],
) -> Result<Vec<DeletedRow<'a>>, MvccError> {
    Ok(store
        .deleted_at(rev, |k| k.starts_with(prefix))?
        .iter()
        .map(|d| DeletedRow {
            key: String::from_utf8_lossy(d.key),
            deleted_revision: d.deleted_at,
            last_live_revision: d.last_live_revision(),
            create_revision: d.last.map(|r| r.kv.create_revision),
            mod_revision: d.last.map(|r| r.kv.mod_revision),
        })
        .collect())
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
    fn rows_carry_the_records_fields_and_encoding() {
        let s = open("fixtures/etcd-3.5/small.db");
        let records = s.store.state_at(None, |_| true).unwrap();
        assert!(!records.is_empty());
        for r in &records {
            let row = KeyRow::new(*r, None, RowOptions::default());
            assert_eq!(row.key.as_bytes(), r.kv.key);
            assert_eq!(row.mod_revision, r.kv.mod_revision);
            assert_eq!(row.size, r.kv.value.len());
            assert!(row.object.is_none());
            assert_eq!(row.storage(), row.encoding);
        }
        let pb = records
            .iter()
            .map(|r| KeyRow::new(*r, None, RowOptions::default()))
            .find(|row| row.encoding == "protobuf")
            .unwrap();
        let decoded = KeyRow::new(
            records
                .iter()
                .copied()
                .find(|r| r.kv.key == pb.key.as_bytes())
                .unwrap(),
            None,
            RowOptions {
                decode: true,
                show_key_material: false,
            },
        );
        let o = decoded.object.expect("a protobuf value decodes");
        assert_eq!(
            o["metadata"]["resourceVersion"],
            decoded.mod_revision.to_string()
        );
    }

    #[test]
    fn encrypted_rows_name_provider_and_key() {
        let s = open("fixtures/encrypted");
        let records = s.store.state_at(None, |_| true).unwrap();
        let rows: Vec<KeyRow<'_>> = records
            .iter()
            .map(|r| KeyRow::new(*r, s.keys.as_ref(), RowOptions::default()))
            .collect();
        let enc: Vec<&KeyRow<'_>> = rows.iter().filter(|r| r.encryption.is_some()).collect();
        assert!(!enc.is_empty());
        // Decrypted with the paired tarball's keys: "encrypted", and the
        // table shows provider and key.
        let ok = enc.iter().find(|r| r.error.is_none()).unwrap();
        assert_eq!(ok.encoding, "encrypted");
        let e = ok.encryption.as_ref().unwrap();
        assert_eq!(ok.storage(), format!("{} key {}", e.provider, e.key));
    }

    #[test]
    fn deleted_rows_point_one_revision_back() {
        let s = open("fixtures/etcd-3.5/small.db");
        let rows = deleted(&s.store, None, b"").unwrap();
        assert!(!rows.is_empty());
        for d in rows {
            assert_eq!(d.last_live_revision, d.deleted_revision - 1);
            if let Some(m) = d.mod_revision {
                assert!(m < d.deleted_revision);
            }
        }
        assert!(deleted(&s.store, None, b"/no-such-prefix/")
            .unwrap()
            .is_empty());
    }
}
