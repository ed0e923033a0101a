//! The embedded Kubernetes/OpenShift protobuf schema (`proto/kube-schema.json`,
//! origin and format in `docs/kubernetes.md`).
//!
//! The file is ~1 MB with one message (or kind group) per line. Parsing all of
//! it would cost several milliseconds at startup, so we only index the lines
//! (name → line slice) on first use and deserialize a message the first time
//! it is needed. All names borrow the embedded text (`&'static str`), so the
//! decoder never allocates field names.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

static SCHEMA_JSON: &str = include_str!("../../proto/kube-schema.json");

/// Proto scalar types used by the API protos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Double,
    Float,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes,
            "bool" => Scalar::Bool,
            "int32" => Scalar::Int32,
            "int64" => Scalar::Int64,
            "uint32" => Scalar::Uint32,
            "uint64" => Scalar::Uint64,
            "sint32" => Scalar::Sint32,
            "sint64" => Scalar::Sint64,
            "fixed32" => Scalar::Fixed32,
            "fixed64" => Scalar::Fixed64,
            "sfixed32" => Scalar::Sfixed32,
            "sfixed64" => Scalar::Sfixed64,
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            _ => return None,
        })
    }

    /// The wire type the scalar uses when not packed.
    pub(crate) fn wire_type(self) -> u8 {
        match self {
            Scalar::String | Scalar::Bytes => 2,
            Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => 1,
            Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => 5,
            _ => 0,
        }
    }
}

/// The type of a field or of a map value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Scalar(Scalar),
    /// Full proto message name; resolve with [`Schema::message`].
    Message(&'static str),
}

impl Type {
    fn parse(s: &'static str) -> Type {
        match Scalar::parse(s) {
            Some(sc) => Type::Scalar(sc),
            None => Type::Message(s),
        }
    }
}

/// The JSON form of a message whose JSON is not a plain object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Rfc3339,
    Rfc3339Micro,
    GoDuration,
    Quantity,
    IntOrString,
    RawJson,
    FieldsMap,
    BoolOrSchema,
    SchemaOrArray,
    SchemaOrStringArray,
    Array,
    Map,
}

impl Special {
    fn parse(s: &str) -> Option<Special> {
        Some(match s {
            "rfc3339" => Special::Rfc3339,
            "rfc3339-micro" => Special::Rfc3339Micro,
            "go-duration" => Special::GoDuration,
            "quantity" => Special::Quantity,
            "int-or-string" => Special::IntOrString,
            "raw-json" => Special::RawJson,
            "fields-map" => Special::FieldsMap,
            "bool-or-schema" => Special::BoolOrSchema,
            "schema-or-array" => Special::SchemaOrArray,
            "schema-or-string-array" => Special::SchemaOrStringArray,
            "array" => Special::Array,
            "map" => Special::Map,
            _ => return None,
        })
    }
}

/// The Go kind of a message's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    Struct,
    Slice,
    Map,
}

/// One field of a message (public only as what a [`super::decode::Sink`]
/// is handed with a struct field's key).
#[derive(Debug)]
pub struct Field {
    pub(crate) n: u32,
    /// Proto field name.
    pub(crate) name: &'static str,
    /// JSON key (Go json tag name); `""` with `inline`; `"-"` = never shown.
    pub(crate) json: &'static str,
    pub(crate) ty: Type,
    /// For `map` fields: key scalar type (value type is in `ty`).
    pub(crate) map_key: Option<Scalar>,
    pub(crate) repeated: bool,
    pub(crate) omitempty: bool,
    pub(crate) omitzero: bool,
    pub(crate) pointer: bool,
    pub(crate) inline: bool,
    pub(crate) retired: bool,
    /// `json` with `:` after it (`json.len() + 1` bytes) when it is
    /// written plain as a YAML key ([`super::yaml_scalar::is_plain_name`],
    /// decided once here; the YAML writer copies it whole), else `""`.
    /// Padded with spaces to [`super::text_scan::BLOCK`] bytes.
    pub(crate) yaml_key: Box<str>,
    /// `json` as a JSON member's start, quoted, with `: ` after it
    /// (`json.len() + 4` bytes; the JSON writer copies it whole, without
    /// the space when compact); `""` when the name would need escaping
    /// (none in these APIs). Padded with spaces to
    /// [`super::text_scan::BLOCK`] bytes.
    pub(crate) json_key: Box<str>,
    /// `json` is `"-"`: never shown.
    pub(crate) hidden: bool,
    /// When absent from the wire the field shows nothing, decided from
    /// this field alone (retired, hidden, or `omitempty` on a slice, map
    /// or scalar other than a `resourceVersion`); `false` leaves it to
    /// the traversal's full rule.
    pub(crate) absent_skip: bool,
    /// A single field the traversal's flat path takes when present: not
    /// repeated, no map, not inline, retired or hidden.
    pub(crate) flat_member: bool,
    /// `ty` (or the map value type) resolved, filled on first use.
    resolved: OnceLock<Option<&'static Message>>,
}

