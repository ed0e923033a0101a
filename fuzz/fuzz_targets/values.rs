//! Fuzzes the value decoders: arbitrary bytes as a stored value through
//! encoding detection, the protobuf/JSON/CBOR/YAML decoders, the streaming
//! JSON writer (with its expansion limit) and redaction. Any panic, hang
//! or unbounded allocation is a bug.
//!
//!     cd fuzz && cargo +nightly fuzz run values -- -max_total_time=60

#![no_main]

use etcdsnap::kube::render::{write_value_rv, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = b"/registry/secrets/ns/name";
    let _ = etcdsnap::kube::detect(data);
    if let Ok(mut v) = etcdsnap::kube::decode_value(key, data) {
        etcdsnap::redact::Redaction::new(true, false).apply(key, &mut v);
        let _ = serde_json::to_vec(&v);
    }
    let mut out = Vec::new();
    if write_value_rv(data, Some(7), &mut out, Style::PRETTY).is_ok() {
        // What the writer produces is JSON.
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }
    // Protobuf bodies without the envelope, too.
    let mut framed = b"k8s\0\x0a\x0a\x0a\x02v1\x12\x04Pod\x12".to_vec();
    if data.len() < 1 << 20 {
        let mut n = data.len();
        while n >= 0x80 {
            framed.push((n as u8) | 0x80);
            n >>= 7;
        }
        framed.push(n as u8);
        framed.extend_from_slice(data);
        let _ = etcdsnap::kube::decode_value(b"/registry/pods/ns/p", &framed);
    }
});
