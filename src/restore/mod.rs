//! Restore: turning a snapshot into an etcd data dir a single etcd member
//! boots from, as `etcdutl snapshot restore` (3.5) and `etcdctl snapshot
//! restore` (3.4) do (docs/wal-and-snap.md).

pub(crate) mod datadir;
pub mod defrag;
pub(crate) mod gojson;
pub(crate) mod ids;
pub(crate) mod place;
pub mod salvaged;
pub mod snapfile;
pub mod wal;

pub use datadir::{restore, EtcdVersion, RestoreConfig, RestoreError, RestoreReport};
