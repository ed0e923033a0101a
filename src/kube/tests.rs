//! Cross-module tests: hostile input never panics, the sinks of the one
//! traversal (Value, JSON text, YAML text) agree with each other, unknown
//! fields and types are kept, golden round trips.

use serde_json::{json, Value as J};

use super::encode::{encode_object, encode_yaml, envelope};
use super::render::{write_message, write_protobuf, write_value, Style};
use super::{decode_value, proto, KubeError};
use crate::wire::put_varint;

const PROPS: &str = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

/// Decodes with both paths; when both succeed their texts must be identical
/// (same keys, same order, same numbers), not just equal as maps.
fn both(v: &[u8]) -> (Result<J, KubeError>, Result<J, KubeError>) {
    let a = decode_value(b"", v);
    let mut out = Vec::new();
    let plain = Style {
        pretty: false,
        go_escape: false,
    };
    // The traversal's flat and sparse paths write exactly what its full
    // path writes, and fail exactly when it fails.
    let mut full = Vec::new();
    super::decode::tests::FULL_PATH_ONLY.set(true);
    let fr = write_value(v, &mut full, plain);
    super::decode::tests::FULL_PATH_ONLY.set(false);
    let b = write_value(v, &mut out, plain).map(|()| {
        serde_json::from_slice::<J>(&out).unwrap_or_else(|e| {
            panic!(
                "writer produced invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out)
            )
        })
    });
    assert_eq!(
        fr.as_ref().map(|_| ()).map_err(ToString::to_string),
        b.as_ref().map(|_| ()).map_err(ToString::to_string),
        "flat and full paths disagree on failing"
    );
    assert_eq!(
        String::from_utf8_lossy(&full),
        String::from_utf8_lossy(&out),
        "flat and full paths differ"
    );
    if let (Ok(a), Ok(_)) = (&a, &b) {
        let at = serde_json::to_string(a).unwrap_or_default();
        assert_eq!(
            at,
            String::from_utf8_lossy(&out),
            "Value and stream texts differ"
        );
    }
    // The YAML sink: text that reads back as the key-sorted Value, with
    // keys in sorted order, and an error exactly when the other sinks fail.
    // (Its spelling is go-yaml's, checked in kube::yaml_scalar's tests and
    // against the apiserver's own YAML in tests/kube_testdata.rs.)
    let mut y = Vec::new();
    let yr = super::sink_yaml::write_value_rv(v, None, &mut y);
    // The sparse path (fields in key order without a sort) writes what
    // the full path writes.
    let mut y_full = Vec::new();
    super::decode::tests::FULL_PATH_ONLY.set(true);
    let yfr = super::sink_yaml::write_value_rv(v, None, &mut y_full);
    super::decode::tests::FULL_PATH_ONLY.set(false);
    assert_eq!(
        yfr.as_ref().map_err(ToString::to_string),
        yr.as_ref().map_err(ToString::to_string),
        "YAML: sparse and full paths disagree on failing"
    );
    assert_eq!(
        String::from_utf8_lossy(&y_full),
        String::from_utf8_lossy(&y),
        "YAML: sparse and full paths differ"
    );
    assert_eq!(
        yr.is_ok(),
        a.is_ok(),
        "YAML and Value sinks disagree on failing"
    );
    if let Ok(a) = &a {
        let mut sorted = a.clone();
        crate::query::sort_keys(&mut sorted);
        let text = String::from_utf8_lossy(&y);
        // YAML 1.1 (go-yaml) reads NEL, LS and PS as line breaks, YAML 1.2
        // (serde-saphyr) does not: go-yaml leaves them raw in `|` blocks
        // and single quotes, so such text is read back by go-yaml alone.
        if !text.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
            let back = read_back(&text);
            assert_eq!(
                back, sorted,
                "YAML sink text reads back differently:\n{text}"
            );
            // preserve_order: the map keeps the text's order.
            assert!(
                go_yaml_sorted(&back),
                "YAML sink keys are not sorted:\n{text}"
            );
        }
    }
    (a, b)
}

/// Whether every map's keys are in go-yaml's order.
fn go_yaml_sorted(v: &J) -> bool {
    match v {
        J::Object(o) => {
            let keys: Vec<&String> = o.keys().collect();
            keys.windows(2)
                .all(|w| super::yaml_scalar::key_less(w[0], w[1]))
                && o.values().all(go_yaml_sorted)
        }
        J::Array(a) => a.iter().all(go_yaml_sorted),
        _ => true,
    }
}

