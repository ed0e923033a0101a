//! The rows of `etcdsnap wal`: each entry of the log with index, term and
//! type; for requests the operation, the keys with their Kubernetes
//! resource/namespace/name, value size and encoding, lease, the request
//! header's ID and user; and whether the entry is already in the db or a
//! restart would replay it; and the whole listing ([`WalListing`]): which
//! WAL dir and db, the log's ids, hard state, snapshot marks and torn tail.

use std::path::{Path, PathBuf};

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

/// Why a WAL cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{0}: no WAL here (give an etcd data dir, its member dir or member/wal)")]
    NoWal(String),
    #[error(transparent)]
    Etcd(#[from] crate::etcd::EtcdError),
    #[error(transparent)]
    Mvcc(#[from] crate::mvcc::MvccError),
    #[error(transparent)]
    Wal(#[from] super::WalError),
    #[error(transparent)]
    Log(#[from] super::LogError),
}

/// Where a listing reads: the WAL dir, the db beside it (for its
/// consistent index) and the snap dir (for `.snap` files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalSource {
    pub wal_dir: PathBuf,
    pub db: Option<PathBuf>,
    pub snap_dir: PathBuf,
}

impl WalSource {
    /// Whether `dir` holds `.wal` files itself (a `member/wal` dir).
    pub fn is_wal_dir(dir: &Path) -> bool {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".wal"))
            })
            .unwrap_or(false)
    }

    /// A WAL dir given itself: the db is `../snap/db` when it is a file.
    pub fn of_wal_dir(dir: &Path) -> WalSource {
        let snap_dir = dir.join("../snap");
        let db = snap_dir.join("db");
        WalSource {
            wal_dir: dir.to_path_buf(),
            db: db.is_file().then_some(db),
            snap_dir,
        }
    }

    /// The WAL of a resolved data dir (or member dir); `given` names it in
    /// the error when there is none.
    pub fn of_input(input: &crate::input::Input, given: &Path) -> Result<WalSource, ListError> {
        let wal_dir = super::open::wal_dir_of(input)
            .ok_or_else(|| ListError::NoWal(given.display().to_string()))?;
        Ok(WalSource {
            wal_dir,
            db: Some(input.db.clone()),
            snap_dir: input.db.parent().map(PathBuf::from).unwrap_or_default(),
        })
    }
}

/// A snapshot mark of the log and the `.snap` file that matches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapRow {
    pub index: u64,
    pub term: u64,
    pub snap_file: Option<String>,
}

/// `etcdsnap wal`: the log of a WAL dir, its selected entries as rows.
#[derive(Debug, Clone, Serialize)]
pub struct WalListing {
    pub wal_dir: String,
    pub segments: Vec<super::Segment>,
    /// The db's consistent index; `None` without a db.
    pub consistent_index: Option<u64>,
    /// Hex.
    pub node_id: Option<String>,
    /// Hex.
    pub cluster_id: Option<String>,
    pub hard_state: Option<super::HardState>,
    pub snapshots: Vec<SnapRow>,
    pub torn: Option<super::Torn>,
    pub overwritten: usize,
    pub entries: Vec<EntryRow>,
    /// All entries of the log, selected or not.
    #[serde(skip)]
    pub entry_count: usize,
    /// The first and last index of the log (0 when empty).
    #[serde(skip)]
    pub first_index: u64,
    #[serde(skip)]
    pub last_index: u64,
}

impl WalListing {
    /// Reads the WAL of `src`, the consistent index of its db, its `.snap`
    /// files, and the rows of the entries `sel` selects.
    pub fn read(src: &WalSource, sel: &Selection) -> Result<WalListing, ListError> {
        let ci = match &src.db {
            Some(db) => {
                let snap = crate::etcd::Snapshot::open(db)?;
                let store = crate::mvcc::Store::open(&snap)?;
                Some(super::open::consistent_index(&store))
            }
            None => None,
        };
        let files = super::WalFiles::open(&src.wal_dir)?;
        let records = files.records()?;
        let log = super::Log::decode(&files, &records)?;
        let name = |i: usize| {
            files
                .segments
                .get(i)
                .map(|s| s.name.clone())
                .unwrap_or_default()
        };
        let entries = rows(&log.entries, ci.unwrap_or(0), sel, name);
        let snaps = super::check::snap_files(&src.snap_dir);
        let snapshots = super::check::match_snaps(&log, &snaps)
            .into_iter()
            .map(|(index, term, snap_file)| SnapRow {
                index,
                term,
                snap_file,
            })
            .collect();
        Ok(WalListing {
            wal_dir: src.wal_dir.display().to_string(),
            segments: files.segments.clone(),
            consistent_index: ci,
            node_id: log.node_id.map(|x| format!("{x:x}")),
            cluster_id: log.cluster_id.map(|x| format!("{x:x}")),
            hard_state: log.hard_state,
            snapshots,
            torn: log.torn.clone(),
            overwritten: log.overwritten,
            entries,
            entry_count: log.entries.len(),
            first_index: log.entries.first().map(|e| e.index).unwrap_or(0),
            last_index: log.last_index(),
        })
    }
}

