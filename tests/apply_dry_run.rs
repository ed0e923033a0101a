//! The issue #14 check that needs a Kubernetes API: real `kubectl apply
//! --dry-run=client` reads an apply-ready stream of a whole namespace.
//! kubectl's apply asks the server for each object before creating it, so
//! this runs against `etcdsnap serve` (issue #11) on a snapshot that does
//! not hold them (fixtures/etcd-3.5/small.db): every object is "created".

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

fn kubectl() -> PathBuf {
    let p = std::env::var_os("ETCDSNAP_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/kubectl/bin/kubectl"));
    assert!(
        p.is_file(),
        "kubectl not found at {}: run scripts/install-deps.sh",
        p.display()
    );
    p
}

#[test]
fn kubectl_apply_dry_run_accepts_a_whole_namespace() {
    // The stream: every object of one namespace, apply-ready.
    let backup = fixture("openshift-backup");
    let stream = etcdsnap(&[
        "get",
        backup.to_str().unwrap(),
        "-n",
        "openshift-app-0",
        "--for-apply",
        "-o",
        "yaml",
    ]);
    assert_eq!(stream.status.code(), Some(0), "{}", stderr(&stream));
    let docs = stdout(&stream).matches("---\n").count();
    assert!(docs > 10, "{}", stdout(&stream));

    // A server that holds none of them.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .arg("serve")
        .arg(fixture("etcd-3.5/small.db"))
        .args(["--listen", &listen, "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start etcdsnap serve");
    let out = server.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        let _ = tx.send(line);
        let _ = r.read_to_end(&mut Vec::new());
    });
    let started = rx.recv_timeout(Duration::from_secs(30));
    let result = started.map(|_| {
        let mut k = Command::new(kubectl())
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["apply", "--dry-run=client", "--validate=false", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        k.stdin.take().unwrap().write_all(&stream.stdout).unwrap();
        k.wait_with_output().unwrap()
    });
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    let k = result.expect("etcdsnap serve did not start within 30 s");
    assert!(k.status.success(), "kubectl apply: {}", stderr(&k));
    let lines: Vec<String> = stdout(&k).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), docs, "{lines:?}");
    assert!(lines[0].starts_with("configmap/"), "{lines:?}");
    assert!(
        lines.iter().all(|l| l.ends_with(" created (dry run)")),
        "{lines:?}"
    );
}
