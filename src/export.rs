//! `export`'s on-disk layout and index: where each object's file goes
//! under the output dir (`<namespace or _cluster>/<resource>/<name>`, or
//! `_etcd/<key>` for keys of no Kubernetes layout), escaped one to one and
//! bounded in length, and the entry `index.json` holds for it. The rules
//! are in docs/kubernetes.md ("export's file names"); `index.json` is the
//! `etcdsnap.export-index` document (docs/json/export-index.schema.json:
//! [`ExportIndex`]'s serde shape is its body). The CLI renders the files
//! and writes them (0600, dirs 0700).

use std::path::PathBuf;

use serde::Serialize;

use crate::kube::key::KeyKind;
use crate::mvcc::Record;
use crate::query::{Encryption, Filter};

/// The longest file-name segment written (file systems allow 255 bytes;
/// room is left for a `~<hash>` suffix and `.undecoded.sha256`).
pub(crate) const MAX_SEG: usize = 200;

/// Bytes kept as they are in a file name; every other byte (including
/// `%`, `/`, controls and bytes that are not UTF-8) is written `%XX`, so
/// the mapping from names to segments is one to one.
fn keep(b: u8, first: bool, top: bool) -> bool {
    match b {
        b'a'..=b'z'
        | b'A'..=b'Z'
        | b'0'..=b'9'
        | b'-'
        | b'~'
        | b':'
        | b'@'
        | b'+'
        | b'='
        | b',' => true,
        // A leading `.` (hidden, `.`/`..`) and, at the top level, any `.`
        // or `_`: namespaces (DNS labels) have neither, so `index.json`,
        // `_cluster` and `_etcd` stay ours.
        b'.' => !first && !top,
        b'_' => !top,
        _ => false,
    }
}

/// A path segment for `name` (raw bytes): one to one, no `/`, never `.`
/// or `..`, bounded to `MAX_SEG` bytes (a longer one is cut and marked
/// with a hash of `key`, the full etcd key, which keeps it distinct).
pub(crate) fn seg(name: &[u8], top: bool, key: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut o = String::with_capacity(name.len());
    for (i, &b) in name.iter().enumerate() {
        if keep(b, i == 0, top) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    if o.is_empty() {
        o.push('%');
    }
    if o.len() > MAX_SEG {
        let mut cut = MAX_SEG - 20;
        // Never inside a %XX triplet.
        while o.as_bytes()[..cut].iter().rev().take(2).any(|&c| c == b'%') {
            cut -= 1;
        }
        o.truncate(cut);
        o.push('~');
        o.push_str(&short_hash(key));
    }
    o
}

/// 16 hex digits of the SHA-256 of `key`.
pub(crate) fn short_hash(key: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where one record goes: `(dir, stem)` relative to `--out`.
pub(crate) fn place(filter: &Filter, key: &[u8]) -> (PathBuf, String) {
    match filter.parse_key(key) {
        Some(k) if k.kind == KeyKind::Object => {
            let res = match k.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", k.resource),
                _ => k.resource.to_string(),
            };
            let ns = match k.namespace {
                Some(ns) => seg(ns.as_bytes(), true, key),
                None => "_cluster".to_string(),
            };
            (
                PathBuf::from(ns).join(seg(res.as_bytes(), false, key)),
                seg(k.name.as_bytes(), false, key),
            )
        }
        _ => {
            let k = key.strip_prefix(b"/").unwrap_or(key);
            (PathBuf::from("_etcd"), seg(k, false, key))
        }
    }
}

/// Stems for every record, one to one: records that would share a file
/// (keys under two etcd prefixes, names equal but for case on a
/// case-insensitive file system) all get a `~<hash of the key>` suffix.
pub fn plan(filter: &Filter, records: &[Record<'_>]) -> Vec<PathBuf> {
    let placed: Vec<(PathBuf, String)> = records.iter().map(|r| place(filter, r.kv.key)).collect();
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (d, s) in &placed {
        *count
            .entry(d.join(s).to_string_lossy().to_lowercase())
            .or_default() += 1;
    }
    placed
        .into_iter()
        .zip(records)
        .map(|((d, s), r)| {
            if count[&d.join(&s).to_string_lossy().to_lowercase()] > 1 {
                d.join(format!("{s}~{}", short_hash(r.kv.key)))
            } else {
                d.join(s)
            }
        })
        .collect()
}

/// One object's line in `index.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IndexEntry {
    /// The etcd key (bytes that are not UTF-8 replaced; see `key_hex`).
    pub key: String,
    /// The key's bytes in hex, when the key is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hex: Option<String>,
    pub mod_revision: i64,
    /// How the value is stored (protobuf, json, …, encrypted).
    pub encoding: &'static str,
    pub encryption: Option<Encryption>,
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// With `--for-apply`: the object's place in apply order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_rank: Option<u8>,
    /// Under redaction, only the digest of an undecodable value was kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// The file written, relative to the output dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Why the object was not decoded or not written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl IndexEntry {
    /// The entry of a record, before decoding: key, revision, encoding.
    pub fn of(record: &Record<'_>, encoding: &'static str, encryption: Option<Encryption>) -> Self {
        let key = record.kv.key;
        IndexEntry {
            key: String::from_utf8_lossy(key).into_owned(),
            key_hex: std::str::from_utf8(key)
                .is_err()
                .then(|| key.iter().map(|b| format!("{b:02x}")).collect()),
            mod_revision: record.kv.mod_revision,
            encoding,
            encryption,
            ..Default::default()
        }
    }

    /// Adds a failure to the entry's error (after any earlier one).
    pub fn fail(&mut self, why: String) {
        self.error = Some(match self.error.take() {
            Some(prev) => format!("{prev}; {why}"),
            None => why,
        });
    }
}

/// The body of `index.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExportIndex {
    pub objects: Vec<IndexEntry>,
}

