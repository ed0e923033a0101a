//! Selecting and reading objects: which keys a `get`/`ls`/`export`/`diff`
//! asks for (resource, namespace, name, key, prefix, labels), and each
//! selected value decrypted (when keys are given) and described.
//!
//! Sits between MVCC records and the output: records in, objects out.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value as J;

use crate::crypt::KeyRing;
use crate::kube::key::{self, Resource, StorageKey};
use crate::kube::value::{detect, Encoding};
use crate::mvcc::Record;

mod error;
pub use error::QueryError;

/// What to select. Empty fields select everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Any of these resources (empty: all).
    pub resources: Vec<Resource>,
    /// Only this namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Exactly this etcd key.
    pub key: Option<Vec<u8>>,
    /// Keys starting with this.
    pub prefix: Option<Vec<u8>>,
    /// An etcd prefix other than `/registry`, `/kubernetes.io`,
    /// `/openshift.io` (e.g. `/custom`).
    pub etcd_prefix: Option<String>,
    /// Label selector (applied to decoded objects).
    pub labels: Option<LabelSelector>,
}

impl Filter {
    /// Parses a storage key, with the custom etcd prefix when one is set.
    pub fn parse_key<'k>(&self, k: &'k [u8]) -> Option<StorageKey<'k>> {
        match &self.etcd_prefix {
            Some(p) => key::parse_with_prefix(k, p).or_else(|| key::parse(k)),
            None => key::parse(k),
        }
    }

    /// Whether an etcd key is selected (labels are checked later, on the
    /// decoded object).
    pub fn key_matches(&self, k: &[u8]) -> bool {
        if let Some(want) = &self.key {
            if k != want.as_slice() {
                return false;
            }
        }
        if let Some(p) = &self.prefix {
            if !k.starts_with(p) {
                return false;
            }
        }
        if self.resources.is_empty() && self.namespace.is_none() && self.name.is_none() {
            return true;
        }
        let Some(sk) = self.parse_key(k) else {
            return false;
        };
        if !self.resources.is_empty() && !self.resources.iter().any(|r| r.matches(&sk)) {
            return false;
        }
        if let Some(ns) = &self.namespace {
            if sk.namespace != Some(ns.as_str()) {
                return false;
            }
        }
        if let Some(n) = &self.name {
            if sk.name != n {
                return false;
            }
        }
        true
    }
}

/// A label selector: `a=b,c!=d,e,!f` (equality and existence forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector(Vec<(String, LabelOp)>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelOp {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    Absent,
}

/// Splits on commas outside parentheses (`a in (x,y),b`).
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// `key in (a,b)` / `key notin (a,b)` → (key, in?, values).
fn set_term(part: &str) -> Option<(&str, bool, Vec<String>)> {
    let open = part.find('(')?;
    let close = part.rfind(')')?;
    if close != part.len() - 1 || close < open {
        return None;
    }
    let head = part[..open].trim();
    let (key, is_in) = if let Some(k) = head.strip_suffix(" notin") {
        (k, false)
    } else if let Some(k) = head.strip_suffix(" in") {
        (k, true)
    } else {
        return None;
    };
    let values = part[open + 1..close]
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    Some((key.trim(), is_in, values))
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<LabelSelector, QueryError> {
        let mut out = Vec::new();
        for part in split_terms(s)
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (k, op) = if let Some((k, is_in, values)) = set_term(part) {
                (
                    k,
                    if is_in {
                        LabelOp::In(values)
                    } else {
                        LabelOp::NotIn(values)
                    },
                )
            } else if let Some((k, v)) = part.split_once("!=") {
                (k, LabelOp::Ne(v.trim().to_string()))
            } else if let Some((k, v)) = part.split_once("==") {
                (k, LabelOp::Eq(v.trim().to_string()))
            } else if let Some((k, v)) = part.split_once('=') {
                (k, LabelOp::Eq(v.trim().to_string()))
            } else if let Some(k) = part.strip_prefix('!') {
                (k, LabelOp::Absent)
            } else {
                (part, LabelOp::Exists)
            };
            let k = k.trim();
            if k.is_empty() || k.contains(' ') {
                return Err(QueryError::BadLabelTerm {
                    term: part.to_string(),
                });
            }
            out.push((k.to_string(), op));
        }
        if out.is_empty() {
            return Err(QueryError::EmptyLabelSelector);
        }
        Ok(LabelSelector(out))
    }

    pub fn matches(&self, obj: &J) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(J::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(J::as_str);
        self.0.iter().all(|(k, op)| match op {
            LabelOp::Eq(v) => get(k) == Some(v.as_str()),
            LabelOp::Ne(v) => get(k) != Some(v.as_str()),
            LabelOp::In(vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelOp::NotIn(vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            LabelOp::Exists => get(k).is_some(),
            LabelOp::Absent => get(k).is_none(),
        })
    }
}

/// A field selector: `a=b,c!=d,e==f` over an object's fields, as the
/// apiserver supports them: `metadata.name` and `metadata.namespace` for
/// every kind, and the fields each kind registers (see [`field_supported`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

/// Whether the apiserver accepts `field` in a field selector for `kind`.
pub(crate) fn field_supported(kind: &str, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    let extra: &[&str] = match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Secret" => &["type"],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        "CertificateSigningRequest" => &["spec.signerName"],
        "Service" => &["spec.clusterIP", "spec.type"],
        _ => &[],
    };
    extra.contains(&field)
}

