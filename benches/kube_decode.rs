//! Throughput of the Kubernetes values layer on synthetic objects built with
//! the encoder: protobuf → JSON value, protobuf → JSON text, protobuf → YAML
//! text (the YAML sink, and the Value + serde-saphyr path it replaced).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcdsnap::kube::render::{write_value, Style};
use etcdsnap::kube::sink_yaml::write_value_rv as write_yaml;
use etcdsnap::kube::{decode_value, encode::encode_object};
use etcdsnap::query::sort_keys;
use serde_json::{json, Value};

fn managed_fields(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                json!({
                    "manager": format!("controller-{i}"),
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": "2024-05-06T07:08:09Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}}}}}
                })
            })
            .collect(),
    )
}

fn pod() -> Value {
    let containers: Vec<Value> = (0..3)
        .map(|i| {
            json!({
                "name": format!("app-{i}"),
                "image": "registry.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "command": ["/bin/app", "--config=/etc/app/config.yaml", "--verbose"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": (0..8).map(|j| json!({"name": format!("VAR_{j}"), "value": format!("value-{j}")})).collect::<Vec<_>>(),
                "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent"
            })
        })
        .collect();
    json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": "app-7d9f8b6c5d-x2k4p",
            "generateName": "app-7d9f8b6c5d-",
            "namespace": "production",
            "uid": "3f1c2a4e-8b7d-4c6a-9e5f-1a2b3c4d5e6f",
            "creationTimestamp": "2024-05-06T07:08:09Z",
            "labels": {"app": "app", "pod-template-hash": "7d9f8b6c5d", "tier": "backend"},
            "annotations": {"openshift.io/scc": "restricted-v2", "k8s.v1.cni.cncf.io/network-status": "[{\"name\":\"ovn-kubernetes\",\"interface\":\"eth0\",\"ips\":[\"10.128.2.15\"],\"default\":true}]"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-7d9f8b6c5d", "uid": "9a8b7c6d-5e4f-3a2b-1c0d-ef0123456789", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": managed_fields(4)
        },
        "spec": {
            "volumes": [{"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}}],
            "containers": containers,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "app",
            "nodeName": "worker-1.example.com",
            "securityContext": {"runAsNonRoot": true, "fsGroup": 1000680000},
            "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-06T07:08:19Z"}],
            "hostIP": "10.0.1.5",
            "podIP": "10.128.2.15",
            "startTime": "2024-05-06T07:08:09Z",
            "qosClass": "Burstable"
        }
    })
}

fn configmap() -> Value {
    let data: serde_json::Map<String, Value> = (0..20)
        .map(|i| {
            (
                format!("key-{i:02}.yaml"),
                Value::String("setting: value\n".repeat(20)),
            )
        })
        .collect();
    json!({"kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "cfg", "namespace": "ns", "uid": "u", "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": managed_fields(1)},
        "data": data})
}

fn secret() -> Value {
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD.encode(vec![0x5au8; 4096]);
    json!({"kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "tls", "namespace": "ns", "uid": "u", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "data": {"tls.crt": blob, "tls.key": blob}, "type": "kubernetes.io/tls"})
}

fn lease() -> Value {
    json!({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
        "metadata": {"name": "worker-1", "namespace": "kube-node-lease", "uid": "u", "creationTimestamp": "2024-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "worker-1", "uid": "n"}]},
        "spec": {"holderIdentity": "worker-1", "leaseDurationSeconds": 40, "renewTime": "2024-05-06T07:08:09.123456Z"}})
}

fn custom_resource() -> Value {
    let mut v = pod();
    v["apiVersion"] = json!("example.com/v1");
    v["kind"] = json!("Widget");
    v
}

fn bench(c: &mut Criterion) {
    let objs = [
        ("pod", pod()),
        ("configmap", configmap()),
        ("secret", secret()),
        ("lease", lease()),
    ];
    let mut all = Vec::new();
    for (name, obj) in objs.iter().chain([("cr-json", custom_resource())].iter()) {
        // Custom resources are stored as JSON (sorted keys, trailing newline).
        let bytes = if *name == "cr-json" {
            let mut b = serde_json::to_vec(obj).unwrap_or_default();
            b.push(b'\n');
            b
        } else {
            let Ok(b) = encode_object(obj) else {
                panic!("encoding the {name} fixture failed")
            };
            b
        };
        let mut g = c.benchmark_group(format!("kube_decode/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("value", |b| {
            b.iter(|| decode_value(b"", &bytes).map(|v| v.is_object()))
        });
        g.bench_function("value+json", |b| {
            b.iter(|| decode_value(b"", &bytes).map(|v| serde_json::to_vec(&v).map(|t| t.len())))
        });
        let mut out = Vec::with_capacity(1 << 16);
        g.bench_function("stream-compact", |b| {
            b.iter(|| {
                out.clear();
                write_value(&bytes, &mut out, Style::COMPACT).map(|_| out.len())
            })
        });
        g.bench_function("stream-pretty", |b| {
            b.iter(|| {
                out.clear();
                write_value(&bytes, &mut out, Style::PRETTY).map(|_| out.len())
            })
        });
        g.bench_function("stream-yaml", |b| {
            b.iter(|| {
                out.clear();
                write_yaml(&bytes, None, &mut out).map(|_| out.len())
            })
        });
        // What `get -o yaml` did before the YAML sink.
        g.bench_function("value+saphyr-yaml", |b| {
            b.iter(|| {
                decode_value(b"", &bytes).map(|mut v| {
                    sort_keys(&mut v);
                    serde_saphyr::to_string(&v).map_or(0, |t| t.len())
                })
            })
        });
        g.finish();
        all.push(bytes);
    }
    let total: usize = all.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("kube_decode/mix");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("value+json", |b| {
        b.iter(|| {
            all.iter()
                .filter_map(|v| decode_value(b"", v).ok())
                .map(|v| serde_json::to_vec(&v).map_or(0, |t| t.len()))
                .sum::<usize>()
        })
    });
    let mut out = Vec::with_capacity(1 << 16);
    g.bench_function("stream-pretty", |b| {
        b.iter(|| {
            out.clear();
            for v in &all {
                let _ = write_value(v, &mut out, Style::PRETTY);
            }
            out.len()
        })
    });
    g.bench_function("stream-yaml", |b| {
        b.iter(|| {
            out.clear();
            for v in &all {
                let _ = write_yaml(v, None, &mut out);
            }
            out.len()
        })
    });
    g.bench_function("value+saphyr-yaml", |b| {
        b.iter(|| {
            all.iter()
                .filter_map(|v| decode_value(b"", v).ok())
                .map(|mut v| {
                    sort_keys(&mut v);
                    serde_saphyr::to_string(&v).map_or(0, |t| t.len())
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
