//! The value formats of the API server's encryption providers
//! (docs/encryption.md): prefix parsing, and one cached cipher per key.
//!
//! | provider  | payload after `k8s:enc:<provider>:v1:<name>:`               |
//! |-----------|-------------------------------------------------------------|
//! | aescbc    | IV (16) ‖ AES-CBC ciphertext, PKCS#7; no MAC, no AAD         |
//! | aesgcm    | nonce (12) ‖ ciphertext ‖ tag (16); AAD = the etcd key        |
//! | secretbox | nonce (24) ‖ Poly1305 tag (16) ‖ XSalsa20 ciphertext; no AAD  |
//! | kms v1/v2 | wrapped data key + data: needs the external KMS               |
//!
//! identity has no prefix: the value is stored as it is.

use std::fmt;

use aes_gcm::aead::AeadInPlace;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, InnerIvInit};
use serde::Serialize;

use crate::wire::{Fields, Value};

/// The prefix every encrypted value starts with; identity refuses such values.
pub(crate) const ENC_PREFIX: &[u8] = b"k8s:enc:";

/// An encryption provider type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    AesCbc,
    AesGcm,
    Secretbox,
    Identity,
    #[serde(rename = "kms-v1")]
    KmsV1,
    #[serde(rename = "kms-v2")]
    KmsV2,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::AesCbc => "aescbc",
            ProviderKind::AesGcm => "aesgcm",
            ProviderKind::Secretbox => "secretbox",
            ProviderKind::Identity => "identity",
            ProviderKind::KmsV1 => "kms v1",
            ProviderKind::KmsV2 => "kms v2",
        }
    }

    /// The value prefix before the key (or provider) name.
    pub(crate) fn value_prefix(self) -> &'static [u8] {
        match self {
            ProviderKind::AesCbc => b"k8s:enc:aescbc:v1:",
            ProviderKind::AesGcm => b"k8s:enc:aesgcm:v1:",
            ProviderKind::Secretbox => b"k8s:enc:secretbox:v1:",
            ProviderKind::Identity => b"",
            ProviderKind::KmsV1 => b"k8s:enc:kms:v1:",
            ProviderKind::KmsV2 => b"k8s:enc:kms:v2:",
        }
    }

    /// Whether values of this provider can be decrypted with key bytes alone.
    pub(crate) fn offline(self) -> bool {
        matches!(
            self,
            ProviderKind::AesCbc | ProviderKind::AesGcm | ProviderKind::Secretbox
        )
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const ENCRYPTED: [ProviderKind; 5] = [
    ProviderKind::AesCbc,
    ProviderKind::AesGcm,
    ProviderKind::Secretbox,
    ProviderKind::KmsV1,
    ProviderKind::KmsV2,
];

/// A value's provider, and what follows the provider prefix
/// (`<name>:<payload>`). `None` for a value that is not encrypted.
/// `Some(Err(..))` for a `k8s:enc:` value of no known provider.
pub(crate) fn split_provider(value: &[u8]) -> Option<Result<(ProviderKind, &[u8]), ()>> {
    if !value.starts_with(ENC_PREFIX) {
        return None;
    }
    for kind in ENCRYPTED {
        if let Some(rest) = value.strip_prefix(kind.value_prefix()) {
            return Some(Ok((kind, rest)));
        }
    }
    Some(Err(()))
}

/// If `rest` (what follows the provider prefix) starts with `name:`, the
/// payload after it. Names are matched as byte prefixes, never split on `:`
/// (names may contain `:`).
#[inline]
pub(crate) fn strip_name<'v>(rest: &'v [u8], name: &[u8]) -> Option<&'v [u8]> {
    let after = rest.strip_prefix(name)?;
    after.strip_prefix(b":")
}

