//! etcdsnap — offline forensics and restore toolkit for etcd snapshots.
//!
//! Data flows one way through the layers:
//! file → [`input`] → [`bolt`] pages and buckets → [`etcd`] backend schema
//! (revision keys, `KeyValue`, trailer, status hash) → reports ([`verify`]).
//! The command-line front end lives in `src/cli/` and only parses flags and
//! prints.

pub mod bolt;
pub mod crc;
pub mod crypt;
pub mod etcd;
pub mod forensics;
pub mod input;
pub mod kube;
pub mod mvcc;
pub mod proto;
pub mod query;
pub mod restore;
pub mod serve;
pub mod session;
pub mod verify;
pub mod wire;