impl FieldSelector {
    /// Parses a selector, checking each field against `kind`.
    pub(crate) fn parse(s: &str, kind: &str) -> Result<FieldSelector, QueryError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (f, eq, v) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(QueryError::BadFieldTerm {
                    term: part.to_string(),
                });
            };
            let f = f.trim();
            if !field_supported(kind, f) {
                return Err(QueryError::FieldNotSupported {
                    field: f.to_string(),
                    kind: kind.to_string(),
                });
            }
            out.push((f.to_string(), eq, v.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    /// Whether every term holds on `obj` (a missing field is `""`).
    pub(crate) fn matches(&self, obj: &J) -> bool {
        self.0.iter().all(|(f, eq, want)| {
            let v = field_value(obj, f);
            (v == *want) == *eq
        })
    }
}

/// A field's value as a selector compares it: strings as they are,
/// numbers and booleans as text, missing as `""`. `source` of an Event is
/// its `source.component`.
fn field_value(obj: &J, field: &str) -> String {
    let path = if field == "source" {
        "/source/component".to_string()
    } else {
        format!("/{}", field.replace('.', "/"))
    };
    match obj.pointer(&path) {
        Some(J::String(s)) => s.clone(),
        Some(J::Bool(b)) => b.to_string(),
        Some(J::Number(n)) => n.to_string(),
        Some(J::Null) | None => match field {
            "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
            "status.replicas" | "status.successful" => "0".into(),
            _ => String::new(),
        },
        Some(other) => other.to_string(),
    }
}

/// How a value is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encryption {
    pub provider: String,
    pub key: String,
}

/// A selected value, decrypted when it could be.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub record: Record<'a>,
    /// The bytes to decode: the stored value, or its plaintext.
    pub plain: Cow<'a, [u8]>,
    /// `protobuf`, `json`, `cbor`, `yaml`, `decimal`, `encrypted`, `unknown`.
    pub encoding: &'static str,
    /// The stored value's encryption, if any.
    pub encryption: Option<Encryption>,
    /// Why an encrypted value could not be decrypted with the keys given
    /// ([`QueryError::NoKey`] or [`QueryError::WrongKey`]).
    pub decrypt_error: Option<QueryError>,
}

pub(crate) fn encoding_name(v: &[u8]) -> &'static str {
    match detect(v) {
        Encoding::Encrypted(_) => "encrypted",
        Encoding::Protobuf => "protobuf",
        Encoding::Cbor => "cbor",
        Encoding::Json => "json",
        Encoding::Decimal(_) => "decimal",
        Encoding::Base64Protobuf => "base64-protobuf",
        Encoding::Yaml => "yaml",
        Encoding::Unknown => "unknown",
    }
}

