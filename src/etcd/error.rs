//! Errors of the etcd layer; each names the file, bucket or key concerned.

use thiserror::Error;

use crate::bolt::BoltError;

pub type Result<T> = std::result::Result<T, EtcdError>;

#[derive(Debug, Error)]
pub enum EtcdError {
    #[error("{path}: {source}")]
    Bolt {
        path: String,
        #[source]
        source: BoltError,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the bbolt structure is damaged ({count} problems), first: {first}")]
    Damaged {
        path: String,
        count: usize,
        first: BoltError,
    },
    #[error("bucket {bucket}, key {key}: {what}")]
    BadValue {
        bucket: String,
        key: String,
        what: String,
    },
}
