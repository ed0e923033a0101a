//! Streaming JSON output: stored values → JSON text as the apiserver would
//! serve it, without building a `serde_json::Value` (no per-key allocation,
//! no hashing). This is the fast path for bulk output; [`super::proto`]
//! builds the same document as a `Value`.
//!
//! Formatting matches `serde_json::to_string_pretty` (two-space indent,
//! `"key": value`, `{}`/`[]` when empty) or compact output; strings are
//! escaped like Go's encoding/json (`<`, `>`, `&`, U+2028/9 as `\uXXXX`,
//! invalid UTF-8 as U+FFFD) when [`Style::go_escape`] is set.

use base64::Engine as _;
use serde_json::Value as J;

use super::proto::{
    is_zero_struct, len_of, parse_envelope, printable, read_time, special_parts, type_err,
    wire_err, zigzag, MAX_DEPTH,
};
use super::schema::{schema, Field, GoKind, Message, Scalar, Special, Type};
use super::timefmt::{go_duration, GO_ZERO_SECONDS};
use super::value::{detect, Encoding};
use super::{cbor, KubeError};
use crate::wire::{read_varint, Fields, Value as W, WireError};

/// Output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Two-space indented (like `kubectl get -o json`), else compact.
    pub pretty: bool,
    /// Escape `<`, `>`, `&`, U+2028 and U+2029 as Go's encoding/json does.
    pub go_escape: bool,
}

impl Style {
    pub const PRETTY: Style = Style {
        pretty: true,
        go_escape: true,
    };
    pub const COMPACT: Style = Style {
        pretty: false,
        go_escape: true,
    };
}

/// How many bytes of (compact) JSON one stored value may decode to: ten
/// times its size, at least 1 MiB. Real objects stay far below (strings
/// render at most 6x, with `\u00XX` escapes); a protobuf value of many
/// empty messages, each rendered with its defaults, does not.
pub const EXPANSION_FACTOR: usize = 10;
pub const EXPANSION_FLOOR: usize = 1 << 20;

pub fn expansion_limit(stored: usize) -> usize {
    stored.saturating_mul(EXPANSION_FACTOR).max(EXPANSION_FLOOR)
}

