//! YAML text as `kubectl get -o yaml` lays it out: a [`Sink`] of the schema
//! traversal, so YAML output needs no `serde_json::Value`.
//!
//! The text is byte for byte what serde-saphyr 1.3 writes for the same
//! object with every map's keys sorted (the YAML this tool printed before):
//! block style, two-space indent, sequences not indented under their key,
//! `{}`/`[]` when empty. Keys arrive in Go struct order and are sorted when
//! their map ends, by moving the members' text. Scalars that are plainly
//! safe (most names, labels, images) are written here; every other scalar
//! is spelled by serde-saphyr itself (quoting, escapes, `|`/`>` blocks),
//! then indented for its place, so the quoting rules exist in one place.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value as J;

use super::decode::Sink;

enum Kind {
    Map,
    Seq,
}

struct Frame {
    kind: Kind,
    /// Column of this container's keys or dashes.
    col: usize,
    /// Members written so far.
    count: usize,
    /// For maps: (key range in `keys`, member start in `out`) per member.
    members_from: usize,
    /// Where `keys` stood when the map opened.
    keys_from: usize,
    /// The first member shares a `- ` line.
    inline: bool,
}

/// Where the next value goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of a line (top level, or a sequence item to come).
    LineStart,
    /// Right after `key:`.
    AfterColon,
    /// Right after `- `.
    AfterDash,
}

/// YAML text appended to a buffer.
pub struct YamlEmitter<'o> {
    out: &'o mut Vec<u8>,
    stack: Vec<Frame>,
    at: At,
    /// Raw key text of open maps' members.
    keys: Vec<u8>,
    /// (key start, key end, member start in `out`) of open maps' members.
    members: Vec<(usize, usize, usize)>,
    /// Scratch for reordering members.
    scratch: Vec<u8>,
}

