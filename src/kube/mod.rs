//! The Kubernetes values layer: what the bytes stored under an etcd key mean.
//!
//! * [`value::detect`] — the encoding of a stored value (encrypted, protobuf,
//!   CBOR, JSON, YAML, …).
//! * [`decode`] — the one schema traversal: `k8s\0` protobuf → the object,
//!   pushed as events into a [`decode::Sink`]. Its sinks:
//!   [`json_emit::JsonEmitter`] (Go-compatible JSON text, pretty or compact),
//!   [`sink_yaml::YamlEmitter`] (kubectl's key-sorted YAML) and
//!   [`sink_tree::TreeSink`] (a `serde_json::Value`, for filters, redaction,
//!   diffs). Each is monomorphised, so JSON text pays nothing for the others.
//!   A sink that sorts keys (YAML) gets struct fields in that order
//!   ([`schema`]'s `KeyOrder`); `text_scan` is the block work on text
//!   the JSON and YAML writers share (the scan of string values, fixed-block
//!   copies, base64), `numfmt` the floats as
//!   kubectl spells them in each.
//! * [`decode_value`] / [`decode_value_rv`] — any stored value →
//!   `serde_json::Value` (convenient; one allocation per key).
//! * [`render::write_value`] / [`render::write_value_rv`] — any stored value →
//!   JSON text appended to a buffer (the bulk output path, no per-key
//!   allocation); [`sink_yaml::write_value_rv`] the same as YAML. The `_rv`
//!   forms fill `metadata.resourceVersion` from the etcd `mod_revision`.
//! * [`sink_filter`] — a sink that selects (labels) while the traversal
//!   streams, for `get -l` (`--redact`'s sink is `crate::redact`'s, above
//!   this layer); [`decode_into`] runs any stored value into any sink.
//! * [`proto::decode`] — `k8s\0` protobuf → `Value` via the embedded schema
//!   ([`schema`]), which is indexed lazily (~0.6 ms on first use).
//! * [`cbor::decode`] — the CBOR subset of custom resources.
//! * [`key::parse`] — storage keys → resource, namespace, name;
//!   [`key::resolve`] — kubectl-style resource names.
//! * [`encode`] — JSON/YAML objects → the exact protobuf the apiserver writes.
//! * [`apply`] — objects made apply-ready, in dependency order.
//! * [`jsonpath`] — kubectl's JSONPath templates, as `-o jsonpath` prints them.
//!
//! This layer knows nothing of bbolt or etcd files: it gets key and value bytes.

pub mod apply;
pub(crate) mod cbor;
pub mod decode;
pub mod encode;
mod error;
pub(crate) mod json_emit;
pub mod jsonpath;
pub mod key;
pub(crate) mod numfmt;
pub mod print;
pub mod proto;
pub mod render;
pub mod schema;
pub(crate) mod sink_filter;
pub(crate) mod sink_tree;
pub mod sink_yaml;
pub mod tabular;
#[cfg(test)]
mod tests;
pub(crate) mod text_scan;
pub mod timefmt;
pub(crate) mod value;
pub(crate) mod yaml_scalar;

pub use error::KubeError;
pub use value::{detect, Encoding};

use serde_json::Value as J;

/// Decodes one stored value into the JSON the apiserver would serve.
///
/// `key` is the etcd key (kept for future use, e.g. AAD or key-driven type
/// hints; today only the value bytes decide). Encrypted values give
/// [`KubeError::Encrypted`]; the caller decrypts and calls again.
pub fn decode_value(key: &[u8], value: &[u8]) -> Result<J, KubeError> {
    decode_value_rv(key, value, None)
}

/// Like [`decode_value`], and sets `metadata.resourceVersion` to
/// `resource_version` (the etcd `mod_revision`) where the apiserver puts it:
/// protobuf objects get it from the schema traversal, other encodings from
/// [`set_resource_version`].
pub(crate) fn decode_value_rv(
    key: &[u8],
    value: &[u8],
    resource_version: Option<i64>,
) -> Result<J, KubeError> {
    let mut v = match detect(value) {
        Encoding::Protobuf => return proto::decode_rv(value, None, resource_version),
        _ => decode_other(key, value)?,
    };
    if let Some(rv) = resource_version {
        set_resource_version(&mut v, rv);
    }
    Ok(v)
}

