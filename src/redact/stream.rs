//! Redaction while the schema traversal streams: [`RedactSink`] applies
//! the rules of [`super`] (which kind, which fields, which placeholder,
//! which embedded documents) to the events on their way to another sink —
//! JSON text, YAML text or a tree — so `--redact` builds no
//! `serde_json::Value` of the objects it passes through.
//!
//! It keeps one small frame per open container: whether an object is a
//! Secret (its `kind`, or the key-material rule for the top-level object)
//! and what its current key names. A Secret's `data`/`stringData` values
//! are replaced as they arrive; strings that may hold a JSON document
//! mentioning a Secret go through [`super::redact_string`]. The few
//! values that arrive whole (`Value`s of JSON or CBOR objects, inlined
//! JSON text) are redacted as trees by [`super::redact_tree`]. An object
//! whose `data` comes before its `kind` (never the case for a typed
//! protobuf object, whose kind comes first) has the rest of its members
//! built as a tree until its kind is known.

use serde_json::Value as J;

#[cfg(test)]
use super::{digest, redact_all};
use super::{mentions_secret, redact_forced, redact_string, redact_tree, SecretField, SECRET_KIND};
use crate::kube::decode::{Mark, Sink};
use crate::kube::schema::{Field, GoKind, Message, Special, Type};
use crate::kube::sink_tree::TreeSink;

/// What the key just given to an object names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Other,
    Kind,
    /// `data`/`stringData` of an object known to be a Secret.
    Field(SecretField),
}

#[derive(Clone, Copy)]
enum Frame {
    Object {
        secret: bool,
        kind_seen: bool,
        slot: Slot,
    },
    Array,
    /// A Secret's `data`/`stringData` map: every value is replaced.
    Redacted(SecretField),
}

/// Where the next value goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Root,
    Other,
    Kind,
    /// The value of a Secret's `data`/`stringData`.
    Field(SecretField),
    /// A value inside a Secret's `data`/`stringData`.
    Redacted(SecretField),
}

/// Why a subtree is being built as a tree.
enum Purpose {
    /// One (container) value of a redacted field.
    FieldValue(SecretField),
    /// The members of an object from its `data`/`stringData` key on,
    /// while its kind is not known.
    RestOfObject,
}

struct Capture {
    tree: TreeSink,
    depth: usize,
    purpose: Purpose,
}

/// A sink that redacts what streams through it into `inner`.
pub(crate) struct RedactSink<'s, S: Sink> {
    inner: &'s mut S,
    frames: Vec<Frame>,
    /// The top-level object is redacted as a Secret whatever its kind
    /// (key material).
    force_root: bool,
    capture: Option<Capture>,
}

/// A scalar event as the tree would hold it.
fn as_value(feed: impl FnOnce(&mut TreeSink)) -> J {
    let mut t = TreeSink::new();
    feed(&mut t);
    t.finish()
}

impl<'s, S: Sink> RedactSink<'s, S> {
    /// `force_root`: the top-level object is redacted as a Secret whatever
    /// its kind says (see [`super::Redaction`]).
    pub(crate) fn new(inner: &'s mut S, force_root: bool) -> Self {
        RedactSink {
            inner,
            frames: Vec::new(),
            force_root,
            capture: None,
        }
    }