impl<'a> Item<'a> {
    /// Describes a record and decrypts it with `keys` when given.
    pub fn new(record: Record<'a>, keys: Option<&KeyRing>) -> Item<'a> {
        let v = record.kv.value;
        let encryption = match detect(v) {
            Encoding::Encrypted(e) => Some(Encryption {
                provider: match e.provider {
                    crate::kube::value::Provider::Other => {
                        String::from_utf8_lossy(e.provider_name).into_owned()
                    }
                    p => p.as_str().to_string(),
                },
                key: e.key_name_str(),
            }),
            _ => None,
        };
        let mut item = Item {
            record,
            plain: Cow::Borrowed(v),
            encoding: encoding_name(v),
            encryption,
            decrypt_error: None,
        };
        if let (Some(enc), Some(ring)) = (&item.encryption, keys) {
            match ring.decrypt(record.kv.key, v) {
                Ok(d) => {
                    if let Some(id) = d.key {
                        if let Some(k) = ring.key(id) {
                            item.encryption = Some(Encryption {
                                provider: enc.provider.clone(),
                                key: k.name,
                            });
                        }
                    }
                    item.encoding = encoding_name(&d.plaintext);
                    item.plain = d.plaintext;
                }
                Err(e) => item.decrypt_error = Some(QueryError::decrypt(record.kv.key, e)),
            }
        }
        item
    }

    /// Whether the bytes to decode are still ciphertext.
    pub fn is_encrypted(&self) -> bool {
        self.encoding == "encrypted"
    }

    /// Why the bytes to decode are still ciphertext (`None` when they are
    /// not): the decryption error when keys were given, else
    /// [`QueryError::Encrypted`] naming the provider and key.
    pub fn still_encrypted(&self) -> Option<QueryError> {
        if !self.is_encrypted() {
            return None;
        }
        if let Some(e) = &self.decrypt_error {
            return Some(e.clone());
        }
        let (provider, name) = match &self.encryption {
            Some(enc) => (enc.provider.clone(), enc.key.clone()),
            None => (String::from("unknown"), String::from("unknown")),
        };
        Some(QueryError::Encrypted {
            key: self.key_str().into_owned(),
            provider,
            name,
        })
    }

    fn readable(&self) -> Result<(), QueryError> {
        match self.still_encrypted() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn undecodable(&self, source: crate::kube::KubeError) -> QueryError {
        QueryError::Undecodable {
            key: self.key_str().into_owned(),
            source,
        }
    }

    /// The decoded object, with `metadata.resourceVersion` set from the
    /// record's mod_revision.
    pub fn object(&self) -> Result<J, QueryError> {
        self.readable()?;
        crate::kube::decode_value_rv(
            self.record.kv.key,
            &self.plain,
            Some(self.record.kv.mod_revision),
        )
        .map_err(|e| self.undecodable(e))
    }

    /// Appends the object's JSON to `out` (fast path, no `Value`).
    pub(crate) fn write_json(
        &self,
        out: &mut Vec<u8>,
        style: crate::kube::render::Style,
    ) -> Result<(), QueryError> {
        self.write_json_at(out, style, 0)
    }

    /// Appends the object as JSON nested `depth` levels deep in a pretty
    /// document (an item of a List: depth 2), starting on a new line; on
    /// error `out` is left as it was.
    pub fn write_json_at(
        &self,
        out: &mut Vec<u8>,
        style: crate::kube::render::Style,
        depth: usize,
    ) -> Result<(), QueryError> {
        self.readable()?;
        let at = out.len();
        crate::kube::render::write_value_rv_at(
            &self.plain,
            Some(self.record.kv.mod_revision),
            out,
            style,
            depth,
        )
        .map_err(|e| {
            out.truncate(at);
            self.undecodable(e)
        })
    }

    /// Appends the object as YAML (`yaml`, keys sorted) or pretty JSON,
    /// streamed through the one traversal without a `Value`.
    pub fn write_as(&self, out: &mut Vec<u8>, yaml: bool) -> Result<(), QueryError> {
        if !yaml {
            return self.write_json(out, crate::kube::render::Style::PRETTY);
        }
        self.write_yaml(out, false)
    }

    /// Appends the object as YAML, as a List item (`- ` first) when
    /// `list_item`.
    pub fn write_yaml(&self, out: &mut Vec<u8>, list_item: bool) -> Result<(), QueryError> {
        self.readable()?;
        let at = out.len();
        let rv = Some(self.record.kv.mod_revision);
        let write = if list_item {
            crate::kube::sink_yaml::write_list_item_rv
        } else {
            crate::kube::sink_yaml::write_value_rv
        };
        write(&self.plain, rv, out).map_err(|e| {
            out.truncate(at);
            self.undecodable(e)
        })
    }

    /// Appends the object as [`Item::write_as`] does (pretty JSON at list
    /// depth `depth`, or YAML, as a List item when `list_item`), with `redaction` applied while the one
    /// traversal streams (no `Value` of the object).
    pub fn write_redacted(
        &self,
        out: &mut Vec<u8>,
        yaml: bool,
        list_item: bool,
        depth: usize,
        redaction: &crate::redact::Redaction,
    ) -> Result<(), QueryError> {
        let style = crate::kube::render::Style::PRETTY;
        if !redaction.may_change(self.record.kv.key) {
            return if yaml {
                self.write_yaml(out, list_item)
            } else {
                self.write_json_at(out, style, depth)
            };
        }
        self.readable()?;
        let at = out.len();
        let (key, rv) = (self.record.kv.key, Some(self.record.kv.mod_revision));
        let r = if yaml {
            let mut s = if list_item {
                crate::kube::sink_yaml::YamlEmitter::list_item(out)
            } else {
                crate::kube::sink_yaml::YamlEmitter::new(out)
            };
            redaction.decode_into(key, &self.plain, rv, &mut s)
        } else {
            let mut s = crate::kube::json_emit::JsonEmitter::at_depth(out, style, depth);
            redaction.decode_into(key, &self.plain, rv, &mut s)
        };
        r.map_err(|e| {
            out.truncate(at);
            self.undecodable(e)
        })
    }

    /// The decoded object as [`Item::object`] gives it, with `redaction`
    /// applied as the tree is built.
    pub fn object_redacted(&self, redaction: &crate::redact::Redaction) -> Result<J, QueryError> {
        if !redaction.may_change(self.record.kv.key) {
            return self.object();
        }
        self.readable()?;
        let mut t = crate::kube::sink_tree::TreeSink::new();
        let (key, rv) = (self.record.kv.key, Some(self.record.kv.mod_revision));
        redaction
            .decode_into(key, &self.plain, rv, &mut t)
            .map_err(|e| self.undecodable(e))?;
        Ok(t.finish())
    }

    /// The object's labels, as `{"metadata": {"labels": …}}` for
    /// [`LabelSelector::matches`]: for protobuf values only the labels are
    /// kept as the traversal streams (no `Value` of the object).
    pub fn labels(&self) -> Result<J, QueryError> {
        self.readable()?;
        let mut s = crate::kube::sink_filter::LabelsSink::new();
        match crate::kube::detect(&self.plain) {
            crate::kube::Encoding::Protobuf => {
                crate::kube::decode_into(&self.plain, None, &mut s)
                    .map_err(|e| self.undecodable(e))?;
                Ok(s.finish())
            }
            _ => self.object(),
        }
    }

    pub fn key_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.record.kv.key)
    }
}

