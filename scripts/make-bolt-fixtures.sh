#!/usr/bin/env bash
# Build fixtures/bolt/*.db (+ .json manifests) with the REAL bbolt Go package,
# offline: Debian golang-go + golang-github-coreos-bbolt-dev (bbolt 1.3.6,
# source in /usr/share/gocode/src/go.etcd.io/bbolt), GOPATH mode, no network.
#
#   fixtures/bolt/pagesize-8192.db    Options{PageSize: 8192,  NoFreelistSync: true}
#   fixtures/bolt/pagesize-16384.db   Options{PageSize: 16384, NoFreelistSync: true}
#   fixtures/bolt/freelist-4096.db    default Options (4096, freelist page synced, free pages present)
#   fixtures/bolt/<name>.json         manifest written by the Go program (see scripts/bbolt-gen/main.go)
#   fixtures/bolt/bbolt-check.txt     bbolt's tx.Check() on every etcd fixture snapshot
#
# Debian ships no `bbolt` CLI binary (only the library source), so "bbolt check"
# is done by calling tx.Check() from the same Go program (bbolt-gen -check).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$REPO/fixtures/bolt}"

die() { echo "make-bolt-fixtures.sh: ERROR: $*" >&2; exit 1; }

"$REPO/scripts/install-deps.sh" --with-go >/dev/null || die "install-deps.sh --with-go failed"

GO=go
command -v go >/dev/null 2>&1 || GO=/usr/lib/go/bin/go
[ -x "$(command -v $GO)" ] || die "go not found after installing golang-go"
[ -f /usr/share/gocode/src/go.etcd.io/bbolt/db.go ] || die "bbolt source missing in /usr/share/gocode"

BUILD="$(mktemp -d /tmp/bbolt-gen.XXXXXX)"
trap 'rm -rf "$BUILD"' EXIT
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$BUILD/cache" GOFLAGS= CGO_ENABLED=0
export GOPROXY=off GOTOOLCHAIN=local
(cd "$REPO" && $GO build -o "$BUILD/bbolt-gen" ./scripts/bbolt-gen) || die "go build failed"
echo "make-bolt-fixtures.sh: $($GO version); bbolt $(grep -m1 -o 'Version: .*' /usr/share/doc/golang-github-coreos-bbolt-dev/changelog.Debian.gz 2>/dev/null || dpkg-query -W -f '${Version}' golang-github-coreos-bbolt-dev)"

mkdir -p "$OUT"
"$BUILD/bbolt-gen" -out "$OUT"

# bbolt's own consistency check on the etcd fixtures (read-only open).
shopt -s nullglob
dbs=("$REPO"/fixtures/etcd-*/*.db "$REPO"/fixtures/openshift-backup/*.db "$OUT"/*.db)
if [ "${#dbs[@]}" -gt 0 ]; then
  (cd "$REPO" && "$BUILD/bbolt-gen" -check "${dbs[@]#$REPO/}") > "$OUT/bbolt-check.txt" || {
    cat "$OUT/bbolt-check.txt"; die "bbolt tx.Check() reported problems"; }
  cat "$OUT/bbolt-check.txt"
fi
ls -l "$OUT"
