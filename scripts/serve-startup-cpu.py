#!/usr/bin/env python3
"""Start a command that prints a line when ready (`etcdsnap serve`), and
print the wall time to that line and the CPU time (user + system, all
threads, from /proc/PID/stat) spent by then; the process is then stopped by
pid. For BENCHMARKS.md:

    scripts/serve-startup-cpu.py target/release/etcdsnap serve bench-data/kube.db \\
        --listen 127.0.0.1:0 --kubeconfig-out /tmp/kc
"""

import os
import subprocess
import sys
import time

cmd = sys.argv[1:]
tick = os.sysconf("SC_CLK_TCK")
t = time.perf_counter()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    p.stdout.readline()
    wall = time.perf_counter() - t
    fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / tick
    print(f"wall {wall:.3f}s cpu {cpu:.2f}s")
finally:
    p.kill()
    p.wait()
