#!/usr/bin/env python3
"""Craft hostile etcd snapshots with a REAL etcd 3.5.1 (binary keys and values
through the v3 gateway, then `etcdctl snapshot save`), for the hardening tests
(tests/hostile.rs) and for trying the tool by hand.

    scripts/make-hostile.py OUT_DIR [--pods N] [--pod-bytes B]

Writes into OUT_DIR:
  hostile.db     one of each hostile case below
  hostile.json   what was put: every key (hex) with its case, and the secret
                 marker strings that must never appear under --redact
  amplify.db     (with --pods N > 0) N Pods of about B bytes whose spec is
                 nothing but empty `containers` entries (each decodes to a
                 full Container: a large expansion)

Cases in hostile.db:
  secret-last-applied   a Secret whose data is also in its
                        kubectl.kubernetes.io/last-applied-configuration
  secret-undecodable    bytes under a Secret key that decode as nothing
  secret-bad-yaml       a Secret value that looks like YAML and does not parse
  key-material          openshift-config-managed/encryption-key-openshift-apiserver-1
  key-config            openshift-kube-apiserver/encryption-config-3
  control-key           a ConfigMap whose key holds ESC ] 0 ; ... BEL ESC [ 2 J
  control-keyname       an aescbc value whose key name holds terminal escapes
  long-name             a 253-character ConfigMap name (legal in Kubernetes)
  ns-index-json         a ConfigMap in namespace `index.json`
  prefix-twins          the same namespace/name under /registry and /kubernetes.io
  invalid-utf8-twins    two names differing only in invalid UTF-8 bytes
  cluster-ns            a ConfigMap in namespace `_cluster` next to a
                        two-segment (cluster-scoped layout) ConfigMap key
  good                  ordinary ConfigMaps, which every command must still show
  secret-changed        the secret-last-applied Secret put again with another
                        password (for `diff --from-rev R --to-rev R+1`, R in
                        hostile.json)
"""

import argparse
import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import etcdlab  # noqa: E402
from etcdlab import Etcd, _fld, _fvar  # noqa: E402

MARKERS = [
    "hunter2-LASTAPPLIED-MARKER",
    "UNDECODABLE-SECRET-MARKER",
    "BADYAML-SECRET-MARKER",
    "KEYMATERIAL-MARKER-0123456789abcdef",
    "KEYCONFIG-MARKER",
]


def object_meta(name, namespace=None, annotations=None, created=1795169700):
    b = _fld(1, name)
    if namespace:
        b += _fld(3, namespace)
    b += _fld(8, _fvar(1, created))
    for k, v in sorted((annotations or {}).items()):
        b += _fld(12, _fld(1, k) + _fld(2, v))
    return b


def k8s_proto(api_version, kind, raw):
    tm = _fld(1, api_version) + _fld(2, kind)
    return b"k8s\x00" + _fld(1, tm) + _fld(2, raw) + _fld(3, b"") + _fld(4, b"")


def as_bytes(s):
    return s if isinstance(s, bytes) else s.encode()


def secret(ns, name, data, annotations=None):
    raw = _fld(1, object_meta(name, ns, annotations))
    for k, v in sorted(data.items()):
        raw += _fld(2, _fld(1, k) + _fld(2, as_bytes(v)))
    raw += _fld(3, "Opaque")
    return k8s_proto("v1", "Secret", raw)


def configmap(ns, name, data):
    raw = _fld(1, object_meta(name, ns))
    for k, v in sorted(data.items()):
        raw += _fld(2, _fld(1, k) + _fld(2, v))
    return k8s_proto("v1", "ConfigMap", raw)