impl<'o> YamlEmitter<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        YamlEmitter {
            out,
            stack: Vec::new(),
            at: At::LineStart,
            keys: Vec::new(),
            members: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn spaces(&mut self, n: usize) {
        self.out.resize(self.out.len() + n, b' ');
    }

    /// The column of the key or dash that introduces the next value.
    fn col(&self) -> usize {
        self.stack.last().map_or(0, |f| f.col)
    }

    /// Before a value: a sequence item's dash.
    fn pre(&mut self) {
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        if let Kind::Seq = f.kind {
            let col = f.col;
            f.count += 1;
            if self.at != At::AfterDash {
                if self.at == At::AfterColon {
                    self.out.push(b'\n');
                }
                self.spaces(col);
            }
            self.out.extend_from_slice(b"- ");
            self.at = At::AfterDash;
        }
    }

    /// A scalar's text (one line, or a block scalar's lines spelled for
    /// column 0): written after `key:` or `- `, later lines indented.
    fn scalar_text(&mut self, text: &[u8], col: usize) {
        if self.at == At::AfterColon {
            self.out.push(b' ');
        }
        let mut lines = text.split(|&c| c == b'\n');
        if let Some(first) = lines.next() {
            self.out.extend_from_slice(first);
        }
        for l in lines {
            self.out.push(b'\n');
            if !l.is_empty() {
                self.spaces(col);
                self.out.extend_from_slice(l);
            }
        }
        self.out.push(b'\n');
        self.at = At::LineStart;
    }

    fn plain(&mut self, text: &[u8]) {
        self.pre();
        if self.at == At::AfterColon {
            self.out.push(b' ');
        }
        self.out.extend_from_slice(text);
        self.out.push(b'\n');
        self.at = At::LineStart;
    }

    fn string(&mut self, s: &str) {
        self.pre();
        if plain_value(s) {
            if self.at == At::AfterColon {
                self.out.push(b' ');
            }
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'\n');
            self.at = At::LineStart;
            return;
        }
        if is_timestamp(s) {
            // RFC 3339 text reads as a YAML 1.1 timestamp: double-quoted.
            if self.at == At::AfterColon {
                self.out.push(b' ');
            }
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.extend_from_slice(b"\"\n");
            self.at = At::LineStart;
            return;
        }
        let col = self.col();
        if s.len() <= 32 && !s.contains('\n') {
            // Short one-line values (quantities, IPs, ports) repeat: cached.
            let out = &mut *self.out;
            let at = self.at;
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                if at == At::AfterColon {
                    out.push(b' ');
                }
                match c.values.get(s) {
                    Some(t) => out.extend_from_slice(t.as_bytes()),
                    None => {
                        let t = saphyr_value(s);
                        out.extend_from_slice(t.as_bytes());
                        if c.values.len() > 4096 {
                            c.values.clear();
                        }
                        c.values.insert(s.to_string(), t);
                    }
                }
                out.push(b'\n');
            });
            self.at = At::LineStart;
            return;
        }
        let text = saphyr_value(s);
        self.scalar_text(text.as_bytes(), col);
    }

    fn open(&mut self, kind: Kind) {
        self.pre();
        let parent_col = self.col();
        let col = match (&kind, self.stack.last().map(|f| &f.kind)) {
            (_, None) => 0,
            // A map's keys go two in from its key or dash.
            (Kind::Map, Some(_)) => parent_col + 2,
            // A sequence under a key: dashes at the key's column.
            (Kind::Seq, Some(Kind::Map)) => parent_col,
            // A sequence in a sequence item: after the outer dash.
            (Kind::Seq, Some(Kind::Seq)) => parent_col + 2,
        };
        self.stack.push(Frame {
            kind,
            col,
            count: 0,
            members_from: self.members.len(),
            keys_from: self.keys.len(),
            inline: false,
        });
    }

    fn close(&mut self, empty: &[u8]) {
        let Some(f) = self.stack.pop() else { return };
        if f.count == 0 {
            if self.at == At::AfterColon {
                self.out.push(b' ');
            }
            self.out.extend_from_slice(empty);
            self.out.push(b'\n');
            self.at = At::LineStart;
        }
        if let Kind::Map = f.kind {
            if f.count > 1 {
                self.sort_members(f.members_from, f.inline, f.col);
            }
            self.members.truncate(f.members_from);
            self.keys.truncate(f.keys_from);
        }
    }

    /// Reorders the members of the map that just ended by key (byte order),
    /// moving their text; of duplicate keys the last one written stays.
    /// `inline`: the first member shares a `- ` line (no indentation of its
    /// own), at column `col`.
    fn sort_members(&mut self, from: usize, inline: bool, col: usize) {
        let ms = &self.members[from..];
        let keys = &self.keys;
        if ms
            .windows(2)
            .all(|w| keys[w[0].0..w[0].1] < keys[w[1].0..w[1].1])
        {
            return;
        }
        let start = ms[0].2;
        let end = self.out.len();
        // (key start, key end, text start, text end) in written order.
        let mut spans: Vec<(usize, usize, usize, usize)> = ms
            .iter()
            .enumerate()
            .map(|(i, m)| (m.0, m.1, m.2, ms.get(i + 1).map_or(end, |n| n.2)))
            .collect();
        spans.sort_by(|a, b| keys[a.0..a.1].cmp(&keys[b.0..b.1]));
        self.scratch.clear();
        let mut first = true;
        for (i, s) in spans.iter().enumerate() {
            if spans
                .get(i + 1)
                .is_some_and(|n| keys[n.0..n.1] == keys[s.0..s.1])
            {
                continue;
            }
            let mut text = &self.out[s.2..s.3];
            if inline {
                let was_first = s.2 == start;
                if first && !was_first {
                    text = text.get(col..).unwrap_or_default();
                } else if !first && was_first {
                    self.scratch.resize(self.scratch.len() + col, b' ');
                }
            }
            self.scratch.extend_from_slice(text);
            first = false;
        }
        self.out.truncate(start);
        self.out.extend_from_slice(&self.scratch);
    }

    fn map_key(&mut self, k: &str) {
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        f.count += 1;
        if f.count == 1 && self.at == At::AfterDash {
            f.inline = true;
        }
        let col = f.col;
        match self.at {
            At::AfterDash => {}
            At::AfterColon => {
                self.out.push(b'\n');
                self.spaces(col);
            }
            At::LineStart => self.spaces(col),
        }
        let member_start = if self.at == At::AfterDash {
            // The first key of a sequence item's map shares the dash's
            // line; its text starts after the dash so moving it keeps `- `.
            self.out.len()
        } else {
            self.out.len() - col
        };
        let ks = self.keys.len();
        self.keys.extend_from_slice(k.as_bytes());
        self.members.push((ks, self.keys.len(), member_start));
        if plain_key(k) {
            self.out.extend_from_slice(k.as_bytes());
        } else {
            saphyr_key(k, self.out);
        }
        self.out.push(b':');
        self.at = At::AfterColon;
    }
}

