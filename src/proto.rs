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

#[cfg(test)]
mod tests {
    use prost::Message;

    /// The hand-written zero-copy KeyValue codec agrees with prost's.
    #[test]
    fn keyvalue_codec_agrees_with_prost() {
        let cases = [
            (b"/a".to_vec(), 5i64, 7i64, 2i64, b"v".to_vec(), 0i64),
            (b"/registry/x".to_vec(), 1, 1, 1, vec![0u8; 300], 7587),
            (b"k".to_vec(), 0, 0, 0, Vec::new(), 0),
        ];
        for (key, c, m, v, value, lease) in cases {
            let ours = crate::etcd::KeyValue {
                key: &key,
                create_revision: c,
                mod_revision: m,
                version: v,
                value: &value,
                lease,
            };
            let p = super::mvccpb::KeyValue {
                key: key.clone(),
                create_revision: c,
                mod_revision: m,
                version: v,
                value: value.clone(),
                lease,
            };
            assert_eq!(ours.encode(), p.encode_to_vec());
            let back = super::mvccpb::KeyValue::decode(&ours.encode()[..]).unwrap();
            assert_eq!(back, p);
        }
    }
}