/// `"name": ` for a name with nothing JSON (or Go's HTML-safe escaping)
/// would escape, else `""`.
fn json_member_start(name: &str) -> Box<str> {
    if name
        .bytes()
        .all(|c| (0x20..0x7f).contains(&c) && !matches!(c, b'"' | b'\\' | b'<' | b'>' | b'&'))
    {
        padded(format!("\"{name}\": "))
    } else {
        Box::default()
    }
}

/// `s` with spaces after it up to [`super::text_scan::BLOCK`] bytes, so a
/// writer copies a fixed block of it ([`super::text_scan::append_prefix`]).
fn padded(mut s: String) -> Box<str> {
    let n = super::text_scan::BLOCK.saturating_sub(s.len());
    s.extend(std::iter::repeat_n(' ', n));
    s.into()
}

impl Field {
    /// The message type of this field (or of its map values), cached.
    #[inline]
    pub(crate) fn message(&'static self) -> Option<&'static Message> {
        match self.ty {
            Type::Message(name) => *self.resolved.get_or_init(|| schema().message(name)),
            Type::Scalar(_) => None,
        }
    }

    pub(crate) fn is_map(&self) -> bool {
        self.map_key.is_some()
    }
}

/// One message type.
#[derive(Debug)]
pub(crate) struct Message {
    /// Full proto name, e.g. `k8s.io.api.core.v1.Pod`.
    pub name: &'static str,
    pub go: GoKind,
    pub typemeta: bool,
    pub special: Option<Special>,
    /// Live fields in Go declaration order, then retired ones by number.
    pub fields: Vec<Field>,
    /// field number → index into `fields` (`u16::MAX` = unknown).
    by_num: Vec<u16>,
    /// The fields in the order of their JSON keys as go-yaml sorts them,
    /// `None` when the members of the message's object are not its own
    /// fields alone (an inline field merges an embedded struct's, or two
    /// fields share a key).
    key_order: Option<KeyOrder>,
    /// The traversal's plan for a message whose present fields are all
    /// single ([`super::decode`]'s flat path), made on first use.
    pub(crate) flat: OnceLock<Option<Box<[u16]>>>,
    /// The traversal's sparse plan ([`super::decode`]), per order (schema
    /// order, then [`KeyOrder`]): the positions whose field shows
    /// something when absent, as bits; `None` past 64 fields. Made on
    /// first use.
    pub(crate) sparse: [OnceLock<Option<u64>>; 2],
}

/// A message's fields in sorted-key order ([`Message::key_order`]): what
/// lets a sorted output (YAML) take members in the order it prints them
/// instead of reordering their text.
#[derive(Debug)]
pub(crate) struct KeyOrder {
    /// Position → index into `fields`.
    pub fields: Vec<u16>,
    /// Field number → position (`u16::MAX` = unknown).
    pub by_num: Vec<u16>,
    /// The keys sort in the fields' own order (an env var's `name`,
    /// `value`, `valueFrom`), so fields read in schema order come in key
    /// order too.
    pub follows_fields: bool,
    /// The positions `apiVersion` and `kind` take among the fields, for a
    /// top-level object that shows them; `None` when a field has one of
    /// those keys.
    pub type_meta: Option<[u16; 2]>,
}

impl Message {
    /// Index into `fields` of field number `n`.
    #[inline]
    pub(crate) fn index_of(&self, n: u32) -> Option<usize> {
        match self.by_num.get(n as usize) {
            Some(&i) if i != u16::MAX => Some(i as usize),
            _ => None,
        }
    }

    /// The field with number `n`.
    pub(crate) fn field(&self, n: u32) -> Option<&Field> {
        self.index_of(n).map(|i| &self.fields[i])
    }

