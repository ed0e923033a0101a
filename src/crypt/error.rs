//! Errors of the decryption layer. Every variant names what it is about (a
//! file, a tar member, an etcd key) and none ever holds key material.

use thiserror::Error;

use super::providers::ProviderKind;

#[derive(Debug, Error)]
pub enum CryptError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable .tar.gz archive: {what}")]
    Tarball { path: String, what: String },
    #[error("{path}: no static-pod-resources/kube-apiserver-pod-<N>/secrets/encryption-config/encryption-config in the archive ({members} members read): encryption was not configured when this backup was taken, or this is not a static_kuberesources tarball")]
    NoConfigInTarball { path: String, members: usize },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("{path}: backup dir without a static_kuberesources_*.tar.gz: the kube-apiserver keys are in that tarball")]
    NoTarball { path: String },
    #[error("{origin}: malformed encryption configuration: {what}")]
    Config { origin: String, what: String },
    #[error("{etcd_key}: encrypted with {provider} key \"{name}\", which no loaded key source holds for {scope}{hint}")]
    MissingKey {
        etcd_key: String,
        provider: ProviderKind,
        name: String,
        /// Which component/resource the key was looked for in.
        scope: String,
        /// `; <component> has a key of that name (not used: …)` or empty.
        hint: String,
    },
    #[error("{etcd_key}: value starts with k8s:enc: but has no known provider prefix ({prefix})")]
    UnknownPrefix { etcd_key: String, prefix: String },
    #[error("{etcd_key}: {provider} key \"{name}\" ({origin}): payload truncated: {len} bytes, need {need}")]
    Truncated {
        etcd_key: String,
        provider: ProviderKind,
        name: String,
        origin: String,
        len: usize,
        need: String,
    },
    #[error("{etcd_key}: aescbc key \"{name}\" ({origin}): bad PKCS#7 padding: wrong key or damaged value")]
    BadPadding {
        etcd_key: String,
        name: String,
        origin: String,
    },
    #[error("{etcd_key}: {provider} key \"{name}\" ({origin}): authentication tag mismatch: wrong key or damaged value")]
    TagMismatch {
        etcd_key: String,
        provider: ProviderKind,
        name: String,
        origin: String,
    },
    #[error("{etcd_key}: {provider} key \"{name}\" ({origin}): decrypted, but the plaintext is not protobuf, JSON or CBOR: wrong key")]
    NotPlaintext {
        etcd_key: String,
        provider: ProviderKind,
        name: String,
        origin: String,
    },
    #[error("{etcd_key}: encrypted by {provider} provider \"{name}\"{key_id}: the data key is wrapped by an external KMS and cannot be decrypted offline")]
    Kms {
        etcd_key: String,
        provider: ProviderKind,
        name: String,
        /// `, key id "…"` for KMS v2, empty otherwise.
        key_id: String,
    },
    #[error("{etcd_key}: no candidate key decrypts this value: {}", join(.tried))]
    AllFailed {
        etcd_key: String,
        tried: Vec<CryptError>,
    },
    #[error("{etcd_key}: not a Secret the key loader can read: {what}")]
    BadSecret { etcd_key: String, what: String },
}

impl CryptError {
    /// Whether no offline key reads the value: the key is in no loaded
    /// source, or an external KMS wraps the data key (for every candidate,
    /// when several were tried). Anything else is damaged bytes or the
    /// wrong key.
    pub fn is_unreadable_offline(&self) -> bool {
        match self {
            CryptError::MissingKey { .. } | CryptError::Kms { .. } => true,
            CryptError::AllFailed { tried, .. } => {
                !tried.is_empty() && tried.iter().all(CryptError::is_unreadable_offline)
            }
            _ => false,
        }
    }
}

fn join(errs: &[CryptError]) -> String {
    errs.iter()
        .map(|e| {
            // Drop the repeated "<etcd key>: " head of each attempt.
            let s = e.to_string();
            match s.split_once(": ") {
                Some((_, rest)) => rest.to_string(),
                None => s,
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T> = std::result::Result<T, CryptError>;

/// An etcd key for messages: UTF-8 shown as is, other bytes escaped.
pub fn show_key(key: &[u8]) -> String {
    String::from_utf8_lossy(key).escape_debug().to_string()
}
