//! What a hostile backup and a careless hand found (issue 15): every case is
//! crafted with a real etcd 3.5.1 by `scripts/make-hostile.py` (binary keys
//! and values through the v3 gateway, then `etcdctl snapshot save`) and the
//! tests assert the hardened behaviour.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_etcdsnap");

/// The crafted snapshots, made once per test process (into the target
/// dir's tmp, replacing the previous run's, so one copy is kept).
fn crafted() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile");
        let _ = std::fs::remove_dir_all(&dir);
        let o = Command::new("python3")
            .arg(common::repo().join("scripts/make-hostile.py"))
            .arg(&dir)
            .args(["--pods", "8", "--pod-bytes", "400000"])
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
        vec!["history", &db, key, "-o", "json"],
        vec![
            "diff",
            &db,
            "--from-rev",
            "1",
            "--to-rev",
            "5",
            "-o",
            "json",
        ],
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

/// Runs etcdsnap, sampling the child's peak RSS (VmHWM) from /proc while
/// it runs. Returns the output and the peak in KiB.
fn run_measured(args: &[&str]) -> (Output, u64) {
    use std::io::Read;
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn etcdsnap");
    let status_path = format!("/proc/{}/status", child.id());
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let mut err = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut peak = 0u64;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("etcdsnap {args:?} ran over 300 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = child.wait().expect("wait");
    let o = Output {
        status,
        stdout: reader.join().expect("stdout"),
        stderr: err_reader.join().expect("stderr"),
    };
    (o, peak)
}

/// Pods whose spec is only empty `containers` entries decode to far more
/// than they store: each is refused with a per-value error naming it, and
/// `get` stays under a memory bound (before: every pod of a 4096-item
/// window rendered and held at once, 276 MB peak for 12 such pods of
/// 400 KB; the bound here is 150 MB).
#[test]
fn amplifying_values_are_refused_within_a_memory_bound() {
    let amp = crafted().join("amplify.db").display().to_string();
    let (o, peak_kb) = run_measured(&["get", &amp, "pods", "-o", "yaml"]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for i in 0..8 {
        assert!(
            err.contains(&format!(
                "/registry/pods/default/amp-{i}: decodes to more than"
            )),
            "{err}"
        );
    }
    assert!(peak_kb > 0, "no VmHWM sampled");
    assert!(
        peak_kb < 150 * 1024,
        "get of amplifying pods peaked at {peak_kb} KiB"
    );
}

/// Inputs read whole are capped: /dev/zero is refused, not read until
/// memory runs out.
#[test]
fn inputs_read_whole_are_capped() {
    let o = run(&["decode", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(common::stderr(&o).contains("larger than"), "{}", all(&o));
    let o = run(&[
        "get",
        common::fixture("etcd-3.5/small.db").to_str().unwrap_or(""),
        "--keys",
        "/dev/zero",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", all(&o));
    assert!(common::stderr(&o).contains("larger than"), "{}", all(&o));
}

/// A backup dir whose newest snapshot_*.db cannot be read (a dangling
/// symlink, a FIFO, a directory, a device) is not skipped silently: the
/// file and the reason are named, and verify exits 1 though the older
/// snapshot is intact.
#[test]
fn unusable_newest_snapshot_is_named() {
    let good = common::fixture("etcd-3.5/small.db");
    for kind in ["dangling symlink", "FIFO", "directory", "device"] {
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path();
        std::fs::copy(&good, d.join("snapshot_2026-11-19_101500.db")).expect("copy");
        let newest = d.join("snapshot_2026-11-20_101500.db");
        match kind {
            "dangling symlink" => {
                std::os::unix::fs::symlink(d.join("gone.db"), &newest).expect("symlink")
            }
            "FIFO" => {
                let c = std::ffi::CString::new(newest.to_str().unwrap_or("")).expect("cstr");
                // SAFETY: mkfifo with a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            }
            "directory" => std::fs::create_dir(&newest).expect("mkdir"),
            _ => std::os::unix::fs::symlink("/dev/null", &newest).expect("symlink"),
        }
        let o = run(&["verify", d.to_str().unwrap_or("")]);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{kind}: {}", all(&o));
        assert!(
            err.contains("snapshot_2026-11-20_101500.db is unusable"),
            "{kind}: {err}"
        );
        let why = match kind {
            "dangling symlink" => "symlink",
            "FIFO" => "FIFO",
            "directory" => "directory",
            _ => "device",
        };
        assert!(err.contains(why), "{kind}: {err}");
        // Other commands go on with the older snapshot, saying so.
        let o = run(&["status", d.to_str().unwrap_or("")]);
        assert_eq!(o.status.code(), Some(0), "{kind}: {}", all(&o));
        assert!(common::stderr(&o).contains("unusable"), "{kind}");
    }
}

/// The input truncated while a command still reads it: no SIGBUS crash,
/// "input changed while reading" and exit 2. The reader stops reading our
/// output after the first bytes, so `get` is blocked mid-output when the
/// file is cut; its next read of the mapping faults.
#[test]
fn input_truncated_while_reading_exits_2() {
    use std::io::Read;
    let t = tempfile::tempdir().expect("tempdir");
    let copy = t.path().join("many.db");
    std::fs::copy(crafted().join("many.db"), &copy).expect("copy");
    let mut child = Command::new(BIN)
        .args([
            "get",
            copy.to_str().unwrap_or(""),
            "configmaps",
            "-o",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1000];
    out.read_exact(&mut first).expect("first output");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&copy)
        .and_then(|f| f.set_len(0))
        .expect("truncate");
    let mut rest = Vec::new();
    let _ = out.read_to_end(&mut rest);
    let mut err = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("input changed while reading"), "{err}");
}

/// No raw control byte reaches a terminal: keys holding `ESC ] 0 ; … BEL
/// ESC [ 2 J` and an encryption key name holding escapes (taken from a
/// value) are printed escaped by every human-readable output and error;
/// JSON stays exact (its own `\u001b` escapes).
#[test]
fn no_raw_control_bytes_in_human_output() {
    let db = db();
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("x");
    let cmds: Vec<Vec<&str>> = vec![
        vec!["ls", &db],
        vec!["get", &db, "-o", "table"],
        vec!["get", &db, "-o", "etcd"],
        vec!["get", &db, "configmaps", "-A"],
        vec!["get", &db, "configmaps", "-A", "-o", "yaml"],
        vec!["get", &db, "configmaps", "-A", "-o", "name"],
        vec![
            "get",
            &db,
            "-A",
            "-o",
            "name",
            "--sort-by",
            "{.metadata.name}",
        ],
        vec!["get", &db, "secrets", "-A", "-o", "yaml"],
        vec!["history", &db, "/registry/secrets/default/enc-evil"],
        vec!["keys", &db, "--keys", "/dev/null"],
        vec!["verify", &db],
        vec!["stats", &db],
        vec!["export", &db, "--out", out.to_str().unwrap_or("")],
        vec![
            "get",
            &db,
            "--key",
            "/registry/configmaps/default/evil\x1b]0;PWNED\x07\x1b[2J",
            "-o",
            "table",
        ],
    ];
    for args in &cmds {
        let o = run(args);
        for (what, b) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            let bad: Vec<u8> = b
                .iter()
                .copied()
                .filter(|&c| (c < 0x20 && c != b'\n') || c == 0x7f)
                .collect();
            assert!(
                bad.is_empty(),
                "{args:?} {what} holds raw control bytes {bad:?}:\n{}",
                String::from_utf8_lossy(b)
            );
        }
    }
    // The escaped forms are shown.
    let o = run(&["ls", &db]);
    assert!(common::stdout(&o).contains("evil\\x1b]0;PWNED\\x07\\x1b[2J"));
    assert!(common::stdout(&o).contains("k\\x1b[2J"));
    // JSON is exact.
    let o = run(&["ls", &db, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["format"], "etcdsnap.ls");
    assert!(v["keys"]
        .as_array()
        .expect("array")
        .iter()
        .any(|r| r["key"] == "/registry/configmaps/default/evil\u{1b}]0;PWNED\u{7}\u{1b}[2J"));
}

/// Export of the hostile snapshot: every key gets its own bounded file
/// (a 253-character name, a namespace `index.json`, the same name under
/// two etcd prefixes, names differing only in invalid UTF-8 bytes, a
/// namespace `_cluster` next to a cluster-scoped key), the bad values are
/// named in index.json, and the exit code is 1.
#[test]
fn export_writes_every_object_and_names_the_bad_ones() {
    let db = db();
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("x");
    let o = run(&["export", &db, "--out", out.to_str().unwrap_or("")]);
    assert_eq!(o.status.code(), Some(1), "{}", all(&o));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).expect("index.json"))
            .expect("json");
    assert_eq!(index["format"], "etcdsnap.export-index");
    let index = index["objects"].as_array().expect("array");
    // Every key put (the Secret put twice is one live key).
    let m = manifest();
    let mut want: Vec<String> = m["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["key_hex"].as_str().map(str::to_string))
        .collect();
    want.sort();
    want.dedup();
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let mut got: Vec<String> = index
        .iter()
        .map(|e| match e["key_hex"].as_str() {
            Some(h) => h.to_string(),
            None => hex(e["key"].as_str().unwrap_or("")),
        })
        .collect();
    got.sort();
    assert_eq!(got, want, "index.json names every key");
    let mut files = std::collections::BTreeSet::new();
    let mut failed = Vec::new();
    for e in index {
        if let Some(err) = e["error"].as_str() {
            failed.push((e["key"].as_str().unwrap_or("").to_string(), err.to_string()));
        }
        let f = e["file"].as_str().expect("every object has a file here");
        assert!(out.join(f).is_file(), "{f}");
        assert!(files.insert(f.to_lowercase()), "two objects in {f}");
        for part in std::path::Path::new(f).components() {
            assert!(part.as_os_str().len() <= 255, "{f}");
        }
    }
    assert_eq!(failed.len(), 3, "{failed:?}");
    for bad in ["badyaml", "enc-evil", "undecodable"] {
        assert!(failed.iter().any(|(k, _)| k.ends_with(bad)), "{failed:?}");
    }
    // The good objects decode back as the ConfigMaps they were.
    let good = std::fs::read_to_string(out.join("default/configmaps/good-1.yaml")).expect("good-1");
    assert!(good.contains("name: good-1"), "{good}");
    let twins: Vec<&String> = files.iter().filter(|f| f.contains("twin~")).collect();
    assert_eq!(twins.len(), 2, "{files:?}");
}
