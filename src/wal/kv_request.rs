//! The requests a WAL replay applies, read zero-copy from a normal entry's
//! `etcdserverpb.InternalRaftRequest`: put, delete range, txn (compares and
//! nested request ops), compaction, lease grant and revoke. Keys, values
//! and ranges are slices of the mapped segment; only a txn allocates (its
//! lists of compares and ops).
//!
//! Field numbers are those of `proto/etcd/raft_internal.proto` (the one
//! definition prost also compiles); decoding follows protobuf as prost
//! does: unknown fields skipped, a known field with the wrong wire type an
//! error, a message field seen twice merged, the last scalar and the last
//! oneof member winning. The full listing of every request kind (`wal`,
//! `verify`) stays with prost ([`super::request`]); [`decode`] asks it
//! whenever an entry holds anything this reader does not read, so both
//! agree on what decodes and on what is a v2 request.

use thiserror::Error;

use super::log::{Entry, ENTRY_NORMAL};
use super::request::{self, Body, RequestError};
use crate::wire::{expect_bytes, expect_varint, next_field, Value, WireError};

/// Nested messages deeper than this are refused (prost's limit too): a
/// txn nests ops that nest txns, and a hostile entry must not exhaust the
/// stack.
const MAX_DEPTH: u32 = 100;

/// Why the borrowed reader refused a message.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum KvRequestError {
    #[error("{message}: {source}")]
    Wire {
        message: &'static str,
        #[source]
        source: WireError,
    },
    #[error("{message}: nested more than {MAX_DEPTH} messages deep")]
    TooDeep { message: &'static str },
    #[error("RequestHeader: the user name is not UTF-8")]
    Username,
}

type Result<T> = std::result::Result<T, KvRequestError>;

fn wire(message: &'static str) -> impl Fn(WireError) -> KvRequestError {
    move |source| KvRequestError::Wire { message, source }
}

/// `PutRequest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Put<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub lease: i64,
    pub ignore_value: bool,
    pub ignore_lease: bool,
}

/// A key or range (`DeleteRangeRequest`, `RangeRequest`): an empty end is
/// the key alone, `\0` every key from `key` on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyRange<'a> {
    pub key: &'a [u8],
    pub range_end: &'a [u8],
}

/// `Compare.target_union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Version(i64),
    CreateRevision(i64),
    ModRevision(i64),
    Value(&'a [u8]),
    Lease(i64),
}

/// `Compare`: `result` and `target` as the enum numbers on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compare<'a> {
    pub result: i32,
    pub target: i32,
    pub key: &'a [u8],
    pub range_end: &'a [u8],
    pub union: Option<Target<'a>>,
}

