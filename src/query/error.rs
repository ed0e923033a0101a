//! Errors of the query layer: a selector that does not parse, and a
//! selected value that cannot be read. A value's error says why, so a
//! caller matches on the variant instead of asking the item again:
//! still encrypted because no keys were given ([`QueryError::Encrypted`]),
//! no loaded key reads it ([`QueryError::NoKey`]), a key was tried and did
//! not read it ([`QueryError::WrongKey`]), or the bytes do not decode
//! ([`QueryError::Undecodable`]).
//!
//! Every value variant carries the etcd key it concerns ([`QueryError::key`]);
//! the message is the reason alone, since every list that prints it puts
//! the key before it (`<key>: <reason>`). Decryption errors name the key in
//! their own message already (they come from [`crate::crypt`]).

use std::sync::Arc;

use thiserror::Error;

use crate::crypt::CryptError;
use crate::kube::KubeError;

#[derive(Debug, Clone, Error)]
pub enum QueryError {
    /// A label selector term that is neither `k`, `!k`, `k=v`, `k==v`,
    /// `k!=v`, `k in (…)` nor `k notin (…)`.
    #[error("bad label selector term {term:?}")]
    BadLabelTerm { term: String },
    /// A label selector with no term.
    #[error("empty label selector")]
    EmptyLabelSelector,
    /// A field selector term without `=`, `==` or `!=`.
    #[error("invalid selector: {term:?}; can't understand it")]
    BadFieldTerm { term: String },
    /// A field the apiserver does not index for `kind`.
    #[error("field label not supported: {field}")]
    FieldNotSupported { field: String, kind: String },
    /// The value is encrypted and no keys were given.
    #[error("encrypted with {provider} key {name} (give --keys to read it)")]
    Encrypted {
        key: String,
        provider: String,
        name: String,
    },
    /// Keys were given, but none of them reads the value offline: the key
    /// is in no loaded source, or an external KMS wraps the data key.
    #[error("{source}")]
    NoKey {
        key: String,
        source: Arc<CryptError>,
    },
    /// A key was tried and did not read the value: the wrong key, or
    /// damaged bytes (tag mismatch, bad padding, truncated payload, an
    /// unknown provider prefix).
    #[error("{source}")]
    WrongKey {
        key: String,
        source: Arc<CryptError>,
    },
    /// The (decrypted) bytes do not decode as an object.
    #[error("{source}")]
    Undecodable { key: String, source: KubeError },
}

impl QueryError {
    /// The error of a value that a key ring did not decrypt: `NoKey` or
    /// `WrongKey`, by what the ring says.
    pub(crate) fn decrypt(key: &[u8], e: CryptError) -> QueryError {
        let key = String::from_utf8_lossy(key).into_owned();
        if e.is_unreadable_offline() {
            QueryError::NoKey {
                key,
                source: Arc::new(e),
            }
        } else {
            QueryError::WrongKey {
                key,
                source: Arc::new(e),
            }
        }
    }

    /// The etcd key of a value error (`None` for a selector error).
    pub fn key(&self) -> Option<&str> {
        match self {
            QueryError::Encrypted { key, .. }
            | QueryError::NoKey { key, .. }
            | QueryError::WrongKey { key, .. }
            | QueryError::Undecodable { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Whether the value could not be read because it is still ciphertext
    /// (no keys, no key for it, or the wrong one).
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self,
            QueryError::Encrypted { .. } | QueryError::NoKey { .. } | QueryError::WrongKey { .. }
        )
    }
}
