//! The Go-compatible JSON text emitter: the one place that knows how
//! Kubernetes JSON is spelled — string escaping as Go's encoding/json
//! (`<`, `>`, `&`, U+2028/9 as `\uXXXX`, invalid UTF-8 as U+FFFD), numbers,
//! base64, and the two layouts (`serde_json::to_string_pretty`'s two-space
//! indent, or compact). See docs/kubernetes.md, "Rendering rules".
//!
//! [`JsonEmitter`] is a [`Sink`] of the schema traversal
//! ([`super::decode`]); it also writes `serde_json::Value`s and re-indents
//! stored JSON text. It knows nothing of protobuf or the schema.

use serde_json::Value as J;

use super::decode::Sink;
use super::schema::Field;
use super::text_scan::{append_base64, append_prefix, plain_len};

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

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A comma, a line break and the indentation of up to 63 levels (from
/// byte 1 without the comma).
static COMMA_NEWLINE_SPACES: &[u8; 128] = &{
    let mut a = [b' '; 128];
    a[0] = b',';
    a[1] = b'\n';
    a
};

/// Bytes that end a plain run: `"`, `\\`, controls, non-ASCII (for the
/// UTF-8 check and U+2028/9); with Go escaping also `<`, `>`, `&`. The
/// reference the vector test of [`JsonEmitter::str_body`] is checked on.
#[cfg(test)]
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
#[cfg(test)]
static ESC: [u8; 256] = esc_table(false);
#[cfg(test)]
static ESC_GO: [u8; 256] = esc_table(true);

/// Go's encoding/json escape of U+2028/U+2029 when `b[i..]` starts with
/// one (bytes E2 80 A8 / E2 80 A9).
#[inline]
fn line_separator_escape(b: &[u8], i: usize) -> Option<&'static [u8]> {
    match (b.get(i), b.get(i + 1), b.get(i + 2)) {
        (Some(0xe2), Some(0x80), Some(0xa8)) => Some(b"\\u2028"),
        (Some(0xe2), Some(0x80), Some(0xa9)) => Some(b"\\u2029"),
        _ => None,
    }
}

/// Valid UTF-8 JSON (serde's IgnoredAny skips strings without a UTF-8 check).
pub(crate) fn is_json(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok() && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

/// JSON text appended to a buffer. Layout state is flat: whether the open
/// container already holds something, and whether a key was just written.
pub(crate) struct JsonEmitter<'o> {
    /// The caller's buffer, taken for the emitter's life (given back on
    /// drop): owned, every write reaches it with one load less.
    out: Vec<u8>,
    home: &'o mut Vec<u8>,
    style: Style,
    indent: usize,
    /// The current container holds a member (a `,` goes before the next).
    need_comma: bool,
    /// A key was written; its value follows on the same line.
    after_key: bool,
}

