//! The checked tree walk: descends a bucket's branch pages in key order,
//! marks every page it reaches (so a page reached twice — a cycle or a shared
//! subtree — is an error, never a hang), and hands out the leaf pages with
//! the key range their parents allow, for sequential or parallel work.
//!
//! Problems are collected, not thrown, so a check can report all of them; the
//! strict accessors in `db.rs` turn the first one into an error.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::db::{Bucket, BucketRoot, Db};
use super::error::BoltError;
use super::layout::{PageAt, PageId};
use super::page::{LeafElem, Page, PageKind};

/// Deeper than any real bbolt tree (a 4 KiB page holds ~100 children).
pub const MAX_DEPTH: usize = 64;

/// A leaf page plus the key range its parent branches allow.
#[derive(Debug, Clone, Copy)]
pub struct LeafRef<'a> {
    pub page: Page<'a>,
    /// Keys must be ≥ this (the parent's separator), when there is a parent.
    pub lower: Option<&'a [u8]>,
    /// Keys must be < this (the next separator), when there is one.
    pub upper: Option<&'a [u8]>,
}

/// Re-exported name for a problem found by a check.
pub type CheckIssue = BoltError;

impl<'a> LeafRef<'a> {
    /// The elements of this leaf, in stored order.
    pub fn elems(&self) -> impl Iterator<Item = Result<LeafElem<'a>, BoltError>> + '_ {
        let page = self.page;
        (0..page.count as usize).map(move |i| page.leaf_elem(i))
    }

    /// Key order and bounds of this leaf (bbolt `check` rule 4): keys
    /// non-empty and strictly increasing, within the parent's range. Calls
    /// `each` for every element that could be read.
    pub(crate) fn check<F>(&self, bucket: &str, mut each: F) -> Vec<BoltError>
    where
        F: FnMut(&LeafElem<'a>),
    {
        let mut issues = Vec::new();
        let id = self.page.at;
        let mut prev: Option<&[u8]> = None;
        for (i, e) in self.elems().enumerate() {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    issues.push(err);
                    break;
                }
            };
            if e.key.is_empty() {
                issues.push(order_issue(
                    id,
                    bucket,
                    format!("element {i} has an empty key"),
                ));
            }
            if let Some(p) = prev {
                if e.key <= p {
                    issues.push(order_issue(
                        id,
                        bucket,
                        format!(
                            "key {} at element {i} is not greater than the previous key {}",
                            show_key(e.key),
                            show_key(p)
                        ),
                    ));
                }
            } else if let Some(lo) = self.lower {
                if e.key < lo {
                    issues.push(order_issue(
                        id,
                        bucket,
                        format!(
                            "first key {} is below the parent's separator {}",
                            show_key(e.key),
                            show_key(lo)
                        ),
                    ));
                }
            }
            if let Some(hi) = self.upper {
                if e.key >= hi {
                    issues.push(order_issue(
                        id,
                        bucket,
                        format!(
                            "key {} at element {i} is not below the next separator {}",
                            show_key(e.key),
                            show_key(hi)
                        ),
                    ));
                }
            }
            each(&e);
            prev = Some(e.key);
        }
        issues
    }
}

fn order_issue(at: impl Into<PageAt>, bucket: &str, what: String) -> BoltError {
    BoltError::corrupt(at, format!("bucket {bucket}: {what}"))
}

/// Shows a key for a message: text when printable, else hex.
pub fn show_key(k: &[u8]) -> String {
    let shown = &k[..k.len().min(64)];
    let more = if k.len() > 64 { "…" } else { "" };
    if shown.iter().all(|b| (0x20..0x7f).contains(b)) {
        format!("{:?}{more}", String::from_utf8_lossy(shown))
    } else {
        let hex: String = shown.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{hex}{more}")
    }
}

/// A leaf the walk has located but not yet read: its page is read (and
/// marked) by whoever processes it, so leaf pages are touched once, in
/// parallel, and the sequential walk reads only branch pages.
#[derive(Debug, Clone, Copy)]
pub enum PendingLeaf<'a> {
    /// Already read (an inline bucket's page).
    Ready(LeafRef<'a>),
    /// A page id with the key range its parent allows.
    Deferred {
        id: PageId,
        lower: Option<&'a [u8]>,
        upper: Option<&'a [u8]>,
    },
}

/// Part of a bucket's key space the walk could not read: the keys in
/// `[lower, upper)` (`None`: unbounded) that lay behind page `page`. Salvage
/// uses it to tell what may be missing.
#[derive(Debug, Clone, Copy)]
pub struct LostRange<'a> {
    pub page: PageAt,
    pub lower: Option<&'a [u8]>,
    pub upper: Option<&'a [u8]>,
}

