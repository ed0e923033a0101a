//! The one schema traversal: Kubernetes protobuf (`k8s\0` + runtime.Unknown)
//! → the object the apiserver would serve, pushed as events into a [`Sink`].
//!
//! This module owns every rule of docs/kubernetes.md "Rendering rules": Go
//! zero values, `omitempty`/`omitzero`, inline (embedded) structs and their
//! shadowing, packed scalars, maps (sorted, last duplicate wins), special
//! types, unknown fields and kinds (kept under their numbers), and where
//! `metadata.resourceVersion` goes. It knows nothing of how output is
//! spelled: [`super::json_emit`] writes JSON text, [`super::sink_tree`]
//! builds a `serde_json::Value`, [`super::sink_yaml`] writes YAML text.
//! The traversal is generic over the sink, so each output is monomorphised
//! and the JSON path pays nothing for the others.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use serde_json::Value as J;

use super::proto::{parse_envelope, MAX_DEPTH};
use super::schema::{schema, Field, GoKind, Message, Scalar, Special, Type};
use super::timefmt::{go_duration, GO_ZERO_SECONDS};
use super::{cbor, KubeError};
use crate::wire::{read_varint, Fields, Value as W, WireError};

/// What the traversal emits. Containers are bracketed by begin/end; inside
/// an object every value is preceded by exactly one key. Keys given to
/// [`Sink::key`] need no escaping (schema names, `kind`, field numbers).
pub trait Sink {
    /// Whether the output lists an object's members sorted by key
    /// (go-yaml's order, as YAML does): the traversal then gives a
    /// struct's fields in that order and says so ([`Sink::members_sorted`]),
    /// so the sink need not reorder them.
    const SORTED_KEYS: bool = false;
    /// The sink decides what to do with an object's members from its
    /// `kind`, so wants `kind` and `apiVersion` first even when it sorts
    /// keys (redaction: a Secret's `data` sorts before `kind`, and would
    /// have to be held until the kind is known).
    const KIND_FIRST: bool = false;
    /// Said right after [`Sink::begin_object`] (before any key) when the
    /// members that follow come in sorted-key order (only to a sink with
    /// [`Sink::SORTED_KEYS`]).
    fn members_sorted(&mut self) {}
    fn begin_object(&mut self);
    fn end_object(&mut self);
    fn begin_array(&mut self);
    fn end_array(&mut self);
    /// A key that needs no escaping.
    fn key(&mut self, k: &str);
    /// A struct field's key: its JSON name (`f.json`, needing no
    /// escaping), with what the schema decided once about it (`yaml_key`,
    /// `json_key`).
    fn field_key(&mut self, f: &'static Field) {
        self.key(f.json);
    }
    /// A key from the data (map keys); invalid UTF-8 shows as U+FFFD.
    fn key_bytes(&mut self, k: &[u8]);
    fn null(&mut self);
    fn bool(&mut self, b: bool);
    fn i64(&mut self, v: i64);
    fn u64(&mut self, v: u64);
    /// A float; integral values are shown without a fraction, non-finite
    /// ones as null.
    fn f64(&mut self, v: f64);
    /// A string from bytes; invalid UTF-8 shows as U+FFFD.
    fn str_bytes(&mut self, b: &[u8]);
    fn str(&mut self, s: &str);
    /// Bytes as a standard base64 string.
    fn base64(&mut self, b: &[u8]);
    /// A `metav1.Time` (`micros == None`) or `MicroTime` as RFC 3339 text.
    fn time(&mut self, seconds: i64, micros: Option<u32>);
    /// Validated JSON text (RawExtension and friends) inlined.
    fn raw_json(&mut self, b: &[u8]);
    /// A parsed value (CBOR inside a RawExtension); text sinks [`replay`]
    /// it as events.
    fn value(&mut self, v: &J);
    /// A parsed JSON number (from [`replay`]): integers as such, others as
    /// [`Sink::f64`].
    fn number(&mut self, n: &serde_json::Number) {
        if !integer(n, self) {
            self.f64(n.as_f64().unwrap_or(f64::NAN))
        }
    }
    /// Whether the output has outgrown what the value may expand to
    /// ([`Bounded`]); the traversal stops at the next message when it has.
    fn over_limit(&self) -> Option<(usize, usize)> {
        None
    }
    /// Where the output stands now, for [`Sink::rewind`]; `None` when the
    /// sink cannot go back to it. The traversal then writes a message by
    /// the flat route as it reads it, and goes back when the message turns
    /// out not to be flat, instead of reading it twice.
    fn mark(&self) -> Option<Mark> {
        None
    }
    /// Drops everything written since `mark` was taken, state included.
    fn rewind(&mut self, _mark: Mark) {}
}

/// A point of a rewinding sink's output ([`Sink::mark`]): each layer of
/// sink keeps its own part (a text sink its length and its own state,
/// the expansion bound its count, a redacting sink its open containers).
#[derive(Clone, Copy, Default)]
pub struct Mark {
    pub(crate) len: usize,
    pub(crate) state: [usize; 6],
    pub(crate) counted: usize,
    pub(crate) frames: usize,
}

/// Emits `n` as [`Sink::i64`] when it is a 64-bit signed integer;
/// `false` (nothing emitted) when it is not: kubectl reads any other
/// number, an integer past int64 too, as a float64.
pub(crate) fn integer<S: Sink + ?Sized>(n: &serde_json::Number, sink: &mut S) -> bool {
    match n.as_i64() {
        Some(i) => {
            sink.i64(i);
            true
        }
        None => false,
    }
}

/// Replays a parsed value into a sink as the traversal's events, members
/// in the value's order: the one definition the text sinks' [`Sink::value`]
/// use.
pub(crate) fn replay<S: Sink + ?Sized>(v: &J, sink: &mut S) {
    match v {
        J::Null => sink.null(),
        J::Bool(b) => sink.bool(*b),
        J::Number(n) => sink.number(n),
        J::String(s) => sink.str(s),
        J::Array(a) => {
            sink.begin_array();
            for x in a {
                replay(x, sink);
            }
            sink.end_array();
        }
        J::Object(o) => {
            sink.begin_object();
            for (k, x) in o {
                sink.key_bytes(k.as_bytes());
                replay(x, sink);
            }
            sink.end_object();
        }
    }
}

/// How many bytes of (compact) JSON one stored value may decode to: ten
/// times its size, at least 1 MiB. Real objects stay far below (strings
/// render at most 6x, with `\u00XX` escapes); a protobuf value of many
/// empty messages, each rendered with its defaults, does not.
pub(crate) const EXPANSION_FACTOR: usize = 10;
pub(crate) const EXPANSION_FLOOR: usize = 1 << 20;

pub(crate) fn expansion_limit(stored: usize) -> usize {
    stored.saturating_mul(EXPANSION_FACTOR).max(EXPANSION_FLOOR)
}

/// A sink that forwards to another while counting the compact JSON bytes
/// the events amount to, so every output (JSON, YAML, tree) is held to one
/// expansion limit per stored value.
pub(crate) struct Bounded<'s, S: Sink> {
    inner: &'s mut S,
    stored: usize,
    limit: usize,
    bytes: usize,
}

impl<'s, S: Sink> Bounded<'s, S> {
    pub(crate) fn new(inner: &'s mut S, stored: usize) -> Self {
        Bounded {
            inner,
            stored,
            limit: expansion_limit(stored),
            bytes: 0,
        }
    }
}

