//! `--redact` never shows a Secret's value (issue #10): for every Secret in
//! every snapshot fixture (protobuf; encrypted ones read with their keys)
//! and in a snapshot made here with a real etcd 3.5.1 holding JSON-encoded
//! objects (a Secret, and a ConfigMap embedding Secrets in an annotation
//! and a data value), no value of `data`/`stringData` — raw, a line of it,
//! or its base64 — appears in any output form of `get --redact` or in the
//! files `export --redact` writes.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{etcdsnap, stderr, stdout};
use serde_json::{json, Value as J};

/// Every form `get` prints objects in (the streamed ones and those built
/// from a tree).
const FORMS: &[&[&str]] = &[
    &["-o", "json"],
    &["-o", "yaml"],
    &[],
    &["-o", "wide"],
    &["-o", "name"],
    &["-o", "jsonpath={.items}"],
    &[
        "-o",
        "custom-columns=NAME:.metadata.name,DATA:.data,STRING:.stringData,NOTES:.metadata.annotations",
    ],
    &["-o", "json", "--sort-by", "{.metadata.name}"],
    &["-o", "yaml", "--for-apply"],
    &["-o", "json", "--for-apply"],
    &["-o", "json", "-l", "redact-test!=nothing"],
];

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// What must not be shown of one value: its base64 text, the value, each
/// of its lines that is long enough not to be common text (a kubeconfig's
/// `apiVersion: v1` is not a secret), and the JSON spelling of each.
fn needles_of(value: &[u8], out: &mut Vec<String>) {
    let mut v = vec![b64(value)];
    if let Ok(s) = std::str::from_utf8(value) {
        v.push(s.to_string());
        let lines = s.lines().map(str::trim).filter(|l| l.len() >= 20);
        v.extend(lines.map(str::to_string));
    }
    for n in v {
        if n.len() >= 8 {
            let json = serde_json::to_string(&n).unwrap_or_default();
            out.push(json.trim_matches('"').to_string());
            out.push(n);
        }
    }
}

/// Every string in `v`, as it is and as JSON spells it.
fn strings(v: &J, out: &mut Vec<String>) {
    match v {
        J::String(s) => {
            out.push(s.clone());
            out.push(serde_json::to_string(s).unwrap_or_default());
        }
        J::Array(a) => a.iter().for_each(|x| strings(x, out)),
        J::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The values of every Secret's `data`/`stringData` in the listing `plain`
/// (key material shown), less those any other object also holds (a CA
/// bundle in a ConfigMap is no leak).
fn secret_needles(plain: &J) -> Vec<String> {
    let items = plain["items"].as_array().cloned().unwrap_or_default();
    let mut needles = Vec::new();
    let mut elsewhere = Vec::new();
    for o in &items {
        if o["kind"] != "Secret" {
            strings(o, &mut elsewhere);
            continue;
        }
        for (field, base64) in [("data", true), ("stringData", false)] {
            for v in o[field].as_object().into_iter().flat_map(|m| m.values()) {
                let s = v.as_str().unwrap_or_default();
                let raw = if base64 {
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .unwrap_or_else(|_| s.as_bytes().to_vec())
                } else {
                    s.as_bytes().to_vec()
                };
                needles_of(&raw, &mut needles);
            }
        }
    }
    needles.sort();
    needles.dedup();
    needles.retain(|n| !elsewhere.iter().any(|s| s.contains(n.as_str())));
    needles
}

fn assert_hidden(what: &str, text: &str, needles: &[String]) {
    for n in needles {
        assert!(!text.contains(n.as_str()), "{what}: shows {n:?}");
    }
}

/// Every file under `d`, with its text.
fn files(d: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            let b = std::fs::read(&p).expect("read");
            out.push((p, String::from_utf8_lossy(&b).into_owned()));
        }
    }
    out
}

