//! The bbolt reader: pages, meta pages, buckets and a checked tree walk over a
//! memory-mapped (or in-memory) bbolt file.
//!
//! This layer knows nothing of etcd. It never requires or trusts a freelist
//! (etcd writes none), bounds-checks every offset it reads, and turns a cycle
//! or a page referenced twice into an error instead of a hang.
//!
//! Keys and values handed out are slices of the mapped file (zero-copy).
//!
//! Three readers, each for its job: the streaming cursor (`Db::for_each`,
//! `Db::leaves`: strict, first problem is an error), the full checker
//! (`check.rs`: every problem, what `bbolt check` verifies) and the page
//! scanner (`scan.rs`: every page on its own, reachable or not, for
//! salvage).

mod check;
mod db;
mod error;
pub(crate) mod layout;
mod meta;
mod page;
pub(crate) mod scan;
mod walk;
pub mod writer;

pub use check::{BucketScan, Scan};
pub use db::{Bucket, BucketRoot, Db, Storage};
pub use error::{BoltError, Result};
pub use layout::{
    PageAt, PageId, BRANCH_ELEM_SIZE, BUCKET_LEAF_FLAG, LEAF_ELEM_SIZE, PAGE_HEADER_SIZE,
};
pub use meta::{fnv1a64, Meta, MetaProblem, MetaState, MAGIC, PGID_NO_FREELIST, VERSION};
pub use page::{LeafElem, Page, PageKind};
pub use scan::{PageClass, PageInfo, PageScan, Reach};
pub use walk::{show_key, CheckIssue, LeafRef, LostRange, PendingLeaf, TreeWalk, MAX_DEPTH};
pub use writer::{
    copy_db, BoltWriter, BucketEdit, CopyError, WriteError, WriteObserver, WriteSummary,
    WriterOptions,
};
