//! `snapshot status`: the CRC32C hash, revision, key count and size that
//! `etcdctl snapshot status` (3.4) and `etcdutl snapshot status` (3.5) print,
//! computed in one parallel pass, plus what an administrator wants next.
//!
//! hash = CRC32C over every top-level bucket in name order: its name, then
//! each key and value in key order (docs/etcd.md, "status hash"). Each leaf page's
//! CRC is computed on its own (in parallel) and the results are joined with
//! CRC combination, so the answer equals the sequential one.
//!
//! The same hash of a file being written comes from [`StatusHasher`], fed
//! by the bbolt writer's stream of buckets and keys (restore uses it so its
//! output need not be read back).

use serde::Serialize;

use super::error::{EtcdError, Result};
use super::members::Member;
use super::meta::MetaInfo;
use super::schema::{
    Revision, CLUSTER_BUCKET, CLUSTER_VERSION_KEY, KEY_BUCKET, MEMBERS_BUCKET, META_BUCKET,
};
use super::snapshot::Snapshot;
use crate::bolt::{Bucket, LeafRef, Scan, WriteObserver};
use crate::crc::crc_combine;

/// The four values etcd's tools print, with their JSON names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Status {
    pub hash: u32,
    pub revision: i64,
    #[serde(rename = "totalKey")]
    pub total_key: u64,
    #[serde(rename = "totalSize")]
    pub total_size: u64,
}

/// Per-bucket numbers.
#[derive(Debug, Clone, Serialize)]
pub struct BucketStats {
    pub name: String,
    pub keys: u64,
    pub pages: u64,
    pub depth: usize,
    pub kv_bytes: u64,
}

/// Everything `etcdsnap status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct StatusDetail {
    #[serde(flatten)]
    pub status: Status,
    pub file_size: u64,
    pub page_size: u32,
    pub trailer: bool,
    pub pages: u64,
    pub pages_in_use: u64,
    pub pages_free: u64,
    pub bytes_in_use: u64,
    pub bytes_free: u64,
    pub txid: u64,
    pub meta: MetaInfo,
    pub members: Vec<Member>,
    pub cluster_version: Option<String>,
    pub buckets: Vec<BucketStats>,
    /// Problems in schema values met on the way (not structure).
    pub warnings: Vec<String>,
}

/// What one run of leaves contributes to the status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafHash<'a> {
    pub crc: u32,
    pub len: u64,
    pub last_key: Option<&'a [u8]>,
}

/// CRC32C of the leaves' keys and values in order (nested-bucket entries
/// add only their key, as bbolt's ForEach hands them out with a nil value).
pub(crate) fn leaf_hash<'a>(leaves: &[LeafRef<'a>]) -> LeafHash<'a> {
    let mut crc = 0u32;
    let mut len = 0u64;
    let mut last_key = None;
    for leaf in leaves {
        for e in leaf.elems() {
            let Ok(e) = e else { break };
            // Key and value are adjacent in the page: hash them as one run.
            let kv: &[u8] = if e.is_bucket() { e.key } else { e.kv };
            crc = crc32c::crc32c_append(crc, kv);
            len += kv.len() as u64;
            last_key = Some(e.key);
        }
    }
    LeafHash { crc, len, last_key }
}

/// Joins the per-leaf hashes of a scan into etcd's status numbers.
pub(crate) fn combine<'a>(scan: &Scan<'a, LeafHash<'a>>, total_size: u64) -> Status {
    let mut crc = 0u32;
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for b in scan.top_level() {
        crc = crc32c::crc32c_append(crc, b.bucket.name);
        total_key += b.keys;
        for l in &b.per_chunk {
            crc = crc_combine(crc, l.crc, l.len);
        }
        if b.bucket.name == KEY_BUCKET {
            if let Some(k) = b.per_chunk.iter().rev().find_map(|l| l.last_key) {
                revision = Revision::main_of(k).unwrap_or(0);
            }
        }
    }
    Status {
        hash: crc,
        revision,
        total_key,
        total_size,
    }
}

/// The status of a bbolt file computed from the writer's stream while it is
/// written: the same hash, key count and revision as [`status`] on the
/// finished file (top-level buckets arrive in name order, keys in key
/// order, as the writer requires).
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusHasher {
    crc: u32,
    total_key: u64,
    /// The last key put into the `key` bucket.
    last_rev_key: Option<Vec<u8>>,
    in_key_bucket: bool,
}

impl WriteObserver for StatusHasher {
    fn bucket(&mut self, depth: usize, name: &[u8]) {
        match depth {
            // A top-level bucket: its name starts its part of the hash.
            0 => {
                self.crc = crc32c::crc32c_append(self.crc, name);
                self.in_key_bucket = name == KEY_BUCKET;
            }
            // A nested bucket is an entry of a top-level one: key only.
            1 => {
                self.crc = crc32c::crc32c_append(self.crc, name);
                self.total_key += 1;
                if self.in_key_bucket {
                    self.last_rev_key = Some(name.to_vec());
                }
            }
            _ => {}
        }
    }

    fn put(&mut self, depth: usize, key: &[u8], value: &[u8]) {
        if depth != 1 {
            return;
        }
        self.crc = crc32c::crc32c_append(crc32c::crc32c_append(self.crc, key), value);
        self.total_key += 1;
        if self.in_key_bucket {
            match &mut self.last_rev_key {
                Some(k) => {
                    k.clear();
                    k.extend_from_slice(key);
                }
                None => self.last_rev_key = Some(key.to_vec()),
            }
        }
    }
}