/// A best guess at the key name for messages when no configured name
/// matches: everything up to the first `:`.
pub(crate) fn guess_name(rest: &[u8]) -> String {
    let end = rest
        .iter()
        .position(|&b| b == b':')
        .unwrap_or(rest.len().min(64));
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

/// Whether decrypted bytes look like a value the API server writes
/// (docs/encryption.md): the protobuf envelope `k8s\0`, JSON (`{`
/// after optional whitespace) or self-described CBOR.
#[inline]
pub(crate) fn is_known_encoding(plain: &[u8]) -> bool {
    if plain.starts_with(b"k8s\0") || plain.starts_with(&[0xD9, 0xD9, 0xF7]) {
        return true;
    }
    plain
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .is_some_and(|&b| b == b'{')
}

/// The `keyID` (field 2) of a KMS v2 `EncryptedObject` payload.
pub(crate) fn kms_v2_key_id(payload: &[u8]) -> Option<String> {
    for f in Fields::new(payload) {
        match f {
            Ok((2, Value::Bytes(b))) => return Some(String::from_utf8_lossy(b).into_owned()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Key bytes. Debug and Display never show them.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBytes(Vec<u8>);

impl KeyBytes {
    pub fn new(bytes: Vec<u8>) -> KeyBytes {
        KeyBytes(bytes)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// OpenShift's stand-in for identity and KMS keys: 16 zero bytes
    /// (docs/openshift.md). Never used to encrypt.
    pub(crate) fn is_placeholder(&self) -> bool {
        self.0.len() == 16 && self.0.iter().all(|&b| b == 0)
    }

    /// The raw bytes, for building a cipher. Do not print.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyBytes(<{} bytes redacted>)", self.0.len())
    }
}

impl fmt::Display for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes redacted>", self.0.len())
    }
}

/// Why a trial decryption failed (the key ring adds the context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The payload is too short, or not whole blocks; `need` says what.
    Truncated {
        len: usize,
        need: &'static str,
    },
    BadPadding,
    TagMismatch,
}

type Aes192Gcm = aes_gcm::AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

/// A ready cipher for one key (the key schedule is computed once).
#[derive(Clone)]
pub(crate) enum Cipher {
    Cbc128(aes::Aes128),
    Cbc192(aes::Aes192),
    Cbc256(aes::Aes256),
    Gcm128(Box<aes_gcm::Aes128Gcm>),
    Gcm192(Box<Aes192Gcm>),
    Gcm256(Box<aes_gcm::Aes256Gcm>),
    Secretbox(Box<crypto_secretbox::XSalsa20Poly1305>),
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Cipher::Cbc128(_) => "aescbc-128",
            Cipher::Cbc192(_) => "aescbc-192",
            Cipher::Cbc256(_) => "aescbc-256",
            Cipher::Gcm128(_) => "aesgcm-128",
            Cipher::Gcm192(_) => "aesgcm-192",
            Cipher::Gcm256(_) => "aesgcm-256",
            Cipher::Secretbox(_) => "secretbox",
        };
        write!(f, "Cipher({s}, key redacted)")
    }
}

/// Why a key cannot make a cipher: lengths only, never the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("{kind} key is {len} bytes; {kind} needs {want} bytes")]
    BadLength {
        kind: ProviderKind,
        len: usize,
        want: &'static str,
    },
    #[error("{0} has no key to decrypt with")]
    NoKey(ProviderKind),
}

const CBC_IV: usize = 16;
const GCM_NONCE: usize = 12;
const TAG: usize = 16;
const SB_NONCE: usize = 24;

