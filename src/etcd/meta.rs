//! The `meta` bucket: consistent index, term, compaction revisions,
//! confState and storage version, plus the `cluster` bucket's version.

use serde::Serialize;

use super::schema::{
    Revision, CONF_STATE_KEY, CONSISTENT_INDEX_KEY, FINISHED_COMPACT_KEY, SCHEDULED_COMPACT_KEY,
    STORAGE_VERSION_KEY, TERM_KEY,
};

/// Why a meta-bucket value does not decode (the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaValueError {
    #[error("{0} bytes, expected an 8-byte big-endian integer")]
    NotU64(usize),
    #[error("not a revision key: {0}")]
    NotRevision(#[from] super::schema::RevisionError),
    #[error("confState is not JSON: {0}")]
    ConfStateNotJson(String),
    #[error("storageVersion is not UTF-8")]
    StorageVersionNotUtf8,
}

/// Decoded meta-bucket values. A field is `None` when the key is absent.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MetaInfo {
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    pub scheduled_compact_revision: Option<i64>,
    pub finished_compact_revision: Option<i64>,
    pub conf_state: Option<serde_json::Value>,
    pub storage_version: Option<String>,
}

impl MetaInfo {
    /// Applies one meta-bucket entry. Unknown keys are ignored; a known key
    /// whose value does not decode is returned as a problem.
    pub(crate) fn apply(&mut self, key: &[u8], value: &[u8]) -> Result<(), MetaValueError> {
        match key {
            CONSISTENT_INDEX_KEY => self.consistent_index = Some(be_u64(value)?),
            TERM_KEY => self.term = Some(be_u64(value)?),
            SCHEDULED_COMPACT_KEY => self.scheduled_compact_revision = Some(rev(value)?),
            FINISHED_COMPACT_KEY => self.finished_compact_revision = Some(rev(value)?),
            CONF_STATE_KEY => {
                self.conf_state = Some(
                    serde_json::from_slice(value)
                        .map_err(|e| MetaValueError::ConfStateNotJson(e.to_string()))?,
                )
            }
            STORAGE_VERSION_KEY => {
                let s = std::str::from_utf8(value)
                    .map_err(|_| MetaValueError::StorageVersionNotUtf8)?;
                self.storage_version = Some(s.to_string())
            }
            _ => {}
        }
        Ok(())
    }
}

/// The value of `consistent_index` or `term`: 8 bytes big-endian, as
/// [`MetaInfo::apply`] decodes it.
pub(crate) fn u64_value(n: u64) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

/// The value of `confState` for a cluster whose voters are `voters` (no
/// learners, not in a joint configuration), as etcd 3.5 writes it.
pub(crate) fn conf_state_value(voters: &[u64]) -> Vec<u8> {
    let voters: Vec<String> = voters.iter().map(|i| i.to_string()).collect();
    format!("{{\"voters\":[{}],\"auto_leave\":false}}", voters.join(",")).into_bytes()
}

fn be_u64(v: &[u8]) -> Result<u64, MetaValueError> {
    let a: [u8; 8] = v.try_into().map_err(|_| MetaValueError::NotU64(v.len()))?;
    Ok(u64::from_be_bytes(a))
}

fn rev(v: &[u8]) -> Result<i64, MetaValueError> {
    Ok(Revision::parse(v)?.main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_meta_values() {
        let mut m = MetaInfo::default();
        m.apply(b"consistent_index", &42u64.to_be_bytes()).unwrap();
        let r = Revision {
            main: 7,
            sub: 0,
            tombstone: false,
        };
        m.apply(b"finishedCompactRev", &r.to_bytes()).unwrap();
        assert_eq!(m.consistent_index, Some(42));
        assert_eq!(m.finished_compact_revision, Some(7));
        assert!(m.apply(b"term", b"xx").is_err());
        assert!(m.apply(b"confState", b"{").is_err());
        // What restore writes decodes back.
        m.apply(CONF_STATE_KEY, &conf_state_value(&[1, 2])).unwrap();
        assert_eq!(
            m.conf_state,
            Some(serde_json::json!({"voters": [1, 2], "auto_leave": false}))
        );
        m.apply(TERM_KEY, &u64_value(9)).unwrap();
        assert_eq!(m.term, Some(9));
    }
}
