//! Cluster members as etcd stores them in the `members` bucket (JSON).

use serde::{Deserialize, Serialize};

/// Member JSON: `{"id":…,"peerURLs":[…],"isLearner":…,"name":…,"clientURLs":[…]}`
/// in etcd's field order (docs/etcd.md, "members").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: u64,
    #[serde(rename = "peerURLs", default)]
    pub peer_urls: Vec<String>,
    #[serde(rename = "isLearner", default, skip_serializing_if = "is_false")]
    pub is_learner: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "clientURLs", default, skip_serializing_if = "Vec::is_empty")]
    pub client_urls: Vec<String>,
}

/// Why a `members` bucket entry does not decode (the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberError {
    #[error("not member JSON: {0}")]
    NotJson(String),
    #[error("key is not a hexadecimal member id")]
    KeyNotHex,
    #[error("key says id {key:x}, JSON says {json:x}")]
    IdMismatch { key: u64, json: u64 },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Member {
    /// Parses a `members` bucket entry, checking that the key (lowercase hex
    /// id) agrees with the id in the JSON.
    pub(crate) fn parse(key: &[u8], value: &[u8]) -> Result<Member, MemberError> {
        let m: Member =
            serde_json::from_slice(value).map_err(|e| MemberError::NotJson(e.to_string()))?;
        let key_id = std::str::from_utf8(key)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or(MemberError::KeyNotHex)?;
        if key_id != m.id {
            return Err(MemberError::IdMismatch {
                key: key_id,
                json: m.id,
            });
        }
        Ok(m)
    }

    pub fn hex_id(&self) -> String {
        format!("{:x}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serialize_like_etcd() {
        let v =
            br#"{"id":10276657743932975437,"peerURLs":["http://localhost:2380"],"name":"default"}"#;
        let m = Member::parse(b"8e9e05c52164694d", v).unwrap();
        assert_eq!(m.name, "default");
        assert_eq!(serde_json::to_string(&m).unwrap().as_bytes(), v);
        let e = Member::parse(b"1", v).unwrap_err();
        assert!(matches!(e, MemberError::IdMismatch { key: 1, .. }));
        assert!(e.to_string().contains("key says"));
    }
}