impl StatusHasher {
    /// The status of what was written; `total_size` is the written file's
    /// `pages × pageSize`.
    pub(crate) fn status(&self, total_size: u64) -> Status {
        Status {
            hash: self.crc,
            revision: self
                .last_rev_key
                .as_deref()
                .and_then(Revision::main_of)
                .unwrap_or(0),
            total_key: self.total_key,
            total_size,
        }
    }
}

/// Scans the snapshot once: structure check plus status hash. Returns the
/// scan so callers can report its issues.
pub(crate) fn scan(snap: &Snapshot) -> Scan<'_, LeafHash<'_>> {
    snap.db.scan(|_b: &Bucket<'_>, leaves| leaf_hash(leaves))
}

/// The four numbers, failing (as etcd does) when the structure is damaged.
pub fn status(snap: &Snapshot) -> Result<Status> {
    let s = scan_intact(snap)?;
    Ok(combine(&s, snap.db.size()))
}

/// The scan, or an error naming the first structural problem.
fn scan_intact(snap: &Snapshot) -> Result<Scan<'_, LeafHash<'_>>> {
    let s = scan(snap);
    match s.issues.first() {
        Some(first) => Err(EtcdError::Damaged {
            path: snap.display(),
            count: s.issues.len(),
            first: first.clone(),
        }),
        None => Ok(s),
    }
}

/// Status plus details, failing when the structure is damaged.
pub fn detail(snap: &Snapshot) -> Result<StatusDetail> {
    let s = scan_intact(snap)?;
    let status = combine(&s, snap.db.size());
    let db = &snap.db;
    let ps = u64::from(db.page_size());
    let mut warnings = Vec::new();
    let mut meta = MetaInfo::default();
    let mut members = Vec::new();
    let mut cluster_version = None;
    for b in s.top_level() {
        let name = b.bucket.name;
        if name != META_BUCKET && name != MEMBERS_BUCKET && name != CLUSTER_BUCKET {
            continue;
        }
        let r = db.for_each(&b.bucket, |e| {
            if name == META_BUCKET {
                if let Err(w) = meta.apply(e.key, e.value) {
                    warnings.push(format!(
                        "bucket meta, key {}: {w}",
                        String::from_utf8_lossy(e.key)
                    ));
                }
            } else if name == MEMBERS_BUCKET {
                match Member::parse(e.key, e.value) {
                    Ok(m) => members.push(m),
                    Err(w) => warnings.push(format!(
                        "bucket members, key {}: {w}",
                        String::from_utf8_lossy(e.key)
                    )),
                }
            } else if e.key == CLUSTER_VERSION_KEY {
                cluster_version = Some(String::from_utf8_lossy(e.value).into_owned());
            }
            Ok(())
        });
        if let Err(e) = r {
            warnings.push(e.to_string());
        }
    }
    let pages = db.meta().pgid;
    Ok(StatusDetail {
        status,
        file_size: snap.file_len,
        page_size: db.page_size(),
        trailer: snap.trailer.is_some(),
        pages,
        pages_in_use: s.reachable_pages,
        pages_free: s.free_pages,
        bytes_in_use: s.reachable_pages * ps,
        bytes_free: s.free_pages * ps,
        txid: db.meta().txid,
        meta,
        members,
        cluster_version,
        buckets: s
            .top_level()
            .map(|b| BucketStats {
                name: String::from_utf8_lossy(b.bucket.name).into_owned(),
                keys: b.keys,
                pages: b.pages,
                depth: b.depth,
                kv_bytes: b.kv_bytes,
            })
            .collect(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bolt::{BoltWriter, WriterOptions};

    /// The hasher fed by the writer gives the numbers `status` computes by
    /// reading the written file back: nested-bucket entries, empty and
    /// multi-page buckets, inline and page-rooted ones.
    #[test]
    fn hasher_matches_status_of_the_written_file() {
        for inline_buckets in [true, false] {
            let mut h = StatusHasher::default();
            let opts = WriterOptions {
                inline_buckets,
                ..Default::default()
            };
            let mut w = BoltWriter::new(std::io::Cursor::new(Vec::new()), "mem".into(), opts)
                .unwrap()
                .observed(&mut h);
            w.begin_bucket(b"alarm", 0).unwrap();
            w.end_bucket().unwrap();
            w.begin_bucket(b"key", 3).unwrap();
            for main in 1..=3000i64 {
                let k = Revision {
                    main,
                    sub: 0,
                    tombstone: false,
                }
                .to_bytes();
                w.put(&k, &[main as u8; 40]).unwrap();
            }
            w.end_bucket().unwrap();
            w.begin_bucket(b"meta", 0).unwrap();
            w.put(b"consistent_index", &7u64.to_be_bytes()).unwrap();
            w.begin_bucket(b"nested", 1).unwrap();
            w.put(b"deep", b"not counted").unwrap();
            w.end_bucket().unwrap();
            w.put(b"term", &2u64.to_be_bytes()).unwrap();
            w.end_bucket().unwrap();
            let (out, summary) = w.finish().unwrap();
            let snap = Snapshot::from_bytes("mem", out.into_inner()).unwrap();
            let read_back = status(&snap).unwrap();
            assert_eq!(h.status(summary.bytes), read_back);
            assert_eq!(read_back.revision, 3000);
            assert_eq!(read_back.total_key, 3003);
        }
    }
}