    /// The sink it redacts into.
    pub(crate) fn into_inner(self) -> &'s mut S {
        self.inner
    }

    /// Whether a value that is not a string goes to `inner` as it is (no
    /// capture running, not inside a redacted field).
    #[inline]
    fn passes(&self) -> bool {
        self.capture.is_none() && !matches!(self.frames.last(), Some(Frame::Redacted(_)))
    }

    /// Whether a string goes to `inner` as it is: it passes, is no kind,
    /// and holds no JSON document with a Secret.
    #[inline]
    fn passes_str(&self, b: &[u8]) -> bool {
        self.passes()
            && !matches!(
                self.frames.last(),
                Some(Frame::Object {
                    slot: Slot::Kind,
                    ..
                })
            )
            && !super::may_embed(b)
    }

    fn at(&self) -> At {
        match self.frames.last() {
            None => At::Root,
            Some(Frame::Array) => At::Other,
            Some(Frame::Redacted(f)) => At::Redacted(*f),
            Some(Frame::Object { slot, .. }) => match slot {
                Slot::Other => At::Other,
                Slot::Kind => At::Kind,
                Slot::Field(f) => At::Field(*f),
            },
        }
    }

    /// Feeds an event to the capture, if one is running; ends it when its
    /// subtree closes (`delta`: how the event changes the depth).
    fn capturing(&mut self, delta: isize, ev: impl FnOnce(&mut TreeSink)) -> bool {
        let Some(c) = &mut self.capture else {
            return false;
        };
        ev(&mut c.tree);
        c.depth = c.depth.saturating_add_signed(delta);
        if c.depth == 0 {
            self.end_capture();
        }
        true
    }

    fn start_capture(&mut self, purpose: Purpose, ev: impl FnOnce(&mut TreeSink)) {
        let mut tree = TreeSink::new();
        ev(&mut tree);
        self.capture = Some(Capture {
            tree,
            depth: 1,
            purpose,
        });
    }

    fn end_capture(&mut self) {
        let Some(c) = self.capture.take() else { return };
        let mut v = c.tree.finish();
        match c.purpose {
            Purpose::FieldValue(f) => self.inner.str(&f.digest_value(&v)),
            Purpose::RestOfObject => {
                // The whole rest of the object is known: the tree rules
                // decide (its kind is among these members, if anywhere).
                redact_tree(&mut v);
                if let J::Object(m) = &v {
                    for (k, x) in m {
                        self.inner.key_bytes(k.as_bytes());
                        self.inner.value(x);
                    }
                }
                self.frames.pop();
                self.inner.end_object();
            }
        }
    }

    fn mark_kind(&mut self, is_secret: bool) {
        if let Some(Frame::Object { secret, .. }) = self.frames.last_mut() {
            *secret |= is_secret;
        }
    }

    fn object_key(&mut self, k: &[u8], forward: impl FnOnce(&mut S)) {
        if let Some(Frame::Object {
            secret,
            kind_seen,
            slot,
        }) = self.frames.last_mut()
        {
            *slot = if k == b"kind" {
                *kind_seen = true;
                Slot::Kind
            } else if let Some(f) = SecretField::of(k) {
                if *secret {
                    Slot::Field(f)
                } else if !*kind_seen {
                    // Its kind may still come: hold the rest as a tree.
                    self.start_capture(Purpose::RestOfObject, |t| {
                        t.begin_object();
                        t.key_bytes(k);
                    });
                    return;
                } else {
                    Slot::Other
                }
            } else {
                Slot::Other
            };
        }
        forward(self.inner);
    }

    /// A scalar that is not a string: replaced inside a redacted field.
    fn plain(&mut self, ev: impl Fn(&mut TreeSink), forward: impl FnOnce(&mut S)) {
        if self.capturing(0, &ev) {
            return;
        }
        match self.at() {
            At::Redacted(f) => {
                let v = as_value(ev);
                self.inner.str(&f.digest_value(&v));
            }
            _ => forward(self.inner),
        }
    }

    /// A string (valid UTF-8 or not, as the tree would hold it).
    fn string(&mut self, b: &[u8], forward: impl FnOnce(&mut S)) {
        match self.at() {
            At::Redacted(f) => {
                let s = String::from_utf8_lossy(b);
                self.inner.str(&f.digest_str(&s));
                return;
            }
            At::Kind => self.mark_kind(b == SECRET_KIND.as_bytes()),
            _ => {}
        }
        embedded_str(self.inner, b, forward);
    }

    /// A value that arrives whole.
    fn whole(&mut self, v: &J) {
        match self.at() {
            At::Redacted(f) => {
                self.inner.str(&f.digest_value(v));
                return;
            }
            At::Root if self.force_root => {
                let mut c = v.clone();
                redact_forced(&mut c);
                self.inner.value(&c);
                return;
            }
            At::Field(f) if v.is_object() => {
                let mut c = v.clone();
                if let J::Object(m) = &mut c {
                    for x in m.values_mut() {
                        *x = J::String(f.digest_value(x));
                    }
                }
                self.inner.value(&c);
                return;
            }
            At::Kind => self.mark_kind(v.as_str() == Some(SECRET_KIND)),
            _ => {}
        }
        embedded_value(self.inner, v);
    }
}

