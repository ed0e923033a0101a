//! Kubernetes protobuf (`k8s\0` + runtime.Unknown) → the JSON the apiserver
//! would serve, driven by the embedded schema.
//!
//! Output is a `serde_json::Value` whose objects keep insertion order, so keys
//! follow the Go struct order given by the schema. Wire data is borrowed from
//! the input; field names come from the embedded schema text.

use std::borrow::Cow;

use base64::Engine as _;
use serde_json::{Map, Number, Value as J};

use super::schema::{schema, GoKind, Message, Scalar, Special, Type};
use super::timefmt::{go_duration, rfc3339, GO_ZERO_SECONDS};
use super::{cbor, KubeError};
use crate::wire::{read_varint, Fields, Value as W, WireError};

/// Messages nested deeper than this are refused (hostile input).
pub const MAX_DEPTH: usize = 100;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The storage envelope of a protobuf value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub api_version: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    /// The typed object's protobuf (no TypeMeta inside).
    pub raw: &'a [u8],
    pub content_encoding: &'a [u8],
    pub content_type: &'a [u8],
}

/// Parses `k8s\0` + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2,
/// contentEncoding=3, contentType=4}.
pub fn parse_envelope(v: &[u8]) -> Result<Envelope<'_>, KubeError> {
    let body = v.strip_prefix(b"k8s\0").ok_or(KubeError::NoMagic)?;
    let mut env = Envelope {
        api_version: Cow::Borrowed(""),
        kind: Cow::Borrowed(""),
        raw: &[],
        content_encoding: &[],
        content_type: &[],
    };
    fn bytes(n: u32, v: W<'_>) -> Result<&[u8], KubeError> {
        crate::wire::expect_bytes(n, v).map_err(KubeError::Envelope)
    }
    let mut tm: &[u8] = &[];
    for f in Fields::new(body) {
        let (n, val) = f.map_err(KubeError::Envelope)?;
        match n {
            1 => tm = bytes(n, val)?,
            2 => env.raw = bytes(n, val)?,
            3 => env.content_encoding = bytes(n, val)?,
            4 => env.content_type = bytes(n, val)?,
            _ => {}
        }
    }
    for f in Fields::new(tm) {
        let (n, val) = f.map_err(KubeError::Envelope)?;
        match n {
            1 => env.api_version = String::from_utf8_lossy(bytes(n, val)?),
            2 => env.kind = String::from_utf8_lossy(bytes(n, val)?),
            _ => {}
        }
    }
    Ok(env)
}

/// Decodes a `k8s\0` protobuf value into Kubernetes JSON: `kind` and
/// `apiVersion` from the envelope, then the object's fields. A kind the
/// schema does not know is decoded generically (keys are field numbers).
pub fn decode(v: &[u8]) -> Result<J, KubeError> {
    decode_with_hint(v, None)
}

/// Like [`decode`], but when the envelope names no type (as in some test
/// fixtures and watch streams) uses `hint` = (apiVersion, kind) to pick the
/// message. `kind`/`apiVersion` are shown only when the Go type embeds
/// TypeMeta (or the type is unknown) and they are non-empty (`omitempty`).
pub fn decode_with_hint(v: &[u8], hint: Option<(&str, &str)>) -> Result<J, KubeError> {
    let env = parse_envelope(v)?;
    let (av, kind) = match hint {
        Some(h) if env.kind.is_empty() => h,
        _ => (&*env.api_version, &*env.kind),
    };
    let s = schema();
    let m = s.kind(av, kind).and_then(|k| s.message(k.message));
    let mut obj = Map::new();
    if m.is_none_or(|m| m.typemeta) {
        if !env.kind.is_empty() {
            obj.insert("kind".into(), J::String(env.kind.to_string()));
        }
        if !env.api_version.is_empty() {
            obj.insert("apiVersion".into(), J::String(env.api_version.to_string()));
        }
    }
    let mut cx = Ctx::default();
    match m {
        Some(m) => struct_into(&mut cx, m, env.raw, 0, &mut obj)?,
        None => generic_into(env.raw, 0, &mut obj).map_err(|e| KubeError::Wire {
            message: "(unknown kind)",
            path: String::new(),
            source: e,
        })?,
    }
    Ok(J::Object(obj))
}

