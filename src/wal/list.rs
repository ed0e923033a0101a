//! The rows of `etcdsnap wal`: each entry of the log with index, term and
//! type; for requests the operation, the keys with their Kubernetes
//! resource/namespace/name, value size and encoding, lease, the request
//! header's ID and user; and whether the entry is already in the db or a
//! restart would replay it.

use serde::Serialize;

use super::log::{Entry, ENTRY_CONF_CHANGE, ENTRY_CONF_CHANGE_V2};
use super::request::{decode, summarize, Touch};
use crate::query::{encoding_name, Filter};

/// One key a request touches.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    pub op: &'static str,
    /// The key, lossless only in JSON when it is UTF-8 (see `key_hex`).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The Kubernetes kind, when the resource is a known type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "is_zero")]
    pub lease: i64,
}

fn is_zero(x: &i64) -> bool {
    *x == 0
}

/// One entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntryRow {
    pub index: u64,
    pub term: u64,
    #[serde(rename = "type")]
    pub typ: &'static str,
    /// `in-db` (index ≤ the db's consistent index) or `replay`.
    pub state: &'static str,
    pub op: String,
    pub keys: Vec<KeyRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    pub segment: String,
    pub offset: u64,
}

/// What `wal` selects.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub from_index: u64,
    /// Keys (prefix, resource, namespace, name) as `get` selects them; an
    /// entry is shown when one of its keys matches. With no key criteria,
    /// entries without keys are shown too.
    pub filter: Filter,
}

impl Selection {
    fn by_key(&self) -> bool {
        let f = &self.filter;
        f.prefix.is_some()
            || f.key.is_some()
            || !f.resources.is_empty()
            || f.namespace.is_some()
            || f.name.is_some()
    }
}

/// Lossy text with control characters escaped (for people; JSON carries
/// `key_hex` when the key is not UTF-8).
pub fn escape(b: &[u8]) -> String {
    crate::escape::bytes(b).into_owned()
}

fn key_row(t: &Touch, f: &Filter) -> KeyRow {
    // A v2 path is no Kubernetes storage key.
    let sk = if t.op == "v2" {
        None
    } else {
        f.parse_key(&t.key)
    };
    let resource = sk.map(|k| match k.group {
        Some(g) if !g.is_empty() => format!("{}.{g}", k.resource),
        _ => k.resource.to_string(),
    });
    let kind = resource
        .as_deref()
        .and_then(crate::kube::key::resolve)
        .map(|r| r.kind)
        .filter(|k| !k.is_empty());
    KeyRow {
        op: t.op,
        key: escape(&t.key),
        key_hex: std::str::from_utf8(&t.key)
            .is_err()
            .then(|| t.key.iter().map(|b| format!("{b:02x}")).collect()),
        range_end: (!t.range_end.is_empty()).then(|| {
            if t.range_end == [0] {
                "\\x00 (every key from key on)".to_string()
            } else {
                escape(&t.range_end)
            }
        }),
        resource,
        kind,
        namespace: sk.and_then(|k| k.namespace.map(str::to_string)),
        name: sk.map(|k| k.name.to_string()).filter(|n| !n.is_empty()),
        value_size: t.value_len,
        encoding: t.value_len.map(|_| encoding_name(&t.value)),
        lease: t.lease,
    }
}

/// The rows of the entries `sel` selects; `ci` is the db's consistent
/// index, `segment_name` names a segment by position.
pub fn rows<'a, F>(
    entries: &[Entry<'a>],
    ci: u64,
    sel: &Selection,
    segment_name: F,
) -> Vec<EntryRow>
where
    F: Fn(usize) -> String,
{
    let by_key = sel.by_key();
    let mut out = Vec::new();
    for e in entries.iter().filter(|e| e.index >= sel.from_index) {
        let (op, touches, id, user, detail) = match decode(e) {
            Ok(b) => {
                let s = summarize(&b);
                (s.op, s.touches, s.id, s.user, s.detail)
            }
            Err(why) => (
                "undecodable".to_string(),
                Vec::new(),
                None,
                None,
                why.to_string(),
            ),
        };
        if by_key && !touches.iter().any(|t| sel.filter.key_matches(&t.key)) {
            continue;
        }
        out.push(EntryRow {
            index: e.index,
            term: e.term,
            typ: match e.typ {
                ENTRY_CONF_CHANGE => "conf-change",
                ENTRY_CONF_CHANGE_V2 => "conf-change-v2",
                _ => "normal",
            },
            state: if e.index <= ci { "in-db" } else { "replay" },
            op,
            keys: touches.iter().map(|t| key_row(t, &sel.filter)).collect(),
            id: id.map(|i| format!("{i:x}")),
            user,
            detail: escape(detail.as_bytes()),
            segment: segment_name(e.segment),
            offset: e.offset,
        });
    }
    out
}