def hostile_cases():
    """(case, key bytes, value bytes) in put order."""
    out = []
    # --redact leaks
    pw = MARKERS[0]
    last = json.dumps({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "applied", "namespace": "default"},
        "data": {"password": base64.b64encode(pw.encode()).decode()},
    }, separators=(",", ":")) + "\n"
    out.append(("secret-last-applied", b"/registry/secrets/default/applied",
                secret("default", "applied", {"password": pw},
                       {"kubectl.kubernetes.io/last-applied-configuration": last})))
    out.append(("secret-undecodable", b"/registry/secrets/default/undecodable",
                b"\x00\x01" + MARKERS[1].encode() + b"\xff\xfe"))
    out.append(("secret-bad-yaml", b"/registry/secrets/default/badyaml",
                ("kind: Secret\ndata:\n  password: " + MARKERS[2] + "\n   - [unclosed: {\n").encode()))
    # Key material (plaintext here: the cluster did not encrypt Secrets yet).
    out.append(("key-material",
                b"/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-apiserver-1",
                secret("openshift-config-managed", "encryption-key-openshift-apiserver-1",
                       {"encryption.apiserver.operator.openshift.io-key": MARKERS[3][:32]},
                       {"encryption.apiserver.operator.openshift.io/mode": "aescbc"})))
    cfg = json.dumps({
        "kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1",
        "resources": [{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "1", "secret": base64.b64encode(b"K" * 32).decode()}]}},
            {"identity": {}}]}],
        "comment": MARKERS[4],
    })
    out.append(("key-config", b"/kubernetes.io/secrets/openshift-kube-apiserver/encryption-config-3",
                secret("openshift-kube-apiserver", "encryption-config-3", {"encryption-config": cfg})))
    # Terminal escapes in keys and in a key name read from a value.
    evil = b"evil\x1b]0;PWNED\x07\x1b[2J"
    out.append(("control-key", b"/registry/configmaps/default/" + evil,
                configmap("default", evil.decode(), {"a": "b"})))
    out.append(("control-keyname", b"/registry/secrets/default/enc-evil",
                b"k8s:enc:aescbc:v1:k\x1b[2J\x1b]0;PWN\x07:" + bytes(range(48))))
    # Export: names that do not map to files one to one.
    long = "l" * 253
    out.append(("long-name", ("/registry/configmaps/default/" + long).encode(),
                configmap("default", long, {"a": "b"})))
    out.append(("ns-index-json", b"/registry/configmaps/index.json/x",
                configmap("index.json", "x", {"a": "b"})))
    out.append(("prefix-twins", b"/registry/configmaps/default/twin",
                configmap("default", "twin", {"from": "registry"})))
    out.append(("prefix-twins", b"/kubernetes.io/configmaps/default/twin",
                configmap("default", "twin", {"from": "kubernetes.io"})))
    out.append(("invalid-utf8-twins", b"/registry/configmaps/default/n\xff",
                configmap("default", "n1", {"a": "1"})))
    out.append(("invalid-utf8-twins", b"/registry/configmaps/default/n\xfe",
                configmap("default", "n2", {"a": "2"})))
    out.append(("cluster-ns", b"/registry/configmaps/_cluster/configmaps",
                configmap("_cluster", "configmaps", {"a": "1"})))
    out.append(("cluster-ns", b"/registry/configmaps/y",
                configmap(None, "y", {"a": "2"})))
    for i in range(3):
        out.append(("good", ("/registry/configmaps/default/good-%d" % i).encode(),
                    configmap("default", "good-%d" % i, {"i": str(i)})))
    return out


def amplifying_pod(name, size):
    # PodSpec field 2: containers; an empty Container is two bytes.
    n = max(1, (size - 200) // 2)
    spec = b"\x12\x00" * n
    raw = _fld(1, object_meta(name, "default")) + _fld(2, spec)
    return k8s_proto("v1", "Pod", raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--pods", type=int, default=0)
    ap.add_argument("--pod-bytes", type=int, default=1_400_000)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cases = hostile_cases()
    with Etcd("3.5") as e:
        for _, k, v in cases:
            e.put(k, v)
        before = int(e.revision())
        pw = MARKERS[0] + "-v2"
        e.put(b"/registry/secrets/default/applied", secret("default", "applied", {"password": pw}))
        e.snapshot_save(str(out / "hostile.db"))
    (out / "hostile.json").write_text(json.dumps({
        "markers": MARKERS,
        "revision_before_change": before,
        "keys": [{"case": c, "key_hex": k.hex()} for c, k, _ in cases],
    }, indent=1) + "\n")
    if a.pods > 0:
        with Etcd("3.5", extra_args=["--max-request-bytes=%d" % (a.pod_bytes + 65536)]) as e:
            for i in range(a.pods):
                e.put(("/registry/pods/default/amp-%d" % i).encode(), amplifying_pod("amp-%d" % i, a.pod_bytes))
            e.snapshot_save(str(out / "amplify.db"))
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
