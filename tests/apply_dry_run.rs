//! The issue #14 check that needs a Kubernetes API: real `kubectl apply
//! --dry-run=client` reads an apply-ready stream of a whole namespace.
//! kubectl's apply asks the server for each object before creating it, so
//! this runs against `etcdsnap serve` (issue #11) on a snapshot that does
//! not hold them (fixtures/etcd-3.5/small.db): every object is "created".

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

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
    let server = Serve::start([
        fixture("etcd-3.5/small.db").as_os_str(),
        "--kubeconfig-out".as_ref(),
        kubeconfig.as_os_str(),
    ]);
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
    let k = k.wait_with_output().unwrap();
    drop(server);
    assert!(k.status.success(), "kubectl apply: {}", stderr(&k));
    let lines: Vec<String> = stdout(&k).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), docs, "{lines:?}");
    assert!(lines[0].starts_with("configmap/"), "{lines:?}");
    assert!(
        lines.iter().all(|l| l.ends_with(" created (dry run)")),
        "{lines:?}"
    );
}