/// Decodes the protobuf of one message (no envelope) by full proto name.
pub fn decode_message(message: &str, b: &[u8]) -> Result<J, KubeError> {
    let m = schema().message(message).ok_or_else(|| KubeError::Encode {
        message: "(schema)",
        path: String::new(),
        what: format!("unknown message {message}"),
    })?;
    render_msg(&mut Ctx::default(), m, Some(b), 0)
}

#[derive(Default)]
struct Ctx<'a> {
    /// Scratch stack of (field index, field number, value) occurrences.
    occ: Vec<(u16, u32, W<'a>)>,
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

pub(crate) fn len_of<'a>(m: &'static Message, n: u32, v: W<'a>) -> Result<&'a [u8], KubeError> {
    match v {
        W::Bytes(b) => Ok(b),
        _ => Err(type_err(m, n, 2, v)),
    }
}

fn nil(omitempty: bool) -> Option<J> {
    if omitempty {
        None
    } else {
        Some(J::Null)
    }
}

fn is_zero_json(j: &J) -> bool {
    match j {
        J::Null => true,
        J::Bool(b) => !b,
        J::String(s) => s.is_empty(),
        J::Number(n) => n.as_f64() == Some(0.0),
        J::Array(a) => a.is_empty(),
        J::Object(o) => o.is_empty(),
    }
}

/// Go `omitempty` on a value of message type: only slices and maps can be empty.
fn go_empty(m: &Message, j: &J) -> bool {
    let collection =
        m.go != GoKind::Struct || matches!(m.special, Some(Special::Array | Special::Map));
    collection && is_zero_json(j)
}

/// Go `omitzero` (IsZero) on a non-pointer struct.
pub(crate) fn is_zero_struct(m: &Message, b: Option<&[u8]>) -> bool {
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

fn number_f64(f: f64) -> J {
    // Go prints integral floats without a fraction (`3`, not `3.0`).
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return J::Number(Number::from(f as i64));
    }
    Number::from_f64(f).map(J::Number).unwrap_or(J::Null)
}

pub(crate) fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// One scalar value from the wire; `Err(expected wire type)` on mismatch.
fn scalar(sc: Scalar, v: W<'_>) -> Result<J, u8> {
    Ok(match (sc, v) {
        (Scalar::String, W::Bytes(b)) => J::String(String::from_utf8_lossy(b).into_owned()),
        (Scalar::Bytes, W::Bytes(b)) => J::String(B64.encode(b)),
        (Scalar::Bool, W::Varint(x)) => J::Bool(x != 0),
        (Scalar::Int32, W::Varint(x)) => J::Number((x as i64 as i32).into()),
        (Scalar::Int64, W::Varint(x)) => J::Number((x as i64).into()),
        (Scalar::Uint32, W::Varint(x)) => J::Number((x as u32).into()),
        (Scalar::Uint64, W::Varint(x)) => J::Number(x.into()),
        (Scalar::Sint32, W::Varint(x)) => J::Number((zigzag(x) as i32).into()),
        (Scalar::Sint64, W::Varint(x)) => J::Number(zigzag(x).into()),
        (Scalar::Fixed64, W::Fixed64(x)) => J::Number(x.into()),
        (Scalar::Sfixed64, W::Fixed64(x)) => J::Number((x as i64).into()),
        (Scalar::Double, W::Fixed64(x)) => number_f64(f64::from_bits(x)),
        (Scalar::Fixed32, W::Fixed32(x)) => J::Number(x.into()),
        (Scalar::Sfixed32, W::Fixed32(x)) => J::Number((x as i32).into()),
        (Scalar::Float, W::Fixed32(x)) => number_f64(f64::from(f32::from_bits(x))),
        _ => return Err(sc.wire_type()),
    })
}

fn zero_scalar(sc: Scalar) -> J {
    match sc {
        Scalar::String | Scalar::Bytes => J::String(String::new()),
        Scalar::Bool => J::Bool(false),
        _ => J::Number(0.into()),
    }
}

/// Scalars of a repeated field, accepting packed encoding.
fn push_repeated(
    m: &'static Message,
    n: u32,
    sc: Scalar,
    v: W<'_>,
    out: &mut Vec<J>,
) -> Result<(), KubeError> {
    match (sc.wire_type(), v) {
        (0, W::Bytes(b)) => {
            let mut p = 0;
            while p < b.len() {
                let x = read_varint(b, &mut p).map_err(|e| wire_err(m, e))?;
                out.push(scalar(sc, W::Varint(x)).map_err(|e| type_err(m, n, e, v))?);
            }
        }
        (1, W::Bytes(b)) => {
            if b.len() % 8 != 0 {
                return Err(type_err(m, n, 1, v));
            }
            for c in b.chunks_exact(8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                let x = W::Fixed64(u64::from_le_bytes(a));
                out.push(scalar(sc, x).map_err(|e| type_err(m, n, e, v))?);
            }
        }
        (5, W::Bytes(b)) => {
            if b.len() % 4 != 0 {
                return Err(type_err(m, n, 5, v));
            }
            for c in b.chunks_exact(4) {
                let x = W::Fixed32(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
                out.push(scalar(sc, x).map_err(|e| type_err(m, n, e, v))?);
            }
        }
        _ => out.push(scalar(sc, v).map_err(|e| type_err(m, n, e, v))?),
    }
    Ok(())
}

fn resolve(name: &'static str) -> Option<&'static Message> {
    schema().message(name)
}

/// Renders a value of message type `m`; `b == None` means absent (Go zero).
fn render_msg<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    b: Option<&'a [u8]>,
    depth: usize,
) -> Result<J, KubeError> {
    if depth > MAX_DEPTH {
        return Err(KubeError::TooDeep {
            message: m.name,
            path: String::new(),
            limit: MAX_DEPTH,
        });
    }
    if let Some(sp) = m.special {
        return render_special(cx, m, sp, b, depth);
    }
    let mut obj = Map::new();
    struct_into(cx, m, b.unwrap_or(&[]), depth, &mut obj)?;
    if m.go != GoKind::Struct {
        // Named slice/map without a special entry: unwrap `items`.
        return Ok(match (b, obj.remove("items")) {
            (None, _) => J::Null,
            (Some(_), Some(v)) if !v.is_null() => v,
            (Some(_), _) if m.go == GoKind::Map => J::Object(Map::new()),
            (Some(_), _) => J::Array(Vec::new()),
        });
    }
    Ok(J::Object(obj))
}

/// Decodes the fields of struct message `m` into `obj`, in schema order;
/// fields the schema does not know follow under their numbers.
fn struct_into<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    b: &'a [u8],
    depth: usize,
    obj: &mut Map<String, J>,
) -> Result<(), KubeError> {
    let base = cx.occ.len();
    push_in_schema_order(m, b, &mut cx.occ)?;
    let end = cx.occ.len();
    let r = fields_into(cx, m, base, end, depth, obj);
    cx.occ.truncate(base);
    r
}

fn fields_into<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    base: usize,
    end: usize,
    depth: usize,
    obj: &mut Map<String, J>,
) -> Result<(), KubeError> {
    let mut i = base;
    for (fi, f) in m.fields.iter().enumerate() {
        let s = i;
        while i < end && cx.occ[i].0 as usize == fi {
            i += 1;
        }
        if (f.retired && s == i) || f.json == "-" {
            continue;
        }
        let v = field_value(cx, m, fi, s, i, depth)
            .map_err(|e| e.within(if f.json.is_empty() { f.name } else { f.json }))?;
        let Some(v) = v else { continue };
        if f.inline {
            if let J::Object(inner) = v {
                for (k, v) in inner {
                    let shadowed = m
                        .fields
                        .iter()
                        .any(|g| !g.inline && !g.retired && g.json == k);
                    if !shadowed && !obj.contains_key(&k) {
                        obj.insert(k, v);
                    }
                }
            }
            continue;
        }
        obj.insert(f.json.to_string(), v);
    }
    // Unknown field numbers: never dropped; by number, repeats as arrays.
    cx.occ[i..end].sort_by_key(|o| o.1);
    while i < end {
        let (_, n, v) = cx.occ[i];
        insert_unknown(obj, n, generic_value(v, depth + 1));
        i += 1;
    }
    Ok(())
}

