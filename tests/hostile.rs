//! What a hostile backup and a careless hand found (issue 15): every case is
//! crafted with a real etcd 3.5.1 by `scripts/make-hostile.py` (binary keys
//! and values through the v3 gateway, then `etcdctl snapshot save`) and the
//! tests assert the hardened behaviour.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_etcdsnap");

/// The crafted snapshots, made once per test process.
fn crafted() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = Command::new("python3")
            .arg(common::repo().join("scripts/make-hostile.py"))
            .arg(&dir)
            .args(["--pods", "3", "--pod-bytes", "1400000"])
            .env("ETCDSNAP_ETCD35_DIR", common::bin_dir(common::Version::V35))
            .output()
            .expect("run python3 scripts/make-hostile.py (install python3)");
        assert!(
            o.status.success(),
            "make-hostile.py failed: {}{}",
            common::stdout(&o),
            common::stderr(&o)
        );
        dir
    })
}

fn db() -> String {
    crafted().join("hostile.db").display().to_string()
}

fn manifest() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(crafted().join("hostile.json")).expect("read"))
        .expect("json")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run etcdsnap")
}

/// stdout and stderr together, lossy.
fn all(o: &Output) -> String {
    format!("{}{}", common::stdout(o), common::stderr(o))
}

/// Every marker, raw and as base64 of its first 18 bytes (how a Secret's
/// `data` shows it).
fn needles(markers: &[&str]) -> Vec<String> {
    use base64::Engine as _;
    let mut v = Vec::new();
    for m in markers {
        v.push(m[..12].to_string());
        let n = m.len().min(18) / 3 * 3;
        v.push(base64::engine::general_purpose::STANDARD.encode(&m.as_bytes()[..n]));
    }
    v
}

fn secret_markers() -> Vec<String> {
    manifest()["markers"]
        .as_array()
        .expect("markers")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect()
}

fn assert_hidden(what: &str, text: &str, markers: &[String]) {
    let m: Vec<&str> = markers.iter().map(String::as_str).collect();
    for n in needles(&m) {
        assert!(!text.contains(&n), "{what}: shows {n:?}:\n{text}");
    }
}

/// Every file under `d`, with its bytes.
fn files(d: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                let b = std::fs::read(&p).expect("read");
                out.push((p, b));
            }
        }
    }
    out
}

#[test]
fn redact_hides_every_secret_value() {
    let db = db();
    let markers = secret_markers();
    // Without --redact the Secret is there (the test can fail).
    let o = run(&["get", &db, "secrets", "-A", "-o", "json"]);
    assert!(
        all(&o).contains(&needles(&["hunter2-LASTAPPLIED-MARKER"])[1]),
        "{}",
        all(&o)
    );
    for fmt in ["yaml", "json"] {
        let o = run(&["get", &db, "-A", "--redact", "-o", fmt]);
        assert_hidden(&format!("get --redact -o {fmt}"), &all(&o), &markers);
        assert!(common::stdout(&o).contains("sha256:"));
    }
    // The stored bytes cannot be redacted: refused.
    let o = run(&[
        "get", &db, "secret", "applied", "-n", "default", "-o", "raw", "--redact",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(o.stdout.is_empty());
    // Field-level diff of a changed Secret: digests only.
    let before = manifest()["revision_before_change"]
        .as_i64()
        .expect("rev")
        .to_string();
    let after = (before.parse::<i64>().expect("n") + 1).to_string();
    for fmt in ["text", "json"] {
        let o = run(&[
            "diff",
            &db,
            "--from-rev",
            &before,
            "--to-rev",
            &after,
            "--redact",
            "-o",
            fmt,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", all(&o));
        assert!(common::stdout(&o).contains("data.password"), "{}", all(&o));
        assert_hidden(&format!("diff --redact -o {fmt}"), &all(&o), &markers);
    }
    // Export: every file, and what it prints.
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("x");
    let o = run(&[
        "export",
        &db,
        "--out",
        out.to_str().unwrap_or(""),
        "--redact",
    ]);
    assert_hidden("export --redact output", &all(&o), &markers);
    let written = files(&out);
    assert!(written.len() > 10, "{written:?}");
    for (p, b) in &written {
        assert_hidden(
            &format!("export --redact {}", p.display()),
            &String::from_utf8_lossy(b),
            &markers,
        );
    }
}

#[test]
fn key_material_hidden_unless_asked_for() {
    let db = db();
    let km = [
        "KEYMATERIAL-MARKER-0123456789abcdef".to_string(),
        "KEYCONFIG-MARKER".to_string(),
    ];
    let key =
        "/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-apiserver-1";
    for args in [
        vec!["get", &db, "secrets", "-A", "-o", "json"],
        vec!["get", &db, "secrets", "-A", "-o", "yaml"],
        vec!["ls", &db, "--decode", "-o", "json"],
    ] {
        let o = run(&args);
        assert_hidden(&format!("{args:?}"), &all(&o), &km);
    }
    let o = run(&["get", &db, "--key", key, "-o", "raw"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(common::stderr(&o).contains("--show-key-material"));
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("x");
    run(&["export", &db, "--out", out.to_str().unwrap_or("")]);
    for (p, b) in files(&out) {
        assert_hidden(
            &format!("export {}", p.display()),
            &String::from_utf8_lossy(&b),
            &km,
        );
    }
    // Shown when asked for.
    let o = run(&["get", &db, "--key", key, "-o", "raw", "--show-key-material"]);
    assert_eq!(o.status.code(), Some(0), "{}", all(&o));
    assert!(all(&o).contains("KEYMATERIAL-MARKER"));
    let o = run(&[
        "get",
        &db,
        "--key",
        key,
        "-o",
        "json",
        "--show-key-material",
    ]);
    assert!(all(&o).contains(&needles(&["KEYMATERIAL-MARKER-0123456789abcdef"])[1]));
}