/// Pushes any stored value into `sink`: protobuf through the schema
/// traversal, other encodings decoded (with [`set_resource_version`]) and
/// then emitted. On error the sink may hold a partial document.
pub(crate) fn decode_into<S: decode::Sink>(
    value: &[u8],
    resource_version: Option<i64>,
    sink: &mut S,
) -> Result<(), KubeError> {
    match detect(value) {
        Encoding::Protobuf => decode::protobuf(value, None, resource_version, sink),
        _ => {
            let v = decode_value_rv(b"", value, resource_version)?;
            sink.value(&v);
            Ok(())
        }
    }
}

fn decode_other(key: &[u8], value: &[u8]) -> Result<J, KubeError> {
    let _ = key;
    match detect(value) {
        Encoding::Protobuf => proto::decode(value),
        Encoding::Json => serde_json::from_slice(value).map_err(|e| KubeError::Json(e.to_string())),
        Encoding::Cbor => cbor::decode(value),
        Encoding::Decimal(n) => Ok(J::Number(n.into())),
        Encoding::Yaml => {
            serde_saphyr::from_slice(value).map_err(|e| KubeError::Yaml(yaml_error(&e)))
        }
        Encoding::Base64Protobuf => {
            use base64::Engine as _;
            let t = value.trim_ascii();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| KubeError::Unknown)?;
            proto::decode(&raw)
        }
        Encoding::Encrypted(e) => Err(KubeError::Encrypted {
            provider: e.provider.as_str().to_string(),
            key: e.key_name_str(),
        }),
        Encoding::Unknown => Err(KubeError::Unknown),
    }
}

/// A YAML parse error without the parser's message or snippet, which
/// quote the value (possibly secret text): only where it failed.
fn yaml_error(e: &serde_saphyr::Error) -> String {
    match e.location() {
        Some(l) => format!("does not parse at line {}, column {}", l.line(), l.column()),
        None => "does not parse".into(),
    }
}

/// The full proto name of ObjectMeta, whose field order is Go's.
pub(crate) const OBJECT_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Sets `metadata.resourceVersion` (from the etcd `mod_revision`), as the
/// apiserver does when serving; the stored bytes never contain it. The key
/// goes where the apiserver puts it: after `uid` for typed objects, in
/// sorted position when the metadata keys are sorted (custom resources).
pub(crate) fn set_resource_version(obj: &mut J, rv: i64) {
    let Some(meta) = obj.get_mut("metadata").and_then(J::as_object_mut) else {
        return;
    };
    let rv = J::String(rv.to_string());
    if let Some(slot) = meta.get_mut("resourceVersion") {
        *slot = rv;
        return;
    }
    let keys: Vec<&String> = meta.keys().collect();
    let sorted = keys.windows(2).all(|w| w[0] <= w[1]) && keys.len() > 1;
    // Go's field order of ObjectMeta, from the schema (the traversal places
    // resourceVersion of protobuf objects by the same order).
    let fields = schema::schema()
        .message(OBJECT_META)
        .map_or(&[][..], |m| m.fields.as_slice());
    let rank = |k: &str| fields.iter().position(|f| !f.retired && f.json == k);
    let rv_rank = rank("resourceVersion").unwrap_or(5);
    let at = if sorted {
        keys.iter().position(|k| k.as_str() > "resourceVersion")
    } else {
        keys.iter()
            .position(|k| rank(k).is_some_and(|r| r > rv_rank))
    }
    .unwrap_or(keys.len());
    let old = std::mem::take(meta);
    for (i, (k, v)) in old.into_iter().enumerate() {
        if i == at {
            meta.insert("resourceVersion".into(), rv.clone());
        }
        meta.insert(k, v);
    }
    if !meta.contains_key("resourceVersion") {
        meta.insert("resourceVersion".into(), rv);
    }
}
