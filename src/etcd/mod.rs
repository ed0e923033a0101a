//! The etcd backend schema over a bbolt file: bucket names, revision keys,
//! `mvccpb.KeyValue`, the meta bucket, members, the snapshot's SHA-256
//! trailer and the `snapshot status` hash.
//!
//! Knows nothing of Kubernetes.

mod error;
pub(crate) mod kv;
pub(crate) mod lease;
pub(crate) mod members;
pub(crate) mod meta;
pub(crate) mod schema;
pub mod snapshot;
pub mod status;

pub use error::{EtcdError, Result, ValueError};
pub use kv::KeyValue;
pub use lease::LeaseError;
pub use members::Member;
pub use members::MemberError;
pub use meta::MetaValueError;
pub use schema::{Revision, RevisionError, BUCKETS};
pub use snapshot::{Snapshot, Trailer, TRAILER_LEN};
pub use status::{BucketStats, Status, StatusDetail};