/// JSON text outside any Secret's fields: redacted by the tree rules if
/// it may hold a Secret, else passed on as it is. JSON text may spell the
/// kind with escapes: only text with neither the kind nor an escape in it
/// passes untouched.
fn embedded_json<S: Sink>(inner: &mut S, b: &[u8]) {
    if memchr::memmem::find(b, SECRET_KIND.as_bytes()).is_none()
        && memchr::memchr(b'\\', b).is_none()
    {
        inner.raw_json(b);
        return;
    }
    let mut v = as_value(|t| t.raw_json(b));
    if redact_tree(&mut v) {
        inner.value(&v);
    } else {
        inner.raw_json(b);
    }
}

/// A whole value outside any Secret's fields: redacted by the tree rules
/// if a string in it mentions the kind.
fn embedded_value<S: Sink>(inner: &mut S, v: &J) {
    if mentions_secret(v) {
        let mut c = v.clone();
        if redact_tree(&mut c) {
            inner.value(&c);
            return;
        }
    }
    inner.value(v);
}

/// A string outside any Secret's fields: one holding a JSON document with
/// a Secret in it goes on redacted.
#[inline]
fn embedded_str<S: Sink>(inner: &mut S, b: &[u8], forward: impl FnOnce(&mut S)) {
    if super::may_embed(b) {
        if let Some(r) = redact_string(&String::from_utf8_lossy(b)) {
            inner.str(&r);
            return;
        }
    }
    forward(inner);
}

