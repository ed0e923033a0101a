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
    /// An entry of one of etcd's own buckets (meta, members, lease) that
    /// does not decode.
    #[error("bucket {bucket}, key {key}: {source}")]
    BadValue {
        bucket: String,
        key: String,
        #[source]
        source: ValueError,
    },
}

/// Why an entry of one of etcd's own buckets does not decode; each
/// format's own error, from the module that reads it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error(transparent)]
    Meta(#[from] super::meta::MetaValueError),
    #[error(transparent)]
    Member(#[from] super::members::MemberError),
    #[error(transparent)]
    Lease(#[from] super::lease::LeaseError),
}

impl EtcdError {
    /// A bad entry of `bucket` under `key` (shown as UTF-8, lossily).
    pub(crate) fn bad_value(bucket: &[u8], key: &[u8], source: impl Into<ValueError>) -> EtcdError {
        EtcdError::BadValue {
            bucket: String::from_utf8_lossy(bucket).into_owned(),
            key: String::from_utf8_lossy(key).into_owned(),
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `verify` lists these as problems: the message names bucket and key.
    #[test]
    fn bad_values_name_bucket_and_key() {
        let e = EtcdError::bad_value(
            b"meta",
            b"consistent_index",
            super::super::meta::MetaValueError::NotU64(3),
        );
        assert_eq!(
            e.to_string(),
            "bucket meta, key consistent_index: 3 bytes, expected an 8-byte big-endian integer"
        );
        let e = EtcdError::bad_value(
            b"members",
            b"zz",
            super::super::members::MemberError::KeyNotHex,
        );
        assert!(matches!(
            e,
            EtcdError::BadValue {
                source: ValueError::Member(_),
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "bucket members, key zz: key is not a hexadecimal member id"
        );
    }
}
