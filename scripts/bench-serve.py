#!/usr/bin/env python3
"""Time `etcdsnap serve` on one large snapshot; print Markdown for BENCHMARKS.md.

    cargo build --release && scripts/install-deps.sh
    scripts/bench-serve.py bench-data/kube.db [--keys bench-data/kube.keys.yaml] [--runs 3]

Measures: start-up (process start to the URL line), memory after start-up
(RssAnon: what the server holds beyond the mapped file), p50/p99 of 1000
single-object GETs over keep-alive HTTP/1.1, and `kubectl get pods -A -o json`
through serve against `etcdsnap get pods -A -o json` (medians of --runs after
one warm-up). The server listens on 127.0.0.1 and is stopped by pid.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ETCDSNAP = Path(os.environ.get("ETCDSNAP", REPO / "target/release/etcdsnap"))
KUBECTL = REPO / ".tools/kubectl/bin/kubectl"


def rss_anon_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("--keys", action="append", default=[])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-kubectl", action="store_true",
                    help="time the server's list response instead of kubectl's whole run")
    a = ap.parse_args()
    keys = sum((["--keys", k] for k in a.keys), [])
    tmp = tempfile.mkdtemp()
    kc = os.path.join(tmp, "kubeconfig")
    t0 = time.perf_counter()
    p = subprocess.Popen([str(ETCDSNAP), "serve", a.snapshot, "--listen", "127.0.0.1:0",
                          "--kubeconfig-out", kc, *keys],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline()
        startup = time.perf_counter() - t0
        url = next(w for w in line.split() if w.startswith("http://"))
        host, port = url[len("http://"):].split(":")
        rss = rss_anon_kib(p.pid)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("GET", "/api/v1/pods?limit=2000")
        pods = json.loads(conn.getresponse().read())["items"]
        names = [(x["metadata"]["namespace"], x["metadata"]["name"]) for x in pods]
        random.seed(1)
        lat = []
        for _ in range(1000):
            ns, n = random.choice(names)
            t = time.perf_counter()
            conn.request("GET", f"/api/v1/namespaces/{ns}/pods/{n}")
            r = conn.getresponse()
            r.read()
            lat.append(time.perf_counter() - t)
            assert r.status == 200, r.status
        lat.sort()
        rss_after = rss_anon_kib(p.pid)
        env = dict(os.environ, KUBECACHEDIR=os.path.join(tmp, "cache"))
        kube = [str(KUBECTL), "--kubeconfig", kc, "get", "pods", "-A", "-o", "json", "--request-timeout", "0"]
        direct = [str(ETCDSNAP), "get", a.snapshot, "pods", "-A", "-o", "json", *keys]
        t = time.perf_counter()
        conn.request("GET", "/api/v1/pods")
        r = conn.getresponse()
        listed = len(r.read())
        server_list = time.perf_counter() - t
        res = {}
        runs = (("etcdsnap get", direct),) if a.skip_kubectl else (("kubectl via serve", kube), ("etcdsnap get", direct))
        for name, cmd in runs:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            times = []
            for _ in range(a.runs):
                t = time.perf_counter()
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
                times.append(time.perf_counter() - t)
            res[name] = statistics.median(times)
        print(f"| start-up (to the URL line) | {startup:.2f} s |")
        print(f"| RssAnon after start-up / after 1000 GETs | {rss / 1024:.0f} MiB / {rss_after / 1024:.0f} MiB |")
        print(f"| single pod GET p50 / p99 (keep-alive, 1000) | {lat[499] * 1e3:.2f} ms / {lat[989] * 1e3:.2f} ms |")
        for k, v in res.items():
            print(f"| `get pods -A -o json`, {k} | {v:.2f} s |")
        print(f"| `/api/v1/pods` read whole from serve ({listed / 1e6:.1f} MB) | {server_list:.2f} s |")
        if "kubectl via serve" in res:
            print(f"| ratio kubectl via serve / etcdsnap get | {res['kubectl via serve'] / res['etcdsnap get']:.2f}× |")
    finally:
        p.kill()
        p.wait()


if __name__ == "__main__":
    sys.exit(main())
