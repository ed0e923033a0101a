//! A [`Sink`] that builds a `serde_json::Value`, for callers that need a
//! tree: label selection, redaction, diffs, re-encoding. Objects keep
//! insertion order (serde_json's `preserve_order`), so keys follow the
//! traversal's Go struct order.

use serde_json::{Map, Number, Value as J};

use super::decode::Sink;

enum Frame {
    Object(Map<String, J>, String),
    Array(Vec<J>),
}

/// Builds one value from the traversal's events.
#[derive(Default)]
pub(crate) struct TreeSink {
    stack: Vec<Frame>,
    root: Option<J>,
}

impl TreeSink {
    pub(crate) fn new() -> Self {
        TreeSink::default()
    }

    /// The value built (null when nothing was emitted).
    pub(crate) fn finish(self) -> J {
        self.root.unwrap_or(J::Null)
    }

    #[inline]
    fn put(&mut self, v: J) {
        match self.stack.last_mut() {
            Some(Frame::Object(m, k)) => {
                m.insert(std::mem::take(k), v);
            }
            Some(Frame::Array(a)) => a.push(v),
            None => self.root = Some(v),
        }
    }
}

impl Sink for TreeSink {
    fn begin_object(&mut self) {
        self.stack.push(Frame::Object(Map::new(), String::new()));
    }

    fn end_object(&mut self) {
        if let Some(Frame::Object(m, _)) = self.stack.pop() {
            self.put(J::Object(m));
        }
    }

    fn begin_array(&mut self) {
        self.stack.push(Frame::Array(Vec::new()));
    }

    fn end_array(&mut self) {
        if let Some(Frame::Array(a)) = self.stack.pop() {
            self.put(J::Array(a));
        }
    }

    fn key(&mut self, k: &str) {
        if let Some(Frame::Object(_, key)) = self.stack.last_mut() {
            k.clone_into(key);
        }
    }

    fn key_bytes(&mut self, k: &[u8]) {
        if let Some(Frame::Object(_, key)) = self.stack.last_mut() {
            *key = String::from_utf8_lossy(k).into_owned();
        }
    }

    fn null(&mut self) {
        self.put(J::Null);
    }

    fn bool(&mut self, b: bool) {
        self.put(J::Bool(b));
    }

    fn i64(&mut self, v: i64) {
        self.put(J::Number(v.into()));
    }

    fn u64(&mut self, v: u64) {
        self.put(J::Number(v.into()));
    }

    fn f64(&mut self, f: f64) {
        // Go prints integral floats without a fraction (`3`, not `3.0`).
        let v = if f.fract() == 0.0 && f.abs() < 1e15 {
            J::Number(Number::from(f as i64))
        } else {
            Number::from_f64(f).map_or(J::Null, J::Number)
        };
        self.put(v);
    }

    fn str_bytes(&mut self, b: &[u8]) {
        self.put(J::String(String::from_utf8_lossy(b).into_owned()));
    }

    fn str(&mut self, s: &str) {
        self.put(J::String(s.to_string()));
    }

    fn base64(&mut self, b: &[u8]) {
        use base64::Engine as _;
        self.put(J::String(
            base64::engine::general_purpose::STANDARD.encode(b),
        ));
    }

    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.put(J::String(super::timefmt::rfc3339(seconds, micros)));
    }

    fn raw_json(&mut self, b: &[u8]) {
        let v = serde_json::from_slice(b)
            .unwrap_or_else(|_| J::String(String::from_utf8_lossy(b).into_owned()));
        self.put(v);
    }

    fn value(&mut self, v: &J) {
        self.put(v.clone());
    }
}
