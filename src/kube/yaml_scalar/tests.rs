//! The scalar rules, case by case. Expected texts are go-yaml v2's (the
//! cases marked kubectl were checked against `kubectl … -o yaml`; the
//! corpus in tests/yaml_kubectl.rs runs every rule through kubectl itself).

use super::*;

/// `k: <s>` as written for a key at column 0.
fn val(s: &str) -> String {
    let mut out = b"k:".to_vec();
    write_value(&mut out, s, true, 2, 2);
    String::from_utf8(out).unwrap()
}

fn key(s: &str) -> Option<String> {
    let mut out = Vec::new();
    write_key(&mut out, s, 0).then(|| String::from_utf8(out).unwrap())
}

#[test]
fn words_yaml_reads_as_bools_and_nulls_are_double_quoted() {
    for s in [
        "", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "NO", "on", "On", "ON", "off", "Off",
        "true", "True", "FALSE", "null", "Null", "NULL", "~",
    ] {
        assert_eq!(val(s), format!("k: \"{s}\"\n"), "{s:?}");
    }
    // go-yaml's tables are exact: other spellings stay plain.
    for s in [
        "yEs",
        "nULL",
        "nan",
        "NaN",
        "inf",
        "Infinity",
        "<<",
        "=",
        "yes please",
    ] {
        assert_eq!(val(s), format!("k: {s}\n"), "{s:?}");
    }
}

#[test]
fn numbers_timestamps_and_base60_are_double_quoted() {
    for s in [
        "0",
        "00",
        "-0",
        "+1",
        "-1",
        "42",
        "0x1F",
        "0X1f",
        "0o17",
        "017",
        "08",
        "0b101",
        "-0b1",
        "1_000",
        "1e3",
        "1E-3",
        "1.5",
        "-.5",
        ".5",
        "5.",
        "1.5e+10",
        "99999999999999999999",
        "18446744073709551615",
        "-9223372036854775808",
        // Out of integer range, but shaped like a float.
        "-18446744073709551615",
        ".nan",
        ".Inf",
        "-.inf",
        "+.INF",
        "1:20",
        "12:30:45",
        "-1:30.5",
        "2006-01-02",
        "2006-1-2",
        "2024-02-29",
        "2006-01-02T15:04:05Z",
        "2006-01-02t15:04:05.123456789+05:30",
        "2006-01-02 15:04:05",
        "2006-01-02 1:2:3.5",
    ] {
        assert_eq!(val(s), format!("k: \"{s}\"\n"), "{s:?}");
    }
    for s in [
        "0xZZ",
        "0x",
        "1e",
        "1e+",
        "+",
        "1e999",
        "0xFFFFFFFFFFFFFFFFFF",
        "10.0.0.1",
        "1.2.3",
        "1:70",
        "2006-02-30",
        "2023-02-29",
        "2006-13-01",
        "2006-01-02T25:00:00Z",
        "2006-01-02T15:04:05",
        "20060-01-02",
        "500m",
        "1Gi",
        "v1.29.3",
        "0.0.0.0/0",
        "8080/TCP",
    ] {
        assert_eq!(val(s), format!("k: {s}\n"), "{s:?}");
    }
}

#[test]
fn indicators_and_edge_spaces_single_quote() {
    for s in [
        " lead", "trail ", "#x", "a #b", "a: b", "a:", "- a", "-", "? a", "?", ":", "@x", "`x",
        "%x", "!x", "&x", "*x", "|x", ">x", "[a]", "{a}", ",a", "---", "...", "--- a", "\"x",
    ] {
        assert_eq!(val(s), format!("k: '{s}'\n"), "{s:?}");
    }
    assert_eq!(val("'x"), "k: '''x'\n");
    assert_eq!(val("it's #1 "), "k: 'it''s #1 '\n");
    // Not indicators where they stand.
    for s in [
        "a#b",
        "a:b",
        ":a",
        "?a",
        "-a",
        "a-",
        "x'y",
        "x\"y",
        "x\\y",
        "a,b",
        "a[0]",
        "k:{\"type\":\"Ready\"}",
        "f:metadata",
        ".",
    ] {
        assert_eq!(val(s), format!("k: {s}\n"), "{s:?}");
    }
}