impl Cipher {
    /// Builds the cipher; the error says which lengths are allowed (never
    /// the bytes).
    pub(crate) fn new(kind: ProviderKind, key: &KeyBytes) -> Result<Cipher, KeyError> {
        use cbc::cipher::KeyInit as _;
        let k = key.expose();
        let bad = |want: &'static str| KeyError::BadLength {
            kind,
            len: k.len(),
            want,
        };
        Ok(match (kind, k.len()) {
            (ProviderKind::AesCbc, 16) => Cipher::Cbc128(aes::Aes128::new(k.into())),
            (ProviderKind::AesCbc, 24) => Cipher::Cbc192(aes::Aes192::new(k.into())),
            (ProviderKind::AesCbc, 32) => Cipher::Cbc256(aes::Aes256::new(k.into())),
            (ProviderKind::AesGcm, 16) => {
                Cipher::Gcm128(Box::new(aes_gcm::Aes128Gcm::new(k.into())))
            }
            (ProviderKind::AesGcm, 24) => Cipher::Gcm192(Box::new(Aes192Gcm::new(k.into()))),
            (ProviderKind::AesGcm, 32) => {
                Cipher::Gcm256(Box::new(aes_gcm::Aes256Gcm::new(k.into())))
            }
            (ProviderKind::Secretbox, 32) => {
                Cipher::Secretbox(Box::new(crypto_secretbox::XSalsa20Poly1305::new(k.into())))
            }
            (ProviderKind::AesCbc | ProviderKind::AesGcm, _) => return Err(bad("16, 24 or 32")),
            (ProviderKind::Secretbox, _) => return Err(bad("32")),
            (other, _) => return Err(KeyError::NoKey(other)),
        })
    }

    /// Decrypts `payload` (what follows `<name>:`) into `out`, which is
    /// cleared first. `aad` is the etcd key (used by GCM only).
    pub(crate) fn decrypt_into(
        &self,
        payload: &[u8],
        aad: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        out.clear();
        match self {
            Cipher::Cbc128(c) => cbc_decrypt(c, payload, out),
            Cipher::Cbc192(c) => cbc_decrypt(c, payload, out),
            Cipher::Cbc256(c) => cbc_decrypt(c, payload, out),
            Cipher::Gcm128(c) => aead_decrypt(&**c, GCM_NONCE, true, payload, aad, out),
            Cipher::Gcm192(c) => aead_decrypt(&**c, GCM_NONCE, true, payload, aad, out),
            Cipher::Gcm256(c) => aead_decrypt(&**c, GCM_NONCE, true, payload, aad, out),
            Cipher::Secretbox(c) => aead_decrypt(&**c, SB_NONCE, false, payload, b"", out),
        }
    }
}