impl ExportIndex {
    /// Apply order (`--for-apply`): by rank, then by file path
    /// (namespace, resource, name); entries without a rank last.
    pub fn sort_for_apply(&mut self) {
        self.objects.sort_by_cached_key(|e| {
            (
                e.apply_rank.map_or(u16::MAX, u16::from),
                e.file.clone().unwrap_or_default(),
            )
        });
    }

    /// How many entries carry an error.
    pub fn failed(&self) -> usize {
        self.objects.iter().filter(|e| e.error.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::schema::Revision;
    use crate::etcd::KeyValue;

    fn rec(key: &[u8]) -> Record<'_> {
        Record {
            rev: Revision {
                main: 7,
                sub: 0,
                tombstone: false,
            },
            kv: KeyValue {
                key,
                create_revision: 7,
                mod_revision: 7,
                version: 1,
                value: b"",
                lease: 0,
            },
        }
    }

    #[test]
    fn segments_escape_one_to_one() {
        assert_eq!(seg(b"web-1", false, b"k"), "web-1");
        assert_eq!(seg(b"a/b%c", false, b"k"), "a%2Fb%25c");
        // A leading dot is escaped; one inside a name is kept.
        assert_eq!(seg(b"..", false, b"k"), "%2E.");
        assert_eq!(seg(b"v1.apps", false, b"k"), "v1.apps");
        // At the top level `.` and `_` are escaped, so namespaces never
        // meet index.json, _cluster or _etcd.
        assert_eq!(seg(b"index.json", true, b"k"), "index%2Ejson");
        assert_eq!(seg(b"_cluster", true, b"k"), "%5Fcluster");
        assert_eq!(seg(b"\x1b\xff", false, b"k"), "%1B%FF");
        assert_eq!(seg(b"", false, b"k"), "%");
    }

    #[test]
    fn long_segments_are_cut_and_marked_by_the_key() {
        let long = vec![b'a'; 300];
        let s1 = seg(&long, false, b"/registry/x/1");
        let s2 = seg(&long, false, b"/registry/x/2");
        assert!(s1.len() <= MAX_SEG, "{}", s1.len());
        assert_ne!(s1, s2);
        assert!(s1.ends_with(&format!("~{}", short_hash(b"/registry/x/1"))));
        // Never cut inside a %XX triplet.
        let esc = vec![b'/'; 100];
        let s = seg(&esc, false, b"k");
        let body = s.split('~').next().unwrap_or("");
        assert_eq!(body.len() % 3, 0, "{s}");
    }

    #[test]
    fn places_and_plan() {
        let f = Filter::default();
        assert_eq!(
            place(&f, b"/registry/configmaps/shop/web"),
            (PathBuf::from("shop/configmaps"), "web".to_string())
        );
        assert_eq!(
            place(&f, b"/registry/namespaces/shop"),
            (PathBuf::from("_cluster/namespaces"), "shop".to_string())
        );
        assert_eq!(
            place(&f, b"/custom/thing"),
            (PathBuf::from("_etcd"), "custom%2Fthing".to_string())
        );
        // The same object under two etcd prefixes: both get the key's hash.
        let a: &[u8] = b"/registry/secrets/shop/s";
        let b: &[u8] = b"/kubernetes.io/secrets/shop/s";
        let c: &[u8] = b"/registry/configmaps/shop/web";
        let stems = plan(&f, &[rec(a), rec(b), rec(c)]);
        assert_eq!(
            stems[0],
            PathBuf::from(format!("shop/secrets/s~{}", short_hash(a)))
        );
        assert_eq!(
            stems[1],
            PathBuf::from(format!("shop/secrets/s~{}", short_hash(b)))
        );
        assert_eq!(stems[2], PathBuf::from("shop/configmaps/web"));
    }

    #[test]
    fn index_entries_and_apply_order() {
        let mut e = IndexEntry::of(&rec(b"/registry/configmaps/shop/\xff"), "json", None);
        assert_eq!(
            e.key_hex.as_deref(),
            Some("2f72656769737472792f636f6e6669676d6170732f73686f702fff")
        );
        e.fail("rendering".into());
        e.fail("writing".into());
        assert_eq!(e.error.as_deref(), Some("rendering; writing"));
        let v = serde_json::to_value(&e).unwrap();
        assert!(v.get("file").is_none() && v.get("redacted").is_none());
        assert_eq!(v["encryption"], serde_json::Value::Null);
        let entry = |rank: Option<u8>, file: &str| IndexEntry {
            apply_rank: rank,
            file: Some(file.into()),
            ..Default::default()
        };
        let mut ix = ExportIndex {
            objects: vec![
                entry(Some(5), "b"),
                entry(None, "a"),
                entry(Some(1), "z"),
                entry(Some(5), "a"),
            ],
        };
        ix.sort_for_apply();
        let order: Vec<(Option<u8>, &str)> = ix
            .objects
            .iter()
            .map(|e| (e.apply_rank, e.file.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            order,
            [(Some(1), "z"), (Some(5), "a"), (Some(5), "b"), (None, "a")]
        );
        assert_eq!(ix.failed(), 0);
    }
}
