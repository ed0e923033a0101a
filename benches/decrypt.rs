//! What decryption costs next to decoding: 2000 protobuf Secrets of ~2 KB,
//! encrypted with each provider, decrypted with `KeyRing::decrypt_into`
//! (one reused buffer), against a walk of every protobuf field of the same
//! plaintexts (a floor for any decoder: the real one renders JSON on top).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etcdsnap::crypt::{Component, KeyBytes, KeyRing, ProviderKind};
use etcdsnap::wire::{Fields, Value};

/// A ~2 KB Secret as the API server stores it (the kube encoder's bytes).
fn secret(i: usize) -> Vec<u8> {
    let value: String = std::iter::repeat_n(char::from(b'a' + (i % 26) as u8), 480).collect();
    let data: serde_json::Map<String, serde_json::Value> = (0..4)
        .map(|k| {
            let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &value);
            (format!("key-{k}"), serde_json::Value::String(b64))
        })
        .collect();
    let obj = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": format!("secret-{i}"), "namespace": "default",
                     "uid": "0b7d1a3c-0000-4000-8000-000000000000"},
        "data": data,
    });
    etcdsnap::kube::encode::encode_object(&obj).expect("encode a bench Secret")
}

/// Visits every field, descending into every length-delimited one that
/// parses as a message.
fn walk(b: &[u8], depth: u32) -> u64 {
    let mut n = 0u64;
    for f in Fields::new(b) {
        match f {
            Ok((_, Value::Bytes(inner))) => {
                n += inner.len() as u64;
                if depth < 3 {
                    n += walk(inner, depth + 1);
                }
            }
            Ok((_, _)) => n += 1,
            Err(_) => break,
        }
    }
    n
}

const KEY: [u8; 32] = [0x5a; 32];

fn encrypt(kind: ProviderKind, etcd_key: &[u8], plain: &[u8]) -> Vec<u8> {
    match kind {
        ProviderKind::AesCbc => {
            let iv = [1u8; 16];
            let mut buf = vec![0u8; plain.len() + 16];
            buf[..plain.len()].copy_from_slice(plain);
            let ct = cbc::Encryptor::<aes::Aes256>::new(&KEY.into(), &iv.into())
                .encrypt_padded_mut::<Pkcs7>(&mut buf, plain.len())
                .unwrap()
                .to_vec();
            [b"k8s:enc:aescbc:v1:1:".as_slice(), &iv, &ct].concat()
        }
        ProviderKind::AesGcm => {
            let nonce = [2u8; 12];
            let mut buf = plain.to_vec();
            let tag = aes_gcm::Aes256Gcm::new(&KEY.into())
                .encrypt_in_place_detached(&nonce.into(), etcd_key, &mut buf)
                .unwrap();
            [b"k8s:enc:aesgcm:v1:2:".as_slice(), &nonce, &buf, &tag].concat()
        }
        _ => {
            let nonce = [3u8; 24];
            let mut buf = plain.to_vec();
            let tag = crypto_secretbox::XSalsa20Poly1305::new(&KEY.into())
                .encrypt_in_place_detached(&nonce.into(), b"", &mut buf)
                .unwrap();
            [b"k8s:enc:secretbox:v1:3:".as_slice(), &nonce, &tag, &buf].concat()
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut ring = KeyRing::new();
    let res = vec!["secrets".to_string()];
    for (kind, name) in [
        (ProviderKind::AesCbc, "1"),
        (ProviderKind::AesGcm, "2"),
        (ProviderKind::Secretbox, "3"),
    ] {
        ring.add_key(
            Component::KubeApiserver,
            kind,
            name,
            KeyBytes::new(KEY.to_vec()),
            &res,
            "bench",
            false,
        );
    }
    let keys: Vec<Vec<u8>> = (0..2000)
        .map(|i| format!("/kubernetes.io/secrets/default/secret-{i}").into_bytes())
        .collect();
    let plains: Vec<Vec<u8>> = (0..2000).map(secret).collect();
    let bytes: u64 = plains.iter().map(|p| p.len() as u64).sum();
    let mut g = c.benchmark_group("decrypt-2000-secrets");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("protobuf field walk (decode floor)", |b| {
        b.iter(|| plains.iter().map(|p| walk(&p[4..], 0)).sum::<u64>())
    });
    for kind in [
        ProviderKind::AesCbc,
        ProviderKind::AesGcm,
        ProviderKind::Secretbox,
    ] {
        let values: Vec<Vec<u8>> = keys
            .iter()
            .zip(&plains)
            .map(|(k, p)| encrypt(kind, k, p))
            .collect();
        let mut out = Vec::new();
        g.bench_function(format!("decrypt_into {kind}"), |b| {
            b.iter(|| {
                let mut n = 0usize;
                for (k, v) in keys.iter().zip(&values) {
                    ring.decrypt_into(k, v, &mut out).unwrap();
                    n += out.len();
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