fn cbc_decrypt<C>(c: &C, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Failure>
where
    C: cbc::cipher::BlockDecrypt + cbc::cipher::BlockCipher + Clone,
    C: cbc::cipher::BlockSizeUser<BlockSize = cbc::cipher::consts::U16>,
{
    let need = "a 16-byte IV and one or more whole 16-byte blocks";
    if payload.len() < CBC_IV + 16 || !(payload.len() - CBC_IV).is_multiple_of(16) {
        return Err(Failure::Truncated {
            len: payload.len(),
            need,
        });
    }
    let (iv, ct) = payload.split_at(CBC_IV);
    out.extend_from_slice(ct);
    let dec = cbc::Decryptor::<C>::inner_iv_init(c.clone(), iv.into());
    dec.decrypt_padded_mut::<NoPadding>(out)
        .map_err(|_| Failure::Truncated {
            len: payload.len(),
            need,
        })?;
    // PKCS#7 as upstream checks it: 1 <= n <= len, last n bytes all n.
    let n = out.last().copied().unwrap_or(0) as usize;
    if n == 0 || n > out.len() || out[out.len() - n..].iter().any(|&b| b as usize != n) {
        out.clear();
        return Err(Failure::BadPadding);
    }
    out.truncate(out.len() - n);
    Ok(())
}

/// nonce ‖ ciphertext ‖ tag (GCM) or nonce ‖ tag ‖ ciphertext (NaCl
/// secretbox: the tag comes first). Decrypted with the detached-tag API so
/// the order is ours, not the crate's.
fn aead_decrypt<A: AeadInPlace>(
    a: &A,
    nonce_len: usize,
    tag_last: bool,
    payload: &[u8],
    aad: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Failure> {
    if payload.len() < nonce_len + TAG {
        return Err(Failure::Truncated {
            len: payload.len(),
            need: if tag_last {
                "a 12-byte nonce and a 16-byte tag at least"
            } else {
                "a 24-byte nonce and a 16-byte tag at least"
            },
        });
    }
    let (nonce, rest) = payload.split_at(nonce_len);
    let (ct, tag) = if tag_last {
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        (ct, tag)
    } else {
        let (tag, ct) = rest.split_at(TAG);
        (ct, tag)
    };
    out.extend_from_slice(ct);
    let r = a.decrypt_in_place_detached(
        aes_gcm::aead::generic_array::GenericArray::from_slice(nonce),
        aad,
        out,
        aes_gcm::aead::generic_array::GenericArray::from_slice(tag),
    );
    if r.is_err() {
        out.clear();
        return Err(Failure::TagMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let v = b"k8s:enc:aescbc:v1:a:b:payload";
        let (k, rest) = split_provider(v).unwrap().unwrap();
        assert_eq!(k, ProviderKind::AesCbc);
        // A name with ':' matches as a byte prefix.
        assert_eq!(strip_name(rest, b"a:b"), Some(&b"payload"[..]));
        assert_eq!(strip_name(rest, b"a"), Some(&b"b:payload"[..]));
        assert_eq!(strip_name(rest, b"ab"), None);
        assert_eq!(guess_name(rest), "a");
        assert!(split_provider(b"k8s\0...").is_none());
        assert!(split_provider(b"k8s:enc:rot13:v1:x:").unwrap().is_err());
        assert_eq!(
            split_provider(b"k8s:enc:kms:v2:1_secrets:xx")
                .unwrap()
                .unwrap()
                .0,
            ProviderKind::KmsV2
        );
    }

    #[test]
    fn encodings() {
        assert!(is_known_encoding(b"k8s\0\x0a"));
        assert!(is_known_encoding(b" \n\t{\"a\":1}"));
        assert!(is_known_encoding(&[0xD9, 0xD9, 0xF7, 0xA0]));
        assert!(!is_known_encoding(b"k8s\x01"));
        assert!(!is_known_encoding(b"  "));
        assert!(!is_known_encoding(b"apiVersion: v1"));
    }

    #[test]
    fn key_bytes_are_redacted() {
        let k = KeyBytes::new(vec![0x41; 32]);
        assert_eq!(format!("{k:?}"), "KeyBytes(<32 bytes redacted>)");
        assert_eq!(format!("{k}"), "<32 bytes redacted>");
        let c = Cipher::new(ProviderKind::AesCbc, &k).unwrap();
        assert!(!format!("{c:?}").contains("AAAA"));
        assert!(KeyBytes::new(vec![0; 16]).is_placeholder());
        assert!(!KeyBytes::new(vec![0; 32]).is_placeholder());
    }

    #[test]
    fn key_lengths() {
        for (kind, ok) in [
            (ProviderKind::AesCbc, &[16usize, 24, 32][..]),
            (ProviderKind::AesGcm, &[16, 24, 32]),
            (ProviderKind::Secretbox, &[32]),
        ] {
            for len in [0usize, 15, 16, 24, 31, 32, 33] {
                let r = Cipher::new(kind, &KeyBytes::new(vec![7; len]));
                assert_eq!(r.is_ok(), ok.contains(&len), "{kind} {len}");
                if let Err(e) = r {
                    assert!(matches!(e, KeyError::BadLength { len: l, .. } if l == len));
                }
            }
        }
    }

    #[test]
    fn short_payloads_are_truncated_not_panics() {
        let k = KeyBytes::new(vec![1; 32]);
        let mut out = Vec::new();
        for kind in [
            ProviderKind::AesCbc,
            ProviderKind::AesGcm,
            ProviderKind::Secretbox,
        ] {
            let c = Cipher::new(kind, &k).unwrap();
            for len in [0usize, 1, 15, 16, 17, 27, 31, 39, 47] {
                let p = vec![9u8; len];
                match c.decrypt_into(&p, b"/k", &mut out) {
                    Ok(()) => panic!("{kind} {len} decrypted garbage"),
                    Err(Failure::Truncated { .. }) => {}
                    Err(_) => assert!(len >= 28, "{kind} {len}"),
                }
            }
        }
    }
}