impl<S: Sink> Sink for Bounded<'_, S> {
    const SORTED_KEYS: bool = S::SORTED_KEYS;
    const KIND_FIRST: bool = S::KIND_FIRST;
    fn members_sorted(&mut self) {
        self.inner.members_sorted();
    }
    fn begin_object(&mut self) {
        self.bytes += 2;
        self.inner.begin_object();
    }
    fn end_object(&mut self) {
        self.inner.end_object();
    }
    fn begin_array(&mut self) {
        self.bytes += 2;
        self.inner.begin_array();
    }
    fn end_array(&mut self) {
        self.inner.end_array();
    }
    fn key(&mut self, k: &str) {
        self.bytes += k.len() + 4;
        self.inner.key(k);
    }
    fn field_key(&mut self, f: &'static Field) {
        self.bytes += f.json.len() + 4;
        self.inner.field_key(f);
    }
    fn key_bytes(&mut self, k: &[u8]) {
        self.bytes += k.len() + 4;
        self.inner.key_bytes(k);
    }
    fn null(&mut self) {
        self.bytes += 4;
        self.inner.null();
    }
    fn bool(&mut self, b: bool) {
        self.bytes += 5;
        self.inner.bool(b);
    }
    fn i64(&mut self, v: i64) {
        self.bytes += 1;
        self.inner.i64(v);
    }
    fn u64(&mut self, v: u64) {
        self.bytes += 1;
        self.inner.u64(v);
    }
    fn f64(&mut self, v: f64) {
        self.bytes += 1;
        self.inner.f64(v);
    }
    fn str_bytes(&mut self, b: &[u8]) {
        self.bytes += b.len() + 2;
        self.inner.str_bytes(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes += s.len() + 2;
        self.inner.str(s);
    }
    fn base64(&mut self, b: &[u8]) {
        self.bytes += b.len().div_ceil(3) * 4 + 2;
        self.inner.base64(b);
    }
    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.bytes += 22;
        self.inner.time(seconds, micros);
    }
    fn raw_json(&mut self, b: &[u8]) {
        self.bytes += b.len();
        self.inner.raw_json(b);
    }
    fn value(&mut self, v: &J) {
        self.bytes += 2;
        self.inner.value(v);
    }
    fn over_limit(&self) -> Option<(usize, usize)> {
        (self.bytes > self.limit).then_some((self.stored, self.limit))
    }
    fn mark(&self) -> Option<Mark> {
        let m = self.inner.mark()?;
        Some(Mark {
            counted: self.bytes,
            ..m
        })
    }
    fn rewind(&mut self, mark: Mark) {
        self.bytes = mark.counted;
        self.inner.rewind(mark);
    }
}

/// A `k8s\0` protobuf value's envelope, and the schema message its object
/// decodes as (`None`: a kind the schema lacks, decoded generically if at
/// all): read once, for a caller that picks its sink by them
/// ([`crate::redact`]) as for [`protobuf`].
pub(crate) struct Typed<'v> {
    env: super::proto::Envelope<'v>,
    stored: usize,
    pub(crate) message: Option<&'static Message>,
}

impl Typed<'_> {
    /// The kind the envelope names (what the object shows as its `kind`).
    pub(crate) fn kind(&self) -> &str {
        &self.env.kind
    }
}

/// Reads a `k8s\0` protobuf value's envelope and finds its message;
/// `hint` = (apiVersion, kind) when the envelope names no type.
pub(crate) fn typed<'v>(
    value: &'v [u8],
    hint: Option<(&str, &str)>,
) -> Result<Typed<'v>, KubeError> {
    let env = parse_envelope(value)?;
    let (av, kind) = match hint {
        Some(h) if env.kind.is_empty() => h,
        _ => (&*env.api_version, &*env.kind),
    };
    let s = schema();
    let message = s.kind(av, kind).and_then(|k| s.message(k.message));
    Ok(Typed {
        env,
        stored: value.len(),
        message,
    })
}

/// Decodes a `k8s\0` protobuf value into `sink`: `kind` and `apiVersion`
/// from the envelope (when the Go type embeds TypeMeta or the kind is
/// unknown, and they are non-empty), then the object's fields. `hint` =
/// (apiVersion, kind) is used when the envelope names no type;
/// `resource_version` fills `metadata.resourceVersion`. On error the sink
/// may hold a partial document.
pub fn protobuf<S: Sink>(
    value: &[u8],
    hint: Option<(&str, &str)>,
    resource_version: Option<i64>,
    sink: &mut S,
) -> Result<(), KubeError> {
    protobuf_typed(&typed(value, hint)?, resource_version, sink)
}

/// [`protobuf`] of a value whose envelope is read already.
pub(crate) fn protobuf_typed<S: Sink>(
    typed: &Typed<'_>,
    resource_version: Option<i64>,
    sink: &mut S,
) -> Result<(), KubeError> {
    let env = &typed.env;
    let m = typed.message;
    let mut bounded = Bounded::new(sink, typed.stored);
    let mut t = Traversal::new(&mut bounded);
    t.rv = resource_version;
    if m.is_none() && !generic_ok(env.raw) {
        return Err(KubeError::Wire {
            message: "(unknown kind)",
            path: String::new(),
            source: first_wire_error(env.raw),
        });
    }
    t.sink.begin_object();
    // A sink that sorts keys gets `apiVersion` and `kind` where they sort
    // among the fields, and the object announced as sorted: written first
    // and moved when the object closed, they had every member after them
    // rewritten (a Secret's data, a ConfigMap's).
    let sorted_meta = match m {
        Some(m) if S::SORTED_KEYS && !S::KIND_FIRST && m.typemeta => {
            m.key_order().and_then(|o| o.type_meta)
        }
        _ => None,
    };
    if let (Some(m), Some([at_av, at_kind])) = (m, sorted_meta) {
        let extra: Vec<Member<'_>> = [
            (at_av, "apiVersion", &*env.api_version),
            (at_kind, "kind", &*env.kind),
        ]
        .into_iter()
        .filter(|e| !e.2.is_empty())
        .collect();
        t.fields_of(m, env.raw, 0, None, true, &extra)?;
        t.sink.end_object();
        return Ok(());
    }
    if m.is_none_or(|m| m.typemeta) {
        if !env.kind.is_empty() {
            t.sink.key("kind");
            t.sink.str(&env.kind);
        }
        if !env.api_version.is_empty() {
            t.sink.key("apiVersion");
            t.sink.str(&env.api_version);
        }
    }
    match m {
        // Members of the top-level object follow `kind`/`apiVersion`, so
        // they are not announced as sorted.
        Some(m) => t.fields_of(m, env.raw, 0, None, false, &[])?,
        None => t.generic_fields(env.raw, 0),
    }
    t.sink.end_object();
    Ok(())
}

#[cfg(test)]
/// Decodes one message (no envelope) by full proto name into `sink`.
pub(crate) fn message<S: Sink>(message: &str, b: &[u8], sink: &mut S) -> Result<(), KubeError> {
    let m = schema().message(message).ok_or_else(|| KubeError::Encode {
        message: "(schema)",
        path: String::new(),
        what: format!("unknown message {message}"),
    })?;
    Traversal::new(sink).msg(m, Some(b), 0)
}

pub(crate) fn wire_err(m: &'static Message, e: WireError) -> KubeError {
    KubeError::Wire {
        message: m.name,
        path: String::new(),
        source: e,
    }
}