    /// Field number → index into `fields` (`u16::MAX` = unknown).
    #[inline]
    pub(crate) fn by_num(&self) -> &[u16] {
        &self.by_num
    }

    /// The fields in sorted-key order, when the message's object holds
    /// its own fields alone.
    #[inline]
    pub(crate) fn key_order(&self) -> Option<&KeyOrder> {
        self.key_order.as_ref()
    }
}

/// [`KeyOrder`] of `fields` (`by_num`: their numbers' table), by go-yaml's
/// key comparison ([`super::yaml_scalar::key_less_bytes`]).
fn key_order(fields: &[Field], by_num: &[u16]) -> Option<KeyOrder> {
    if fields.iter().any(|f| f.inline || f.json.is_empty()) {
        return None;
    }
    let shown: Vec<u16> = (0..fields.len() as u16)
        .filter(|&i| fields[i as usize].json != "-")
        .collect();
    let mut names: Vec<&str> = shown.iter().map(|&i| fields[i as usize].json).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    // Every field gets a position (hidden ones last), so a field on the
    // wire is never mistaken for an unknown one.
    let mut order = shown;
    super::yaml_scalar::sort_by_less(&mut order, |&a, &b| {
        super::yaml_scalar::key_less_bytes(
            fields[a as usize].json.as_bytes(),
            fields[b as usize].json.as_bytes(),
        )
    });
    let shown_keys = order.len();
    let type_meta = ["apiVersion", "kind"].map(|k| {
        let at = order[..shown_keys]
            .iter()
            .take_while(|&&i| {
                super::yaml_scalar::key_less_bytes(fields[i as usize].json.as_bytes(), k.as_bytes())
            })
            .count();
        at as u16
    });
    let type_meta = (!fields
        .iter()
        .any(|f| f.json == "apiVersion" || f.json == "kind"))
    .then_some(type_meta);
    order.extend((0..fields.len() as u16).filter(|&i| fields[i as usize].json == "-"));
    let mut pos_of = vec![u16::MAX; fields.len()];
    for (pos, &fi) in order.iter().enumerate() {
        pos_of[fi as usize] = pos as u16;
    }
    let by_num = by_num
        .iter()
        .map(|&i| pos_of.get(i as usize).copied().unwrap_or(u16::MAX))
        .collect();
    let follows_fields = pos_of.windows(2).all(|w| w[0] < w[1]);
    Some(KeyOrder {
        fields: order,
        by_num,
        follows_fields,
        type_meta,
    })
}

/// One kind registered in an apiVersion.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub message: &'static str,
    pub legacy: bool,
    pub retired: bool,
}

struct MsgSlot {
    line: &'static str,
    parsed: OnceLock<Option<Message>>,
}

struct KindsSlot {
    line: &'static str,
    parsed: OnceLock<HashMap<&'static str, KindInfo>>,
}

/// The schema. Obtain it with [`schema()`].
pub struct Schema {
    messages: HashMap<&'static str, MsgSlot>,
    kinds: Vec<(&'static str, KindsSlot)>,
    common_kinds: HashMap<&'static str, &'static str>,
    special: HashMap<&'static str, Special>,
}

/// The process-wide schema, indexed on first call (about a millisecond).
pub fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| Schema::index(SCHEMA_JSON))
}

/// Splits `"name":rest,` into (name, rest without the trailing comma).
fn split_entry(line: &str) -> Option<(&str, &str)> {
    let line = line.strip_prefix('"')?;
    let q = line.find("\":")?;
    let name = &line[..q];
    let rest = line[q + 2..].trim_end();
    let rest = rest.strip_suffix(',').unwrap_or(rest);
    Some((name, rest))
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(default)]
    go: Option<&'a str>,
    #[serde(default)]
    typemeta: bool,
    #[serde(borrow)]
    fields: Vec<RawField<'a>>,
}

#[derive(Deserialize)]
struct RawField<'a> {
    n: u32,
    name: &'a str,
    json: &'a str,
    #[serde(rename = "type")]
    ty: &'a str,
    #[serde(default)]
    key: Option<&'a str>,
    #[serde(default)]
    value: Option<&'a str>,
    #[serde(default)]
    label: Option<&'a str>,
    #[serde(default)]
    omitempty: bool,
    #[serde(default)]
    omitzero: bool,
    #[serde(default)]
    pointer: bool,
    #[serde(default)]
    inline: bool,
    #[serde(default)]
    retired: bool,
}

