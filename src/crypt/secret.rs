//! The parts of a core/v1 Secret the key loader needs (OpenShift's key and
//! config Secrets inside the snapshot, docs/openshift.md), read through the
//! `kube` decoder.

use base64::Engine as _;

/// The parts of a Secret the key loader reads.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct SecretObject {
    pub name: String,
    pub namespace: String,
    pub annotations: Vec<(String, String)>,
    pub data: Vec<(String, Vec<u8>)>,
    pub type_: String,
}

impl std::fmt::Debug for SecretObject {
    /// Data values are never shown (they are key material).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretObject")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("annotations", &self.annotations)
            .field(
                "data",
                &self
                    .data
                    .iter()
                    .map(|(k, v)| format!("{k}: <{} bytes>", v.len()))
                    .collect::<Vec<_>>(),
            )
            .field("type", &self.type_)
            .finish()
    }
}

impl SecretObject {
    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn data(&self, key: &str) -> Option<&[u8]> {
        self.data
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
}

/// Why a decrypted value is not a usable Secret (the caller names the key).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretError {
    #[error(transparent)]
    Decode(#[from] crate::kube::KubeError),
    #[error("kind is {0:?}, not Secret")]
    NotSecret(String),
    #[error("data[{0:?}] is not base64")]
    NotBase64(String),
}

/// Decodes a stored Secret (plaintext: protobuf envelope, JSON or CBOR)
/// with the `kube` decoder.
pub(crate) fn decode_secret(plain: &[u8]) -> Result<SecretObject, SecretError> {
    let j = crate::kube::decode_value(b"", plain)?;
    if j.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
        return Err(SecretError::NotSecret(
            j.get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or("")
                .to_string(),
        ));
    }
    let str_of =
        |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).unwrap_or("").to_string();
    let meta = j.get("metadata");
    let mut out = SecretObject {
        name: str_of(meta.and_then(|m| m.get("name"))),
        namespace: str_of(meta.and_then(|m| m.get("namespace"))),
        type_: str_of(j.get("type")),
        ..Default::default()
    };
    if let Some(a) = meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.as_object())
    {
        for (k, v) in a {
            out.annotations.push((k.clone(), str_of(Some(v))));
        }
    }
    if let Some(d) = j.get("data").and_then(|d| d.as_object()) {
        for (k, v) in d {
            let b = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or(""))
                .map_err(|_| SecretError::NotBase64(k.clone()))?;
            out.data.push((k.clone(), b));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::put_bytes_field as fld;

    /// A Secret as the API server stores it (the kube encoder's bytes).
    fn secret_proto(ns: &str, name: &str, ann: &[(&str, &str)], data: &[(&str, &[u8])]) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
        let obj = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {
                "name": name, "namespace": ns,
                "annotations": ann.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
            },
            "data": data.iter().map(|(k, v)| (k.to_string(), serde_json::json!(b64(v)))).collect::<serde_json::Map<_, _>>(),
        });
        crate::kube::encode::encode_object(&obj).expect("encode a test Secret")
    }

    #[test]
    fn protobuf_and_json() {
        let p = secret_proto("ns", "n", &[("a/mode", "aescbc")], &[("k", &[1, 2, 3])]);
        let s = decode_secret(&p).unwrap();
        assert_eq!((s.name.as_str(), s.namespace.as_str()), ("n", "ns"));
        assert_eq!(s.annotation("a/mode"), Some("aescbc"));
        assert_eq!(s.data("k"), Some(&[1u8, 2, 3][..]));
        assert!(!format!("{s:?}").contains("[1, 2, 3]"));
        let j = br#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"n","namespace":"ns","annotations":{"x":"y"}},"data":{"k":"AQID"}}"#;
        let s = decode_secret(j).unwrap();
        assert_eq!(s.data("k"), Some(&[1u8, 2, 3][..]));
        assert_eq!(s.annotation("x"), Some("y"));
    }

    #[test]
    fn not_secrets() {
        assert!(decode_secret(b"garbage").is_err());
        assert!(decode_secret(b"k8s\0\x0a\xff").is_err());
        let mut cm = b"k8s\0".to_vec();
        let mut tm = Vec::new();
        fld(&mut tm, 1, b"v1");
        fld(&mut tm, 2, b"ConfigMap");
        fld(&mut cm, 1, &tm);
        assert!(matches!(
            decode_secret(&cm),
            Err(SecretError::NotSecret(k)) if k == "ConfigMap"
        ));
    }
}
