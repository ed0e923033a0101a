//! The Kubernetes protobuf storage envelope (`k8s\0` + runtime.Unknown,
//! docs/kubernetes.md), and protobuf → `serde_json::Value`: the schema
//! traversal of [`super::decode`] into a [`TreeSink`].
//!
//! Objects keep insertion order, so keys follow the Go struct order given by
//! the schema.

use std::borrow::Cow;

use serde_json::Value as J;

use super::sink_tree::TreeSink;
use super::KubeError;
use crate::wire::{Fields, Value as W};

/// Messages nested deeper than this are refused (hostile input).
pub const MAX_DEPTH: usize = 100;

/// The storage envelope of a protobuf value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub api_version: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    /// The typed object's protobuf (no TypeMeta inside).
    pub raw: &'a [u8],
    pub content_encoding: &'a [u8],
    pub content_type: &'a [u8],
}

/// Parses `k8s\0` + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2,
/// contentEncoding=3, contentType=4}.
pub fn parse_envelope(v: &[u8]) -> Result<Envelope<'_>, KubeError> {
    let body = v.strip_prefix(b"k8s\0").ok_or(KubeError::NoMagic)?;
    let mut env = Envelope {
        api_version: Cow::Borrowed(""),
        kind: Cow::Borrowed(""),
        raw: &[],
        content_encoding: &[],
        content_type: &[],
    };
    fn bytes(n: u32, v: W<'_>) -> Result<&[u8], KubeError> {
        crate::wire::expect_bytes(n, v).map_err(KubeError::Envelope)
    }
    let mut tm: &[u8] = &[];
    for f in Fields::new(body) {
        let (n, val) = f.map_err(KubeError::Envelope)?;
        match n {
            1 => tm = bytes(n, val)?,
            2 => env.raw = bytes(n, val)?,
            3 => env.content_encoding = bytes(n, val)?,
            4 => env.content_type = bytes(n, val)?,
            _ => {}
        }
    }
    for f in Fields::new(tm) {
        let (n, val) = f.map_err(KubeError::Envelope)?;
        match n {
            1 => env.api_version = String::from_utf8_lossy(bytes(n, val)?),
            2 => env.kind = String::from_utf8_lossy(bytes(n, val)?),
            _ => {}
        }
    }
    Ok(env)
}

/// Decodes a `k8s\0` protobuf value into Kubernetes JSON: `kind` and
/// `apiVersion` from the envelope, then the object's fields. A kind the
/// schema does not know is decoded generically (keys are field numbers).
pub fn decode(v: &[u8]) -> Result<J, KubeError> {
    decode_with_hint(v, None)
}

/// Like [`decode`], but when the envelope names no type (as in some test
/// fixtures and watch streams) uses `hint` = (apiVersion, kind) to pick the
/// message. `kind`/`apiVersion` are shown only when the Go type embeds
/// TypeMeta (or the type is unknown) and they are non-empty (`omitempty`).
pub fn decode_with_hint(v: &[u8], hint: Option<(&str, &str)>) -> Result<J, KubeError> {
    decode_rv(v, hint, None)
}

/// Like [`decode_with_hint`], and sets `metadata.resourceVersion` to
/// `resource_version` (the etcd `mod_revision`), placed by the traversal.
pub(crate) fn decode_rv(
    v: &[u8],
    hint: Option<(&str, &str)>,
    resource_version: Option<i64>,
) -> Result<J, KubeError> {
    let mut t = TreeSink::new();
    super::decode::protobuf(v, hint, resource_version, &mut t)?;
    Ok(t.finish())
}

#[cfg(test)]
/// Decodes the protobuf of one message (no envelope) by full proto name.
pub(crate) fn decode_message(message: &str, b: &[u8]) -> Result<J, KubeError> {
    let mut t = TreeSink::new();
    super::decode::message(message, b, &mut t)?;
    Ok(t.finish())
}