pub(crate) fn type_err(m: &'static Message, n: u32, expected: u8, v: W<'_>) -> KubeError {
    KubeError::WireType {
        message: m.name,
        path: String::new(),
        field: n,
        expected,
        found: v.wire_type(),
    }
}

fn len_of<'a>(m: &'static Message, n: u32, v: W<'a>) -> Result<&'a [u8], KubeError> {
    match v {
        W::Bytes(b) => Ok(b),
        _ => Err(type_err(m, n, 2, v)),
    }
}

fn first_wire_error(b: &[u8]) -> WireError {
    Fields::new(b)
        .find_map(Result::err)
        .unwrap_or(WireError::TruncatedVarint(0))
}

fn generic_ok(b: &[u8]) -> bool {
    Fields::new(b).all(|f| f.is_ok())
}

pub(crate) fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn read_time(b: &[u8]) -> Result<(i64, i32), WireError> {
    let (mut s, mut ns) = (0i64, 0i32);
    for f in Fields::new(b) {
        match f? {
            (1, W::Varint(v)) => s = v as i64,
            (2, W::Varint(v)) => ns = v as i64 as i32,
            _ => {}
        }
    }
    Ok((s, ns))
}

/// Go `omitzero` (IsZero) on a non-pointer struct.
fn is_zero_struct(m: &Message, b: Option<&[u8]>) -> bool {
    let b = b.unwrap_or(&[]);
    if b.is_empty() {
        return true;
    }
    if matches!(m.special, Some(Special::Rfc3339 | Special::Rfc3339Micro)) {
        let (s, ns) = read_time(b).unwrap_or((0, 0));
        return s == GO_ZERO_SECONDS && ns == 0;
    }
    false
}

/// Fields 1..=3 of a small special message (last occurrence wins).
fn special_parts<'a>(m: &'static Message, b: &'a [u8]) -> Result<[Option<W<'a>>; 4], KubeError> {
    let mut parts = [None; 4];
    for f in Fields::new(b) {
        let (n, v) = f.map_err(|e| wire_err(m, e))?;
        if (1..=3).contains(&n) {
            parts[n as usize] = Some(v);
        }
    }
    Ok(parts)
}

/// The `raw` bytes of a RawExtension-like message (the last occurrence
/// wins, as protobuf says).
fn raw_json_field<'b>(m: &'static Message, bytes: &'b [u8]) -> Result<Option<&'b [u8]>, KubeError> {
    let n = m
        .fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("raw"))
        .map_or(1, |f| f.n);
    let mut raw: Option<&[u8]> = None;
    for f in Fields::new(bytes) {
        let (fnum, v) = f.map_err(|e| wire_err(m, e))?;
        if fnum == n {
            raw = Some(len_of(m, n, v)?);
        }
    }
    Ok(raw)
}

/// Appends the fields of message `b` to `occ` as (position, field number,
/// value), stably sorted by position: `by_num` maps a field number to its
/// position (the schema's field order, or [`super::schema::KeyOrder`]'s);
/// unknown fields, position `u16::MAX`, go last. On error `occ` is left as
/// it was.
#[inline]
fn push_in_order<'a>(
    m: &'static Message,
    by_num: &[u16],
    b: &'a [u8],
    occ: &mut Vec<Occ<'a>>,
) -> Result<(), KubeError> {
    let base = occ.len();
    let mut sorted = true;
    let mut last = 0u16;
    let mut pos = 0;
    while pos < b.len() {
        let (n, v) = match crate::wire::next_field(b, &mut pos) {
            Ok(x) => x,
            Err(e) => {
                occ.truncate(base);
                return Err(wire_err(m, e));
            }
        };
        let idx = by_num.get(n as usize).copied().unwrap_or(u16::MAX);
        sorted &= idx >= last;
        last = idx;
        occ.push((idx, n, v));
    }
    if !sorted {
        occ[base..].sort_by_key(|o| o.0);
    }
    Ok(())
}

/// Text with no control characters but `\n`, `\r`, `\t`.
pub(crate) fn printable(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

fn is_rv_field(m: &Message, f: &Field) -> bool {
    f.json == "resourceVersion" && m.name == super::OBJECT_META
}

/// Whether a scalar is Go's zero value (what `omitempty` drops).
#[inline(always)]
fn wire_zero(sc: Scalar, v: W<'_>) -> bool {
    match v {
        W::Varint(x) => x == 0,
        W::Fixed64(x) => x == 0 || (sc == Scalar::Double && x == 1 << 63),
        W::Fixed32(x) => x == 0 || (sc == Scalar::Float && x == 1 << 31),
        W::Bytes(b) => b.is_empty(),
    }
}

/// Whether an absent field shows nothing ([`Traversal::field`]'s rules for
/// an absent field), the top object's `resourceVersion` aside.
#[inline]
fn absent_omitted(f: &'static Field) -> bool {
    if f.absent_skip {
        return true;
    }
    if f.inline || !f.omitempty {
        return false;
    }
    if f.is_map() || f.repeated {
        return true;
    }
    match f.ty {
        Type::Scalar(_) => true,
        Type::Message(_) => match f.message() {
            Some(mm) => f.pointer || f.omitzero || is_collection(mm),
            None => false,
        },
    }
}

/// The flat path's plan for `m` ([`Traversal::flat`]): for each field
/// index `i`, how many fields before it show when absent (so a run of
/// skipped fields shows nothing when the counts at its ends agree);
/// `None` when the path never applies (an inline field).
fn flat_plan(m: &'static Message) -> Option<Box<[u16]>> {
    if m.fields.iter().any(|f| f.inline) || m.fields.len() >= usize::from(u16::MAX) {
        return None;
    }
    let mut shows = 0u16;
    let mut plan = Vec::with_capacity(m.fields.len() + 1);
    for f in &m.fields {
        plan.push(shows);
        shows += u16::from(!absent_omitted(f));
    }
    plan.push(shows);
    Some(plan.into())
}

/// The sparse path's plan for `m` in one order (`order`: position →
/// field index, or the schema's order): bit `p` set when the field at
/// position `p` shows something when absent; `None` past 64 fields.
fn sparse_plan(m: &'static Message, order: Option<&[u16]>) -> Option<u64> {
    let count = order.map_or(m.fields.len(), <[u16]>::len);
    if count > 64 {
        return None;
    }
    let mut shows = 0u64;
    for p in 0..count {
        let i = order.map_or(p, |o| usize::from(o[p]));
        if !absent_omitted(m.fields.get(i)?) {
            shows |= 1 << p;
        }
    }
    Some(shows)
}

/// Go `omitempty` on a value of message type: only slices and maps can be empty.
fn is_collection(m: &Message) -> bool {
    m.go != GoKind::Struct || matches!(m.special, Some(Special::Array | Special::Map))
}

fn collection_empty(b: Option<&[u8]>) -> bool {
    match b {
        None => true,
        Some(b) => !Fields::new(b).any(|f| matches!(f, Ok((1, _)))),
    }
}

/// The text of a non-string map key, as Go's encoding/json writes it.
fn key_text(sc: Scalar, v: W<'_>) -> Option<String> {
    Some(match (sc, v) {
        (Scalar::Bool, W::Varint(x)) => (x != 0).to_string(),
        (Scalar::Int32, W::Varint(x)) => (x as i64 as i32).to_string(),
        (Scalar::Int64, W::Varint(x)) => (x as i64).to_string(),
        (Scalar::Uint32, W::Varint(x)) => (x as u32).to_string(),
        (Scalar::Uint64, W::Varint(x)) => x.to_string(),
        (Scalar::Sint32, W::Varint(x)) => (zigzag(x) as i32).to_string(),
        (Scalar::Sint64, W::Varint(x)) => zigzag(x).to_string(),
        (Scalar::Fixed64, W::Fixed64(x)) => x.to_string(),
        (Scalar::Sfixed64, W::Fixed64(x)) => (x as i64).to_string(),
        (Scalar::Fixed32, W::Fixed32(x)) => x.to_string(),
        (Scalar::Sfixed32, W::Fixed32(x)) => (x as i32).to_string(),
        (Scalar::Double | Scalar::Float, _) => {
            let f = match v {
                W::Fixed64(x) if sc == Scalar::Double => f64::from_bits(x),
                W::Fixed32(x) if sc == Scalar::Float => f64::from(f32::from_bits(x)),
                _ => return None,
            };
            let mut out = Vec::new();
            super::json_emit::JsonEmitter::new(&mut out, super::json_emit::Style::COMPACT).f64(f);
            String::from_utf8(out).ok()?
        }
        _ => return None,
    })
}

/// An occurrence of a field on the wire: (position, number, value); the
/// position is the field's index in the schema, or in its message's
/// [`super::schema::KeyOrder`] when the sink sorts keys.
type Occ<'a> = (u16, u32, W<'a>);

