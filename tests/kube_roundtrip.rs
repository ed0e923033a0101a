//! Round trip through real etcd: the manifests in fixtures/manifests are
//! encoded (`etcdsnap encode`), written into a real etcd under their
//! storage keys, saved with `etcdctl snapshot save`, and read back with
//! `etcdsnap get`: the same objects, plus resourceVersion.

mod common;

use common::*;
use serde_json::Value;

/// (manifest, storage key)
const OBJECTS: &[(&str, &str)] = &[
    ("01-namespace.yaml", "/registry/namespaces/shop"),
    ("02-configmap.yaml", "/registry/configmaps/shop/web-config"),
    ("03-secret.yaml", "/registry/secrets/shop/db-credentials"),
    ("04-deployment.yaml", "/registry/deployments/shop/web"),
    ("05-service.yaml", "/registry/services/specs/shop/web"),
    ("06-route.yaml", "/openshift.io/routes/shop/web"),
    (
        "07-lease.yaml",
        "/registry/leases/kube-system/kube-controller-manager",
    ),
    ("08-widget.json", "/registry/example.com/widgets/shop/blue"),
];

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("manifests/{name}"))).unwrap();
    if name.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_saphyr::from_str(&text).unwrap()
    }
}

fn put(e: &Etcd, key: &str, value: &[u8]) {
    e.put_bytes(key, value);
}

fn without_rv(mut v: Value) -> (Value, Option<String>) {
    let rv = v["metadata"]
        .as_object_mut()
        .and_then(|m| m.remove("resourceVersion"))
        .and_then(|r| r.as_str().map(str::to_string));
    (v, rv)
}