/// `RequestOp` (its `request` oneof; `None` when unset).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Op<'a> {
    #[default]
    None,
    Range(KeyRange<'a>),
    Put(Put<'a>),
    DeleteRange(KeyRange<'a>),
    Txn(Txn<'a>),
}

/// `TxnRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn<'a> {
    pub compare: Vec<Compare<'a>>,
    pub success: Vec<Op<'a>>,
    pub failure: Vec<Op<'a>>,
}

/// What a v3 request asks of the key space: the member of an
/// `InternalRaftRequest` a replay applies. A request sets one member;
/// should several be set (etcd never writes such a request), the first in
/// this order is the one applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KvRequest<'a> {
    Put(Put<'a>),
    DeleteRange(KeyRange<'a>),
    /// Boxed: a txn is rare and large, and a replay holds one decoded
    /// request per pending entry.
    Txn(Box<Txn<'a>>),
    LeaseGrant {
        id: i64,
        ttl: i64,
    },
    LeaseRevoke {
        id: i64,
    },
    /// `CompactionRequest.revision`.
    Compaction {
        revision: i64,
    },
    /// A v3 request of another kind (auth, alarm, range, cluster…).
    #[default]
    Nothing,
}

/// Every member a replay reads, as decoded (merged when repeated).
#[derive(Debug, Default)]
struct Members<'a> {
    put: Option<Put<'a>>,
    delete_range: Option<KeyRange<'a>>,
    txn: Option<Txn<'a>>,
    compaction: Option<i64>,
    lease_grant: Option<(i64, i64)>,
    lease_revoke: Option<i64>,
}

impl<'a> Members<'a> {
    fn request(self) -> KvRequest<'a> {
        if let Some(p) = self.put {
            KvRequest::Put(p)
        } else if let Some(d) = self.delete_range {
            KvRequest::DeleteRange(d)
        } else if let Some(t) = self.txn {
            KvRequest::Txn(Box::new(t))
        } else if let Some((id, ttl)) = self.lease_grant {
            KvRequest::LeaseGrant { id, ttl }
        } else if let Some(id) = self.lease_revoke {
            KvRequest::LeaseRevoke { id }
        } else if let Some(revision) = self.compaction {
            KvRequest::Compaction { revision }
        } else {
            KvRequest::Nothing
        }
    }
}

/// A message's fields as `(number, value)`, each step an error naming
/// `message` on bad framing.
fn fields<'a>(
    buf: &'a [u8],
    message: &'static str,
    mut f: impl FnMut(u32, Value<'a>) -> Result<()>,
) -> Result<()> {
    let mut pos = 0;
    while pos < buf.len() {
        let (n, v) = next_field(buf, &mut pos).map_err(wire(message))?;
        f(n, v)?;
    }
    Ok(())
}

fn int(message: &'static str, n: u32, v: Value<'_>) -> Result<u64> {
    expect_varint(n, v).map_err(wire(message))
}

fn bytes<'a>(message: &'static str, n: u32, v: Value<'a>) -> Result<&'a [u8]> {
    expect_bytes(n, v).map_err(wire(message))
}

fn enter(message: &'static str, depth: u32) -> Result<u32> {
    if depth >= MAX_DEPTH {
        return Err(KvRequestError::TooDeep { message });
    }
    Ok(depth + 1)
}

impl<'a> KvRequest<'a> {
    /// Decodes an `InternalRaftRequest`. Also returns whether it holds a
    /// field this reader does not read (a v2 request, an auth or alarm
    /// request, an unknown field…): such an entry's other members are
    /// read, but whether it decodes at all is prost's call ([`decode`]).
    pub fn decode(buf: &'a [u8]) -> Result<(KvRequest<'a>, bool)> {
        const M: &str = "InternalRaftRequest";
        let mut r = Members::default();
        let mut other = false;
        fields(buf, M, |n, v| {
            match n {
                1 => {
                    int(M, n, v)?;
                }
                4 => put(bytes(M, n, v)?, r.put.get_or_insert_default())?,
                5 => key_range(
                    "DeleteRangeRequest",
                    bytes(M, n, v)?,
                    r.delete_range.get_or_insert_default(),
                    3,
                )?,
                6 => txn(bytes(M, n, v)?, r.txn.get_or_insert_default(), 1)?,
                7 => {
                    let rev = r.compaction.get_or_insert(0);
                    fields(bytes(M, n, v)?, "CompactionRequest", |n, v| {
                        match n {
                            1 => *rev = int("CompactionRequest", n, v)? as i64,
                            2 => {
                                int("CompactionRequest", n, v)?;
                            }
                            _ => {}
                        }
                        Ok(())
                    })?
                }
                8 => {
                    let (id, ttl) = r.lease_grant.get_or_insert((0, 0));
                    fields(bytes(M, n, v)?, "LeaseGrantRequest", |n, v| {
                        match n {
                            1 => *ttl = int("LeaseGrantRequest", n, v)? as i64,
                            2 => *id = int("LeaseGrantRequest", n, v)? as i64,
                            _ => {}
                        }
                        Ok(())
                    })?
                }
                9 => {
                    let id = r.lease_revoke.get_or_insert(0);
                    fields(bytes(M, n, v)?, "LeaseRevokeRequest", |n, v| {
                        if n == 1 {
                            *id = int("LeaseRevokeRequest", n, v)? as i64;
                        }
                        Ok(())
                    })?
                }
                100 => header(bytes(M, n, v)?)?,
                _ => other = true,
            }
            Ok(())
        })?;
        Ok((r.request(), other))
    }
}

/// `RequestHeader`: checked (its user name is a protobuf string), not kept.
fn header(b: &[u8]) -> Result<()> {
    const M: &str = "RequestHeader";
    fields(b, M, |n, v| {
        match n {
            1 | 3 => {
                int(M, n, v)?;
            }
            2 => {
                std::str::from_utf8(bytes(M, n, v)?).map_err(|_| KvRequestError::Username)?;
            }
            _ => {}
        }
        Ok(())
    })
}

fn put<'a>(b: &'a [u8], p: &mut Put<'a>) -> Result<()> {
    const M: &str = "PutRequest";
    fields(b, M, |n, v| {
        match n {
            1 => p.key = bytes(M, n, v)?,
            2 => p.value = bytes(M, n, v)?,
            3 => p.lease = int(M, n, v)? as i64,
            4 => {
                int(M, n, v)?;
            }
            5 => p.ignore_value = int(M, n, v)? != 0,
            6 => p.ignore_lease = int(M, n, v)? != 0,
            _ => {}
        }
        Ok(())
    })
}

/// A `DeleteRangeRequest` or `RangeRequest`: key 1, range end 2; the
/// varint fields `3..=last_int` are checked, not kept.
fn key_range<'a>(m: &'static str, b: &'a [u8], r: &mut KeyRange<'a>, last_int: u32) -> Result<()> {
    fields(b, m, |n, v| {
        match n {
            1 => r.key = bytes(m, n, v)?,
            2 => r.range_end = bytes(m, n, v)?,
            3.. if n <= last_int => {
                int(m, n, v)?;
            }
            _ => {}
        }
        Ok(())
    })
}

