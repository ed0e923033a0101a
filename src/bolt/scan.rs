//! The page scanner, for salvage: every page of the file (from 0 to the end
//! of the file, past the high-water mark too) classified on its own —
//! meta, branch, leaf, overflow run, freelist or unreadable — each leaf's
//! elements parsed alone with full bounds checks, and for each page whether
//! the chosen meta's tree reaches it ([`Reach`], a walk that skips what it
//! cannot read instead of stopping) or it is orphaned (free, or cut off by
//! damage).
//!
//! The streaming cursor (`Db::for_each`) and the full checker (`check.rs`)
//! stop at or report damage; this module reads around it.

use rayon::prelude::*;
use serde::Serialize;

use super::db::{Bucket, Db};
use super::error::BoltError;
use super::layout::{le_u64, PageAt, PageId};
use super::page::{Page, PageKind};
use super::walk::{LeafRef, LostRange, PendingLeaf, TreeWalk};

/// What one page is, judged by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PageClass {
    Meta,
    Branch,
    /// A leaf: `elems` elements read; `problem` when one could not be.
    Leaf {
        elems: u16,
        problem: Option<String>,
    },
    /// Part of the overflow run of page `of`.
    Overflow {
        of: PageId,
    },
    Freelist,
    /// Zeroed, a wrong page id in its header, an unknown type, or an
    /// overflow running past the end of the file.
    Unreadable {
        why: String,
    },
}

/// One page of the scan.
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    pub id: PageId,
    #[serde(flatten)]
    pub class: PageClass,
    /// Reached by the tree of the meta in use.
    pub reachable: bool,
}

/// Every page of the file.
#[derive(Debug, Clone, Serialize)]
pub struct PageScan {
    pub page_size: u32,
    /// Pages the file holds (`len / page_size`).
    pub file_pages: u64,
    /// The meta's high-water mark (the file's page count when no meta is
    /// valid).
    pub hwm: u64,
    pub pages: Vec<PageInfo>,
}

