//! Opening a bbolt file: storage (mmap or owned bytes), page-size discovery,
//! meta selection, bounds-checked page access and buckets.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::error::{BoltError, Result};
use super::layout::{
    BucketHeader, BucketTree, PageAt, PageId, BUCKET_HEADER_SIZE, PAGE_HEADER_SIZE,
};
use super::meta::{Meta, MetaState, MAGIC_SWAPPED};
use super::page::Page;
use super::walk::TreeWalk;

/// The bytes of a database: a read-only map of a file, or owned bytes.
pub enum Storage {
    Mmap(Mmap),
    Owned(Vec<u8>),
}

impl Storage {
    /// Maps `path` read-only. An empty file cannot be mapped and is returned as
    /// empty owned bytes.
    pub(crate) fn map(path: &Path) -> Result<Storage> {
        let io = |e: std::io::Error| BoltError::Io {
            path: path.display().to_string(),
            source: Arc::new(e),
        };
        let f = File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        if len == 0 {
            return Ok(Storage::Owned(Vec::new()));
        }
        // SAFETY: the map is read-only; a concurrent truncation of the input
        // by another process could fault, which is the documented limit of
        // every mmap-based reader (bbolt included).
        let m = unsafe { Mmap::map(&f) }.map_err(io)?;
        #[cfg(unix)]
        {
            let _ = m.advise(memmap2::Advice::Sequential);
        }
        Ok(Storage::Mmap(m))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mmap(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

/// Where a bucket's tree lives.
#[derive(Debug, Clone, Copy)]
pub enum BucketRoot<'a> {
    /// A tree of pages starting at this page.
    Page(PageId),
    /// An inline bucket: a complete leaf page stored in the parent's value.
    Inline(&'a [u8]),
}

/// A bucket: its path (for messages), root and sequence.
#[derive(Debug, Clone)]
pub struct Bucket<'a> {
    /// Slash-joined path of bucket names, lossily decoded (for messages);
    /// empty for the root bucket.
    pub path: String,
    /// The raw name (the key in its parent); empty for the root bucket.
    pub name: &'a [u8],
    pub root: BucketRoot<'a>,
    pub sequence: u64,
}

impl<'a> Bucket<'a> {
    /// Interprets a leaf value flagged as a bucket.
    pub(crate) fn from_header(parent: &str, name: &'a [u8], value: &'a [u8]) -> Result<Bucket<'a>> {
        let path = if parent.is_empty() {
            String::from_utf8_lossy(name).into_owned()
        } else {
            format!("{parent}/{}", String::from_utf8_lossy(name))
        };
        let header = BucketHeader::decode(value).ok_or_else(|| BoltError::BadBucket {
            bucket: path.clone(),
            what: format!(
                "bucket header is {} bytes, needs {BUCKET_HEADER_SIZE}",
                value.len()
            ),
        })?;
        let sequence = header.sequence;
        let root = match header.tree {
            BucketTree::Inline => {
                let inline = &value[BUCKET_HEADER_SIZE..];
                if inline.len() < PAGE_HEADER_SIZE {
                    return Err(BoltError::BadBucket {
                        bucket: path,
                        what: "inline bucket shorter than a page header".into(),
                    });
                }
                BucketRoot::Inline(inline)
            }
            BucketTree::Root(id) => BucketRoot::Page(id),
        };
        Ok(Bucket {
            path,
            name,
            root,
            sequence,
        })
    }
}

/// An open bbolt database.
pub struct Db {
    storage: Storage,
    /// Bytes of the file that are the bbolt database (the rest, if any, is a
    /// trailer such as etcd's SHA-256).
    bolt_len: usize,
    page_size: u32,
    metas: [MetaState; 2],
    active: u8,
    meta: Meta,
    /// True when no meta page was valid and the db was opened for salvage
    /// with a placeholder meta (see [`Db::from_storage_salvage`]).
    placeholder_meta: bool,
}

impl Db {
    /// Maps and opens `path`, treating the whole file as the database.
    pub fn open(path: &Path) -> Result<Db> {
        let s = Storage::map(path)?;
        let len = s.bytes().len();
        Db::from_storage(s, len)
    }