fn txn<'a>(b: &'a [u8], t: &mut Txn<'a>, depth: u32) -> Result<()> {
    const M: &str = "TxnRequest";
    let depth = enter(M, depth)?;
    fields(b, M, |n, v| {
        match n {
            1 => {
                let mut c = Compare::default();
                compare(bytes(M, n, v)?, &mut c)?;
                t.compare.push(c);
            }
            2 | 3 => {
                let mut op = Op::None;
                request_op(bytes(M, n, v)?, &mut op, depth)?;
                if n == 2 {
                    &mut t.success
                } else {
                    &mut t.failure
                }
                .push(op);
            }
            _ => {}
        }
        Ok(())
    })
}

fn compare<'a>(b: &'a [u8], c: &mut Compare<'a>) -> Result<()> {
    const M: &str = "Compare";
    fields(b, M, |n, v| {
        match n {
            1 => c.result = int(M, n, v)? as i32,
            2 => c.target = int(M, n, v)? as i32,
            3 => c.key = bytes(M, n, v)?,
            4 => c.union = Some(Target::Version(int(M, n, v)? as i64)),
            5 => c.union = Some(Target::CreateRevision(int(M, n, v)? as i64)),
            6 => c.union = Some(Target::ModRevision(int(M, n, v)? as i64)),
            7 => c.union = Some(Target::Value(bytes(M, n, v)?)),
            8 => c.union = Some(Target::Lease(int(M, n, v)? as i64)),
            64 => c.range_end = bytes(M, n, v)?,
            _ => {}
        }
        Ok(())
    })
}