impl PageScan {
    /// Scans every page of `db`'s file; `reach` says which the tree reaches.
    pub fn scan(db: &Db, reach: &Reach<'_>) -> PageScan {
        let ps = db.page_size() as usize;
        let data = db.data();
        let file_pages = (data.len() / ps) as u64;
        // Headers, in order: an overflow run covers the pages after it.
        let mut pages = Vec::with_capacity(file_pages as usize);
        let mut id = 0u64;
        while id < file_pages {
            let reachable = reach.is_reachable(id);
            if id < 2 {
                pages.push(PageInfo {
                    id: PageId(id),
                    class: PageClass::Meta,
                    reachable: true,
                });
                id += 1;
                continue;
            }
            let start = id as usize * ps;
            let head = &data[start..start + ps];
            let found = le_u64(head, 0).unwrap_or(0);
            let unreadable = |why: String| PageInfo {
                id: PageId(id),
                class: PageClass::Unreadable { why },
                reachable,
            };
            if found != id {
                let why = if head.iter().all(|&b| b == 0) {
                    "zeroed".to_string()
                } else {
                    format!("header says page id {found}")
                };
                pages.push(unreadable(why));
                id += 1;
                continue;
            }
            let Ok(page) = Page::parse(PageAt::File(PageId(id)), head) else {
                pages.push(unreadable("shorter than a page header".into()));
                id += 1;
                continue;
            };
            let span = page.span();
            if id.saturating_add(span) > file_pages {
                pages.push(unreadable(format!(
                    "overflow of {} pages runs past the end of the file ({} pages)",
                    page.overflow, file_pages
                )));
                id += 1;
                continue;
            }
            let class = match page.kind() {
                PageKind::Branch => PageClass::Branch,
                PageKind::Leaf => PageClass::Leaf {
                    elems: 0,
                    problem: None,
                },
                PageKind::Freelist => PageClass::Freelist,
                PageKind::Meta => PageClass::Unreadable {
                    why: "a meta page past page 1".into(),
                },
                PageKind::Other(f) => PageClass::Unreadable {
                    why: format!("unknown page type {f:#x}"),
                },
            };
            pages.push(PageInfo {
                id: PageId(id),
                class,
                reachable,
            });
            for o in 1..span {
                pages.push(PageInfo {
                    id: PageId(id + o),
                    class: PageClass::Overflow { of: PageId(id) },
                    reachable: reach.is_reachable(id + o),
                });
            }
            id += span;
        }
        // Leaves, in parallel: every element, bounds-checked.
        pages.par_iter_mut().for_each(|p| {
            if let PageClass::Leaf { elems, problem } = &mut p.class {
                if let Some(page) = db.scan_page(p.id) {
                    for i in 0..page.count as usize {
                        match page.leaf_elem(i) {
                            Ok(_) => *elems += 1,
                            Err(e) => {
                                *problem = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
            }
        });
        PageScan {
            page_size: db.page_size(),
            file_pages,
            hwm: db.meta().pgid,
            pages,
        }
    }

    /// Leaf pages the tree does not reach.
    pub(crate) fn orphan_leaves(&self) -> impl Iterator<Item = &PageInfo> + '_ {
        self.pages
            .iter()
            .filter(|p| !p.reachable && matches!(p.class, PageClass::Leaf { .. }))
    }

    /// Pages that could not be read, reachable or not (zeroed free pages
    /// included: a scan cannot tell them from destroyed ones).
    pub(crate) fn unreadable(&self) -> impl Iterator<Item = &PageInfo> + '_ {
        self.pages
            .iter()
            .filter(|p| matches!(p.class, PageClass::Unreadable { .. }))
    }
}

impl Db {
    /// A logical page as the scanner reads it: wherever it lies in the file
    /// (past the high-water mark too), its header id checked, its overflow
    /// inside the file. `None` when it is not such a page.
    pub(crate) fn scan_page(&self, id: impl Into<PageId>) -> Option<Page<'_>> {
        let id: PageId = id.into();
        let ps = self.page_size() as usize;
        let head = self.raw_page(id)?;
        let at = PageAt::File(id);
        let p = Page::parse(at, head).ok()?;
        if p.header_id() != id.get() {
            return None;
        }
        let start = id.offset(self.page_size())?;
        let end = start.checked_add((p.overflow as usize + 1).checked_mul(ps)?)?;
        Page::parse(at, self.data().get(start..end)?).ok()
    }

    /// The tolerant walk: every bucket and leaf the meta in use reaches,
    /// skipping (and recording) what cannot be read.
    pub fn reach(&self) -> Reach<'_> {
        let mut walk = TreeWalk::new(self);
        walk.mark(PageId(0), 2);
        let mut r = Reach {
            buckets: Vec::new(),
            issues: Vec::new(),
            lost: Vec::new(),
            walk: None,
        };
        if self.meta_is_placeholder() {
            r.issues.push(BoltError::corrupt(
                PageId(0),
                "no valid meta page: no tree to walk, only the page scan",
            ));
            r.walk = Some(walk);
            return r;
        }
        let mut stack: Vec<(Bucket<'_>, usize)> = vec![(self.root_bucket(), 0)];
        while let Some((bucket, level)) = stack.pop() {
            let lost_before = walk.lost.len();
            let pending = walk.pending(&bucket);
            let mut leaves = Vec::with_capacity(pending.len());
            for p in &pending {
                match walk.resolve(p, &bucket.path) {
                    Ok(l) => leaves.push(l),
                    Err(e) => {
                        r.issues.push(e);
                        if let PendingLeaf::Deferred { id, lower, upper } = *p {
                            r.lost.push((
                                bucket.path.clone(),
                                LostRange {
                                    page: PageAt::File(id),
                                    lower,
                                    upper,
                                },
                            ));
                        }
                    }
                }
            }
            let lost: Vec<LostRange<'_>> = walk.lost.drain(lost_before..).collect();
            r.lost
                .extend(lost.into_iter().map(|l| (bucket.path.clone(), l)));
            r.issues.append(&mut walk.issues);
            let mut nested = Vec::new();
            for leaf in &leaves {
                let mut last: Option<&[u8]> = None;
                for e in leaf.elems() {
                    match e {
                        Ok(e) => {
                            if e.is_bucket() {
                                match Bucket::from_header(&bucket.path, e.key, e.value) {
                                    Ok(b) => nested.push(b),
                                    Err(err) => r.issues.push(err),
                                }
                            }
                            last = Some(e.key);
                        }
                        Err(err) => {
                            r.issues.push(err);
                            r.lost.push((
                                bucket.path.clone(),
                                LostRange {
                                    page: leaf.page.at,
                                    lower: last.or(leaf.lower),
                                    upper: leaf.upper,
                                },
                            ));
                            break;
                        }
                    }
                }
            }
            for b in nested.into_iter().rev() {
                stack.push((b, level + 1));
            }
            if level > 0 {
                r.buckets.push((bucket, leaves));
            }
        }
        let meta = self.meta();
        if meta.freelist != super::meta::PGID_NO_FREELIST {
            if let Ok(p) = self.page(meta.freelist) {
                if p.kind() == PageKind::Freelist {
                    walk.mark(meta.freelist, p.span());
                }
            }
        }
        r.walk = Some(walk);
        r
    }
}

/// What the tolerant walk reached.
pub struct Reach<'a> {
    /// Every bucket (nested ones too) with the leaves that could be read,
    /// in key order.
    pub buckets: Vec<(Bucket<'a>, Vec<LeafRef<'a>>)>,
    /// Every problem met.
    pub issues: Vec<BoltError>,
    /// Key ranges that could not be read, by bucket path.
    pub lost: Vec<(String, LostRange<'a>)>,
    walk: Option<TreeWalk<'a>>,
}

impl<'a> Reach<'a> {
    pub(crate) fn is_reachable(&self, id: impl Into<PageId>) -> bool {
        let id = id.into();
        self.walk.as_ref().map(|w| w.is_marked(id)).unwrap_or(false)
    }

    /// A top-level bucket's leaves, if the walk found the bucket.
    pub(crate) fn bucket(&self, name: &[u8]) -> Option<&(Bucket<'a>, Vec<LeafRef<'a>>)> {
        self.buckets
            .iter()
            .find(|(b, _)| b.name == name && !b.path.contains('/'))
    }
}

/// Guesses the page size of a file whose metas are gone: the size at which
/// most of the first pages carry their own id in their header.
pub(crate) fn guess_page_size(data: &[u8]) -> u32 {
    let mut best = (0usize, 4096u32);
    for ps in [4096u32, 8192, 16384, 32768, 65536, 1024, 2048] {
        let n = (data.len() / ps as usize).min(512) as u64;
        let hits = (2..n)
            .filter(|&p| le_u64(data, (p as usize) * ps as usize) == Some(p))
            .count();
        if hits > best.0 {
            best = (hits, ps);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_page_size_from_headers() {
        let mut d = vec![0u8; 8192 * 10];
        for p in 2..10u64 {
            d[p as usize * 8192..p as usize * 8192 + 8].copy_from_slice(&p.to_le_bytes());
        }
        assert_eq!(guess_page_size(&d), 8192);
        assert_eq!(guess_page_size(&[0u8; 4096 * 4]), 4096);
    }
}