impl<S: Sink> Sink for RedactSink<'_, S> {
    // Keys pass through unchanged and in order (a captured rest of an
    // object is replayed in the order it arrived), so a sorted output
    // stays sorted.
    const SORTED_KEYS: bool = S::SORTED_KEYS;
    // Whether an object is a Secret is known from its `kind`.
    const KIND_FIRST: bool = true;

    /// Only while no subtree is being captured (its events went to the
    /// tree, not to `inner`).
    fn mark(&self) -> Option<Mark> {
        if self.capture.is_some() {
            return None;
        }
        let m = self.inner.mark()?;
        Some(Mark {
            frames: self.frames.len(),
            ..m
        })
    }

    /// A capture begun since the mark is dropped with the rest.
    fn rewind(&mut self, mark: Mark) {
        self.capture = None;
        self.frames.truncate(mark.frames);
        self.inner.rewind(mark);
    }

    fn members_sorted(&mut self) {
        if self.capture.is_none() && matches!(self.frames.last(), Some(Frame::Object { .. })) {
            self.inner.members_sorted();
        }
    }

    fn begin_object(&mut self) {
        if self.capturing(1, |t| t.begin_object()) {
            return;
        }
        let frame = match self.at() {
            At::Redacted(f) => {
                self.start_capture(Purpose::FieldValue(f), |t| t.begin_object());
                return;
            }
            At::Field(f) => Frame::Redacted(f),
            at => Frame::Object {
                secret: at == At::Root && self.force_root,
                kind_seen: false,
                slot: Slot::Other,
            },
        };
        self.frames.push(frame);
        self.inner.begin_object();
    }

    fn end_object(&mut self) {
        if self.capturing(-1, |t| t.end_object()) {
            return;
        }
        self.frames.pop();
        self.inner.end_object();
    }

    fn begin_array(&mut self) {
        if self.capturing(1, |t| t.begin_array()) {
            return;
        }
        if let At::Redacted(f) = self.at() {
            self.start_capture(Purpose::FieldValue(f), |t| t.begin_array());
            return;
        }
        self.frames.push(Frame::Array);
        self.inner.begin_array();
    }

    fn end_array(&mut self) {
        if self.capturing(-1, |t| t.end_array()) {
            return;
        }
        self.frames.pop();
        self.inner.end_array();
    }

    fn key(&mut self, k: &str) {
        if self.capturing(0, |t| t.key(k)) {
            return;
        }
        self.object_key(k.as_bytes(), |s| s.key(k));
    }

    fn key_bytes(&mut self, k: &[u8]) {
        if self.capturing(0, |t| t.key_bytes(k)) {
            return;
        }
        self.object_key(k, |s| s.key_bytes(k));
    }

    fn field_key(&mut self, f: &'static Field) {
        if self.capturing(0, |t| t.key(f.json)) {
            return;
        }
        self.object_key(f.json.as_bytes(), |s| s.field_key(f));
    }

    fn null(&mut self) {
        if self.passes() {
            return self.inner.null();
        }
        self.plain(|t| t.null(), |s| s.null());
    }

    fn bool(&mut self, b: bool) {
        if self.passes() {
            return self.inner.bool(b);
        }
        self.plain(|t| t.bool(b), |s| s.bool(b));
    }

    fn i64(&mut self, v: i64) {
        if self.passes() {
            return self.inner.i64(v);
        }
        self.plain(|t| t.i64(v), |s| s.i64(v));
    }

    fn u64(&mut self, v: u64) {
        if self.passes() {
            return self.inner.u64(v);
        }
        self.plain(|t| t.u64(v), |s| s.u64(v));
    }

    fn f64(&mut self, v: f64) {
        if self.passes() {
            return self.inner.f64(v);
        }
        self.plain(|t| t.f64(v), |s| s.f64(v));
    }

    fn str_bytes(&mut self, b: &[u8]) {
        if self.passes_str(b) {
            return self.inner.str_bytes(b);
        }
        if self.capturing(0, |t| t.str_bytes(b)) {
            return;
        }
        self.string(b, |s| s.str_bytes(b));
    }

    fn str(&mut self, x: &str) {
        if self.passes_str(x.as_bytes()) {
            return self.inner.str(x);
        }
        if self.capturing(0, |t| t.str(x)) {
            return;
        }
        self.string(x.as_bytes(), |s| s.str(x));
    }

    fn base64(&mut self, b: &[u8]) {
        if self.capturing(0, |t| t.base64(b)) {
            return;
        }
        match self.at() {
            // Base64 text is never a JSON document, nor `Secret`... unless
            // it is the kind: the tree would see the text.
            At::Redacted(f) => self.inner.str(&f.digest_base64_of(b)),
            At::Kind => {
                let v = as_value(|t| t.base64(b));
                self.mark_kind(v.as_str() == Some(SECRET_KIND));
                self.inner.base64(b);
            }
            _ => self.inner.base64(b),
        }
    }

    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        if self.passes() {
            return self.inner.time(seconds, micros);
        }
        self.plain(|t| t.time(seconds, micros), |s| s.time(seconds, micros));
    }

    fn raw_json(&mut self, b: &[u8]) {
        if self.capturing(0, |t| t.raw_json(b)) {
            return;
        }
        let at = self.at();
        match at {
            At::Redacted(f) => {
                let v = as_value(|t| t.raw_json(b));
                self.inner.str(&f.digest_value(&v));
                return;
            }
            At::Kind => {
                let v = as_value(|t| t.raw_json(b));
                self.mark_kind(v.as_str() == Some(SECRET_KIND));
            }
            At::Field(_) | At::Root if at != At::Root || self.force_root => {
                // A Secret's data, or a forced top-level object: by the
                // tree rules.
                let v = as_value(|t| t.raw_json(b));
                self.whole(&v);
                return;
            }
            _ => {}
        }
        embedded_json(self.inner, b);
    }

    fn value(&mut self, v: &J) {
        if self.capturing(0, |t| t.value(v)) {
            return;
        }
        self.whole(v);
    }

    fn over_limit(&self) -> Option<(usize, usize)> {
        self.inner.over_limit()
    }
}

