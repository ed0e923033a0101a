//! What output hides, decided in one place for every command (`get`,
//! `export`, `ls --decode`, `diff`, and `serve`):
//!
//! - Under `--redact`, every Secret's `data`/`stringData` value becomes
//!   `sha256:<hex>` of its bytes, including Secrets embedded in other
//!   fields as JSON text (`kubectl.kubernetes.io/last-applied-configuration`
//!   and the like); values that cannot be decoded are shown only as a
//!   digest.
//! - Key material — the Secrets that hold encryption keys
//!   (`openshift-config-managed/encryption-key-*`, and the
//!   `encryption-config*` Secrets an EncryptionConfiguration is read from)
//!   — is redacted the same way by default, with or without `--redact`;
//!   only `--show-key-material` shows it.
//!
//! The rules are applied to a tree ([`Redaction::apply`]) or, by
//! [`stream::RedactSink`], to the schema traversal's events as they stream
//! to JSON text, YAML text or a tree ([`Redaction::decode_into`]): the
//! same kind, fields, placeholders and embedded documents either way.

mod stream;

use serde_json::Value as J;
use sha2::{Digest, Sha256};

use crate::kube::key::secret_place;

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in Sha256::digest(bytes) {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Whether an etcd key names a Secret that holds encryption keys: an
/// OpenShift key Secret or an API server's `encryption-config*` Secret.
pub(crate) fn is_key_material(etcd_key: &[u8]) -> bool {
    if crate::crypt::sources::is_key_secret(etcd_key) {
        return true;
    }
    match secret_place(etcd_key) {
        Some((ns, name)) => {
            (ns == b"openshift-config-managed" && name.starts_with(b"encryption-key-"))
                || name.starts_with(b"encryption-config")
        }
        None => false,
    }
}

/// Whether an etcd key is a Secret's (by its storage layout).
pub(crate) fn is_secret_key(etcd_key: &[u8]) -> bool {
    secret_place(etcd_key).is_some()
}

/// What to hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redaction {
    /// `--redact`: every Secret's values.
    pub secrets: bool,
    /// Key material (on unless `--show-key-material`).
    pub key_material: bool,
}

impl Default for Redaction {
    /// Key material hidden, other Secrets shown.
    fn default() -> Self {
        Redaction {
            secrets: false,
            key_material: true,
        }
    }
}

impl Redaction {
    pub fn new(redact: bool, show_key_material: bool) -> Redaction {
        Redaction {
            secrets: redact,
            key_material: !show_key_material,
        }
    }

    /// Whether the value under `etcd_key` must not be shown as stored
    /// bytes (`get -o raw`, an undecodable value in `export`).
    pub fn hides_bytes(&self, etcd_key: &[u8]) -> bool {
        (self.secrets && is_secret_key(etcd_key))
            || (self.key_material && is_key_material(etcd_key))
    }

    /// Whether objects may need changing (so a fast path that streams
    /// stored bytes unchanged must not be taken).
    pub fn may_change(&self, etcd_key: &[u8]) -> bool {
        self.secrets || (self.key_material && is_key_material(etcd_key))
    }

    /// Pushes the stored (plaintext) `value` under `etcd_key` into `sink`
    /// redacted, in the one traversal ([`crate::kube::decode_into`]): no
    /// tree is built unless `sink` builds one. On error the sink may hold a
    /// partial document.
    pub(crate) fn decode_into<S: crate::kube::decode::Sink>(
        &self,
        etcd_key: &[u8],
        value: &[u8],
        resource_version: Option<i64>,
        sink: &mut S,
    ) -> Result<(), crate::kube::KubeError> {
        if !self.may_change(etcd_key) {
            return crate::kube::decode_into(value, resource_version, sink);
        }
        use crate::kube::decode::{protobuf_typed, typed};
        let forced = self.forces(etcd_key);
        let mut r = stream::RedactSink::new(sink, forced);
        // A protobuf value's envelope, read once for the choice and the
        // decoding (anything else, or an envelope that does not read, is
        // `decode_into`'s).
        let Ok(t) = typed(value, None) else {
            return crate::kube::decode_into(value, resource_version, &mut r);
        };
        // A typed object of another kind whose schema makes no object in
        // it a Secret (a Pod, a ConfigMap) can hide one only in a string
        // or a JSON value: the sink that looks at those alone.
        if !forced
            && t.kind() != SECRET_KIND
            && t.message.is_some_and(stream::holds_no_secret_object)
        {
            return protobuf_typed(
                &t,
                resource_version,
                &mut stream::EmbedSink::new(r.into_inner()),
            );
        }
        protobuf_typed(&t, resource_version, &mut r)
    }

