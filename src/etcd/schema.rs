//! Bucket names and revision keys of the etcd backend (3.4–3.6).

/// Buckets etcd 3.4/3.5 create (3.6 adds none that matter here).
pub const BUCKETS: &[&str] = &[
    "alarm",
    "auth",
    "authRoles",
    "authUsers",
    "cluster",
    "key",
    "lease",
    "members",
    "members_removed",
    "meta",
];

pub(crate) const KEY_BUCKET: &[u8] = b"key";
pub(crate) const META_BUCKET: &[u8] = b"meta";
pub(crate) const MEMBERS_BUCKET: &[u8] = b"members";
pub(crate) const MEMBERS_REMOVED_BUCKET: &[u8] = b"members_removed";
pub(crate) const CLUSTER_BUCKET: &[u8] = b"cluster";
pub(crate) const LEASE_BUCKET: &[u8] = b"lease";
/// Meta-bucket keys of a compaction: the revision it was asked for and the
/// one it finished, each a 17-byte revision key `{main: REV, sub: 0}`.
pub(crate) const SCHEDULED_COMPACT_KEY: &[u8] = b"scheduledCompactRev";
pub(crate) const FINISHED_COMPACT_KEY: &[u8] = b"finishedCompactRev";
/// Meta-bucket key: the raft index the backend has applied, 8 bytes
/// big-endian (docs/etcd.md, "meta bucket").
pub(crate) const CONSISTENT_INDEX_KEY: &[u8] = b"consistent_index";
/// Meta-bucket key (3.5+): the raft term of that index, 8 bytes big-endian.
pub(crate) const TERM_KEY: &[u8] = b"term";
/// Meta-bucket key (3.5+): the raft ConfState as JSON.
pub(crate) const CONF_STATE_KEY: &[u8] = b"confState";
/// Meta-bucket key (3.6+): the storage version, text such as `3.6.0`.
pub(crate) const STORAGE_VERSION_KEY: &[u8] = b"storageVersion";
/// `cluster`-bucket key: the cluster version, text such as `3.5.0`.
pub(crate) const CLUSTER_VERSION_KEY: &[u8] = b"clusterVersion";

/// Length of a revision key: main (8, BE) `_` sub (8, BE).
pub(crate) const REV_KEY_LEN: usize = 17;
/// A tombstone's revision key has one more byte: `t`.
pub(crate) const TOMBSTONE_KEY_LEN: usize = 18;

/// Why a `key`-bucket key is not a revision key (the caller names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RevisionError {
    #[error("{0}-byte key (a revision key has 17 or 18)")]
    Length(usize),
    #[error("18-byte key ends in {0:#04x}, not 't'")]
    NotTombstone(u8),
    #[error("byte 8 is {0:#04x}, not '_'")]
    NoSeparator(u8),
}

/// A revision key of the `key` bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
    pub tombstone: bool,
}

impl Revision {
    /// Parses a revision key, strictly: 17 bytes with `_` at 8, or 18 with a
    /// trailing `t`.
    pub fn parse(k: &[u8]) -> Result<Revision, RevisionError> {
        let tombstone = match k.len() {
            REV_KEY_LEN => false,
            TOMBSTONE_KEY_LEN if k[17] == b't' => true,
            TOMBSTONE_KEY_LEN => return Err(RevisionError::NotTombstone(k[17])),
            n => return Err(RevisionError::Length(n)),
        };
        if k[8] != b'_' {
            return Err(RevisionError::NoSeparator(k[8]));
        }
        let main = be_i64(&k[0..8]);
        let sub = be_i64(&k[9..17]);
        Ok(Revision {
            main,
            sub,
            tombstone,
        })
    }

    /// The main revision of a key, reading only its first 8 bytes (what
    /// etcd's `bytesToRev` does for `snapshot status`).
    pub(crate) fn main_of(k: &[u8]) -> Option<i64> {
        k.get(0..8).map(be_i64)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(TOMBSTONE_KEY_LEN);
        b.extend_from_slice(&self.main.to_be_bytes());
        b.push(b'_');
        b.extend_from_slice(&self.sub.to_be_bytes());
        if self.tombstone {
            b.push(b't');
        }
        b
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.main, self.sub)?;
        if self.tombstone {
            write!(f, "t")?;
        }
        Ok(())
    }
}

fn be_i64(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    i64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_roundtrip() {
        let r = Revision {
            main: 77,
            sub: 2,
            tombstone: true,
        };
        let b = r.to_bytes();
        assert_eq!(b.len(), 18);
        assert_eq!(Revision::parse(&b).unwrap(), r);
        assert_eq!(r.to_string(), "77_2t");
        assert!(Revision::parse(b"short").is_err());
        let mut bad = b.clone();
        bad[8] = b'x';
        let e = Revision::parse(&bad).unwrap_err();
        assert_eq!(e, RevisionError::NoSeparator(b'x'));
        assert!(e.to_string().contains("'_'"));
        bad = b.clone();
        bad[17] = b'x';
        assert!(Revision::parse(&bad).is_err());
    }
}