#[derive(Deserialize)]
struct RawKind<'a> {
    message: &'a str,
    #[serde(default)]
    legacy: bool,
    #[serde(default)]
    retired: bool,
}

impl Schema {
    fn index(text: &'static str) -> Schema {
        #[derive(PartialEq)]
        enum Sec {
            Other,
            Special,
            Common,
            Kinds,
            Messages,
        }
        let mut sec = Sec::Other;
        let mut s = Schema {
            messages: HashMap::with_capacity(2048),
            kinds: Vec::with_capacity(128),
            common_kinds: HashMap::new(),
            special: HashMap::new(),
        };
        for line in text.lines() {
            match line {
                "\"special\":{" => sec = Sec::Special,
                "\"common_kinds\":{" => sec = Sec::Common,
                "\"kinds\":{" => sec = Sec::Kinds,
                "\"messages\":{" => sec = Sec::Messages,
                "\"meta\":{" => sec = Sec::Other,
                _ if line.starts_with("\"enums\"") => sec = Sec::Other,
                _ => {
                    if sec == Sec::Other || !line.starts_with('"') {
                        continue;
                    }
                    let Some((name, rest)) = split_entry(line) else {
                        continue;
                    };
                    match sec {
                        Sec::Messages => {
                            s.messages.insert(
                                name,
                                MsgSlot {
                                    line: rest,
                                    parsed: OnceLock::new(),
                                },
                            );
                        }
                        Sec::Kinds => s.kinds.push((
                            name,
                            KindsSlot {
                                line: rest,
                                parsed: OnceLock::new(),
                            },
                        )),
                        Sec::Special | Sec::Common => {
                            let v = rest.trim_matches('"');
                            if sec == Sec::Special {
                                if let Some(sp) = Special::parse(v) {
                                    s.special.insert(name, sp);
                                }
                            } else {
                                s.common_kinds.insert(name, v);
                            }
                        }
                        Sec::Other => {}
                    }
                }
            }
        }
        s
    }

