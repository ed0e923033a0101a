//! How a string is spelled in block YAML, as the apiserver and kubectl print
//! it (sigs.k8s.io/yaml, i.e. go-yaml v2's emitter with its defaults:
//! unicode on, two-space indent, lines folded past column 80). See
//! docs/kubernetes.md "Rendering rules", YAML.
//!
//! This module owns the choice between plain, `'single'`, `"double"` and
//! `|` literal styles, the words that must be quoted because YAML 1.1 reads
//! them as something else (bools, nulls, numbers, timestamps, base-60
//! floats), the escapes, and where long lines fold. It writes straight into
//! the output buffer: one classifying pass over the bytes, then a copy (or a
//! folding/escaping pass for the strings that need one), no allocation.

/// The column past which go-yaml folds a line at the next single space.
const WIDTH: usize = 80;
/// Keys longer than this (in bytes) are written as `? key` / `: value`.
const SIMPLE_KEY_MAX: usize = 128;

/// What one pass over a string found (go-yaml's `analyze_scalar`, for a
/// block context).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Every byte is ASCII (so the bytes are UTF-8 without a check).
    ascii: bool,
    /// Contains a line break (`\n`, `\r`, NEL, LS, PS).
    multiline: bool,
    /// May be written plain, as far as its characters go.
    plain: bool,
    /// May be written single-quoted.
    single: bool,
    /// May be written as a `|` block.
    block: bool,
    /// Every byte is printable ASCII other than space, `:` and `#`: no
    /// space to fold a plain scalar at.
    quiet: bool,
}

/// Width in bytes of the UTF-8 character led by `b` (1 for stray bytes).
#[inline]
fn width(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Whether the character at `i` is a line break: `\n`, `\r`, U+0085,
/// U+2028, U+2029.
#[inline]
fn is_break(s: &[u8], i: usize) -> bool {
    match s[i] {
        b'\n' | b'\r' => true,
        0xC2 => s.get(i + 1) == Some(&0x85),
        0xE2 => s.get(i + 1) == Some(&0x80) && matches!(s.get(i + 2), Some(0xA8 | 0xA9)),
        _ => false,
    }
}

/// go-yaml's printable set: `\n`, ASCII 0x20–0x7E, and U+00A0–U+FFFD but
/// for surrogates, the byte-order mark and U+FFFE/U+FFFF. Characters past
/// U+FFFF are not printable (they are written `\UXXXXXXXX`).
#[inline]
fn is_printable(s: &[u8], i: usize) -> bool {
    let b = s[i];
    let n = |k: usize| s.get(i + k).copied().unwrap_or(0);
    match b {
        b'\n' | 0x20..=0x7E => true,
        0xC2 => n(1) >= 0xA0,
        0xC3..=0xEC | 0xEE => true,
        0xED => n(1) < 0xA0,
        0xEF => !((n(1) == 0xBB && n(2) == 0xBF) || (n(1) == 0xBF && matches!(n(2), 0xBE | 0xBF))),
        _ => false,
    }
}

/// Whether the string starts with a byte-order mark. go-yaml's test looks
/// at the first three bytes whatever the position, so in double quotes
/// every character of such a string is escaped (kubectl: `"\uFEFF\x78"`).
#[inline]
fn starts_with_bom(s: &[u8]) -> bool {
    s.starts_with(b"\xEF\xBB\xBF")
}

/// Whether `s[i]` is a space or tab (or past the end, when `end` counts).
#[inline]
fn blank_at(s: &[u8], i: usize) -> bool {
    matches!(s.get(i), Some(b' ' | b'\t'))
}

fn scan(s: &[u8]) -> Scan {
    if s.is_empty() {
        return Scan {
            ascii: true,
            plain: true,
            single: true,
            ..Scan::default()
        };
    }
    let block_indicators = leading_indicators(s);
    // Printable ASCII (nearly every string) needs no character loop.
    if let Some(sc) = scan_printable_ascii(s, block_indicators) {
        return sc;
    }
    scan_chars(s, block_indicators)
}

/// Whether a non-empty string's start makes it a YAML indicator: `---`,
/// `...`, or a first character that is one (`?`, `:`, `-` when followed
/// by a space, tab or the end).
fn leading_indicators(s: &[u8]) -> bool {
    if s.starts_with(b"---") || s.starts_with(b"...") {
        return true;
    }
    match s[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        b'?' | b':' | b'-' => s.len() == 1 || blank_at(s, 1),
        _ => false,
    }
}

/// Per byte, for [`scan_printable_ascii`]: 0 for printable ASCII with
/// nothing to look at, else which of `:`, space, `#` it is, or [`OTHER`]
/// for the bytes that need the character loop (controls, tab, line
/// breaks, DEL, non-ASCII).
static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = match b as u8 {
            b':' => COLON,
            b' ' => SPACE,
            b'#' => HASH,
            _ => 0,
        };
        b += 1;
    }
    t
};
const COLON: u8 = 1;
const SPACE: u8 = 2;
const HASH: u8 = 4;
const OTHER: u8 = 8;

