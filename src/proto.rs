//! etcd's protobuf messages, generated at build time from `proto/etcd/`.
//!
//! gogoproto "always emitted" proto2 fields are `optional` here: set them to
//! `Some(0)` to write them as etcd does (see `proto/etcd/raftpb.proto`).

#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod raftpb {
    include!(concat!(env!("OUT_DIR"), "/raftpb.rs"));
}
pub mod walpb {
    include!(concat!(env!("OUT_DIR"), "/walpb.rs"));
}
pub mod snappb {
    include!(concat!(env!("OUT_DIR"), "/snappb.rs"));
}
pub mod etcdserverpb {
    include!(concat!(env!("OUT_DIR"), "/etcdserverpb.rs"));
}
pub mod mvccpb {
    include!(concat!(env!("OUT_DIR"), "/mvccpb.rs"));
}
pub mod leasepb {
    include!(concat!(env!("OUT_DIR"), "/leasepb.rs"));
}
pub mod authpb {
    include!(concat!(env!("OUT_DIR"), "/authpb.rs"));
}