    /// Opens owned bytes (tests, fuzzing).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Db> {
        let len = bytes.len();
        Db::from_storage(Storage::Owned(bytes), len)
    }

    /// Opens the first `bolt_len` bytes of `storage` as a bbolt file.
    pub(crate) fn from_storage(storage: Storage, bolt_len: usize) -> Result<Db> {
        let all = storage.bytes();
        let bolt_len = bolt_len.min(all.len());
        let data = &all[..bolt_len];
        if data.len() < 2 * 1024 {
            return Err(BoltError::TooSmall {
                len: data.len() as u64,
            });
        }
        // Page size: from meta 0 when it validates; else probe meta 1.
        let meta0_guess = Meta::parse(data);
        if let Some(m) = meta0_guess {
            if m.magic == MAGIC_SWAPPED {
                return Err(BoltError::ByteSwapped);
            }
        }
        let page_size = match meta0_guess {
            Some(m) if m.validate(data).is_ok() && plausible_page_size(m.page_size) => m.page_size,
            _ => probe_second_meta(data).unwrap_or(4096),
        };
        let ps = page_size as usize;
        if data.len() < 2 * ps {
            return Err(BoltError::TooSmall {
                len: data.len() as u64,
            });
        }
        let metas = [
            check_meta(0, data, 0, page_size),
            check_meta(1, data, ps, page_size),
        ];
        let pick = |i: usize| metas[i].meta.filter(|_| metas[i].is_valid());
        let (active, meta) = match (pick(0), pick(1)) {
            (Some(a), Some(b)) => {
                if b.txid > a.txid {
                    (1, b)
                } else {
                    (0, a)
                }
            }
            (Some(a), None) => (0, a),
            (None, Some(b)) => (1, b),
            (None, None) => {
                let swapped = metas
                    .iter()
                    .any(|m| m.meta.map(|m| m.magic == MAGIC_SWAPPED).unwrap_or(false));
                if swapped {
                    return Err(BoltError::ByteSwapped);
                }
                return Err(BoltError::NoValidMeta {
                    meta0: metas[0].problem.clone().unwrap_or_default(),
                    meta1: metas[1].problem.clone().unwrap_or_default(),
                });
            }
        };
        Ok(Db {
            storage,
            bolt_len,
            page_size,
            metas,
            active,
            meta,
            placeholder_meta: false,
        })
    }

    /// Opens for salvage: as [`Db::from_storage`], but when no meta page is
    /// valid the db is still opened, with the page size guessed from the
    /// page headers and a placeholder meta whose root is page 0 (so every
    /// tree walk fails at once, naming page 0) and whose high-water mark is
    /// the file's page count. Only the page scanner finds records then.
    pub(crate) fn from_storage_salvage(storage: Storage, bolt_len: usize) -> Result<Db> {
        let bolt_len = bolt_len.min(storage.bytes().len());
        // Probe first without moving the storage.
        let probe = {
            let data = &storage.bytes()[..bolt_len];
            match Db::probe_open(data) {
                Ok(()) => None,
                Err(e @ (BoltError::TooSmall { .. } | BoltError::Io { .. })) => return Err(e),
                Err(_) => Some(super::scan::guess_page_size(data)),
            }
        };
        let Some(page_size) = probe else {
            return Db::from_storage(storage, bolt_len);
        };
        let data = &storage.bytes()[..bolt_len];
        if data.len() < 2 * page_size as usize {
            return Err(BoltError::TooSmall {
                len: data.len() as u64,
            });
        }
        let metas = [
            check_meta(0, data, 0, page_size),
            check_meta(1, data, page_size as usize, page_size),
        ];
        let pages = (data.len() / page_size as usize) as u64;
        let meta = Meta {
            magic: super::meta::MAGIC,
            version: super::meta::VERSION,
            page_size,
            flags: 0,
            root: PageId(0),
            sequence: 0,
            freelist: super::meta::PGID_NO_FREELIST,
            pgid: pages,
            txid: 0,
            checksum: 0,
        };
        Ok(Db {
            storage,
            bolt_len,
            page_size,
            metas,
            active: 0,
            meta,
            placeholder_meta: true,
        })
    }

