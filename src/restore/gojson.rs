//! JSON exactly as Go's `encoding/json` writes it, for the few documents a
//! restore must produce byte-for-byte like etcd: strings escape `<`, `>`,
//! `&`, U+2028 and U+2029, and control characters as `\u00XX` (except
//! `\n`, `\r`, `\t`).

/// Appends `s` as a Go-escaped JSON string (with quotes).
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `["a","b"]`.
pub(crate) fn string_array(out: &mut String, v: &[String]) {
    out.push('[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, s);
    }
    out.push(']');
}

#[cfg(test)]
/// A string as a standalone JSON document.
pub(crate) fn quoted(s: &str) -> String {
    let mut o = String::new();
    string(&mut o, s);
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_go() {
        assert_eq!(
            super::quoted("a<b>&\"\\\n\u{1}\u{2028}é"),
            "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\u2028é\""
        );
    }
}
