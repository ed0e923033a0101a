//! A streaming bbolt writer: builds a fresh, compact bbolt file from buckets
//! whose keys arrive in ascending order — what `bbolt compact` produces.
//!
//! Layout: meta pages 0 and 1 (both valid, txids T and T−1 on pages
//! `T % 2` and the other, as bbolt alternates them), no freelist
//! (`PgidNoFreelist`, as etcd writes), then every other page in the order
//! it was completed. Leaves are filled up to the page size (bbolt's
//! `FillPercent = 1.0`, the compact setting); a single element larger than a
//! page gets a leaf with overflow pages. Branch pages are built bottom-up
//! with the first key of each child as separator. A bucket small enough
//! (leaf-only, no nested buckets, at most a quarter page) is stored inline in
//! its parent's value exactly as bbolt does it.
//!
//! Memory stays bounded: each open bucket holds at most one pending page per
//! tree level; finished pages go straight to the file. Meta pages are
//! written last (the file starts with two zero pages), then the file is
//! fsynced.
//!
//! Every byte is laid out with the encoders of `layout.rs` and `meta.rs`,
//! the same definitions the reader decodes with. The writer knows nothing
//! of etcd: a caller that wants a digest of what was written (etcd's
//! `snapshot status` hash) passes a [`WriteObserver`], which sees every
//! bucket and key as it is written.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use thiserror::Error;

use super::layout::{
    BranchElem, BucketHeader, BucketTree, LeafElemHeader, PageHeader, PageId, BRANCH_ELEM_SIZE,
    BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, FLAG_BRANCH, FLAG_LEAF, LEAF_ELEM_SIZE, PAGE_HEADER_SIZE,
};
use super::meta::{Meta, MAGIC, PGID_NO_FREELIST, VERSION};
use super::walk::show_key;

/// bbolt's limits (`bucket.go`).
pub(crate) const MAX_KEY_SIZE: usize = 32768;
pub(crate) const MAX_VALUE_SIZE: usize = (1 << 31) - 2;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bucket {bucket}: key {key} does not sort after the previous key {prev}")]
    KeyOrder {
        bucket: String,
        key: String,
        prev: String,
    },
    #[error("bucket {bucket}: empty key")]
    EmptyKey { bucket: String },
    #[error("bucket {bucket}: key {key} is {len} bytes, more than bbolt's {MAX_KEY_SIZE}")]
    KeyTooLarge {
        bucket: String,
        key: String,
        len: usize,
    },
    #[error("bucket {bucket}: value of key {key} is {len} bytes, more than bbolt allows")]
    ValueTooLarge {
        bucket: String,
        key: String,
        len: usize,
    },
    #[error("unbalanced buckets: {what}")]
    Unbalanced { what: String },
    #[error("page size {0} is not a power of two between 1024 and 65536")]
    BadPageSize(u32),
}

pub(crate) type WriteResult<T> = std::result::Result<T, WriteError>;

/// Options of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    pub page_size: u32,
    /// The txid of the newest meta (the other meta gets `txid − 1`). At
    /// least 1.
    pub txid: u64,
    /// Store small buckets inline as bbolt does (`true`), or give every
    /// bucket a root page.
    pub inline_buckets: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            page_size: 4096,
            txid: 2,
            inline_buckets: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    /// Pages in the file (the meta's high-water mark).
    pub pages: u64,
    /// `pages × page_size`: the file size.
    pub bytes: u64,
    pub root: PageId,
    pub leaf_pages: u64,
    pub branch_pages: u64,
    pub overflow_pages: u64,
    pub inline_buckets: u64,
    pub keys: u64,
}

/// Sees the content as it is written, in file order: each bucket when it
/// is begun and each key/value put. `depth` is the nesting depth of the
/// bucket the element belongs to: 0 for the root bucket (whose elements
/// are the top-level buckets), 1 for a top-level bucket, and so on. The
/// default methods ignore everything; `()` observes nothing.
pub trait WriteObserver {
    /// A bucket `name` was begun inside a bucket at `depth`.
    fn bucket(&mut self, _depth: usize, _name: &[u8]) {}
    /// A key/value was put into a bucket at `depth`.
    fn put(&mut self, _depth: usize, _key: &[u8], _value: &[u8]) {}
}

