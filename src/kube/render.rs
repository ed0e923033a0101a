//! Streaming JSON output: stored values → JSON text as the apiserver would
//! serve it, without building a `serde_json::Value` (no per-key allocation,
//! no hashing). This is the bulk output path: the schema traversal of
//! [`super::decode`] into a [`JsonEmitter`] (the Go-compatible spelling
//! lives in [`super::json_emit`]).
//!
//! Formatting matches `serde_json::to_string_pretty` (two-space indent,
//! `"key": value`, `{}`/`[]` when empty) or compact output; strings are
//! escaped like Go's encoding/json when [`Style::go_escape`] is set.

use serde_json::Value as J;

use super::decode::{self, Sink};
use super::json_emit::{is_json, JsonEmitter};
use super::value::{detect, Encoding};
use super::KubeError;

pub use super::json_emit::Style;

/// Appends the JSON of one stored value (protobuf, JSON, CBOR, YAML or a
/// decimal) to `out`. On error `out` may hold a partial document; truncate
/// it to its previous length if that matters.
pub fn write_value(value: &[u8], out: &mut Vec<u8>, style: Style) -> Result<(), KubeError> {
    write_value_rv(value, None, out, style)
}

/// Like [`write_value`], and sets `metadata.resourceVersion` to
/// `resource_version` (the etcd `mod_revision`) as the apiserver does when
/// serving: the stored bytes never contain it (docs/kubernetes.md).
pub fn write_value_rv(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), KubeError> {
    write_value_rv_at(value, resource_version, out, style, 0)
}

/// Like [`write_value_rv`], for a value nested `depth` levels deep in a
/// pretty document (an item of a List is at depth 2): it starts on a new
/// line and is indented as part of that document, so a streamed List needs
/// no second pass to re-indent its items.
pub fn write_value_rv_at(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
    style: Style,
    depth: usize,
) -> Result<(), KubeError> {
    let mut emit = JsonEmitter::at_depth(out, style, depth);
    match detect(value) {
        Encoding::Protobuf => decode::protobuf(value, None, resource_version, &mut emit),
        _ if resource_version.is_some() => {
            let v = super::decode_value_rv(b"", value, resource_version)?;
            emit.value(&v);
            Ok(())
        }
        Encoding::Json => {
            if !is_json(value) {
                let e = serde_json::from_slice::<J>(value).err();
                return Err(KubeError::Json(
                    e.map(|e| e.to_string()).unwrap_or_default(),
                ));
            }
            emit.raw_json(value.trim_ascii());
            Ok(())
        }
        _ => {
            let v = super::decode_value(b"", value)?;
            emit.value(&v);
            Ok(())
        }
    }
}

/// Appends the JSON of a `k8s\0` protobuf value; `hint` = (apiVersion, kind)
/// is used when the envelope names no type.
pub fn write_protobuf(
    value: &[u8],
    hint: Option<(&str, &str)>,
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), KubeError> {
    decode::protobuf(value, hint, None, &mut JsonEmitter::new(out, style))
}

#[cfg(test)]
/// Appends the JSON of one message (no envelope) by full proto name.
pub(crate) fn write_message(
    message: &str,
    b: &[u8],
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), KubeError> {
    decode::message(message, b, &mut JsonEmitter::new(out, style))
}

/// Appends a `serde_json::Value` in the given style.
pub fn write_json_value(v: &J, out: &mut Vec<u8>, style: Style) {
    JsonEmitter::new(out, style).value(v);
}

/// Appends a `serde_json::Value` nested `depth` levels deep in a pretty
/// document (see [`write_value_rv_at`]).
pub fn write_json_value_at(v: &J, out: &mut Vec<u8>, style: Style, depth: usize) {
    JsonEmitter::at_depth(out, style, depth).value(v);
}
