//! One logical page (a page plus its overflow pages) and its elements.
//!
//! Every read is bounds-checked against the page's own byte range; element
//! `pos` offsets are relative to the element's own address, as in bbolt.
//! The byte layout is in `layout.rs`, shared with the writer.

use super::error::{BoltError, Result};
use super::layout::{
    le_u64, BranchElem, LeafElemHeader, PageAt, PageHeader, PageId, BRANCH_ELEM_SIZE,
    BUCKET_LEAF_FLAG, FLAG_BRANCH, FLAG_FREELIST, FLAG_LEAF, FLAG_META, FREELIST_COUNT_ESCAPE,
    LEAF_ELEM_SIZE, PAGE_HEADER_SIZE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Branch,
    Leaf,
    Meta,
    Freelist,
    Other(u16),
}

impl PageKind {
    pub(crate) fn from_flags(flags: u16) -> PageKind {
        match flags {
            FLAG_BRANCH => PageKind::Branch,
            FLAG_LEAF => PageKind::Leaf,
            FLAG_META => PageKind::Meta,
            FLAG_FREELIST => PageKind::Freelist,
            f => PageKind::Other(f),
        }
    }
}

/// A logical page: header fields plus the whole byte range
/// (`(overflow + 1) × pageSize`, or an inline bucket's slice).
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// Where the page was read: the file page id it was reached as, or an
    /// inline bucket's page.
    pub at: PageAt,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
    pub data: &'a [u8],
}

/// One leaf element.
#[derive(Debug, Clone, Copy)]
pub struct LeafElem<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
    /// Key and value as one contiguous run of the page (the value follows the
    /// key directly).
    pub kv: &'a [u8],
}

impl<'a> LeafElem<'a> {
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF_FLAG != 0
    }
}

impl<'a> Page<'a> {
    /// Parses the header at the start of `data`. `at` is where the page was
    /// reached (for error messages).
    pub(crate) fn parse(at: PageAt, data: &'a [u8]) -> Result<Page<'a>> {
        let h = PageHeader::decode(data)
            .ok_or_else(|| BoltError::corrupt(at, "shorter than a page header"))?;
        Ok(Page {
            at,
            flags: h.flags,
            count: h.count,
            overflow: h.overflow,
            data,
        })
    }

    /// The page id stored in the header (raw: an inline page stores 0).
    pub(crate) fn header_id(&self) -> u64 {
        le_u64(self.data, 0).unwrap_or(0)
    }

    /// The file page id, `None` for an inline bucket's page.
    pub fn id(&self) -> Option<PageId> {
        self.at.id()
    }

    /// Pages this logical page spans in the file (1 + overflow).
    pub(crate) fn span(&self) -> u64 {
        u64::from(self.overflow) + 1
    }

    pub(crate) fn kind(&self) -> PageKind {
        PageKind::from_flags(self.flags)
    }

    fn elem_off(&self, i: usize, size: usize) -> Result<usize> {
        let off = PAGE_HEADER_SIZE + i * size;
        if off + size > self.data.len() {
            return Err(BoltError::corrupt(
                self.at,
                format!(
                    "element {i} of {} lies beyond the page end ({} bytes)",
                    self.count,
                    self.data.len()
                ),
            ));
        }
        Ok(off)
    }

    fn slice_at(
        &self,
        elem_off: usize,
        pos: u32,
        len: u32,
        what: &str,
        i: usize,
    ) -> Result<&'a [u8]> {
        let start = elem_off.checked_add(pos as usize);
        let end = start.and_then(|s| s.checked_add(len as usize));
        match (start, end) {
            (Some(s), Some(e)) if e <= self.data.len() => Ok(&self.data[s..e]),
            _ => Err(BoltError::corrupt(
                self.at,
                format!(
                    "element {i}: {what} at pos {pos} len {len} lies beyond the page end ({} bytes)",
                    self.data.len()
                ),
            )),
        }
    }

    /// Branch element `i`: (key, child page).
    pub fn branch_elem(&self, i: usize) -> Result<(&'a [u8], PageId)> {
        let off = self.elem_off(i, BRANCH_ELEM_SIZE)?;
        let e = BranchElem::decode(&self.data[off..]).unwrap_or(BranchElem {
            pos: 0,
            ksize: 0,
            child: PageId(0),
        });
        let key = self.slice_at(off, e.pos, e.ksize, "key", i)?;
        Ok((key, e.child))
    }

    /// Leaf element `i`.
    pub fn leaf_elem(&self, i: usize) -> Result<LeafElem<'a>> {
        let off = self.elem_off(i, LEAF_ELEM_SIZE)?;
        let LeafElemHeader {
            flags,
            pos,
            ksize,
            vsize,
        } = LeafElemHeader::decode(&self.data[off..]).unwrap_or(LeafElemHeader {
            flags: 0,
            pos: 0,
            ksize: 0,
            vsize: 0,
        });
        let kv = self.slice_at(off, pos, ksize.saturating_add(vsize), "key/value", i)?;
        let (key, value) = kv.split_at(ksize as usize);
        Ok(LeafElem {
            flags,
            key,
            value,
            kv,
        })
    }

    /// Freelist page ids (handles the 0xFFFF count escape).
    pub(crate) fn freelist_ids(&self) -> Result<Vec<PageId>> {
        let (count, start) = if self.count == FREELIST_COUNT_ESCAPE {
            let n = le_u64(self.data, PAGE_HEADER_SIZE)
                .ok_or_else(|| BoltError::corrupt(self.at, "freelist count missing"))?;
            (n, PAGE_HEADER_SIZE + 8)
        } else {
            (u64::from(self.count), PAGE_HEADER_SIZE)
        };
        let avail = (self.data.len().saturating_sub(start) / 8) as u64;
        if count > avail {
            return Err(BoltError::corrupt(
                self.at,
                format!("freelist holds {count} ids but the page has room for {avail}"),
            ));
        }
        Ok((0..count as usize)
            .filter_map(|i| le_u64(self.data, start + i * 8).map(PageId))
            .collect())
    }
}
