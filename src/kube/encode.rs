//! The inverse of [`super::proto`]: a Kubernetes JSON/YAML object → the exact
//! `k8s\0` protobuf the apiserver writes (gogo-proto marshalling rules:
//! fields in number order, non-pointer scalars and structs always written,
//! nil pointers/slices/maps/bytes omitted, map entries sorted by key).
//! Meant for writing readable test fixtures.

use base64::Engine as _;
use serde_json::{Map, Value as J};

use super::schema::{schema, Field, GoKind, Message, Scalar, Special, Type};
use super::timefmt::{parse_go_duration, parse_rfc3339};
use super::KubeError;
use crate::wire::put_varint;

const MAX_DEPTH: usize = 100;

/// Encodes an object with `apiVersion` and `kind` into a storage value.
pub fn encode_object(obj: &J) -> Result<Vec<u8>, KubeError> {
    encode_object_as(obj, None)
}

/// Like [`encode_object`]; when the object names no kind, `hint` =
/// (apiVersion, kind) picks the message and the envelope's TypeMeta stays
/// empty (as for types without TypeMeta, e.g. `WatchEvent`).
pub fn encode_object_as(obj: &J, hint: Option<(&str, &str)>) -> Result<Vec<u8>, KubeError> {
    let o = obj
        .as_object()
        .ok_or_else(|| err("(object)", "", "not a JSON object"))?;
    let av = o.get("apiVersion").and_then(J::as_str).unwrap_or("");
    let kind = o.get("kind").and_then(J::as_str).unwrap_or("");
    let (lav, lkind) = match hint {
        Some(h) if kind.is_empty() => h,
        _ => (av, kind),
    };
    let s = schema();
    let info = s
        .kind(lav, lkind)
        .ok_or_else(|| err("(schema)", "", format!("unknown kind {lkind:?} in {lav:?}")))?;
    let m = s
        .message(info.message)
        .ok_or_else(|| err("(schema)", "", format!("missing message {}", info.message)))?;
    let mut raw = Vec::with_capacity(256);
    struct_fields(m, o, &mut raw, 0, true)?;
    Ok(envelope(av, kind, &raw))
}

#[cfg(test)]
/// Parses YAML (via serde-saphyr) and encodes it with [`encode_object`].
pub(crate) fn encode_yaml(text: &str) -> Result<Vec<u8>, KubeError> {
    let v: J = serde_saphyr::from_str(text).map_err(|e| KubeError::Yaml(e.to_string()))?;
    encode_object(&v)
}

/// Wraps typed protobuf bytes in the storage envelope.
pub fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut tm = Vec::with_capacity(api_version.len() + kind.len() + 4);
    put_len(&mut tm, 1, api_version.as_bytes());
    put_len(&mut tm, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + tm.len() + 16);
    out.extend_from_slice(b"k8s\0");
    put_len(&mut out, 1, &tm);
    put_len(&mut out, 2, raw);
    put_len(&mut out, 3, b"");
    put_len(&mut out, 4, b"");
    out
}

fn err(message: &'static str, path: &str, what: impl Into<String>) -> KubeError {
    KubeError::Encode {
        message,
        path: path.to_string(),
        what: what.into(),
    }
}

fn tag(out: &mut Vec<u8>, n: u32, wt: u8) {
    put_varint(out, (u64::from(n) << 3) | u64::from(wt));
}

fn put_len(out: &mut Vec<u8>, n: u32, b: &[u8]) {
    tag(out, n, 2);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn present(v: Option<&J>) -> Option<&J> {
    v.filter(|v| !v.is_null())
}

fn as_i64(m: &'static Message, v: &J) -> Result<i64, KubeError> {
    match v {
        J::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|x| x as i64))
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| err(m.name, "", format!("{n} is not an integer"))),
        J::String(s) => s
            .parse()
            .map_err(|_| err(m.name, "", format!("{s:?} is not an integer"))),
        other => Err(err(m.name, "", format!("expected a number, got {other}"))),
    }
}

