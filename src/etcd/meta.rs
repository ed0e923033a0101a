//! The `meta` bucket: consistent index, term, compaction revisions,
//! confState and storage version, plus the `cluster` bucket's version.

use serde::Serialize;

use super::schema::Revision;

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
    pub fn apply(&mut self, key: &[u8], value: &[u8]) -> Result<(), String> {
        match key {
            b"consistent_index" => self.consistent_index = Some(be_u64(value)?),
            b"term" => self.term = Some(be_u64(value)?),
            crate::etcd::schema::SCHEDULED_COMPACT_KEY => {
                self.scheduled_compact_revision = Some(rev(value)?)
            }
            crate::etcd::schema::FINISHED_COMPACT_KEY => {
                self.finished_compact_revision = Some(rev(value)?)
            }
            b"confState" => {
                self.conf_state = Some(
                    serde_json::from_slice(value)
                        .map_err(|e| format!("confState is not JSON: {e}"))?,
                )
            }
            b"storageVersion" => {
                let s = std::str::from_utf8(value)
                    .map_err(|_| "storageVersion is not UTF-8".to_string())?;
                self.storage_version = Some(s.to_string())
            }
            _ => {}
        }
        Ok(())
    }
}

fn be_u64(v: &[u8]) -> Result<u64, String> {
    let a: [u8; 8] = v
        .try_into()
        .map_err(|_| format!("{} bytes, expected an 8-byte big-endian integer", v.len()))?;
    Ok(u64::from_be_bytes(a))
}

fn rev(v: &[u8]) -> Result<i64, String> {
    Revision::parse(v).map(|r| r.main)
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
    }
}