/// The JSON of field `fi` of `m`, from occurrences `cx.occ[s..e]`;
/// `None` when Go's `omitempty`/`omitzero` would drop it.
fn field_value<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    fi: usize,
    s: usize,
    e: usize,
    depth: usize,
) -> Result<Option<J>, KubeError> {
    let f = &m.fields[fi];
    let n = f.n;
    if let Some(kt) = f.map_key {
        if s == e {
            return Ok(nil(f.omitempty));
        }
        let mut entries: Vec<(String, J)> = Vec::with_capacity(e - s);
        for k in s..e {
            let b = len_of(m, n, cx.occ[k].2)?;
            entries.push(map_entry(cx, m, n, kt, f.ty, b, depth)?);
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut map = Map::with_capacity(entries.len());
        for (k, v) in entries {
            map.insert(k, v);
        }
        return Ok(Some(J::Object(map)));
    }
    if f.repeated {
        if s == e {
            return Ok(nil(f.omitempty));
        }
        let mut arr = Vec::with_capacity(e - s);
        match f.ty {
            Type::Scalar(sc) => {
                for k in s..e {
                    push_repeated(m, n, sc, cx.occ[k].2, &mut arr)?;
                }
            }
            Type::Message(_) => {
                let mm = f.message();
                for k in s..e {
                    let b = len_of(m, n, cx.occ[k].2)?;
                    arr.push(match mm {
                        Some(mm) => render_msg(cx, mm, Some(b), depth + 1)
                            .map_err(|e| e.within(&format!("[{}]", k - s)))?,
                        None => generic_bytes(b, depth + 1),
                    });
                }
            }
        }
        if arr.is_empty() && f.omitempty {
            return Ok(None);
        }
        return Ok(Some(J::Array(arr)));
    }
    let last = if s < e { Some(cx.occ[e - 1].2) } else { None };
    match f.ty {
        Type::Scalar(sc) => match last {
            None if f.pointer || sc == Scalar::Bytes => Ok(nil(f.omitempty)),
            None if f.omitempty => Ok(None),
            None => Ok(Some(zero_scalar(sc))),
            Some(v) => {
                let j = scalar(sc, v).map_err(|x| type_err(m, n, x, v))?;
                if f.omitempty && !f.pointer && is_zero_json(&j) {
                    Ok(None)
                } else {
                    Ok(Some(j))
                }
            }
        },
        Type::Message(_) => {
            let Some(mm) = f.message() else {
                return Ok(match last {
                    Some(W::Bytes(b)) => Some(generic_bytes(b, depth + 1)),
                    Some(v) => Some(generic_value(v, depth + 1)),
                    None => nil(f.omitempty),
                });
            };
            let b = match last {
                Some(v) => Some(len_of(m, n, v)?),
                None if f.pointer => return Ok(nil(f.omitempty)),
                None => None,
            };
            if !f.pointer && f.omitzero && is_zero_struct(mm, b) {
                return Ok(None);
            }
            let j = render_msg(cx, mm, b, depth + 1)?;
            if f.omitempty && !f.pointer && go_empty(mm, &j) {
                return Ok(None);
            }
            Ok(Some(j))
        }
    }
}

fn map_key(kt: Scalar, v: W<'_>) -> Option<String> {
    Some(match scalar(kt, v).ok()? {
        J::String(s) => s,
        other => other.to_string(),
    })
}

#[allow(clippy::too_many_arguments)]
fn map_entry<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    n: u32,
    kt: Scalar,
    vt: Type,
    b: &'a [u8],
    depth: usize,
) -> Result<(String, J), KubeError> {
    let mut key: Option<W<'a>> = None;
    let mut val: Option<W<'a>> = None;
    for f in Fields::new(b) {
        match f.map_err(|e| wire_err(m, e))? {
            (1, v) => key = Some(v),
            (2, v) => val = Some(v),
            _ => {}
        }
    }
    let k = match key {
        Some(kv) => map_key(kt, kv).ok_or_else(|| type_err(m, n, kt.wire_type(), kv))?,
        None => match zero_scalar(kt) {
            J::String(s) => s,
            other => other.to_string(),
        },
    };
    let v = match vt {
        Type::Scalar(sc) => match val {
            Some(v) => scalar(sc, v).map_err(|x| type_err(m, n, x, v))?,
            None => zero_scalar(sc),
        },
        Type::Message(name) => {
            let vb = match val {
                Some(v) => Some(len_of(m, n, v)?),
                None => None,
            };
            match resolve(name) {
                Some(mm) => render_msg(cx, mm, vb.or(Some(&[])), depth + 1)
                    .map_err(|e| e.within(&format!("[{k}]")))?,
                None => generic_bytes(vb.unwrap_or(&[]), depth + 1),
            }
        }
    };
    Ok((k, v))
}