/// YAML text parsed as JSON, nesting as deep as the decoder allows (the
/// parser recurses: it runs on a thread with a large stack).
fn read_back(text: &str) -> J {
    let parse = |text: &str| {
        let mut budget = serde_saphyr::Budget::default();
        budget.max_depth = 4 * proto::MAX_DEPTH;
        let mut options = serde_saphyr::Options::default();
        options.budget = Some(budget);
        serde_saphyr::from_str_with_options(text, options)
            .unwrap_or_else(|e| panic!("YAML sink text does not parse ({e}):\n{text}"))
    };
    let deepest = text
        .lines()
        .map(|l| l.len() - l.trim_start_matches([' ', '-']).len())
        .max()
        .unwrap_or(0);
    if deepest < 64 {
        return parse(text);
    }
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || parse(&text))
        .and_then(|t| {
            t.join()
                .map_err(|_| std::io::Error::other("parser panicked"))
        })
        .unwrap_or_else(|e| panic!("reading the YAML back: {e}"))
}

fn field(out: &mut Vec<u8>, n: u32, b: &[u8]) {
    put_varint(out, u64::from(n) << 3 | 2);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn golden_pod() -> J {
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": "web-0",
            "namespace": "prod",
            "uid": "6b3a0a4e-1c1f-4b43-9a36-2b1f3c0d9e11",
            "creationTimestamp": "2024-02-03T04:05:06Z",
            "labels": {"app": "web"},
            "annotations": {"note": "a <b> & c \u{2028}"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
                "time": "2024-02-03T04:05:06Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}}]
        },
        "spec": {
            "containers": [{"name": "web", "image": "nginx:1.25",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "env": [{"name": "A", "value": "1"}, {"name": "EMPTY"}],
                "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 10}}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30
        },
        "status": {"phase": "Running", "startTime": "2024-02-03T04:05:07Z"}
    })
}

#[test]
fn value_and_stream_paths_agree_on_golden_objects() {
    let route = json!({
        "kind": "Route", "apiVersion": "route.openshift.io/v1",
        "metadata": {"name": "r", "namespace": "ns", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"host": "r.apps.example.com", "to": {"kind": "Service", "name": "web", "weight": 100},
            "tls": {"termination": "edge", "key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"}},
        "status": {}
    });
    for obj in [golden_pod(), route] {
        let b = encode_object(&obj).unwrap();
        let (a, s) = both(&b);
        let (a, s) = (a.unwrap(), s.unwrap());
        assert_eq!(a, s);
        // decode(encode(x)) keeps everything x said.
        for (k, v) in obj.as_object().unwrap() {
            if k != "spec" && k != "status" {
                assert_eq!(&a[k], v, "{k}");
            }
        }
        assert_eq!(a["spec"]["host"], obj["spec"]["host"]);
        // And encode(decode(encode(x))) is byte-identical.
        assert_eq!(encode_object(&a).unwrap(), b);
    }
}

#[test]
fn openshift_wrappers_and_specials_roundtrip() {
    let crb = json!({
        "kind": "ClusterRoleBinding", "apiVersion": "authorization.openshift.io/v1",
        "metadata": {"name": "b", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "userNames": null, "groupNames": ["system:authenticated"],
        "subjects": [{"kind": "Group", "name": "system:authenticated"}],
        "roleRef": {"name": "basic-user"}
    });
    let dc = json!({
        "kind": "DeploymentConfig", "apiVersion": "apps.openshift.io/v1",
        "metadata": {"name": "d", "namespace": "n", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"strategy": {"type": "Rolling", "rollingParams": {"maxSurge": "25%", "maxUnavailable": 1},
            "resources": {"requests": {"cpu": "100m"}}, "activeDeadlineSeconds": 21600},
            "triggers": [{"type": "ConfigChange"}], "replicas": 2, "revisionHistoryLimit": 10,
            "test": false, "selector": {"app": "d"},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "d"}},
                "spec": {"containers": [{"name": "c", "image": "i", "resources": {}}]}}},
        "status": {"latestVersion": 1, "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "availableReplicas": 2, "unavailableReplicas": 0, "details": {"message": "config change",
            "causes": [{"type": "ConfigChange"}]}, "readyReplicas": 2}
    });
    for obj in [crb, dc] {
        let b = encode_object(&obj).unwrap();
        let (a, s) = both(&b);
        let (a, _) = (a.unwrap(), s.unwrap());
        assert_eq!(encode_object(&a).unwrap(), b, "{a}");
        if obj["kind"] == "ClusterRoleBinding" {
            assert_eq!(a["userNames"], J::Null);
            assert_eq!(a["groupNames"], json!(["system:authenticated"]));
        } else {
            assert_eq!(a["spec"]["triggers"], json!([{"type": "ConfigChange"}]));
            assert_eq!(
                a["spec"]["strategy"]["rollingParams"]["maxSurge"],
                json!("25%")
            );
            assert_eq!(
                a["spec"]["template"]["metadata"]["creationTimestamp"],
                J::Null
            );
        }
    }
}

