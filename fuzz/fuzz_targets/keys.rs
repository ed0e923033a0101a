//! Fuzzes the key loader: arbitrary bytes as an EncryptionConfiguration
//! (YAML or JSON), as a static_kuberesources tarball, and as key Secrets
//! inside a snapshot, all into one key ring, which then decrypts the input.
//! Any panic, hang or unbounded allocation is a bug.
//!
//!     cd fuzz && cargo +nightly fuzz run keys -- -max_total_time=60

#![no_main]

use etcdsnap::crypt::{Component, EncryptionConfig, KeyRing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ring = KeyRing::new();
    if let Ok(cfg) = EncryptionConfig::parse(data, "fuzz") {
        ring.add_config(&cfg, Component::Unknown, "fuzz");
    }
    if let Ok(t) =
        etcdsnap::crypt::sources::read_tarball_from(data, std::path::Path::new("fuzz.tar.gz"))
    {
        ring.add_tarball(&t);
    }
    // The same bytes as every kind of key Secret the second stage reads.
    let keys: [&[u8]; 3] = [
        b"/kubernetes.io/secrets/openshift-config-managed/encryption-key-openshift-apiserver-1",
        b"/kubernetes.io/secrets/openshift-kube-apiserver/encryption-config-1",
        b"/kubernetes.io/secrets/openshift-config-managed/encryption-config-openshift-oauth-apiserver",
    ];
    let _ = ring.load_from_snapshot(keys.iter().map(|k| (*k, data)));
    for k in keys {
        let _ = ring.decrypt(k, data);
    }
    let _ = ring.summary();
});
