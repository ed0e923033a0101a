//! Sinks that select or edit while the traversal runs, so `get -l` and
//! `get --redact` need no `serde_json::Value`:
//!
//! * [`LabelsSink`] keeps only `metadata.labels` (everything else is
//!   ignored as it streams past), for a label selector to test.
//! * [`RedactSink`] passes every event to another sink, except that a
//!   Secret's `data`/`stringData` values become `sha256:<hex>` of their
//!   bytes ([`digest`], the one definition of that redaction).

use serde_json::{Map, Value as J};

use super::decode::Sink;

/// `sha256:<hex>` of `bytes`: what a redacted Secret value shows.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in Sha256::digest(bytes) {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}

/// Pushes a `serde_json::Value` into a sink as events.
pub fn emit<S: Sink + ?Sized>(s: &mut S, v: &J) {
    match v {
        J::Null => s.null(),
        J::Bool(b) => s.bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                s.i64(i)
            } else if let Some(u) = n.as_u64() {
                s.u64(u)
            } else {
                s.f64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(x) => s.str(x),
        J::Array(a) => {
            s.begin_array();
            for x in a {
                emit(s, x);
            }
            s.end_array();
        }
        J::Object(o) => {
            s.begin_object();
            for (k, x) in o {
                s.key_bytes(k.as_bytes());
                emit(s, x);
            }
            s.end_object();
        }
    }
}

/// Collects `metadata.labels` (string values) of the object streamed in.
#[derive(Default)]
pub struct LabelsSink {
    depth: usize,
    /// The current top-level key is `metadata`.
    in_meta: bool,
    /// The current key of `metadata` is `labels`.
    in_labels: bool,
    key: String,
    labels: Map<String, J>,
}

impl LabelsSink {
    pub fn new() -> Self {
        LabelsSink::default()
    }

    /// `{"metadata": {"labels": {…}}}`, the part of the object a label
    /// selector reads.
    pub fn finish(self) -> J {
        let mut meta = Map::new();
        if !self.labels.is_empty() {
            meta.insert("labels".into(), J::Object(self.labels));
        }
        let mut o = Map::new();
        o.insert("metadata".into(), J::Object(meta));
        J::Object(o)
    }

    fn label_key(&mut self, k: &[u8]) {
        match self.depth {
            1 => self.in_meta = k == b"metadata",
            2 => self.in_labels = self.in_meta && k == b"labels",
            3 if self.in_labels => self.key = String::from_utf8_lossy(k).into_owned(),
            _ => {}
        }
    }

    fn label_value(&mut self, v: &[u8]) {
        if self.depth == 3 && self.in_labels {
            let k = std::mem::take(&mut self.key);
            self.labels
                .insert(k, J::String(String::from_utf8_lossy(v).into_owned()));
        }
    }
}

impl Sink for LabelsSink {
    fn begin_object(&mut self) {
        self.depth += 1;
    }
    fn end_object(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
    fn begin_array(&mut self) {
        self.depth += 1;
    }
    fn end_array(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
    fn key(&mut self, k: &str) {
        self.label_key(k.as_bytes());
    }
    fn key_bytes(&mut self, k: &[u8]) {
        self.label_key(k);
    }
    fn null(&mut self) {}
    fn bool(&mut self, _: bool) {}
    fn i64(&mut self, _: i64) {}
    fn u64(&mut self, _: u64) {}
    fn f64(&mut self, _: f64) {}
    fn str_bytes(&mut self, b: &[u8]) {
        self.label_value(b);
    }
    fn str(&mut self, s: &str) {
        self.label_value(s.as_bytes());
    }
    fn base64(&mut self, _: &[u8]) {}
    fn time(&mut self, _: i64, _: Option<u32>) {}
    fn raw_json(&mut self, _: &[u8]) {}
    fn value(&mut self, v: &J) {
        if self.depth < 3 {
            emit(self, v);
        }
    }
}

/// Which top-level field of a Secret a value is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Other,
    Kind,
    Data,
    StringData,
}

/// Forwards events to `inner`, replacing a Secret's `data` and
/// `stringData` values by [`digest`]s (of the decoded bytes for `data`).
/// `kind` comes before the fields in every object the traversal emits.
pub struct RedactSink<'s, S: Sink> {
    inner: &'s mut S,
    depth: usize,
    field: Field,
    secret: bool,
}

impl<'s, S: Sink> RedactSink<'s, S> {
    pub fn new(inner: &'s mut S) -> Self {
        RedactSink {
            inner,
            depth: 0,
            field: Field::Other,
            secret: false,
        }
    }

    fn top_key(&mut self, k: &[u8]) {
        if self.depth == 1 {
            self.field = match k {
                b"kind" => Field::Kind,
                b"data" => Field::Data,
                b"stringData" => Field::StringData,
                _ => Field::Other,
            };
        }
    }