/// A walk over one database: remembers every page it reached (the set is
/// atomic so deferred leaves can be marked from many threads).
pub struct TreeWalk<'a> {
    db: &'a Db,
    visited: Vec<AtomicU64>,
    /// Pages reached that are branches.
    pub branch_pages: u64,
    /// Deepest level seen (1 = a bucket whose root is a leaf).
    pub max_depth: usize,
    pub issues: Vec<BoltError>,
    /// Key ranges behind branch pages that could not be read.
    pub lost: Vec<LostRange<'a>>,
}

impl<'a> TreeWalk<'a> {
    pub(crate) fn new(db: &'a Db) -> TreeWalk<'a> {
        let n = db.page_limit() as usize;
        TreeWalk {
            db,
            visited: (0..n / 64 + 1).map(|_| AtomicU64::new(0)).collect(),
            branch_pages: 0,
            max_depth: 0,
            issues: Vec::new(),
            lost: Vec::new(),
        }
    }

    /// Marks pages `[id, id + span)`; false if any was already marked or lies
    /// outside the file.
    pub(crate) fn mark(&self, id: PageId, span: u64) -> bool {
        let mut fresh = true;
        for p in id.get()..id.get().saturating_add(span) {
            let (w, b) = ((p / 64) as usize, p % 64);
            match self.visited.get(w) {
                Some(word) => {
                    if word.fetch_or(1 << b, Ordering::Relaxed) & (1 << b) != 0 {
                        fresh = false;
                    }
                }
                None => fresh = false,
            }
        }
        fresh
    }

    pub(crate) fn is_marked(&self, id: PageId) -> bool {
        let id = id.get();
        self.visited
            .get((id / 64) as usize)
            .map(|w| w.load(Ordering::Relaxed) & (1 << (id % 64)) != 0)
            .unwrap_or(false)
    }

    /// Reads and marks a pending leaf. Safe to call from many threads.
    pub(crate) fn resolve(
        &self,
        p: &PendingLeaf<'a>,
        bucket: &str,
    ) -> Result<LeafRef<'a>, BoltError> {
        match *p {
            PendingLeaf::Ready(l) => Ok(l),
            PendingLeaf::Deferred { id, lower, upper } => {
                self.accept(self.db.page(id)?, id, lower, upper, bucket)
            }
        }
    }