/// Raw bytes that hold JSON (or CBOR) → inline JSON; anything else as a
/// string so nothing is lost.
pub(crate) fn raw_json(b: &[u8]) -> J {
    if b.starts_with(&[0xd9, 0xd9, 0xf7]) {
        if let Ok(v) = cbor::decode(b) {
            return v;
        }
    } else if let Ok(v) = serde_json::from_slice::<J>(b) {
        return v;
    }
    J::String(String::from_utf8_lossy(b).into_owned())
}

pub(crate) fn special_parts<'a>(
    m: &'static Message,
    b: &'a [u8],
) -> Result<[Option<W<'a>>; 4], KubeError> {
    let mut parts = [None; 4];
    for f in Fields::new(b) {
        let (n, v) = f.map_err(|e| wire_err(m, e))?;
        if (1..=3).contains(&n) {
            parts[n as usize] = Some(v);
        }
    }
    Ok(parts)
}

fn render_special<'a>(
    cx: &mut Ctx<'a>,
    m: &'static Message,
    sp: Special,
    b: Option<&'a [u8]>,
    depth: usize,
) -> Result<J, KubeError> {
    let bytes = b.unwrap_or(&[]);
    match sp {
        Special::Rfc3339 | Special::Rfc3339Micro => {
            if bytes.is_empty() {
                return Ok(J::Null);
            }
            let (s, ns) = read_time(bytes).map_err(|e| wire_err(m, e))?;
            if s == GO_ZERO_SECONDS && ns == 0 {
                return Ok(J::Null);
            }
            let micros = (sp == Special::Rfc3339Micro).then_some((ns.max(0) / 1000) as u32);
            Ok(J::String(rfc3339(s, micros)))
        }
        Special::GoDuration => {
            let p = special_parts(m, bytes)?;
            let d = match p[1] {
                Some(W::Varint(x)) => x as i64,
                Some(v) => return Err(type_err(m, 1, 0, v)),
                None => 0,
            };
            Ok(J::String(go_duration(d)))
        }
        Special::Quantity => {
            let p = special_parts(m, bytes)?;
            Ok(match p[1] {
                Some(W::Bytes(s)) => J::String(String::from_utf8_lossy(s).into_owned()),
                Some(v) => return Err(type_err(m, 1, 2, v)),
                None => J::String("0".into()),
            })
        }
        Special::IntOrString => {
            let p = special_parts(m, bytes)?;
            let ty = match p[1] {
                Some(W::Varint(x)) => x,
                Some(v) => return Err(type_err(m, 1, 0, v)),
                None => 0,
            };
            if ty == 1 {
                Ok(match p[3] {
                    Some(W::Bytes(s)) => J::String(String::from_utf8_lossy(s).into_owned()),
                    Some(v) => return Err(type_err(m, 3, 2, v)),
                    None => J::String(String::new()),
                })
            } else {
                Ok(match p[2] {
                    Some(W::Varint(x)) => J::Number((x as i64 as i32).into()),
                    Some(v) => return Err(type_err(m, 2, 0, v)),
                    None => J::Number(0.into()),
                })
            }
        }
        Special::RawJson => {
            let raw = raw_json_field(m, bytes)?;
            Ok(match raw {
                Some(r) if !r.is_empty() => raw_json(r),
                _ => J::Null,
            })
        }
        Special::FieldsMap => {
            let mut obj = Map::new();
            struct_into(cx, m, bytes, depth, &mut obj)?;
            Ok(match obj.into_iter().next() {
                Some((_, J::Object(map))) if !map.is_empty() => J::Object(map),
                _ => J::Null,
            })
        }
        Special::BoolOrSchema | Special::SchemaOrArray | Special::SchemaOrStringArray => {
            let mut parts: [Option<W<'a>>; 3] = [None; 3];
            let mut list: Vec<W<'a>> = Vec::new();
            for f in Fields::new(bytes) {
                let (n, v) = f.map_err(|e| wire_err(m, e))?;
                match n {
                    1 => parts[1] = Some(v),
                    2 if sp != Special::BoolOrSchema => list.push(v),
                    2 => parts[2] = Some(v),
                    _ => {}
                }
            }
            // Schema is field 2 for bool-or-schema, field 1 otherwise.
            let schema_num = if sp == Special::BoolOrSchema { 2 } else { 1 };
            let schema_field = m.field(schema_num);
            let render_schema = |cx: &mut Ctx<'a>, v: W<'a>| -> Result<J, KubeError> {
                let b = len_of(m, schema_num, v)?;
                match schema_field.and_then(|f| match f.ty {
                    Type::Message(t) => resolve(t),
                    _ => None,
                }) {
                    Some(sm) => render_msg(cx, sm, Some(b), depth + 1),
                    None => Ok(generic_bytes(b, depth + 1)),
                }
            };
            match sp {
                Special::BoolOrSchema => {
                    if let Some(v) = parts[2] {
                        return render_schema(cx, v);
                    }
                    Ok(match parts[1] {
                        Some(W::Varint(x)) => J::Bool(x != 0),
                        Some(v) => return Err(type_err(m, 1, 0, v)),
                        None => J::Bool(false),
                    })
                }
                Special::SchemaOrArray if !list.is_empty() => {
                    let mut arr = Vec::with_capacity(list.len());
                    let item = m.field(2).and_then(|f| match f.ty {
                        Type::Message(t) => resolve(t),
                        _ => None,
                    });
                    for v in list {
                        let b = len_of(m, 2, v)?;
                        arr.push(match item {
                            Some(im) => render_msg(cx, im, Some(b), depth + 1)?,
                            None => generic_bytes(b, depth + 1),
                        });
                    }
                    Ok(J::Array(arr))
                }
                Special::SchemaOrStringArray if !list.is_empty() => {
                    let mut arr = Vec::with_capacity(list.len());
                    for v in list {
                        arr.push(scalar(Scalar::String, v).map_err(|x| type_err(m, 2, x, v))?);
                    }
                    Ok(J::Array(arr))
                }
                _ => match parts[1] {
                    Some(v) => render_schema(cx, v),
                    None => Ok(J::Null),
                },
            }
        }
        Special::Array | Special::Map => {
            let Some(b) = b else { return Ok(J::Null) };
            let mut obj = Map::new();
            struct_into(cx, m, b, depth, &mut obj)?;
            let items = m.field(1).map(|f| f.json).unwrap_or("items");
            Ok(match obj.remove(items) {
                Some(v) if !v.is_null() => v,
                _ if sp == Special::Map => J::Object(Map::new()),
                _ => J::Array(Vec::new()),
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Generic decoding (unknown types and unknown fields).

pub(crate) fn printable(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// Bytes of unknown meaning: a nested message if they parse as one and are
/// not plain text, else text, else base64.
fn generic_bytes(b: &[u8], depth: usize) -> J {
    if let Ok(s) = std::str::from_utf8(b) {
        if printable(s) {
            return J::String(s.to_string());
        }
    }
    if depth <= MAX_DEPTH && !b.is_empty() {
        let mut obj = Map::new();
        if generic_into(b, depth, &mut obj).is_ok() {
            return J::Object(obj);
        }
    }
    J::String(B64.encode(b))
}

fn generic_value(v: W<'_>, depth: usize) -> J {
    match v {
        W::Varint(x) => J::Number(x.into()),
        W::Fixed64(x) => J::Number(x.into()),
        W::Fixed32(x) => J::Number(x.into()),
        W::Bytes(b) => generic_bytes(b, depth),
    }
}

/// Fields of an unknown message under their numbers (repeats → arrays).
fn generic_into(b: &[u8], depth: usize, obj: &mut Map<String, J>) -> Result<(), WireError> {
    // Parse fully first so a failed guess leaves `obj` untouched.
    let mut all = Vec::new();
    for f in Fields::new(b) {
        all.push(f?);
    }
    // By number (stable), as the streaming writer does.
    all.sort_by_key(|f| f.0);
    for (n, v) in all {
        insert_unknown(obj, n, generic_value(v, depth + 1));
    }
    Ok(())
}

/// Stores an unknown field under its number; repeats become an array.
fn insert_unknown(obj: &mut serde_json::Map<String, J>, n: u32, j: J) {
    let key = n.to_string();
    match obj.get_mut(&key) {
        Some(J::Array(a)) => a.push(j),
        Some(prev) => {
            let p = prev.take();
            *prev = J::Array(vec![p, j]);
        }
        None => {
            obj.insert(key, j);
        }
    }
}

/// The `raw` bytes of a RawExtension-like message (the last occurrence
/// wins, as protobuf says), shared by both output paths.
pub(crate) fn raw_json_field<'b>(
    m: &'static Message,
    bytes: &'b [u8],
) -> Result<Option<&'b [u8]>, KubeError> {
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

/// Appends the fields of message `b` to `occ` as (schema index, field
/// number, value), stably sorted into the schema's field order (unknown
/// fields, index `u16::MAX`, last by number). On error `occ` is left as it
/// was. Both output paths walk fields in this order.
#[inline]
pub(crate) fn push_in_schema_order<'a>(
    m: &'static Message,
    b: &'a [u8],
    occ: &mut Vec<(u16, u32, W<'a>)>,
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
        let idx = m.index_of(n).map_or(u16::MAX, |i| i as u16);
        sorted &= idx >= last;
        last = idx;
        occ.push((idx, n, v));
    }
    if !sorted {
        occ[base..].sort_by_key(|o| o.0);
    }
    Ok(())
}

/// Go's encoding/json escape of U+2028/U+2029 when `b[i..]` starts with
/// one (bytes E2 80 A8 / E2 80 A9).
#[inline]
pub(crate) fn line_separator_escape(b: &[u8], i: usize) -> Option<&'static [u8]> {
    match (b.get(i), b.get(i + 1), b.get(i + 2)) {
        (Some(0xe2), Some(0x80), Some(0xa8)) => Some(b"\\u2028"),
        (Some(0xe2), Some(0x80), Some(0xa9)) => Some(b"\\u2029"),
        _ => None,
    }
}
