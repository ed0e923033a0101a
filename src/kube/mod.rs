//! The Kubernetes values layer: what the bytes stored under an etcd key mean.
//!
//! * [`value::detect`] — the encoding of a stored value (encrypted, protobuf,
//!   CBOR, JSON, YAML, …).
//! * [`decode_value`] — any stored value → `serde_json::Value` (convenient,
//!   ~60 MB/s on protobuf Pods: one allocation and hash per key).
//! * [`render::write_value`] — any stored value → JSON text appended to a
//!   buffer, pretty or compact, Go-style escaping; the bulk output path
//!   (~150-240 MB/s per core on dense Pods/Leases, ~650 MB/s on a mix with
//!   ConfigMaps and Secrets; no per-key allocation).
//!   [`render::write_value_rv`] also fills `metadata.resourceVersion` from the
//!   etcd `mod_revision`, as [`set_resource_version`] does for a `Value`.
//! * [`proto::decode`] — `k8s\0` protobuf → Kubernetes JSON via the embedded
//!   schema ([`schema`]), which is indexed lazily (~0.6 ms on first use).
//! * [`cbor::decode`] — the CBOR subset of custom resources.
//! * [`key::parse`] — storage keys → resource, namespace, name;
//!   [`key::resolve`] — kubectl-style resource names.
//! * [`encode`] — JSON/YAML objects → the exact protobuf the apiserver writes.
//! * [`apply`] — objects made apply-ready, in dependency order.
//! * [`jsonpath`] — kubectl's JSONPath templates, as `-o jsonpath` prints them.
//!
//! This layer knows nothing of bbolt or etcd files: it gets key and value bytes.

pub mod apply;
pub mod cbor;
pub mod encode;
mod error;
pub mod jsonpath;
pub mod key;
pub mod print;
pub mod proto;
pub mod render;
pub mod schema;
#[cfg(test)]
mod tests;
pub mod timefmt;
pub mod value;

pub use error::KubeError;
pub use value::{detect, Encoding};

use serde_json::Value as J;

/// Decodes one stored value into the JSON the apiserver would serve.
///
/// `key` is the etcd key (kept for future use, e.g. AAD or key-driven type
/// hints; today only the value bytes decide). Encrypted values give
/// [`KubeError::Encrypted`]; the caller decrypts and calls again.
pub fn decode_value(key: &[u8], value: &[u8]) -> Result<J, KubeError> {
    let _ = key;
    match detect(value) {
        Encoding::Protobuf => {
            render::check_expansion(value)?;
            proto::decode(value)
        }
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
            render::check_expansion(&raw)?;
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

/// ObjectMeta keys in Go order, to place `resourceVersion` after `uid`.
const OBJECT_META_ORDER: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Sets `metadata.resourceVersion` (from the etcd `mod_revision`), as the
/// apiserver does when serving; the stored bytes never contain it. The key
/// goes where the apiserver puts it: after `uid` for typed objects, in
/// sorted position when the metadata keys are sorted (custom resources).
pub fn set_resource_version(obj: &mut J, rv: i64) {
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
    let rank = |k: &str| OBJECT_META_ORDER.iter().position(|x| *x == k);
    let at = if sorted {
        keys.iter().position(|k| k.as_str() > "resourceVersion")
    } else {
        keys.iter().position(|k| rank(k).is_some_and(|r| r > 5))
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