    /// The second half of [`TreeWalk::resolve`]: marks a deferred leaf's
    /// page, already read, and checks that it is a leaf.
    fn accept(
        &self,
        page: Page<'a>,
        id: PageId,
        lower: Option<&'a [u8]>,
        upper: Option<&'a [u8]>,
        bucket: &str,
    ) -> Result<LeafRef<'a>, BoltError> {
        if !self.mark(id, page.span()) {
            return Err(BoltError::MultipleReference {
                id,
                bucket: bucket.to_string(),
            });
        }
        match page.kind() {
            PageKind::Leaf => Ok(LeafRef { page, lower, upper }),
            PageKind::Branch => Err(BoltError::corrupt(
                id,
                format!("bucket {bucket}: a branch page where its siblings are leaves (unbalanced tree)"),
            )),
            _ => Err(BoltError::InvalidPageType {
                at: page.at,
                flags: page.flags,
                bucket: bucket.to_string(),
            }),
        }
    }

    /// The leaf pages of `bucket`, in key order, read now. Problems are
    /// recorded in `issues` and the broken subtree is skipped.
    pub(crate) fn leaves(&mut self, bucket: &Bucket<'a>) -> Vec<LeafRef<'a>> {
        let pending = self.pending(bucket);
        // The page reads run in parallel: on a large mapped file their cost
        // is mostly the page faults of touching each leaf for the first
        // time, which then split over the cores. Marking stays sequential,
        // in key order, so a page reached twice is reported exactly as a
        // sequential walk reports it.
        let db = self.db;
        let read: Vec<Option<Result<Page<'a>, BoltError>>> = pending
            .par_iter()
            .with_min_len(64)
            .map(|p| match *p {
                PendingLeaf::Ready(_) => None,
                PendingLeaf::Deferred { id, .. } => Some(db.page(id)),
            })
            .collect();
        let mut out = Vec::with_capacity(pending.len());
        for (p, page) in pending.iter().zip(read) {
            let leaf = match (*p, page) {
                (PendingLeaf::Ready(l), _) => Ok(l),
                (PendingLeaf::Deferred { id, lower, upper }, Some(page)) => {
                    page.and_then(|page| self.accept(page, id, lower, upper, &bucket.path))
                }
                (PendingLeaf::Deferred { .. }, None) => self.resolve(p, &bucket.path),
            };
            match leaf {
                Ok(l) => out.push(l),
                Err(e) => self.issues.push(e),
            }
        }
        out
    }

    /// The leaves of `bucket` in key order, located by reading only branch
    /// pages. Problems met on the way are recorded in `issues`.
    pub(crate) fn pending(&mut self, bucket: &Bucket<'a>) -> Vec<PendingLeaf<'a>> {
        let mut out = Vec::new();
        match bucket.root {
            BucketRoot::Inline(bytes) => match Page::parse(PageAt::Inline, bytes) {
                Ok(p) if p.kind() == PageKind::Leaf => {
                    self.max_depth = self.max_depth.max(1);
                    out.push(PendingLeaf::Ready(LeafRef {
                        page: p,
                        lower: None,
                        upper: None,
                    }))
                }
                Ok(p) => self.issues.push(BoltError::BadBucket {
                    bucket: bucket.path.clone(),
                    what: format!("inline bucket page has flags {:#x}, not a leaf", p.flags),
                }),
                Err(e) => self.issues.push(e),
            },
            BucketRoot::Page(id) => {
                // A root that is itself a leaf is read here.
                match self.db.page(id) {
                    Ok(p) if p.kind() == PageKind::Leaf => {
                        self.max_depth = self.max_depth.max(1);
                        out.push(PendingLeaf::Deferred {
                            id,
                            lower: None,
                            upper: None,
                        });
                    }
                    _ => self.descend(id, None, None, 1, &bucket.path, &mut out),
                }
            }
        }
        out
    }

    fn descend(
        &mut self,
        id: PageId,
        lower: Option<&'a [u8]>,
        upper: Option<&'a [u8]>,
        depth: usize,
        bucket: &str,
        out: &mut Vec<PendingLeaf<'a>>,
    ) {
        let lost = LostRange {
            page: PageAt::File(id),
            lower,
            upper,
        };
        if depth > MAX_DEPTH {
            self.issues.push(BoltError::TooDeep {
                bucket: bucket.to_string(),
                max: MAX_DEPTH,
            });
            self.lost.push(lost);
            return;
        }
        let page = match self.db.page(id) {
            Ok(p) => p,
            Err(e) => {
                self.issues.push(e);
                self.lost.push(lost);
                return;
            }
        };
        if page.kind() != PageKind::Branch {
            self.issues.push(BoltError::InvalidPageType {
                at: page.at,
                flags: page.flags,
                bucket: bucket.to_string(),
            });
            self.lost.push(lost);
            return;
        }
        if !self.mark(id, page.span()) {
            self.issues.push(BoltError::MultipleReference {
                id,
                bucket: bucket.to_string(),
            });
            self.lost.push(lost);
            return;
        }
        self.max_depth = self.max_depth.max(depth);
        self.branch_pages += 1;
        if page.count == 0 {
            self.issues.push(order_issue(
                id,
                bucket,
                "branch page with no elements".into(),
            ));
            self.lost.push(lost);
            return;
        }
        let mut children: Vec<(&'a [u8], PageId)> = Vec::with_capacity(page.count as usize);
        for i in 0..page.count as usize {
            match page.branch_elem(i) {
                Ok(c) => children.push(c),
                Err(e) => {
                    self.issues.push(e);
                    self.lost.push(lost);
                    return;
                }
            }
        }
        for (i, &(key, _)) in children.iter().enumerate() {
            let bad = if key.is_empty() {
                Some(format!("branch element {i} has an empty key"))
            } else if i > 0 && key <= children[i - 1].0 {
                Some(format!(
                    "branch key {} at element {i} is not greater than the previous",
                    show_key(key)
                ))
            } else if i == 0 && lower.map(|lo| key < lo).unwrap_or(false) {
                Some(format!(
                    "first branch key {} is below the parent's separator",
                    show_key(key)
                ))
            } else if upper.map(|hi| key >= hi).unwrap_or(false) {
                Some(format!(
                    "branch key {} is not below the next separator",
                    show_key(key)
                ))
            } else {
                None
            };
            if let Some(what) = bad {
                self.issues.push(order_issue(id, bucket, what));
            }
        }
        // bbolt trees are balanced: when the first child is a leaf, all are.
        // Defer them; whoever processes a leaf reads and marks it.
        let first_is_leaf = self
            .db
            .page(children[0].1)
            .map(|p| p.kind() == PageKind::Leaf)
            .unwrap_or(true);
        for i in 0..children.len() {
            let (key, child) = children[i];
            let next = children.get(i + 1).map(|c| c.0).or(upper);
            if first_is_leaf {
                self.max_depth = self.max_depth.max(depth + 1);
                out.push(PendingLeaf::Deferred {
                    id: child,
                    lower: Some(key),
                    upper: next,
                });
            } else {
                self.descend(child, Some(key), next, depth + 1, bucket, out);
            }
        }
    }
}
