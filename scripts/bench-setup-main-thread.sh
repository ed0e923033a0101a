#!/bin/bash
# Main-thread vs all-thread CPU of `get -A -o json --keys` up to its first
# 40 bytes of output (perf samples at 4 kHz, the main thread's tid = pid).
# The main thread's share is the serial set-up before rendering starts; it
# shows a change of that set-up even when other processes load the cores,
# where wall times cannot. Usage: BIN [RUNS] (DB and KEYS from the env).
set -euo pipefail
bin=$1
runs=${2:-5}
db=${DB:-/work/bench-data/kube.db}
keys=${KEYS:-/work/bench-data/kube.keys.yaml}
data=$(mktemp)
trap 'rm -f "$data"' EXIT
for _ in $(seq "$runs"); do
  perf record -q -o "$data" -F 4000 "$bin" get "$db" -q --keys "$keys" -A -o json 2>/dev/null |
    head -c 40 >/dev/null || true
  perf script -i "$data" -F pid,tid 2>/dev/null |
    awk '{split($1,a,"/"); if (a[1]==a[2]) m++; t++} END {printf "main %.0f ms  all %.0f ms\n", m/4, t/4}'
done