/// Whether every byte is printable ASCII other than space, `:` and `#`
/// (`CLASS` 0). From eight bytes up, sixteen bytes per vector test
/// ([`super::text_scan::plain_len`]; eight to fifteen in one), below that
/// without a branch per byte.
#[inline]
fn all_quiet(s: &[u8]) -> bool {
    let n = s.len();
    if n >= 8 {
        // Below 0x21 as a signed byte: a control, a space or any byte
        // from 0x80.
        super::text_scan::plain_len(s, 0x21, [0x7f, b':', b'#']) == n
    } else {
        s.iter().fold(true, |a, &b| {
            a & (b.wrapping_sub(0x21) < 0x7F - 0x21 && b != b':' && b != b'#')
        })
    }
}

/// [`scan`] of a non-empty string of printable ASCII (0x20–0x7E: no line
/// break, no tab, nothing to escape); `None` when some byte is outside
/// that range (the string then needs the character loop, [`scan_chars`]).
/// `block_indicators`: what the first character and a leading `---`/`...`
/// already decided.
///
/// For such a string the character loop finds only a leading or trailing
/// space and the indicators inside it (`:` followed by a space or the end,
/// `#` after a space), so those are all this looks for: one table lookup
/// per byte, no branch.
#[inline]
fn scan_printable_ascii(s: &[u8], block_indicators: bool) -> Option<Scan> {
    let n = s.len();
    // Quiet bytes only, nearly every string.
    if all_quiet(s) {
        return Some(Scan {
            ascii: true,
            plain: !block_indicators,
            single: true,
            block: true,
            quiet: true,
            ..Scan::default()
        });
    }
    let (mut seen, mut pairs, mut prev) = (0u8, 0u8, 0u8);
    for &b in s {
        let c = CLASS[b as usize];
        seen |= c;
        // Shifted down one, a space is COLON's bit and `#` SPACE's: bit 0
        // marks `: `, bit 1 ` #`.
        pairs |= prev & (c >> 1);
        prev = c;
    }
    if seen & OTHER != 0 {
        return None;
    }
    let ind = block_indicators || pairs & (COLON | SPACE) != 0 || s[n - 1] == b':';
    let leading_space = s[0] == b' ';
    let trailing_space = s[n - 1] == b' ';
    Some(Scan {
        ascii: true,
        multiline: false,
        plain: !(leading_space || trailing_space || ind),
        single: true,
        block: !trailing_space,
        quiet: false,
    })
}

