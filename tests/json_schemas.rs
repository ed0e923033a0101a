//! Stable machine output: every versioned JSON document (each command's
//! `-o json`, export's index.json, restore --salvage's loss report) is run
//! on the fixtures and validated against its JSON Schema in docs/json/
//! with a real validator, Python's `jsonschema` (draft 2020-12; installed by
//! scripts/install-deps.sh). The table of formats is
//! `etcdsnap::machine_output::ALL`; every format in it must be exercised
//! here and have its schema, and every schema must belong to a format.
//! That every command whose `-o` offers json has a format in the table is
//! checked against the clap definitions by the binary's unit test
//! `cli::json_formats::every_json_output_has_a_format`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{etcdsnap, fixture, schema_dir, schema_violations as validate, stderr};
use etcdsnap::machine_output::{self as mo, Format};

struct Run {
    dir: tempfile::TempDir,
    files: Vec<PathBuf>,
    seen: BTreeSet<&'static str>,
}

impl Run {
    fn tmp(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// Keeps a document of `want` (read from `file`, else stdout) for the
    /// validator, after checking it names its format and version.
    fn keep(&mut self, label: &str, want: &Format, text: &[u8]) {
        let v: serde_json::Value = serde_json::from_slice(text).unwrap_or_else(|e| {
            panic!("{label}: not JSON ({e}): {}", String::from_utf8_lossy(text))
        });
        assert!(
            want.is(&v),
            "{label}: format/version are {} {}, want {} {}",
            v["format"],
            v["version"],
            want.name,
            want.version
        );
        let p = self
            .dir
            .path()
            .join(format!("doc-{}.json", self.files.len()));
        std::fs::write(&p, text).unwrap();
        self.files.push(p);
        self.seen.insert(want.name);
    }

    /// Runs etcdsnap; its stdout is a document of `want`.
    fn stdout(&mut self, want: &Format, args: &[&str]) {
        let o = etcdsnap(args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: exit {:?}: {}",
            o.status.code(),
            stderr(&o)
        );
        self.keep(&format!("{args:?}"), want, &o.stdout);
    }

    /// Runs etcdsnap; `file` is then a document of `want`.
    fn file(&mut self, want: &Format, args: &[&str], file: &Path) {
        let o = etcdsnap(args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: exit {:?}: {}",
            o.status.code(),
            stderr(&o)
        );
        let text = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.keep(&format!("{args:?} -> {}", file.display()), want, &text);
    }
}

fn f(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_string()
}

#[test]
fn every_document_validates_against_its_schema() {
    let mut r = Run {
        dir: tempfile::tempdir().unwrap(),
        files: Vec::new(),
        seen: BTreeSet::new(),
    };
    let small = f("etcd-3.5/small.db");
    let deep = f("etcd-3.4/deep.db");
    let backup = f("openshift-backup");
    let older = f("openshift-backup/snapshot_2026-11-19_101500.db");
    let newer = f("openshift-backup/snapshot_2026-11-20_101500.db");
    let enc = f("encrypted");
    let enc_db = f("encrypted/snapshot_2026-11-21_101500.db");
    let damaged = f("salvage/compacted.db");

    for i in [&small, &deep, &backup] {
        r.stdout(&mo::STATUS, &["status", "-o", "json", i]);
    }
    r.stdout(&mo::VERIFY, &["verify", "-o", "json", &small]);
    r.stdout(&mo::VERIFY, &["verify", "-o", "json", &backup]);
    r.stdout(
        &mo::VERIFY,
        &["verify", "-o", "json", "--keys", &enc, &enc_db],
    );
    r.stdout(
        &mo::VERIFY,
        &["verify", "--salvage", "-o", "json", &damaged],
    );
    r.stdout(&mo::KEYS, &["keys", "-o", "json", &enc]);
    r.stdout(&mo::LS, &["ls", "-o", "json", &small]);
    r.stdout(&mo::LS, &["ls", "-o", "json", "--decode", &enc]);
    r.stdout(&mo::LS, &["ls", "-o", "json", &small, "/nothing/"]);
    r.stdout(&mo::LS, &["ls", "--salvage", "-o", "json", &damaged]);
    r.stdout(&mo::LS_DELETED, &["ls", "--deleted", "-o", "json", &small]);
    r.stdout(
        &mo::HISTORY,
        &[
            "history", "-o", "json", &small, "cm", "cm-1", "-n", "default",
        ],
    );
    r.stdout(&mo::DIFF, &["diff", "-o", "json", &older, &newer]);
    r.stdout(&mo::DIFF, &["diff", "-o", "json", &small, &small]);
    r.stdout(&mo::STATS, &["stats", "-o", "json", &small]);
    r.stdout(&mo::STATS, &["stats", "-o", "json", &enc]);
    r.stdout(&mo::HASHKV, &["hashkv", "-o", "json", &small]);
    r.stdout(&mo::TIMELINE, &["timeline", "-o", "json", &backup]);
    r.stdout(&mo::CERTS, &["certs", "-o", "json", &f("certs")]);

    let out = r.tmp("export");
    r.file(
        &mo::EXPORT_INDEX,
        &["export", &enc, "--out", &out],
        &Path::new(&out).join("index.json"),
    );
    let out = r.tmp("export-apply");
    r.file(
        &mo::EXPORT_INDEX,
        &["export", &backup, "--out", &out, "--for-apply"],
        &Path::new(&out).join("index.json"),
    );

    let dd = r.tmp("restored");
    r.stdout(
        &mo::RESTORE,
        &["restore", "-o", "json", &small, "--data-dir", &dd],
    );
    let dd_os = r.tmp("restored-openshift");
    r.stdout(
        &mo::RESTORE,
        &["restore", "-o", "json", &backup, "--data-dir", &dd_os],
    );
    let dd_s = r.tmp("salvaged");
    r.stdout(
        &mo::RESTORE,
        &[
            "restore",
            "--salvage",
            "-o",
            "json",
            &damaged,
            "--data-dir",
            &dd_s,
        ],
    );
    let report = PathBuf::from(format!("{dd_s}.salvage-report.json"));
    let text = std::fs::read(&report).unwrap();
    r.keep("restore --salvage report", &mo::SALVAGE_REPORT, &text);
    // A data dir with a WAL: the one restore just wrote.
    r.stdout(&mo::WAL, &["wal", "-o", "json", &dd]);
    let copy = r.tmp("defragged.db");
    r.stdout(
        &mo::DEFRAG,
        &["defrag", "-o", "json", &small, "--out", &copy],
    );

    let failed = validate(&r.files);
    assert!(failed.is_empty(), "{}", failed.join("\n"));

    // Every format of the table was exercised.
    let all: BTreeSet<&str> = mo::ALL.iter().map(|f| f.name).collect();
    let missing: Vec<&&str> = all.difference(&r.seen).collect();
    assert!(missing.is_empty(), "formats not exercised: {missing:?}");
}

#[test]
fn schemas_and_formats_match_one_to_one() {
    let mut files: BTreeSet<String> = std::fs::read_dir(schema_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".schema.json"))
        .collect();
    for fmt in mo::ALL {
        let name = fmt.schema_file();
        assert!(
            files.remove(&name),
            "{} ({}) has no docs/json/{name}",
            fmt.name,
            fmt.what
        );
        let s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(schema_dir().join(&name)).unwrap()).unwrap();
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(s["$id"], format!("{}.v{}", fmt.name, fmt.version), "{name}");
        assert_eq!(s["properties"]["format"]["const"], fmt.name, "{name}");
        assert_eq!(s["properties"]["version"]["const"], fmt.version, "{name}");
        let req: Vec<&str> = s["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            req.contains(&"format") && req.contains(&"version"),
            "{name}: format and version must be required"
        );
        // The docs page lists it.
        let readme = std::fs::read_to_string(schema_dir().join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("`{}` v{}", fmt.name, fmt.version)) && readme.contains(&name),
            "docs/json/README.md does not list {} v{} and {name}",
            fmt.name,
            fmt.version
        );
    }
    assert!(files.is_empty(), "schemas without a format: {files:?}");
}

/// The validator rejects what does not match: a document with a field of
/// the wrong type, one without a required field, and one naming another
/// version.
#[test]
fn the_validator_rejects_wrong_documents() {
    let o = etcdsnap(&["hashkv", "-o", "json", &f("etcd-3.5/small.db")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let good: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut write = |name: &str, v: &serde_json::Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        files.push(p);
    };
    write("good.json", &good);
    let mut bad = good.clone();
    bad["hash"] = "not a number".into();
    write("wrong-type.json", &bad);
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("hash_revision");
    write("missing.json", &bad);
    let mut bad = good.clone();
    bad["version"] = 99.into();
    write("other-version.json", &bad);
    let failed = validate(&files);
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed.iter().all(|l| !l.contains("good.json")),
        "{failed:?}"
    );
}
