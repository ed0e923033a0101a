#!/usr/bin/env python3
"""Build the committed etcd fixtures under fixtures/ with REAL etcd servers.

    scripts/install-deps.sh && scripts/make-fixtures.py [--out fixtures] [--only 3.4|3.5|openshift]

Produces, for V in 3.4 and 3.5 (server etcd 3.4.23 / 3.5.1, snapshot saved
with the same version's etcdctl):

  fixtures/etcd-V/small.db   Kubernetes-looking keys, updates, deletes, a lease
                             with keys, 10 KB and 40 KB values (overflow pages),
                             compaction at a middle revision, more writes after.
  fixtures/etcd-V/deep.db    ~9000 tiny revisions: the `key` bucket B+tree has
                             3 levels (root branch -> branches -> leaves).
  fixtures/openshift-backup/ two cluster-backup.sh style pairs (3.5.1):
      snapshot_2026-11-19_101500.db + static_kuberesources_2026-11-19_101500.tar.gz
      snapshot_2026-11-20_101500.db + static_kuberesources_2026-11-20_101500.tar.gz

Next to every snapshot <name>.db the real tools' output is recorded:
  <name>.etcdctl-status.json / .txt   ETCDCTL_API=3 etcdctl (3.4.23) snapshot status -w json / -w table
  <name>.etcdutl-status.json / .txt   etcdutl (3.5.1) snapshot status -w json / -w table
  (stdout exactly; if a tool fails: <name>.<tool>-status.err with exit code and stderr)
and fixtures/MANIFEST.json summarises every file (size, sha256, revision,
totalKey, B+tree shape, meta bucket keys...).

Deterministic as far as etcd allows: fixed key names, seeded values, fixed
member name/token/ports (the member ID depends on the peer URL), fixed lease
IDs.  Page layout, consistent_index/term and therefore the hash may still vary
between runs (etcd batches commits on a timer).
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import struct
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import etcdlab  # noqa: E402
from etcdlab import Etcd, snapshot_status, bolt_info  # noqa: E402

REPO = etcdlab.REPO
CLIENT_PORT = 32379
PEER_PORT = 32380
TOKEN = "etcdsnap-fixtures"
LEASE_ID = 0x694D0C0DE5A4F001  # fixed lease ID (granted via the gateway with an explicit ID)


# ------------------------------------------------------------------ protobuf helpers (k8s envelope)
from etcdlab import _fld, _fvar, _varint  # noqa: E402,F401  (protobuf wire helpers)


def object_meta(name, namespace=None, uid=None, labels=None, created=1795169700):
    b = _fld(1, name)
    if namespace:
        b += _fld(3, namespace)
    if uid:
        b += _fld(5, uid)
    b += _fld(8, _fvar(1, created))  # creationTimestamp{seconds}
    for k, v in sorted((labels or {}).items()):
        b += _fld(11, _fld(1, k) + _fld(2, v))
    return b


def k8s_proto(api_version, kind, raw):
    """Kubernetes storage envelope: 'k8s\\0' + runtime.Unknown{typeMeta, raw, '', ''}."""
    tm = _fld(1, api_version) + _fld(2, kind)
    return b"k8s\x00" + _fld(1, tm) + _fld(2, raw) + _fld(3, b"") + _fld(4, b"")


def configmap_proto(ns, name, data, uid):
    raw = _fld(1, object_meta(name, ns, uid, {"app": name}))
    for k, v in sorted(data.items()):
        raw += _fld(2, _fld(1, k) + _fld(2, v))
    return k8s_proto("v1", "ConfigMap", raw)


def secret_proto(ns, name, data, uid, typ="Opaque"):
    raw = _fld(1, object_meta(name, ns, uid))
    for k, v in sorted(data.items()):
        raw += _fld(2, _fld(1, k) + _fld(2, v))
    raw += _fld(3, typ)
    return k8s_proto("v1", "Secret", raw)


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def uid_for(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def rand_text(rng, n):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(n))


# ------------------------------------------------------------------ scenarios
def build_small(e, out):
    """small.db. Returns a dict describing what was written (for MANIFEST)."""
    rng = random.Random(20261120)
    log = {"ops": []}

    def put(k, v, lease=None):
        r = e.put(k, v, lease=lease)
        log["ops"].append(("put", k, int(r["header"]["revision"])))

    def delete(k):
        r = e.delete(k)
        log["ops"].append(("delete", k, int(r["header"]["revision"]), int(r.get("deleted", 0))))

    for ns in ("default", "kube-system", "prod"):
        put("/registry/namespaces/%s" % ns,
            jdump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "uid": uid_for(rng)},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}))
    for i in range(1, 9):
        put("/registry/configmaps/default/cm-%d" % i,
            configmap_proto("default", "cm-%d" % i, {"key": "value-%d" % i, "n": str(i)}, uid_for(rng)))
    for i in range(1, 5):
        put("/registry/configmaps/kube-system/sys-cm-%d" % i,
            jdump({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "sys-cm-%d" % i, "namespace": "kube-system", "uid": uid_for(rng)},
                   "data": {"config.yaml": "level: %d\n" % i}}))
    for i in range(1, 6):
        put("/registry/secrets/prod/db-cred-%d" % i,
            secret_proto("prod", "db-cred-%d" % i,
                         {"username": b"user%d" % i, "password": rand_text(rng, 16).encode()}, uid_for(rng)))
    for i in range(1, 6):
        put("/registry/pods/default/web-%d" % i,
            jdump({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "web-%d" % i, "namespace": "default", "uid": uid_for(rng)},
                   "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
                   "status": {"phase": "Running"}}))
    put("/registry/deployments/default/web",
        jdump({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "default", "generation": 1}, "spec": {"replicas": 3}}))
    put("/registry/services/specs/default/kubernetes",
        jdump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
               "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}}))
    put("/registry/ranges/serviceips", b"k8s\x00\n\x10\n\x02v1\x12\nRangeAllocation\x12\x00\x1a\x00\"\x00")
    put("/registry/apiregistration.k8s.io/apiservices/v1.apps",
        jdump({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.apps"}}))
    put("/registry/crd.example.com/widgets/default/w1",
        jdump({"apiVersion": "crd.example.com/v1", "kind": "Widget",
               "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": 1}}))

    # a lease with keys attached (events expire in Kubernetes this way)
    lid = e.lease_grant(3600, LEASE_ID)
    log["lease"] = lid
    for i in range(1, 4):
        put("/registry/events/default/web-%d.17a0c0de%04d" % (i, i),
            jdump({"apiVersion": "v1", "kind": "Event", "reason": "Scheduled",
                   "involvedObject": {"kind": "Pod", "name": "web-%d" % i}}), lease=lid)
    put("/registry/leases/kube-system/kube-scheduler",
        jdump({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "spec": {"holderIdentity": "master-0", "leaseDurationSeconds": 15}}), lease=lid)

    # updates: several versions of some keys
    for gen in range(2, 5):
        put("/registry/configmaps/default/cm-1",
            configmap_proto("default", "cm-1", {"key": "value-1-gen%d" % gen, "n": "1"}, "cm-1-uid"))
    for gen in range(2, 4):
        put("/registry/deployments/default/web",
            jdump({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "namespace": "default", "generation": gen},
                   "spec": {"replicas": 3 + gen}}))
    # deletes before compaction (tombstones at or below the compact revision are purged)
    delete("/registry/pods/default/web-5")
    delete("/registry/configmaps/default/cm-8")

    # large values: > 1 page -> overflow pages
    big10 = configmap_proto("default", "big-10k", {"blob": rand_text(rng, 10 * 1024)}, uid_for(rng))
    put("/registry/configmaps/default/big-10k", big10)
    mid_rev = e.revision()
    big40 = secret_proto("prod", "big-40k", {"blob": rng.randbytes(40 * 1024)}, uid_for(rng))
    put("/registry/secrets/prod/big-40k", big40)

    # compact at a middle revision (physical)
    compact_rev = mid_rev - 6
    e.ctl("compact", str(compact_rev), "--physical")
    log["compact_rev"] = compact_rev

    # more writes after the compaction
    for gen in range(5, 7):
        put("/registry/configmaps/default/cm-1",
            configmap_proto("default", "cm-1", {"key": "value-1-gen%d" % gen, "n": "1"}, "cm-1-uid"))
    put("/registry/pods/default/web-6",
        jdump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-6", "namespace": "default"},
               "status": {"phase": "Pending"}}))
    delete("/registry/pods/default/web-4")                 # tombstone after compaction
    delete("/registry/secrets/prod/db-cred-5")
    put("/registry/configmaps/default/cm-8",               # re-created after delete
        configmap_proto("default", "cm-8", {"key": "recreated"}, uid_for(rng)))
    put("/registry/configmaps/default/cm-2",
        configmap_proto("default", "cm-2", {"key": "value-2-updated", "n": "2"}, "cm-2-uid"))
    put("/registry/masterleases/10.0.0.1",
        jdump({"kind": "Endpoints", "apiVersion": "v1", "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}))
    log["final_rev"] = e.revision()
    e.snapshot_save(out)
    return {"compact_rev": compact_rev, "final_rev": log["final_rev"], "lease_id": lid,
            "puts": sum(1 for o in log["ops"] if o[0] == "put"),
            "deletes": sum(1 for o in log["ops"] if o[0] == "delete")}


DEEP_REVISIONS = 9000


def build_deep(e, out):
    """deep.db: DEEP_REVISIONS tiny single-key revisions -> 3-level key bucket."""
    for i in range(DEEP_REVISIONS):
        e.put(b"/d/%04d" % (i % 3000), b"%d" % (i // 3000))
    e.snapshot_save(out)
    return {"revisions": DEEP_REVISIONS, "final_rev": e.revision()}


# ------------------------------------------------------------------ OpenShift backup
PEM_CERT = ("-----BEGIN CERTIFICATE-----\n" + "MIIB" + "A" * 60 + "\n" + "ZmFrZS1jZXJ0LWZvci10ZXN0cw==\n"
            "-----END CERTIFICATE-----\n")
PEM_KEY = ("-----BEGIN RSA PRIVATE KEY-----\n" + "MIIE" + "B" * 60 + "\n" + "ZmFrZS1rZXktZm9yLXRlc3Rz\n"
           "-----END RSA PRIVATE KEY-----\n")


def pod_yaml(component, rev):
    return ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: openshift-%s\n"
            "  labels:\n    app: openshift-%s\n    revision: \"%d\"\nspec:\n  containers:\n"
            "  - name: %s\n    image: quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:%s\n"
            % (component, component, component, rev, component, hashlib.sha256(component.encode()).hexdigest()))


def static_resources_tar(path, revs, mtime):
    """cluster-backup.sh style tarball (tar -cpzf ... -C /etc/kubernetes static-pod-resources/<c>-pod-<N>)."""
    files = []  # (name, data) ; directories as (name, None)
    for comp, rev in revs:
        base = "static-pod-resources/%s-pod-%d" % (comp, rev)
        files.append((base, None))
        files.append((base + "/configmaps", None))
        cms = {"config": {"config.yaml": "apiVersion: kubecontrolplane.config.openshift.io/v1\nkind: %sConfig\n"
                          % comp.title().replace("-", "")},
               "revision-status": {"revision": str(rev), "status": "Succeeded"}}
        if comp == "kube-apiserver":
            cms["etcd-serving-ca"] = {"ca-bundle.crt": PEM_CERT}
        if comp == "etcd":
            cms["etcd-peer-client-ca"] = {"ca-bundle.crt": PEM_CERT}
        for cm in sorted(cms):
            files.append((base + "/configmaps/" + cm, None))
            for k in sorted(cms[cm]):
                files.append((base + "/configmaps/%s/%s" % (cm, k), cms[cm][k].encode()))
        files.append((base + "/secrets", None))
        secs = {"kube-apiserver": {"etcd-client": {"tls.crt": PEM_CERT, "tls.key": PEM_KEY}},
                "kube-controller-manager": {"service-account-private-key": {"service-account.key": PEM_KEY}},
                "kube-scheduler": {"kube-scheduler-client-cert-key": {"tls.crt": PEM_CERT, "tls.key": PEM_KEY}},
                "etcd": {"etcd-all-certs": {"etcd-peer-master-0.crt": PEM_CERT, "etcd-peer-master-0.key": PEM_KEY}}}
        for s in sorted(secs[comp]):
            files.append((base + "/secrets/" + s, None))
            for k in sorted(secs[comp][s]):
                files.append((base + "/secrets/%s/%s" % (s, k), secs[comp][s][k].encode()))
        files.append((base + "/%s-pod.yaml" % comp, pod_yaml(comp, rev).encode()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in files:
            ti = tarfile.TarInfo(name + ("/" if data is None else ""))
            ti.mtime = mtime
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            else:
                ti.mode = 0o600 if "/secrets/" in name else 0o644
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=mtime, compresslevel=9) as gz:
            gz.write(buf.getvalue())
    os.chmod(path, 0o600)


def build_openshift(e, outdir):
    rng = random.Random(4130)
    outdir.mkdir(parents=True, exist_ok=True)

    def batch(n0, n1):
        for i in range(n0, n1):
            ns = "openshift-app-%d" % (i % 3)
            e.put("/kubernetes.io/configmaps/%s/cm-%d" % (ns, i),
                  configmap_proto(ns, "cm-%d" % i, {"k": "v%d" % i}, uid_for(rng)))
            e.put("/kubernetes.io/secrets/%s/s-%d" % (ns, i),
                  secret_proto(ns, "s-%d" % i, {"token": rand_text(rng, 24).encode()}, uid_for(rng)))
            route_raw = _fld(1, object_meta("route-%d" % i, ns, uid_for(rng))) + \
                _fld(2, _fld(1, "app-%d.apps.example.com" % i))
            e.put("/openshift.io/routes/%s/route-%d" % (ns, i),
                  k8s_proto("route.openshift.io/v1", "Route", route_raw))
        e.put("/kubernetes.io/namespaces/openshift-etcd",
              jdump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openshift-etcd"}}))
        e.put("/openshift.io/oauth/accesstokens/sha256~%s" % hashlib.sha256(b"tok%d" % n1).hexdigest()[:43],
              jdump({"apiVersion": "oauth.openshift.io/v1", "kind": "OAuthAccessToken", "userName": "kube:admin"}))

    results = {}
    batch(0, 12)
    e.delete("/kubernetes.io/secrets/openshift-app-1/s-4")
    old = outdir / "snapshot_2026-11-19_101500.db"
    e.snapshot_save(old)
    static_resources_tar(outdir / "static_kuberesources_2026-11-19_101500.tar.gz",
                         [("kube-apiserver", 6), ("kube-controller-manager", 5), ("kube-scheduler", 4),
                          ("etcd", 3)], mtime=1795083300)
    results[old.name] = {"revision": e.revision()}
    batch(12, 24)
    e.put("/kubernetes.io/configmaps/openshift-app-0/cm-0", configmap_proto("openshift-app-0", "cm-0",
                                                                             {"k": "updated"}, "cm-0-uid"))
    e.delete("/openshift.io/routes/openshift-app-2/route-5")
    new = outdir / "snapshot_2026-11-20_101500.db"
    e.snapshot_save(new)
    static_resources_tar(outdir / "static_kuberesources_2026-11-20_101500.tar.gz",
                         [("kube-apiserver", 7), ("kube-controller-manager", 5), ("kube-scheduler", 4),
                          ("etcd", 3)], mtime=1795169700)
    results[new.name] = {"revision": e.revision()}
    return results


# ------------------------------------------------------------------ status recording
TOOLS = [("etcdctl-3.4", "etcdctl"), ("etcdutl-3.5", "etcdutl")]


def record_status(db):
    """Run both real tools (json + table) on db; write .json/.txt or .err next to it."""
    sha_before = hashlib.sha256(db.read_bytes()).hexdigest()
    stem = db.with_suffix("")
    res = {}
    for tool, short in TOOLS:
        for fmt, ext in (("json", "json"), ("table", "txt")):
            target = Path("%s.%s-status.%s" % (stem, short, ext))
            err = Path("%s.%s-status.err" % (stem, short))
            rc, out, errtxt = snapshot_status(tool, db, fmt)
            if rc == 0:
                target.write_text(out)
                if fmt == "json":
                    res[tool] = json.loads(out)
            else:
                with open(err, "a") as f:
                    f.write("$ %s snapshot status %s -w %s\nexit code: %d\nstderr:\n%s\nstdout:\n%s\n"
                            % (tool, db.name, fmt, rc, errtxt, out))
                res[tool + "-" + fmt + "-error"] = {"rc": rc, "stderr": errtxt.strip()[-500:]}
    if hashlib.sha256(db.read_bytes()).hexdigest() != sha_before:
        raise SystemExit("ERROR: a status tool modified %s" % db)
    return res


def bucket_items(path, name):
    """Keys/values of one (small) top-level bucket, via the raw bbolt parser."""
    data = Path(path).read_bytes()
    ps = struct.unpack_from("<I", data, 16 + 8)[0]
    m = [struct.unpack_from("<QQ", data, off + 16 + 16) + struct.unpack_from("<Q", data, off + 16 + 48)
         for off in (0, ps)]
    root = max(m, key=lambda x: x[2])[0]

    def leaf_items(buf, off, count):
        for i in range(count):
            e = off + 16 + 16 * i
            fl, pos, ks, vs = struct.unpack_from("<IIII", buf, e)
            yield fl, buf[e + pos:e + pos + ks], buf[e + pos + ks:e + pos + ks + vs]

    def walk(pg):
        off = pg * ps
        _, flags, count, _ = struct.unpack_from("<QHHI", data, off)
        if flags & 1:
            for i in range(count):
                _, _, child = struct.unpack_from("<IIQ", data, off + 16 + 16 * i)
                yield from walk(child)
        else:
            yield from leaf_items(data, off, count)

    for fl, k, v in walk(root):
        if k == name.encode() and fl & 1:
            broot = struct.unpack_from("<Q", v, 0)[0]
            if broot == 0:
                inline = v[16:]
                count = struct.unpack_from("<H", inline, 10)[0]
                return [(k2, v2) for _, k2, v2 in leaf_items(inline, 0, count)]
            return [(k2, v2) for _, k2, v2 in walk(broot)]
    return None


def describe(db, version, extra):
    info = bolt_info(db)
    size = db.stat().st_size
    meta = bucket_items(db, "meta") or []
    cluster = bucket_items(db, "cluster") or []

    def show(k, v):
        if k in (b"consistent_index", b"term"):
            return struct.unpack(">Q", v)[0]
        if k in (b"scheduledCompactRev", b"finishedCompactRev"):
            return struct.unpack(">q", v[:8])[0]
        return v.decode("utf-8", "replace")

    d = {
        "file": str(db.relative_to(db.parents[1])),
        "etcd_version": version,
        "size": size,
        "size_mod_512": size % 512,
        "sha256": hashlib.sha256(db.read_bytes()).hexdigest(),
        "trailer_ok": hashlib.sha256(db.read_bytes()[:-32]).digest() == db.read_bytes()[-32:],
        "pageSize": info["pageSize"],
        "meta_txid": info["txid"],
        "meta_pgid": info["pgid"],
        "freelist_pgid": info["freelist"],
        "key_bucket": info["buckets"].get("key"),
        "buckets": sorted(info["buckets"]),
        "meta_bucket": {k.decode(): show(k, v) for k, v in meta},
        "cluster_bucket": {k.decode(): v.decode() for k, v in cluster},
    }
    d.update(extra)
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "fixtures"))
    ap.add_argument("--only", choices=["3.4", "3.5", "openshift", "status"], action="append")
    args = ap.parse_args()
    out = Path(args.out)
    only = set(args.only or ["3.4", "3.5", "openshift"])
    manifest_path = out / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"snapshots": []}
    entries = {m["file"]: m for m in manifest.get("snapshots", [])}

    built = []  # (path, version, extra)
    for v in ("3.4", "3.5"):
        if v not in only:
            continue
        d = out / ("etcd-%s" % v)
        d.mkdir(parents=True, exist_ok=True)
        print("== etcd %s: %s" % (v, etcdlab.tool_version(v)))
        with Etcd(v, name="m1", token=TOKEN, client_port=CLIENT_PORT, peer_port=PEER_PORT) as e:
            built.append((d / "small.db", v, build_small(e, d / "small.db")))
        with Etcd(v, name="m1", token=TOKEN, client_port=CLIENT_PORT, peer_port=PEER_PORT) as e:
            built.append((d / "deep.db", v, build_deep(e, d / "deep.db")))
    if "openshift" in only:
        d = out / "openshift-backup"
        print("== openshift backup (etcd 3.5)")
        with Etcd("3.5", name="master-0", token="openshift-etcd-fixture", client_port=CLIENT_PORT,
                  peer_port=PEER_PORT) as e:
            for fname, extra in build_openshift(e, d).items():
                built.append((d / fname, "3.5", extra))
    if "status" in only:  # re-record status for existing files only
        for m in entries.values():
            built.append((out / m["file"], m["etcd_version"], {}))

    for db, v, extra in built:
        st = record_status(db)
        entry = describe(db, v, extra)
        entry["status"] = st
        entries[entry["file"]] = entry
        kb = entry["key_bucket"] or {}
        s = st.get("etcdutl-3.5") or st.get("etcdctl-3.4") or {}
        same = st.get("etcdctl-3.4") == st.get("etcdutl-3.5")
        print("%-45s %8d B  rev %-6s totalKey %-6s hash %-10s key-tree depth %s (%s leaves)  "
              "size%%512=%d  tools agree: %s"
              % (entry["file"], entry["size"], s.get("revision"), s.get("totalKey"), s.get("hash"),
                 kb.get("depth"), kb.get("leaves"), entry["size_mod_512"], same))

    manifest["snapshots"] = [entries[k] for k in sorted(entries)]
    manifest["generated_by"] = "scripts/make-fixtures.py"
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print("fixtures total: %d bytes (%s)" % (total, out))


if __name__ == "__main__":
    main()
