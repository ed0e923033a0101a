//! Pins the exact output (stdout, stderr, exit code) of the commands whose
//! reports are built by library values (`ls`, `history`, `certs`) on the
//! committed fixtures, so moving code between the CLI and the library
//! cannot change a byte. The expected files are in `tests/golden/`, with
//! the repository's path written `$REPO`; `ETCDSNAP_BLESS=1` rewrites them
//! (review the diff before committing).

mod common;

use common::{etcdsnap, repo};

/// (golden name, arguments with `$REPO` for the repository).
const CASES: &[(&str, &[&str])] = &[
    ("ls-small", &["ls", "$REPO/fixtures/etcd-3.5/small.db"]),
    (
        "ls-small-json",
        &["ls", "$REPO/fixtures/etcd-3.5/small.db", "-o", "json"],
    ),
    (
        "ls-small-deleted",
        &["ls", "$REPO/fixtures/etcd-3.5/small.db", "--deleted"],
    ),
    (
        "ls-small-deleted-json",
        &[
            "ls",
            "$REPO/fixtures/etcd-3.5/small.db",
            "--deleted",
            "-o",
            "json",
        ],
    ),
    ("ls-encrypted", &["ls", "$REPO/fixtures/encrypted"]),
    (
        "ls-encrypted-decode-json",
        &["ls", "$REPO/fixtures/encrypted", "--decode", "-o", "json"],
    ),
    (
        "history-cm",
        &[
            "history",
            "$REPO/fixtures/etcd-3.5/small.db",
            "/registry/configmaps/default/cm-1",
        ],
    ),
    (
        "history-cm-json",
        &[
            "history",
            "$REPO/fixtures/etcd-3.5/small.db",
            "configmap",
            "cm-1",
            "-n",
            "default",
            "-o",
            "json",
        ],
    ),
    (
        "history-deleted-pod",
        &[
            "history",
            "$REPO/fixtures/etcd-3.5/small.db",
            "pod/web-4",
            "-n",
            "default",
        ],
    ),
    (
        "history-salvage",
        &[
            "history",
            "$REPO/fixtures/salvage/compacted.db",
            "--salvage",
            "/registry/configmaps/default/cm3",
        ],
    ),
    (
        "certs-2030",
        &["certs", "$REPO/fixtures/certs", "--at", "2030-01-01"],
    ),
    (
        "certs-2030-json",
        &[
            "certs",
            "$REPO/fixtures/certs",
            "--at",
            "2030-01-01",
            "-o",
            "json",
        ],
    ),
    (
        "certs-encrypted",
        &["certs", "$REPO/fixtures/encrypted", "--at", "2026-12-01"],
    ),
];

#[test]
fn report_outputs_are_pinned() {
    let root = repo().display().to_string();
    let bless = std::env::var_os("ETCDSNAP_BLESS").is_some();
    let mut failed = Vec::new();
    for (name, args) in CASES {
        let args: Vec<String> = args.iter().map(|a| a.replace("$REPO", &root)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = etcdsnap(&args);
        let got = format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
        .replace(&root, "$REPO");
        let path = repo().join("tests/golden").join(format!("{name}.txt"));
        if bless {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (ETCDSNAP_BLESS=1 writes it)", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            failed.push(format!("{name}: differs from line {}", line + 1));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
