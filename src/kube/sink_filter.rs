//! Sinks that select while the traversal runs, so `get -l` needs no
//! `serde_json::Value` of each object:
//!
//! * [`LabelsSink`] keeps only `metadata.labels` (everything else is
//!   ignored as it streams past), for a label selector to test.
//! * [`emit`] pushes a `serde_json::Value` into any sink as events.

use serde_json::{Map, Value as J};

use super::decode::Sink;

/// Pushes a `serde_json::Value` into a sink as events.
pub(crate) fn emit<S: Sink + ?Sized>(s: &mut S, v: &J) {
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
pub(crate) struct LabelsSink {
    depth: usize,
    /// The current top-level key is `metadata`.
    in_meta: bool,
    /// The current key of `metadata` is `labels`.
    in_labels: bool,
    key: String,
    labels: Map<String, J>,
}

impl LabelsSink {
    pub(crate) fn new() -> Self {
        LabelsSink::default()
    }

    /// `{"metadata": {"labels": {…}}}`, the part of the object a label
    /// selector reads.
    pub(crate) fn finish(self) -> J {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn streamed_labels_equal_the_value_path() {
        let secret = json!({"kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s", "namespace": "ns", "labels": {"app": "web", "tier": "db"},
                "annotations": {"labels": "not-these"}},
            "data": {"a": "aGVsbG8="}, "type": "Opaque"});
        let cm = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "namespace": "ns"}, "data": {"labels": "x"}});
        for obj in [secret, cm] {
            let b = crate::kube::encode::encode_object(&obj).unwrap();
            let want = crate::kube::decode_value(b"", &b).unwrap();
            let mut l = LabelsSink::new();
            crate::kube::decode_into(&b, None, &mut l).unwrap();
            let labels = l.finish();
            assert_eq!(
                labels.pointer("/metadata/labels"),
                want.pointer("/metadata/labels")
            );
        }
    }
}
