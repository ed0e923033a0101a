//! The full structural check (what `bbolt check` verifies) as one pass that
//! can also compute something per leaf page in parallel — the status hash,
//! per-bucket sizes — so a command reads the file once.
//!
//! Walks every bucket (nested ones too) from the root: bounds, single
//! reference, page types, key order. Pages never reached are the free set
//! (etcd writes no freelist; a freelist, when present, is checked against it).

use rayon::prelude::*;

use super::db::{Bucket, Db};
use super::error::BoltError;
use super::layout::PageId;
use super::meta::PGID_NO_FREELIST;
use super::page::PageKind;
use super::walk::{LeafRef, PendingLeaf, TreeWalk};

/// What one bucket's walk found.
#[derive(Debug)]
pub struct BucketScan<'a, T> {
    pub bucket: Bucket<'a>,
    /// Nesting level: 1 for a top-level bucket.
    pub level: usize,
    /// Key/value pairs (nested-bucket entries included).
    pub keys: u64,
    pub branch_pages: u64,
    pub leaf_pages: u64,
    /// Logical pages (with their overflow) reached under this bucket.
    pub pages: u64,
    /// Tree depth (1 = root is a leaf).
    pub depth: usize,
    /// Bytes of keys and values.
    pub kv_bytes: u64,
    /// The caller's results, one per chunk of consecutive leaves, in key
    /// order.
    pub per_chunk: Vec<T>,
}

/// The outcome of a scan.
#[derive(Debug)]
pub struct Scan<'a, T> {
    /// Every bucket, top-level ones in name order, each followed by its
    /// nested buckets.
    pub buckets: Vec<BucketScan<'a, T>>,
    pub issues: Vec<BoltError>,
    /// Physical pages reachable from the root (meta and freelist pages
    /// included).
    pub reachable_pages: u64,
    /// Pages in `[2, pgid)` never reached: what a defragmentation reclaims.
    pub free_pages: u64,
    /// Ids in the freelist page, when the file has one.
    pub freelist_ids: Option<usize>,
}

impl<'a, T> Scan<'a, T> {
    pub(crate) fn top_level(&self) -> impl Iterator<Item = &BucketScan<'a, T>> {
        self.buckets.iter().filter(|b| b.level == 1)
    }
}

struct ChunkOut<'a, T> {
    leaf_pages: u64,
    pages: u64,
    keys: u64,
    kv_bytes: u64,
    nested: Vec<Bucket<'a>>,
    issues: Vec<BoltError>,
    value: T,
}