#[test]
fn control_and_astral_characters_double_quote_with_escapes() {
    assert_eq!(val("tab\there"), "k: \"tab\\there\"\n");
    assert_eq!(val("\t"), "k: \"\\t\"\n");
    assert_eq!(
        val("a\u{0}b\u{7}\u{8}\u{b}\u{c}\u{1b}"),
        "k: \"a\\0b\\a\\b\\v\\f\\e\"\n"
    );
    assert_eq!(val("a\u{7f}"), "k: \"a\\x7F\"\n");
    assert_eq!(val("a\u{1}"), "k: \"a\\x01\"\n");
    assert_eq!(val("a\u{85}b"), "k: \"a\\Nb\"\n");
    assert_eq!(val("a\u{9f}"), "k: \"a\\x9F\"\n");
    // kubectl: a leading BOM escapes the whole string.
    assert_eq!(val("\u{feff}x y"), "k: \"\\uFEFF\\x78\\x20\\x79\"\n");
    assert_eq!(val("x\u{feff}"), "k: \"x\\uFEFF\"\n");
    assert_eq!(val("a\u{fffe}"), "k: \"a\\uFFFE\"\n");
    // kubectl: characters past U+FFFF are escaped.
    assert_eq!(val("😀"), "k: \"\\U0001F600\"\n");
    assert_eq!(val("say \"hi\"\t\\"), "k: \"say \\\"hi\\\"\\t\\\\\"\n");
    assert_eq!(val("a\rb"), "k: \"a\\rb\"\n");
    assert_eq!(val("a\r\n"), "k: \"a\\r\\n\"\n");
    // Printable unicode (NBSP included) is written as it is.
    for s in ["ünïcödé", "日本語", "a\u{a0}b", "€100"] {
        assert_eq!(val(s), format!("k: {s}\n"), "{s:?}");
    }
}

#[test]
fn line_breaks_make_literal_blocks() {
    assert_eq!(val("a\n"), "k: |\n  a\n");
    assert_eq!(val("a\nb"), "k: |-\n  a\n  b\n");
    assert_eq!(val("a\nb\n"), "k: |\n  a\n  b\n");
    // kubectl: two trailing breaks keep them with `+`.
    assert_eq!(val("a\n\n"), "k: |+\n  a\n\n");
    assert_eq!(val("\n"), "k: |2+\n\n");
    assert_eq!(val("\na"), "k: |2-\n\n  a\n");
    assert_eq!(val(" a\nb"), "k: |2-\n   a\n  b\n");
    assert_eq!(
        val("line\n  indented\n\nlast\n"),
        "k: |\n  line\n    indented\n\n  last\n"
    );
    assert_eq!(val("a\n b"), "k: |-\n  a\n   b\n");
    // A space before a break, a trailing space, or a control character:
    // double quotes.
    assert_eq!(val("a \nb"), "k: \"a \\nb\"\n");
    assert_eq!(val("a\nb "), "k: \"a\\nb \"\n");
    assert_eq!(val("a\n\tb"), "k: \"a\\n\\tb\"\n");
    // Indented under a deeper key.
    let mut out = b"    data:".to_vec();
    write_value(&mut out, "x\ny\n", true, 9, 6);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "    data: |\n      x\n      y\n"
    );
    // LS, PS are breaks go-yaml copies as they are.
    assert_eq!(val("a\u{2028}b"), "k: 'a\u{2028}  b'\n");
    assert_eq!(val("a \u{2028}"), "k: \"a \\L\"\n");
    assert_eq!(val("a\u{2029} b"), "k: \"a\\P b\"\n");
}

#[test]
fn long_lines_fold_past_column_80() {
    let words = "word ".repeat(40);
    let words = words.trim_end();
    // 16 words reach column 82 after `k: `: the next space breaks.
    let line = |n: usize| vec!["word"; n].join(" ");
    assert_eq!(
        val(words),
        format!("k: {}\n  {}\n  {}\n", line(16), line(16), line(8))
    );
    // kubectl: single quotes fold the same way.
    let s = format!("{words}: x");
    assert_eq!(
        val(&s),
        format!("k: '{}\n  {}\n  {}: x'\n", line(16), line(16), line(8))
    );
    // Double quotes fold too, escaping a space that would start a line.
    let s = format!("{words}\t");
    assert_eq!(
        val(&s),
        format!("k: \"{}\n  {}\n  {}\\t\"\n", line(16), line(16), line(8))
    );
    let s = format!("{}  b\t", "x".repeat(80));
    assert_eq!(val(&s), format!("k: \"{}\n  \\ b\\t\"\n", "x".repeat(80)));
    // Runs of spaces do not fold; nor does a line without spaces.
    let s = format!("a{}b", " ".repeat(100));
    assert_eq!(val(&s), format!("k: {s}\n"));
    let s = "x".repeat(200);
    assert_eq!(val(&s), format!("k: {s}\n"));
    // The column counts characters, not bytes.
    let s = format!("{} x", "é".repeat(77));
    assert_eq!(val(&s), format!("k: {s}\n"));
    let s = format!("{} x", "é".repeat(78));
    assert_eq!(val(&s), format!("k: {}\n  x\n", "é".repeat(78)));
    // Literal blocks never fold.
    let s = format!("{words}\n");
    assert_eq!(val(&s), format!("k: |\n  {words}\n"));
    // Multi-line text with trailing spaces: one double-quoted line, folded.
    let s = "multi\nline with trailing  \nspaces";
    assert_eq!(val(s), "k: \"multi\\nline with trailing  \\nspaces\"\n");
}

