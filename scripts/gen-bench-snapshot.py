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


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.puts = self.updates = self.deletes = self.bytes = 0


def worker(tid, e_port, seed, stop, stats, errors):
    rng = random.Random(seed * 1000 + tid)
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
            is_json = b"crd.example.com" in key or b"apiextensions" in key or rng.random() < 0.1
            if is_json:
                payload = base64.b64encode(rng.randbytes(size * 3 // 4)).decode()
                val = json.dumps({"apiVersion": "v1", "kind": "Blob",
                                  "metadata": {"name": key.rsplit(b"/", 1)[1].decode(),
                                               "resourceVersion": str(n)},
                                  "data": payload}, separators=(",", ":")).encode()
            else:
                val = b"k8s\x00\n\x0b\n\x02v1\x12\x05Blob\x12" + rng.randbytes(size)
            cli.put(key, val)
            with stats.lock:
                stats.puts += 1
                stats.updates += upd
                stats.bytes += len(key) + len(val)
    except Exception as ex:  # report to main thread
        errors.append(ex)
        stop.set()
    finally:
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
    args = ap.parse_args()

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
            ths = [threading.Thread(target=worker, args=(t, e.client_port, args.seed, stop, stats, errors),
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