    /// Whether a value here is one to redact.
    fn redacting(&self) -> bool {
        self.secret && self.depth == 2 && matches!(self.field, Field::Data | Field::StringData)
    }

    /// A string value: noted if it is the kind, redacted if it must be.
    fn text(&mut self, b: &[u8]) -> bool {
        if self.depth == 1 && self.field == Field::Kind {
            self.secret = b == b"Secret";
        }
        if !self.redacting() {
            return false;
        }
        let d = if self.field == Field::Data {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(b) {
                Ok(raw) => digest(&raw),
                Err(_) => digest(b),
            }
        } else {
            digest(b)
        };
        self.inner.str(&d);
        true
    }
}

impl<S: Sink> Sink for RedactSink<'_, S> {
    fn begin_object(&mut self) {
        self.depth += 1;
        self.inner.begin_object();
    }
    fn end_object(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.inner.end_object();
    }
    fn begin_array(&mut self) {
        self.depth += 1;
        self.inner.begin_array();
    }
    fn end_array(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.inner.end_array();
    }
    fn key(&mut self, k: &str) {
        self.top_key(k.as_bytes());
        self.inner.key(k);
    }
    fn key_bytes(&mut self, k: &[u8]) {
        self.top_key(k);
        self.inner.key_bytes(k);
    }
    fn null(&mut self) {
        if self.redacting() {
            self.inner.str(&digest(b"null"));
        } else {
            self.inner.null();
        }
    }
    fn bool(&mut self, b: bool) {
        if self.redacting() {
            self.inner.str(&digest(if b { b"true" } else { b"false" }));
        } else {
            self.inner.bool(b);
        }
    }
    fn i64(&mut self, v: i64) {
        if self.redacting() {
            self.inner.str(&digest(v.to_string().as_bytes()));
        } else {
            self.inner.i64(v);
        }
    }
    fn u64(&mut self, v: u64) {
        if self.redacting() {
            self.inner.str(&digest(v.to_string().as_bytes()));
        } else {
            self.inner.u64(v);
        }
    }
    fn f64(&mut self, v: f64) {
        if self.redacting() {
            self.inner.str(&digest(J::from(v).to_string().as_bytes()));
        } else {
            self.inner.f64(v);
        }
    }
    fn str_bytes(&mut self, b: &[u8]) {
        if !self.text(b) {
            self.inner.str_bytes(b);
        }
    }
    fn str(&mut self, s: &str) {
        if !self.text(s.as_bytes()) {
            self.inner.str(s);
        }
    }
    fn base64(&mut self, b: &[u8]) {
        if self.redacting() {
            // `data` holds the bytes themselves here, not their base64.
            self.inner.str(&digest(b));
        } else {
            self.inner.base64(b);
        }
    }
    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.inner.time(seconds, micros);
    }
    fn raw_json(&mut self, b: &[u8]) {
        if self.depth >= 2 && !self.redacting() {
            self.inner.raw_json(b);
            return;
        }
        match serde_json::from_slice::<J>(b) {
            Ok(v) => emit(self, &v),
            Err(_) => self.str_bytes(b),
        }
    }
    fn value(&mut self, v: &J) {
        emit(self, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::json_emit::{JsonEmitter, Style};
    use serde_json::json;

    #[test]
    fn streamed_redaction_and_labels_equal_the_value_path() {
        let secret = json!({"kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s", "namespace": "ns", "labels": {"app": "web", "tier": "db"}},
            "data": {"a": "aGVsbG8=", "b": ""}, "type": "Opaque"});
        let cm = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "namespace": "ns"}, "data": {"a": "plain"}});
        for obj in [secret, cm] {
            let b = crate::kube::encode::encode_object(&obj).unwrap();
            let mut want = crate::kube::decode_value_rv(b"", &b, Some(7)).unwrap();
            crate::query::redact(&mut want);
            let mut out = Vec::new();
            let mut j = JsonEmitter::new(&mut out, Style::COMPACT);
            crate::kube::decode_into(&b, Some(7), &mut RedactSink::new(&mut j)).unwrap();
            let got: J = serde_json::from_slice(&out).unwrap();
            assert_eq!(got, want);
            assert_eq!(
                serde_json::to_vec(&got).unwrap(),
                serde_json::to_vec(&want).unwrap()
            );

            let mut l = LabelsSink::new();
            crate::kube::decode_into(&b, None, &mut l).unwrap();
            let labels = l.finish();
            assert_eq!(
                labels.pointer("/metadata/labels"),
                want.pointer("/metadata/labels")
            );
        }
        assert_eq!(
            digest(b"hello"),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }
}
