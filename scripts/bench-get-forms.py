#!/usr/bin/env python3
"""Issue #10's `get` targets on one snapshot, as one same-run comparison:
YAML against JSON, `-l` and `--redact` against the plain command, and
`get -A -o json --keys` in MB/s of stored values. Prints Markdown.

    cargo build --release
    scripts/bench-get-forms.py bench-data/kube.db --keys bench-data/kube.keys.yaml [--runs 5]

Every form runs once to warm the page cache, then the forms alternate
(round-robin) --runs times; medians of wall time and of CPU time (user +
system of the child, from wait4) are reported. "Stored bytes" is the sum of
the value sizes `ls -o json` reports for the live keys under /registry/.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ETCDSNAP = Path(os.environ.get("ETCDSNAP", REPO / "target/release/etcdsnap"))


def run(args):
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, args))}: exit {code}")
    return wall, ru.ru_utime + ru.ru_stime


def stored_bytes(db):
    """The live values under /registry/ (what `get -A` reads), as `ls` sizes them."""
    out = subprocess.run(
        [ETCDSNAP, "ls", db, "/registry/", "-o", "json", "-q"],
        capture_output=True,
        check=False,
    ).stdout
    return sum(r.get("size", 0) for r in json.loads(out)["keys"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--keys", required=True)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    base = [ETCDSNAP, "get", a.db, "-q", "--keys", a.keys]
    forms = {
        "-A -o json": ["-A", "-o", "json"],
        "-A -o yaml": ["-A", "-o", "yaml"],
        "pods -A -o json": ["pods", "-A", "-o", "json"],
        "pods -A -o yaml": ["pods", "-A", "-o", "yaml"],
        "-A -o json -l app=web": ["-A", "-o", "json", "-l", "app=web"],
        "-A -o json --redact": ["-A", "-o", "json", "--redact"],
        "-A -o yaml --redact": ["-A", "-o", "yaml", "--redact"],
    }
    times = {k: [] for k in forms}
    for k, extra in forms.items():
        run(base + extra)
    for _ in range(a.runs):
        for k, extra in forms.items():
            times[k].append(run(base + extra))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {a.runs} runs each, alternating\n")
    print("| `get DB --keys K -q …` | wall median | CPU median (user+sys) | all walls |")
    print("|---|---|---|---|")
    for k, (w, c) in med.items():
        walls = " ".join(f"{w:.2f}" for w, _ in times[k])
        print(f"| `{k}` | {w:.3f} s | {c:.3f} s | {walls} |")
    print()

    def ratio(x, y):
        return f"{med[x][0] / med[y][0]:.2f}x wall, {med[x][1] / med[y][1]:.2f}x CPU"

    print(f"- YAML / JSON, all: {ratio('-A -o yaml', '-A -o json')}")
    print(f"- YAML / JSON, pods: {ratio('pods -A -o yaml', 'pods -A -o json')}")
    print(f"- `-l` / plain: {ratio('-A -o json -l app=web', '-A -o json')}")
    print(f"- `--redact` / plain, JSON: {ratio('-A -o json --redact', '-A -o json')}")
    print(f"- `--redact` / plain, YAML: {ratio('-A -o yaml --redact', '-A -o yaml')}")
    n = stored_bytes(a.db)
    if n:
        w, c = med["-A -o json"]
        print(f"- `-A -o json --keys`: {n / 1e6:.0f} MB of stored values in {w:.3f} s = {n / 1e6 / w:.0f} MB/s (CPU {c:.3f} s over {w:.3f} s wall: {c / w:.2f} cores busy)")


if __name__ == "__main__":
    main()
