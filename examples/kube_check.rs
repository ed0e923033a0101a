//! Checks the Kubernetes decoder (and encoder) against upstream API testdata:
//! every `<group>.<version>.<Kind>.pb` in a directory is decoded and compared
//! with its `.json` (exactly, and leniently: absent = zero/empty/null), and
//! its `.yaml` (or `.json`) is encoded and compared with the `.pb` bytes.
//!
//! Usage: `cargo run --release --example kube_check -- DIR [-v]`
//! (or set `KUBE_TESTDATA=DIR`). The data cannot be committed; `cargo test`
//! runs the pass/fail part as `tests/kube_testdata.rs`. See
//! `scripts/check-kube-testdata.sh`.

use std::path::PathBuf;

use serde_json::Value as J;

/// Drops null, false, 0, "", [] and {} (recursively) so absent and zero compare equal.
fn normalize(v: &J) -> Option<J> {
    match v {
        J::Null => None,
        J::Bool(false) => None,
        J::String(s) if s.is_empty() => None,
        J::Number(n) if n.as_f64() == Some(0.0) => None,
        J::Array(a) => {
            let a: Vec<J> = a.iter().map(|x| normalize(x).unwrap_or(J::Null)).collect();
            if a.is_empty() {
                None
            } else {
                Some(J::Array(a))
            }
        }
        J::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                if let Some(x) = normalize(x) {
                    m.insert(k.clone(), x);
                }
            }
            if m.is_empty() {
                None
            } else {
                // Order-insensitive comparison.
                m.sort_keys();
                Some(J::Object(m))
            }
        }
        other => Some(other.clone()),
    }
}