/// `RequestOp`: a member seen again is merged into it, another member
/// replaces it (protobuf's oneof rules).
fn request_op<'a>(b: &'a [u8], op: &mut Op<'a>, depth: u32) -> Result<()> {
    const M: &str = "RequestOp";
    let depth = enter(M, depth)?;
    fields(b, M, |n, v| {
        match n {
            1 => {
                if !matches!(op, Op::Range(_)) {
                    *op = Op::Range(KeyRange::default());
                }
                if let Op::Range(r) = op {
                    key_range("RangeRequest", bytes(M, n, v)?, r, 4)?;
                }
            }
            2 => {
                if !matches!(op, Op::Put(_)) {
                    *op = Op::Put(Put::default());
                }
                if let Op::Put(p) = op {
                    put(bytes(M, n, v)?, p)?;
                }
            }
            3 => {
                if !matches!(op, Op::DeleteRange(_)) {
                    *op = Op::DeleteRange(KeyRange::default());
                }
                if let Op::DeleteRange(r) = op {
                    key_range("DeleteRangeRequest", bytes(M, n, v)?, r, 3)?;
                }
            }
            4 => {
                if !matches!(op, Op::Txn(_)) {
                    *op = Op::Txn(Txn::default());
                }
                if let Op::Txn(t) = op {
                    txn(bytes(M, n, v)?, t, depth)?;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// What a replay applies of entry `e`: `Ok(None)` for an entry that is
/// no v3 request (not a normal entry, empty, a v2 request), an empty
/// [`KvRequest`] for a v3 request of another kind (auth, alarm…), an error
/// for one etcd could not decode. The borrowed
/// reader answers alone when it reads the whole request; otherwise prost
/// ([`request::decode`]) says whether the entry decodes and whether it is
/// a v2 request, so that replay, `wal` and `verify` agree.
pub fn decode<'a>(e: &Entry<'a>) -> std::result::Result<Option<KvRequest<'a>>, RequestError> {
    if e.typ != ENTRY_NORMAL || e.data.is_empty() {
        return Ok(None);
    }
    let fast = KvRequest::decode(e.data);
    if let Ok((r, false)) = fast {
        return Ok(Some(r));
    }
    match request::decode(e)? {
        Body::Raft(_) => match fast {
            Ok((r, _)) => Ok(Some(r)),
            Err(why) => Err(RequestError::borrowed(e, why)),
        },
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::etcdserverpb as pb;
    use prost::Message;

    fn entry(data: &[u8]) -> Entry<'_> {
        Entry {
            index: 7,
            term: 1,
            typ: ENTRY_NORMAL,
            data,
            segment: 0,
            offset: 0,
        }
    }

    fn put_req(key: &[u8], value: &[u8]) -> pb::PutRequest {
        pb::PutRequest {
            key: key.to_vec(),
            value: value.to_vec(),
            lease: 5,
            ignore_value: false,
            ignore_lease: true,
            ..Default::default()
        }
    }

    /// Every member replay reads comes out as prost reads it, nested txns
    /// included, borrowing the entry's bytes.
    #[test]
    fn reads_what_prost_reads() {
        use pb::compare::TargetUnion as U;
        let inner = pb::TxnRequest {
            compare: vec![pb::Compare {
                result: 3,
                target: 3,
                key: b"/b".to_vec(),
                target_union: Some(U::Value(b"x".to_vec())),
                range_end: b"/c".to_vec(),
            }],
            success: vec![pb::RequestOp {
                request: Some(pb::request_op::Request::RequestDeleteRange(
                    pb::DeleteRangeRequest {
                        key: b"/d".to_vec(),
                        range_end: b"\0".to_vec(),
                        prev_kv: true,
                    },
                )),
            }],
            failure: vec![pb::RequestOp { request: None }],
        };
        let t = pb::TxnRequest {
            compare: vec![pb::Compare {
                result: 1,
                target: 2,
                key: b"/a".to_vec(),
                target_union: Some(U::ModRevision(-9)),
                range_end: Vec::new(),
            }],
            success: vec![
                pb::RequestOp {
                    request: Some(pb::request_op::Request::RequestPut(put_req(b"/a", b"v"))),
                },
                pb::RequestOp {
                    request: Some(pb::request_op::Request::RequestTxn(inner)),
                },
            ],
            failure: vec![pb::RequestOp {
                request: Some(pb::request_op::Request::RequestRange(pb::RangeRequest {
                    key: b"/r".to_vec(),
                    range_end: b"/s".to_vec(),
                    limit: 3,
                    revision: 4,
                })),
            }],
        };
        let req = pb::InternalRaftRequest {
            header: Some(pb::RequestHeader {
                id: 9,
                username: "root".into(),
                auth_revision: 2,
            }),
            id: 3,
            txn: Some(t),
            lease_revoke: Some(pb::LeaseRevokeRequest { id: -4 }),
            ..Default::default()
        };
        let b = req.encode_to_vec();
        // A txn comes before a lease revoke.
        let Some(KvRequest::Txn(t)) = decode(&entry(&b)).unwrap() else {
            panic!()
        };
        assert_eq!(
            t.compare,
            vec![Compare {
                result: 1,
                target: 2,
                key: b"/a",
                range_end: b"",
                union: Some(Target::ModRevision(-9)),
            }]
        );
        assert_eq!(
            t.success[0],
            Op::Put(Put {
                key: b"/a",
                value: b"v",
                lease: 5,
                ignore_value: false,
                ignore_lease: true,
            })
        );
        let Op::Txn(n) = &t.success[1] else {
            panic!("{:?}", t.success[1])
        };
        assert_eq!(n.compare[0].union, Some(Target::Value(b"x")));
        assert_eq!(n.compare[0].range_end, b"/c");
        assert_eq!(
            n.success,
            vec![Op::DeleteRange(KeyRange {
                key: b"/d",
                range_end: b"\0"
            })]
        );
        assert_eq!(n.failure, vec![Op::None]);
        assert_eq!(
            t.failure,
            vec![Op::Range(KeyRange {
                key: b"/r",
                range_end: b"/s"
            })]
        );
        // Zero-copy: the put's key lies inside the entry's bytes.
        let Op::Put(p) = t.success[0] else { panic!() };
        let span = b.as_ptr_range();
        assert!(span.contains(&p.key.as_ptr()));
    }

    #[test]
    fn compaction_and_leases() {
        let req = pb::InternalRaftRequest {
            compaction: Some(pb::CompactionRequest {
                revision: 42,
                physical: true,
            }),
            lease_grant: Some(pb::LeaseGrantRequest { ttl: 60, id: 77 }),
            ..Default::default()
        };
        let b = req.encode_to_vec();
        // A lease grant comes before a compaction.
        assert_eq!(
            decode(&entry(&b)).unwrap(),
            Some(KvRequest::LeaseGrant { id: 77, ttl: 60 })
        );
        let req = pb::InternalRaftRequest {
            compaction: req.compaction,
            ..Default::default()
        };
        assert_eq!(
            decode(&entry(&req.encode_to_vec())).unwrap(),
            Some(KvRequest::Compaction { revision: 42 })
        );
        let req = pb::InternalRaftRequest {
            lease_revoke: Some(pb::LeaseRevokeRequest { id: -4 }),
            ..Default::default()
        };
        assert_eq!(
            decode(&entry(&req.encode_to_vec())).unwrap(),
            Some(KvRequest::LeaseRevoke { id: -4 })
        );
    }

    /// A message field seen twice is merged, as prost merges it.
    #[test]
    fn repeated_member_merges() {
        let a = pb::InternalRaftRequest {
            put: Some(put_req(b"/k", b"")),
            ..Default::default()
        };
        let b = pb::InternalRaftRequest {
            put: Some(pb::PutRequest {
                value: b"second".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut buf = a.encode_to_vec();
        buf.extend(b.encode_to_vec());
        let merged = pb::InternalRaftRequest::decode(&buf[..]).unwrap();
        let Some(KvRequest::Put(p)) = decode(&entry(&buf)).unwrap() else {
            panic!()
        };
        let want = merged.put.unwrap();
        assert_eq!(
            (p.key, p.value, p.lease),
            (&want.key[..], &want.value[..], want.lease)
        );
    }

    /// Entries holding anything else are prost's call: a v2 request is
    /// none of replay's business, an auth request applies nothing, garbage
    /// is an error, and an alarm beside a put still applies the put.
    #[test]
    fn other_requests_ask_prost() {
        let v2 = pb::InternalRaftRequest {
            v2: Some(pb::Request {
                method: "PUT".into(),
                path: "/v2/x".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(decode(&entry(&v2.encode_to_vec())).unwrap(), None);
        let auth = pb::InternalRaftRequest {
            auth_enable: Some(pb::Empty {}),
            ..Default::default()
        };
        assert_eq!(
            decode(&entry(&auth.encode_to_vec())).unwrap(),
            Some(KvRequest::Nothing)
        );
        // Field 4 (put) as a varint: neither message decodes.
        assert!(decode(&entry(&[0x20, 0x01, 0x12, 0x02, 0xff, 0xff])).is_err());
        let both = pb::InternalRaftRequest {
            put: Some(put_req(b"/k", b"v")),
            alarm: Some(pb::AlarmRequest::default()),
            ..Default::default()
        };
        let b = both.encode_to_vec();
        assert!(matches!(
            decode(&entry(&b)).unwrap(),
            Some(KvRequest::Put(Put { key: b"/k", .. }))
        ));
        // Not a normal entry, or empty: nothing to apply.
        let mut e = entry(&b);
        e.typ = super::super::log::ENTRY_CONF_CHANGE;
        assert_eq!(decode(&e).unwrap(), None);
        assert_eq!(decode(&entry(&[])).unwrap(), None);
    }

    /// Txns nested past the limit are refused, not a stack overflow.
    #[test]
    fn deep_nesting_is_refused() {
        let mut t = pb::TxnRequest::default();
        for _ in 0..200 {
            t = pb::TxnRequest {
                success: vec![pb::RequestOp {
                    request: Some(pb::request_op::Request::RequestTxn(t)),
                }],
                ..Default::default()
            };
        }
        let mut b = Vec::new();
        crate::wire::put_varint(&mut b, 6 << 3 | 2);
        let inner = t.encode_to_vec();
        crate::wire::put_varint(&mut b, inner.len() as u64);
        b.extend(inner);
        assert!(matches!(
            KvRequest::decode(&b),
            Err(KvRequestError::TooDeep { .. })
        ));
    }
}
