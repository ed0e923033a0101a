//! Escaping for human-readable output: keys, names and key names come from
//! the snapshot and may hold terminal escapes (`ESC ] 0 ; … BEL` retitles a
//! terminal, `ESC [ 2 J` clears it). Every text line a person reads goes
//! through [`controls`] (or [`bytes`] for raw key bytes); JSON output is
//! left exact (its encoder escapes controls itself).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as is: C0 controls (tab and
/// newline included: one field must stay one line), DEL, C1 controls, and
/// the bidirectional overrides that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written as `\xNN` (ASCII) or `\u{N}`.
pub fn controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

/// Raw bytes (an etcd key) as text: unsafe characters as in [`controls`],
/// and bytes that are not UTF-8 as `\xNN` (so two keys that differ only
/// there still print differently).
pub fn bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => controls(s),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                for c in chunk.valid().chars() {
                    push(&mut out, c);
                }
                for x in chunk.invalid() {
                    let _ = write!(out, "\\x{x:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

fn push(out: &mut String, c: char) {
    if !is_unsafe(c) {
        out.push(c);
    } else if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// An error and its causes as one line, each cause once: a cause whose
/// text the line already holds (an error that prints its source and also
/// returns it from `source()`) is skipped; a context that the next cause
/// repeats at its start is replaced by it. Escaped as by [`controls`].
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in std::iter::successors(Some(e), |e| e.source()) {
        let s = cause.to_string();
        if s.is_empty() || parts.iter().any(|p| p.contains(&s)) {
            continue;
        }
        match parts.last_mut() {
            Some(last) if s.starts_with(last.as_str()) => *last = s,
            _ => parts.push(s),
        }
    }
    controls(&parts.join(": ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_only() {
        assert!(matches!(controls("plain/ü-name"), Cow::Borrowed(_)));
        assert_eq!(
            controls("evil\x1b]0;PWNED\x07\x1b[2J"),
            "evil\\x1b]0;PWNED\\x07\\x1b[2J"
        );
        assert_eq!(
            controls("a\u{9b}b\u{202e}c\nd"),
            "a\\u{9b}b\\u{202e}c\\x0ad"
        );
        assert_eq!(bytes(b"n\xff\x1b"), "n\\xff\\x1b");
        assert_ne!(bytes(b"n\xff"), bytes(b"n\xfe"));
    }

    #[derive(Debug)]
    struct E(String, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn error_chain_prints_each_cause_once() {
        let io = E("No such file or directory (os error 2)".into(), None);
        let e = E(
            "x.db: No such file or directory (os error 2)".into(),
            Some(Box::new(io)),
        );
        let ctx = E("x.db".into(), Some(Box::new(e)));
        assert_eq!(
            error_chain(&ctx),
            "x.db: No such file or directory (os error 2)"
        );
        let a = E(
            "--keys k".into(),
            Some(Box::new(E("bad \x1b[2J".into(), None))),
        );
        assert_eq!(error_chain(&a), "--keys k: bad \\x1b[2J");
    }
}