    /// Whether [`Db::from_storage`] would open these bytes (without keeping
    /// them).
    fn probe_open(data: &[u8]) -> Result<()> {
        // The checks of from_storage that decide whether it opens.
        if data.len() < 2 * 1024 {
            return Err(BoltError::TooSmall {
                len: data.len() as u64,
            });
        }
        let page_size = match Meta::parse(data) {
            Some(m) if m.validate(data).is_ok() && plausible_page_size(m.page_size) => m.page_size,
            _ => probe_second_meta(data).unwrap_or(4096),
        };
        let ps = page_size as usize;
        if data.len() < 2 * ps {
            return Err(BoltError::TooSmall {
                len: data.len() as u64,
            });
        }
        let ok = (0..2).any(|i| check_meta(i as u8, data, i * ps, page_size).is_valid());
        if ok {
            Ok(())
        } else {
            Err(BoltError::NoValidMeta {
                meta0: String::new(),
                meta1: String::new(),
            })
        }
    }

    /// True when the meta in use is a salvage placeholder (no meta page was
    /// valid).
    pub(crate) fn meta_is_placeholder(&self) -> bool {
        self.placeholder_meta
    }

    /// Page `id` as it lies in the file, wherever it is (past the
    /// high-water mark too), with its overflow when that fits in the file:
    /// for the page scanner. `None` past the end of the file.
    pub(crate) fn raw_page(&self, id: impl Into<PageId>) -> Option<&[u8]> {
        let ps = self.page_size as usize;
        let start = id.into().offset(self.page_size)?;
        self.data().get(start..start.checked_add(ps)?)
    }

    /// The bbolt bytes (without any trailer).
    pub fn data(&self) -> &[u8] {
        &self.storage.bytes()[..self.bolt_len]
    }

    /// All bytes of the underlying file, trailer included.
    pub(crate) fn file_bytes(&self) -> &[u8] {
        self.storage.bytes()
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The meta in use.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// 0 or 1: which meta page is in use.
    pub fn active_meta(&self) -> u8 {
        self.active
    }

    pub(crate) fn meta_states(&self) -> &[MetaState; 2] {
        &self.metas
    }

    /// `meta.pgid × pageSize`: the size bbolt (and etcd's `snapshot status`)
    /// reports.
    pub fn size(&self) -> u64 {
        self.meta.pgid.saturating_mul(u64::from(self.page_size))
    }

    /// Pages that can be read: below the high-water mark and inside the file.
    pub(crate) fn page_limit(&self) -> u64 {
        let in_file = (self.bolt_len / self.page_size as usize) as u64;
        self.meta.pgid.min(in_file)
    }

    /// The logical page `id` (with its overflow pages), bounds-checked, its
    /// header id verified.
    pub fn page(&self, id: impl Into<PageId>) -> Result<Page<'_>> {
        let id: PageId = id.into();
        let limit = self.page_limit();
        let oor = || BoltError::PageOutOfRange {
            id,
            pages: (self.bolt_len / self.page_size as usize) as u64,
            page_size: self.page_size,
            hwm: self.meta.pgid,
        };
        if id.get() >= limit {
            return Err(oor());
        }
        let ps = self.page_size as usize;
        let start = id.get() as usize * ps;
        let data = self.data();
        let at = PageAt::File(id);
        let head = Page::parse(at, &data[start..start + ps])?;
        let found = head.header_id();
        if found != id.get() {
            return Err(BoltError::PageIdMismatch { id, found });
        }
        let span = head.span();
        if id
            .get()
            .checked_add(span)
            .map(|e| e > limit)
            .unwrap_or(true)
        {
            return Err(BoltError::corrupt(
                id,
                format!(
                    "overflow of {} pages runs past the last readable page {}",
                    head.overflow,
                    limit.saturating_sub(1)
                ),
            ));
        }
        let end = start + span as usize * ps;
        Page::parse(at, &data[start..end])
    }

