//! Errors of the bbolt reader. Each one says which page (or meta) it concerns.

use thiserror::Error;

use super::layout::{PageAt, PageId};

pub type Result<T> = std::result::Result<T, BoltError>;

#[derive(Debug, Error, Clone)]
pub enum BoltError {
    #[error("file is {len} bytes, too small for a bbolt database (needs two meta pages)")]
    TooSmall { len: u64 },
    #[error(
        "magic reads byte-swapped (0xEDDA0CED): a big-endian bbolt file, which this reader does not support"
    )]
    ByteSwapped,
    #[error("no valid meta page: meta 0: {meta0}; meta 1: {meta1}")]
    NoValidMeta { meta0: String, meta1: String },
    #[error("page {id}: out of range (file holds {pages} pages of {page_size} bytes, high-water mark {hwm})")]
    PageOutOfRange {
        id: PageId,
        pages: u64,
        page_size: u32,
        hwm: u64,
    },
    #[error("page {id}: header says page id {found}")]
    PageIdMismatch { id: PageId, found: u64 },
    #[error("{at}: {what}")]
    Corrupt { at: PageAt, what: String },
    #[error("page {id}: referenced more than once (cycle or shared page) in bucket {bucket}")]
    MultipleReference { id: PageId, bucket: String },
    #[error("{at}: unexpected page type {flags:#x} in bucket {bucket} (expected branch or leaf)")]
    InvalidPageType {
        at: PageAt,
        flags: u16,
        bucket: String,
    },
    #[error("bucket {bucket}: tree deeper than {max} levels")]
    TooDeep { bucket: String, max: usize },
    #[error("bucket {bucket}: not found")]
    NoSuchBucket { bucket: String },
    #[error("bucket {bucket}: {what}")]
    BadBucket { bucket: String, what: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
}

impl BoltError {
    pub(crate) fn corrupt(at: impl Into<PageAt>, what: impl Into<String>) -> Self {
        BoltError::Corrupt {
            at: at.into(),
            what: what.into(),
        }
    }
}