#[test]
fn keys_quote_like_values_never_fold_and_long_ones_are_complex() {
    assert_eq!(key("app").as_deref(), Some("app"));
    assert_eq!(key("f:metadata").as_deref(), Some("f:metadata"));
    assert_eq!(
        key("k:{\"type\":\"Ready\"}").as_deref(),
        Some("k:{\"type\":\"Ready\"}")
    );
    assert_eq!(
        key("app.kubernetes.io/name").as_deref(),
        Some("app.kubernetes.io/name")
    );
    assert_eq!(key("yes").as_deref(), Some("\"yes\""));
    assert_eq!(key("").as_deref(), Some("\"\""));
    assert_eq!(key("80").as_deref(), Some("\"80\""));
    assert_eq!(key(" a").as_deref(), Some("' a'"));
    assert_eq!(key("a\tb").as_deref(), Some("\"a\\tb\""));
    let long = "word ".repeat(25);
    let long = long.trim_end();
    assert_eq!(key(long).as_deref(), Some(long));
    assert_eq!(
        key(&"k".repeat(128)).as_deref(),
        Some("k".repeat(128).as_str())
    );
    assert_eq!(key(&"k".repeat(129)), None);
    assert_eq!(key("a\nb"), None);
    assert_eq!(key("a\u{2028}b"), None);
}

#[test]
fn scan_fast_path_agrees_with_the_full_scan() {
    // Quiet ASCII strings take the fast path; spelled out, the same.
    for s in [
        "abc",
        "a-b_c.d/e",
        "x=1",
        "(a)",
        "~x",
        "a~",
        "a|b",
        "a>b",
        "a&b*c!",
    ] {
        let full = {
            let mut t = s.as_bytes().to_vec();
            t.push(b' ');
            t.push(b'z');
            scan(&t)
        };
        let fast = scan(s.as_bytes());
        assert_eq!(fast.plain, full.plain, "{s:?}");
        assert!(fast.single && fast.block && !fast.multiline, "{s:?}");
    }
}

#[test]
fn keys_sort_in_go_yaml_order() {
    // kubectl's order for these keys. (Mixing in `0b101` or `1.5` makes
    // go-yaml's order intransitive, see tests/yaml_kubectl.rs.)
    let want = [
        "-0", "_b", "0", "00", "08", "017", "Ab", "a_b", "a9", "a10", "file2", "file10",
    ];
    let mut got = want.to_vec();
    got.reverse();
    sort_by_less(&mut got, |a, b| key_less_bytes(a.as_bytes(), b.as_bytes()));
    assert_eq!(got, want);
    assert!(key_less("app", "app.kubernetes.io/name"));
    assert!(key_less("f:metadata", "f:spec"));
    assert!(key_less("é2", "é10"));
    assert!(!key_less("a", "a"));
}

/// The scan as the character loop alone finds it (the reference for the
/// printable-ASCII path).
fn scan_by_chars(s: &[u8]) -> Scan {
    if s.is_empty() {
        return scan(s);
    }
    scan_chars(s, leading_indicators(s))
}

/// Calls `f` with every string of up to `max` bytes of `alphabet`.
fn each_string(alphabet: &[u8], max: usize, f: &mut impl FnMut(&[u8])) {
    fn rec(alphabet: &[u8], max: usize, s: &mut Vec<u8>, f: &mut impl FnMut(&[u8])) {
        f(s);
        if s.len() == max {
            return;
        }
        for &c in alphabet {
            s.push(c);
            rec(alphabet, max, s, f);
            s.pop();
        }
    }
    rec(alphabet, max, &mut Vec::new(), f);
}

