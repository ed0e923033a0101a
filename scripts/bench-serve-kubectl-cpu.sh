#!/usr/bin/env bash
# Who spends the time of `kubectl get pods -A -o json` through `serve`:
# the CPU seconds of the serve process during the kubectl run (from
# /proc/PID/stat) against kubectl's own (from /usr/bin/time). For
# BENCHMARKS.md:
#
#     scripts/bench-serve-kubectl-cpu.sh bench-data/kube.db
set -euo pipefail
cd "$(dirname "$0")/.."
SNAP=${1:?usage: $0 SNAPSHOT}
BIN=${ETCDSNAP_BIN:-target/release/etcdsnap}
KUBECTL=${ETCDSNAP_KUBECTL:-.tools/kubectl/bin/kubectl}
tmp=$(mktemp -d)
"$BIN" serve "$SNAP" --listen 127.0.0.1:0 --kubeconfig-out "$tmp/kc" -q > "$tmp/serve.out" 2>/dev/null &
sp=$!
trap 'kill $sp 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 300); do grep -q http "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.2f", ($14+$15)/t}' "/proc/$sp/stat"; }
before=$(cpu)
/usr/bin/time -f "kubectl: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$KUBECTL" --kubeconfig "$tmp/kc" get pods -A -o json > "$tmp/pods.json" 2> "$tmp/time.txt"
after=$(cpu)
tail -1 "$tmp/time.txt"
python3 -c "print('serve: %.2f s CPU during the kubectl run' % ($after - $before))"
echo "kubectl's output: $(stat -c %s "$tmp/pods.json") bytes"
