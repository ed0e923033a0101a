//! Meta pages (pages 0 and 1): parsing, FNV-1a checksum, and choosing the one
//! bbolt would use.

use super::layout::{le_u32, le_u64, PageHeader, PageId, FLAG_META, PAGE_HEADER_SIZE};

pub const MAGIC: u32 = 0xED0C_DAED;
pub(crate) const MAGIC_SWAPPED: u32 = 0xEDDA_0CED;
pub const VERSION: u32 = 2;
/// The freelist field of a file without a freelist (what etcd writes).
pub const PGID_NO_FREELIST: PageId = PageId(u64::MAX);
/// Bytes of the meta struct covered by the checksum (magic through txid).
pub(crate) const META_CHECKSUMMED: usize = 56;
pub(crate) const META_SIZE: usize = 64;

/// Why a meta page is not valid (the meta page is named by the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaProblem {
    #[error("magic reads byte-swapped (0xEDDA0CED): big-endian file")]
    ByteSwapped,
    #[error("invalid magic {0:#010x}")]
    BadMagic(u32),
    #[error("unsupported version {0}")]
    BadVersion(u32),
    #[error("checksum mismatch: stored {stored:#018x}, computed {computed:#018x}")]
    Checksum { stored: u64, computed: u64 },
    #[error("truncated")]
    Truncated,
}

/// The decoded meta struct of one meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Meta {
    pub magic: u32,
    pub version: u32,
    pub page_size: u32,
    pub flags: u32,
    /// The root bucket's root page.
    pub root: PageId,
    pub sequence: u64,
    pub freelist: PageId,
    /// The high-water mark: pages in use by the file (ids below it).
    pub pgid: u64,
    pub txid: u64,
    pub checksum: u64,
}

/// What was found of one meta page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetaState {
    /// 0 or 1.
    pub index: u8,
    pub meta: Option<Meta>,
    /// `None` when valid, else why not.
    pub problem: Option<String>,
}

impl MetaState {
    pub(crate) fn is_valid(&self) -> bool {
        self.problem.is_none() && self.meta.is_some()
    }
}

pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Meta {
    /// Parses the meta struct found at `PAGE_HEADER_SIZE` of `page`. Returns
    /// `None` if the slice is too short.
    pub(crate) fn parse(page: &[u8]) -> Option<Meta> {
        let m = page.get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_SIZE)?;
        Some(Meta {
            magic: le_u32(m, 0)?,
            version: le_u32(m, 4)?,
            page_size: le_u32(m, 8)?,
            flags: le_u32(m, 12)?,
            root: PageId(le_u64(m, 16)?),
            sequence: le_u64(m, 24)?,
            freelist: PageId(le_u64(m, 32)?),
            pgid: le_u64(m, 40)?,
            txid: le_u64(m, 48)?,
            checksum: le_u64(m, 56)?,
        })
    }

    /// The checksum bbolt would compute for this meta page's bytes.
    pub(crate) fn compute_checksum(page: &[u8]) -> Option<u64> {
        page.get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_CHECKSUMMED)
            .map(fnv1a64)
    }

    /// Validates as bbolt does: magic, then version, then checksum.
    pub(crate) fn validate(&self, page: &[u8]) -> Result<(), MetaProblem> {
        if self.magic == MAGIC_SWAPPED {
            return Err(MetaProblem::ByteSwapped);
        }
        if self.magic != MAGIC {
            return Err(MetaProblem::BadMagic(self.magic));
        }
        if self.version != VERSION {
            return Err(MetaProblem::BadVersion(self.version));
        }
        match Meta::compute_checksum(page) {
            Some(c) if c == self.checksum => Ok(()),
            Some(c) => Err(MetaProblem::Checksum {
                stored: self.checksum,
                computed: c,
            }),
            None => Err(MetaProblem::Truncated),
        }
    }

    /// Serializes this meta into a 64-byte buffer (checksum recomputed).
    pub fn to_bytes(&self) -> [u8; META_SIZE] {
        let mut b = [0u8; META_SIZE];
        b[0..4].copy_from_slice(&self.magic.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.page_size.to_le_bytes());
        b[12..16].copy_from_slice(&self.flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.root.0.to_le_bytes());
        b[24..32].copy_from_slice(&self.sequence.to_le_bytes());
        b[32..40].copy_from_slice(&self.freelist.0.to_le_bytes());
        b[40..48].copy_from_slice(&self.pgid.to_le_bytes());
        b[48..56].copy_from_slice(&self.txid.to_le_bytes());
        let sum = fnv1a64(&b[..META_CHECKSUMMED]);
        b[56..64].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// The meta page `id` (0 or 1) holding this meta: page header then the
    /// meta struct (checksum recomputed); the rest of the page is zeros.
    pub(crate) fn page_bytes(&self, id: u64) -> [u8; PAGE_HEADER_SIZE + META_SIZE] {
        let mut page = [0u8; PAGE_HEADER_SIZE + META_SIZE];
        PageHeader {
            id,
            flags: FLAG_META,
            count: 0,
            overflow: 0,
        }
        .encode(&mut page);
        page[PAGE_HEADER_SIZE..].copy_from_slice(&self.to_bytes());
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn roundtrip_and_validate() {
        let m = Meta {
            magic: MAGIC,
            version: VERSION,
            page_size: 4096,
            flags: 0,
            root: PageId(3),
            sequence: 0,
            freelist: PGID_NO_FREELIST,
            pgid: 5,
            txid: 9,
            checksum: 0,
        };
        let mut page = vec![0u8; 4096];
        page[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_SIZE].copy_from_slice(&m.to_bytes());
        let back = Meta::parse(&page).unwrap();
        assert_eq!(back.root, PageId(3));
        assert!(back.validate(&page).is_ok());
        page[PAGE_HEADER_SIZE + 20] ^= 1;
        let broken = Meta::parse(&page).unwrap();
        assert!(matches!(
            broken.validate(&page),
            Err(MetaProblem::Checksum { .. })
        ));
    }
}