impl<'o> JsonEmitter<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>, style: Style) -> Self {
        Self::at_depth(out, style, 0)
    }

    /// An emitter whose top-level value sits `depth` levels deep in an
    /// enclosing pretty document (e.g. an item of a List's `items` is at
    /// depth 2): it starts on a new line indented to that depth, and its
    /// lines are indented as if written inside the enclosing document.
    /// With depth 0 (or a compact style) it is [`JsonEmitter::new`].
    pub(crate) fn at_depth(out: &'o mut Vec<u8>, style: Style, depth: usize) -> Self {
        JsonEmitter {
            out: std::mem::take(out),
            home: out,
            style,
            indent: depth,
            need_comma: false,
            after_key: false,
        }
    }

    /// A new line and the indentation of the current depth, in one copy
    /// from a static run of spaces (this runs once per output line).
    #[inline]
    fn newline(&mut self) {
        self.comma_newline(false);
    }

    /// [`Self::newline`], a comma before it when `comma`, in one copy.
    #[inline]
    fn comma_newline(&mut self, comma: bool) {
        if self.style.pretty {
            let from = usize::from(!comma);
            let to = 2 + 2 * self.indent;
            if to <= COMMA_NEWLINE_SPACES.len() {
                append_prefix(&mut self.out, &COMMA_NEWLINE_SPACES[from..], to - from);
            } else {
                self.out.extend_from_slice(&COMMA_NEWLINE_SPACES[from..]);
                for _ in COMMA_NEWLINE_SPACES.len()..to {
                    self.out.push(b' ');
                }
            }
        } else if comma {
            self.out.push(b',');
        }
    }

    /// Before a value: `,` and a new line inside arrays, nothing after a key.
    #[inline]
    fn pre(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if self.indent > 0 {
            self.comma_newline(self.need_comma);
        }
    }

    #[inline]
    fn open(&mut self, c: u8) {
        self.pre();
        self.out.push(c);
        self.indent += 1;
        self.need_comma = false;
    }

    #[inline]
    fn close(&mut self, c: u8) {
        self.indent = self.indent.saturating_sub(1);
        if self.need_comma {
            self.newline();
        }
        self.out.push(c);
        self.need_comma = true;
    }

    #[inline]
    fn key_pre(&mut self) {
        self.comma_newline(self.need_comma);
    }

    #[inline]
    fn colon(&mut self) {
        self.out
            .extend_from_slice(if self.style.pretty { b": " } else { b":" });
        self.after_key = true;
    }

    fn digits(&mut self, mut v: u64) {
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

    /// A quoted, escaped string from bytes (invalid UTF-8 → U+FFFD, like Go).
    #[inline]
    fn quoted(&mut self, b: &[u8], checked: bool) {
        // Nearly every string is plain to its end: one copy, no call.
        let plain = self.plain_len(b);
        self.out.reserve(b.len() + 2);
        self.out.push(b'"');
        if plain == b.len() {
            self.out.extend_from_slice(b);
        } else {
            self.str_body(b, plain, checked);
        }
        self.out.push(b'"');
    }

    /// How many leading bytes of `b` need no escape and no UTF-8 check.
    #[inline(always)]
    fn plain_len(&self, b: &[u8]) -> usize {
        if self.style.go_escape {
            plain_len(b, 0x20, [b'"', b'\\', b'<', b'>', b'&'])
        } else {
            plain_len(b, 0x20, [b'"', b'\\'])
        }
    }

    /// String contents, escaped, the first `plain` bytes known to need
    /// nothing. ASCII without specials is copied in runs; the first
    /// non-ASCII byte triggers one UTF-8 check of the rest.
    fn str_body(&mut self, b: &[u8], plain: usize, mut checked: bool) {
        let go = self.style.go_escape;
        let mut start = 0;
        let mut i = plain;
        loop {
            // Plain bytes, sixteen at a time.
            i += self.plain_len(&b[i..]);
            let Some(&c) = b.get(i) else { break };
            if c >= 0x80 {
                if !checked {
                    if std::str::from_utf8(&b[i..]).is_err() {
                        self.out.extend_from_slice(&b[start..i]);
                        let fixed = String::from_utf8_lossy(&b[i..]);
                        self.str_body(fixed.as_bytes(), 0, true);
                        return;
                    }
                    checked = true;
                }
                // A run of non-ASCII bytes (valid UTF-8 now): only U+2028
                // and U+2029 are escaped, and only with Go's escaping.
                while let Some(&c) = b.get(i) {
                    if c < 0x80 {
                        break;
                    }
                    if go {
                        if let Some(r) = line_separator_escape(b, i) {
                            self.out.extend_from_slice(&b[start..i]);
                            self.out.extend_from_slice(r);
                            i += 3;
                            start = i;
                            continue;
                        }
                    }
                    i += 1;
                }
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

    /// A string token of validated JSON text copied as written, with Go's
    /// HTML escaping applied.
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
                0xe2 => match line_separator_escape(tok, i) {
                    Some(r) => {
                        self.out.extend_from_slice(&tok[start..i]);
                        self.out.extend_from_slice(r);
                        i += 3;
                        start = i;
                        continue;
                    }
                    None => None,
                },
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
}

impl Drop for JsonEmitter<'_> {
    fn drop(&mut self) {
        *self.home = std::mem::take(&mut self.out);
    }
}

impl Sink for JsonEmitter<'_> {
    #[inline]
    fn mark(&self) -> Option<super::decode::Mark> {
        Some(super::decode::Mark {
            len: self.out.len(),
            state: [
                self.indent,
                usize::from(self.need_comma),
                usize::from(self.after_key),
                0,
                0,
                0,
            ],
            ..Default::default()
        })
    }

    fn rewind(&mut self, mark: super::decode::Mark) {
        let [indent, need_comma, after_key, ..] = mark.state;
        self.out.truncate(mark.len);
        self.indent = indent;
        self.need_comma = need_comma != 0;
        self.after_key = after_key != 0;
    }

    #[inline]
    fn begin_object(&mut self) {
        self.open(b'{');
    }

    #[inline]
    fn end_object(&mut self) {
        self.close(b'}');
    }

    #[inline]
    fn begin_array(&mut self) {
        self.open(b'[');
    }

    #[inline]
    fn end_array(&mut self) {
        self.close(b']');
    }

    #[inline]
    fn key(&mut self, k: &str) {
        self.key_pre();
        self.out.reserve(k.len() + 4);
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out
            .extend_from_slice(if self.style.pretty { b"\": " } else { b"\":" });
        self.after_key = true;
    }

    #[inline]
    fn field_key(&mut self, f: &'static Field) {
        // `"name": ` as the schema spelled it once (padded past its
        // length); a name it did not spell is written as any key.
        let len = f.json.len() + 4 - usize::from(!self.style.pretty);
        if f.json_key.len() < len {
            return self.key(f.json);
        }
        self.key_pre();
        append_prefix(&mut self.out, f.json_key.as_bytes(), len);
        self.after_key = true;
    }

    fn key_bytes(&mut self, k: &[u8]) {
        self.key_pre();
        self.quoted(k, false);
        self.colon();
    }

    fn null(&mut self) {
        self.pre();
        self.out.extend_from_slice(b"null");
        self.need_comma = true;
    }

    fn bool(&mut self, b: bool) {
        self.pre();
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
        self.need_comma = true;
    }

    fn u64(&mut self, v: u64) {
        self.pre();
        self.digits(v);
        self.need_comma = true;
    }

    fn i64(&mut self, v: i64) {
        self.pre();
        if v < 0 {
            self.out.push(b'-');
        }
        self.digits(v.unsigned_abs());
        self.need_comma = true;
    }

    fn f64(&mut self, f: f64) {
        if !f.is_finite() {
            self.null();
        } else if f.fract() == 0.0 && f.abs() < 1e15 {
            // Go prints integral floats without a fraction (`3`, not `3.0`).
            self.i64(f as i64);
        } else {
            self.pre();
            self.out
                .extend_from_slice(super::numfmt::json_float(f).as_bytes());
            self.need_comma = true;
        }
    }

    #[inline]
    fn str_bytes(&mut self, b: &[u8]) {
        self.pre();
        self.quoted(b, false);
        self.need_comma = true;
    }

    fn str(&mut self, s: &str) {
        self.pre();
        self.quoted(s.as_bytes(), true);
        self.need_comma = true;
    }

    fn base64(&mut self, b: &[u8]) {
        self.pre();
        self.out.push(b'"');
        append_base64(&mut self.out, b);
        self.out.push(b'"');
        self.need_comma = true;
    }

    fn time(&mut self, seconds: i64, micros: Option<u32>) {
        self.pre();
        self.out.push(b'"');
        super::timefmt::write_rfc3339(&mut self.out, seconds, micros);
        self.out.push(b'"');
        self.need_comma = true;
    }

    /// Re-emits validated JSON text in this style, keeping string contents
    /// and number literals as written (Go's json.Indent).
    fn raw_json(&mut self, b: &[u8]) {
        self.pre();
        // Per open container: whether it holds nothing yet.
        let mut stack: Vec<bool> = Vec::new();
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
                    if let Some(empty) = stack.pop() {
                        self.indent = self.indent.saturating_sub(1);
                        if !empty {
                            self.newline();
                        }
                        self.out.push(c);
                    }
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // A value or a key starts here.
            if !after_colon {
                if let Some(empty) = stack.last_mut() {
                    if !*empty {
                        self.out.push(b',');
                    }
                    *empty = false;
                    self.newline();
                }
            }
            after_colon = false;
            match c {
                b'{' | b'[' => {
                    self.out.push(c);
                    self.indent += 1;
                    stack.push(true);
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
        self.need_comma = true;
    }

    /// A serde_json value (CBOR, YAML, parsed JSON).
    fn value(&mut self, v: &J) {
        super::decode::replay(v, self);
    }

    /// Numbers that are not 64-bit integers as the float kubectl shows.
    fn number(&mut self, n: &serde_json::Number) {
        if !super::decode::integer(n, self) {
            self.f64(n.as_f64().unwrap_or(f64::NAN));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_len_agrees_with_the_escape_tables() {
        for go in [false, true] {
            let tbl = if go { &ESC_GO } else { &ESC };
            for c in 0..=255u8 {
                for (n, at) in [
                    (1, 0),
                    (5, 4),
                    (9, 7),
                    (16, 15),
                    (20, 16),
                    (40, 31),
                    (48, 40),
                ] {
                    let mut a = vec![b'a'; n];
                    a[at] = c;
                    let want = if tbl[c as usize] == 0 { n } else { at };
                    let got = if go {
                        plain_len(&a, 0x20, [b'"', b'\\', b'<', b'>', b'&'])
                    } else {
                        plain_len(&a, 0x20, [b'"', b'\\'])
                    };
                    assert_eq!(got, want, "byte {c:#x} at {at} of {n}");
                }
            }
        }
    }

    #[test]
    fn a_nested_start_indents_as_the_enclosing_document_would() {
        let v = serde_json::json!({"a": [1, {"b": "x<y\u{2028}"}], "c": {}});
        let mut whole = Vec::new();
        JsonEmitter::new(&mut whole, Style::PRETTY).value(&serde_json::json!([[v.clone()]]));
        let mut inner = b"[\n  [".to_vec();
        JsonEmitter::at_depth(&mut inner, Style::PRETTY, 2).value(&v);
        inner.extend_from_slice(b"\n  ]\n]");
        assert_eq!(String::from_utf8(inner), String::from_utf8(whole));
    }

    /// Go's encoding/json string escaping, one char at a time.
    fn reference(s: &str) -> String {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                '\u{8}' => o.push_str("\\b"),
                '\u{c}' => o.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    o.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }

    #[test]
    fn every_length_and_position_escapes_as_go_does() {
        for special in [
            "\"", "\\", "\n", "\u{1}", "<", "&", "é", "\u{2028}", "\u{7f}",
        ] {
            for len in 0..20 {
                for at in 0..=len {
                    let s: String = "abcdefghijklmnopqrstu"[..len].to_string();
                    let s = format!("{}{special}{}", &s[..at], &s[at..]);
                    let mut out = Vec::new();
                    JsonEmitter::new(&mut out, Style::COMPACT).str(&s);
                    assert_eq!(String::from_utf8(out).unwrap(), reference(&s), "{s:?}");
                    let mut out = Vec::new();
                    JsonEmitter::new(&mut out, Style::COMPACT).str(&s[..at]);
                    assert_eq!(String::from_utf8(out).unwrap(), reference(&s[..at]));
                }
            }
        }
    }

    #[test]
    fn long_strings_escape_in_every_position() {
        // Specials before, inside and after eight-byte words.
        let s = "abcdefgh\"ijklmnop\\qrstuvw<xyz>0123&456789\u{7f}\u{1}é\u{2028}tail-of-it";
        let mut out = Vec::new();
        JsonEmitter::new(&mut out, Style::COMPACT).str(s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"abcdefgh\\\"ijklmnop\\\\qrstuvw\\u003cxyz\\u003e0123\\u0026456789\u{7f}\\u0001é\\u2028tail-of-it\""
        );
    }
}
