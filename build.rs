//! Generates the etcd protobuf types from `proto/etcd/*.proto` with prost.
//! The .proto files are parsed by protox (pure Rust), so no system `protoc`
//! is needed.

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
    let fds = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
