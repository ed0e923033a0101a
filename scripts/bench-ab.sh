#!/bin/bash
# A/B of `get -A -o FORM` between etcdsnap binaries on the bench snapshot:
# the binaries alternate RUNS times, medians of wall and CPU (user + sys)
# per binary. For one change at a time: build, copy the binary aside,
# build the other side, compare. Usage: FORM RUNS BIN... (DB and KEYS
# from the env, defaults under /work/bench-data).
set -euo pipefail
form=$1
runs=$2
shift 2
db=${DB:-/work/bench-data/kube.db}
keys=${KEYS:-/work/bench-data/kube.keys.yaml}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq "$runs"); do
  for n in $(seq $#); do
    /usr/bin/time -f "%e %U %S" -a -o "$dir/$n" "${!n}" get "$db" -q --keys "$keys" -A -o "$form" >/dev/null
  done
done
for n in $(seq $#); do
  python3 - "$dir/$n" "${!n}" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
print(f"{sys.argv[2]}: wall {wall:.3f} s, CPU {cpu:.3f} s")
PY
done