#[test]
fn go_escaping_and_pretty_output() {
    let b = encode_object(&golden_pod()).unwrap();
    let mut out = Vec::new();
    write_protobuf(&b, None, &mut out, Style::PRETTY).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""note": "a \u003cb\u003e \u0026 c \u2028""#),
        "{text}"
    );
    assert!(text.starts_with("{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\",\n"));
    assert!(text.contains("\"fieldsV1\": {\n          \"f:metadata\": {"));
}

#[test]
fn yaml_fixture_roundtrip() {
    let y = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: ns\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\ndata:\n  a.yaml: |\n    x: 1\nbinaryData:\n  blob: AAEC\n";
    let b = encode_yaml(y).unwrap();
    let v = proto::decode(&b).unwrap();
    assert_eq!(v["data"]["a.yaml"], json!("x: 1\n"));
    assert_eq!(v["binaryData"]["blob"], json!("AAEC"));
    assert_eq!(encode_object(&v).unwrap(), b);
}

#[test]
fn unknown_fields_are_kept_under_their_numbers() {
    let b =
        encode_object(&json!({"kind": "Secret", "apiVersion": "v1", "type": "Opaque"})).unwrap();
    let env = proto::parse_envelope(&b).unwrap();
    let mut raw = env.raw.to_vec();
    field(&mut raw, 99, b"future");
    raw.extend_from_slice(&[0xa0, 0x06, 0x07]); // field 100 varint 7
    let v = envelope("v1", "Secret", &raw);
    let (a, s) = both(&v);
    let (a, s) = (a.unwrap(), s.unwrap());
    assert_eq!(a, s);
    assert_eq!(a["99"], json!("future"));
    assert_eq!(a["100"], json!(7));
    assert_eq!(a["type"], json!("Opaque"));
}

#[test]
fn map_entries_are_sorted_and_the_last_duplicate_wins() {
    let entry = |k: &[u8], v: &[u8]| {
        let mut e = Vec::new();
        field(&mut e, 1, k);
        field(&mut e, 2, v);
        e
    };
    // ConfigMap `data` (field 2): out of order with a repeated key, then
    // in order (Go's marshalling, the path that skips the sort).
    for (entries, want) in [
        (
            vec![entry(b"b", b"1"), entry(b"a", b"2"), entry(b"b", b"3")],
            json!({"a": "2", "b": "3"}),
        ),
        (
            vec![entry(b"a", b"1"), entry(b"b", b"2")],
            json!({"a": "1", "b": "2"}),
        ),
        (
            vec![entry(b"a", b"1"), entry(b"a", b"2")],
            json!({"a": "2"}),
        ),
    ] {
        let mut raw = Vec::new();
        for e in &entries {
            field(&mut raw, 2, e);
        }
        let (a, s) = both(&envelope("v1", "ConfigMap", &raw));
        let (a, s) = (a.unwrap(), s.unwrap());
        assert_eq!(a, s);
        assert_eq!(a["data"], want);
    }
}

#[test]
fn unknown_type_is_decoded_generically() {
    let mut raw = Vec::new();
    let mut meta = Vec::new();
    field(&mut meta, 1, b"thing");
    field(&mut raw, 1, &meta);
    raw.extend_from_slice(&[0x10, 0x2a]);
    let v = envelope("example.com/v1", "Widget", &raw);
    let (a, s) = both(&v);
    let (a, s) = (a.unwrap(), s.unwrap());
    assert_eq!(a, s);
    assert_eq!(a["kind"], json!("Widget"));
    assert_eq!(a["apiVersion"], json!("example.com/v1"));
    assert_eq!(a["1"], json!({"1": "thing"}));
    assert_eq!(a["2"], json!(42));
}