/// Checks that a protobuf value stays within [`expansion_limit`] without
/// keeping its rendering (at most the limit is held meanwhile). Values too
/// small to exceed it are not rendered.
pub fn check_expansion(value: &[u8]) -> Result<(), KubeError> {
    if value.len().saturating_mul(30) <= EXPANSION_FLOOR {
        return Ok(());
    }
    let mut scratch = Vec::new();
    write_protobuf_rv(value, None, None, &mut scratch, Style::COMPACT)
}

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
    match detect(value) {
        Encoding::Protobuf => write_protobuf_rv(value, None, resource_version, out, style),
        _ if resource_version.is_some() => {
            let mut v = super::decode_value(b"", value)?;
            if let Some(rv) = resource_version {
                super::set_resource_version(&mut v, rv);
            }
            Writer::new(out, style).value(&v);
            Ok(())
        }
        Encoding::Json => {
            if !is_json(value) {
                let e = serde_json::from_slice::<J>(value).err();
                return Err(KubeError::Json(
                    e.map(|e| e.to_string()).unwrap_or_default(),
                ));
            }
            let mut w = Writer::new(out, style);
            w.raw_json(value.trim_ascii());
            Ok(())
        }
        _ => {
            let v = super::decode_value(b"", value)?;
            Writer::new(out, style).value(&v);
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
    write_protobuf_rv(value, hint, None, out, style)
}

fn write_protobuf_rv(
    value: &[u8],
    hint: Option<(&str, &str)>,
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), KubeError> {
    let env = parse_envelope(value)?;
    let (av, kind) = match hint {
        Some(h) if env.kind.is_empty() => h,
        _ => (&*env.api_version, &*env.kind),
    };
    let s = schema();
    let m = s.kind(av, kind).and_then(|k| s.message(k.message));
    let mut w = Writer::new(out, style);
    w.rv = resource_version;
    w.limit = Some((w.out.len(), value.len()));
    let mut st = w.obj_begin();
    if m.is_none_or(|m| m.typemeta) {
        if !env.kind.is_empty() {
            w.key(&mut st, "kind");
            w.string(env.kind.as_bytes());
        }
        if !env.api_version.is_empty() {
            w.key(&mut st, "apiVersion");
            w.string(env.api_version.as_bytes());
        }
    }
    match m {
        Some(m) => w.struct_fields(m, env.raw, 0, &mut st, None)?,
        None => {
            if !generic_ok(env.raw) {
                return Err(KubeError::Wire {
                    message: "(unknown kind)",
                    path: String::new(),
                    source: first_wire_error(env.raw),
                });
            }
            w.generic_fields(env.raw, 0, &mut st);
        }
    }
    w.obj_end(st);
    Ok(())
}

/// Appends the JSON of one message (no envelope) by full proto name.
pub fn write_message(
    message: &str,
    b: &[u8],
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), KubeError> {
    let m = schema().message(message).ok_or_else(|| KubeError::Encode {
        message: "(schema)",
        path: String::new(),
        what: format!("unknown message {message}"),
    })?;
    Writer::new(out, style).msg(m, Some(b), 0)
}

/// Appends a `serde_json::Value` in the given style.
pub fn write_json_value(v: &J, out: &mut Vec<u8>, style: Style) {
    Writer::new(out, style).value(v);
}

/// Valid UTF-8 JSON (serde's IgnoredAny skips strings without a UTF-8 check).
fn is_json(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok() && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

fn first_wire_error(b: &[u8]) -> WireError {
    Fields::new(b)
        .find_map(Result::err)
        .unwrap_or(WireError::TruncatedVarint(0))
}

fn generic_ok(b: &[u8]) -> bool {
    Fields::new(b).all(|f| f.is_ok())
}

/// Object/array state: whether nothing has been written into it yet.
struct Open {
    first: bool,
}

/// An occurrence of a field on the wire: (field index, number, value).
type Occ<'a> = (u16, u32, W<'a>);

struct Writer<'o, 'a> {
    out: &'o mut Vec<u8>,
    style: Style,
    indent: usize,
    /// `metadata.resourceVersion` to show for the top-level object.
    rv: Option<i64>,
    occ: Vec<Occ<'a>>,
    entries: Vec<(&'a [u8], Option<W<'a>>)>,
    /// (where the value's JSON starts in `out`, stored size): the
    /// expansion limit is checked at every message.
    limit: Option<(usize, usize)>,
    /// Bytes of pretty-printing (newlines and indents) written, which the
    /// limit does not count.
    pad: usize,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that end a plain run: `"`, `\\`, controls, non-ASCII (for the
/// UTF-8 check and U+2028/9); with Go escaping also `<`, `>`, `&`.
const fn esc_table(go: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        if i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize {
            t[i] = 1;
        }
        if go && (i == b'<' as usize || i == b'>' as usize || i == b'&' as usize) {
            t[i] = 1;
        }
        i += 1;
    }
    t
}
static ESC: [u8; 256] = esc_table(false);
static ESC_GO: [u8; 256] = esc_table(true);

impl<'o, 'a> Writer<'o, 'a> {
    fn new(out: &'o mut Vec<u8>, style: Style) -> Self {
        Writer {
            out,
            style,
            indent: 0,
            rv: None,
            occ: Vec::new(),
            entries: Vec::new(),
            limit: None,
            pad: 0,
        }
    }

    /// Errors once the value's JSON (without pretty-printing) exceeds its
    /// expansion limit.
    #[inline]
    fn check_limit(&self) -> Result<(), KubeError> {
        if let Some((start, stored)) = self.limit {
            let limit = expansion_limit(stored);
            if self.out.len().saturating_sub(start + self.pad) > limit {
                return Err(KubeError::TooLarge { stored, limit });
            }
        }
        Ok(())
    }

    // ---- JSON syntax ------------------------------------------------------

    #[inline]
    fn newline(&mut self) {
        if self.style.pretty {
            self.pad += 1 + 2 * self.indent;
            self.out.push(b'\n');
            for _ in 0..self.indent {
                self.out.extend_from_slice(b"  ");
            }
        }
    }

    fn obj_begin(&mut self) -> Open {
        self.out.push(b'{');
        self.indent += 1;
        Open { first: true }
    }

    fn obj_end(&mut self, st: Open) {
        self.obj_end_inner(st, b'}');
    }

    fn arr_begin(&mut self) -> Open {
        self.out.push(b'[');
        self.indent += 1;
        Open { first: true }
    }

    fn arr_end(&mut self, st: Open) {
        self.obj_end_inner(st, b']');
    }

    fn obj_end_inner(&mut self, st: Open, c: u8) {
        self.indent -= 1;
        if !st.first {
            self.newline();
        }
        self.out.push(c);
    }

    #[inline]
    fn elem(&mut self, st: &mut Open) {
        if !st.first {
            self.out.push(b',');
        }
        st.first = false;
        self.newline();
    }

    #[inline]
    fn key(&mut self, st: &mut Open, k: &str) {
        self.elem(st);
        self.string(k.as_bytes());
        self.out
            .extend_from_slice(if self.style.pretty { b": " } else { b":" });
    }

    fn key_bytes(&mut self, st: &mut Open, k: &[u8]) {
        self.elem(st);
        self.string(k);
        self.out
            .extend_from_slice(if self.style.pretty { b": " } else { b":" });
    }

    fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    fn bool(&mut self, b: bool) {
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }

    fn u64(&mut self, mut v: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    fn i64(&mut self, v: i64) {
        if v < 0 {
            self.out.push(b'-');
        }
        self.u64(v.unsigned_abs());
    }

    fn f64(&mut self, f: f64) {
        if !f.is_finite() {
            self.null();
        } else if f.fract() == 0.0 && f.abs() < 1e15 {
            self.i64(f as i64);
        } else {
            let _ = serde_json::to_writer(&mut *self.out, &f);
        }
    }

    /// A JSON string from bytes (invalid UTF-8 → U+FFFD, like Go).
    #[inline]
    fn string(&mut self, b: &[u8]) {
        self.out.reserve(b.len() + 2);
        self.out.push(b'"');
        self.str_body(b, false);
        self.out.push(b'"');
    }

    fn str_valid(&mut self, s: &str) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        self.str_body(s.as_bytes(), true);
        self.out.push(b'"');
    }

    /// A key known to need no escaping (schema JSON names).
    #[inline]
    fn plain_key(&mut self, st: &mut Open, k: &str) {
        self.elem(st);
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out
            .extend_from_slice(if self.style.pretty { b"\": " } else { b"\":" });
    }

    /// String contents, escaped. ASCII without specials is copied in runs;
    /// the first non-ASCII byte triggers one UTF-8 check of the rest.
    fn str_body(&mut self, b: &[u8], mut checked: bool) {
        let tbl = if self.style.go_escape { &ESC_GO } else { &ESC };
        let mut start = 0;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if tbl[c as usize] == 0 {
                i += 1;
                continue;
            }
            if c >= 0x80 {
                if !checked {
                    if std::str::from_utf8(&b[i..]).is_err() {
                        self.out.extend_from_slice(&b[start..i]);
                        let fixed = String::from_utf8_lossy(&b[i..]);
                        self.str_body(fixed.as_bytes(), true);
                        return;
                    }
                    checked = true;
                }
                // Spelled out here rather than through
                // `proto::line_separator_escape`: this is the hottest loop,
                // and the call cost 7% more instructions (callgrind).
                if c == 0xe2
                    && self.style.go_escape
                    && b.get(i + 1) == Some(&0x80)
                    && matches!(b.get(i + 2), Some(0xa8 | 0xa9))
                {
                    self.out.extend_from_slice(&b[start..i]);
                    self.out.extend_from_slice(if b[i + 2] == 0xa8 {
                        b"\\u2028"
                    } else {
                        b"\\u2029"
                    });
                    i += 3;
                    start = i;
                    continue;
                }
                i += 1;
                continue;
            }
            self.out.extend_from_slice(&b[start..i]);
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b'<' => self.out.extend_from_slice(b"\\u003c"),
                b'>' => self.out.extend_from_slice(b"\\u003e"),
                b'&' => self.out.extend_from_slice(b"\\u0026"),
                _ => {
                    self.out.extend_from_slice(b"\\u00");
                    self.out.push(HEX[(c >> 4) as usize]);
                    self.out.push(HEX[(c & 15) as usize]);
                }
            }
            i += 1;
            start = i;
        }
        self.out.extend_from_slice(&b[start..]);
    }

    fn base64(&mut self, b: &[u8]) {
        self.out.push(b'"');
        let start = self.out.len();
        let n = b.len().div_ceil(3) * 4;
        self.out.resize(start + n, 0);
        let _ = base64::engine::general_purpose::STANDARD.encode_slice(b, &mut self.out[start..]);
        self.out.push(b'"');
    }

    /// A serde_json value (CBOR, YAML, parsed JSON).
    fn value(&mut self, v: &J) {
        match v {
            J::Null => self.null(),
            J::Bool(b) => self.bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    self.i64(i)
                } else if let Some(u) = n.as_u64() {
                    self.u64(u)
                } else {
                    let _ = serde_json::to_writer(&mut *self.out, n);
                }
            }
            J::String(s) => self.str_valid(s),
            J::Array(a) => {
                let mut st = self.arr_begin();
                for x in a {
                    self.elem(&mut st);
                    self.value(x);
                }
                self.arr_end(st);
            }
            J::Object(o) => {
                let mut st = self.obj_begin();
                for (k, x) in o {
                    self.key(&mut st, k);
                    self.value(x);
                }
                self.obj_end(st);
            }
        }
    }

    /// Re-emits already validated JSON text in this writer's style, keeping
    /// string contents and number literals as written (Go's json.Indent).
    fn raw_json(&mut self, b: &[u8]) {
        let mut stack: Vec<Open> = Vec::new();
        let mut i = 0;
        // Whether the next token is a value following a ':' (no newline).
        let mut after_colon = false;
        while i < b.len() {
            let c = b[i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                b',' | b':' => {
                    if c == b':' {
                        self.out
                            .extend_from_slice(if self.style.pretty { b": " } else { b":" });
                        after_colon = true;
                    }
                    i += 1;
                    continue;
                }
                b'}' | b']' => {
                    if let Some(st) = stack.pop() {
                        self.obj_end_inner(st, c);
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // A value or a key starts here.
            if !after_colon {
                if let Some(st) = stack.last_mut() {
                    let first = st.first;
                    st.first = false;
                    if !first {
                        self.out.push(b',');
                    }
                    self.newline();
                }
            }
            after_colon = false;
            match c {
                b'{' | b'[' => {
                    self.out.push(c);
                    self.indent += 1;
                    stack.push(Open { first: true });
                    i += 1;
                }
                b'"' => {
                    let st = i;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i = (i + 1).min(b.len());
                    self.raw_string(&b[st..i]);
                }
                _ => {
                    let st = i;
                    while i < b.len() && !b" \t\n\r,:]}".contains(&b[i]) {
                        i += 1;
                    }
                    self.out.extend_from_slice(&b[st..i]);
                }
            }
        }
    }

    /// A string token copied as written, with Go's HTML escaping applied.
    fn raw_string(&mut self, tok: &[u8]) {
        if !self.style.go_escape {
            self.out.extend_from_slice(tok);
            return;
        }
        let mut start = 0;
        let mut i = 0;
        while i < tok.len() {
            let rep: Option<&[u8]> = match tok[i] {
                b'<' => Some(b"\\u003c"),
                b'>' => Some(b"\\u003e"),
                b'&' => Some(b"\\u0026"),
                0xe2 if super::proto::line_separator_escape(tok, i).is_some() => {
                    self.out.extend_from_slice(&tok[start..i]);
                    self.out.extend_from_slice(
                        super::proto::line_separator_escape(tok, i).unwrap_or_default(),
                    );
                    i += 3;
                    start = i;
                    continue;
                }
                _ => None,
            };
            if let Some(r) = rep {
                self.out.extend_from_slice(&tok[start..i]);
                self.out.extend_from_slice(r);
                start = i + 1;
            }
            i += 1;
        }
        self.out.extend_from_slice(&tok[start..]);
    }

    /// Raw bytes holding JSON or CBOR; anything else as a string.
    fn raw_bytes_json(&mut self, b: &[u8]) {
        if b.starts_with(&[0xd9, 0xd9, 0xf7]) {
            if let Ok(v) = cbor::decode(b) {
                self.value(&v);
                return;
            }
        } else if is_json(b) {
            self.raw_json(b);
            return;
        }
        self.string(b);
    }

    // ---- protobuf → JSON ---------------------------------------------------

    fn scalar(&mut self, sc: Scalar, v: W<'_>) -> Result<(), u8> {
        match (sc, v) {
            (Scalar::String, W::Bytes(b)) => self.string(b),
            (Scalar::Bytes, W::Bytes(b)) => self.base64(b),
            (Scalar::Bool, W::Varint(x)) => self.bool(x != 0),
            (Scalar::Int32, W::Varint(x)) => self.i64(i64::from(x as i64 as i32)),
            (Scalar::Int64, W::Varint(x)) => self.i64(x as i64),
            (Scalar::Uint32, W::Varint(x)) => self.u64(u64::from(x as u32)),
            (Scalar::Uint64, W::Varint(x)) => self.u64(x),
            (Scalar::Sint32, W::Varint(x)) => self.i64(i64::from(zigzag(x) as i32)),
            (Scalar::Sint64, W::Varint(x)) => self.i64(zigzag(x)),
            (Scalar::Fixed64, W::Fixed64(x)) => self.u64(x),
            (Scalar::Sfixed64, W::Fixed64(x)) => self.i64(x as i64),
            (Scalar::Double, W::Fixed64(x)) => self.f64(f64::from_bits(x)),
            (Scalar::Fixed32, W::Fixed32(x)) => self.u64(u64::from(x)),
            (Scalar::Sfixed32, W::Fixed32(x)) => self.i64(i64::from(x as i32)),
            (Scalar::Float, W::Fixed32(x)) => self.f64(f64::from(f32::from_bits(x))),
            _ => return Err(sc.wire_type()),
        }
        Ok(())
    }

    fn zero_scalar(&mut self, sc: Scalar) {
        match sc {
            Scalar::String | Scalar::Bytes => self.out.extend_from_slice(b"\"\""),
            Scalar::Bool => self.bool(false),
            _ => self.out.push(b'0'),
        }
    }

    /// Writes a value of message type `m`; `b == None` = absent (Go zero).
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
        self.check_limit()?;
        if let Some(sp) = m.special {
            return self.special(m, sp, b, depth);
        }
        if m.go != GoKind::Struct {
            let Some(b) = b else {
                self.null();
                return Ok(());
            };
            return self.wrapper(m, b, m.go == GoKind::Map, depth);
        }
        let mut st = self.obj_begin();
        self.struct_fields(m, b.unwrap_or(&[]), depth, &mut st, None)?;
        self.obj_end(st);
        Ok(())
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
            self.out
                .extend_from_slice(if is_map { b"{}" } else { b"[]" });
            return Ok(());
        };
        let base = self.occ.len();
        for x in Fields::new(b) {
            let (n, v) = x.map_err(|e| wire_err(m, e))?;
            if n == f.n {
                self.occ.push((0, n, v));
            }
        }
        let end = self.occ.len();
        let r = if end == base {
            self.out
                .extend_from_slice(if is_map { b"{}" } else { b"[]" });
            Ok(())
        } else {
            self.field_body(m, f, base, end, depth)
        };
        self.occ.truncate(base);
        r
    }

    /// Writes the fields of struct `m` into the open object `st`.
    /// `shadow`: the parent whose direct fields hide same-named inline ones.
    fn struct_fields(
        &mut self,
        m: &'static Message,
        b: &'a [u8],
        depth: usize,
        st: &mut Open,
        shadow: Option<&'static Message>,
    ) -> Result<(), KubeError> {
        let base = self.occ.len();
        super::proto::push_in_schema_order(m, b, &mut self.occ)?;
        let end = self.occ.len();
        let r = self.fields_in_order(m, base, end, depth, st, shadow);
        self.occ.truncate(base);
        r
    }

    fn fields_in_order(
        &mut self,
        m: &'static Message,
        base: usize,
        end: usize,
        depth: usize,
        st: &mut Open,
        shadow: Option<&'static Message>,
    ) -> Result<(), KubeError> {
        let mut i = base;
        for (fi, f) in m.fields.iter().enumerate() {
            let s = i;
            while i < end && self.occ[i].0 as usize == fi {
                i += 1;
            }
            if (f.retired && s == i) || f.json == "-" {
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
            self.field(m, f, s, i, depth, st)
                .map_err(|e| e.within(if f.json.is_empty() { f.name } else { f.json }))?;
        }
        // Unknown field numbers, never dropped, by number; repeats become arrays.
        self.occ[i..end].sort_by_key(|o| o.1);
        while i < end {
            let n = self.occ[i].1;
            let mut j = i + 1;
            while j < end && self.occ[j].1 == n {
                j += 1;
            }
            self.key(st, &n.to_string());
            if j - i == 1 {
                let v = self.occ[i].2;
                self.generic_value(v, depth + 1);
            } else {
                let mut a = self.arr_begin();
                for k in i..j {
                    self.elem(&mut a);
                    let v = self.occ[k].2;
                    self.generic_value(v, depth + 1);
                }
                self.arr_end(a);
            }
            i = j;
        }
        Ok(())
    }

    /// Writes one field (key and value) unless Go would omit it.
    fn field(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        s: usize,
        e: usize,
        depth: usize,
        st: &mut Open,
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
            return self.struct_fields(im, b, depth + 1, st, Some(m));
        }
        if f.is_map() || f.repeated {
            if absent {
                if !f.omitempty {
                    self.plain_key(st, f.json);
                    self.null();
                }
                return Ok(());
            }
            self.plain_key(st, f.json);
            return self.field_body(m, f, s, e, depth);
        }
        match f.ty {
            Type::Scalar(_) if depth == 1 && self.rv.is_some() && is_rv_field(m, f) => {
                let rv = self.rv.unwrap_or_default().to_string();
                self.plain_key(st, f.json);
                self.str_valid(&rv);
                Ok(())
            }
            Type::Scalar(sc) => {
                if absent {
                    if f.pointer || sc == Scalar::Bytes {
                        if !f.omitempty {
                            self.plain_key(st, f.json);
                            self.null();
                        }
                    } else if !f.omitempty {
                        self.plain_key(st, f.json);
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
                self.plain_key(st, f.json);
                self.scalar(sc, v).map_err(|x| type_err(m, f.n, x, v))
            }
            Type::Message(_) => {
                let Some(mm) = f.message() else {
                    self.plain_key(st, f.json);
                    if absent {
                        self.null();
                    } else {
                        let v = self.occ[e - 1].2;
                        self.generic_value(v, depth + 1);
                    }
                    return Ok(());
                };
                let b = if absent {
                    if f.pointer {
                        if !f.omitempty {
                            self.plain_key(st, f.json);
                            self.null();
                        }
                        return Ok(());
                    }
                    None
                } else {
                    Some(len_of(m, f.n, self.occ[e - 1].2)?)
                };
                if !f.pointer && f.omitzero && is_zero_struct(mm, b) {
                    return Ok(());
                }
                if f.omitempty && !f.pointer && is_collection(mm) && collection_empty(b) {
                    return Ok(());
                }
                self.plain_key(st, f.json);
                self.msg(mm, b, depth + 1)
            }
        }
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
        let mut st = self.arr_begin();
        match f.ty {
            Type::Scalar(sc) => {
                for k in s..e {
                    let v = self.occ[k].2;
                    self.repeated_scalar(m, f.n, sc, v, &mut st)?;
                }
            }
            Type::Message(_) => {
                let mm = f.message();
                for k in s..e {
                    let b = len_of(m, f.n, self.occ[k].2)?;
                    self.elem(&mut st);
                    match mm {
                        Some(mm) => self
                            .msg(mm, Some(b), depth + 1)
                            .map_err(|x| x.within(&format!("[{}]", k - s)))?,
                        None => self.generic_bytes(b, depth + 1),
                    }
                }
            }
        }
        self.arr_end(st);
        Ok(())
    }

    fn repeated_scalar(
        &mut self,
        m: &'static Message,
        n: u32,
        sc: Scalar,
        v: W<'a>,
        st: &mut Open,
    ) -> Result<(), KubeError> {
        match (sc.wire_type(), v) {
            (0, W::Bytes(b)) => {
                let mut p = 0;
                while p < b.len() {
                    let x = read_varint(b, &mut p).map_err(|e| wire_err(m, e))?;
                    self.elem(st);
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
                    self.elem(st);
                    self.scalar(sc, W::Fixed64(u64::from_le_bytes(a)))
                        .map_err(|x| type_err(m, n, x, v))?;
                }
            }
            (5, W::Bytes(b)) => {
                if b.len() % 4 != 0 {
                    return Err(type_err(m, n, 5, v));
                }
                for c in b.chunks_exact(4) {
                    self.elem(st);
                    self.scalar(sc, W::Fixed32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                        .map_err(|x| type_err(m, n, x, v))?;
                }
            }
            _ => {
                if v.wire_type() != sc.wire_type() {
                    return Err(type_err(m, n, sc.wire_type(), v));
                }
                self.elem(st);
                self.scalar(sc, v).map_err(|x| type_err(m, n, x, v))?;
            }
        }
        Ok(())
    }

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
            let kb: &'a [u8] = match (kt, key) {
                (_, None) => &[],
                (Scalar::String | Scalar::Bytes, Some(W::Bytes(b))) => b,
                (Scalar::String | Scalar::Bytes, Some(v)) => {
                    self.entries.truncate(base);
                    return Err(type_err(m, f.n, 2, v));
                }
                (_, Some(_)) => {
                    // Non-string keys do not occur in these APIs; use the
                    // slower Value path for them.
                    self.entries.truncate(base);
                    return self.map_body_slow(m, f, s, e, depth);
                }
            };
            self.entries.push((kb, val));
        }
        let end = self.entries.len();
        self.entries[base..end].sort_by(|a, b| a.0.cmp(b.0));
        let mut st = self.obj_begin();
        let mut r = Ok(());
        for i in base..end {
            // Duplicate keys: the last one wins.
            if i + 1 < end && self.entries[i + 1].0 == self.entries[i].0 {
                continue;
            }
            let (kb, val) = self.entries[i];
            self.key_bytes(&mut st, kb);
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
                let k = String::from_utf8_lossy(kb).into_owned();
                r = r.map_err(|e| e.within(&format!("[{k}]")));
                break;
            }
        }
        self.entries.truncate(base);
        r?;
        self.obj_end(st);
        Ok(())
    }

    fn map_body_slow(
        &mut self,
        m: &'static Message,
        f: &'static Field,
        s: usize,
        e: usize,
        _depth: usize,
    ) -> Result<(), KubeError> {
        // Re-decode the field through the Value path and print it.
        let mut buf = Vec::new();
        for k in s..e {
            let b = len_of(m, f.n, self.occ[k].2)?;
            crate::wire::put_varint(&mut buf, (u64::from(f.n) << 3) | 2);
            crate::wire::put_varint(&mut buf, b.len() as u64);
            buf.extend_from_slice(b);
        }
        let v = super::proto::decode_message(m.name, &buf)?;
        match v.get(f.json) {
            Some(x) => self.value(x),
            None => self.null(),
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
                    self.null();
                    return Ok(());
                }
                let (s, ns) = read_time(bytes).map_err(|e| wire_err(m, e))?;
                if s == GO_ZERO_SECONDS && ns == 0 {
                    self.null();
                    return Ok(());
                }
                self.time(
                    s,
                    (sp == Special::Rfc3339Micro).then_some((ns.max(0) / 1000) as u32),
                );
            }
            Special::GoDuration => {
                let p = special_parts(m, bytes)?;
                let d = match p[1] {
                    Some(W::Varint(x)) => x as i64,
                    Some(v) => return Err(type_err(m, 1, 0, v)),
                    None => 0,
                };
                let s = go_duration(d);
                self.str_valid(&s);
            }
            Special::Quantity => {
                let p = special_parts(m, bytes)?;
                match p[1] {
                    Some(W::Bytes(s)) => self.string(s),
                    Some(v) => return Err(type_err(m, 1, 2, v)),
                    None => self.out.extend_from_slice(b"\"0\""),
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
                        Some(W::Bytes(s)) => self.string(s),
                        Some(v) => return Err(type_err(m, 3, 2, v)),
                        None => self.out.extend_from_slice(b"\"\""),
                    }
                } else {
                    match p[2] {
                        Some(W::Varint(x)) => self.i64(i64::from(x as i64 as i32)),
                        Some(v) => return Err(type_err(m, 2, 0, v)),
                        None => self.out.push(b'0'),
                    }
                }
            }
            Special::RawJson => {
                let raw = super::proto::raw_json_field(m, bytes)?;
                match raw {
                    Some(r) if !r.is_empty() => self.raw_bytes_json(r),
                    _ => self.null(),
                }
            }
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
                        self.null();
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
                let schema_num = if sp == Special::BoolOrSchema { 2 } else { 1 };
                let sub = |n: u32| m.field(n).and_then(|f| f.message());
                if sp == Special::BoolOrSchema {
                    if let Some(v) = two {
                        return self.sub_schema(m, sub(2), schema_num, v, depth);
                    }
                    match one {
                        Some(W::Varint(x)) => self.bool(x != 0),
                        Some(v) => return Err(type_err(m, 1, 0, v)),
                        None => self.bool(false),
                    }
                    return Ok(());
                }
                if list > 0 {
                    let mut st = self.arr_begin();
                    for x in Fields::new(bytes) {
                        let (n, v) = x.map_err(|e| wire_err(m, e))?;
                        if n != 2 {
                            continue;
                        }
                        self.elem(&mut st);
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
                    self.arr_end(st);
                    return Ok(());
                }
                match one {
                    Some(v) => return self.sub_schema(m, sub(1), 1, v, depth),
                    None => self.null(),
                }
            }
            Special::Array | Special::Map => match b {
                None => self.null(),
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

    fn two(&mut self, v: u32) {
        self.out.push(b'0' + (v / 10) as u8);
        self.out.push(b'0' + (v % 10) as u8);
    }

    fn time(&mut self, secs: i64, micros: Option<u32>) {
        // Same text as timefmt::rfc3339, without allocating.
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        if !(-719_162..=2_932_896).contains(&days) {
            let s = super::timefmt::rfc3339(secs, micros);
            self.str_valid(&s);
            return;
        }
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let mo = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = (yoe + era * 400 + i64::from(mo <= 2)) as u32;
        self.out.push(b'"');
        self.two(y / 100);
        self.two(y % 100);
        self.out.push(b'-');
        self.two(mo);
        self.out.push(b'-');
        self.two(d);
        self.out.push(b'T');
        self.two(sod / 3600);
        self.out.push(b':');
        self.two(sod / 60 % 60);
        self.out.push(b':');
        self.two(sod % 60);
        if let Some(us) = micros {
            let us = us.min(999_999);
            self.out.push(b'.');
            self.two(us / 10_000);
            self.two(us / 100 % 100);
            self.two(us % 100);
        }
        self.out.extend_from_slice(b"Z\"");
    }

    // ---- generic (unknown) data ----------------------------------------------

    fn generic_value(&mut self, v: W<'_>, depth: usize) {
        match v {
            W::Varint(x) | W::Fixed64(x) => self.u64(x),
            W::Fixed32(x) => self.u64(u64::from(x)),
            W::Bytes(b) => self.generic_bytes(b, depth),
        }
    }

    fn generic_bytes(&mut self, b: &[u8], depth: usize) {
        if let Ok(s) = std::str::from_utf8(b) {
            if printable(s) {
                self.str_valid(s);
                return;
            }
        }
        if depth <= MAX_DEPTH && !b.is_empty() && generic_ok(b) {
            let mut st = self.obj_begin();
            self.generic_fields(b, depth, &mut st);
            self.obj_end(st);
            return;
        }
        self.base64(b);
    }

    /// Fields of an unknown message (already checked to parse) by number.
    fn generic_fields(&mut self, b: &[u8], depth: usize, st: &mut Open) {
        let mut all: Vec<(u32, W<'_>)> = Fields::new(b).filter_map(Result::ok).collect();
        all.sort_by_key(|x| x.0);
        let mut i = 0;
        while i < all.len() {
            let n = all[i].0;
            let mut j = i + 1;
            while j < all.len() && all[j].0 == n {
                j += 1;
            }
            self.key(st, &n.to_string());
            if j - i == 1 {
                self.generic_value(all[i].1, depth + 1);
            } else {
                let mut a = self.arr_begin();
                for x in &all[i..j] {
                    self.elem(&mut a);
                    self.generic_value(x.1, depth + 1);
                }
                self.arr_end(a);
            }
            i = j;
        }
    }
}

/// One field at `*pos` (the hot loop's copy of `wire::Fields`, kept inline
/// so the value stays in registers).
#[inline(always)]
fn is_rv_field(m: &Message, f: &Field) -> bool {
    f.json == "resourceVersion" && m.name == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
}

/// Whether a scalar is Go's zero value (what `omitempty` drops).
fn wire_zero(sc: Scalar, v: W<'_>) -> bool {
    match v {
        W::Varint(x) => x == 0,
        W::Fixed64(x) => x == 0 || (sc == Scalar::Double && x == 1 << 63),
        W::Fixed32(x) => x == 0 || (sc == Scalar::Float && x == 1 << 31),
        W::Bytes(b) => b.is_empty(),
    }
}

fn is_collection(m: &Message) -> bool {
    m.go != GoKind::Struct || matches!(m.special, Some(Special::Array | Special::Map))
}

fn collection_empty(b: Option<&[u8]>) -> bool {
    match b {
        None => true,
        Some(b) => !Fields::new(b).any(|f| matches!(f, Ok((1, _)))),
    }
}