    /// Whether the object under `etcd_key` is redacted as a Secret
    /// whatever its kind says (key material, without `--redact`).
    fn forces(&self, etcd_key: &[u8]) -> bool {
        !self.secrets && self.key_material && is_key_material(etcd_key)
    }

    /// Applies the redaction to the decoded object stored under `etcd_key`.
    pub fn apply(&self, etcd_key: &[u8], obj: &mut J) {
        if self.secrets {
            redact_all(obj);
        } else if self.forces(etcd_key) {
            redact_forced(obj);
        }
    }
}

/// The kind whose fields are redacted.
pub(crate) const SECRET_KIND: &str = "Secret";

/// A field of a Secret whose values are replaced by their digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretField {
    /// `data`: base64 text; the digest is of the bytes it encodes.
    Data,
    /// `stringData`: plain text; the digest is of its bytes.
    StringData,
}

impl SecretField {
    pub(crate) const ALL: [SecretField; 2] = [SecretField::Data, SecretField::StringData];

    pub(crate) fn name(self) -> &'static str {
        match self {
            SecretField::Data => "data",
            SecretField::StringData => "stringData",
        }
    }

    /// The field an object key names, if it is one.
    pub(crate) fn of(key: &[u8]) -> Option<SecretField> {
        match key {
            b"data" => Some(SecretField::Data),
            b"stringData" => Some(SecretField::StringData),
            _ => None,
        }
    }

    /// The placeholder of a string value: `data` is base64 and hashed as
    /// the bytes it encodes (as its text when it is not base64).
    pub(crate) fn digest_str(self, s: &str) -> String {
        match self {
            SecretField::Data => {
                use base64::Engine as _;
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(b) => digest(&b),
                    Err(_) => digest(s.as_bytes()),
                }
            }
            SecretField::StringData => digest(s.as_bytes()),
        }
    }

    /// The placeholder of bytes shown as base64 (a protobuf `bytes` value):
    /// the same as [`SecretField::digest_str`] of their base64 text.
    pub(crate) fn digest_base64_of(self, b: &[u8]) -> String {
        match self {
            SecretField::Data => digest(b),
            SecretField::StringData => {
                use base64::Engine as _;
                digest(
                    base64::engine::general_purpose::STANDARD
                        .encode(b)
                        .as_bytes(),
                )
            }
        }
    }

    /// The placeholder of any value: strings as above, anything else as
    /// the digest of its compact JSON text.
    pub(crate) fn digest_value(self, v: &J) -> String {
        match v.as_str() {
            Some(s) => self.digest_str(s),
            None => digest(v.to_string().as_bytes()),
        }
    }
}

/// Replaces every value of `data`/`stringData` of `obj` with its digest.
fn redact_fields(obj: &mut J) {
    for field in SecretField::ALL {
        if let Some(m) = obj.get_mut(field.name()).and_then(J::as_object_mut) {
            for v in m.values_mut() {
                *v = J::String(field.digest_value(v));
            }
        }
    }
}

/// Redacts key material: the object as a Secret whatever its kind says
/// (its fields digested once), and anything embedded in it.
pub(crate) fn redact_forced(obj: &mut J) {
    if !obj.as_object().is_some_and(is_secret_object) {
        redact_fields(obj);
    }
    redact_all(obj);
}

/// How deep embedded JSON is followed.
const MAX_EMBED_DEPTH: usize = 4;

/// Redacts every Secret in `v`: the value itself when it is one, any
/// object nested in it, and any string holding a JSON document that holds
/// one (re-serialised compactly after redaction).
pub fn redact_all(v: &mut J) {
    walk(v, 0);
}

/// [`redact_all`], saying whether anything changed.
pub(crate) fn redact_tree(v: &mut J) -> bool {
    walk(v, 0)
}

/// Whether `obj` is a Secret by its `kind`.
fn is_secret_object(m: &serde_json::Map<String, J>) -> bool {
    m.get("kind").and_then(J::as_str) == Some(SECRET_KIND)
}

fn walk(v: &mut J, depth: usize) -> bool {
    let mut changed = false;
    match v {
        J::Object(m) => {
            if is_secret_object(m) {
                let had = SecretField::ALL.iter().any(|f| m.contains_key(f.name()));
                redact_fields(v);
                changed |= had;
                if let J::Object(m) = v {
                    for x in m.values_mut() {
                        changed |= walk(x, depth);
                    }
                }
            } else {
                for x in m.values_mut() {
                    changed |= walk(x, depth);
                }
            }
        }
        J::Array(a) => {
            for x in a {
                changed |= walk(x, depth);
            }
        }
        J::String(s) => {
            if let Some(r) = embedded(s, depth) {
                *s = r;
                changed = true;
            }
        }
        _ => {}
    }
    changed
}

