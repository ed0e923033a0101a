//! RFC 3339 and Go `time.Duration` text forms, without a date crate.

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) since the Unix epoch.
pub(crate) const GO_ZERO_SECONDS: i64 = -62_135_596_800;

/// Days since 1970-01-01 → (year, month, day). (H. Hinnant's algorithm.)
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2006-01-02T15:04:05Z`, or with `micros` six fractional digits.
pub fn rfc3339(seconds: i64, micros: Option<u32>) -> String {
    let mut out = Vec::with_capacity(27);
    write_rfc3339(&mut out, seconds, micros);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the text of [`rfc3339`] to `out` (no quotes, no allocation for
/// years 0000-9999). The one RFC 3339 formatter every output uses.
pub(crate) fn write_rfc3339(out: &mut Vec<u8>, seconds: i64, micros: Option<u32>) {
    // Nanos beyond a second (hostile input) show as .999999.
    let micros = micros.map(|us| us.min(999_999));
    let days = seconds.div_euclid(86_400);
    let sod = seconds.rem_euclid(86_400) as u32;
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
    if !(0..=9999).contains(&y) {
        use std::io::Write as _;
        let _ = write!(out, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if let Some(us) = micros {
            let _ = write!(out, ".{us:06}");
        }
        out.push(b'Z');
        return;
    }
    let y = y as u32;
    let two = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8])
    };
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, mo);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, h);
    out.push(b':');
    two(out, mi);
    out.push(b':');
    two(out, s);
    if let Some(us) = micros {
        out.push(b'.');
        two(out, us / 10_000);
        two(out, us / 100 % 100);
        two(out, us % 100);
    }
    out.push(b'Z');
}

/// Parses RFC 3339 (`Z` or `±hh:mm`, optional fraction) → (seconds, nanos).
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - st < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == st {
            return None;
        }
        for _ in (i - st).min(9)..9 {
            nanos *= 10;
        }
    }
    let off = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let v = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *c == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some((days * 86_400 + h * 3600 + mi * 60 + se - off, nanos))
}

/// Go's `time.Duration.String()`.
pub(crate) fn go_duration(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out: Vec<u8> = Vec::with_capacity(24); // built reversed
    fn frac(out: &mut Vec<u8>, mut v: u64, prec: usize) -> u64 {
        let mut print = false;
        for _ in 0..prec {
            let digit = (v % 10) as u8;
            print = print || digit != 0;
            if print {
                out.push(b'0' + digit);
            }
            v /= 10;
        }
        if print {
            out.push(b'.');
        }
        v
    }
    fn int(out: &mut Vec<u8>, mut v: u64) {
        if v == 0 {
            out.push(b'0');
            return;
        }
        while v > 0 {
            out.push(b'0' + (v % 10) as u8);
            v /= 10;
        }
    }
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".to_string();
        }
        out.push(b's');
        let prec = if u < 1_000 {
            out.push(b'n');
            0
        } else if u < 1_000_000 {
            // "µ" reversed: 0xC2 0xB5 pushed as B5, C2.
            out.push(0xb5);
            out.push(0xc2);
            3
        } else {
            out.push(b'm');
            6
        };
        u = frac(&mut out, u, prec);
        int(&mut out, u);
    } else {
        out.push(b's');
        u = frac(&mut out, u, 9);
        int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                int(&mut out, u);
            }
        }
    }
    if neg {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Parses a Go duration string (`1h2m3.5s`, `300ms`, `-1.5h`, `0`) → ns.
pub(crate) fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let nend = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..nend];
        rest = &rest[nend..];
        let uend = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit: i128 = match &rest[..uend] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[uend..];
        let (ip, fp) = num.split_once('.').unwrap_or((num, ""));
        if (ip.is_empty() && fp.is_empty()) || !fp.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let iv: i128 = if ip.is_empty() { 0 } else { ip.parse().ok()? };
        total += iv * unit;
        let mut scale = unit;
        for c in fp.bytes().take(18) {
            scale /= 10;
            total += i128::from(c - b'0') * scale;
        }
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0, None), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1199149261, None), "2008-01-01T01:01:01Z");
        assert_eq!(rfc3339(GO_ZERO_SECONDS, None), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(1199149261, Some(42)), "2008-01-01T01:01:01.000042Z");
        assert_eq!(parse_rfc3339("2008-01-01T01:01:01Z"), Some((1199149261, 0)));
        assert_eq!(
            parse_rfc3339("2008-01-01T02:01:01.5+01:00"),
            Some((1199149261, 500_000_000))
        );
        assert_eq!(parse_rfc3339("2008-13-01T01:01:01Z"), None);
        assert_eq!(parse_rfc3339("garbage"), None);
        for s in [
            -10_000_000_000i64,
            GO_ZERO_SECONDS,
            -1,
            0,
            951_782_400,
            4_102_444_800,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339(s, None)), Some((s, 0)));
        }
    }

    #[test]
    fn durations() {
        for (ns, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (1_500_000_000, "1.5s"),
            (3_600_000_000_000, "1h0m0s"),
            (-90_000_000_000, "-1m30s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(go_duration(ns), s);
            assert_eq!(parse_go_duration(s), Some(ns), "{s}");
        }
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration("1.2.3s"), None);
        assert_eq!(parse_go_duration("."), None);
        assert_eq!(parse_go_duration("-"), None);
    }
}
