//! The `lease` bucket: one `leasepb.Lease{ID=1, TTL=2, RemainingTTL=3}` per
//! lease, under its ID as 8 bytes big-endian (docs/etcd.md).

use crate::wire::{expect_varint, Fields, WireError};

/// Why a `lease` bucket entry does not decode (the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error("{0}-byte key, a lease id has 8")]
    KeyLength(usize),
    #[error("not a leasepb.Lease: {0}")]
    NotLease(#[from] WireError),
    #[error("lease ID {value} differs from the key's {key}")]
    IdMismatch { key: i64, value: i64 },
    #[error("lease without an ID")]
    NoId,
}

/// Checks a `lease` bucket entry: a `leasepb.Lease` whose ID is the key's.
/// Returns the lease ID.
pub(crate) fn check(key: &[u8], value: &[u8]) -> Result<i64, LeaseError> {
    let id = <[u8; 8]>::try_from(key)
        .map(i64::from_be_bytes)
        .map_err(|_| LeaseError::KeyLength(key.len()))?;
    let mut found = None;
    for f in Fields::new(value) {
        let (field, v) = f?;
        if field <= 3 {
            let x = expect_varint(field, v)?;
            if field == 1 {
                found = Some(x as i64);
            }
        }
    }
    match found {
        Some(f) if f == id => Ok(id),
        Some(value) => Err(LeaseError::IdMismatch { key: id, value }),
        None => Err(LeaseError::NoId),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_entries() {
        let key = 7i64.to_be_bytes();
        // ID=7 (field 1, varint), TTL=60 (field 2).
        assert_eq!(check(&key, &[0x08, 7, 0x10, 60]), Ok(7));
        assert_eq!(
            check(&key, &[0x08, 8]).unwrap_err().to_string(),
            "lease ID 8 differs from the key's 7"
        );
        assert_eq!(check(&key, &[0x10, 60]), Err(LeaseError::NoId));
        assert_eq!(
            check(b"abc", &[0x08, 7]).unwrap_err().to_string(),
            "3-byte key, a lease id has 8"
        );
        // ID as a length-delimited field: not a Lease.
        assert!(matches!(
            check(&key, &[0x0a, 1, 7]),
            Err(LeaseError::NotLease(_))
        ));
    }
}
