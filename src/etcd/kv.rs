//! `mvccpb.KeyValue`, decoded zero-copy from a `key`-bucket value.

use crate::wire::{expect_bytes, expect_varint, Fields, WireError};

/// mvccpb.KeyValue{key=1, create_revision=2, mod_revision=3, version=4,
/// value=5, lease=6}. Slices borrow the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyValue<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: &'a [u8],
    pub lease: i64,
}

impl<'a> KeyValue<'a> {
    /// Decodes a KeyValue. Unknown fields are skipped (as protobuf does);
    /// a known field with the wrong wire type is an error.
    pub fn decode(buf: &'a [u8]) -> Result<KeyValue<'a>, WireError> {
        let mut kv = KeyValue::default();
        for f in Fields::new(buf) {
            let (field, v) = f?;
            match field {
                1 => kv.key = expect_bytes(field, v)?,
                2 => kv.create_revision = expect_varint(field, v)? as i64,
                3 => kv.mod_revision = expect_varint(field, v)? as i64,
                4 => kv.version = expect_varint(field, v)? as i64,
                5 => kv.value = expect_bytes(field, v)?,
                6 => kv.lease = expect_varint(field, v)? as i64,
                _ => {}
            }
        }
        Ok(kv)
    }

    /// Encodes as etcd does (proto3: zero fields omitted).
    pub(crate) fn encode(&self) -> Vec<u8> {
        use crate::wire::put_varint;
        let mut out = Vec::with_capacity(self.key.len() + self.value.len() + 32);
        let bytes = |out: &mut Vec<u8>, tag: u8, b: &[u8]| {
            if !b.is_empty() {
                out.push(tag);
                put_varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
        };
        bytes(&mut out, 0x0a, self.key);
        for (tag, v) in [
            (0x10u8, self.create_revision),
            (0x18, self.mod_revision),
            (0x20, self.version),
        ] {
            if v != 0 {
                out.push(tag);
                put_varint(&mut out, v as u64);
            }
        }
        bytes(&mut out, 0x2a, self.value);
        if self.lease != 0 {
            out.push(0x30);
            put_varint(&mut out, self.lease as u64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let kv = KeyValue {
            key: b"/registry/pods/default/a",
            create_revision: 5,
            mod_revision: 9,
            version: 3,
            value: b"k8s\0xyz",
            lease: 7587,
        };
        let b = kv.encode();
        assert_eq!(KeyValue::decode(&b).unwrap(), kv);
    }

    #[test]
    fn wrong_wire_type() {
        // field 2 as bytes
        let b = [0x12, 0x01, 0x00];
        assert!(KeyValue::decode(&b).is_err());
    }
}