/// A sink for an object that can hold no Secret object of its own (see
/// [`holds_no_secret_object`]): it keeps no frames and passes every
/// event on as it is, but strings, JSON text and whole values, which may
/// embed a Secret as a document (as [`RedactSink`] does outside a
/// Secret).
pub(crate) struct EmbedSink<'s, S: Sink> {
    inner: &'s mut S,
}

impl<'s, S: Sink> EmbedSink<'s, S> {
    pub(crate) fn new(inner: &'s mut S) -> Self {
        EmbedSink { inner }
    }
}

impl<S: Sink> Sink for EmbedSink<'_, S> {
    const SORTED_KEYS: bool = S::SORTED_KEYS;
    const KIND_FIRST: bool = S::KIND_FIRST;

    #[inline]
    fn mark(&self) -> Option<Mark> {
        self.inner.mark()
    }
    #[inline]
    fn rewind(&mut self, mark: Mark) {
        self.inner.rewind(mark);
    }
    #[inline]
    fn members_sorted(&mut self) {
        self.inner.members_sorted();
    }
    #[inline]
    fn begin_object(&mut self) {
        self.inner.begin_object();
    }
    #[inline]
    fn end_object(&mut self) {
        self.inner.end_object();
    }
    #[inline]
    fn begin_array(&mut self) {
        self.inner.begin_array();
    }
    #[inline]
    fn end_array(&mut self) {
        self.inner.end_array();
    }
    #[inline]
    fn key(&mut self, k: &str) {
        self.inner.key(k);
    }
    #[inline]
    fn key_bytes(&mut self, k: &[u8]) {
        self.inner.key_bytes(k);
    }
    #[inline]
    fn field_key(&mut self, f: &'static Field) {
        self.inner.field_key(f);
    }
    #[inline]
    fn null(&mut self) {
        self.inner.null();
    }
    #[inline]
    fn bool(&mut self, b: bool) {
        self.inner.bool(b);
    }
    #[inline]
    fn i64(&mut self, v: i64) {
        self.inner.i64(v);
    }
    #[inline]
    fn u64(&mut self, v: u64) {
        self.inner.u64(v);
    }
    #[inline]
    fn f64(&mut self, v: f64) {
        self.inner.f64(v);
    }
    #[inline]
    fn str_bytes(&mut self, b: &[u8]) {
        embedded_str(self.inner, b, |s| s.str_bytes(b));
    }
    #[inline]
    fn str(&mut self, x: &str) {
        embedded_str(self.inner, x.as_bytes(), |s| s.str(x));
    }
    #[inline]
    fn base64(&mut self, b: &[u8]) {
        self.inner.base64(b);
    }
    #[inline]
    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.inner.time(seconds, micros);
    }
    fn raw_json(&mut self, b: &[u8]) {
        embedded_json(self.inner, b);
    }
    fn value(&mut self, v: &J) {
        embedded_value(self.inner, v);
    }
    fn over_limit(&self) -> Option<(usize, usize)> {
        self.inner.over_limit()
    }
}

/// Whether no object that message `m`'s object can hold (itself
/// included) is a Secret by the redaction's rules: an object whose `kind`
/// is the string `Secret` and whose `data` or `stringData` is an object.
/// A struct's object can be one only if it has members named both (its
/// own fields and those of the structs it inlines); a map's object only
/// if its values may be strings and objects alike (JSON, or a message
/// the schema lacks, decoded generically). Generic objects of unknown
/// fields are keyed by field number. Decided once per message, over every
/// message it reaches.
pub(crate) fn holds_no_secret_object(m: &'static Message) -> bool {
    use std::collections::HashMap;
    use std::sync::{OnceLock, RwLock};
    static DECIDED: OnceLock<RwLock<HashMap<usize, bool>>> = OnceLock::new();
    let at = m as *const Message as usize;
    let decided = DECIDED.get_or_init(RwLock::default);
    if let Some(&d) = decided
        .read()
        .ok()
        .and_then(|d| d.get(&at).copied())
        .as_ref()
    {
        return d;
    }
    let d = reaches_no_secret_shape(m);
    if let Ok(mut w) = decided.write() {
        w.insert(at, d);
    }
    d
}

