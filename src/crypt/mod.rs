//! Decrypting values that the API server encrypted at rest
//! (docs/encryption.md, docs/openshift.md).
//!
//! - [`providers`]: value prefixes and ciphers (aescbc, aesgcm, secretbox;
//!   KMS recognised, not decryptable offline).
//! - [`config`]: the EncryptionConfiguration file (YAML or JSON).
//! - [`sources`]: where keys come from: a `static_kuberesources_*.tar.gz`, a
//!   config file, a backup dir, and (second stage) OpenShift's key and
//!   config Secrets inside the snapshot.
//! - [`keyring`]: all keys in one place; [`KeyRing::decrypt`].
//!
//! Key bytes are never printed: every type holding them has a redacted
//! `Debug`, and errors name keys, never show them.

pub(crate) mod config;
mod error;
pub(crate) mod keyring;
pub(crate) mod providers;
pub(crate) mod secret;
pub mod sources;

pub use config::EncryptionConfig;
pub use error::{show_key, CryptError, Result};
pub use keyring::{Component, Decrypted, KeyId, KeyRing, KeySummary, Outcome};
pub use providers::{KeyBytes, ProviderKind};
pub use sources::{read_config_file, read_tarball, SnapshotKeys, TarballKeys};
