//! One logical page (a page plus its overflow pages) and its elements.
//!
//! Every read is bounds-checked against the page's own byte range; element
//! `pos` offsets are relative to the element's own address, as in bbolt.

use super::error::{BoltError, Result};

pub const PAGE_HEADER_SIZE: usize = 16;
pub const BRANCH_ELEM_SIZE: usize = 16;
pub const LEAF_ELEM_SIZE: usize = 16;
pub const BUCKET_HEADER_SIZE: usize = 16;

pub const FLAG_BRANCH: u16 = 0x01;
pub const FLAG_LEAF: u16 = 0x02;
pub const FLAG_META: u16 = 0x04;
pub const FLAG_FREELIST: u16 = 0x10;
/// Leaf element flag: the value is a nested bucket header.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

#[inline]
pub(crate) fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

#[inline]
pub(crate) fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[inline]
pub(crate) fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Branch,
    Leaf,
    Meta,
    Freelist,
    Other(u16),
}

impl PageKind {
    pub fn from_flags(flags: u16) -> PageKind {
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
    /// The page id this page was reached as (0 for an inline bucket page).
    pub id: u64,
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
    /// Parses the header at the start of `data`. `id` is the id the page was
    /// reached as (for error messages).
    pub fn parse(id: u64, data: &'a [u8]) -> Result<Page<'a>> {
        if data.len() < PAGE_HEADER_SIZE {
            return Err(BoltError::corrupt(id, "shorter than a page header"));
        }
        Ok(Page {
            id,
            flags: le_u16(data, 8).unwrap_or(0),
            count: le_u16(data, 10).unwrap_or(0),
            overflow: le_u32(data, 12).unwrap_or(0),
            data,
        })
    }

    /// The page id stored in the header.
    pub fn header_id(&self) -> u64 {
        le_u64(self.data, 0).unwrap_or(0)
    }

    pub fn kind(&self) -> PageKind {
        PageKind::from_flags(self.flags)
    }

    fn elem_off(&self, i: usize, size: usize) -> Result<usize> {
        let off = PAGE_HEADER_SIZE + i * size;
        if off + size > self.data.len() {
            return Err(BoltError::corrupt(
                self.id,
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
                self.id,
                format!(
                    "element {i}: {what} at pos {pos} len {len} lies beyond the page end ({} bytes)",
                    self.data.len()
                ),
            )),
        }
    }

    /// Branch element `i`: (key, child pgid).
    pub fn branch_elem(&self, i: usize) -> Result<(&'a [u8], u64)> {
        let off = self.elem_off(i, BRANCH_ELEM_SIZE)?;
        let d = self.data;
        let pos = le_u32(d, off).unwrap_or(0);
        let ksize = le_u32(d, off + 4).unwrap_or(0);
        let pgid = le_u64(d, off + 8).unwrap_or(0);
        let key = self.slice_at(off, pos, ksize, "key", i)?;
        Ok((key, pgid))
    }

    /// Leaf element `i`.
    pub fn leaf_elem(&self, i: usize) -> Result<LeafElem<'a>> {
        let off = self.elem_off(i, LEAF_ELEM_SIZE)?;
        let d = self.data;
        let flags = le_u32(d, off).unwrap_or(0);
        let pos = le_u32(d, off + 4).unwrap_or(0);
        let ksize = le_u32(d, off + 8).unwrap_or(0);
        let vsize = le_u32(d, off + 12).unwrap_or(0);
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
    pub fn freelist_ids(&self) -> Result<Vec<u64>> {
        let (count, start) = if self.count == 0xFFFF {
            let n = le_u64(self.data, PAGE_HEADER_SIZE)
                .ok_or_else(|| BoltError::corrupt(self.id, "freelist count missing"))?;
            (n, PAGE_HEADER_SIZE + 8)
        } else {
            (u64::from(self.count), PAGE_HEADER_SIZE)
        };
        let avail = (self.data.len().saturating_sub(start) / 8) as u64;
        if count > avail {
            return Err(BoltError::corrupt(
                self.id,
                format!("freelist holds {count} ids but the page has room for {avail}"),
            ));
        }
        Ok((0..count as usize)
            .filter_map(|i| le_u64(self.data, start + i * 8))
            .collect())
    }
}

/// Parses a 16-byte bucket header: (root pgid, sequence).
pub fn bucket_header(v: &[u8]) -> Option<(u64, u64)> {
    Some((le_u64(v, 0)?, le_u64(v, 8)?))
}