/// A string member that is no field of the message (`apiVersion` and
/// `kind` from the envelope): (position among the fields in
/// [`super::schema::KeyOrder`], key, value).
type Member<'e> = (u16, &'static str, &'e str);

struct Traversal<'s, 'a, S: Sink> {
    sink: &'s mut S,
    /// `metadata.resourceVersion` to show for the top-level object.
    rv: Option<i64>,
    /// Scratch stack of field occurrences, shared by all nesting levels.
    occ: Vec<Occ<'a>>,
    /// Scratch stack of map entries (key, value).
    entries: Vec<(Cow<'a, [u8]>, Option<W<'a>>)>,
    /// A message is being written by the flat route as it is read
    /// ([`Sink::mark`]): an error below it goes up to the outermost such
    /// message, which writes itself again by the full path.
    trying: bool,
    /// Writing again after an error: the flat route only where checked first.
    checked_only: bool,
}

impl<'s, 'a, S: Sink> Traversal<'s, 'a, S> {
    fn new(sink: &'s mut S) -> Self {
        Traversal {
            sink,
            rv: None,
            // Room for the fields of a large object's nesting levels at
            // once: growing from empty was a few reallocations per object.
            occ: Vec::with_capacity(256),
            entries: Vec::new(),
            trying: false,
            checked_only: false,
        }
    }

    fn scalar(&mut self, sc: Scalar, v: W<'_>) -> Result<(), u8> {
        let s = &mut *self.sink;
        match (sc, v) {
            (Scalar::String, W::Bytes(b)) => s.str_bytes(b),
            (Scalar::Bytes, W::Bytes(b)) => s.base64(b),
            (Scalar::Bool, W::Varint(x)) => s.bool(x != 0),
            (Scalar::Int32, W::Varint(x)) => s.i64(i64::from(x as i64 as i32)),
            (Scalar::Int64, W::Varint(x)) => s.i64(x as i64),
            (Scalar::Uint32, W::Varint(x)) => s.u64(u64::from(x as u32)),
            (Scalar::Uint64, W::Varint(x)) => s.u64(x),
            (Scalar::Sint32, W::Varint(x)) => s.i64(i64::from(zigzag(x) as i32)),
            (Scalar::Sint64, W::Varint(x)) => s.i64(zigzag(x)),
            (Scalar::Fixed64, W::Fixed64(x)) => s.u64(x),
            (Scalar::Sfixed64, W::Fixed64(x)) => s.i64(x as i64),
            (Scalar::Double, W::Fixed64(x)) => s.f64(f64::from_bits(x)),
            (Scalar::Fixed32, W::Fixed32(x)) => s.u64(u64::from(x)),
            (Scalar::Sfixed32, W::Fixed32(x)) => s.i64(i64::from(x as i32)),
            (Scalar::Float, W::Fixed32(x)) => s.f64(f64::from(f32::from_bits(x))),
            _ => return Err(sc.wire_type()),
        }
        Ok(())
    }

    fn zero_scalar(&mut self, sc: Scalar) {
        match sc {
            Scalar::String | Scalar::Bytes => self.sink.str(""),
            Scalar::Bool => self.sink.bool(false),
            _ => self.sink.i64(0),
        }
    }

    /// Raw bytes holding JSON or CBOR; anything else as a string.
    fn raw_bytes_json(&mut self, b: &[u8]) {
        if b.starts_with(&[0xd9, 0xd9, 0xf7]) {
            if let Ok(v) = cbor::decode(b) {
                self.sink.value(&v);
                return;
            }
        } else if super::json_emit::is_json(b) {
            self.sink.raw_json(b);
            return;
        }
        self.sink.str_bytes(b);
    }

    /// A value of message type `m`; `b == None` = absent (Go zero).
    fn msg(
        &mut self,
        m: &'static Message,
        b: Option<&'a [u8]>,
        depth: usize,
    ) -> Result<(), KubeError> {
        if depth > MAX_DEPTH {
            return Err(KubeError::TooDeep {
                message: m.name,
                path: String::new(),
                limit: MAX_DEPTH,
            });
        }
        if let Some((stored, limit)) = self.sink.over_limit() {
            return Err(KubeError::TooLarge { stored, limit });
        }
        if let Some(sp) = m.special {
            return self.special(m, sp, b, depth);
        }
        if m.go != GoKind::Struct {
            let Some(b) = b else {
                self.sink.null();
                return Ok(());
            };
            return self.wrapper(m, b, m.go == GoKind::Map, depth);
        }
        // A message of single fields (an env var, a port, a mount),
        // below the top object's metadata, whose fields come in the
        // order the sink prints them (schema order, or for a sink that
        // sorts keys, key order): written as its fields come on the
        // wire, with `field`'s rules for a present field.
        #[cfg(test)]
        let flat_off = tests::FULL_PATH_ONLY.get();
        #[cfg(not(test))]
        let flat_off = false;
        if let (false, 2.., Some(b)) = (flat_off, depth, b) {
            // A sink that sorts keys takes the route where the keys sort
            // in the fields' order (an env var's `name`, `value`), so
            // fields read in order come in key order; elsewhere (a
            // Service's ports) they nearly never do, and the sparse route
            // takes the message without a try first.
            let in_key_order = !S::SORTED_KEYS || m.key_order().is_some_and(|o| o.follows_fields);
            if in_key_order {
                if let Some(plan) = m.flat.get_or_init(|| flat_plan(m)) {
                    let mark = if self.checked_only {
                        None
                    } else {
                        self.sink.mark()
                    };
                    if let Some(mark) = mark {
                        // Written as read; rewound when it is not flat.
                        let outer = !self.trying;
                        self.trying = true;
                        let r = self.flat::<true, true>(m, plan, b, depth);
                        self.trying = !outer;
                        match r {
                            Ok(true) => return Ok(()),
                            Ok(false) => self.sink.rewind(mark),
                            Err(e) if !outer => return Err(e),
                            // The error as the full path words it, without
                            // trying again below (at most twice the work).
                            Err(_) => {
                                self.sink.rewind(mark);
                                self.checked_only = true;
                                let r = self.object(m, b, depth);
                                self.checked_only = false;
                                return r;
                            }
                        }
                    } else if self.flat::<false, true>(m, plan, b, depth)? {
                        return self.flat::<true, false>(m, plan, b, depth).map(|_| ());
                    }
                }
            }
        }
        self.object(m, b.unwrap_or(&[]), depth)
    }