fn round_trip(version: Version) {
    let e = Etcd::start(version);
    let mut revs = Vec::new();
    for (file, key) in OBJECTS {
        let o = etcdsnap(&[
            "encode",
            fixture(&format!("manifests/{file}")).to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "encode {file}: {}", stderr(&o));
        if file.ends_with(".yaml") {
            assert!(
                o.stdout.starts_with(b"k8s\0"),
                "{file} is stored as protobuf"
            );
        } else {
            assert!(o.stdout.starts_with(b"{"), "{file} is stored as JSON");
        }
        put(&e, key, &o.stdout);
        let st: Value =
            serde_json::from_str(&e.ctl_ok(&["endpoint", "status", "-w", "json"])).unwrap();
        revs.push(st[0]["Status"]["header"]["revision"].as_i64().unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snapshot.db");
    e.save(&snap);
    let snap_s = snap.to_str().unwrap();

    // Every object, one by one, by key: the same object plus resourceVersion.
    for ((file, key), rev) in OBJECTS.iter().zip(&revs) {
        let o = etcdsnap(&["get", snap_s, "--key", key, "-o", "json"]);
        assert_eq!(o.status.code(), Some(0), "get {key}: {}", stderr(&o));
        let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let (got, rv) = without_rv(got);
        assert_eq!(
            rv,
            Some(rev.to_string()),
            "{file}: resourceVersion = mod_revision"
        );
        assert_eq!(got, manifest(file), "{version:?}: {file} round trip");
    }

    // All of them as one kubectl-style YAML List: the same objects.
    let o = etcdsnap(&["get", snap_s, "-A", "-o", "yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Value = serde_saphyr::from_str(&stdout(&o)).unwrap();
    let mut items: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| without_rv(i.clone()).0)
        .collect();
    let mut want: Vec<Value> = OBJECTS.iter().map(|(f, _)| manifest(f)).collect();
    let name = |v: &Value| format!("{}/{}", v["kind"], v["metadata"]["name"]);
    items.sort_by_key(name);
    want.sort_by_key(name);
    assert_eq!(items, want, "{version:?}: get -A -o yaml");

    // As a kubectl-style YAML List, by resource name as kubectl users type it.
    let o = etcdsnap(&[
        "get",
        snap_s,
        "deploy,svc,routes.route.openshift.io",
        "-n",
        "shop",
        "-o",
        "yaml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Value = serde_saphyr::from_str(&stdout(&o)).unwrap();
    assert_eq!(list["kind"], "List");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for k in ["Deployment", "Service", "Route"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    // A label selector and the table (kubectl's, the default; the
    // etcd-level one with -o etcd).
    let o = etcdsnap(&["get", snap_s, "-l", "app=web"]);
    let t = stdout(&o);
    assert!(
        t.contains("configmap/web-config")
            && t.contains("deployment.apps/web")
            && !t.contains("db-credentials"),
        "{t}"
    );
    let o = etcdsnap(&["get", snap_s, "-l", "app=web", "-o", "etcd"]);
    let t = stdout(&o);
    assert!(
        t.contains("web-config") && t.contains("Deployment") && !t.contains("db-credentials"),
        "{t}"
    );
    // Nothing matched: exit 1, kubectl's words on stderr.
    let o = etcdsnap(&["get", snap_s, "pods"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No resources found"), "{}", stderr(&o));
    let o = etcdsnap(&["get", snap_s, "pods", "-n", "shop"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("No resources found in shop namespace."),
        "{}",
        stderr(&o)
    );
    // Redaction replaces Secret data with digests.
    let o = etcdsnap(&[
        "get",
        snap_s,
        "secret",
        "db-credentials",
        "--redact",
        "-o",
        "json",
    ]);
    let s: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(s["data"]["password"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(!stdout(&o).contains("aHVudGVyMg=="));
}

#[test]
fn manifests_round_trip_through_etcd_3_4() {
    round_trip(Version::V34);
}

#[test]
fn manifests_round_trip_through_etcd_3_5() {
    round_trip(Version::V35);
}

#[test]
fn hostile_values_fail_alone_and_are_counted() {
    let e = Etcd::start(Version::V35);
    let good = etcdsnap(&[
        "encode",
        fixture("manifests/02-configmap.yaml").to_str().unwrap(),
    ])
    .stdout;
    put(&e, "/registry/configmaps/shop/good", &good);
    // Truncated protobuf, a length far past the end, deep nesting, a wrong
    // wire type, and bytes that are nothing at all.
    put(
        &e,
        "/registry/configmaps/shop/truncated",
        &good[..good.len() / 2],
    );
    let mut huge = b"k8s\0\x0a\x0b\x0a\x02v1\x12\x05Event\x12\xff\xff\xff\xff\x0f".to_vec();
    huge.extend_from_slice(b"xx");
    put(&e, "/registry/events/shop/huge", &huge);
    let mut deep = b"k8s\0\x0a\x0b\x0a\x02v1\x12\x05Event\x12".to_vec();
    let mut body = Vec::new();
    for _ in 0..500 {
        let mut m = vec![0x0a];
        m.push(body.len().min(127) as u8);
        m.extend_from_slice(&body[..body.len().min(127)]);
        body = m;
    }
    deep.push(body.len() as u8);
    deep.extend_from_slice(&body);
    put(&e, "/registry/events/shop/deep", &deep);
    let mut wire = good.clone();
    let at = wire.len() - 2;
    wire[at] = 0x0b; // a group tag where a field is expected
    put(&e, "/registry/configmaps/shop/wiretype", &wire);
    put(
        &e,
        "/registry/configmaps/shop/noise",
        b"\x01\x02\x03 not an object",
    );
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.db");
    e.save(&snap);
    let s = snap.to_str().unwrap();
    for fmt in ["json", "yaml", "table", "etcd"] {
        let o = etcdsnap(&["get", s, "-A", "-o", fmt]);
        assert_eq!(o.status.code(), Some(1), "{fmt}: some values failed");
        let err = stderr(&o);
        assert!(
            err.contains("/registry/configmaps/shop/truncated"),
            "{fmt}: {err}"
        );
        assert!(err.contains("could not be decoded"), "{fmt}: {err}");
        assert!(
            stdout(&o).contains("web-config") || stdout(&o).contains("good"),
            "{fmt}: the good object is shown"
        );
    }
    // ls --decode reports each error in its record and goes on.
    let o = etcdsnap(&["ls", s, "--decode", "-o", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = v["keys"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let ok = rows.iter().filter(|r| r.get("object").is_some()).count();
    assert!(ok >= 1, "{v}");
    assert!(
        rows.iter().filter(|r| r.get("error").is_some()).count() >= 4,
        "{v}"
    );
}
