//! Detecting the encoding of a stored value (docs/kubernetes.md).

/// The encryption provider named in a `k8s:enc:` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    AesCbc,
    AesGcm,
    Secretbox,
    KmsV1,
    KmsV2,
    /// A provider this tool does not know (shown as written).
    Other,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::AesCbc => "aescbc",
            Provider::AesGcm => "aesgcm",
            Provider::Secretbox => "secretbox",
            Provider::KmsV1 => "kms:v1",
            Provider::KmsV2 => "kms:v2",
            Provider::Other => "unknown",
        }
    }
}

/// The encoding of one stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding<'a> {
    /// `k8s:enc:<provider>:<version>:<key name>:<payload>`.
    Encrypted(Encrypted<'a>),
    /// `k8s\0` + runtime.Unknown.
    Protobuf,
    /// Self-described CBOR (`D9 D9 F7`).
    Cbor,
    /// `{` after optional whitespace.
    Json,
    /// An ASCII decimal number (the `compact_rev_key` value).
    Decimal(u64),
    /// Legacy base64-wrapped protobuf (`azhzA` = base64 of `k8s\0`).
    Base64Protobuf,
    /// UTF-8 text that looks like a YAML mapping.
    Yaml,
    /// Anything else.
    Unknown,
}

/// The parts of an encrypted value's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encrypted<'a> {
    pub provider: Provider,
    /// The provider text as written (`aescbc`, `kms`, …).
    pub provider_name: &'a [u8],
    /// `v1` or `v2`.
    pub version: &'a [u8],
    /// Everything after `k8s:enc:<provider>:<version>:`; starts with
    /// `<key name>:`. Key names other than KMS v2 may contain `:`, so the
    /// authoritative split is by matching configured names against this.
    pub rest: &'a [u8],
    /// Best guess at the key name: `rest` up to the first `:`.
    pub key_name: &'a [u8],
    /// Best guess at the payload: after `key_name` and its `:`.
    pub payload: &'a [u8],
}

impl Encrypted<'_> {
    /// The key name as text (lossy).
    pub fn key_name_str(&self) -> String {
        String::from_utf8_lossy(self.key_name).into_owned()
    }
}

fn split_colon(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|&c| c == b':')?;
    Some((&b[..i], &b[i + 1..]))
}

fn parse_encrypted(v: &[u8]) -> Option<Encrypted<'_>> {
    let rest = v.strip_prefix(b"k8s:enc:")?;
    let (prov, rest) = split_colon(rest)?;
    let (version, rest) = split_colon(rest)?;
    let provider = match (prov, version) {
        (b"aescbc", b"v1") => Provider::AesCbc,
        (b"aesgcm", b"v1") => Provider::AesGcm,
        (b"secretbox", b"v1") => Provider::Secretbox,
        (b"kms", b"v1") => Provider::KmsV1,
        (b"kms", b"v2") => Provider::KmsV2,
        _ => Provider::Other,
    };
    let (key_name, payload) = split_colon(rest).unwrap_or((rest, &[]));
    Some(Encrypted {
        provider,
        provider_name: prov,
        version,
        rest,
        key_name,
        payload,
    })
}

/// Detects the encoding of a stored value, in the order of docs/kubernetes.md.
pub fn detect(v: &[u8]) -> Encoding<'_> {
    if v.starts_with(b"k8s:enc:") {
        return match parse_encrypted(v) {
            Some(e) => Encoding::Encrypted(e),
            None => Encoding::Unknown,
        };
    }
    if v.starts_with(b"k8s\0") {
        return Encoding::Protobuf;
    }
    if v.starts_with(&[0xd9, 0xd9, 0xf7]) {
        return Encoding::Cbor;
    }
    let t = v.trim_ascii_start();
    if t.first() == Some(&b'{') {
        return Encoding::Json;
    }
    let tt = t.trim_ascii_end();
    if !tt.is_empty() && tt.len() <= 20 && tt.iter().all(u8::is_ascii_digit) {
        if let Some(n) = std::str::from_utf8(tt).ok().and_then(|s| s.parse().ok()) {
            return Encoding::Decimal(n);
        }
    }
    if v.starts_with(b"azhzA") {
        return Encoding::Base64Protobuf;
    }
    if looks_like_yaml(v) {
        return Encoding::Yaml;
    }
    Encoding::Unknown
}

/// UTF-8 text with a top-level `key: value` (or `key:` line) in it.
fn looks_like_yaml(v: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    s.lines().any(|l| {
        let l = l.trim_end();
        if l.starts_with([' ', '\t', '#', '-']) || l.is_empty() {
            return false;
        }
        match l.find(':') {
            Some(i) => {
                i > 0
                    && (l.len() == i + 1 || l.as_bytes()[i + 1] == b' ')
                    && !l[..i].contains(char::is_control)
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(detect(b"k8s\0\x0a\x00"), Encoding::Protobuf);
        assert_eq!(detect(b"\xd9\xd9\xf7\xa0"), Encoding::Cbor);
        assert_eq!(detect(b"  \n{\"a\":1}"), Encoding::Json);
        assert_eq!(detect(b"77"), Encoding::Decimal(77));
        assert_eq!(detect(b"apiVersion: v1\nkind: Pod\n"), Encoding::Yaml);
        assert_eq!(detect(b"azhzAAoPCgJ2MQ=="), Encoding::Base64Protobuf);
        assert_eq!(detect(b"\x00\x01\x02"), Encoding::Unknown);
        assert_eq!(detect(b"[1,2]"), Encoding::Unknown);
    }

    #[test]
    fn encrypted_prefixes() {
        let Encoding::Encrypted(e) = detect(b"k8s:enc:aescbc:v1:3:\x01\x02") else {
            panic!()
        };
        assert_eq!(e.provider, Provider::AesCbc);
        assert_eq!(e.key_name, b"3");
        assert_eq!(e.payload, b"\x01\x02");
        let Encoding::Encrypted(e) = detect(b"k8s:enc:kms:v2:12_secrets:xyz") else {
            panic!()
        };
        assert_eq!(e.provider, Provider::KmsV2);
        assert_eq!(e.key_name_str(), "12_secrets");
        let Encoding::Encrypted(e) = detect(b"k8s:enc:kms:v1:vault:\0\x02ab") else {
            panic!()
        };
        assert_eq!(e.provider, Provider::KmsV1);
        assert_eq!(e.rest, b"vault:\0\x02ab");
        let Encoding::Encrypted(e) = detect(b"k8s:enc:aesgcm:v1:key:1:zz") else {
            panic!()
        };
        assert_eq!(e.provider, Provider::AesGcm);
        assert_eq!(e.rest, b"key:1:zz");
        let Encoding::Encrypted(e) = detect(b"k8s:enc:secretbox:v1:k:") else {
            panic!()
        };
        assert_eq!(e.provider, Provider::Secretbox);
        assert_eq!(e.payload, b"");
        assert!(matches!(
            detect(b"k8s:enc:rot13:v9:k:x"),
            Encoding::Encrypted(Encrypted {
                provider: Provider::Other,
                ..
            })
        ));
    }
}