    /// A struct by the full path (or the sparse one).
    fn object(&mut self, m: &'static Message, b: &'a [u8], depth: usize) -> Result<(), KubeError> {
        self.sink.begin_object();
        self.fields_of(m, b, depth, None, true, &[])?;
        self.sink.end_object();
        Ok(())
    }

    /// The flat route for message `b`: its fields are single (no repeated
    /// or map field), known, shown as themselves, each once and in schema
    /// order, each of its wire type (a message's length-delimited), and
    /// every field it lacks shows nothing when absent (`plan`,
    /// [`flat_plan`]) (for a sink that sorts keys, only a message whose
    /// keys sort in its fields' order comes here). `false` at the first thing
    /// the route does not take (unknown, repeated or out-of-order fields,
    /// wire errors: the full path's), having written part of the object
    /// when `EMIT`; without `EMIT` only the check, writing nothing; without
    /// `CHECK` the writing of a message checked already.
    fn flat<const EMIT: bool, const CHECK: bool>(
        &mut self,
        m: &'static Message,
        plan: &[u16],
        b: &'a [u8],
        depth: usize,
    ) -> Result<bool, KubeError> {
        if EMIT {
            self.sink.begin_object();
            if S::SORTED_KEYS {
                self.sink.members_sorted();
            }
        }
        let mut pos = 0;
        let mut next = 0;
        while pos < b.len() {
            let Ok((n, v)) = crate::wire::next_field(b, &mut pos) else {
                return Ok(false);
            };
            let Some(i) = m.index_of(n) else {
                return Ok(false);
            };
            let f = &m.fields[i];
            if CHECK && (i < next || !f.flat_member || plan[i] != plan[next]) {
                return Ok(false);
            }
            next = i + 1;
            match (f.ty, v) {
                (Type::Scalar(sc), _) => {
                    if CHECK && v.wire_type() != sc.wire_type() {
                        return Ok(false);
                    }
                    if !EMIT || f.omitempty && !f.pointer && wire_zero(sc, v) {
                        continue;
                    }
                    self.sink.field_key(f);
                    if let Err(x) = self.scalar(sc, v) {
                        // Not taken once checked; an error, not a partial
                        // object, if it ever were.
                        if !CHECK {
                            return Err(type_err(m, f.n, x, v).within(f.json));
                        }
                        return Ok(false);
                    }
                }
                (Type::Message(_), W::Bytes(mb)) => match f.message() {
                    Some(mm) if EMIT => self
                        .message_member(f, mm, Some(mb), depth)
                        .map_err(|x| x.within(f.json))?,
                    Some(_) => {}
                    None => return Ok(false),
                },
                (Type::Message(_), _) => return Ok(false),
            }
        }
        if CHECK && plan[m.fields.len()] != plan[next] {
            return Ok(false);
        }
        if EMIT {
            self.sink.end_object();
        }
        Ok(true)
    }

    fn empty_collection(&mut self, is_map: bool) {
        if is_map {
            self.sink.begin_object();
            self.sink.end_object();
        } else {
            self.sink.begin_array();
            self.sink.end_array();
        }
    }

    /// A Go named slice/map wrapped as `items` = 1.
    fn wrapper(
        &mut self,
        m: &'static Message,
        b: &'a [u8],
        is_map: bool,
        depth: usize,
    ) -> Result<(), KubeError> {
        let Some(f) = m.fields.first() else {
            self.empty_collection(is_map);
            return Ok(());
        };
        let base = self.occ.len();
        for x in Fields::new(b) {
            let (n, v) = match x {
                Ok(x) => x,
                Err(e) => {
                    self.occ.truncate(base);
                    return Err(wire_err(m, e));
                }
            };
            if n == f.n {
                self.occ.push((0, n, v));
            }
        }
        let end = self.occ.len();
        let r = if end == base {
            self.empty_collection(is_map);
            Ok(())
        } else {
            self.field_body(m, f, base, end, depth)
        };
        self.occ.truncate(base);
        r
    }