impl WriteObserver for () {}

impl<T: WriteObserver + ?Sized> WriteObserver for &mut T {
    fn bucket(&mut self, depth: usize, name: &[u8]) {
        (**self).bucket(depth, name)
    }
    fn put(&mut self, depth: usize, key: &[u8], value: &[u8]) {
        (**self).put(depth, key, value)
    }
}

/// One pending element of a page being filled.
struct Elem {
    flags: u32,
    key: Vec<u8>,
    /// Value (leaf) or empty (branch).
    value: Vec<u8>,
    /// Child page (branch).
    pgid: PageId,
}

/// One level of a bucket's tree under construction.
/// A leaf larger than a page takes whole pages, so its tail is wasted. When
/// an element would spill the pending leaf, keep it there anyway if that
/// needs fewer pages than closing the leaf and starting a new one (large
/// values then share overflow pages instead of each wasting a tail), up to
/// `MAX_PACKED_PAGES` per leaf.
fn packs_better(size: usize, esize: usize, ps: usize) -> bool {
    let pages = |bytes: usize| bytes.div_ceil(ps);
    let merged = pages(size + esize);
    merged <= MAX_PACKED_PAGES && merged < pages(size) + pages(PAGE_HEADER_SIZE + esize)
}

/// Upper bound of a packed leaf (with its overflow), in pages.
const MAX_PACKED_PAGES: usize = 16;

#[derive(Default)]
struct Level {
    elems: Vec<Elem>,
    /// Bytes the pending page would take (header included).
    size: usize,
    /// Pages already written at this level.
    flushed: u64,
}

/// A bucket being built: level 0 holds leaves, level i>0 branches.
struct Builder {
    path: String,
    name: Vec<u8>,
    sequence: u64,
    levels: Vec<Level>,
    last_key: Option<Vec<u8>>,
    has_nested: bool,
}

impl Builder {
    fn new(path: String, name: Vec<u8>, sequence: u64) -> Builder {
        Builder {
            path,
            name,
            sequence,
            levels: vec![Level {
                size: PAGE_HEADER_SIZE,
                ..Level::default()
            }],
            last_key: None,
            has_nested: false,
        }
    }
}

/// Where the bytes go: the file, with its path for messages.
struct Sink<W: Write + Seek> {
    out: W,
    path: String,
    next_pgid: u64,
    page_size: usize,
    buf: Vec<u8>,
}