    /// Looks up a message by full proto name, parsing it on first use.
    pub(crate) fn message(&'static self, name: &str) -> Option<&'static Message> {
        let (&key, slot) = self.messages.get_key_value(name)?;
        slot.parsed
            .get_or_init(|| self.parse_message(key, slot.line))
            .as_ref()
    }

    fn parse_message(&self, name: &'static str, line: &'static str) -> Option<Message> {
        let raw: RawMessage<'static> = serde_json::from_str(line).ok()?;
        let go = match raw.go {
            Some("slice") => GoKind::Slice,
            Some("map") => GoKind::Map,
            _ => GoKind::Struct,
        };
        let mut fields = Vec::with_capacity(raw.fields.len());
        let mut max_n = 0;
        for f in raw.fields {
            let (ty, map_key) = if f.ty == "map" {
                let k = f.key.and_then(Scalar::parse).unwrap_or(Scalar::String);
                (Type::parse(f.value.unwrap_or("string")), Some(k))
            } else {
                (Type::parse(f.ty), None)
            };
            max_n = max_n.max(f.n);
            let repeated = f.label == Some("repeated");
            let absent_skip = f.retired
                || f.json == "-"
                || (f.omitempty
                    && !f.inline
                    && (map_key.is_some()
                        || repeated
                        || (matches!(ty, Type::Scalar(_)) && f.json != "resourceVersion")));
            fields.push(Field {
                n: f.n,
                name: f.name,
                json: f.json,
                ty,
                map_key,
                repeated,
                omitempty: f.omitempty,
                omitzero: f.omitzero,
                pointer: f.pointer,
                inline: f.inline,
                retired: f.retired,
                yaml_key: if super::yaml_scalar::is_plain_name(f.json.as_bytes()) {
                    padded(format!("{}:", f.json))
                } else {
                    Box::default()
                },
                json_key: json_member_start(f.json),
                hidden: f.json == "-",
                absent_skip,
                flat_member: !repeated
                    && map_key.is_none()
                    && !f.inline
                    && !f.retired
                    && f.json != "-",
                resolved: OnceLock::new(),
            });
        }
        // Field numbers in these APIs are small (< 100); guard against a
        // malformed schema allocating a huge table.
        let mut by_num = vec![u16::MAX; (max_n.min(4096) + 1) as usize];
        for (i, f) in fields.iter().enumerate() {
            if let Some(slot) = by_num.get_mut(f.n as usize) {
                // The first definition (live before retired) wins.
                if *slot == u16::MAX {
                    *slot = i as u16;
                }
            }
        }
        let key_order = key_order(&fields, &by_num);
        Some(Message {
            name,
            go,
            typemeta: raw.typemeta,
            special: self.special.get(name).copied(),
            fields,
            by_num,
            key_order,
            flat: OnceLock::new(),
            sparse: [OnceLock::new(), OnceLock::new()],
        })
    }

    /// The message of `kind` in `api_version` (e.g. `"apps/v1"`, `"Deployment"`).
    /// Falls back to the kinds registered in every group version.
    pub fn kind(&'static self, api_version: &str, kind: &str) -> Option<KindInfo> {
        if let Some(k) = self.kinds_of(api_version).and_then(|m| m.get(kind)) {
            return Some(*k);
        }
        self.common_kinds.get(kind).map(|&m| KindInfo {
            message: m,
            legacy: false,
            retired: false,
        })
    }

    /// All kinds of one apiVersion.
    pub(crate) fn kinds_of(
        &'static self,
        api_version: &str,
    ) -> Option<&'static HashMap<&'static str, KindInfo>> {
        let (_, slot) = self.kinds.iter().find(|(v, _)| *v == api_version)?;
        Some(slot.parsed.get_or_init(|| {
            let raw: HashMap<&'static str, RawKind<'static>> =
                serde_json::from_str(slot.line).unwrap_or_default();
            raw.into_iter()
                .map(|(k, r)| {
                    (
                        k,
                        KindInfo {
                            message: r.message,
                            legacy: r.legacy,
                            retired: r.retired,
                        },
                    )
                })
                .collect()
        }))
    }

    /// Every apiVersion the schema knows, in file order.
    pub(crate) fn api_versions(&'static self) -> impl Iterator<Item = &'static str> {
        self.kinds.iter().map(|(v, _)| *v)
    }

    #[cfg(test)]
    /// Every message name, in no particular order.
    pub(crate) fn message_names(&'static self) -> impl Iterator<Item = &'static str> {
        self.messages.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_parses_and_resolves() {
        let s = schema();
        let mut missing = Vec::new();
        for name in s.message_names() {
            let m = s
                .message(name)
                .unwrap_or_else(|| panic!("{name} does not parse"));
            for f in &m.fields {
                // The streaming writer copies JSON names without escaping.
                assert!(
                    f.json
                        .bytes()
                        .all(|c| (0x20..0x80).contains(&c) && !b"\"\\<>&".contains(&c)),
                    "{name}.{} has JSON name {:?}",
                    f.name,
                    f.json
                );
                if let Type::Message(t) = f.ty {
                    if s.message(t).is_none() {
                        missing.push(format!("{name}.{} -> {t}", f.name));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "unresolved types: {missing:?}");
        for av in s.api_versions() {
            for (kind, k) in s.kinds_of(av).unwrap() {
                assert!(
                    s.message(k.message).is_some(),
                    "{av} {kind} -> {}",
                    k.message
                );
            }
        }
    }

    #[test]
    fn indexes_and_parses() {
        let s = schema();
        assert!(s.message_names().count() > 1500);
        let om = s
            .message("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta")
            .unwrap();
        assert_eq!(om.field(1).unwrap().json, "name");
        assert_eq!(om.field(17).unwrap().json, "managedFields");
        assert!(om.field(15).unwrap().retired);
        let t = s
            .message("k8s.io.apimachinery.pkg.apis.meta.v1.Time")
            .unwrap();
        assert_eq!(t.special, Some(Special::Rfc3339));
        let k = s.kind("v1", "Secret").unwrap();
        assert_eq!(k.message, "k8s.io.api.core.v1.Secret");
        assert_eq!(
            s.kind("apps/v1", "DeleteOptions").unwrap().message,
            "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"
        );
        assert!(s.kind("route.openshift.io/v1", "Route").is_some());
        let secret = s.message(k.message).unwrap();
        let data = secret.field(2).unwrap();
        assert!(data.is_map());
        assert_eq!(data.ty, Type::Scalar(Scalar::Bytes));
    }
}
