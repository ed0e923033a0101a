#!/usr/bin/env python3
"""Generate a large benchmark snapshot with REAL etcd 3.5.1 (default ~1 GiB).

    scripts/install-deps.sh
    scripts/gen-bench-snapshot.py                      # -> bench-data/bench.db (~1 GiB)
    scripts/gen-bench-snapshot.py --size-mb 50 -o /tmp/b50.db

Kubernetes-like keys /registry/<resource>/<namespace>/<name>; values 1-20 KB:
most are 'k8s\\0' + pseudo-random bytes (like protobuf objects), some are JSON
`{...}` documents.  About 20% of the writes update an existing key (history,
several versions per key) and ~3% delete one (tombstones).  No compaction.

etcd runs on 127.0.0.1 with --quota-backend-bytes 4 GiB (more if needed) and
--unsafe-no-fsync (speed only; it does not change what is stored).  Writes go
through the gRPC gateway (POST /v3/kv/put, keep-alive) from --threads client
threads.  The loop stops when the backend's dbSize reaches --size-mb, then
`etcdctl snapshot save` (3.5.1) writes the output and `etcdutl snapshot status`
is printed.  The bench-data/ directory is gitignored.
"""

import argparse
import base64
import hashlib
import json
import random
import shutil
import sys
import subprocess
import os
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import etcdlab  # noqa: E402
from etcdlab import Etcd, snapshot_status  # noqa: E402

RESOURCES = [  # (resource path, weight, json?)
    ("pods", 30, False), ("configmaps", 15, False), ("secrets", 15, False),
    ("events", 10, False), ("replicasets", 8, False), ("deployments", 6, False),
    ("services/specs", 4, False), ("leases", 3, False),
    ("crd.example.com/widgets", 5, True), ("apiextensions.k8s.io/customresourcedefinitions", 4, True),
]
NAMESPACES = ["default", "kube-system", "monitoring"] + ["team-%02d" % i for i in range(40)]


# ------------------------------------------------------------------ Kubernetes objects
ETCDSNAP = Path(os.environ.get("ETCDSNAP", etcdlab.REPO / "target" / "release" / "etcdsnap"))
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]


class Encoder:
    """One `etcdsnap encode --jsonl` process: object dict -> stored bytes
    (the exact protobuf envelope the apiserver writes, or JSON for CRs)."""

    def __init__(self):
        if not ETCDSNAP.exists():
            sys.exit("gen-bench-snapshot.py: %s missing: cargo build --release" % ETCDSNAP)
        self.p = subprocess.Popen([str(ETCDSNAP), "encode", "--jsonl"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)

    def encode(self, obj):
        self.p.stdin.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        self.p.stdin.flush()
        n = int.from_bytes(self.p.stdout.read(4), "big")
        return self.p.stdout.read(n)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def _meta(rng, name, ns, n):
    m = {"name": name, "uid": "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                              rng.getrandbits(12), rng.getrandbits(12),
                                                              rng.getrandbits(48)),
         "creationTimestamp": "2026-11-%02dT%02d:%02d:%02dZ" % (1 + n % 20, n % 24, n % 60, (n * 7) % 60),
         "labels": {"app": rng.choice(WORDS), "tier": rng.choice(["web", "db", "cache"]),
                    "pod-template-hash": "%010x" % rng.getrandbits(40)},
         "annotations": {"openshift.io/scc": "restricted-v2"}}
    if ns:
        m["namespace"] = ns
    return m