fn reaches_no_secret_shape(m: &'static Message) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![m];
    while let Some(m) = todo.pop() {
        if !seen.insert(m as *const Message) {
            continue;
        }
        if may_be_secret_shaped(m) {
            return false;
        }
        todo.extend(m.fields.iter().filter_map(Field::message));
    }
    true
}

/// Whether one message's own object may be Secret-shaped (see
/// [`holds_no_secret_object`]).
fn may_be_secret_shaped(m: &'static Message) -> bool {
    let mut names = Vec::new();
    member_names(m, 0, &mut |json| names.push(json));
    if names_a_secret_may_have(&names) {
        return true;
    }
    let keyed_by_data = m.go == GoKind::Map || m.special == Some(Special::Map);
    m.fields.iter().any(|f| {
        (f.is_map() || keyed_by_data)
            && match (f.ty, f.message()) {
                (Type::Message(_), None) => true,
                (_, Some(v)) => v.special == Some(Special::RawJson),
                _ => false,
            }
    })
}

/// Whether an object with these member names may be a Secret: it has a
/// `kind` and a redacted field.
fn names_a_secret_may_have(names: &[&str]) -> bool {
    names.contains(&"kind")
        && names
            .iter()
            .any(|n| SecretField::of(n.as_bytes()).is_some())
}

