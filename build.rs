//! Generates the etcd protobuf types from `proto/etcd/*.proto` with prost.
//! The .proto files are parsed by protox (pure Rust), so no system `protoc`
//! is needed. Also names the commit for `--version` (`ETCDSNAP_VERSION`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "etcd/raftpb.proto",
        "etcd/walpb.proto",
        "etcd/snappb.proto",
        "etcd/etcdserverpb.proto",
        "etcd/raft_internal.proto",
        "etcd/mvccpb.proto",
        "etcd/leasepb.proto",
        "etcd/authpb.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build.rs");
    version();
    let fds = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}

/// Runs git in the crate dir; `None` when git or the checkout is missing.
fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `ETCDSNAP_VERSION`: the package version and the commit it was built
/// from, `+dirty` when the work tree had changes. A packager outside git
/// sets `ETCDSNAP_BUILD_COMMIT`; otherwise the commit is "unknown".
fn version() {
    println!("cargo:rerun-if-env-changed=ETCDSNAP_BUILD_COMMIT");
    let pkg = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let commit = match std::env::var("ETCDSNAP_BUILD_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => match git(&["rev-parse", "--short=12", "HEAD"]) {
            Some(c) => {
                // Rebuild when HEAD moves or the branch it names does.
                for p in ["HEAD", "index"] {
                    if let Some(path) = git(&["rev-parse", "--git-path", p]) {
                        println!("cargo:rerun-if-changed={path}");
                    }
                }
                if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
                    if let Some(path) = git(&["rev-parse", "--git-path", &r]) {
                        println!("cargo:rerun-if-changed={path}");
                    }
                }
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{c}+dirty")
                } else {
                    c
                }
            }
            None => "unknown".to_string(),
        },
    };
    println!("cargo:rustc-env=ETCDSNAP_VERSION={pkg} (commit {commit})");
}