def _text(rng, size):
    return base64.b64encode(rng.randbytes(max(1, size * 3 // 4))).decode()


def _container(rng, envs):
    return {"name": rng.choice(WORDS), "image": "registry.example.com/%s:%d.%d" % (rng.choice(WORDS), rng.randrange(9), rng.randrange(30)),
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "VAR_%04d" % i, "value": rng.choice(WORDS) + "-" + _text(rng, 24)} for i in range(envs)],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"}


def make_object(rng, res, ns, name, size, n):
    """A realistic object of about `size` stored bytes for resource `res`."""
    meta = _meta(rng, name, ns, n)
    envs = max(1, size // 70)
    if res == "pods":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": {"containers": [_container(rng, envs)], "restartPolicy": "Always",
                         "nodeName": "worker-%d" % rng.randrange(20), "serviceAccountName": "default"},
                "status": {"phase": "Running", "podIP": "10.128.%d.%d" % (rng.randrange(255), rng.randrange(255)),
                           "conditions": [{"type": "Ready", "status": "True",
                                           "lastTransitionTime": meta["creationTimestamp"]}]}}
    if res in ("deployments", "replicasets"):
        kind = "Deployment" if res == "deployments" else "ReplicaSet"
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta,
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": meta["labels"]["app"]}},
                         "template": {"metadata": {"labels": {"app": meta["labels"]["app"]}},
                                      "spec": {"containers": [_container(rng, envs)]}}},
                "status": {"replicas": 3, "readyReplicas": 3}}
    if res == "configmaps":
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                "data": {"config-%d.yaml" % i: _text(rng, size // 4) for i in range(4)}}
    if res == "secrets":
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque",
                "data": {"key-%d" % i: base64.b64encode(rng.randbytes(size // 4)).decode() for i in range(4)}}
    if res == "events":
        return {"apiVersion": "v1", "kind": "Event", "metadata": meta,
                "involvedObject": {"kind": "Pod", "namespace": ns, "name": name, "apiVersion": "v1"},
                "reason": "Pulled", "message": _text(rng, size), "type": "Normal", "count": 1,
                "source": {"component": "kubelet", "host": "worker-1"}}
    if res == "leases":
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": _text(rng, size), "leaseDurationSeconds": 15}}
    if res == "services/specs":
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
                "spec": {"type": "ClusterIP", "clusterIP": "172.30.1.1",
                         "ports": [{"name": "p%d" % i, "port": 1000 + i, "protocol": "TCP", "targetPort": 8000 + i}
                                   for i in range(max(1, size // 40))],
                         "selector": {"app": meta["labels"]["app"]}}}
    # custom resources and CRDs: stored as JSON
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta,
            "spec": {"payload": _text(rng, size), "replicas": 3}}


def aescbc(key, plain):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    iv = os.urandom(16)
    p = padding.PKCS7(128).padder()
    data = p.update(plain) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b"k8s:enc:aescbc:v1:1:" + iv + e.update(data) + e.finalize()


def stored_value(rng, enc, key, size, n, crypt_key):
    parts = key.decode().split("/")
    res = "services/specs" if parts[2] == "services" else (parts[2] if "." not in parts[2] else "cr")
    obj = make_object(rng, res, parts[-2], parts[-1], size, n)
    val = enc.encode(obj)
    # Secrets and ConfigMaps encrypted as OpenShift does (Python's
    # cryptography, independent of the crate).
    if crypt_key and res in ("secrets", "configmaps"):
        val = aescbc(crypt_key, val)
    return val


KEYS_YAML = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources:
  - secrets
  - configmaps
  providers:
  - aescbc:
      keys:
      - name: "1"
        secret: %s
  - identity: {}
"""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.puts = self.updates = self.deletes = self.bytes = 0


def worker(tid, e_port, seed, stop, stats, errors, crypt_key, keys_out):
    rng = random.Random(seed * 1000 + tid)
    enc = Encoder()
    cli = Etcd.__new__(Etcd)  # lightweight client sharing the server's port
    cli._conn = None
    cli.client_port = e_port
    mine = []  # keys this thread wrote (so updates/deletes never race with the other thread)
    weights = [w for _, w, _ in RESOURCES]
    n = 0
    try:
        while not stop.is_set():
            r = rng.random()
            if mine and r < 0.03:
                i = rng.randrange(len(mine))
                key = mine[i]
                mine[i] = mine[-1]
                mine.pop()
                cli.delete(key)
                with stats.lock:
                    stats.deletes += 1
                continue
            if mine and r < 0.23:
                key = mine[rng.randrange(len(mine))]
                upd = True
            else:
                res, _, _ = RESOURCES[rng.choices(range(len(RESOURCES)), weights)[0]]
                ns = rng.choice(NAMESPACES)
                key = ("/registry/%s/%s/obj-t%d-%07d" % (res, ns, tid, n)).encode()
                n += 1
                mine.append(key)
                upd = False
            size = int(rng.triangular(1024, 20 * 1024, 4 * 1024))
            val = stored_value(rng, enc, key, size, n, crypt_key)
            cli.put(key, val)
            with stats.lock:
                stats.puts += 1
                stats.updates += upd
                stats.bytes += len(key) + len(val)
    except Exception as ex:  # report to main thread
        errors.append(ex)
        stop.set()
    finally:
        keys_out.extend(mine)
        enc.close()
        if cli._conn is not None:
            cli._conn.close()


def db_size(e):
    j = e.http("/v3/maintenance/status", {})
    return int(j.get("dbSize", 0)), int(j.get("dbSizeInUse", 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024, help="target backend size in MiB (default 1024)")
    ap.add_argument("-o", "--output", default=str(etcdlab.REPO / "bench-data" / "bench.db"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=None,
                    help="where the etcd data dir goes (default: next to the output, removed afterwards)")
    ap.add_argument("--fsync", action="store_true", help="do not pass --unsafe-no-fsync")
    ap.add_argument("--encrypt", action="store_true",
                    help="store Secrets and ConfigMaps aescbc-encrypted; writes <output>.keys.yaml")
    ap.add_argument("--changes", type=int, default=0,
                    help="after saving, make this many changes and save <output stem>-b.db")
    ap.add_argument("--only", default=None, metavar="RESOURCE",
                    help="write objects of this one resource (e.g. pods: a 40,000-row list for the console)")
    args = ap.parse_args()
    if args.only:
        RESOURCES[:] = [r for r in RESOURCES if r[0] == args.only]
        if not RESOURCES:
            ap.error("--only: unknown resource %r" % args.only)

    out = Path(args.output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    target = args.size_mb << 20
    quota = max(4 << 30, target * 2)
    workdir = Path(args.workdir) if args.workdir else out.parent / (".etcd-work-%s" % out.stem)
    if workdir.exists():
        shutil.rmtree(workdir)
    extra = ["--quota-backend-bytes=%d" % quota, "--snapshot-count=100000", "--log-level=warn"]
    if not args.fsync:
        extra.append("--unsafe-no-fsync")
    print("etcd %s, target %d MiB, quota %d MiB, %d threads -> %s"
          % (etcdlab.tool_version("3.5"), args.size_mb, quota >> 20, args.threads, out))
    t0 = time.time()
    try:
        with Etcd("3.5", name="bench", token="etcdsnap-bench", extra_args=extra, workdir=workdir) as e:
            stats, stop, errors = Stats(), threading.Event(), []
            crypt_key = None
            if args.encrypt:
                crypt_key = random.Random(args.seed).randbytes(32)
                kp = out.with_suffix(".keys.yaml")
                kp.write_text(KEYS_YAML % base64.b64encode(crypt_key).decode())
                os.chmod(kp, 0o600)
            written = []
            ths = [threading.Thread(target=worker, args=(t, e.client_port, args.seed, stop, stats, errors,
                                                         crypt_key, written),
                                    daemon=True) for t in range(args.threads)]
            for t in ths:
                t.start()
            last = 0
            try:
                while not stop.is_set():
                    time.sleep(0.25)
                    size, inuse = db_size(e)
                    if time.time() - last > 10 or size >= target:
                        last = time.time()
                        el = time.time() - t0
                        print("  %6.0fs dbSize %7.1f MiB (in use %7.1f)  puts %d (updates %d) deletes %d  "
                              "%.1f MB/s" % (el, size / 2**20, inuse / 2**20, stats.puts, stats.updates,
                                             stats.deletes, stats.bytes / el / 1e6), flush=True)
                    if size >= target:
                        break
            finally:
                stop.set()
                for t in ths:
                    t.join(timeout=60)
            if errors:
                raise errors[0]
            rev = e.revision()
            print("writes done: revision %d, %d puts (%d updates), %d deletes, %.1f MB of key+value"
                  % (rev, stats.puts, stats.updates, stats.deletes, stats.bytes / 1e6))
            t1 = time.time()
            e.snapshot_save(out)
            print("snapshot save: %.1fs" % (time.time() - t1))
            if args.changes:
                # An "incident": updates (new image, new label), deletes and
                # creates, then a second snapshot for diff benchmarks.
                rng = random.Random(args.seed + 99)
                enc = Encoder()
                e2 = Etcd.__new__(Etcd)
                e2._conn = None
                e2.client_port = e.client_port
                keys = sorted(written)
                for i in range(args.changes):
                    key = rng.choice(keys)
                    r = rng.random()
                    if r < 0.15:
                        e2.delete(key)
                    else:
                        if r < 0.3:
                            key = key + b"-new"
                        e2.put(key, stored_value(rng, enc, key, int(rng.triangular(1024, 20 * 1024, 4 * 1024)),
                                                 i, crypt_key))
                enc.close()
                second = out.with_name(out.stem + "-b" + out.suffix)
                e.snapshot_save(second)
                print("%d changes, second snapshot %s" % (args.changes, second))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rc, so, se = snapshot_status("etcdutl-3.5", out, "json")
    size = out.stat().st_size
    h = hashlib.sha256()
    with open(out, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    print("%s: %d bytes (%.1f MiB), size %% 512 = %d, sha256 %s" % (out, size, size / 2**20, size % 512,
                                                                  h.hexdigest()))
    print("etcdutl snapshot status: %s" % (so.strip() if rc == 0 else "FAILED rc=%d %s" % (rc, se.strip())))
    print("total %.0fs" % (time.time() - t0))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