#[test]
fn ascii_scan_agrees_with_the_character_loop_on_every_short_string() {
    // Every string up to ten bytes over the characters the ASCII path
    // looks for, and up to five over a wider alphabet with the
    // characters that send a string to the loop.
    let mut same = |s: &[u8]| {
        assert_eq!(
            scan(s),
            scan_by_chars(s),
            "{:?}",
            String::from_utf8_lossy(s)
        )
    };
    each_string(b" :#a", 10, &mut same);
    each_string(b" :#-?.a\t\n\x7f\x1f~\xc2", 5, &mut same);
}

/// The writer's shortcut for quiet plain strings writes what the scan
/// and the style choice write, at any column (no fold), over every string
/// up to four bytes of an alphabet of digits, letters of the YAML 1.1
/// words, indicators and the bytes that end a quiet run, and long ones.
#[test]
fn quiet_plain_strings_are_written_as_the_full_path_writes_them() {
    fn check(s: &[u8]) {
        if !is_quiet_plain(s) {
            return;
        }
        let text = std::str::from_utf8(s).unwrap();
        for column in [0, 10, 79, 120] {
            let mut full = Vec::new();
            write_value(&mut full, text, true, column, 4);
            assert_eq!(full, [b" ", s, b"\n"].concat(), "{text:?} at {column}");
            // As a key, too (the key path's shortcut takes it).
            if s.len() <= SIMPLE_KEY_MAX {
                let mut key = Vec::new();
                assert!(write_key_scanned(&mut key, s, column), "{text:?}");
                assert_eq!(key, s, "{text:?} as a key at {column}");
            }
        }
    }
    each_string(
        b"0129.+-_eExXoOyYnNtTfFlL~:#!&*'\"|>%@`?,[]{}= a/",
        4,
        &mut |s| check(s),
    );
    // What the shortcut takes and what it leaves to the full path.
    assert!(
        is_quiet_plain(b"registry/app_v2") && is_quiet_plain(b"-a") && is_quiet_plain(b"yesno")
    );
    for s in [
        "", "yes", "1", "1e3", "~", "-", "a b", "a:", "#a", "*a", "\u{e9}",
    ] {
        assert!(!is_quiet_plain(s.as_bytes()), "{s:?}");
    }
    for s in [
        "x".repeat(200),
        "1".repeat(90),
        format!("{}e5", "9".repeat(40)),
    ] {
        check(s.as_bytes());
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Pieces strings are made of: what the scan looks at, ASCII and not.
    const PIECES: &[&[u8]] = &[
        b" ",
        b":",
        b"#",
        b"-",
        b"?",
        b".",
        b"a",
        b"Z",
        b"0",
        b"'",
        b"\"",
        b"\t",
        b"\n",
        b"\r",
        b"\x7f",
        b"\x00",
        b"\x1f",
        b"~",
        b"\xc3\xa9",
        b"\xc2\x85",
        b"\xc2\xa0",
        b"\xe2\x80\xa8",
        b"\xe2\x80\xa9",
        b"\xef\xbb\xbf",
        b"\xef\xbf\xbe",
        b"\xf0\x9f\x98\x80",
        b"\xc2",
        b"\xff",
        b"---",
        b"...",
        b"registry.example/x:1.2",
        b"hello world",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn ascii_scan_agrees_with_the_character_loop(
            picks in prop::collection::vec(0..PIECES.len(), 0..40),
        ) {
            let s: Vec<u8> = picks.iter().flat_map(|&i| PIECES[i].iter().copied()).collect();
            prop_assert_eq!(scan(&s), scan_by_chars(&s), "{:?}", String::from_utf8_lossy(&s));
        }

        #[test]
        fn names_are_plain_exactly_when_the_scan_says_so(k in "[a-zA-Z][a-zA-Z0-9]{0,5}|[a-z0-9:. -]{0,4}") {
            let b = k.as_bytes();
            let plain = style(b, &scan(b), true) == Style::Plain;
            prop_assert!(!is_plain_name(b) || plain);
            if b.iter().all(u8::is_ascii_alphanumeric) && b.first().is_some_and(u8::is_ascii_alphabetic) {
                prop_assert_eq!(is_plain_name(b), plain);
            }
        }

        #[test]
        fn ascii_scan_agrees_on_printable_ascii(s in "[ -~]{0,40}") {
            let s = s.as_bytes();
            prop_assert_eq!(scan(s), scan_by_chars(s));
        }
    }
}

#[test]
fn times_and_names_take_the_short_ways_to_the_same_text() {
    // Every text the time formatter makes, as any string would be written.
    for (secs, micros) in [
        (0, None),
        (1_700_000_000, None),
        (1_700_000_000, Some(5)),
        (1_700_000_000, Some(999_999)),
        (crate::kube::timefmt::GO_ZERO_SECONDS, None),
        (crate::kube::timefmt::GO_ZERO_SECONDS, Some(0)),
        (-1, Some(0)),
        (253_402_300_799, None),    // 9999-12-31T23:59:59Z
        (253_402_300_800, None),    // year 10000: not a timestamp
        (-62_200_000_000, Some(1)), // before year 0
    ] {
        let mut t = Vec::new();
        crate::kube::timefmt::write_rfc3339(&mut t, secs, micros);
        let text = String::from_utf8(t.clone()).unwrap();
        for (space, column) in [(true, 2), (false, 79)] {
            let (mut fast, mut slow) = (b"k:".to_vec(), b"k:".to_vec());
            write_time(&mut fast, &t, space, column, 2);
            write_value(&mut slow, &text, space, column, 2);
            assert_eq!(fast, slow, "{text}");
        }
    }
    let mut out = Vec::new();
    write_time(&mut out, b"2024-02-29T10:00:00.000001Z", true, 2, 2);
    assert_eq!(out, b" \"2024-02-29T10:00:00.000001Z\"\n");
    // Names: written as the scan and style would, bools and nulls quoted.
    for k in [
        "apiVersion",
        "a",
        "x9",
        "y",
        "Y",
        "n",
        "no",
        "NO",
        "on",
        "Off",
        "true",
        "FALSE",
        "null",
        "Null",
        "yes2",
        "yesno",
        "nulls",
    ] {
        let b = k.as_bytes();
        let sc = scan(b);
        let want = style(b, &sc, true) == Style::Plain;
        assert_eq!(is_plain_name(b), want, "{k}");
        let mut out = Vec::new();
        assert!(write_key(&mut out, k, 0));
        assert_eq!(out == b, want, "{k}");
    }
}

#[test]
fn quiet_blocks_agree_with_the_class_table() {
    // Every byte at every position of strings of every length up to 70
    // (two blocks and a remainder).
    for n in 1..=70 {
        assert!(all_quiet(&vec![b'x'; n]));
        for b in 0..=255u8 {
            for i in 0..n {
                let mut s = vec![b'x'; n];
                s[i] = b;
                assert_eq!(
                    all_quiet(&s),
                    CLASS[usize::from(b)] == 0,
                    "{b:#x} at {i} of {n}"
                );
            }
        }
    }
}

#[test]
fn sort_by_less_is_a_stable_sort_and_survives_an_intransitive_order() {
    // Against the standard stable sort on a total order, many lengths.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in [0usize, 1, 2, 15, 16, 17, 33, 100, 1000] {
        let v: Vec<(u64, usize)> = (0..n).map(|i| (next() % 10, i)).collect();
        let mut got = v.clone();
        sort_by_less(&mut got, |a, b| a.0 < b.0);
        let mut want = v;
        want.sort_by_key(|x| x.0);
        assert_eq!(got, want, "n = {n}");
    }
    // go-yaml's comparison on keys mixing numbers and other text is not
    // transitive: sorting them must still finish with every key kept.
    let keys: Vec<String> = (0..500)
        .map(|i| match next() % 5 {
            0 => format!("0b{}", next() % 200),
            1 => format!("{}.{}", next() % 20, next() % 9),
            2 => format!("{}", next() % 1000),
            3 => format!("0{}", next() % 50),
            _ => format!("k{i}"),
        })
        .collect();
    let mut got: Vec<&str> = keys.iter().map(String::as_str).collect();
    sort_by_less(&mut got, |a, b| key_less_bytes(a.as_bytes(), b.as_bytes()));
    let (mut a, mut b) = (
        got.clone(),
        keys.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn base64_text_scans_as_the_constant_says() {
    use base64::Engine as _;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for n in 0..300usize {
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let t = base64::engine::general_purpose::STANDARD.encode(&bytes);
        if t.is_empty() {
            continue;
        }
        assert_eq!(scan(t.as_bytes()), BASE64_SCAN, "{t}");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_base64(&mut a, &bytes, true, 10, 4);
        write_value(&mut b, &t, true, 10, 4);
        assert_eq!(a, b);
    }
    // Bytes whose text YAML 1.1 reads as a null, a number or a bool.
    for t in ["", "1234", "0000", "+123", "1e10", "true", "NULL"] {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        let (mut a, mut b) = (b"key:".to_vec(), b"key:".to_vec());
        write_base64(&mut a, &bytes, true, 10, 4);
        write_value(&mut b, t, true, 10, 4);
        assert_eq!(a, b, "{t}");
    }
}
