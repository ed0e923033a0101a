//! Two real etcd snapshots with a known set of changes between them
//! (created, deleted, image changed, label added, secret rotated): `diff`
//! reports exactly those, between the two files and between two revisions
//! of the second; `stats` agrees with etcdctl's status.

mod common;

use common::*;
use serde_json::{json, Value};

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("manifests/{name}"))).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn put_object(e: &Etcd, key: &str, obj: &Value) {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("o.json");
    std::fs::write(&f, serde_json::to_vec(obj).unwrap()).unwrap();
    let o = etcdsnap(&["encode", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    e.put_bytes(key, &o.stdout);
}

/// (path, old, new) of one field change.
type FieldRow = (String, Value, Value);

fn revision(e: &Etcd) -> i64 {
    e.status()["header"]["revision"].as_i64().unwrap()
}

#[test]
fn diff_reports_exactly_the_changes() {
    let e = Etcd::start(Version::V35);
    let ns = manifest("01-namespace.yaml");
    let secret = manifest("03-secret.yaml");
    let deploy = manifest("04-deployment.yaml");
    put_object(&e, "/registry/namespaces/shop", &ns);
    put_object(
        &e,
        "/registry/configmaps/shop/web-config",
        &manifest("02-configmap.yaml"),
    );
    put_object(&e, "/registry/secrets/shop/db-credentials", &secret);
    put_object(&e, "/registry/deployments/shop/web", &deploy);
    put_object(
        &e,
        "/registry/services/specs/shop/web",
        &manifest("05-service.yaml"),
    );
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    e.save(&a);
    let rev_a = revision(&e);

    // The incident.
    let mut cm = manifest("02-configmap.yaml");
    cm["metadata"]["name"] = "new-config".into();
    put_object(&e, "/registry/configmaps/shop/new-config", &cm);
    e.ctl_ok(&["del", "/registry/services/specs/shop/web"]);
    let mut d2 = deploy.clone();
    d2["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28".into();
    put_object(&e, "/registry/deployments/shop/web", &d2);
    let mut ns2 = ns.clone();
    ns2["metadata"]["labels"]["env"] = "prod".into();
    put_object(&e, "/registry/namespaces/shop", &ns2);
    let mut s2 = secret.clone();
    s2["data"]["password"] = "cm90YXRlZA==".into();
    put_object(&e, "/registry/secrets/shop/db-credentials", &s2);
    e.save(&b);
    let rev_b = revision(&e);

    let check = |args: &[&str]| {
        let o = etcdsnap(args);
        assert_eq!(
            o.status.code(),
            Some(1),
            "different: exit 1: {}",
            stderr(&o)
        );
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        let names = |k: &str| -> Vec<String> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x["key"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("added"), ["/registry/configmaps/shop/new-config"]);
        assert_eq!(names("removed"), ["/registry/services/specs/shop/web"]);
        let changed: Vec<(String, Vec<FieldRow>)> = v["changed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let f = c["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        (
                            f["path"].as_str().unwrap().to_string(),
                            f["old"].clone(),
                            f["new"].clone(),
                        )
                    })
                    .collect();
                (c["key"].as_str().unwrap().to_string(), f)
            })
            .collect();
        assert_eq!(
            changed,
            vec![
                (
                    "/registry/deployments/shop/web".to_string(),
                    vec![(
                        "spec.template.spec.containers[0].image".to_string(),
                        json!("nginx:1.27"),
                        json!("nginx:1.28")
                    )]
                ),
                (
                    "/registry/namespaces/shop".to_string(),
                    vec![(
                        "metadata.labels.env".to_string(),
                        Value::Null,
                        json!("prod")
                    )]
                ),
                (
                    "/registry/secrets/shop/db-credentials".to_string(),
                    vec![(
                        "data.password".to_string(),
                        json!("aHVudGVyMg=="),
                        json!("cm90YXRlZA==")
                    )]
                ),
            ]
        );
        assert!(v["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 added, 1 removed, 3 changed, 1 unchanged"));
    };
    check(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let (fr, tr) = (rev_a.to_string(), rev_b.to_string());
    check(&[
        "diff",
        b.to_str().unwrap(),
        "--from-rev",
        &fr,
        "--to-rev",
        &tr,
        "-o",
        "json",
    ]);

    // Text for people: summary first, +/-/~ lines.
    let o = etcdsnap(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    let t = stdout(&o);
    assert!(t.starts_with("1 added, 1 removed, 3 changed"), "{t}");
    assert!(
        t.contains("~ spec.template.spec.containers[0].image: \"nginx:1.27\" → \"nginx:1.28\""),
        "{t}"
    );
    // Equal inputs: exit 0.
    let o = etcdsnap(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Filters as get has them.
    let o = etcdsnap(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--resource",
        "secrets",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["changed"].as_array().unwrap().len(), 1);
    assert!(v["added"].as_array().unwrap().is_empty());

    // Stats totals agree with etcdctl's status.
    let real = real_status(Version::V35, &b);
    let o = etcdsnap(&["stats", b.to_str().unwrap(), "-o", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let s: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["database"]["total_key"], real["totalKey"]);
    assert_eq!(s["database"]["total_size"], real["totalSize"]);
    assert_eq!(s["database"]["revision"], real["revision"]);
    assert_eq!(s["database"]["live_objects"], 5);
    let revs: u64 = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revisions"].as_u64().unwrap())
        .sum();
    assert_eq!(revs, s["database"]["revisions_held"].as_u64().unwrap());
}