/// Runs every form (and export) with `--redact` on `input` and asserts
/// that none shows a needle; returns how many outputs were checked.
fn check(input: &str, extra: &[&str], needles: &[String]) -> usize {
    let mut checked = 0;
    for form in FORMS {
        let mut args = vec!["get", input, "-A"];
        args.extend_from_slice(extra);
        args.extend_from_slice(form);
        // Without --redact the values are there (the test can fail).
        if form.first() == Some(&"-o") && form.get(1) == Some(&"json") && form.len() == 2 {
            let mut a = args.clone();
            a.push("--show-key-material");
            let o = etcdsnap(&a);
            let text = stdout(&o);
            assert!(
                needles.iter().any(|n| text.contains(n.as_str())),
                "{a:?}: no needle shows without --redact"
            );
        }
        args.push("--redact");
        let o = etcdsnap(&args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&o)
        );
        let text = format!("{}{}", stdout(&o), stderr(&o));
        assert_hidden(&format!("{args:?}"), &text, needles);
        if form.contains(&"json") || form.contains(&"yaml") {
            assert!(text.contains("sha256:"), "{args:?}: nothing redacted");
        }
        checked += 1;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("x");
    let mut args = vec!["export", input, "--out", out.to_str().unwrap_or("")];
    args.extend_from_slice(extra);
    args.push("--redact");
    let o = etcdsnap(&args);
    // 1: some values of the fixture cannot be decrypted (named).
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&o)
    );
    assert_hidden(&format!("{args:?}"), &stderr(&o), needles);
    let written = files(&out);
    assert!(
        written.iter().any(|(_, t)| t.contains("sha256:")),
        "{args:?}"
    );
    for (p, text) in &written {
        assert_hidden(&format!("{args:?} {}", p.display()), text, needles);
    }
    checked + 1
}

#[test]
fn no_secret_value_shows_in_any_redacted_output_of_any_fixture() {
    let inputs = common::object_fixtures();
    let mut total = 0;
    for (input, extra) in &inputs {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let mut args = vec!["get", input.as_str(), "-A", "-o", "json"];
        args.extend_from_slice(&extra);
        args.push("--show-key-material");
        let o = etcdsnap(&args);
        let plain: J = serde_json::from_str(&stdout(&o)).expect("json");
        let needles = secret_needles(&plain);
        assert!(!needles.is_empty(), "{input}: no Secret values to look for");
        total += check(input, &extra, &needles);
    }
    assert!(total > inputs.len() * FORMS.len());
}

#[test]
fn json_encoded_secrets_are_redacted_in_every_output() {
    let markers = [
        "JSONSECRET-DATA-MARKER-0001",
        "JSONSECRET-STRINGDATA-MARKER-0002",
        "EMBEDDED-LIST-MARKER-0003",
        "EMBEDDED-DATA-MARKER-0004",
        "LASTAPPLIED-MARKER-0005",
    ];
    let embedded = |m: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "inner"},
            "data": {"password": b64(m.as_bytes())}})
    };
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "json-secret", "namespace": "jsonns",
            "labels": {"redact-test": "yes"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration":
                format!("{}\n", embedded(markers[4]))}},
        "data": {"password": b64(markers[0].as_bytes())},
        "stringData": {"token": markers[1]}, "type": "Opaque"});
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "embeds", "namespace": "jsonns",
            "annotations": {"list": json!({"apiVersion": "v1", "kind": "List",
                "items": [embedded(markers[2])]}).to_string()}},
        "data": {"secret.json": embedded(markers[3]).to_string()}});
    let etcd = common::Etcd::start(common::Version::V35);
    etcd.put_bytes(
        "/registry/secrets/jsonns/json-secret",
        secret.to_string().as_bytes(),
    );
    etcd.put_bytes(
        "/registry/configmaps/jsonns/embeds",
        cm.to_string().as_bytes(),
    );
    let t = tempfile::tempdir().expect("tempdir");
    let db = t.path().join("json.db");
    etcd.save(&db);
    let db = db.to_string_lossy().into_owned();
    let mut needles = Vec::new();
    for m in markers {
        needles_of(m.as_bytes(), &mut needles);
    }
    check(&db, &[], &needles);
    // One object, as `get TYPE NAME` prints it.
    for form in ["json", "yaml"] {
        for (kind, name) in [("secret", "json-secret"), ("configmap", "embeds")] {
            let o = etcdsnap(&[
                "get", &db, kind, name, "-n", "jsonns", "-o", form, "--redact",
            ]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let text = stdout(&o);
            assert_hidden(&format!("get {kind} {name} -o {form}"), &text, &needles);
            assert!(text.contains("sha256:"), "{text}");
        }
    }
}