impl Db {
    /// Checks the whole tree and calls `per_chunk` on every run of
    /// consecutive leaf pages of every bucket, runs in parallel. Chunks are
    /// large (a few per thread), so per-chunk work such as joining CRCs stays
    /// rare. `per_chunk` sees the bucket and the leaves; their elements have
    /// not been validated beyond bounds.
    pub fn scan<'a, T, F>(&'a self, per_chunk: F) -> Scan<'a, T>
    where
        T: Send,
        F: Fn(&Bucket<'a>, &[LeafRef<'a>]) -> T + Sync,
    {
        let threads = rayon::current_num_threads().max(1);
        let mut walk = TreeWalk::new(self);
        walk.mark(PageId(0), 2);
        let mut buckets = Vec::new();
        let mut issues = Vec::new();

        // The root bucket holds only bucket entries.
        let root = self.root_bucket();
        let root_leaves = walk.leaves(&root);
        let mut stack: Vec<(Bucket<'a>, usize)> = Vec::new();
        let mut top = Vec::new();
        for leaf in &root_leaves {
            issues.extend(leaf.check("(root)", |_| {}));
            for e in leaf.elems().flatten() {
                if !e.is_bucket() {
                    issues.push(BoltError::corrupt(
                        leaf.page.at,
                        format!(
                            "root bucket holds a plain key {} (only buckets belong there)",
                            super::walk::show_key(e.key)
                        ),
                    ));
                    continue;
                }
                match Bucket::from_header("", e.key, e.value) {
                    Ok(b) => top.push(b),
                    Err(err) => issues.push(err),
                }
            }
        }
        for b in top.into_iter().rev() {
            stack.push((b, 1));
        }

        while let Some((bucket, level)) = stack.pop() {
            let branches_before = walk.branch_pages;
            walk.max_depth = 0;
            let pending = walk.pending(&bucket);
            let depth = walk.max_depth;
            let chunk = pending.len().div_ceil(threads * 8).max(64);
            let walk_ref = &walk;
            let outs: Vec<ChunkOut<'a, T>> = pending
                .par_chunks(chunk)
                .map(|run| {
                    let mut issues = Vec::new();
                    let mut leaves = Vec::with_capacity(run.len());
                    let mut pages = 0u64;
                    for p in run {
                        match walk_ref.resolve(p, &bucket.path) {
                            Ok(l) => {
                                if matches!(p, PendingLeaf::Deferred { .. }) {
                                    pages += u64::from(l.page.overflow) + 1;
                                }
                                leaves.push(l);
                            }
                            Err(e) => issues.push(e),
                        }
                    }
                    let mut keys = 0u64;
                    let mut kv_bytes = 0u64;
                    let mut nested = Vec::new();
                    let mut bad = Vec::new();
                    for leaf in &leaves {
                        issues.extend(leaf.check(&bucket.path, |e| {
                            keys += 1;
                            kv_bytes += (e.key.len() + e.value.len()) as u64;
                            if e.is_bucket() {
                                match Bucket::from_header(&bucket.path, e.key, e.value) {
                                    Ok(b) => nested.push(b),
                                    Err(err) => bad.push(err),
                                }
                            }
                        }));
                    }
                    issues.extend(bad);
                    ChunkOut {
                        leaf_pages: leaves.len() as u64,
                        pages,
                        keys,
                        kv_bytes,
                        nested,
                        issues,
                        value: per_chunk(&bucket, &leaves),
                    }
                })
                .collect();
            let mut scan = BucketScan {
                bucket,
                level,
                keys: 0,
                branch_pages: walk.branch_pages - branches_before,
                leaf_pages: 0,
                pages: walk.branch_pages - branches_before,
                depth,
                kv_bytes: 0,
                per_chunk: Vec::with_capacity(outs.len()),
            };
            let mut nested_all = Vec::new();
            for o in outs {
                scan.leaf_pages += o.leaf_pages;
                scan.pages += o.pages;
                scan.keys += o.keys;
                scan.kv_bytes += o.kv_bytes;
                issues.extend(o.issues);
                nested_all.extend(o.nested);
                scan.per_chunk.push(o.value);
            }
            buckets.push(scan);
            for b in nested_all.into_iter().rev() {
                stack.push((b, level + 1));
            }
        }
        issues.append(&mut walk.issues);

        // Freelist: only when the file records one (etcd's do not).
        let meta = *self.meta();
        let mut freelist_ids = None;
        if meta.freelist != PGID_NO_FREELIST {
            match self.page(meta.freelist) {
                Ok(p) if p.kind() == PageKind::Freelist => {
                    if !walk.mark(meta.freelist, p.span()) {
                        issues.push(BoltError::MultipleReference {
                            id: meta.freelist,
                            bucket: "(freelist)".into(),
                        });
                    }
                    match p.freelist_ids() {
                        Ok(ids) => {
                            let mut seen = std::collections::HashSet::new();
                            for id in &ids {
                                if !seen.insert(*id) {
                                    issues.push(BoltError::corrupt(
                                        *id,
                                        "listed twice in the freelist (already freed)",
                                    ));
                                } else if walk.is_marked(*id) {
                                    issues.push(BoltError::corrupt(
                                        *id,
                                        "reachable from a bucket but listed as free",
                                    ));
                                }
                            }
                            freelist_ids = Some(ids.len());
                        }
                        Err(e) => issues.push(e),
                    }
                }
                Ok(p) => issues.push(BoltError::corrupt(
                    meta.freelist,
                    format!(
                        "meta names it the freelist, but its flags are {:#x}",
                        p.flags
                    ),
                )),
                Err(e) => issues.push(e),
            }
        }
        if self.page_limit() < meta.pgid {
            issues.push(BoltError::corrupt(
                PageId(self.page_limit()),
                format!(
                    "file truncated: meta's high-water mark is page {} but the file holds {} pages",
                    meta.pgid,
                    self.page_limit()
                ),
            ));
        }
        let limit = self.page_limit();
        let reachable = (0..limit).filter(|&p| walk.is_marked(PageId(p))).count() as u64;
        Scan {
            buckets,
            issues,
            reachable_pages: reachable,
            free_pages: limit - reachable,
            freelist_ids,
        }
    }
}
