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

    // A whole namespace: its objects, and the Namespace first.
    let o = etcdsnap(&["get", snap.to_str().unwrap(), "-n", "shop", "--for-apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = documents(&stdout(&o));
    assert_eq!(docs[0]["kind"], "Namespace");
    assert_eq!(docs[0]["metadata"]["name"], "shop");
    assert_eq!(
        docs.len(),
        10,
        "all but the Lease in kube-system and the owned ReplicaSet"
    );
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
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let index = index["objects"].as_array().unwrap();
    let ranks: Vec<u64> = index
        .iter()
        .map(|e| e["apply_rank"].as_u64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // -n shop brings the Namespace itself, first.
    assert_eq!(index[0]["kind"], "Namespace");
    assert_eq!(index[1]["kind"], "ServiceAccount");
    assert!(!index.iter().any(|e| e["kind"] == "ReplicaSet"));
    for e in index {
        let text = std::fs::read_to_string(out.join(e["file"].as_str().unwrap())).unwrap();
        let v: Value = serde_saphyr::from_str(&text).unwrap();
        for f in DROPPED {
            assert!(v["metadata"].get(f).is_none(), "{f} in {}", e["file"]);
        }
    }
}

/// `kubectl patch --local -f FILE -p {} -o OUTPUT`: kubectl reads the file
/// without a server and prints each object in it unchanged, through its
/// own printers.
fn kubectl_print(file: &Path, output: &str) -> String {
    let k = Command::new(kubectl())
        .args(["patch", "--local", "--type=merge", "-p", "{}", "-f"])
        .arg(file)
        .args(["-o", output])
        .output()
        .unwrap();
    assert!(k.status.success(), "kubectl -o {output}: {}", stderr(&k));
    stdout(&k)
}

fn get_ok(args: &[&str]) -> String {
    let o = etcdsnap(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// One object's JSON as `get -o json` printed it, in a temp file.
fn object_file(dir: &Path, resource: &str, name: &str) -> PathBuf {
    let snap = shop_snapshot().to_str().unwrap();
    let text = get_ok(&["get", snap, resource, name, "-n", "shop", "-o", "json"]);
    let p = dir.join(format!("{resource}-{name}.json"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Separates the paths of one combined template (Go's JSON escapes `<`,
/// so no printed map or list holds it).
const SEP: &str = "<|>";

const OBJECT_PATHS: &[&str] = &[
    "{.metadata.name}",
    "{.kind}{\"\\t\"}{.apiVersion}{'\\n'}",
    "{['metadata.name']}",
    "{.metadata.labels}",
    "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    "{.spec.replicas}",
    "{.spec.template.spec.containers[*].image}",
    "{.spec.template.spec.containers[0].ports}",
    "{.spec.template.spec.containers[-1:].resources.limits.memory}",
    "{range .spec.template.spec.containers[*]}{.name}={.image}{\"\\n\"}{end}",
    "{..image}",
    "{.spec.ports[?(@.port==80)].name}",
    "{.spec.ports[?(@.port>8000)].name}",
    "{.spec.ports[?(@.name==\"http\")].targetPort}",
    "{.spec.ports[?(@.protocol)].port}",
    "{.spec.to}",
    "{.spec.to.weight}",
    "{.data}",
    "{.nope}",
    "x{.nope.deeper}y",
    "{.status}",
    "{.metadata}",
    "{.spec}",
];

#[test]
fn jsonpath_on_one_object_matches_kubectl() {
    let snap = shop_snapshot().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (res, name) in [
        ("deployments", "web"),
        ("services", "web"),
        ("secrets", "db-credentials"),
        ("configmaps", "web-config"),
        ("routes", "web"),
        ("widgets.example.com", "blue"),
    ] {
        let file = object_file(dir.path(), res, name);
        // Every path in one template (one run each), compared piece by piece.
        let all = OBJECT_PATHS.join(SEP);
        let ours = get_ok(&[
            "get",
            snap,
            res,
            name,
            "-n",
            "shop",
            "-o",
            &format!("jsonpath={all}"),
        ]);
        let theirs = kubectl_print(&file, &format!("jsonpath={all}"));
        let (o, t): (Vec<&str>, Vec<&str>) =
            (ours.split(SEP).collect(), theirs.split(SEP).collect());
        assert_eq!(o.len(), OBJECT_PATHS.len(), "{ours}");
        for ((path, a), b) in OBJECT_PATHS.iter().zip(&o).zip(&t) {
            assert_eq!(a, b, "{res}/{name} {path}");
        }
    }
}

#[test]
fn jsonpath_over_a_list_matches_kubectl() {
    let snap = shop_snapshot().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.json");
    std::fs::write(&list, get_ok(&["get", snap, "-n", "shop", "-o", "json"])).unwrap();
    // `{range .items[*]}X{end}` over the List is X on each object in turn,
    // which is what kubectl prints for a file holding a List.
    let all = format!("{}{SEP}", OBJECT_PATHS.join(SEP));
    let ours = get_ok(&[
        "get",
        snap,
        "-n",
        "shop",
        "-o",
        &format!("jsonpath={{range .items[*]}}{all}{{end}}"),
    ]);
    let theirs = kubectl_print(&list, &format!("jsonpath={all}"));
    let (o, t): (Vec<&str>, Vec<&str>) = (ours.split(SEP).collect(), theirs.split(SEP).collect());
    assert!(o.len() > 5 * OBJECT_PATHS.len(), "{ours}");
    assert_eq!(o.len(), t.len());
    for (i, (a, b)) in o.iter().zip(&t).enumerate() {
        assert_eq!(a, b, "{}", OBJECT_PATHS[i % OBJECT_PATHS.len()]);
    }
    // -o name, object for object.
    let ours = get_ok(&["get", snap, "-n", "shop", "-o", "name"]);
    assert_eq!(ours, kubectl_print(&list, "name"));
    assert!(ours.contains("deployment.apps/web\n"), "{ours}");
    // jsonpath-as-json.
    let ours = get_ok(&[
        "get",
        snap,
        "deployments",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath-as-json={.spec.template.spec.containers[*].name}",
    ]);
    let file = object_file(dir.path(), "deployments", "web");
    assert_eq!(
        ours,
        kubectl_print(
            &file,
            "jsonpath-as-json={.spec.template.spec.containers[*].name}"
        )
    );
}

#[test]
fn custom_columns_cells_match_kubectl_jsonpath() {
    // kubectl prints custom-columns only from `get` (which needs a
    // server); each scalar cell is its jsonpath value, `<none>` when
    // missing, several values joined by commas.
    let snap = shop_snapshot().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.json");
    std::fs::write(&list, get_ok(&["get", snap, "-n", "shop", "-o", "json"])).unwrap();
    let cols = [
        ("NAME", ".metadata.name"),
        ("KIND", "kind"),
        ("REPLICAS", "{.spec.replicas}"),
        ("IMAGES", "{.spec.template.spec.containers[*].image}"),
    ];
    let spec: Vec<String> = cols.iter().map(|(h, p)| format!("{h}:{p}")).collect();
    let ours = get_ok(&[
        "get",
        snap,
        "-n",
        "shop",
        "-o",
        &format!("custom-columns={}", spec.join(",")),
    ]);
    let lines: Vec<&str> = ours.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "KIND", "REPLICAS", "IMAGES"]
    );
    // Per column, kubectl's jsonpath `[{.path}]` on each object of the List.
    let per_col: Vec<Vec<String>> = cols
        .iter()
        .map(|(_, p)| {
            let p = p.trim_start_matches('{').trim_end_matches('}');
            let p = p.strip_prefix('.').unwrap_or(p);
            kubectl_print(&list, &format!("jsonpath=[{{.{p}}}]"))
                .split(']')
                .filter_map(|s| s.strip_prefix('['))
                .map(|v| {
                    if v.is_empty() {
                        "<none>".to_string()
                    } else {
                        v.replace(' ', ",")
                    }
                })
                .collect()
        })
        .collect();
    let mut expect: Vec<Vec<String>> = Vec::new();
    for i in 0..per_col[0].len() {
        expect.push(per_col.iter().map(|c| c[i].clone()).collect());
    }
    assert_eq!(lines.len() - 1, expect.len());
    for (line, want) in lines[1..].iter().zip(&expect) {
        assert_eq!(line.split_whitespace().collect::<Vec<_>>(), *want, "{line}");
    }
    // kubectl's padding: columns 3 spaces apart, header aligned.
    let name_w = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().len())
        .max()
        .unwrap();
    assert_eq!(lines[0].find("KIND"), Some((name_w + 3).max(6)));
}

#[test]
fn sort_by_and_label_columns() {
    let snap = shop_snapshot().to_str().unwrap();
    let names = get_ok(&[
        "get",
        snap,
        "-n",
        "shop",
        "--sort-by",
        "{.metadata.creationTimestamp}",
        "-o",
        "jsonpath={range .items[*]}{.metadata.creationTimestamp} {end}",
    ]);
    let ts: Vec<&str> = names.split_whitespace().collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
    assert!(ts.len() >= 8, "{names}");
    let t = get_ok(&[
        "get",
        snap,
        "deployments,replicasets",
        "-n",
        "shop",
        "-o",
        "etcd-wide",
        "-L",
        "app",
        "--show-labels",
    ]);
    let head: Vec<&str> = t.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(&head[head.len() - 2..], ["APP", "LABELS"]);
    assert!(head.contains(&"SIZE"));
    for l in t.lines().skip(1) {
        assert!(l.ends_with("web   app=web"), "{l}");
    }
    // kubectl's wide table: a section per kind, label columns last.
    let t = get_ok(&[
        "get",
        snap,
        "deployments,replicasets",
        "-n",
        "shop",
        "-o",
        "wide",
        "-L",
        "app",
        "--show-labels",
    ]);
    let heads: Vec<&str> = t.lines().filter(|l| l.starts_with("NAME ")).collect();
    assert_eq!(heads.len(), 2, "{t}");
    for h in heads {
        assert!(
            h.contains(" SELECTOR ") && h.ends_with("APP   LABELS"),
            "{h}"
        );
    }
    for l in t
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("NAME "))
    {
        assert!(l.ends_with("web   app=web"), "{l}");
        assert!(
            l.starts_with("deployment.apps/") || l.starts_with("replicaset.apps/"),
            "{l}"
        );
    }
}

/// Encodes a fixture, optionally edited, as the apiserver stores it.
fn encoded(file: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let mut v: Value = serde_saphyr::from_str(&text).unwrap();
    edit(&mut v);
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), serde_json::to_vec(&v).unwrap()).unwrap();
    let o = etcdsnap(&["encode", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o.stdout
}

#[test]
fn timeline_reports_known_changes() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let snap = |d: &str| backups.join(format!("snapshot_2026-11-0{d}_101500.db"));
    let mut e = Etcd::start(Version::V35);
    // Day 1: a namespace, a ConfigMap and a Secret.
    e.put_bytes(
        "/registry/namespaces/shop",
        &encoded("manifests/01-namespace.yaml", |_| {}),
    );
    e.put_bytes(
        "/registry/configmaps/shop/web-config",
        &encoded("manifests/02-configmap.yaml", |_| {}),
    );
    e.put_bytes(
        "/registry/secrets/shop/db-credentials",
        &encoded("manifests/03-secret.yaml", |_| {}),
    );
    e.save(&snap("1"));
    // Day 2: the ConfigMap's mode changes, another ConfigMap appears.
    e.put_bytes(
        "/registry/configmaps/shop/web-config",
        &encoded("manifests/02-configmap.yaml", |v| {
            v["data"]["mode"] = "maintenance".into()
        }),
    );
    e.put_bytes(
        "/registry/configmaps/shop/extra",
        &encoded("manifests/02-configmap.yaml", |v| {
            v["metadata"]["name"] = "extra".into()
        }),
    );
    e.save(&snap("2"));
    // Day 3: the Secret is deleted, a Deployment created, labels edited.
    e.ctl_ok(&["del", "/registry/secrets/shop/db-credentials"]);
    e.put_bytes(
        "/registry/deployments/shop/web",
        &encoded("manifests/04-deployment.yaml", |_| {}),
    );
    e.put_bytes(
        "/registry/configmaps/shop/web-config",
        &encoded("manifests/02-configmap.yaml", |v| {
            v["data"]["mode"] = "maintenance".into();
            v["metadata"]["labels"]["tier"] = "front".into();
        }),
    );
    e.save(&snap("3"));
    e.stop();

    // Given out of order, as files: ordered by the time in their names.
    let (s1, s2, s3) = (snap("1"), snap("2"), snap("3"));
    let o = etcdsnap(&[
        "timeline",
        s3.to_str().unwrap(),
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["format"], "etcdsnap.timeline");
    valid_against("timeline", &o.stdout);
    let rows = v["backups"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert_eq!(
        times,
        [
            "2026-11-01T10:15:00",
            "2026-11-02T10:15:00",
            "2026-11-03T10:15:00"
        ]
    );
    let revs: Vec<i64> = rows
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revs, [4, 6, 9]);
    assert_eq!(rows[0]["objects"], 3);
    assert_eq!(
        rows[1]["created"],
        serde_json::json!(["configmaps/shop/extra"])
    );
    assert_eq!(
        rows[1]["changed"],
        serde_json::json!([{"object": "configmaps/shop/web-config", "paths": ["data.mode"]}])
    );
    assert_eq!(rows[1]["deleted"], serde_json::json!([]));
    assert_eq!(
        rows[2]["created"],
        serde_json::json!(["deployments/shop/web"])
    );
    assert_eq!(
        rows[2]["deleted"],
        serde_json::json!(["secrets/shop/db-credentials"])
    );
    assert_eq!(
        rows[2]["changed"],
        serde_json::json!([{"object": "configmaps/shop/web-config", "paths": ["metadata.labels.tier"]}])
    );

    // One object, from the backup dir: only its own changes.
    let o = etcdsnap(&[
        "timeline",
        backups.to_str().unwrap(),
        "configmaps",
        "web-config",
        "-n",
        "shop",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("TIME"), "{text}");
    assert_eq!(lines.len(), 6, "{text}");
    assert!(
        lines[3].ends_with("~ configmaps/shop/web-config: data.mode"),
        "{text}"
    );
    assert!(
        lines[5].ends_with("~ configmaps/shop/web-config: metadata.labels.tier"),
        "{text}"
    );
    // Nothing of that name: exit 1.
    let o = etcdsnap(&["timeline", backups.to_str().unwrap(), "configmaps", "nope"]);
    assert_eq!(o.status.code(), Some(1));
}

/// `certs -o json` on the certificate fixture (scripts/make-cert-fixtures.py):
/// status by subject CN and source, and the exit code.
fn certs_at(at: &str) -> (i32, Vec<(String, String, String)>) {
    let snap = fixture("certs/snapshot_2026-11-21_101500.db");
    let o = etcdsnap(&["certs", snap.to_str().unwrap(), "--at", at, "-o", "json"]);
    let v: Value =
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    assert_eq!(v["format"], "etcdsnap.certs");
    valid_against("certs", &o.stdout);
    let mut rows: Vec<(String, String, String)> = v["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    (o.status.code().unwrap(), rows)
}

fn status_of(rows: &[(String, String, String)], subject: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r.0 == subject)
        .map(|r| r.1.clone())
        .collect()
}

#[test]
fn certs_report_known_dates_at_each_time() {
    // At the snapshot's time (2026-11-21 10:15).
    let (code, rows) = certs_at("snapshot");
    assert_eq!(code, 1, "an expired certificate: exit 1");
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert_eq!(status_of(&rows, "CN=old.example.com"), ["expired"]);
    assert_eq!(
        status_of(&rows, "CN=system:admin, O=system:masters"),
        ["expiring"]
    );
    assert_eq!(status_of(&rows, "CN=api.example.com"), ["expiring"]);
    assert_eq!(status_of(&rows, "CN=web.shop.svc"), ["valid"]);
    assert_eq!(status_of(&rows, "CN=fixture-ca"), ["valid"; 5]);
    let sources: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    for want in [
        "secrets/certs-demo/old-tls data.tls.crt[0]",
        "secrets/certs-demo/old-tls data.ca.crt[0]",
        "secrets/certs-demo/web-tls data.tls.crt[1]",
        "secrets/certs-demo/admin-kubeconfig data.kubeconfig.users[0].user.client-certificate-data[0]",
        "configmaps/certs-demo/ca-bundle data.ca-bundle.crt[0]",
        "tarball:static-pod-resources/kube-apiserver-pod-3/secrets/serving-cert/tls.crt[0]",
    ] {
        assert!(sources.contains(&want), "{want} not in {sources:?}");
    }

    // A month earlier: nothing expired yet; old.example.com expires within
    // 30 days; web and api are not valid yet.
    let (code, rows) = certs_at("2026-10-15");
    assert_eq!(code, 0);
    assert_eq!(status_of(&rows, "CN=old.example.com"), ["expiring"]);
    assert_eq!(
        status_of(&rows, "CN=system:admin, O=system:masters"),
        ["valid"]
    );
    assert_eq!(status_of(&rows, "CN=web.shop.svc"), ["not-yet-valid"]);
    assert_eq!(status_of(&rows, "CN=api.example.com"), ["not-yet-valid"]);

    // Next year: three expired.
    let (code, rows) = certs_at("2027-01-01T00:00:00Z");
    assert_eq!(code, 1);
    assert_eq!(
        status_of(&rows, "CN=system:admin, O=system:masters"),
        ["expired"]
    );
    assert_eq!(status_of(&rows, "CN=api.example.com"), ["expired"]);
    assert_eq!(status_of(&rows, "CN=web.shop.svc"), ["valid"]);

    // The text report names serials and SANs, never key material.
    let o = etcdsnap(&["certs", fixture("certs").to_str().unwrap()]);
    let text = stdout(&o);
    assert!(
        text.contains("DNS:web.shop.svc, DNS:web.shop.svc.cluster.local, IP:10.0.0.1"),
        "{text}"
    );
    assert!(text.contains("serial     20:02"));
    assert!(!text.contains("PRIVATE KEY"));
    assert!(
        text.ends_with("1 expired, 2 expiring within 30 days, 0 not yet valid, 6 valid\n"),
        "{text}"
    );
    // A bad date is bad usage.
    let o = etcdsnap(&[
        "certs",
        fixture("certs").to_str().unwrap(),
        "--at",
        "tomorrow",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// Validates a `-o json` document of format `etcdsnap.NAME` against its
/// schema in docs/json/ (tests/common: Python's jsonschema).
fn valid_against(name: &str, doc: &[u8]) {
    let v: Value = serde_json::from_slice(doc).unwrap();
    assert_eq!(v["format"], format!("etcdsnap.{name}"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("{name}.json"));
    std::fs::write(&p, doc).unwrap();
    let bad = common::schema_violations(&[p]);
    assert!(bad.is_empty(), "{bad:?}");
}
