//! The bbolt on-disk layout, defined once (docs/bbolt.md): page header,
//! branch and leaf elements, page flags, the bucket header, and typed page
//! ids. The reader (`page.rs`, `db.rs`, `scan.rs`) decodes with these and
//! the writer (`writer.rs`) encodes with the same ones; the meta struct is
//! in `meta.rs`.
//!
//! All integers are little-endian. Decoders return `None` when the slice
//! is too short; they never panic on input.

use std::fmt;

/// `page` header: id u64, flags u16, count u16, overflow u32.
pub const PAGE_HEADER_SIZE: usize = 16;
/// `branchPageElement`: pos u32, ksize u32, pgid u64.
pub const BRANCH_ELEM_SIZE: usize = 16;
/// `leafPageElement`: flags u32, pos u32, ksize u32, vsize u32.
pub const LEAF_ELEM_SIZE: usize = 16;
/// `bucket` header: root pgid u64, sequence u64.
pub(crate) const BUCKET_HEADER_SIZE: usize = 16;

pub(crate) const FLAG_BRANCH: u16 = 0x01;
pub(crate) const FLAG_LEAF: u16 = 0x02;
pub(crate) const FLAG_META: u16 = 0x04;
pub(crate) const FLAG_FREELIST: u16 = 0x10;
/// Leaf element flag: the value is a nested bucket header.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;
/// A freelist page whose `count` is this holds its real count in the first
/// u64 after the header.
pub(crate) const FREELIST_COUNT_ESCAPE: u16 = 0xFFFF;

/// A page id of the file: page `n` starts at byte `n × pageSize`. Pages 0
/// and 1 are the meta pages. (An inline bucket's page has no id: see
/// [`PageAt`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(transparent)]
pub struct PageId(pub u64);

impl PageId {
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The byte offset of this page for `page_size`, if it fits a usize.
    pub(crate) fn offset(self, page_size: u32) -> Option<usize> {
        (self.0 as usize).checked_mul(page_size as usize)
    }
}

impl From<u64> for PageId {
    fn from(v: u64) -> PageId {
        PageId(v)
    }
}

impl PartialEq<u64> for PageId {
    fn eq(&self, o: &u64) -> bool {
        self.0 == *o
    }
}

impl fmt::Display for PageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a page was read: a page of the file, or an inline bucket's page
/// stored inside its parent's leaf value (which has no page id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAt {
    File(PageId),
    Inline,
}

impl PageAt {
    /// The file page id, `None` for an inline page.
    pub(crate) fn id(self) -> Option<PageId> {
        match self {
            PageAt::File(id) => Some(id),
            PageAt::Inline => None,
        }
    }
}

impl From<PageId> for PageAt {
    fn from(id: PageId) -> PageAt {
        PageAt::File(id)
    }
}

impl fmt::Display for PageAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageAt::File(id) => write!(f, "page {id}"),
            PageAt::Inline => f.write_str("inline bucket page"),
        }
    }
}

#[inline]
pub(crate) fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
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

/// The 16-byte page header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageHeader {
    /// The id the page says it has (raw: 0 for an inline page).
    pub id: u64,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
}

impl PageHeader {
    pub(crate) fn decode(b: &[u8]) -> Option<PageHeader> {
        Some(PageHeader {
            id: le_u64(b, 0)?,
            flags: le_u16(b, 8)?,
            count: le_u16(b, 10)?,
            overflow: le_u32(b, 12)?,
        })
    }

    /// Writes the header into the first 16 bytes of `b`.
    pub(crate) fn encode(&self, b: &mut [u8]) {
        b[0..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..10].copy_from_slice(&self.flags.to_le_bytes());
        b[10..12].copy_from_slice(&self.count.to_le_bytes());
        b[12..16].copy_from_slice(&self.overflow.to_le_bytes());
    }
}

/// A branch element: the key lies `pos` bytes after the element itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BranchElem {
    pub pos: u32,
    pub ksize: u32,
    pub child: PageId,
}