impl SnapRow {
    /// What the mark points at, for people.
    pub fn describe(&self) -> &str {
        match (&self.snap_file, self.index) {
            (Some(f), _) => f.as_str(),
            (None, 0) => "the WAL's start (no file)",
            (None, _) => "no .snap file (purged, or lost)",
        }
    }
}

impl EntryRow {
    /// The table's KEY / DETAIL column: the first key (with its range end
    /// and Kubernetes object), how many more, the detail, the user.
    pub fn what(&self) -> String {
        let first = self.keys.first();
        let mut what = match first {
            Some(k) => {
                let mut s = k.key.clone();
                if let Some(e) = &k.range_end {
                    s.push_str(&format!(" .. {e}"));
                }
                if let (Some(res), Some(n)) = (&k.resource, &k.name) {
                    s.push_str(&format!(
                        "  [{res} {}{n}]",
                        k.namespace
                            .as_deref()
                            .map(|ns| format!("{ns}/"))
                            .unwrap_or_default()
                    ));
                }
                s
            }
            None => String::new(),
        };
        if self.keys.len() > 1 {
            what.push_str(&format!(" (+{} more)", self.keys.len() - 1));
        }
        if !self.detail.is_empty() {
            if !what.is_empty() {
                what.push_str("  ");
            }
            what.push_str(&self.detail);
        }
        if let Some(u) = &self.user {
            what.push_str(&format!("  user {}", escape(u.as_bytes())));
        }
        what
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: Vec<KeyRow>, detail: &str, user: Option<&str>) -> EntryRow {
        EntryRow {
            index: 7,
            term: 2,
            typ: "normal",
            state: "replay",
            op: "put".into(),
            keys,
            id: None,
            user: user.map(str::to_string),
            detail: detail.into(),
            segment: "0000000000000000-0000000000000000.wal".into(),
            offset: 0,
        }
    }

    fn key(k: &str) -> KeyRow {
        KeyRow {
            op: "put",
            key: k.into(),
            key_hex: None,
            range_end: None,
            resource: Some("configmaps".into()),
            kind: Some("ConfigMap".into()),
            namespace: Some("default".into()),
            name: Some("a".into()),
            value_size: Some(3),
            encoding: Some("json"),
            lease: 0,
        }
    }

    #[test]
    fn what_column_names_key_object_more_detail_user() {
        let r = row(
            vec![key("/registry/configmaps/default/a"), key("/x")],
            "",
            Some("ad\x01min"),
        );
        assert_eq!(
            r.what(),
            "/registry/configmaps/default/a  [configmaps default/a] (+1 more)  user ad\\x01min"
        );
        assert_eq!(row(Vec::new(), "compaction", None).what(), "compaction");
    }

    #[test]
    fn sources_and_snap_marks() {
        let dir = std::env::temp_dir().join(format!("etcdsnap-walsrc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("member/wal")).unwrap();
        std::fs::write(
            dir.join("member/wal/0000000000000000-0000000000000000.wal"),
            b"",
        )
        .unwrap();
        assert!(WalSource::is_wal_dir(&dir.join("member/wal")));
        assert!(!WalSource::is_wal_dir(&dir));
        let s = WalSource::of_wal_dir(&dir.join("member/wal"));
        assert_eq!(s.db, None);
        assert_eq!(s.snap_dir, dir.join("member/wal/../snap"));
        let input = crate::input::Input {
            given: dir.clone(),
            kind: crate::input::InputKind::File,
            db: dir.join("x.db"),
            tarball: None,
            notes: Vec::new(),
            unpacked: None,
            unusable: Vec::new(),
        };
        let e = WalSource::of_input(&input, &dir).unwrap_err();
        assert!(e.to_string().contains("no WAL here"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        let mark = |snap_file: Option<&str>, index| SnapRow {
            index,
            term: 1,
            snap_file: snap_file.map(str::to_string),
        };
        assert_eq!(mark(None, 0).describe(), "the WAL's start (no file)");
        assert_eq!(mark(None, 5).describe(), "no .snap file (purged, or lost)");
        assert_eq!(mark(Some("a.snap"), 5).describe(), "a.snap");
    }
}
