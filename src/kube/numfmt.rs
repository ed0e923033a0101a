//! How kubectl spells a float. The apiserver writes floats with Go's
//! encoding/json, and kubectl reads every number back into an `int64` when
//! the text is one, else a `float64`. Its JSON output then spells the
//! float as encoding/json does; its YAML output (sigs.k8s.io/yaml) reads
//! that JSON text again with YAML's rules: an integral text stays an
//! integer (signed or unsigned 64 bits), and any other float is written
//! by `strconv.FormatFloat(f, 'g', -1, 64)`. See docs/kubernetes.md,
//! "Numbers"; the vectors below were confirmed with kubectl
//! (tests/yaml_kubectl.rs checks them against it on every run).

/// The shortest digits that read back as `|f|` (finite, non-zero), and
/// the position of the decimal point: `|f| = 0.DIGITS × 10^point`.
fn shortest(f: f64) -> (Vec<u8>, i32) {
    // Rust's `{:e}` is the shortest round-trip form, as Go's `-1` precision.
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    (digits, exp.parse::<i32>().unwrap_or(0) + 1)
}

/// Go's `%f` of the digits, as many fraction digits as they need.
fn fixed(out: &mut String, digits: &[u8], point: i32) {
    let digit = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |&d| char::from(d))
    };
    if point > 0 {
        (0..point).for_each(|i| out.push(digit(i)));
    } else {
        out.push('0');
    }
    let fraction = digits.len() as i32 - point;
    if fraction > 0 {
        out.push('.');
        (0..fraction).for_each(|i| out.push(digit(point + i)));
    }
}

/// Go's `%e` of the digits; the exponent has at least `min_exp_digits`.
fn exponent(out: &mut String, digits: &[u8], point: i32, min_exp_digits: usize) {
    let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
    out.push(char::from(*first));
    if !rest.is_empty() {
        out.push('.');
        out.extend(rest.iter().map(|&d| char::from(d)));
    }
    let exp = point - 1;
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    out.push_str(&format!("{:0min_exp_digits$}", exp.unsigned_abs()));
}

/// A finite float as Go's encoding/json writes it, and kubectl's JSON
/// output shows it: `%f` from 1e-6 up to 1e21, else `%e` with the
/// exponent's digits as few as they can be. Zero (either sign) is `0`:
/// kubectl reads the `-0` the apiserver writes as the integer 0.
pub(crate) fn json_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return "0".into();
    }
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    let (digits, point) = shortest(f);
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        exponent(&mut out, &digits, point, 1);
    } else {
        fixed(&mut out, &digits, point);
    }
    out
}

/// A finite float as kubectl's YAML output shows it: the JSON text when
/// YAML reads it as a 64-bit integer, else `FormatFloat(f, 'g', -1, 64)`
/// (`%e`, exponent of at least two digits, below 1e-4 and from 1e6 up).
pub(crate) fn yaml_float(f: f64) -> String {
    let json = json_float(f);
    if !json.contains(['.', 'e']) && (json.parse::<i64>().is_ok() || json.parse::<u64>().is_ok()) {
        return json;
    }
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    let (digits, point) = shortest(f);
    let exp = point - 1;
    if !(-4..6).contains(&exp) {
        exponent(&mut out, &digits, point, 2);
    } else {
        fixed(&mut out, &digits, point);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, kubectl's JSON, kubectl's YAML), as kubectl 1.37 printed
    /// them (`patch --local -o json|yaml` of a file holding the values).
    const SEEN: &[(f64, &str, &str)] = &[
        (0.5, "0.5", "0.5"),
        (1e6, "1000000", "1000000"),
        (1000000.5, "1000000.5", "1.0000005e+06"),
        (123456.5, "123456.5", "123456.5"),
        (1234567.5, "1234567.5", "1.2345675e+06"),
        (1e-5, "0.00001", "1e-05"),
        (0.0001, "0.0001", "0.0001"),
        (1e21, "1e+21", "1e+21"),
        (1.5e-7, "1.5e-7", "1.5e-07"),
        (1e15, "1000000000000000", "1000000000000000"),
        (1e16, "10000000000000000", "10000000000000000"),
        (1e19, "10000000000000000000", "10000000000000000000"),
        (1e20, "100000000000000000000", "1e+20"),
        (1.5e-6, "0.0000015", "1.5e-06"),
        (123456789.5, "123456789.5", "1.234567895e+08"),
        (-2.5e-10, "-2.5e-10", "-2.5e-10"),
        (1e-7, "1e-7", "1e-07"),
        (0.1, "0.1", "0.1"),
        (3.0, "3", "3"),
        (1e300, "1e+300", "1e+300"),
        (5e-324, "5e-324", "5e-324"),
        (
            1.7976931348623157e308,
            "1.7976931348623157e+308",
            "1.7976931348623157e+308",
        ),
        (
            12345678901234567890.0,
            "12345678901234567000",
            "12345678901234567000",
        ),
        (-0.0, "0", "0"),
    ];

    #[test]
    fn floats_are_spelled_as_kubectl_spells_them() {
        for &(f, json, yaml) in SEEN {
            assert_eq!(json_float(f), json, "{f:e} as JSON");
            assert_eq!(yaml_float(f), yaml, "{f:e} as YAML");
        }
    }
}
