//! Errors of the Kubernetes values layer.

use thiserror::Error;

use crate::wire::WireError;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum KubeError {
    /// The protobuf of `message` is malformed at `path`.
    #[error("{message} at {path}: {source}")]
    Wire {
        message: &'static str,
        path: String,
        #[source]
        source: WireError,
    },
    /// A known field arrived with the wrong wire type.
    #[error("{message} at {path}: field {field} has wire type {found}, schema says {expected}")]
    WireType {
        message: &'static str,
        path: String,
        field: u32,
        expected: u8,
        found: u8,
    },
    /// Messages nested deeper than the decoder allows.
    #[error("{message} at {path}: nesting deeper than {limit}")]
    TooDeep {
        message: &'static str,
        path: String,
        limit: usize,
    },
    /// The value does not start with the `k8s\0` protobuf magic.
    #[error("not a Kubernetes protobuf value (no k8s\\0 magic)")]
    NoMagic,
    /// The runtime.Unknown envelope is malformed.
    #[error("runtime.Unknown envelope: {0}")]
    Envelope(WireError),
    /// The value is encrypted; it must be decrypted first.
    #[error("value is encrypted with {provider} (key {key})")]
    Encrypted { provider: String, key: String },
    /// JSON value that does not parse.
    #[error("JSON value: {0}")]
    Json(String),
    /// YAML value that does not parse.
    #[error("YAML value: {0}")]
    Yaml(String),
    /// CBOR value that does not parse.
    #[error("CBOR at byte {at}: {what}")]
    Cbor { at: usize, what: &'static str },
    /// Value bytes in no known encoding.
    #[error("unknown value encoding")]
    Unknown,
    /// The value decodes to far more than it stores (e.g. a Pod of many
    /// empty containers, each rendered with its defaults): refused.
    #[error("decodes to more than {limit} bytes of JSON from {stored} stored bytes (more than {factor}x): refused as an amplifying value", factor = super::decode::EXPANSION_FACTOR)]
    TooLarge { stored: usize, limit: usize },
    /// The encoder could not map an object onto a message.
    #[error("encode {message} at {path}: {what}")]
    Encode {
        message: &'static str,
        path: String,
        what: String,
    },
}

impl KubeError {
    /// Prefixes the error's path with `seg` (used while unwinding).
    pub(crate) fn within(mut self, seg: &str) -> KubeError {
        match &mut self {
            KubeError::Wire { path, .. }
            | KubeError::WireType { path, .. }
            | KubeError::TooDeep { path, .. }
            | KubeError::Encode { path, .. } => {
                if path.is_empty() {
                    *path = seg.to_string();
                } else if path.starts_with('[') {
                    *path = format!("{seg}{path}");
                } else {
                    *path = format!("{seg}.{path}");
                }
            }
            _ => {}
        }
        self
    }
}