/// A string that holds a JSON document holding a Secret, redacted and
/// re-serialised compactly (`None` when nothing in it changes).
pub(crate) fn redact_string(s: &str) -> Option<String> {
    embedded(s, 0)
}

/// Whether a string may hold a JSON document with a Secret in it (a cheap
/// test that lets a stream pass most strings through untouched): it may
/// start, after white space, with `{` or `[`, and mentions the kind.
pub(crate) fn may_embed(b: &[u8]) -> bool {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    let starts = match b.first() {
        // `trim_start` skips Unicode white space, which may start with a
        // non-ASCII byte.
        Some(b'{' | b'[' | b'\t'..=b'\r' | b' ' | 0x80..) => true,
        _ => false,
    };
    starts
        && FINDER
            .get_or_init(|| memchr::memmem::Finder::new(SECRET_KIND.as_bytes()))
            .find(b)
            .is_some()
}

/// Whether any string in `v` may hold a Secret (only then can the tree
/// rules change it: a Secret's kind is a string too).
pub(crate) fn mentions_secret(v: &J) -> bool {
    match v {
        J::String(s) => s.contains(SECRET_KIND),
        J::Array(a) => a.iter().any(mentions_secret),
        J::Object(m) => m.values().any(mentions_secret),
        _ => false,
    }
}

fn embedded(s: &str, depth: usize) -> Option<String> {
    if depth >= MAX_EMBED_DEPTH || !looks_like_json(s) {
        return None;
    }
    let mut inner = serde_json::from_str::<J>(s).ok()?;
    if !walk(&mut inner, depth + 1) {
        return None;
    }
    let mut out = inner.to_string();
    if out.ends_with('}') {
        // kubectl writes the annotation with a newline.
        out.push('\n');
    }
    Some(out)
}

fn looks_like_json(s: &str) -> bool {
    let t = s.trim_start();
    (t.starts_with('{') || t.starts_with('[')) && t.contains(SECRET_KIND)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_secret_data_only() {
        let r = Redaction::new(true, false);
        let mut s = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}});
        r.apply(b"/registry/secrets/a/b", &mut s);
        // sha256("hunter2")
        assert_eq!(
            s["data"]["password"],
            "sha256:f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7"
        );
        let mut c = json!({"kind": "ConfigMap", "data": {"a": "b"}});
        r.apply(b"/registry/configmaps/a/b", &mut c);
        assert_eq!(c["data"]["a"], "b");
    }

    #[test]
    fn redacts_last_applied_configuration() {
        let inner = r#"{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret","metadata":{"name":"s"}}"#;
        let mut s = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="},
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{inner}\n")}}});
        Redaction::new(true, false).apply(b"/registry/secrets/a/s", &mut s);
        let text = s.to_string();
        assert!(!text.contains("aHVudGVyMg=="), "{text}");
        // A ConfigMap that embeds a Secret (e.g. in a List) is redacted too.
        let mut c = json!({"kind": "ConfigMap", "data": {"x": format!("{{\"kind\":\"List\",\"items\":[{inner}]}}")}});
        Redaction::new(true, false).apply(b"/registry/configmaps/a/c", &mut c);
        assert!(!c.to_string().contains("aHVudGVyMg=="), "{c}");
    }

    #[test]
    fn key_material_hidden_by_default() {
        let k =
            b"/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-apiserver-1";
        assert!(is_key_material(k));
        assert!(is_key_material(
            b"/kubernetes.io/secrets/openshift-kube-apiserver/encryption-config-7"
        ));
        assert!(!is_key_material(b"/kubernetes.io/secrets/default/db"));
        let mut s = json!({"kind": "Secret", "data": {"encryption.apiserver.operator.openshift.io-key": "AAAA"}});
        Redaction::default().apply(k, &mut s);
        // Digested once, as `--redact` digests any Secret.
        assert_eq!(
            s["data"]["encryption.apiserver.operator.openshift.io-key"],
            digest(&[0, 0, 0])
        );
        assert!(Redaction::default().hides_bytes(k));
        assert!(!Redaction::new(false, true).hides_bytes(k));
        assert!(!Redaction::default().hides_bytes(b"/registry/secrets/a/b"));
        assert!(Redaction::new(true, true).hides_bytes(b"/registry/secrets/a/b"));
    }
}