impl BranchElem {
    pub(crate) fn decode(b: &[u8]) -> Option<BranchElem> {
        Some(BranchElem {
            pos: le_u32(b, 0)?,
            ksize: le_u32(b, 4)?,
            child: PageId(le_u64(b, 8)?),
        })
    }

    pub(crate) fn encode(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.pos.to_le_bytes());
        b[4..8].copy_from_slice(&self.ksize.to_le_bytes());
        b[8..16].copy_from_slice(&self.child.0.to_le_bytes());
    }
}

/// A leaf element: key then value lie `pos` bytes after the element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeafElemHeader {
    pub flags: u32,
    pub pos: u32,
    pub ksize: u32,
    pub vsize: u32,
}

impl LeafElemHeader {
    pub(crate) fn decode(b: &[u8]) -> Option<LeafElemHeader> {
        Some(LeafElemHeader {
            flags: le_u32(b, 0)?,
            pos: le_u32(b, 4)?,
            ksize: le_u32(b, 8)?,
            vsize: le_u32(b, 12)?,
        })
    }

    pub(crate) fn encode(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.flags.to_le_bytes());
        b[4..8].copy_from_slice(&self.pos.to_le_bytes());
        b[8..12].copy_from_slice(&self.ksize.to_le_bytes());
        b[12..16].copy_from_slice(&self.vsize.to_le_bytes());
    }
}

/// Where a bucket's tree starts: the 16-byte bucket header's root field,
/// where 0 (never a tree page: page 0 is a meta page) means "inline".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BucketTree {
    /// The tree's root page.
    Root(PageId),
    /// A leaf page stored right after the header in the same value.
    Inline,
}

/// The bucket header at the start of a bucket's leaf value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BucketHeader {
    pub tree: BucketTree,
    pub sequence: u64,
}

impl BucketHeader {
    pub(crate) fn decode(b: &[u8]) -> Option<BucketHeader> {
        let root = le_u64(b, 0)?;
        Some(BucketHeader {
            tree: if root == 0 {
                BucketTree::Inline
            } else {
                BucketTree::Root(PageId(root))
            },
            sequence: le_u64(b, 8)?,
        })
    }

    pub(crate) fn encode(&self) -> [u8; BUCKET_HEADER_SIZE] {
        let root = match self.tree {
            BucketTree::Root(id) => id.0,
            BucketTree::Inline => 0,
        };
        let mut b = [0u8; BUCKET_HEADER_SIZE];
        b[0..8].copy_from_slice(&root.to_le_bytes());
        b[8..16].copy_from_slice(&self.sequence.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_roundtrip() {
        let h = PageHeader {
            id: 7,
            flags: FLAG_LEAF,
            count: 3,
            overflow: 2,
        };
        let mut b = [0u8; PAGE_HEADER_SIZE];
        h.encode(&mut b);
        assert_eq!(b[..8], 7u64.to_le_bytes());
        assert_eq!(PageHeader::decode(&b), Some(h));
        let e = BranchElem {
            pos: 32,
            ksize: 4,
            child: PageId(9),
        };
        let mut b = [0u8; BRANCH_ELEM_SIZE];
        e.encode(&mut b);
        assert_eq!(BranchElem::decode(&b), Some(e));
        let l = LeafElemHeader {
            flags: BUCKET_LEAF_FLAG,
            pos: 16,
            ksize: 1,
            vsize: 2,
        };
        let mut b = [0u8; LEAF_ELEM_SIZE];
        l.encode(&mut b);
        assert_eq!(LeafElemHeader::decode(&b), Some(l));
        for tree in [BucketTree::Inline, BucketTree::Root(PageId(5))] {
            let h = BucketHeader { tree, sequence: 4 };
            assert_eq!(BucketHeader::decode(&h.encode()), Some(h));
        }
        assert_eq!(BucketHeader::decode(&[0u8; 15]), None);
        assert_eq!(PageAt::Inline.to_string(), "inline bucket page");
        assert_eq!(PageAt::File(PageId(3)).to_string(), "page 3");
    }
}