fn digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Strings serde-saphyr writes unquoted, recognised cheaply: a letter
/// first, then letters, digits and `._/-:@+ `, no `: `, no trailing `:` or
/// space, at most 80 bytes (longer ones fold), not a YAML 1.1 bool or null.
fn plain_value(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 80 || !b[0].is_ascii_alphabetic() {
        return false;
    }
    if !b.iter().all(|&c| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'.' | b'_' | b'/' | b'-' | b':' | b'@' | b'+' | b' ')
    }) {
        return false;
    }
    if matches!(b[b.len() - 1], b':' | b' ') || s.contains(": ") {
        return false;
    }
    !reserved_word(s)
}

/// Keys serde-saphyr writes unquoted, recognised cheaply: as
/// [`plain_value`] without `:`, `@`, `+` or spaces.
fn plain_key(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 80 || !b[0].is_ascii_alphabetic() {
        return false;
    }
    b.iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !reserved_word(s)
}

/// Words YAML 1.1 or 1.2 reads as bools, nulls or floats.
fn reserved_word(s: &str) -> bool {
    s.len() <= 5
        && [
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
        ]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// A string value as serde-saphyr writes it under a key at column 0
/// (`k: <this>`), without the leading space and final newline.
fn saphyr_value(s: &str) -> String {
    let mut m = serde_json::Map::with_capacity(1);
    m.insert("k".into(), J::String(s.to_string()));
    let t = serde_saphyr::to_string(&J::Object(m)).unwrap_or_default();
    let t = t.strip_prefix("k:").unwrap_or(&t);
    let t = t.strip_prefix(' ').unwrap_or(t);
    t.strip_suffix('\n').unwrap_or(t).to_string()
}

/// Keys and short values that needed serde-saphyr, as it spelled them
/// (managedFields' `f:…` keys, quantities and IPs repeat).
#[derive(Default)]
struct Cache {
    keys: HashMap<String, String>,
    values: HashMap<String, String>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// `2006-01-02T15:04:05Z` or with six fraction digits: what the
/// traversal's times look like; YAML 1.1 reads them as timestamps.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let shape = (b.len() == 20 || (b.len() == 27 && b[19] == b'.' && (20..26).all(d)))
        && (0..4).all(d)
        && b[4] == b'-'
        && d(5)
        && d(6)
        && b[7] == b'-'
        && d(8)
        && d(9)
        && b[10] == b'T'
        && d(11)
        && d(12)
        && b[13] == b':'
        && d(14)
        && d(15)
        && b[16] == b':'
        && d(17)
        && d(18);
    shape && b[b.len() - 1] == b'Z'
}

/// A key as serde-saphyr writes it (quoted when it must be).
fn saphyr_key(k: &str, out: &mut Vec<u8>) {
    CACHE.with(|c| {
        let c = &mut c.borrow_mut().keys;
        if let Some(t) = c.get(k) {
            out.extend_from_slice(t.as_bytes());
            return;
        }
        let mut m = serde_json::Map::with_capacity(1);
        m.insert(k.to_string(), J::Null);
        let t = serde_saphyr::to_string(&J::Object(m)).unwrap_or_default();
        let t = t.strip_suffix(": null\n").unwrap_or(&t).to_string();
        out.extend_from_slice(t.as_bytes());
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(k.to_string(), t);
    });
}

impl Sink for YamlEmitter<'_> {
    fn begin_object(&mut self) {
        self.open(Kind::Map);
    }

    fn end_object(&mut self) {
        self.close(b"{}");
    }

    fn begin_array(&mut self) {
        self.open(Kind::Seq);
    }

    fn end_array(&mut self) {
        self.close(b"[]");
    }

    fn key(&mut self, k: &str) {
        self.map_key(k);
    }

    fn key_bytes(&mut self, k: &[u8]) {
        let k = String::from_utf8_lossy(k);
        self.map_key(&k);
    }

    fn null(&mut self) {
        self.plain(b"null");
    }

    fn bool(&mut self, b: bool) {
        self.plain(if b { b"true" } else { b"false" });
    }

    fn i64(&mut self, v: i64) {
        let mut buf = [0u8; 20];
        let d = digits(v.unsigned_abs(), &mut buf);
        if v < 0 {
            let mut t = [0u8; 21];
            t[0] = b'-';
            t[1..=d.len()].copy_from_slice(d);
            self.plain(&t[..=d.len()]);
        } else {
            self.plain(d);
        }
    }

    fn u64(&mut self, v: u64) {
        let mut buf = [0u8; 20];
        let d = digits(v, &mut buf);
        self.plain(d);
    }

    fn f64(&mut self, f: f64) {
        if !f.is_finite() {
            self.null();
        } else if f.fract() == 0.0 && f.abs() < 1e15 {
            self.i64(f as i64);
        } else {
            let t = serde_saphyr::to_string(&f).unwrap_or_default();
            self.plain(t.trim_end().as_bytes());
        }
    }

    fn str_bytes(&mut self, b: &[u8]) {
        match std::str::from_utf8(b) {
            Ok(s) => self.string(s),
            Err(_) => self.string(&String::from_utf8_lossy(b)),
        }
    }

    fn str(&mut self, s: &str) {
        self.string(s);
    }

    fn base64(&mut self, b: &[u8]) {
        use base64::Engine as _;
        let s = base64::engine::general_purpose::STANDARD.encode(b);
        self.string(&s);
    }

    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        let mut t = Vec::with_capacity(27);
        super::timefmt::write_rfc3339(&mut t, seconds, micros);
        self.string(&String::from_utf8_lossy(&t));
    }

    fn raw_json(&mut self, b: &[u8]) {
        match serde_json::from_slice::<J>(b) {
            Ok(v) => self.value(&v),
            Err(_) => self.str_bytes(b),
        }
    }

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
                    self.f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::String(s) => self.string(s),
            J::Array(a) => {
                self.begin_array();
                for x in a {
                    self.value(x);
                }
                self.end_array();
            }
            J::Object(o) => {
                self.begin_object();
                for (k, x) in o {
                    self.map_key(k);
                    self.value(x);
                }
                self.end_object();
            }
        }
    }
}

/// Appends the YAML of one stored value (any encoding), keys sorted as
/// kubectl prints them; `resource_version` fills
/// `metadata.resourceVersion`. On error `out` may hold a partial document.
pub fn write_value_rv(
    value: &[u8],
    resource_version: Option<i64>,
    out: &mut Vec<u8>,
) -> Result<(), super::KubeError> {
    super::decode_into(value, resource_version, &mut YamlEmitter::new(out))
}

/// Appends the YAML of a `serde_json::Value`, keys sorted.
pub fn write_json_value(v: &J, out: &mut Vec<u8>) {
    YamlEmitter::new(out).value(v);
}