fn first_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: got `{}` want `{}`", i + 1, x.trim(), y.trim());
        }
    }
    format!(
        "lengths differ: got {} lines, want {}",
        a.lines().count(),
        b.lines().count()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let mutate = args.iter().any(|a| a == "--mutate");
    let dir = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .or_else(|| std::env::var("KUBE_TESTDATA").ok())
        .unwrap_or_else(|| "/work/shared/testdata/kube-api/HEAD".into());
    let mut pbs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pb"))
        .collect();
    pbs.sort();
    let (mut exact, mut lenient, mut enc_exact, mut enc_yaml) = (0, 0, 0, 0);
    let mut stream_exact = 0;
    for pb in &pbs {
        let name = pb
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let bytes = std::fs::read(pb).unwrap_or_default();
        let want_text = std::fs::read_to_string(pb.with_extension("json")).unwrap_or_default();
        let want: J = serde_json::from_str(&want_text).unwrap_or(J::Null);
        // `<group>.<version>.<Kind>`: the hint for fixtures whose envelope is empty.
        let (gv, kind) = name.rsplit_once('.').unwrap_or(("", ""));
        let (group, version) = gv.rsplit_once('.').unwrap_or(("", gv));
        let api_version = if group == "core" {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        match etcdsnap::kube::proto::decode_with_hint(&bytes, Some((&api_version, kind))) {
            Ok(got) => {
                let text = serde_json::to_string_pretty(&got).unwrap_or_default();
                if text == want_text.trim_end_matches('\n') {
                    exact += 1;
                } else if verbose {
                    println!("DIFF  {name}: {}", first_diff(&text, &want_text));
                }
                if normalize(&got) == normalize(&want) {
                    lenient += 1;
                } else {
                    println!("FAIL  {name}: {}", first_diff(&text, &want_text));
                }
            }
            Err(e) => println!("ERROR {name}: {e}"),
        }
        // Streaming writer: must produce the same text without a Value.
        let mut out = Vec::new();
        match etcdsnap::kube::render::write_protobuf(
            &bytes,
            Some((&api_version, kind)),
            &mut out,
            etcdsnap::kube::render::Style::PRETTY,
        ) {
            Ok(()) if out == want_text.trim_end_matches('\n').as_bytes() => stream_exact += 1,
            Ok(()) => println!(
                "WDIFF {name}: {}",
                first_diff(&String::from_utf8_lossy(&out), &want_text)
            ),
            Err(e) => println!("WERR  {name}: {e}"),
        }
        // Encoder: JSON golden → protobuf must equal the .pb bytes.
        match etcdsnap::kube::encode::encode_object_as(&want, Some((&api_version, kind))) {
            Ok(b) if b == bytes => enc_exact += 1,
            Ok(b) => {
                if let Ok(d) = std::env::var("KUBE_CHECK_DUMP") {
                    let _ = std::fs::write(format!("{d}/{name}.pb"), &b);
                }
                if verbose {
                    let at = b
                        .iter()
                        .zip(&bytes)
                        .position(|(x, y)| x != y)
                        .unwrap_or(b.len().min(bytes.len()));
                    println!(
                        "ENC   {name}: differs at byte {at} (got {} bytes, want {})",
                        b.len(),
                        bytes.len()
                    );
                }
            }
            Err(e) => {
                if verbose {
                    println!("ENCER {name}: {e}");
                }
            }
        }
        if let Ok(y) = std::fs::read_to_string(pb.with_extension("yaml")) {
            let yv: J = serde_saphyr::from_str(&y).unwrap_or(J::Null);
            let enc = etcdsnap::kube::encode::encode_object_as(&yv, Some((&api_version, kind)));
            if enc.is_ok_and(|b| b == bytes) {
                enc_yaml += 1;
            } else if verbose {
                println!("ENCY  {name}: YAML encode differs");
            }
        }
    }
    let n = pbs.len();
    if mutate {
        mutation_check(&pbs);
    }
    println!("decode: {exact}/{n} byte-exact, {lenient}/{n} lenient");
    println!("stream writer: {stream_exact}/{n} byte-exact");
    println!("encode: {enc_exact}/{n} from .json byte-exact, {enc_yaml}/{n} from .yaml byte-exact");
    if lenient != n || stream_exact != n {
        std::process::exit(1);
    }
}

/// Every single-byte mutation of every object's raw bytes: neither path may
/// panic, both must agree on success/failure and on the document.
fn mutation_check(pbs: &[PathBuf]) {
    use etcdsnap::kube::{encode::envelope, proto, render};
    let (mut cases, mut disagree, mut panics) = (0usize, 0usize, 0usize);
    for pb in pbs {
        let bytes = std::fs::read(pb).unwrap_or_default();
        let Ok(env) = proto::parse_envelope(&bytes) else {
            continue;
        };
        let (av, kind) = (env.api_version.to_string(), env.kind.to_string());
        let raw0 = env.raw.to_vec();
        for i in 0..raw0.len() {
            for x in [0u8, 0x01, 0x0a, 0x12, 0x7f, 0x80, 0xff] {
                let mut raw = raw0.clone();
                raw[i] = x;
                let v = envelope(&av, &kind, &raw);
                cases += 1;
                let r = std::panic::catch_unwind(|| {
                    let a = proto::decode(&v);
                    let mut out = Vec::new();
                    let plain = render::Style {
                        pretty: false,
                        go_escape: false,
                    };
                    let s = render::write_protobuf(&v, None, &mut out, plain);
                    match (a, s) {
                        // Same text: same keys in the same order.
                        (Ok(a), Ok(())) => serde_json::to_vec(&a).is_ok_and(|t| t == out),
                        (Err(_), Err(_)) => true,
                        _ => false,
                    }
                });
                match r {
                    Ok(true) => {}
                    Ok(false) => {
                        disagree += 1;
                        if disagree <= 5 {
                            println!("MUT   {}: byte {i} = {x:#x}: paths disagree", pb.display());
                        }
                    }
                    Err(_) => panics += 1,
                }
            }
        }
    }
    println!("mutations: {cases} cases, {disagree} disagreements, {panics} panics");
}