/// The member names of struct `m`'s object: its fields' keys, and those
/// of the structs it inlines.
fn member_names(m: &'static Message, depth: usize, each: &mut impl FnMut(&'static str)) {
    for f in &m.fields {
        if f.inline && depth < 8 {
            if let Some(im) = f.message() {
                member_names(im, depth + 1, each);
            }
        } else {
            each(f.json);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::json_emit::{JsonEmitter, Style};
    use crate::kube::sink_filter::emit;
    use crate::redact::Redaction;
    use serde_json::json;

    const APPLIED: &str = r#"{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret","metadata":{"name":"s"}}"#;

    fn cases() -> Vec<J> {
        let embedded = format!("{APPLIED}\n");
        vec![
            json!({"kind": "Secret", "apiVersion": "v1",
                "metadata": {"name": "s", "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": embedded,
                    "other": "{\"kind\":\"ConfigMap\",\"data\":{\"Secret\":\"x\"}}"}},
                "data": {"password": "aHVudGVyMg==", "notbase64": "hunter2!"},
                "stringData": {"token": "hunter3"}, "type": "Opaque"}),
            // data before kind: the rest of the object waits for its kind.
            json!({"data": {"a": "aGk="}, "kind": "Secret", "metadata": {"name": "x"},
                "stringData": {"b": "c"}, "z": [APPLIED]}),
            json!({"data": {"a": "x"}, "kind": "ConfigMap", "extra": APPLIED}),
            json!({"spec": {"data": {"a": "b"}, "template": {"kind": "Secret"}}}),
            json!({"kind": "List", "items": [
                {"kind": "Secret", "data": {"n": 1, "o": {"x": [1, 2]}, "nul": null,
                    "b": true, "neg": -3}},
                {"kind": "Secret", "data": "{\"kind\":\"Secret\",\"data\":{\"a\":\"b\"}}"},
                {"kind": "Secret", "data": ["aGk="]},
                {"kind": ["Secret"], "data": {"a": "aGk="}},
                {"kind": "Pod", "data": {"a": "aGk="}}]}),
            json!([APPLIED, {"x": APPLIED}]),
            json!({"kind": "Secret", "data": {"a": "aGk="}}),
            json!({"items": [{"kind": "Secret", "data": {"a": "aGk="}}]}),
            json!("plain"),
        ]
    }

    /// Streams `v` as events (and, separately, whole) through the
    /// adapter into a tree.
    fn streamed(v: &J, force: bool) -> (J, J) {
        let mut t = TreeSink::new();
        emit(&mut RedactSink::new(&mut t, force), v);
        let mut w = TreeSink::new();
        RedactSink::new(&mut w, force).value(v);
        (t.finish(), w.finish())
    }

    #[test]
    fn stream_redacts_as_the_tree_does() {
        for v in cases() {
            let mut want = v.clone();
            redact_all(&mut want);
            let (events, whole) = streamed(&v, false);
            // Key order too: compare the text.
            assert_eq!(events.to_string(), want.to_string(), "{v}");
            assert_eq!(whole.to_string(), want.to_string(), "{v}");
            // JSON text streamed = the tree's JSON text.
            let mut a = Vec::new();
            emit(
                &mut RedactSink::new(&mut JsonEmitter::new(&mut a, Style::PRETTY), false),
                &v,
            );
            let mut b = Vec::new();
            JsonEmitter::new(&mut b, Style::PRETTY).value(&want);
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        }
        // Whole values and JSON text nested in a streamed object.
        for v in cases() {
            let mut want = json!({"x": v.clone(), "y": v.clone()});
            redact_all(&mut want);
            let text = v.to_string();
            let mut t = TreeSink::new();
            let mut r = RedactSink::new(&mut t, false);
            r.begin_object();
            r.key("x");
            r.value(&v);
            r.key("y");
            r.raw_json(text.as_bytes());
            r.end_object();
            assert_eq!(t.finish().to_string(), want.to_string(), "{v}");
        }
        let escaped = br#"{"kind":"Secret","data":{"a":"aGk="}}"#;
        let mut t = TreeSink::new();
        RedactSink::new(&mut t, false).raw_json(escaped);
        assert_eq!(t.finish()["data"]["a"], digest(b"hi"));
        // The test can fail: the first case changes.
        let mut first = cases()[0].clone();
        assert!(redact_tree(&mut first));
        assert!(!first.to_string().contains("aHVudGVyMg=="));
    }

    #[test]
    fn key_material_is_forced_whatever_its_kind() {
        let key = b"/kubernetes.io/secrets/openshift-config-managed/encryption-key-x-1";
        for v in cases() {
            let mut want = v.clone();
            Redaction::default().apply(key, &mut want);
            let (events, whole) = streamed(&v, true);
            assert_eq!(events.to_string(), want.to_string(), "{v}");
            assert_eq!(whole.to_string(), want.to_string(), "{v}");
        }
        let v = json!({"kind": "ConfigMap", "data": {"k": "AAAA"}});
        let (events, _) = streamed(&v, true);
        assert!(events["data"]["k"]
            .as_str()
            .is_some_and(|s| s.starts_with("sha256:")));
    }

    #[test]
    fn a_secret_shape_is_a_kind_and_a_redacted_field() {
        assert!(names_a_secret_may_have(&["metadata", "kind", "data"]));
        assert!(names_a_secret_may_have(&["stringData", "kind"]));
        assert!(!names_a_secret_may_have(&["kind", "spec", "binaryData"]));
        assert!(!names_a_secret_may_have(&["data", "stringData"]));
    }

    /// Every built-in type's real encoding (`../shared/testdata/kube-api`),
    /// with a Secret embedded in an annotation: the sink for objects that
    /// hold no Secret object gives what the full redacting sink gives, as
    /// JSON, YAML and a tree, and the tree rules' result.
    #[test]
    fn objects_without_secret_objects_redact_as_the_full_sink_does() {
        use crate::kube::sink_yaml::YamlEmitter;
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/testdata/kube-api/HEAD"
        );
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e} (the kube testdata lives in ../shared)"));
        let red = Redaction::new(true, false);
        let (mut light, mut full) = (0, 0);
        for e in entries {
            let path = e.expect("dir entry").path();
            if path.extension().is_none_or(|x| x != "pb") {
                continue;
            }
            let pb = std::fs::read(&path).expect("read fixture");
            let mut obj = crate::kube::decode_value_rv(b"", &pb, None).expect("decode fixture");
            if let Some(meta) = obj.get_mut("metadata").and_then(J::as_object_mut) {
                meta.insert("annotations".into(), json!({"last-applied": APPLIED}));
            }
            let Ok(stored) = crate::kube::encode::encode_object(&obj) else {
                continue;
            };
            let t = crate::kube::decode::typed(&stored, None).expect("envelope");
            let Some(m) = t.message else {
                panic!("{}: no schema message", path.display());
            };
            if t.kind() == SECRET_KIND || !holds_no_secret_object(m) {
                full += 1;
                continue;
            }
            light += 1;
            let key = b"/registry/x/n/o";
            let mut want = crate::kube::decode_value_rv(key, &stored, Some(3)).expect("decode");
            red.apply(key, &mut want);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            crate::kube::decode_into(
                &stored,
                Some(3),
                &mut EmbedSink::new(&mut JsonEmitter::new(&mut a, Style::PRETTY)),
            )
            .expect("light");
            crate::kube::decode_into(
                &stored,
                Some(3),
                &mut RedactSink::new(&mut JsonEmitter::new(&mut b, Style::PRETTY), false),
            )
            .expect("full");
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{}",
                path.display()
            );
            let mut w = Vec::new();
            JsonEmitter::new(&mut w, Style::PRETTY).value(&want);
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&w),
                "{}",
                path.display()
            );
            assert!(
                !String::from_utf8_lossy(&a).contains("aHVudGVyMg=="),
                "{}",
                path.display()
            );
            let (mut a, mut b) = (Vec::new(), Vec::new());
            crate::kube::decode_into(
                &stored,
                Some(3),
                &mut EmbedSink::new(&mut YamlEmitter::new(&mut a)),
            )
            .expect("light");
            crate::kube::decode_into(
                &stored,
                Some(3),
                &mut RedactSink::new(&mut YamlEmitter::new(&mut b), false),
            )
            .expect("full");
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{}",
                path.display()
            );
            // And the route `decode_into` takes gives the same.
            let mut c = Vec::new();
            red.decode_into(key, &stored, Some(3), &mut YamlEmitter::new(&mut c))
                .expect("route");
            assert_eq!(c, a, "{}", path.display());
            let mut t = TreeSink::new();
            crate::kube::decode_into(&stored, Some(3), &mut EmbedSink::new(&mut t)).expect("tree");
            assert_eq!(
                t.finish().to_string(),
                want.to_string(),
                "{}",
                path.display()
            );
        }
        // Nearly every type takes the light sink; a Secret never does.
        assert!(light > 150, "{light} light, {full} full");
        assert!(full >= 1, "{light} light, {full} full");
    }

    #[test]
    fn protobuf_stream_equals_the_value_path() {
        let mut secret = cases()[0].clone();
        secret["data"]["notbase64"] = json!("aGk=");
        let mut cm = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "namespace": "n",
                "annotations": {"a": APPLIED}}, "data": {"x": APPLIED, "y": "hunter2"}});
        cm["binaryData"] = json!({"b": "aGk="});
        for (key, obj) in [
            (&b"/registry/secrets/n/s"[..], secret),
            (b"/registry/configmaps/n/c", cm),
        ] {
            let stored = crate::kube::encode::encode_object(&obj).expect("encode");
            for red in [Redaction::new(true, false), Redaction::new(true, true)] {
                let mut want = crate::kube::decode_value_rv(key, &stored, Some(7)).expect("decode");
                red.apply(key, &mut want);
                let mut t = TreeSink::new();
                red.decode_into(key, &stored, Some(7), &mut t)
                    .expect("stream");
                assert_eq!(t.finish().to_string(), want.to_string());
                let mut a = Vec::new();
                red.decode_into(
                    key,
                    &stored,
                    Some(7),
                    &mut JsonEmitter::new(&mut a, Style::PRETTY),
                )
                .expect("stream");
                let mut b = Vec::new();
                JsonEmitter::new(&mut b, Style::PRETTY).value(&want);
                assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
                assert!(!String::from_utf8_lossy(&a).contains("aHVudGVyMg=="));
            }
        }
    }
}