    /// The fields of struct `m` into the open object (`fresh`: nothing
    /// written into it yet). `shadow`: the parent whose direct fields hide
    /// same-named inline ones. A sink that sorts keys gets them sorted when
    /// the message's object holds its own fields alone, and is told so
    /// when nothing else is in the object. `extra`: members that are no
    /// field, placed among the fields in key order (only with a sink that
    /// sorts keys; sorted by position).
    fn fields_of(
        &mut self,
        m: &'static Message,
        b: &'a [u8],
        depth: usize,
        shadow: Option<&'static Message>,
        fresh: bool,
        extra: &[Member<'_>],
    ) -> Result<(), KubeError> {
        let order = if S::SORTED_KEYS && shadow.is_none() {
            m.key_order()
        } else {
            None
        };
        #[cfg(test)]
        let sparse_off = tests::FULL_PATH_ONLY.get();
        #[cfg(not(test))]
        let sparse_off = false;
        // Not for the top object's metadata, whose `resourceVersion` shows
        // the store's revision.
        let top_meta = depth == 1 && self.rv.is_some() && m.name == super::OBJECT_META;
        if !sparse_off && shadow.is_none() && extra.is_empty() && !top_meta {
            let plan = m.sparse[usize::from(order.is_some())]
                .get_or_init(|| sparse_plan(m, order.map(|o| &o.fields[..])));
            if let Some(shows) = *plan {
                if self.fields_sparse(m, order, shows, b, depth, fresh)? {
                    return Ok(());
                }
            }
        }
        let base = self.occ.len();
        push_in_order(m, order.map_or(m.by_num(), |o| &o.by_num), b, &mut self.occ)?;
        let end = self.occ.len();
        // Unknown fields (keyed by number) go last, out of key order.
        if order.is_some() && fresh && self.occ[base..end].last().is_none_or(|o| o.0 != u16::MAX) {
            self.sink.members_sorted();
        }
        let r = self.fields_in_order(
            m,
            order.map(|o| &o.fields[..]),
            (base, end),
            depth,
            shadow,
            extra,
        );
        self.occ.truncate(base);
        r
    }

    /// The fields of struct `m` (at most 64) visiting only the positions
    /// present on the wire or showing something when absent (`shows`,
    /// [`sparse_plan`]), with no sort: each position's occurrences are
    /// noted as one range of the occurrence stack as the wire is read.
    /// Returns `false`, having written nothing, when the message is the
    /// full path's: an unknown field, or a repeated field whose
    /// occurrences are not together. Same members, same order, same
    /// rules as [`Self::fields_in_order`].
    fn fields_sparse(
        &mut self,
        m: &'static Message,
        order: Option<&'static super::schema::KeyOrder>,
        shows: u64,
        b: &'a [u8],
        depth: usize,
        fresh: bool,
    ) -> Result<bool, KubeError> {
        let by_num = order.map_or(m.by_num(), |o| &o.by_num[..]);
        let count = order.map_or(m.fields.len(), |o| o.fields.len());
        let field_at = |p: usize| match order {
            Some(o) => &m.fields[usize::from(o.fields[p])],
            None => &m.fields[p],
        };
        let base = self.occ.len();
        // Position → (first occurrence << 32 | end), written when the
        // position's bit in `present` is set and read only then: left
        // uninitialised, as zeroing 512 bytes per message cost more than
        // the rest of this path's set-up.
        let mut slots = [MaybeUninit::<u64>::uninit(); 64];
        let mut present = 0u64;
        let mut pos = 0;
        let mut ok = true;
        while pos < b.len() {
            let (n, v) = match crate::wire::next_field(b, &mut pos) {
                Ok(x) => x,
                Err(e) => {
                    self.occ.truncate(base);
                    return Err(wire_err(m, e));
                }
            };
            let p = usize::from(by_num.get(n as usize).copied().unwrap_or(u16::MAX));
            if p >= count {
                ok = false;
                break;
            }
            let k = self.occ.len() as u64;
            self.occ.push((p as u16, n, v));
            let bit = 1u64 << p;
            let slot = &mut slots[p];
            if present & bit == 0 {
                present |= bit;
                slot.write(k << 32 | (k + 1));
                continue;
            }
            // SAFETY: `p`'s bit in `present` is set, so `slot` was written.
            let run = unsafe { slot.assume_init_mut() };
            if *run & 0xffff_ffff == k {
                *run += 1;
            } else {
                let f = field_at(p);
                if f.repeated || f.is_map() {
                    ok = false;
                    break;
                }
                // A single field again, apart: the last one counts.
                *run = k << 32 | (k + 1);
            }
        }
        if !ok {
            self.occ.truncate(base);
            return Ok(false);
        }
        if order.is_some() && fresh {
            self.sink.members_sorted();
        }
        let mut todo = present | shows;
        let mut r = Ok(true);
        while todo != 0 {
            let p = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let f = field_at(p);
            let (s, e) = if present & (1 << p) != 0 {
                if f.hidden {
                    continue;
                }
                // SAFETY: `p`'s bit in `present` is set, so `slots[p]`
                // was written.
                let slot = unsafe { slots[p].assume_init() };
                let (s, e) = ((slot >> 32) as usize, (slot & 0xffff_ffff) as usize);
                // A present single scalar, [`Self::field`]'s rule inline
                // (the top object's `resourceVersion` never comes here).
                if let (true, Type::Scalar(sc)) = (f.flat_member, f.ty) {
                    let v = self.occ[e - 1].2;
                    let x = if f.omitempty && !f.pointer && wire_zero(sc, v) {
                        // Still check the wire type so hostile input errors.
                        if v.wire_type() == sc.wire_type() {
                            continue;
                        }
                        sc.wire_type()
                    } else {
                        self.sink.field_key(f);
                        match self.scalar(sc, v) {
                            Ok(()) => continue,
                            Err(x) => x,
                        }
                    };
                    r = Err(type_err(m, f.n, x, v).within(f.json));
                    break;
                }
                (s, e)
            } else {
                (base, base)
            };
            if let Err(x) = self.field(m, f, s, e, depth) {
                r = Err(x.within(if f.json.is_empty() { f.name } else { f.json }));
                break;
            }
        }
        self.occ.truncate(base);
        r
    }

    /// `order`: position → field index ([`super::schema::KeyOrder`]), or
    /// the schema's order when `None`. `(base, end)`: the occurrences.
    fn fields_in_order(
        &mut self,
        m: &'static Message,
        order: Option<&[u16]>,
        (base, end): (usize, usize),
        depth: usize,
        shadow: Option<&'static Message>,
        mut extra: &[Member<'_>],
    ) -> Result<(), KubeError> {
        let mut i = base;
        let count = order.map_or(m.fields.len(), <[u16]>::len);
        for pos in 0..count {
            while let Some((&(at, k, v), rest)) = extra.split_first() {
                if at as usize > pos {
                    break;
                }
                self.sink.key(k);
                self.sink.str(v);
                extra = rest;
            }
            let f = match order {
                Some(o) => &m.fields[o[pos] as usize],
                None => &m.fields[pos],
            };
            let s = i;
            while i < end && self.occ[i].0 as usize == pos {
                i += 1;
            }
            if s == i {
                if self.absent_is_omitted(m, f, depth) {
                    continue;
                }
            } else if f.hidden {
                continue;
            }
            if let Some(p) = shadow {
                if !f.inline
                    && p.fields
                        .iter()
                        .any(|g| !g.inline && !g.retired && g.json == f.json)
                {
                    continue;
                }
            }
            self.field(m, f, s, i, depth)
                .map_err(|e| e.within(if f.json.is_empty() { f.name } else { f.json }))?;
        }
        for &(_, k, v) in extra {
            self.sink.key(k);
            self.sink.str(v);
        }
        // Unknown field numbers, never dropped, by number; repeats become arrays.
        self.occ[i..end].sort_by_key(|o| o.1);
        while i < end {
            let n = self.occ[i].1;
            let mut j = i + 1;
            while j < end && self.occ[j].1 == n {
                j += 1;
            }
            self.sink.key(&n.to_string());
            if j - i == 1 {
                let v = self.occ[i].2;
                self.generic_value(v, depth + 1);
            } else {
                self.sink.begin_array();
                for k in i..j {
                    let v = self.occ[k].2;
                    self.generic_value(v, depth + 1);
                }
                self.sink.end_array();
            }
            i = j;
        }
        Ok(())
    }

    /// Whether [`Self::field`] shows nothing for `f` when it is absent from
    /// the wire: a shortcut for the many absent `omitempty` fields of large
    /// structs, mirroring `field`'s rules (which stay the reference).
    #[inline]
    fn absent_is_omitted(&self, m: &'static Message, f: &'static Field, depth: usize) -> bool {
        // The top object's resourceVersion shows the store's revision.
        if depth == 1
            && self.rv.is_some()
            && matches!(f.ty, Type::Scalar(_))
            && !f.repeated
            && !f.is_map()
            && is_rv_field(m, f)
        {
            return false;
        }
        absent_omitted(f)
    }

    /// One field (key and value) unless Go would omit it.
    fn field(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        s: usize,
        e: usize,
        depth: usize,
    ) -> Result<(), KubeError> {
        let absent = s == e;
        if f.inline {
            let Some(im) = f.message() else { return Ok(()) };
            if absent && f.pointer {
                return Ok(());
            }
            let b = if absent {
                &[][..]
            } else {
                len_of(m, f.n, self.occ[e - 1].2)?
            };
            if im.special.is_some() || im.go != GoKind::Struct {
                return Ok(());
            }
            return self.fields_of(im, b, depth + 1, Some(m), false, &[]);
        }
        if f.is_map() || f.repeated {
            if absent {
                if !f.omitempty {
                    self.sink.field_key(f);
                    self.sink.null();
                }
                return Ok(());
            }
            self.sink.field_key(f);
            return self.field_body(m, f, s, e, depth);
        }
        match f.ty {
            Type::Scalar(_) if depth == 1 && self.rv.is_some() && is_rv_field(m, f) => {
                let rv = self.rv.unwrap_or_default().to_string();
                self.sink.field_key(f);
                self.sink.str(&rv);
                Ok(())
            }
            Type::Scalar(sc) => {
                if absent {
                    if f.pointer || sc == Scalar::Bytes {
                        if !f.omitempty {
                            self.sink.field_key(f);
                            self.sink.null();
                        }
                    } else if !f.omitempty {
                        self.sink.field_key(f);
                        self.zero_scalar(sc);
                    }
                    return Ok(());
                }
                let v = self.occ[e - 1].2;
                if f.omitempty && !f.pointer && wire_zero(sc, v) {
                    // Still check the wire type so hostile input errors.
                    if v.wire_type() != sc.wire_type() {
                        return Err(type_err(m, f.n, sc.wire_type(), v));
                    }
                    return Ok(());
                }
                self.sink.field_key(f);
                self.scalar(sc, v).map_err(|x| type_err(m, f.n, x, v))
            }
            Type::Message(_) => {
                let Some(mm) = f.message() else {
                    self.sink.field_key(f);
                    if absent {
                        self.sink.null();
                    } else {
                        let v = self.occ[e - 1].2;
                        self.generic_value(v, depth + 1);
                    }
                    return Ok(());
                };
                let b = if absent {
                    if f.pointer {
                        if !f.omitempty {
                            self.sink.field_key(f);
                            self.sink.null();
                        }
                        return Ok(());
                    }
                    None
                } else {
                    Some(len_of(m, f.n, self.occ[e - 1].2)?)
                };
                self.message_member(f, mm, b, depth)
            }
        }
    }

    /// A field of message type `mm` (`b`: its bytes, `None` when absent
    /// and not a pointer), key and value, unless Go would omit it.
    fn message_member(
        &mut self,
        f: &'static Field,
        mm: &'static Message,
        b: Option<&'a [u8]>,
        depth: usize,
    ) -> Result<(), KubeError> {
        if !f.pointer && f.omitzero && is_zero_struct(mm, b) {
            return Ok(());
        }
        if f.omitempty && !f.pointer && is_collection(mm) && collection_empty(b) {
            return Ok(());
        }
        self.sink.field_key(f);
        self.msg(mm, b, depth + 1)
    }

    /// The value of a repeated or map field (occurrences non-empty).
    fn field_body(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        s: usize,
        e: usize,
        depth: usize,
    ) -> Result<(), KubeError> {
        if let Some(kt) = f.map_key {
            return self.map_body(m, f, kt, s, e, depth);
        }
        self.sink.begin_array();
        match f.ty {
            Type::Scalar(sc) => {
                for k in s..e {
                    let v = self.occ[k].2;
                    self.repeated_scalar(m, f.n, sc, v)?;
                }
            }
            Type::Message(_) => {
                let mm = f.message();
                for k in s..e {
                    let b = len_of(m, f.n, self.occ[k].2)?;
                    match mm {
                        Some(mm) => self
                            .msg(mm, Some(b), depth + 1)
                            .map_err(|x| x.within(&format!("[{}]", k - s)))?,
                        None => self.generic_bytes(b, depth + 1),
                    }
                }
            }
        }
        self.sink.end_array();
        Ok(())
    }

    fn repeated_scalar(
        &mut self,
        m: &'static Message,
        n: u32,
        sc: Scalar,
        v: W<'a>,
    ) -> Result<(), KubeError> {
        match (sc.wire_type(), v) {
            (0, W::Bytes(b)) => {
                let mut p = 0;
                while p < b.len() {
                    let x = read_varint(b, &mut p).map_err(|e| wire_err(m, e))?;
                    self.scalar(sc, W::Varint(x))
                        .map_err(|x| type_err(m, n, x, v))?;
                }
            }
            (1, W::Bytes(b)) => {
                if b.len() % 8 != 0 {
                    return Err(type_err(m, n, 1, v));
                }
                for c in b.chunks_exact(8) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    self.scalar(sc, W::Fixed64(u64::from_le_bytes(a)))
                        .map_err(|x| type_err(m, n, x, v))?;
                }
            }
            (5, W::Bytes(b)) => {
                if b.len() % 4 != 0 {
                    return Err(type_err(m, n, 5, v));
                }
                for c in b.chunks_exact(4) {
                    self.scalar(sc, W::Fixed32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                        .map_err(|x| type_err(m, n, x, v))?;
                }
            }
            _ => {
                if v.wire_type() != sc.wire_type() {
                    return Err(type_err(m, n, sc.wire_type(), v));
                }
                self.scalar(sc, v).map_err(|x| type_err(m, n, x, v))?;
            }
        }
        Ok(())
    }

    /// A map field: entries sorted by key text, the last duplicate wins.
    fn map_body(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        kt: Scalar,
        s: usize,
        e: usize,
        depth: usize,
    ) -> Result<(), KubeError> {
        let base = self.entries.len();
        let r = self.collect_entries(m, f, kt, s, e);
        if let Err(e) = r {
            self.entries.truncate(base);
            return Err(e);
        }
        let end = self.entries.len();
        // Go marshals a map sorted by key: then no sort and no duplicate.
        let ascending = self.entries[base..end].windows(2).all(|w| w[0].0 < w[1].0);
        if !ascending {
            self.entries[base..end].sort_by(|a, b| a.0.cmp(&b.0));
        }
        self.sink.begin_object();
        let mut r = Ok(());
        for i in base..end {
            // Duplicate keys: the last one wins.
            if !ascending && i + 1 < end && self.entries[i + 1].0 == self.entries[i].0 {
                continue;
            }
            let val = self.entries[i].1;
            let kb = std::mem::take(&mut self.entries[i].0);
            self.sink.key_bytes(&kb);
            r = match f.ty {
                Type::Scalar(sc) => match val {
                    Some(v) => self.scalar(sc, v).map_err(|x| type_err(m, f.n, x, v)),
                    None => {
                        self.zero_scalar(sc);
                        Ok(())
                    }
                },
                Type::Message(_) => {
                    let vb = match val {
                        Some(v) => len_of(m, f.n, v).map(Some),
                        None => Ok(None),
                    };
                    match (vb, f.message()) {
                        (Err(e), _) => Err(e),
                        (Ok(vb), Some(mm)) => self.msg(mm, Some(vb.unwrap_or(&[])), depth + 1),
                        (Ok(vb), None) => {
                            self.generic_bytes(vb.unwrap_or(&[]), depth + 1);
                            Ok(())
                        }
                    }
                }
            };
            if r.is_err() {
                let k = String::from_utf8_lossy(&kb).into_owned();
                r = r.map_err(|e| e.within(&format!("[{k}]")));
                break;
            }
        }
        self.entries.truncate(base);
        r?;
        self.sink.end_object();
        Ok(())
    }

    fn collect_entries(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        kt: Scalar,
        s: usize,
        e: usize,
    ) -> Result<(), KubeError> {
        for k in s..e {
            let b = len_of(m, f.n, self.occ[k].2)?;
            let (mut key, mut val): (Option<W<'a>>, Option<W<'a>>) = (None, None);
            for x in Fields::new(b) {
                match x.map_err(|e| wire_err(m, e))? {
                    (1, v) => key = Some(v),
                    (2, v) => val = Some(v),
                    _ => {}
                }
            }
            let kb: Cow<'a, [u8]> = match (kt, key) {
                (Scalar::String | Scalar::Bytes, None) => Cow::Borrowed(&[]),
                (Scalar::Bool, None) => Cow::Borrowed(b"false"),
                (_, None) => Cow::Borrowed(b"0"),
                (Scalar::String | Scalar::Bytes, Some(W::Bytes(b))) => Cow::Borrowed(b),
                (Scalar::String | Scalar::Bytes, Some(v)) => {
                    return Err(type_err(m, f.n, 2, v));
                }
                (_, Some(v)) => Cow::Owned(
                    key_text(kt, v)
                        .ok_or_else(|| type_err(m, f.n, kt.wire_type(), v))?
                        .into_bytes(),
                ),
            };
            self.entries.push((kb, val));
        }
        Ok(())
    }

    fn special(
        &mut self,
        m: &'static Message,
        sp: Special,
        b: Option<&'a [u8]>,
        depth: usize,
    ) -> Result<(), KubeError> {
        let bytes = b.unwrap_or(&[]);
        match sp {
            Special::Rfc3339 | Special::Rfc3339Micro => {
                if bytes.is_empty() {
                    self.sink.null();
                    return Ok(());
                }
                let (s, ns) = read_time(bytes).map_err(|e| wire_err(m, e))?;
                if s == GO_ZERO_SECONDS && ns == 0 {
                    self.sink.null();
                    return Ok(());
                }
                let micros = (sp == Special::Rfc3339Micro).then_some((ns.max(0) / 1000) as u32);
                self.sink.time(s, micros);
            }
            Special::GoDuration => {
                let p = special_parts(m, bytes)?;
                let d = match p[1] {
                    Some(W::Varint(x)) => x as i64,
                    Some(v) => return Err(type_err(m, 1, 0, v)),
                    None => 0,
                };
                self.sink.str(&go_duration(d));
            }
            Special::Quantity => {
                let p = special_parts(m, bytes)?;
                match p[1] {
                    Some(W::Bytes(s)) => self.sink.str_bytes(s),
                    Some(v) => return Err(type_err(m, 1, 2, v)),
                    None => self.sink.str("0"),
                }
            }
            Special::IntOrString => {
                let p = special_parts(m, bytes)?;
                let ty = match p[1] {
                    Some(W::Varint(x)) => x,
                    Some(v) => return Err(type_err(m, 1, 0, v)),
                    None => 0,
                };
                if ty == 1 {
                    match p[3] {
                        Some(W::Bytes(s)) => self.sink.str_bytes(s),
                        Some(v) => return Err(type_err(m, 3, 2, v)),
                        None => self.sink.str(""),
                    }
                } else {
                    match p[2] {
                        Some(W::Varint(x)) => self.sink.i64(i64::from(x as i64 as i32)),
                        Some(v) => return Err(type_err(m, 2, 0, v)),
                        None => self.sink.i64(0),
                    }
                }
            }
            Special::RawJson => match raw_json_field(m, bytes)? {
                Some(r) if !r.is_empty() => self.raw_bytes_json(r),
                _ => self.sink.null(),
            },
            Special::FieldsMap => {
                let base = self.occ.len();
                for x in Fields::new(bytes) {
                    let (n, v) = match x {
                        Ok(x) => x,
                        Err(e) => {
                            self.occ.truncate(base);
                            return Err(wire_err(m, e));
                        }
                    };
                    if n == 1 {
                        self.occ.push((0, n, v));
                    }
                }
                let end = self.occ.len();
                let r = match m.fields.first() {
                    Some(f) if end > base => self.field_body(m, f, base, end, depth),
                    _ => {
                        self.sink.null();
                        Ok(())
                    }
                };
                self.occ.truncate(base);
                r?;
            }
            Special::BoolOrSchema | Special::SchemaOrArray | Special::SchemaOrStringArray => {
                let mut one: Option<W<'a>> = None;
                let mut two: Option<W<'a>> = None;
                let mut list = 0usize;
                for x in Fields::new(bytes) {
                    let (n, v) = x.map_err(|e| wire_err(m, e))?;
                    match n {
                        1 => one = Some(v),
                        2 => {
                            two = Some(v);
                            list += 1;
                        }
                        _ => {}
                    }
                }
                let sub = |n: u32| m.field(n).and_then(|f| f.message());
                if sp == Special::BoolOrSchema {
                    if let Some(v) = two {
                        return self.sub_schema(m, sub(2), 2, v, depth);
                    }
                    match one {
                        Some(W::Varint(x)) => self.sink.bool(x != 0),
                        Some(v) => return Err(type_err(m, 1, 0, v)),
                        None => self.sink.bool(false),
                    }
                    return Ok(());
                }
                if list > 0 {
                    self.sink.begin_array();
                    for x in Fields::new(bytes) {
                        let (n, v) = x.map_err(|e| wire_err(m, e))?;
                        if n != 2 {
                            continue;
                        }
                        if sp == Special::SchemaOrArray {
                            let b = len_of(m, 2, v)?;
                            match sub(2) {
                                Some(im) => self.msg(im, Some(b), depth + 1)?,
                                None => self.generic_bytes(b, depth + 1),
                            }
                        } else {
                            self.scalar(Scalar::String, v)
                                .map_err(|x| type_err(m, 2, x, v))?;
                        }
                    }
                    self.sink.end_array();
                    return Ok(());
                }
                match one {
                    Some(v) => return self.sub_schema(m, sub(1), 1, v, depth),
                    None => self.sink.null(),
                }
            }
            Special::Array | Special::Map => match b {
                None => self.sink.null(),
                Some(b) => return self.wrapper(m, b, sp == Special::Map, depth),
            },
        }
        Ok(())
    }

    fn sub_schema(
        &mut self,
        m: &'static Message,
        sm: Option<&'static Message>,
        n: u32,
        v: W<'a>,
        depth: usize,
    ) -> Result<(), KubeError> {
        let b = len_of(m, n, v)?;
        match sm {
            Some(sm) => self.msg(sm, Some(b), depth + 1),
            None => {
                self.generic_bytes(b, depth + 1);
                Ok(())
            }
        }
    }

    // ---- generic (unknown) data ------------------------------------------

    fn generic_value(&mut self, v: W<'_>, depth: usize) {
        match v {
            W::Varint(x) | W::Fixed64(x) => self.sink.u64(x),
            W::Fixed32(x) => self.sink.u64(u64::from(x)),
            W::Bytes(b) => self.generic_bytes(b, depth),
        }
    }

    /// Bytes of unknown meaning: text if printable, else a nested message if
    /// they parse as one, else base64.
    fn generic_bytes(&mut self, b: &[u8], depth: usize) {
        if let Ok(s) = std::str::from_utf8(b) {
            if printable(s) {
                self.sink.str(s);
                return;
            }
        }
        if depth <= MAX_DEPTH && !b.is_empty() && generic_ok(b) {
            self.sink.begin_object();
            self.generic_fields(b, depth);
            self.sink.end_object();
            return;
        }
        self.sink.base64(b);
    }

    /// Fields of an unknown message (already checked to parse) by number;
    /// repeats become arrays.
    fn generic_fields(&mut self, b: &[u8], depth: usize) {
        let mut all: Vec<(u32, W<'_>)> = Fields::new(b).filter_map(Result::ok).collect();
        all.sort_by_key(|x| x.0);
        let mut i = 0;
        while i < all.len() {
            let n = all[i].0;
            let mut j = i + 1;
            while j < all.len() && all[j].0 == n {
                j += 1;
            }
            self.sink.key(&n.to_string());
            if j - i == 1 {
                self.generic_value(all[i].1, depth + 1);
            } else {
                self.sink.begin_array();
                for x in &all[i..j] {
                    self.generic_value(x.1, depth + 1);
                }
                self.sink.end_array();
            }
            i = j;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        /// Set by tests to take the full path where the flat or the
        /// sparse one applies, so they can be compared on the same input.
        pub(crate) static FULL_PATH_ONLY: Cell<bool> = const { Cell::new(false) };
    }
}