    /// The root bucket (its leaves hold the top-level buckets).
    pub(crate) fn root_bucket(&self) -> Bucket<'_> {
        Bucket {
            path: String::new(),
            name: b"",
            root: BucketRoot::Page(self.meta.root),
            sequence: self.meta.sequence,
        }
    }

    /// The page of a bucket's root (an inline bucket's embedded page).
    pub(crate) fn bucket_root_page<'a>(&'a self, b: &Bucket<'a>) -> Result<Page<'a>> {
        match b.root {
            BucketRoot::Page(id) => self.page(id),
            BucketRoot::Inline(bytes) => Page::parse(PageAt::Inline, bytes),
        }
    }

    /// The top-level buckets in name order. Any structural problem on the way
    /// is an error.
    pub fn buckets(&self) -> Result<Vec<Bucket<'_>>> {
        self.child_buckets(&self.root_bucket())
    }

    /// The nested buckets of `parent` in name order.
    pub fn child_buckets<'a>(&'a self, parent: &Bucket<'a>) -> Result<Vec<Bucket<'a>>> {
        let mut out = Vec::new();
        self.for_each(parent, |e| {
            if e.is_bucket() {
                out.push(Bucket::from_header(&parent.path, e.key, e.value)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// A top-level bucket by name.
    pub fn bucket(&self, name: &[u8]) -> Result<Bucket<'_>> {
        self.buckets()?
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| BoltError::NoSuchBucket {
                bucket: String::from_utf8_lossy(name).into_owned(),
            })
    }

    /// Calls `f` for every element of `bucket` in key order. The tree is
    /// walked with full reference checking; the first problem is returned.
    pub fn for_each<'a, F>(&'a self, bucket: &Bucket<'a>, mut f: F) -> Result<()>
    where
        F: FnMut(super::page::LeafElem<'a>) -> Result<()>,
    {
        for leaf in self.leaves(bucket)? {
            for i in 0..leaf.page.count as usize {
                f(leaf.page.leaf_elem(i)?)?;
            }
        }
        Ok(())
    }

    /// The leaf pages of `bucket` in key order, for sequential or parallel
    /// work. Any structural problem is an error.
    pub fn leaves<'a>(&'a self, bucket: &Bucket<'a>) -> Result<Vec<super::walk::LeafRef<'a>>> {
        let mut w = TreeWalk::new(self);
        let leaves = w.leaves(bucket);
        match w.issues.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(leaves),
        }
    }
}

fn plausible_page_size(ps: u32) -> bool {
    (1024..=1 << 24).contains(&ps) && ps.is_power_of_two()
}

fn probe_second_meta(data: &[u8]) -> Option<u32> {
    for i in 0..15u32 {
        let off = 1024usize << i;
        if off + 1024 > data.len() {
            break;
        }
        let page = &data[off..];
        if let Some(m) = Meta::parse(page) {
            if m.validate(page).is_ok() && m.page_size as usize == off {
                return Some(m.page_size);
            }
        }
    }
    None
}

fn check_meta(index: u8, data: &[u8], off: usize, page_size: u32) -> MetaState {
    let page = data.get(off..).unwrap_or(&[]);
    let meta = Meta::parse(page);
    let problem = match meta {
        None => Some("truncated: no meta struct".to_string()),
        Some(m) => match m.validate(page) {
            Err(e) => Some(e.to_string()),
            Ok(()) if m.page_size != page_size => Some(format!(
                "page size {} disagrees with the file's page size {page_size}",
                m.page_size
            )),
            Ok(()) if m.pgid < 2 => Some(format!("high-water mark {} below 2", m.pgid)),
            Ok(()) if m.root.get() < 2 || m.root.get() >= m.pgid => {
                Some(format!("root page {} outside [2, {})", m.root, m.pgid))
            }
            Ok(()) => None,
        },
    };
    MetaState {
        index,
        meta,
        problem,
    }
}
