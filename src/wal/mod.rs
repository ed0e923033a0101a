//! The etcd write-ahead log of a data dir (`member/wal/`): its record
//! format ([`record`], shared with restore's writer), reading segments with
//! the CRC chain checked ([`read`]), the raft log it holds ([`log`]), the
//! requests of its entries ([`request`], every kind, with prost;
//! [`kv_request`], the ones replay applies, zero-copy) and replaying them
//! over a db as a restarting etcd does ([`replay`]); what a damaged WAL
//! still gives ([`salvage`]).

pub mod check;
pub mod kv_request;
pub mod list;
pub mod log;
pub mod materialize;
pub mod open;
pub(crate) mod read;
pub mod record;
pub mod replay;
pub mod request;
pub mod salvage;

pub use log::{Entry, HardState, Log, LogError, SnapMark};
pub use read::{Damage, Record, Segment, Torn, WalError, WalFiles, WalRecords};