fn scalar(
    m: &'static Message,
    out: &mut Vec<u8>,
    n: u32,
    sc: Scalar,
    v: Option<&J>,
) -> Result<(), KubeError> {
    let v = present(v);
    match sc {
        Scalar::String => {
            let s = match v {
                Some(J::String(s)) => s.as_str(),
                None => "",
                Some(o) => return Err(err(m.name, "", format!("expected a string, got {o}"))),
            };
            put_len(out, n, s.as_bytes());
        }
        Scalar::Bytes => {
            let b = match v {
                Some(J::String(s)) => base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|e| err(m.name, "", format!("bad base64: {e}")))?,
                None => Vec::new(),
                Some(o) => return Err(err(m.name, "", format!("expected base64, got {o}"))),
            };
            put_len(out, n, &b);
        }
        Scalar::Bool => {
            let b = match v {
                Some(J::Bool(b)) => *b,
                None => false,
                Some(o) => return Err(err(m.name, "", format!("expected a bool, got {o}"))),
            };
            tag(out, n, 0);
            put_varint(out, u64::from(b));
        }
        Scalar::Double | Scalar::Float => {
            let f = match v {
                Some(J::Number(x)) => x.as_f64().unwrap_or(0.0),
                None => 0.0,
                Some(o) => return Err(err(m.name, "", format!("expected a number, got {o}"))),
            };
            if sc == Scalar::Double {
                tag(out, n, 1);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            } else {
                tag(out, n, 5);
                out.extend_from_slice(&(f as f32).to_bits().to_le_bytes());
            }
        }
        Scalar::Fixed64 | Scalar::Sfixed64 => {
            let x = v.map(|v| as_i64(m, v)).transpose()?.unwrap_or(0);
            tag(out, n, 1);
            out.extend_from_slice(&x.to_le_bytes());
        }
        Scalar::Fixed32 | Scalar::Sfixed32 => {
            let x = v.map(|v| as_i64(m, v)).transpose()?.unwrap_or(0);
            tag(out, n, 5);
            out.extend_from_slice(&(x as u32).to_le_bytes());
        }
        Scalar::Int32 | Scalar::Int64 | Scalar::Uint32 | Scalar::Uint64 => {
            let x = v.map(|v| as_i64(m, v)).transpose()?.unwrap_or(0);
            let x = match sc {
                Scalar::Int32 => i64::from(x as i32) as u64,
                Scalar::Uint32 => u64::from(x as u32),
                _ => x as u64,
            };
            tag(out, n, 0);
            put_varint(out, x);
        }
        Scalar::Sint32 | Scalar::Sint64 => {
            let x = v.map(|v| as_i64(m, v)).transpose()?.unwrap_or(0);
            tag(out, n, 0);
            put_varint(out, ((x << 1) ^ (x >> 63)) as u64);
        }
    }
    Ok(())
}