#[test]
fn wrong_wire_type_names_message_and_path() {
    // Secret.metadata (1) as a varint.
    let v = envelope("v1", "Secret", &[0x08, 0x01]);
    let (a, s) = both(&v);
    for e in [a.unwrap_err(), s.unwrap_err()] {
        match e {
            KubeError::WireType {
                message,
                path,
                field,
                ..
            } => {
                assert_eq!(message, "k8s.io.api.core.v1.Secret");
                assert_eq!(path, "metadata");
                assert_eq!(field, 1);
            }
            other => panic!("{other}"),
        }
    }
    // ObjectMeta.name (1) as varint inside metadata.
    let mut raw = Vec::new();
    field(&mut raw, 1, &[0x08, 0x05]);
    let (a, s) = both(&envelope("v1", "Secret", &raw));
    for e in [a.unwrap_err(), s.unwrap_err()] {
        assert!(
            matches!(&e, KubeError::WireType { message, path, .. }
            if message.ends_with("ObjectMeta") && path == "metadata.name"),
            "{e}"
        );
    }
}

#[test]
fn huge_lengths_and_truncation_error() {
    let mut v = b"k8s\0".to_vec();
    v.extend_from_slice(&[0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert!(matches!(both(&v).0, Err(KubeError::Envelope(_))));
    assert!(matches!(both(&v).1, Err(KubeError::Envelope(_))));
    // Every truncation of a real object's raw bytes: errors or output, never a panic.
    let b = encode_object(&golden_pod()).unwrap();
    let raw = proto::parse_envelope(&b).unwrap().raw.to_vec();
    for n in 0..raw.len() {
        let v = envelope("v1", "Pod", &raw[..n]);
        let (a, s) = both(&v);
        assert_eq!(a.is_ok(), s.is_ok(), "truncated at {n}");
        if let (Ok(a), Ok(s)) = (a, s) {
            assert_eq!(a, s, "truncated at {n}");
        }
    }
}

fn nested_props(levels: usize) -> Vec<u8> {
    // JSONSchemaProps.not (28) nested `levels` deep.
    let mut b: Vec<u8> = Vec::new();
    for _ in 0..levels {
        let mut outer = Vec::with_capacity(b.len() + 8);
        field(&mut outer, 28, &b);
        b = outer;
    }
    b
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    // Run on a 2 MiB stack (Rust's default for spawned threads) like a worker thread would have.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let ok = nested_props(20);
            assert!(proto::decode_message(PROPS, &ok).is_ok());
            let deep = nested_props(5000);
            let e = proto::decode_message(PROPS, &deep).unwrap_err();
            assert!(matches!(e, KubeError::TooDeep { .. }), "{e}");
            let mut out = Vec::new();
            let e = write_message(PROPS, &deep, &mut out, Style::COMPACT).unwrap_err();
            assert!(matches!(e, KubeError::TooDeep { .. }), "{e}");
            // YAML (its routes keep more per level: the sparse route's
            // occurrence ranges, the emitter's frames).
            let yaml = |b: &[u8]| {
                let mut y = Vec::new();
                let mut sink = super::sink_yaml::YamlEmitter::new(&mut y);
                super::decode::message(PROPS, b, &mut sink)
            };
            assert!(yaml(&ok).is_ok());
            let e = yaml(&deep).unwrap_err();
            assert!(matches!(e, KubeError::TooDeep { .. }), "{e}");
            // Unknown types nest generically; depth is capped there too.
            let mut g: Vec<u8> = vec![0x08, 0x01];
            for _ in 0..5000 {
                let mut o = Vec::new();
                field(&mut o, 1, &g);
                g = o;
            }
            let v = envelope("example.com/v1", "Deep", &g);
            let (a, s) = both(&v);
            assert!(a.is_ok() && s.is_ok());
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn encrypted_and_other_encodings() {
    assert!(matches!(
        decode_value(b"/registry/secrets/a/b", b"k8s:enc:aescbc:v1:key1:\x00\x01"),
        Err(KubeError::Encrypted { ref provider, ref key }) if provider == "aescbc" && key == "key1"
    ));
    assert_eq!(decode_value(b"compact_rev_key", b"77").unwrap(), json!(77));
    let j = br#"{"apiVersion":"example.com/v1","kind":"W","spec":{"b":1,"a":"<x>"}}
"#;
    let (a, s) = both(j);
    assert_eq!(a.unwrap(), s.unwrap());
    let mut out = Vec::new();
    write_value(j, &mut out, Style::COMPACT).unwrap();
    assert_eq!(
        out,
        br#"{"apiVersion":"example.com/v1","kind":"W","spec":{"b":1,"a":"\u003cx\u003e"}}"#
    );
    assert!(decode_value(b"", b"{not json").is_err());
    assert!(write_value(b"{not json", &mut out, Style::COMPACT).is_err());
    let y = decode_value(
        b"",
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
    )
    .unwrap();
    assert_eq!(y["metadata"]["name"], json!("x"));
    assert!(matches!(
        decode_value(b"", b"\x01\x02"),
        Err(KubeError::Unknown)
    ));
}

#[test]
fn resource_version_from_mod_revision() {
    use super::render::write_value_rv;
    use super::set_resource_version;
    let b = encode_object(&golden_pod()).unwrap();
    let mut v = decode_value(b"", &b).unwrap();
    set_resource_version(&mut v, 12345);
    let keys: Vec<&String> = v["metadata"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys[..5],
        [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp"
        ]
    );
    let mut out = Vec::new();
    let plain = Style {
        pretty: false,
        go_escape: false,
    };
    write_value_rv(&b, Some(12345), &mut out, plain).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        serde_json::to_string(&v).unwrap()
    );
    // Custom resources (sorted keys): sorted position.
    let cr =
        br#"{"apiVersion":"x/v1","kind":"W","metadata":{"name":"a","namespace":"n","uid":"u"}}"#;
    out.clear();
    write_value_rv(cr, Some(7), &mut out, plain).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        r#"{"apiVersion":"x/v1","kind":"W","metadata":{"name":"a","namespace":"n","resourceVersion":"7","uid":"u"}}"#
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn random_raw_never_panics(kind in prop::sample::select(vec![
            ("v1", "Pod"), ("v1", "Secret"), ("apps/v1", "Deployment"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"), ("x/v1", "Unknown"),
        ]), raw in prop::collection::vec(any::<u8>(), 0..300)) {
            let v = envelope(kind.0, kind.1, &raw);
            let (a, s) = both(&v);
            if let (Ok(a), Ok(s)) = (&a, &s) {
                prop_assert_eq!(a, s);
            }
        }

        #[test]
        fn mutated_pod_never_panics(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
            let b = encode_object(&golden_pod()).unwrap();
            let mut raw = proto::parse_envelope(&b).unwrap().raw.to_vec();
            for (i, x) in flips {
                let i = i.index(raw.len());
                raw[i] = x;
            }
            let v = envelope("v1", "Pod", &raw);
            let (a, s) = both(&v);
            prop_assert_eq!(a.is_ok(), s.is_ok());
            if let (Ok(a), Ok(s)) = (a, s) {
                prop_assert_eq!(a, s);
            }
        }

        #[test]
        fn text_parsers_never_panic(t in "\\PC{0,40}", k in "(/[a-z.:~0-9-]{0,12}){0,6}") {
            let _ = super::super::timefmt::parse_rfc3339(&t);
            let _ = super::super::timefmt::parse_go_duration(&t);
            let _ = super::super::key::parse(t.as_bytes());
            let _ = super::super::key::parse(k.as_bytes());
            let _ = super::super::key::parse_with_prefix(k.as_bytes(), "/registry");
            let _ = super::super::key::resolve(&t);
            let _ = super::super::value::detect(t.as_bytes());
            let _ = encode_yaml(&t);
        }

        #[test]
        fn random_values_never_panic(v in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = both(&v);
            let mut c = vec![0xd9, 0xd9, 0xf7];
            c.extend_from_slice(&v);
            let _ = both(&c);
        }
    }
}

#[test]
fn every_single_byte_mutation_agrees_between_paths() {
    let b = encode_object(&golden_pod()).unwrap();
    let raw0 = proto::parse_envelope(&b).unwrap().raw.to_vec();
    for i in 0..raw0.len() {
        for x in [0u8, 1, 0x0a, 0x12, 0x2a, 0x80, 0xff] {
            let mut raw = raw0.clone();
            raw[i] = x;
            let (a, s) = both(&envelope("v1", "Pod", &raw));
            match (a, s) {
                (Ok(a), Ok(s)) => assert_eq!(a, s, "byte {i} = {x:#x}"),
                (Err(_), Err(_)) => {}
                (a, s) => panic!(
                    "byte {i} = {x:#x}: value {:?} stream {:?}",
                    a.err(),
                    s.err()
                ),
            }
        }
    }
}
