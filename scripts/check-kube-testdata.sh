#!/usr/bin/env bash
# Checks the Kubernetes values layer against upstream API testdata
# (kubernetes/api testdata/HEAD: <group>.<version>.<Kind>.{pb,json,yaml}).
# The data cannot be committed; `cargo test` runs the same check from
# tests/kube_testdata.rs (reading ../shared/testdata/kube-api/HEAD beside the
# repo); this script gives the per-object report.
#
# For every .pb: decode to JSON (Value path and streaming writer) and compare
# with the .json byte for byte and leniently (absent = zero/empty/null);
# encode the .json and the .yaml back to protobuf and compare with the .pb.
# Exits non-zero unless every object passes the lenient decode and the
# streaming writer is byte-exact.
#
# Usage: scripts/check-kube-testdata.sh [DIR] [-v]
#   DIR defaults to $KUBE_TESTDATA or ../shared/testdata/kube-api/HEAD (beside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-${KUBE_TESTDATA:-../shared/testdata/kube-api/HEAD}}"
shift || true
if [ ! -d "$dir" ]; then
  echo "no testdata directory: $dir" >&2
  exit 2
fi
cargo run --quiet --release --example kube_check -- "$dir" "$@"