/// [`scan`] character by character (go-yaml's loop): for strings with
/// line breaks, tabs, control or non-ASCII characters.
fn scan_chars(s: &[u8], mut block_indicators: bool) -> Scan {
    let followed_by_ws = |i: usize| i + width(s[i]) >= s.len() || blank_at(s, i + width(s[i]));
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let mut high = 0u8;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        high |= b;
        let w = width(b);
        if i > 0 {
            match b {
                b':' if followed_by_ws(i) => block_indicators = true,
                b'#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(s, i) {
            special = true;
        }
        let last = i + w >= s.len();
        if b == b' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(s, i) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = matches!(b, b' ' | b'\t' | 0) || is_break(s, i);
        i += w;
    }
    let mut plain = !(leading_space || leading_break || trailing_space || trailing_break);
    let mut single = true;
    let mut block = !trailing_space;
    if break_space {
        plain = false;
        single = false;
    }
    if space_break || special {
        plain = false;
        single = false;
        block = false;
    }
    if line_breaks || block_indicators {
        plain = false;
    }
    Scan {
        ascii: high < 0x80,
        multiline: line_breaks,
        plain,
        single,
        block,
        // Through [`scan`] never quiet; said exactly for any string.
        quiet: all_quiet(s),
    }
}

/// The first bytes of the strings [`reads_as_non_string`] can say yes to.
static MAY_START_NON_STRING: [bool; 256] = {
    let mut t = [false; 256];
    let starts = b"yYnNtTfFoO~.+-0123456789";
    let mut i = 0;
    while i < starts.len() {
        t[starts[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether go-yaml reads `s`, unquoted, as something other than a string
/// (its `resolve` plus the base-60 float check): then it is double-quoted.
pub(crate) fn reads_as_non_string(s: &[u8]) -> bool {
    let Some(&c) = s.first() else {
        return true; // null
    };
    // Most strings start with a letter and are longer than any of the
    // words below (five letters at most), or with a byte that starts
    // none of these forms: no need for the match's jump.
    if !MAY_START_NON_STRING[usize::from(c)] || (c.is_ascii_alphabetic() && s.len() > 5) {
        return false;
    }
    match c {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => matches!(
            s,
            b"y" | b"Y"
                | b"yes"
                | b"Yes"
                | b"YES"
                | b"true"
                | b"True"
                | b"TRUE"
                | b"on"
                | b"On"
                | b"ON"
                | b"n"
                | b"N"
                | b"no"
                | b"No"
                | b"NO"
                | b"false"
                | b"False"
                | b"FALSE"
                | b"off"
                | b"Off"
                | b"OFF"
                | b"~"
                | b"null"
                | b"Null"
                | b"NULL"
        ),
        b'.' => {
            matches!(s, b".nan" | b".NaN" | b".NAN" | b".inf" | b".Inf" | b".INF")
                || (is_yaml_float(s) && parses_finite(s))
        }
        b'+' | b'-' | b'0'..=b'9' => {
            if matches!(
                s,
                b"+.inf" | b"+.Inf" | b"+.INF" | b"-.inf" | b"-.Inf" | b"-.INF"
            ) || is_timestamp(s)
                || is_base60_float(s)
            {
                return true;
            }
            // What is left can only be a number if every byte is one a
            // number is spelled with (fails at once on most strings, so
            // long ones are not searched for underscores).
            if !s
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b"+-._xXoO".contains(&b))
            {
                return false;
            }
            // Underscores are dropped before the number checks.
            let mut buf = [0u8; 64];
            let plain: &[u8] = if s.contains(&b'_') {
                let mut n = 0;
                for &b in s.iter().filter(|&&b| b != b'_') {
                    if n == buf.len() {
                        // Too long for an integer; the float check reads
                        // the digits only.
                        return long_float_without_underscores(s);
                    }
                    buf[n] = b;
                    n += 1;
                }
                &buf[..n]
            } else {
                s
            };
            is_go_int(plain) || (is_yaml_float(plain) && parses_finite(plain))
        }
        _ => false,
    }
}

fn long_float_without_underscores(s: &[u8]) -> bool {
    let t: Vec<u8> = s.iter().copied().filter(|&b| b != b'_').collect();
    is_go_int(&t) || (is_yaml_float(&t) && parses_finite(&t))
}

fn parses_finite(s: &[u8]) -> bool {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .is_some_and(f64::is_finite)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &[u8]) -> bool {
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let st = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - st
    };
    if s.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == s.len()
}

/// Go's `strconv.ParseInt(s, 0, 64)` succeeds, or `ParseUint(s, 0, 64)`
/// does (no sign): decimal, `0x`, `0o`, `0b` or leading-zero octal, in range.
fn is_go_int(s: &[u8]) -> bool {
    let (neg, signed, rest) = match s.first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let (radix, digits) = match rest {
        [b'0', b'x' | b'X', d @ ..] => (16, d),
        [b'0', b'o' | b'O', d @ ..] => (8, d),
        [b'0', b'b' | b'B', d @ ..] => (2, d),
        [b'0', d @ ..] if !d.is_empty() => (8, d),
        d => (10, d),
    };
    if digits.is_empty() {
        return false;
    }
    let mut v: u128 = 0;
    for &b in digits {
        let d = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' => u32::from(b - b'a') + 10,
            b'A'..=b'F' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        if d >= radix {
            return false;
        }
        v = v
            .saturating_mul(u128::from(radix))
            .saturating_add(u128::from(d));
    }
    if neg {
        v <= 1u128 << 63
    } else {
        v <= i64::MAX as u128 || (!signed && v <= u128::from(u64::MAX))
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (YAML 1.1 base 60).
fn is_base60_float(s: &[u8]) -> bool {
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    if !s.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while s.get(i).is_some_and(|&b| b.is_ascii_digit() || b == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while s.get(i) == Some(&b':') {
        i += 1;
        let st = i;
        while i - st < 2 && s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let g = &s[st..i];
        let ok = match g {
            [d] => d.is_ascii_digit(),
            [a, _] => (b'0'..=b'5').contains(a),
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        while s.get(i).is_some_and(|&b| b.is_ascii_digit() || b == b'_') {
            i += 1;
        }
    }
    i == s.len()
}

/// Whether Go's `time.Parse` accepts `s` in one of go-yaml's timestamp
/// layouts: `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999`, or `2006-1-2`.
fn is_timestamp(s: &[u8]) -> bool {
    if s.len() < 8 || !s[..4].iter().all(u8::is_ascii_digit) || s[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].iter().fold(0, |a, &d| a * 10 + u32::from(d - b'0'));
    let mut i = 5;
    // One or two digits.
    let num = |i: &mut usize| -> Option<u32> {
        let a = *s.get(*i).filter(|b| b.is_ascii_digit())?;
        *i += 1;
        let mut v = u32::from(a - b'0');
        if let Some(&b) = s.get(*i).filter(|b| b.is_ascii_digit()) {
            *i += 1;
            v = v * 10 + u32::from(b - b'0');
        }
        Some(v)
    };
    let Some(month) = num(&mut i) else {
        return false;
    };
    if !(1..=12).contains(&month) || s.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return false;
    }
    if i == s.len() {
        return true;
    }
    let zoned = match s[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let hms = num(&mut i).filter(|&h| h < 24).is_some()
        && s.get(i) == Some(&b':')
        && {
            i += 1;
            num(&mut i).filter(|&m| m < 60).is_some()
        }
        && s.get(i) == Some(&b':')
        && {
            i += 1;
            num(&mut i).filter(|&m| m < 60).is_some()
        };
    if !hms {
        return false;
    }
    // Fraction: `.` or `,` then at least one digit.
    if matches!(s.get(i), Some(b'.' | b',')) && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if !zoned {
        return i == s.len();
    }
    match &s[i..] {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 24
                && (m1 - b'0') * 10 + (m2 - b'0') <= 60
        }
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style go-yaml picks for a string (encoder's request, then the
/// emitter's downgrades); `key`: in a simple-key position.
fn style(s: &[u8], sc: &Scan, key: bool) -> Style {
    // `\n` is a line break: only a multi-line scan needs the search.
    if !key && sc.multiline && s.contains(&b'\n') {
        return if sc.block {
            Style::Literal
        } else {
            Style::Double
        };
    }
    if key && sc.multiline {
        return Style::Double;
    }
    if reads_as_non_string(s) {
        return Style::Double;
    }
    if sc.plain {
        Style::Plain
    } else if sc.single {
        Style::Single
    } else {
        Style::Double
    }
}

/// Writes a line break and spaces up to `indent`.
#[inline]
fn newline_indent(out: &mut Vec<u8>, indent: usize) {
    out.push(b'\n');
    out.resize(out.len() + indent, b' ');
}

/// A scalar value that follows `key:` (`space`: a space goes first) or
/// `- `/`? `/`: ` (no space), the output being at `column` (characters on
/// the line so far); continuation lines are indented to `indent`. Writes
/// the scalar and ends its line.
pub(crate) fn write_value(out: &mut Vec<u8>, s: &str, space: bool, column: usize, indent: usize) {
    let b = s.as_bytes();
    write_scanned(out, b, &scan(b), space, column, indent);
}

/// Whether `b` is written plain and as it is, on one line: quiet bytes
/// only (no space to fold at, nothing to escape), no indicator first, and
/// nothing YAML 1.1 reads as another type. What [`scan`] and [`style`]
/// decide for most strings (names, labels, images, base64), found without
/// building a scan.
#[inline]
pub(crate) fn is_quiet_plain(b: &[u8]) -> bool {
    let Some(&c) = b.first() else { return false };
    if !all_quiet(b) {
        return false;
    }
    // A letter is no indicator, and starts no other type's spelling
    // unless it starts one of the short words (names, images and most
    // values start so: one test instead of two scans).
    if c.is_ascii_alphabetic() && (!MAY_START_NON_STRING[usize::from(c)] || b.len() > 5) {
        return true;
    }
    !leading_indicators(b) && !reads_as_non_string(b)
}

/// The scan of `b` when `b` is UTF-8 (`None` when it is not): ASCII text,
/// nearly every string of an object, needs no separate UTF-8 check.
pub(crate) fn scan_utf8(b: &[u8]) -> Option<Scan> {
    let sc = scan(b);
    (sc.ascii || std::str::from_utf8(b).is_ok()).then_some(sc)
}

/// [`write_value`] of UTF-8 bytes already scanned ([`scan_utf8`]).
pub(crate) fn write_scanned(
    out: &mut Vec<u8>,
    b: &[u8],
    sc: &Scan,
    space: bool,
    column: usize,
    indent: usize,
) {
    if space {
        out.push(b' ');
    }
    let column = column + usize::from(space);
    match style(b, sc, false) {
        // A quiet string has no space to fold at.
        Style::Plain => write_plain(out, b, column, indent, !sc.quiet),
        Style::Single => write_single(out, b, column, indent, true),
        Style::Double => write_double(out, b, column, indent, true),
        Style::Literal => {
            if write_literal(out, b, indent) {
                return;
            }
        }
    }
    out.push(b'\n');
}

/// [`write_value`] of a time's RFC 3339 text (bytes, UTF-8 or not). A
/// timestamp reads as one unquoted, so go-yaml double-quotes it; its
/// characters need no escape and, without a space, it has nowhere to
/// fold: the quotes go round it with no scan. Other text (a year past
/// 9999) is written as any string.
pub(crate) fn write_time(out: &mut Vec<u8>, b: &[u8], space: bool, column: usize, indent: usize) {
    if is_timestamp(b) && !b.contains(&b' ') {
        if space {
            out.push(b' ');
        }
        out.push(b'"');
        out.extend_from_slice(b);
        out.extend_from_slice(b"\"\n");
        return;
    }
    match scan_utf8(b) {
        Some(sc) => write_scanned(out, b, &sc, space, column, indent),
        None => write_value(out, &String::from_utf8_lossy(b), space, column, indent),
    }
}

/// What [`scan`] finds in standard base64 text (letters, digits, `+`, `/`,
/// `=`): every byte quiet, none an indicator, a space or a break.
const BASE64_SCAN: Scan = Scan {
    ascii: true,
    multiline: false,
    plain: true,
    single: true,
    block: true,
    quiet: true,
};

/// [`write_value`] of the standard base64 text of `bytes`, encoded
/// straight into `out`. Its scan is known ([`BASE64_SCAN`]): it is
/// written plain, as encoded, unless YAML 1.1 would read it as something
/// else (`1234`, or `""`), when it is taken back and double-quoted.
pub(crate) fn write_base64(
    out: &mut Vec<u8>,
    bytes: &[u8],
    space: bool,
    column: usize,
    indent: usize,
) {
    if space {
        out.push(b' ');
    }
    let start = out.len();
    super::text_scan::append_base64(out, bytes);
    if style(&out[start..], &BASE64_SCAN, false) == Style::Plain {
        // Quiet text has no space to fold at: the line ends here.
        out.push(b'\n');
        return;
    }
    let text = out.split_off(start);
    let column = column + usize::from(space);
    write_scanned(out, &text, &BASE64_SCAN, false, column, indent);
}

/// Whether key `b` is a name such as the schema's (`apiVersion`): a
/// letter, then letters and digits, and not a word YAML 1.1 reads as a
/// bool or null. Such a key is written plain; it is what the scan and
/// [`style`] decide for it, found without them.
#[inline]
pub(crate) fn is_plain_name(b: &[u8]) -> bool {
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter().all(u8::is_ascii_alphanumeric)
        && !reads_as_non_string(b)
}

/// A mapping key at `column` in a simple-key position: written (no line
/// break) and `true`, or nothing and `false` when go-yaml writes it as a
/// complex `? key` (more than 128 bytes, or a line break in it).
pub(crate) fn write_key(out: &mut Vec<u8>, s: &str, column: usize) -> bool {
    let b = s.as_bytes();
    if b.len() > SIMPLE_KEY_MAX {
        return false;
    }
    // Names, and most map keys (`app.kubernetes.io/name`,
    // `pod-template-hash`): what the scan and `style` decide for them,
    // found without them.
    if is_plain_name(b) || is_quiet_plain(b) {
        out.extend_from_slice(b);
        return true;
    }
    write_key_scanned(out, b, column)
}

/// [`write_key`] of a key of at most [`SIMPLE_KEY_MAX`] bytes, by its
/// scan and style.
fn write_key_scanned(out: &mut Vec<u8>, b: &[u8], column: usize) -> bool {
    let sc = scan(b);
    if sc.multiline {
        return false;
    }
    match style(b, &sc, true) {
        Style::Plain => out.extend_from_slice(b),
        Style::Single => write_single(out, b, column, 0, false),
        _ => write_double(out, b, column, 0, false),
    }
    true
}

/// Characters (not bytes) in `s`.
#[inline]
pub(crate) fn chars(s: &[u8]) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }
}

fn write_plain(out: &mut Vec<u8>, s: &[u8], mut column: usize, indent: usize, fold: bool) {
    // No space can sit past column 80 when the whole string fits.
    if !fold || column + s.len() <= WIDTH + 1 || !s.contains(&b' ') {
        out.extend_from_slice(s);
        return;
    }
    let mut spaces = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b' ' {
            if !spaces && column > WIDTH && s.get(i + 1) != Some(&b' ') {
                newline_indent(out, indent);
                column = indent;
            } else {
                out.push(b' ');
                column += 1;
            }
            spaces = true;
            i += 1;
        } else {
            let w = width(c).min(s.len() - i);
            out.extend_from_slice(&s[i..i + w]);
            column += 1;
            spaces = false;
            i += w;
        }
    }
}

fn write_single(out: &mut Vec<u8>, s: &[u8], mut column: usize, indent: usize, fold: bool) {
    out.push(b'\'');
    column += 1;
    let (mut spaces, mut breaks) = (false, false);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let w = width(c).min(s.len() - i);
        if c == b' ' {
            if fold
                && !spaces
                && column > WIDTH
                && i > 0
                && i < s.len() - 1
                && s.get(i + 1) != Some(&b' ')
            {
                newline_indent(out, indent);
                column = indent;
            } else {
                out.push(b' ');
                column += 1;
            }
            spaces = true;
        } else if is_break(s, i) {
            // `\n` never reaches single quotes; LS and PS are copied and
            // start a new line as far as columns go.
            out.extend_from_slice(&s[i..i + w]);
            column = 0;
            breaks = true;
        } else {
            if breaks && column < indent {
                out.resize(out.len() + (indent - column), b' ');
                column = indent;
            }
            if c == b'\'' {
                out.push(b'\'');
                column += 1;
            }
            out.extend_from_slice(&s[i..i + w]);
            column += 1;
            spaces = false;
            breaks = false;
        }
        i += w;
    }
    out.push(b'\'');
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn write_double(out: &mut Vec<u8>, s: &[u8], mut column: usize, indent: usize, fold: bool) {
    out.push(b'"');
    column += 1;
    let mut spaces = false;
    let bom = starts_with_bom(s);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let w = width(c).min(s.len() - i);
        if bom || c == b'"' || c == b'\\' || !is_printable(s, i) || is_break(s, i) {
            let v = std::str::from_utf8(&s[i..i + w])
                .ok()
                .and_then(|t| t.chars().next())
                .map_or(u32::from(c), u32::from);
            out.push(b'\\');
            column += 1;
            let short = match v {
                0x00 => Some(b'0'),
                0x07 => Some(b'a'),
                0x08 => Some(b'b'),
                0x09 => Some(b't'),
                0x0A => Some(b'n'),
                0x0B => Some(b'v'),
                0x0C => Some(b'f'),
                0x0D => Some(b'r'),
                0x1B => Some(b'e'),
                0x22 => Some(b'"'),
                0x5C => Some(b'\\'),
                0x85 => Some(b'N'),
                0xA0 => Some(b'_'),
                0x2028 => Some(b'L'),
                0x2029 => Some(b'P'),
                _ => None,
            };
            if let Some(e) = short {
                out.push(e);
                column += 1;
            } else {
                let (tag, n) = match v {
                    0..=0xFF => (b'x', 2),
                    0x100..=0xFFFF => (b'u', 4),
                    _ => (b'U', 8),
                };
                out.push(tag);
                for k in (0..n).rev() {
                    out.push(HEX[((v >> (k * 4)) & 0xF) as usize]);
                }
                column += 1 + n;
            }
            spaces = false;
        } else if c == b' ' {
            if fold && !spaces && column > WIDTH && i > 0 && i < s.len() - 1 {
                newline_indent(out, indent);
                column = indent;
                if s.get(i + 1) == Some(&b' ') {
                    out.push(b'\\');
                    column += 1;
                }
            } else {
                out.push(b' ');
                column += 1;
            }
            spaces = true;
        } else {
            out.extend_from_slice(&s[i..i + w]);
            column += 1;
            spaces = false;
        }
        i += w;
    }
    out.push(b'"');
}

/// A `|` block; returns whether the output already ends its line (the
/// value ended with a line break).
fn write_literal(out: &mut Vec<u8>, s: &[u8], indent: usize) -> bool {
    out.push(b'|');
    if s.first() == Some(&b' ') || (!s.is_empty() && is_break(s, 0)) {
        out.push(b'2');
    }
    // Chomping: `-` when the value does not end with a break, `+` when it
    // ends with two (or is one), nothing for exactly one.
    let last = prev_char(s, s.len());
    match last {
        Some(l) if is_break(s, l) => match prev_char(s, l) {
            None => out.push(b'+'),
            Some(p) if is_break(s, p) => out.push(b'+'),
            Some(_) => {}
        },
        _ => out.push(b'-'),
    }
    out.push(b'\n');
    let mut breaks = true;
    let mut i = 0;
    while i < s.len() {
        let w = width(s[i]).min(s.len() - i);
        if is_break(s, i) {
            out.extend_from_slice(&s[i..i + w]);
            breaks = true;
        } else {
            if breaks {
                out.resize(out.len() + indent, b' ');
            }
            // Copy the run up to the next break at once.
            let mut j = i + w;
            while j < s.len() && !is_break(s, j) {
                j += width(s[j]);
            }
            let j = j.min(s.len());
            out.extend_from_slice(&s[i..j]);
            breaks = false;
            i = j;
            continue;
        }
        i += w;
    }
    breaks
}

/// Start of the character before byte `end`.
fn prev_char(s: &[u8], end: usize) -> Option<usize> {
    let mut i = end.checked_sub(1)?;
    while i > 0 && s[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    Some(i)
}

/// Whether map key `a` goes before `b` in go-yaml's order (its key sorter
/// for strings): at the first differing character, letters go after
/// everything else and compare by code point; runs of digits compare as
/// numbers (`file2` before `file10`); else by code point; a prefix first.
/// Non-ASCII digits count as non-digits here.
pub(crate) fn key_less(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return less_by(a.as_bytes(), b.as_bytes(), |c| char::from(*c));
    }
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    less_by(&ar, &br, |c| *c)
}

fn less_by<T: PartialEq>(a: &[T], b: &[T], ch: impl Fn(&T) -> char) -> bool {
    let digit = |c: char| c.is_ascii_digit();
    let letter = |c: char| c.is_alphabetic();
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            continue;
        }
        let (x, y) = (ch(&a[i]), ch(&b[i]));
        let (xl, yl) = (letter(x), letter(y));
        if xl && yl {
            return x < y;
        }
        if xl || yl {
            return yl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if x == '0' || y == '0' {
            // A zero inside a number that began earlier is a digit like
            // any other.
            for j in (0..i).rev() {
                let c = ch(&a[j]);
                if !digit(c) {
                    break;
                }
                if c != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let run = |s: &[T], mut n: i64| {
            let mut k = i;
            while k < s.len() && digit(ch(&s[k])) {
                n = n
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(ch(&s[k]) as u8 - b'0'));
                k += 1;
            }
            (k, n)
        };
        let (ai, an) = run(a, an);
        let (bi, bn) = run(b, bn);
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return x < y;
    }
    a.len() < b.len()
}

/// [`key_less`] over the bytes of two keys (the text of `&str`s): ASCII
/// keys, nearly all of them, are compared as they are, without a UTF-8
/// check per comparison.
pub(crate) fn key_less_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return less_by(a, b, |c| char::from(*c));
    }
    key_less(&String::from_utf8_lossy(a), &String::from_utf8_lossy(b))
}

/// Sorts `v` stably by `less` (a merge sort). go-yaml's key comparison
/// is not a total order for some keys that mix digits and other
/// characters, and the standard library's sorts may panic on such a
/// comparison; this one never does, and stays O(n log n).
pub(crate) fn sort_by_less<T: Copy>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let mut buf = Vec::new();
    merge_sort(v, &mut buf, &less);
}

fn merge_sort<T: Copy>(v: &mut [T], buf: &mut Vec<T>, less: &impl Fn(&T, &T) -> bool) {
    let n = v.len();
    if n <= 16 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    merge_sort(&mut v[..mid], buf, less);
    merge_sort(&mut v[mid..], buf, less);
    if !less(&v[mid], &v[mid - 1]) {
        return;
    }
    buf.clear();
    buf.extend_from_slice(&v[..mid]);
    let (mut i, mut j) = (0, mid);
    let mut k = 0;
    // `k < j` throughout: the right half is read before it is written.
    while i < buf.len() && j < n {
        if less(&v[j], &buf[i]) {
            v[k] = v[j];
            j += 1;
        } else {
            v[k] = buf[i];
            i += 1;
        }
        k += 1;
    }
    while i < buf.len() {
        v[k] = buf[i];
        i += 1;
        k += 1;
    }
}

#[cfg(test)]
mod tests;