fn resolve(m: &'static Message, name: &str) -> Result<&'static Message, KubeError> {
    schema()
        .message(name)
        .ok_or_else(|| err(m.name, "", format!("schema lacks message {name}")))
}

/// Writes field `n` as a nested message.
fn nested(
    out: &mut Vec<u8>,
    n: u32,
    m: &'static Message,
    v: Option<&J>,
    depth: usize,
) -> Result<(), KubeError> {
    let mut buf = Vec::new();
    msg_body(m, v, &mut buf, depth + 1)?;
    put_len(out, n, &buf);
    Ok(())
}

/// Whether a nil value of this message type is left off the wire (Go
/// slices and maps; everything else non-pointer is a struct).
fn nil_collection(m: &Message) -> bool {
    m.go != GoKind::Struct || matches!(m.special, Some(Special::Array | Special::Map))
}

/// The body of message `m` for JSON value `v` (`None`/null = zero value).
fn msg_body(
    m: &'static Message,
    v: Option<&J>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), KubeError> {
    if depth > MAX_DEPTH {
        return Err(err(m.name, "", "nesting too deep"));
    }
    let v = present(v);
    if let Some(sp) = m.special {
        return special(m, sp, v, out, depth);
    }
    match v {
        None => struct_fields(m, &Map::new(), out, depth, false),
        Some(J::Object(o)) => struct_fields(m, o, out, depth, false),
        Some(J::Array(a)) if m.go == GoKind::Slice => {
            let mut o = Map::new();
            o.insert("items".into(), J::Array(a.clone()));
            struct_fields(m, &o, out, depth, false)
        }
        Some(other) => Err(err(m.name, "", format!("expected an object, got {other}"))),
    }
}

/// JSON keys a message accepts, following inline fields.
fn accepts(m: &'static Message, key: &str, depth: usize) -> bool {
    m.fields.iter().any(|f| {
        if f.inline {
            depth < 8
                && matches!(f.ty, Type::Message(t) if schema().message(t).is_some_and(|im| accepts(im, key, depth + 1)))
        } else {
            f.json == key
        }
    })
}

fn struct_fields(
    m: &'static Message,
    o: &Map<String, J>,
    out: &mut Vec<u8>,
    depth: usize,
    top: bool,
) -> Result<(), KubeError> {
    for k in o.keys() {
        if top && (k == "kind" || k == "apiVersion") {
            continue;
        }
        if !accepts(m, k, 0) {
            return Err(err(m.name, k, "field not in schema"));
        }
    }
    // Retired fields are written only when the object has them.
    let mut order: Vec<&Field> = m
        .fields
        .iter()
        .filter(|f| f.json != "-" && (!f.retired || o.contains_key(f.json)))
        .collect();
    order.sort_by_key(|f| f.n);
    for f in order {
        field(m, f, o, out, depth)
            .map_err(|e| e.within(if f.json.is_empty() { f.name } else { f.json }))?;
    }
    Ok(())
}

fn field(
    m: &'static Message,
    f: &Field,
    o: &Map<String, J>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), KubeError> {
    let n = f.n;
    if f.inline {
        let Type::Message(t) = f.ty else {
            return Ok(());
        };
        let im = resolve(m, t)?;
        if f.pointer && !o.keys().any(|k| accepts(im, k, 0)) {
            return Ok(());
        }
        let sub: Map<String, J> = o
            .iter()
            .filter(|(k, _)| accepts(im, k, 0))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut buf = Vec::new();
        struct_fields(im, &sub, &mut buf, depth + 1, false)?;
        put_len(out, n, &buf);
        return Ok(());
    }
    let v = present(o.get(f.json));
    if let Some(kt) = f.map_key {
        let Some(v) = v else { return Ok(()) };
        let mo = v
            .as_object()
            .ok_or_else(|| err(m.name, "", format!("expected an object, got {v}")))?;
        let mut keys: Vec<&String> = mo.keys().collect();
        keys.sort();
        for k in keys {
            let mut e = Vec::new();
            let kj = match kt {
                Scalar::String => J::String(k.clone()),
                Scalar::Bool => J::Bool(k == "true"),
                _ => J::String(k.clone()),
            };
            scalar(m, &mut e, 1, kt, Some(&kj))?;
            let val = mo.get(k.as_str());
            match f.ty {
                Type::Scalar(sc) => scalar(m, &mut e, 2, sc, val)?,
                Type::Message(t) => nested(&mut e, 2, resolve(m, t)?, val, depth)
                    .map_err(|x| x.within(&format!("[{k}]")))?,
            }
            put_len(out, n, &e);
        }
        return Ok(());
    }
    if f.repeated {
        let Some(v) = v else { return Ok(()) };
        let a = v
            .as_array()
            .ok_or_else(|| err(m.name, "", format!("expected an array, got {v}")))?;
        for (i, x) in a.iter().enumerate() {
            match f.ty {
                Type::Scalar(sc) => scalar(m, out, n, sc, Some(x))?,
                Type::Message(t) => nested(out, n, resolve(m, t)?, Some(x), depth)
                    .map_err(|e| e.within(&format!("[{i}]")))?,
            }
        }
        return Ok(());
    }
    match f.ty {
        Type::Scalar(sc) => {
            // Nil pointers and nil []byte are not written.
            if v.is_none() && (f.pointer || sc == Scalar::Bytes) {
                return Ok(());
            }
            scalar(m, out, n, sc, v)
        }
        Type::Message(t) => {
            let mm = resolve(m, t)?;
            if v.is_none() && (f.pointer || nil_collection(mm)) {
                return Ok(());
            }
            nested(out, n, mm, v, depth)
        }
    }
}

fn special(
    m: &'static Message,
    sp: Special,
    v: Option<&J>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), KubeError> {
    let sub = |n: u32| -> Result<&'static Message, KubeError> {
        match m.field(n).map(|f| f.ty) {
            Some(Type::Message(t)) => resolve(m, t),
            _ => Err(err(m.name, "", format!("field {n} is not a message"))),
        }
    };
    match sp {
        Special::Rfc3339 | Special::Rfc3339Micro => {
            let Some(v) = v else { return Ok(()) };
            let s = v
                .as_str()
                .ok_or_else(|| err(m.name, "", format!("expected a time string, got {v}")))?;
            let (secs, nanos) =
                parse_rfc3339(s).ok_or_else(|| err(m.name, "", format!("bad time {s:?}")))?;
            let nanos = if sp == Special::Rfc3339 {
                0
            } else {
                nanos / 1000 * 1000
            };
            tag(out, 1, 0);
            put_varint(out, secs as u64);
            tag(out, 2, 0);
            put_varint(out, u64::from(nanos));
        }
        Special::GoDuration => {
            let d = match v {
                None => 0,
                Some(J::String(s)) => parse_go_duration(s)
                    .ok_or_else(|| err(m.name, "", format!("bad duration {s:?}")))?,
                Some(o) => as_i64(m, o)?,
            };
            tag(out, 1, 0);
            put_varint(out, d as u64);
        }
        Special::Quantity => {
            let s = match v {
                None => "0".to_string(),
                Some(J::String(s)) => s.clone(),
                Some(J::Number(x)) => x.to_string(),
                Some(o) => return Err(err(m.name, "", format!("expected a quantity, got {o}"))),
            };
            put_len(out, 1, s.as_bytes());
        }
        Special::IntOrString => {
            let (ty, iv, sv) = match v {
                Some(J::String(s)) => (1u64, 0i64, s.as_str()),
                Some(x) => (0, as_i64(m, x)?, ""),
                None => (0, 0, ""),
            };
            tag(out, 1, 0);
            put_varint(out, ty);
            tag(out, 2, 0);
            put_varint(out, i64::from(iv as i32) as u64);
            put_len(out, 3, sv.as_bytes());
        }
        Special::RawJson => {
            let n = m
                .fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case("raw"))
                .map_or(1, |f| f.n);
            if let Some(v) = v {
                let b = serde_json::to_vec(v).map_err(|e| err(m.name, "", e.to_string()))?;
                put_len(out, n, &b);
            }
        }
        Special::FieldsMap => {
            let Some(v) = v else { return Ok(()) };
            let o = v
                .as_object()
                .ok_or_else(|| err(m.name, "", format!("expected an object, got {v}")))?;
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            for k in keys {
                let mut e = Vec::new();
                put_len(&mut e, 1, k.as_bytes());
                nested(&mut e, 2, m, o.get(k.as_str()), depth)?;
                put_len(out, 1, &e);
            }
        }
        Special::BoolOrSchema => match v {
            Some(J::Bool(b)) => {
                tag(out, 1, 0);
                put_varint(out, u64::from(*b));
            }
            Some(o) => {
                tag(out, 1, 0);
                put_varint(out, 1);
                nested(out, 2, sub(2)?, Some(o), depth)?;
            }
            None => {
                tag(out, 1, 0);
                put_varint(out, 0);
            }
        },
        Special::SchemaOrArray | Special::SchemaOrStringArray => match v {
            Some(J::Array(a)) => {
                for x in a {
                    if sp == Special::SchemaOrArray {
                        nested(out, 2, sub(2)?, Some(x), depth)?;
                    } else {
                        scalar(m, out, 2, Scalar::String, Some(x))?;
                    }
                }
            }
            Some(o) => nested(out, 1, sub(1)?, Some(o), depth)?,
            None => {}
        },
        Special::Array | Special::Map => {
            let Some(v) = v else { return Ok(()) };
            let f = m
                .field(1)
                .ok_or_else(|| err(m.name, "", "wrapper without items"))?;
            let mut o = Map::new();
            o.insert(f.json.to_string(), v.clone());
            field(m, f, &o, out, depth)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_roundtrip() {
        let obj = json!({
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {
                "name": "db",
                "namespace": "prod",
                "uid": "u-1",
                "creationTimestamp": "2024-01-02T03:04:05Z",
                "labels": {"b": "2", "a": "1"}
            },
            "data": {"password": "aHVudGVyMg=="},
            "type": "Opaque"
        });
        let b = encode_object(&obj).unwrap();
        assert!(b.starts_with(b"k8s\0"));
        let back = super::super::proto::decode(&b).unwrap();
        let mut want = obj.clone();
        // Maps come back sorted; equality of serde_json maps ignores order.
        want["metadata"]["labels"] = json!({"a": "1", "b": "2"});
        assert_eq!(back, want);
    }

    #[test]
    fn yaml_fixture() {
        let y = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 3\n  strategy:\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 1\n";
        let b = encode_yaml(y).unwrap();
        let v = super::super::proto::decode(&b).unwrap();
        assert_eq!(v["spec"]["replicas"], json!(3));
        assert_eq!(
            v["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            json!("25%")
        );
        assert_eq!(
            v["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
            json!(1)
        );
        assert_eq!(v["metadata"]["name"], json!("web"));
    }

    #[test]
    fn unknown_field_is_an_error() {
        let obj = json!({"kind": "Secret", "apiVersion": "v1", "bogus": 1});
        let e = encode_object(&obj).unwrap_err();
        assert!(
            matches!(e, KubeError::Encode { ref path, .. } if path == "bogus"),
            "{e}"
        );
    }
}