/// Sorts every object's keys (kubectl's YAML is key-sorted).
pub fn sort_keys(v: &mut J) {
    match v {
        J::Object(m) => {
            let mut entries: Vec<(String, J)> = std::mem::take(m).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut x) in entries {
                sort_keys(&mut x);
                m.insert(k, x);
            }
        }
        J::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let o = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        for (s, want) in [
            ("app=web", true),
            ("app==web,tier", true),
            ("app!=web", false),
            ("!gone", true),
            ("gone", false),
            ("app=db", false),
            ("app in (web,db)", true),
            ("app in (db),tier", false),
            ("app notin (db, x),tier=front", true),
            ("gone notin (x)", true),
        ] {
            assert_eq!(LabelSelector::parse(s).unwrap().matches(&o), want, "{s}");
        }
        assert!(LabelSelector::parse("").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
    }

    #[test]
    fn field_selectors() {
        let p = json!({"kind": "Pod", "metadata": {"name": "a", "namespace": "n"},
            "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let f = |s: &str| FieldSelector::parse(s, "Pod").unwrap().matches(&p);
        assert!(f("metadata.name=a,status.phase=Running"));
        assert!(f("spec.nodeName!=n2"));
        assert!(!f("spec.nodeName==n2"));
        assert!(f("spec.hostNetwork=false"));
        assert!(FieldSelector::parse("spec.foo=x", "Pod").is_err());
        assert!(FieldSelector::parse("type=Opaque", "Secret").is_ok());
        assert!(FieldSelector::parse("nonsense", "Pod").is_err());
    }

    #[test]
    fn selector_errors_name_the_term() {
        let e = LabelSelector::parse("a b=c").unwrap_err();
        assert!(matches!(&e, QueryError::BadLabelTerm { term } if term == "a b=c"));
        assert_eq!(e.to_string(), r#"bad label selector term "a b=c""#);
        let e = LabelSelector::parse(" , ").unwrap_err();
        assert_eq!(e.to_string(), "empty label selector");
        let e = FieldSelector::parse("nonsense", "Pod").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid selector: "nonsense"; can't understand it"#
        );
        let e = FieldSelector::parse("spec.foo=x", "Pod").unwrap_err();
        assert!(matches!(&e, QueryError::FieldNotSupported { kind, .. } if kind == "Pod"));
        assert_eq!(e.to_string(), "field label not supported: spec.foo");
        assert_eq!(e.key(), None);
        assert!(!e.is_encrypted());
    }

    /// A value's error says why it cannot be read, for callers to match on.
    #[test]
    fn value_errors_say_why() {
        use crate::crypt::{Component, KeyBytes, KeyRing, ProviderKind};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/encrypted");
        let snap = crate::etcd::Snapshot::open(&dir.join("snapshot_2026-11-21_101500.db")).unwrap();
        let store = crate::mvcc::Store::open(&snap).unwrap();
        let key = "/kubernetes.io/secrets/default/db-password";
        let rec = *store.history(key.as_bytes()).last().unwrap();

        // No keys given: encrypted, with provider and key name.
        let e = Item::new(rec, None).object().unwrap_err();
        assert!(
            matches!(&e, QueryError::Encrypted { provider, name, .. } if provider == "aescbc" && name == "3"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "encrypted with aescbc key 3 (give --keys to read it)"
        );
        assert_eq!(e.key(), Some(key));
        assert!(e.is_encrypted());
        let mut out = Vec::new();
        let it = Item::new(rec, None);
        assert!(matches!(
            it.write_as(&mut out, true),
            Err(QueryError::Encrypted { .. })
        ));
        assert!(out.is_empty());
        assert_eq!(
            it.still_encrypted().map(|e| e.to_string()),
            Some(e.to_string())
        );

        // Keys given, none of them for this value: no key.
        let empty = KeyRing::new();
        let e = Item::new(rec, Some(&empty)).object().unwrap_err();
        assert!(matches!(&e, QueryError::NoKey { .. }), "{e:?}");
        assert!(e.to_string().starts_with(key), "{e}");
        assert!(e.is_encrypted());

        // A key of that name with other bytes: the wrong key.
        let mut wrong = KeyRing::new();
        wrong.add_key(
            Component::KubeApiserver,
            ProviderKind::AesCbc,
            "3",
            KeyBytes::new(vec![0x41; 32]),
            &["secrets".to_string()],
            "test",
            false,
        );
        let it = Item::new(rec, Some(&wrong));
        let e = it.object().unwrap_err();
        assert!(matches!(&e, QueryError::WrongKey { .. }), "{e:?}");
        assert!(matches!(
            &it.decrypt_error,
            Some(QueryError::WrongKey { .. })
        ));
        assert!(e.is_encrypted());

        // Plain bytes that decode to nothing: undecodable, not encrypted.
        let mut bad = rec;
        bad.kv.value = b"k8s\0\xff\xff";
        let e = Item::new(bad, None).object().unwrap_err();
        assert!(matches!(&e, QueryError::Undecodable { .. }), "{e:?}");
        assert_eq!(e.key(), Some(key));
        assert!(!e.is_encrypted());
    }

    #[test]
    fn filter_by_resource_namespace_name() {
        let f = Filter {
            resources: vec![key::resolve("po").unwrap()],
            namespace: Some("shop".into()),
            ..Filter::default()
        };
        assert!(f.key_matches(b"/registry/pods/shop/web-1"));
        assert!(f.key_matches(b"/kubernetes.io/pods/shop/web-1"));
        assert!(!f.key_matches(b"/registry/pods/other/web-1"));
        assert!(!f.key_matches(b"/registry/secrets/shop/web-1"));
        let f = Filter {
            prefix: Some(b"/registry/secrets/".to_vec()),
            ..Filter::default()
        };
        assert!(f.key_matches(b"/registry/secrets/a/b"));
        assert!(!f.key_matches(b"compact_rev_key"));
    }
}
