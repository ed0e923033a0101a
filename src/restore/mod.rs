//! Restore: turning a snapshot into an etcd data dir a single etcd member
//! boots from, as `etcdutl snapshot restore` (3.5) and `etcdctl snapshot
//! restore` (3.4) do (docs/wal-and-snap.md).

pub mod datadir;
pub mod defrag;
pub mod gojson;
pub mod ids;
pub mod place;
pub mod salvaged;
pub mod snapfile;
pub mod wal;

pub use datadir::{restore, EtcdVersion, RestoreConfig, RestoreError, RestoreReport};