impl<W: Write + Seek> Sink<W> {
    fn io(&self, source: std::io::Error) -> WriteError {
        WriteError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Serializes a page of `elems` at the next pgid and writes it.
    /// Returns the page id.
    fn write_page(
        &mut self,
        branch: bool,
        elems: &[Elem],
        size: usize,
    ) -> WriteResult<(PageId, u32)> {
        let ps = self.page_size;
        let npages = size.div_ceil(ps).max(1);
        let id = PageId(self.next_pgid);
        let overflow = (npages - 1) as u32;
        self.buf.clear();
        self.buf.resize(npages * ps, 0);
        let flags = if branch { FLAG_BRANCH } else { FLAG_LEAF };
        encode_page(&mut self.buf, id.get(), flags, elems, branch, overflow);
        self.next_pgid += npages as u64;
        let Sink { out, buf, .. } = self;
        out.write_all(buf).map_err(|e| WriteError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        Ok((id, overflow))
    }
}

/// Lays out a page (header, elements, then keys/values) into `buf`. `id`
/// is the raw header id (0 for an inline bucket's page).
fn encode_page(buf: &mut [u8], id: u64, flags: u16, elems: &[Elem], branch: bool, overflow: u32) {
    PageHeader {
        id,
        flags,
        count: elems.len() as u16,
        overflow,
    }
    .encode(buf);
    let esize = if branch {
        BRANCH_ELEM_SIZE
    } else {
        LEAF_ELEM_SIZE
    };
    let mut data = PAGE_HEADER_SIZE + esize * elems.len();
    for (i, e) in elems.iter().enumerate() {
        let off = PAGE_HEADER_SIZE + esize * i;
        let pos = (data - off) as u32;
        let ksize = e.key.len() as u32;
        if branch {
            BranchElem {
                pos,
                ksize,
                child: e.pgid,
            }
            .encode(&mut buf[off..]);
        } else {
            LeafElemHeader {
                flags: e.flags,
                pos,
                ksize,
                vsize: e.value.len() as u32,
            }
            .encode(&mut buf[off..]);
        }
        buf[data..data + e.key.len()].copy_from_slice(&e.key);
        data += e.key.len();
        buf[data..data + e.value.len()].copy_from_slice(&e.value);
        data += e.value.len();
    }
}

/// The streaming writer. Call [`BoltWriter::begin_bucket`], then
/// [`BoltWriter::put`] in ascending key order, then
/// [`BoltWriter::end_bucket`]; buckets nest. Top-level buckets must also be
/// begun in ascending name order. Finish with [`BoltWriter::finish`].
/// `O` sees the content as it is written ([`BoltWriter::observed`]).
pub struct BoltWriter<W: Write + Seek, O: WriteObserver = ()> {
    sink: Sink<W>,
    opts: WriterOptions,
    /// stack[0] is the root bucket.
    stack: Vec<Builder>,
    summary: WriteSummary,
    observer: O,
}

impl BoltWriter<BufWriter<File>> {
    /// Creates `path` (which must not exist) with mode 0600.
    pub fn create(path: &Path, opts: WriterOptions) -> WriteResult<Self> {
        let f = create_new_0600(path).map_err(|e| WriteError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        BoltWriter::new(
            BufWriter::with_capacity(1 << 20, f),
            path.display().to_string(),
            opts,
        )
    }
}

impl<O: WriteObserver> BoltWriter<BufWriter<File>, O> {
    /// Writes the meta pages, flushes and fsyncs the file.
    pub fn finish_file(self) -> WriteResult<WriteSummary> {
        let path = self.sink.path.clone();
        let (out, summary) = self.finish_inner()?;
        let f = out.into_inner().map_err(|e| WriteError::Io {
            path: path.clone(),
            source: e.into_error(),
        })?;
        f.sync_all()
            .map_err(|e| WriteError::Io { path, source: e })?;
        Ok(summary)
    }
}

pub use crate::private_files::create_new_0600;

impl<W: Write + Seek> BoltWriter<W> {
    /// A writer over any seekable sink; `name` is used in messages.
    pub(crate) fn new(mut out: W, name: String, opts: WriterOptions) -> WriteResult<Self> {
        let ps = opts.page_size;
        if !(1024..=65536).contains(&ps) || !ps.is_power_of_two() {
            return Err(WriteError::BadPageSize(ps));
        }
        let zeros = vec![0u8; 2 * ps as usize];
        out.write_all(&zeros).map_err(|e| WriteError::Io {
            path: name.clone(),
            source: e,
        })?;
        Ok(BoltWriter {
            sink: Sink {
                out,
                path: name,
                next_pgid: 2,
                page_size: ps as usize,
                buf: Vec::new(),
            },
            opts,
            stack: vec![Builder::new(String::new(), Vec::new(), 0)],
            summary: WriteSummary {
                pages: 0,
                bytes: 0,
                root: PageId(0),
                leaf_pages: 0,
                branch_pages: 0,
                overflow_pages: 0,
                inline_buckets: 0,
                keys: 0,
            },
            observer: (),
        })
    }
}

impl<W: Write + Seek, O: WriteObserver> BoltWriter<W, O> {
    /// The same writer, with `observer` seeing everything written from now
    /// on (pass `&mut x` to keep `x`).
    pub(crate) fn observed<P: WriteObserver>(self, observer: P) -> BoltWriter<W, P> {
        BoltWriter {
            sink: self.sink,
            opts: self.opts,
            stack: self.stack,
            summary: self.summary,
            observer,
        }
    }

    /// Sets the root bucket's sequence (the meta's `sequence`).
    pub(crate) fn set_root_sequence(&mut self, seq: u64) {
        self.stack[0].sequence = seq;
    }

    /// Opens a nested bucket `name` in the current bucket (the root bucket
    /// at first). Its name must sort after the previous key of the parent.
    pub(crate) fn begin_bucket(&mut self, name: &[u8], sequence: u64) -> WriteResult<()> {
        let parent = self.current();
        check_key(parent, name)?;
        let path = if parent.path.is_empty() {
            String::from_utf8_lossy(name).into_owned()
        } else {
            format!("{}/{}", parent.path, String::from_utf8_lossy(name))
        };
        self.observer.bucket(self.stack.len() - 1, name);
        // Reserve the name in the parent's order now.
        let parent = self.current_mut();
        parent.last_key = Some(name.to_vec());
        parent.has_nested = true;
        self.stack.push(Builder::new(path, name.to_vec(), sequence));
        Ok(())
    }

    /// Adds a key/value to the current bucket. Keys must be strictly
    /// ascending (unsigned bytewise).
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) -> WriteResult<()> {
        if self.stack.len() < 2 {
            return Err(WriteError::Unbalanced {
                what: "put outside any bucket (the root bucket holds only buckets)".into(),
            });
        }
        let b = self.current();
        check_key(b, key)?;
        if value.len() > MAX_VALUE_SIZE {
            return Err(WriteError::ValueTooLarge {
                bucket: b.path.clone(),
                key: show_key(key),
                len: value.len(),
            });
        }
        self.current_mut().last_key = Some(key.to_vec());
        self.summary.keys += 1;
        self.observer.put(self.stack.len() - 1, key, value);
        self.add(
            0,
            Elem {
                flags: 0,
                key: key.to_vec(),
                value: value.to_vec(),
                pgid: PageId(0),
            },
        )
    }

    /// Closes the current bucket and stores its header in the parent.
    pub(crate) fn end_bucket(&mut self) -> WriteResult<()> {
        if self.stack.len() < 2 {
            return Err(WriteError::Unbalanced {
                what: "end_bucket without an open bucket".into(),
            });
        }
        let value = self.close_top()?;
        let b = self.stack.pop().ok_or_else(|| WriteError::Unbalanced {
            what: "bucket stack empty".into(),
        })?;
        self.add(
            0,
            Elem {
                flags: BUCKET_LEAF_FLAG,
                key: b.name,
                value,
                pgid: PageId(0),
            },
        )
    }

    fn current(&self) -> &Builder {
        &self.stack[self.stack.len() - 1]
    }

    fn current_mut(&mut self) -> &mut Builder {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    /// Adds an element at `level` of the current bucket, flushing the
    /// pending page first if the element would overfill it.
    fn add(&mut self, level: usize, e: Elem) -> WriteResult<()> {
        let ps = self.sink.page_size;
        let esize = LEAF_ELEM_SIZE + e.key.len() + e.value.len();
        let need_flush = {
            let b = self.current();
            let l = &b.levels[level];
            !l.elems.is_empty()
                && (l.elems.len() >= 0xFFFE
                    || (l.size + esize > ps && !packs_better(l.size, esize, ps)))
        };
        if need_flush {
            self.flush_level(level)?;
        }
        let b = self.current_mut();
        let l = &mut b.levels[level];
        l.size += esize;
        l.elems.push(e);
        Ok(())
    }

    /// Writes the pending page of `level` and adds its separator one level up.
    fn flush_level(&mut self, level: usize) -> WriteResult<()> {
        let n = self.stack.len() - 1;
        let branch = level > 0;
        let (elems, size) = {
            let l = &mut self.stack[n].levels[level];
            let elems = std::mem::take(&mut l.elems);
            let size = std::mem::replace(&mut l.size, PAGE_HEADER_SIZE);
            l.flushed += 1;
            (elems, size)
        };
        let (id, overflow) = self.sink.write_page(branch, &elems, size)?;
        if branch {
            self.summary.branch_pages += 1;
        } else {
            self.summary.leaf_pages += 1;
        }
        self.summary.overflow_pages += u64::from(overflow);
        let first = elems.into_iter().next().map(|e| e.key).unwrap_or_default();
        let b = &mut self.stack[n];
        if b.levels.len() <= level + 1 {
            b.levels.push(Level {
                size: PAGE_HEADER_SIZE,
                ..Level::default()
            });
        }
        self.add(
            level + 1,
            Elem {
                flags: 0,
                key: first,
                value: Vec::new(),
                pgid: id,
            },
        )
    }

    /// Finishes the tree of the top builder; returns its bucket value (a
    /// 16-byte header, plus the inline page when inlined). For the root
    /// builder the returned header holds the root page id.
    fn close_top(&mut self) -> WriteResult<Vec<u8>> {
        let n = self.stack.len() - 1;
        let is_root = n == 0;
        let ps = self.sink.page_size;
        let seq = self.stack[n].sequence;
        // Inline, as bbolt's `inlineable` + `maxInlineBucketSize`: a leaf
        // root, no nested buckets, at most pageSize/4 bytes.
        {
            let b = &self.stack[n];
            let l0 = &b.levels[0];
            if !is_root
                && self.opts.inline_buckets
                && b.levels.len() == 1
                && l0.flushed == 0
                && !b.has_nested
                && l0.size <= ps / 4
            {
                let mut v = vec![0u8; BUCKET_HEADER_SIZE + l0.size];
                let header = BucketHeader {
                    tree: BucketTree::Inline,
                    sequence: seq,
                };
                v[..BUCKET_HEADER_SIZE].copy_from_slice(&header.encode());
                encode_page(
                    &mut v[BUCKET_HEADER_SIZE..],
                    0,
                    FLAG_LEAF,
                    &l0.elems,
                    false,
                    0,
                );
                self.summary.inline_buckets += 1;
                return Ok(v);
            }
        }
        let mut level = 0;
        let root = loop {
            let (pending, flushed, top) = {
                let b = &self.stack[n];
                let l = &b.levels[level];
                (l.elems.len(), l.flushed, level + 1 == b.levels.len())
            };
            if level > 0 && top && flushed == 0 && pending == 1 {
                // A single child at the top: that child is the root.
                let b = &mut self.stack[n];
                let e = b.levels[level].elems.pop();
                match e {
                    Some(e) => break e.pgid,
                    None => {
                        return Err(WriteError::Unbalanced {
                            what: "tree construction lost its root".into(),
                        })
                    }
                }
            }
            if pending > 0 || (level == 0 && flushed == 0) {
                // Flush (an empty bucket still needs its empty leaf).
                self.flush_level(level)?;
            }
            level += 1;
            if level >= self.stack[n].levels.len() {
                return Err(WriteError::Unbalanced {
                    what: "tree construction lost its root".into(),
                });
            }
        };
        let header = BucketHeader {
            tree: BucketTree::Root(root),
            sequence: seq,
        };
        Ok(header.encode().to_vec())
    }

    fn finish_inner(mut self) -> WriteResult<(W, WriteSummary)> {
        if self.stack.len() != 1 {
            return Err(WriteError::Unbalanced {
                what: format!("bucket {} still open at finish", self.current().path),
            });
        }
        let header = self.close_top()?;
        let root = match BucketHeader::decode(&header).map(|h| h.tree) {
            Some(BucketTree::Root(id)) => id,
            _ => {
                return Err(WriteError::Unbalanced {
                    what: "the root bucket has no root page".into(),
                })
            }
        };
        let sequence = self.stack[0].sequence;
        let ps = self.sink.page_size;
        let pgid = self.sink.next_pgid;
        let txid = self.opts.txid.max(1);
        let sink = &mut self.sink;
        for t in [txid, txid - 1] {
            let meta = Meta {
                magic: MAGIC,
                version: VERSION,
                page_size: ps as u32,
                flags: 0,
                root,
                sequence,
                freelist: PGID_NO_FREELIST,
                pgid,
                txid: t,
                checksum: 0,
            };
            let id = t % 2;
            let page = meta.page_bytes(id);
            sink.out
                .seek(SeekFrom::Start(id * ps as u64))
                .map_err(|e| sink.io(e))?;
            sink.out.write_all(&page).map_err(|e| sink.io(e))?;
        }
        sink.out
            .seek(SeekFrom::Start(pgid * ps as u64))
            .map_err(|e| sink.io(e))?;
        sink.out.flush().map_err(|e| sink.io(e))?;
        let mut summary = self.summary;
        summary.pages = pgid;
        summary.bytes = pgid * ps as u64;
        summary.root = root;
        Ok((self.sink.out, summary))
    }

    /// Writes the meta pages and flushes; returns the sink (for in-memory
    /// use). Files should use [`BoltWriter::finish_file`], which fsyncs.
    pub(crate) fn finish(self) -> WriteResult<(W, WriteSummary)> {
        self.finish_inner()
    }
}

fn check_key(b: &Builder, key: &[u8]) -> WriteResult<()> {
    if key.is_empty() {
        return Err(WriteError::EmptyKey {
            bucket: b.path.clone(),
        });
    }
    if key.len() > MAX_KEY_SIZE {
        return Err(WriteError::KeyTooLarge {
            bucket: b.path.clone(),
            key: show_key(key),
            len: key.len(),
        });
    }
    if let Some(prev) = &b.last_key {
        if key <= prev.as_slice() {
            return Err(WriteError::KeyOrder {
                bucket: b.path.clone(),
                key: show_key(key),
                prev: show_key(prev),
            });
        }
    }
    Ok(())
}

/// Copies every bucket of `db` (nested ones too, sequences kept) into `w`,
/// applying `edits` to top-level buckets by name; an edited bucket the
/// source lacks is created. Used by defrag and restore.
pub fn copy_db<W: Write + Seek, O: WriteObserver>(
    db: &super::Db,
    w: &mut BoltWriter<W, O>,
    mut edits: std::collections::BTreeMap<Vec<u8>, BucketEdit>,
) -> Result<(), CopyError> {
    w.set_root_sequence(db.meta().sequence);
    let buckets = db.buckets()?;
    let mut names: Vec<Vec<u8>> = buckets.iter().map(|b| b.name.to_vec()).collect();
    for n in edits.keys() {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names.sort();
    for name in names {
        let src = buckets.iter().find(|b| b.name == name.as_slice());
        let e = edits.remove(&name);
        w.begin_bucket(&name, src.map(|b| b.sequence).unwrap_or(0))?;
        copy_bucket(db, src, w, e)?;
        w.end_bucket()?;
    }
    Ok(())
}

/// Changes to one top-level bucket while copying: drop every key first
/// (`clear`), then set (`Some`) or delete (`None`) keys.
#[derive(Debug, Default, Clone)]
pub struct BucketEdit {
    pub clear: bool,
    pub set: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

#[derive(Debug, Error)]
pub enum CopyError {
    #[error(transparent)]
    Read(#[from] super::BoltError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

fn copy_bucket<W: Write + Seek, O: WriteObserver>(
    db: &super::Db,
    src: Option<&super::Bucket<'_>>,
    w: &mut BoltWriter<W, O>,
    edit: Option<BucketEdit>,
) -> Result<(), CopyError> {
    let edit = edit.unwrap_or_default();
    let mut sets = edit.set.into_iter().peekable();
    if let Some(src) = src {
        if !edit.clear {
            let mut err: Option<CopyError> = None;
            for_each_streaming(db, src, &mut |e| {
                // Emit edited keys that sort before this one.
                while let Some((k, _)) = sets.peek() {
                    if k.as_slice() >= e.key {
                        break;
                    }
                    if let Some((k, Some(v))) = sets.next() {
                        w.put(&k, &v).map_err(|x| wrap(&mut err, x.into()))?;
                    }
                }
                if let Some((k, _)) = sets.peek() {
                    if k.as_slice() == e.key {
                        // Replaced or deleted.
                        if let Some((k, Some(v))) = sets.next() {
                            w.put(&k, &v).map_err(|x| wrap(&mut err, x.into()))?;
                        }
                        return Ok(());
                    }
                }
                if e.is_bucket() {
                    let nested = super::Bucket::from_header(&src.path, e.key, e.value)?;
                    w.begin_bucket(e.key, nested.sequence)
                        .map_err(|x| wrap(&mut err, x.into()))?;
                    copy_bucket(db, Some(&nested), w, None).map_err(|x| wrap(&mut err, x))?;
                    w.end_bucket().map_err(|x| wrap(&mut err, x.into()))?;
                } else {
                    w.put(e.key, e.value)
                        .map_err(|x| wrap(&mut err, x.into()))?;
                }
                Ok(())
            })
            .map_err(|e| err.take().unwrap_or(CopyError::Read(e)))?;
        }
    }
    for (k, v) in sets {
        if let Some(v) = v {
            w.put(&k, &v)?;
        }
    }
    Ok(())
}

/// Calls `f` for every element of `bucket` in key order, descending the
/// tree page by page: memory is O(depth), unlike collecting the leaves
/// first. Callers check the structure beforehand (a scan); this walk still
/// bounds its depth and checks every access.
pub(crate) fn for_each_streaming<'a>(
    db: &'a super::Db,
    bucket: &super::Bucket<'a>,
    f: &mut dyn FnMut(super::page::LeafElem<'a>) -> super::Result<()>,
) -> super::Result<()> {
    fn descend<'a>(
        db: &'a super::Db,
        page: super::Page<'a>,
        depth: usize,
        bucket: &str,
        f: &mut dyn FnMut(super::page::LeafElem<'a>) -> super::Result<()>,
    ) -> super::Result<()> {
        if depth > super::MAX_DEPTH {
            return Err(super::BoltError::TooDeep {
                bucket: bucket.to_string(),
                max: super::MAX_DEPTH,
            });
        }
        match page.kind() {
            super::PageKind::Leaf => {
                for i in 0..page.count as usize {
                    f(page.leaf_elem(i)?)?;
                }
                Ok(())
            }
            super::PageKind::Branch => {
                for i in 0..page.count as usize {
                    let (_, child) = page.branch_elem(i)?;
                    descend(db, db.page(child)?, depth + 1, bucket, f)?;
                }
                Ok(())
            }
            _ => Err(super::BoltError::InvalidPageType {
                at: page.at,
                flags: page.flags,
                bucket: bucket.to_string(),
            }),
        }
    }
    let root = db.bucket_root_page(bucket)?;
    descend(db, root, 1, &bucket.path, f)
}

/// Stashes a write error so a read-side callback can abort with it.
fn wrap(slot: &mut Option<CopyError>, e: CopyError) -> super::BoltError {
    let msg = e.to_string();
    *slot = Some(e);
    super::BoltError::corrupt(super::PageAt::Inline, msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bolt::Db;
    use std::io::Cursor;

    type Content = Vec<(Vec<u8>, u64, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn build(content: &Content, opts: WriterOptions) -> (Vec<u8>, WriteSummary) {
        let mut w = BoltWriter::new(Cursor::new(Vec::new()), "mem".into(), opts).unwrap();
        for (name, seq, kvs) in content {
            w.begin_bucket(name, *seq).unwrap();
            for (k, v) in kvs {
                w.put(k, v).unwrap();
            }
            w.end_bucket().unwrap();
        }
        let (c, s) = w.finish().unwrap();
        (c.into_inner(), s)
    }

    fn read_back(bytes: Vec<u8>) -> Content {
        let db = Db::from_bytes(bytes).unwrap();
        let scan = db.scan(|_, _| ());
        assert!(scan.issues.is_empty(), "{:?}", scan.issues);
        assert_eq!(scan.free_pages, 0, "a compact file has no free page");
        let mut out = Vec::new();
        for b in db.buckets().unwrap() {
            let mut kvs = Vec::new();
            db.for_each(&b, |e| {
                kvs.push((e.key.to_vec(), e.value.to_vec()));
                Ok(())
            })
            .unwrap();
            out.push((b.name.to_vec(), b.sequence, kvs));
        }
        out
    }

    fn sample(n: usize, vlen: impl Fn(usize) -> usize) -> Content {
        let kvs = (0..n)
            .map(|i| {
                (
                    format!("key{i:08}").into_bytes(),
                    vec![(i % 251) as u8; vlen(i)],
                )
            })
            .collect();
        vec![
            (b"a".to_vec(), 0, vec![]),
            (b"big".to_vec(), 7, kvs),
            (b"small".to_vec(), 3, vec![(b"x".to_vec(), b"y".to_vec())]),
        ]
    }

    #[test]
    fn roundtrip_small_inline_and_empty() {
        let c = sample(3, |_| 5);
        let (bytes, s) = build(&c, WriterOptions::default());
        assert_eq!(s.inline_buckets, 3);
        assert_eq!(read_back(bytes), c);
    }

    #[test]
    fn roundtrip_many_keys_three_levels() {
        let c = sample(60_000, |i| i % 40);
        let (bytes, s) = build(&c, WriterOptions::default());
        assert!(s.branch_pages > 1, "{s:?}");
        assert_eq!(read_back(bytes), c);
    }

    #[test]
    fn roundtrip_overflow_values_and_page_sizes() {
        for ps in [1024, 4096, 16384] {
            let c = sample(300, |i| if i % 7 == 0 { 20_000 + i } else { 100 });
            let opts = WriterOptions {
                page_size: ps,
                ..Default::default()
            };
            let (bytes, s) = build(&c, opts);
            assert!(s.overflow_pages > 0);
            let db = Db::from_bytes(bytes.clone()).unwrap();
            assert_eq!(db.page_size(), ps);
            assert_eq!(read_back(bytes), c);
        }
    }

    #[test]
    fn page_rooted_when_inline_disabled() {
        let c = sample(3, |_| 5);
        let opts = WriterOptions {
            inline_buckets: false,
            ..Default::default()
        };
        let (bytes, s) = build(&c, opts);
        assert_eq!(s.inline_buckets, 0);
        assert_eq!(read_back(bytes), c);
    }

    #[test]
    fn leaves_are_full() {
        let c = sample(10_000, |_| 30);
        let (bytes, s) = build(&c, WriterOptions::default());
        // 16 + 11 + 30 = 57 bytes per element: 71 per 4 KiB page.
        // Plus one leaf for the root bucket (the small buckets are inline).
        assert_eq!(s.leaf_pages, 10_000u64.div_ceil(71) + 1);
        read_back(bytes);
    }

    #[test]
    fn rejects_bad_order_and_empty_keys() {
        let mut w =
            BoltWriter::new(Cursor::new(Vec::new()), "mem".into(), Default::default()).unwrap();
        w.begin_bucket(b"b", 0).unwrap();
        w.put(b"k2", b"").unwrap();
        assert!(matches!(
            w.put(b"k1", b""),
            Err(WriteError::KeyOrder { .. })
        ));
        assert!(matches!(w.put(b"", b""), Err(WriteError::EmptyKey { .. })));
        w.end_bucket().unwrap();
        assert!(matches!(
            w.begin_bucket(b"a", 0),
            Err(WriteError::KeyOrder { .. })
        ));
        assert!(matches!(
            w.put(b"z", b""),
            Err(WriteError::Unbalanced { .. })
        ));
    }

    #[test]
    fn nested_buckets_roundtrip() {
        let mut w =
            BoltWriter::new(Cursor::new(Vec::new()), "mem".into(), Default::default()).unwrap();
        w.begin_bucket(b"outer", 5).unwrap();
        w.put(b"a", b"1").unwrap();
        w.begin_bucket(b"b-inner", 9).unwrap();
        for i in 0..500u32 {
            w.put(&i.to_be_bytes(), &[1u8; 50]).unwrap();
        }
        w.end_bucket().unwrap();
        w.put(b"c", b"3").unwrap();
        w.end_bucket().unwrap();
        let (c, _) = w.finish().unwrap();
        let db = Db::from_bytes(c.into_inner()).unwrap();
        let scan = db.scan(|_, _| ());
        assert!(scan.issues.is_empty(), "{:?}", scan.issues);
        let outer = db.bucket(b"outer").unwrap();
        let inner = db.child_buckets(&outer).unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].sequence, 9);
        let mut n = 0;
        db.for_each(&inner[0], |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 500);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            /// Any sorted keys with any value sizes (empty to several pages),
            /// any page size: what we write reads back identical and clean.
            #[test]
            fn roundtrip_any(
                kvs in proptest::collection::btree_map(
                    proptest::collection::vec(any::<u8>(), 1..40),
                    (0usize..9000, any::<u8>()),
                    0..400,
                ),
                ps in prop_oneof![Just(1024u32), Just(4096u32), Just(8192u32)],
                inline in any::<bool>(),
            ) {
                let kvs: Vec<(Vec<u8>, Vec<u8>)> = kvs
                    .into_iter()
                    .map(|(k, (n, b))| (k, vec![b; n]))
                    .collect();
                let c: Content = vec![(b"b".to_vec(), 1, kvs), (b"e".to_vec(), 0, vec![])];
                let opts = WriterOptions { page_size: ps, inline_buckets: inline, ..Default::default() };
                let (bytes, _) = build(&c, opts);
                prop_assert_eq!(read_back(bytes), c);
            }
        }
    }
}
