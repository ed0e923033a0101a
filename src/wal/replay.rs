//! Replaying the WAL over a db as a restarting etcd 3.4/3.5 does: every
//! normal entry above the db's consistent index is applied in log order
//! with etcd's semantics (etcdserver `applierV3backend` and `mvcc`):
//!
//! - a write gets main revision current+1 only if it changes something;
//!   each change in it takes the next sub revision;
//! - a put keeps the key's create revision and bumps its version (create =
//!   mod = the new revision and version 1 for a new key); `ignore_value` /
//!   `ignore_lease` take the current ones and fail on a missing key; a put
//!   naming a lease that does not exist fails;
//! - a delete range writes a tombstone (`KeyValue{key}` under a `t`
//!   revision key) per live key in range, in key order;
//! - a txn evaluates its compares against the state before it (a range
//!   compare needs every key in range to pass; a value compare on no key
//!   fails; a missing key compares as zeros), then runs the chosen branch,
//!   nested txns included; a branch whose put names a missing lease or
//!   ignores the value of a missing key fails the whole txn;
//! - lease grant/revoke: a revoke deletes the lease's keys in one write;
//! - compaction: revisions at or below it that are not the newest of their
//!   key (or are tombstones) are dropped, as etcd drops them when it
//!   finishes the compaction.
//!
//! Not modelled: auth checks of requests (etcd refuses requests whose
//! auth revision is stale once auth is enabled) and the v2 store.

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::kv_request::{self, Compare, KeyRange, KvRequest, Op, Put, Target, Txn};
use super::log::{Entry, Log};
use super::request::RequestError;
use crate::etcd::schema::{Revision, LEASE_BUCKET};
use crate::etcd::KeyValue;
use crate::mvcc::{Record, Store};

/// The state of one live key during replay; the value borrows the db or
/// the WAL segment holding the request that wrote it.
#[derive(Debug, Clone, Copy)]
struct Live<'a> {
    create: i64,
    modr: i64,
    version: i64,
    lease: i64,
    value: &'a [u8],
}

/// What a replay did, for a note and for `wal`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// The db's consistent index.
    pub consistent_index: u64,
    /// Entries at or below it (already in the db).
    pub in_db: usize,
    /// Entries above it that were applied.
    pub replayed: usize,
    /// Of those, requests that changed the key space.
    pub writes: usize,
    /// Requests etcd would answer with an error (lease not found, key not
    /// found for ignore_value, compacted revision…), changing nothing.
    pub failed: usize,
    /// Entries whose data does not decode (skipped).
    pub undecodable: usize,
    /// The revision after the replay.
    pub revision: i64,
    /// A compaction applied by the replay.
    pub compacted: Option<i64>,
    /// The raft index and term of the last entry applied.
    pub applied_index: u64,
    pub applied_term: u64,
    /// Entries above the last recorded commit index (applied: a restarted
    /// single member commits its whole log).
    pub beyond_commit: usize,
    /// Leases granted (ID, TTL) and revoked (ID) by the replay.
    pub leases_granted: Vec<(i64, i64)>,
    pub leases_revoked: Vec<i64>,
}

/// The revisions a replay adds on top of the db, in revision order, as
/// the store holds its own: keys and values borrow the mapped WAL segments
/// and the db, nothing is encoded. [`Store::apply_overlay`] takes them.
#[derive(Debug, Clone, Default)]
pub struct Overlay<'a> {
    pub records: Vec<Record<'a>>,
    pub report: ReplayReport,
}

/// Why one request changed nothing.
#[derive(Debug)]
enum Refused {
    LeaseNotFound,
    KeyNotFound,
    LeaseExists,
    Compacted,
    FutureRev,
}

struct State<'a> {
    /// The live keys the replay can see: every key the pending requests
    /// name, every db key in a range they name, every db key holding a
    /// lease they revoke (see [`Touched`]), and what the replay writes.
    live: LiveMap<'a>,
    leases: BTreeSet<i64>,
    current: i64,
    compacted: i64,
    out: Vec<Record<'a>>,
    /// Changes in the write in progress.
    changes: i64,
}

/// Which entries of `log` a replay over a db with `consistent_index`
/// applies: the normal and conf-change entries above it.
pub(crate) fn pending<'l, 'a>(log: &'l Log<'a>, consistent_index: u64) -> &'l [Entry<'a>] {
    let start = log.entries.partition_point(|e| e.index <= consistent_index);
    &log.entries[start..]
}

/// Replays `log` over `store` (the db alone). `consistent_index` is the
/// db's. The revisions borrow the log's segments and the store's db.
pub fn replay<'a>(store: &Store<'a>, log: &Log<'a>, consistent_index: u64) -> Overlay<'a> {
    let todo = pending(log, consistent_index);
    let mut report = ReplayReport {
        consistent_index,
        in_db: log.entries.len() - todo.len(),
        revision: store.current,
        ..ReplayReport::default()
    };
    // A compaction scheduled but not finished in the db: etcd finishes it
    // when it starts.
    let scheduled = store
        .scheduled_compaction()
        .filter(|&s| s > store.compacted.unwrap_or(-1));
    if todo.is_empty() {
        report.compacted = scheduled;
        return Overlay {
            records: Vec::new(),
            report,
        };
    }
    let mut st = State {
        live: LiveMap::default(),
        leases: db_leases(store),
        current: store.current,
        compacted: crate::hashkv::compact_revision(store),
        out: Vec::with_capacity(todo.len()),
        changes: 0,
    };
    // etcd: an empty store is at revision 1, and the current revision is
    // never below the compaction revision.
    st.current = st.current.max(st.compacted).max(1);
    // Sized up front: rehashing long keys as the maps grow showed in the
    // profile.
    let mut touched = Touched {
        keys: HashSet::with_capacity_and_hasher(todo.len(), FxBuild::default()),
        ..Touched::default()
    };
    // Decoded once, zero-copy (keys and values are slices of the mapped
    // segments), collecting what the requests touch on the way.
    let bodies: Vec<Result<Option<KvRequest<'a>>, RequestError>> = todo
        .iter()
        .map(|e| {
            let r = kv_request::decode(e);
            if let Ok(Some(r)) = &r {
                touched.request(r);
            }
            r
        })
        .collect();
    st.live = touched.db_state(store, todo.len());
    let commit = log.hard_state.map(|h| h.commit).unwrap_or(0);
    let mut compacted = scheduled;
    for (e, body) in todo.iter().zip(&bodies) {
        report.replayed += 1;
        report.applied_index = e.index;
        report.applied_term = e.term;
        if e.index > commit {
            report.beyond_commit += 1;
        }
        let r = match body {
            Ok(None) => continue,
            Ok(Some(r)) => r,
            Err(_) => {
                report.undecodable += 1;
                continue;
            }
        };
        let before = st.out.len();
        let res = match r {
            KvRequest::Put(p) => st.write(|st| st.put(p)),
            KvRequest::DeleteRange(d) => st.write(|st| {
                st.delete_range(d);
                Ok(())
            }),
            KvRequest::Txn(t) => st.write(|st| st.txn(t)),
            &KvRequest::LeaseGrant { id, ttl } => {
                if st.leases.insert(id) {
                    report.leases_granted.push((id, ttl));
                    Ok(())
                } else {
                    Err(Refused::LeaseExists)
                }
            }
            &KvRequest::LeaseRevoke { id } => {
                if st.leases.remove(&id) {
                    report.leases_revoked.push(id);
                    st.write(|st| {
                        let keys = st.live.keys_with_lease(id);
                        for k in keys {
                            st.tombstone(k);
                        }
                        Ok(())
                    })
                } else {
                    Err(Refused::LeaseNotFound)
                }
            }
            &KvRequest::Compaction { revision } => {
                if revision <= st.compacted {
                    Err(Refused::Compacted)
                } else if revision > st.current {
                    Err(Refused::FutureRev)
                } else {
                    st.compacted = revision;
                    compacted = Some(revision);
                    Ok(())
                }
            }
            KvRequest::Nothing => Ok(()),
        };
        match res {
            Ok(()) if st.out.len() > before => report.writes += 1,
            Ok(()) => {}
            Err(_) => report.failed += 1,
        }
    }
    report.revision = st.current;
    report.compacted = compacted;
    Overlay {
        records: st.out,
        report,
    }
}

/// FxHash (rustc's): keys here are the WAL's and the db's own, and SipHash
/// over long `/registry/...` keys was a tenth of the replay.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// The live keys during replay: a hash map for the point lookups every
/// put and compare does, and the keys in order only when a range (delete
/// range, range compare) or a lease revoke needs them.
#[derive(Default)]
struct LiveMap<'a> {
    map: HashMap<&'a [u8], Live<'a>, FxBuild>,
    order: Option<BTreeSet<&'a [u8]>>,
}

impl<'a> LiveMap<'a> {
    fn new(ordered: bool, capacity: usize) -> LiveMap<'a> {
        LiveMap {
            map: HashMap::with_capacity_and_hasher(capacity, FxBuild::default()),
            order: ordered.then(BTreeSet::new),
        }
    }

    fn get(&self, k: &[u8]) -> Option<&Live<'a>> {
        self.map.get(k)
    }

    fn contains_key(&self, k: &[u8]) -> bool {
        self.map.contains_key(k)
    }

    fn insert(&mut self, k: &'a [u8], v: Live<'a>) {
        if self.map.insert(k, v).is_none() {
            if let Some(o) = &mut self.order {
                o.insert(k);
            }
        }
    }

    /// Sets `k`'s state to `f` of its current one (one hash lookup),
    /// returning it.
    fn update<F: FnOnce(Option<&Live<'a>>) -> Live<'a>>(&mut self, k: &'a [u8], f: F) -> Live<'a> {
        use std::collections::hash_map::Entry;
        match self.map.entry(k) {
            Entry::Occupied(mut o) => {
                let l = f(Some(o.get()));
                o.insert(l);
                l
            }
            Entry::Vacant(v) => {
                let l = f(None);
                v.insert(l);
                if let Some(o) = &mut self.order {
                    o.insert(k);
                }
                l
            }
        }
    }

    fn remove(&mut self, k: &[u8]) {
        if self.map.remove(k).is_some() {
            if let Some(o) = &mut self.order {
                o.remove(k);
            }
        }
    }

    /// The live keys in `[key, end)` (etcd's range semantics, see
    /// [`in_range`]), in key order.
    fn keys_in(&self, key: &[u8], end: &[u8]) -> Vec<&'a [u8]> {
        if end.is_empty() {
            return self
                .map
                .get_key_value(key)
                .map(|(k, _)| vec![*k])
                .unwrap_or_default();
        }
        match &self.order {
            Some(o) => o
                .range::<[u8], _>((std::ops::Bound::Included(key), std::ops::Bound::Unbounded))
                .copied()
                .take_while(|k| in_range(k, key, end))
                .collect(),
            None => self.sorted(|k, _| in_range(k, key, end)),
        }
    }

    /// The live keys holding lease `id`, in key order (as etcd's lessor
    /// deletes them).
    fn keys_with_lease(&self, id: i64) -> Vec<&'a [u8]> {
        match &self.order {
            Some(o) => o
                .iter()
                .copied()
                .filter(|k| self.map.get(k).is_some_and(|l| l.lease == id))
                .collect(),
            None => self.sorted(|_, l| l.lease == id),
        }
    }

    fn sorted<F: Fn(&[u8], &Live<'a>) -> bool>(&self, keep: F) -> Vec<&'a [u8]> {
        let mut v: Vec<&'a [u8]> = self
            .map
            .iter()
            .filter(|(k, l)| keep(k, l))
            .map(|(k, _)| *k)
            .collect();
        v.sort_unstable();
        v
    }
}

/// What the pending requests can read or change in the db: the keys they
/// name, the ranges they name (`[key, end)`, an end of `\0` meaning every
/// key from key on), and the leases they revoke. Only the db's live keys
/// among these are loaded: a replay never looks at any other db key.
#[derive(Default)]
struct Touched<'r> {
    keys: HashSet<&'r [u8], FxBuild>,
    ranges: Vec<(&'r [u8], &'r [u8])>,
    leases: HashSet<i64>,
}

impl<'r> Touched<'r> {
    fn key(&mut self, key: &'r [u8], end: &'r [u8]) {
        if end.is_empty() {
            self.keys.insert(key);
        } else {
            self.ranges.push((key, end));
        }
    }

    /// Every key and range the request names, in every branch of a txn
    /// (the branch taken is only known during the replay).
    fn request(&mut self, r: &KvRequest<'r>) {
        match r {
            KvRequest::Put(p) => self.key(p.key, &[]),
            KvRequest::DeleteRange(d) => self.key(d.key, d.range_end),
            KvRequest::Txn(t) => self.txn(t),
            &KvRequest::LeaseRevoke { id } => {
                self.leases.insert(id);
            }
            _ => {}
        }
    }

    fn txn(&mut self, t: &Txn<'r>) {
        for c in &t.compare {
            self.key(c.key, c.range_end);
        }
        for op in t.success.iter().chain(&t.failure) {
            match op {
                Op::Put(p) => self.key(p.key, &[]),
                Op::DeleteRange(d) => self.key(d.key, d.range_end),
                Op::Txn(n) => self.txn(n),
                Op::Range(_) | Op::None => {}
            }
        }
    }

    /// The ranges as sorted, disjoint `[start, end)` intervals (`None`: no
    /// end); empty ranges (end ≤ start) dropped.
    fn merged_ranges(&self) -> Vec<(&'r [u8], Option<&'r [u8]>)> {
        let mut v: Vec<(&[u8], Option<&[u8]>)> = self
            .ranges
            .iter()
            .map(|&(k, e)| (k, (e != [0]).then_some(e)))
            .filter(|&(k, e)| e.is_none_or(|e| k < e))
            .collect();
        v.sort_unstable();
        let mut out: Vec<(&[u8], Option<&[u8]>)> = Vec::with_capacity(v.len());
        for (k, e) in v {
            if let Some(last) = out.last_mut() {
                // Overlapping or adjacent: extend the last interval.
                if last.1.is_none_or(|le| k <= le) {
                    last.1 = match (last.1, e) {
                        (None, _) | (_, None) => None,
                        (Some(a), Some(b)) => Some(a.max(b)),
                    };
                    continue;
                }
            }
            out.push((k, e));
        }
        out
    }

    /// The db's live state of every touched key: per key its newest
    /// revision unless a tombstone (as [`Store::state_at`]), with room for
    /// `writes` more keys.
    fn db_state(&self, store: &Store<'r>, writes: usize) -> LiveMap<'r> {
        let records = store.records();
        let ranges = self.merged_ranges();
        let in_ranges = |k: &[u8]| {
            let i = ranges.partition_point(|&(s, _)| s <= k);
            i > 0 && ranges[i - 1].1.is_none_or(|e| k < e)
        };
        // Keys that held a revoked lease at some revision: whether they
        // still hold it is decided by their newest revision below.
        let mut leased: HashSet<&'r [u8], FxBuild> = HashSet::default();
        if !self.leases.is_empty() {
            for r in records {
                if !r.is_delete() && r.kv.lease != 0 && self.leases.contains(&r.kv.lease) {
                    leased.insert(r.kv.key);
                }
            }
        }
        // In parallel over runs of revisions, each run's newest revision of
        // each key kept; merged in revision order, later runs winning.
        let wanted = |k: &[u8]| {
            !k.is_empty()
                && (self.keys.contains(k)
                    || (!ranges.is_empty() && in_ranges(k))
                    || leased.contains(k))
        };
        let chunk = records
            .len()
            .div_ceil(rayon::current_num_threads() * 4)
            .max(4096);
        let runs: Vec<HashMap<&'r [u8], Record<'r>, FxBuild>> = records
            .par_chunks(chunk)
            .map(|run| {
                let mut m = HashMap::default();
                for r in run.iter().filter(|r| wanted(r.kv.key)) {
                    m.insert(r.kv.key, *r);
                }
                m
            })
            .collect();
        let mut latest: HashMap<&'r [u8], Record<'r>, FxBuild> = HashMap::with_capacity_and_hasher(
            runs.iter().map(|m| m.len()).sum(),
            FxBuild::default(),
        );
        for run in runs {
            latest.extend(run);
        }
        let ordered = !self.ranges.is_empty() || !self.leases.is_empty();
        let mut live = LiveMap::new(ordered, latest.len() + writes);
        for r in latest.into_values().filter(|r| !r.is_delete()) {
            live.insert(
                r.kv.key,
                Live {
                    create: r.kv.create_revision,
                    modr: r.kv.mod_revision,
                    version: r.kv.version,
                    lease: r.kv.lease,
                    value: r.kv.value,
                },
            );
        }
        live
    }
}

/// The lease IDs of the db's `lease` bucket (`leasepb.Lease`, field 1).
fn db_leases(store: &Store<'_>) -> BTreeSet<i64> {
    let db = &store.snapshot().db;
    let mut out = BTreeSet::new();
    if let Ok(b) = db.bucket(LEASE_BUCKET) {
        let _ = db.for_each(&b, |e| {
            if let Some(id) = lease_id(e.value) {
                out.insert(id);
            }
            Ok(())
        });
    }
    out
}

fn lease_id(v: &[u8]) -> Option<i64> {
    for f in crate::wire::Fields::new(v) {
        let (n, val) = f.ok()?;
        if n == 1 {
            return crate::wire::expect_varint(n, val).ok().map(|x| x as i64);
        }
    }
    Some(0)
}

/// etcd's `mkGteRange`: a range end of `\0` means "every key from key on".
fn in_range(k: &[u8], key: &[u8], end: &[u8]) -> bool {
    if end.is_empty() {
        return k == key;
    }
    if end == [0] {
        return k >= key;
    }
    k >= key && k < end
}

impl<'a> State<'a> {
    /// Runs one write: on success with changes the revision advances; on
    /// failure whatever it wrote is undone.
    fn write<F>(&mut self, f: F) -> Result<(), Refused>
    where
        F: FnOnce(&mut Self) -> Result<(), Refused>,
    {
        // Every check runs before the first change (as etcd's
        // checkRequests do), so a refused write has changed nothing.
        self.changes = 0;
        f(self)?;
        if self.changes > 0 {
            self.current += 1;
        }
        Ok(())
    }

    fn rev(&self) -> i64 {
        self.current + 1
    }

    fn check_put(&self, p: &Put<'a>) -> Result<(), Refused> {
        if p.lease != 0 && !p.ignore_lease && !self.leases.contains(&p.lease) {
            return Err(Refused::LeaseNotFound);
        }
        if (p.ignore_value || p.ignore_lease) && !self.live.contains_key(p.key) {
            return Err(Refused::KeyNotFound);
        }
        Ok(())
    }

    fn put(&mut self, p: &Put<'a>) -> Result<(), Refused> {
        self.check_put(p)?;
        self.put_checked(p);
        Ok(())
    }

    fn put_checked(&mut self, p: &Put<'a>) {
        let rev = self.rev();
        // One hash lookup for reading and updating the key's state.
        let next = self.live.update(p.key, |prev| {
            let value: &'a [u8] = if p.ignore_value {
                prev.map(|l| l.value).unwrap_or_default()
            } else {
                p.value
            };
            let lease = if p.ignore_lease {
                prev.map(|l| l.lease).unwrap_or(0)
            } else {
                p.lease
            };
            let (create, version) = match prev {
                Some(l) => (l.create, l.version + 1),
                None => (rev, 1),
            };
            Live {
                create,
                modr: rev,
                version,
                lease,
                value,
            }
        });
        self.out.push(Record {
            rev: Revision {
                main: rev,
                sub: self.changes,
                tombstone: false,
            },
            kv: KeyValue {
                key: p.key,
                create_revision: next.create,
                mod_revision: rev,
                version: next.version,
                value: next.value,
                lease: next.lease,
            },
        });
        self.changes += 1;
    }

    fn tombstone(&mut self, key: &'a [u8]) {
        self.out.push(Record {
            rev: Revision {
                main: self.rev(),
                sub: self.changes,
                tombstone: true,
            },
            kv: KeyValue {
                key,
                ..KeyValue::default()
            },
        });
        self.changes += 1;
        self.live.remove(key);
    }

    fn keys_in(&self, key: &[u8], end: &[u8]) -> Vec<&'a [u8]> {
        self.live.keys_in(key, end)
    }

    fn delete_range(&mut self, d: &KeyRange<'a>) {
        for k in self.keys_in(d.key, d.range_end) {
            self.tombstone(k);
        }
    }

    /// etcd's `applyCompare`.
    fn compare(&self, c: &Compare<'_>) -> bool {
        let keys = self.keys_in(c.key, c.range_end);
        if keys.is_empty() {
            if c.target == crate::proto::etcdserverpb::compare::CompareTarget::Value as i32 {
                return false;
            }
            return compare_kv(c, None);
        }
        keys.iter().all(|k| compare_kv(c, self.live.get(k)))
    }

    /// etcd's `compareToPath`: the branch taken by the txn and by each
    /// nested txn of a taken branch, all evaluated against the state before
    /// the txn, depth first.
    fn path(&self, t: &Txn<'a>, out: &mut Vec<bool>) {
        let ok = t.compare.iter().all(|c| self.compare(c));
        out.push(ok);
        for op in if ok { &t.success } else { &t.failure } {
            if let Op::Txn(n) = op {
                self.path(n, out);
            }
        }
    }

    /// The checks etcd runs on the taken branches before applying any.
    fn check_ops(&self, t: &Txn<'a>, path: &[bool], at: &mut usize) -> Result<(), Refused> {
        let ok = path.get(*at).copied().unwrap_or(false);
        *at += 1;
        for op in if ok { &t.success } else { &t.failure } {
            match op {
                Op::Put(p) => self.check_put(p)?,
                Op::Txn(n) => self.check_ops(n, path, at)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn apply_ops(&mut self, t: &Txn<'a>, path: &[bool], at: &mut usize) {
        let ok = path.get(*at).copied().unwrap_or(false);
        *at += 1;
        for op in if ok { &t.success } else { &t.failure } {
            match op {
                Op::Put(p) => self.put_checked(p),
                Op::DeleteRange(d) => self.delete_range(d),
                Op::Txn(n) => self.apply_ops(n, path, at),
                Op::Range(_) | Op::None => {}
            }
        }
    }

    fn txn(&mut self, t: &Txn<'a>) -> Result<(), Refused> {
        let mut path = Vec::new();
        self.path(t, &mut path);
        self.check_ops(t, &path, &mut 0)?;
        self.apply_ops(t, &path, &mut 0);
        Ok(())
    }
}

/// etcd's `compareKV` (a missing key compares as an empty KeyValue; a
/// target union of another kind compares against 0 / empty; an unknown
/// target or result number reads as the enum's zero, as before).
fn compare_kv(c: &Compare<'_>, kv: Option<&Live<'_>>) -> bool {
    use crate::proto::etcdserverpb::compare::{CompareResult as R, CompareTarget as T};
    let num = |got: i64, want: Option<i64>| got.cmp(&want.unwrap_or(0));
    let ord = match T::try_from(c.target).unwrap_or(T::Version) {
        T::Value => {
            let want: &[u8] = match c.union {
                Some(Target::Value(v)) => v,
                _ => &[],
            };
            let got: &[u8] = kv.map(|l| l.value).unwrap_or(&[]);
            got.cmp(want)
        }
        T::Create => num(
            kv.map(|l| l.create).unwrap_or(0),
            match c.union {
                Some(Target::CreateRevision(x)) => Some(x),
                _ => None,
            },
        ),
        T::Mod => num(
            kv.map(|l| l.modr).unwrap_or(0),
            match c.union {
                Some(Target::ModRevision(x)) => Some(x),
                _ => None,
            },
        ),
        T::Version => num(
            kv.map(|l| l.version).unwrap_or(0),
            match c.union {
                Some(Target::Version(x)) => Some(x),
                _ => None,
            },
        ),
        T::Lease => num(
            kv.map(|l| l.lease).unwrap_or(0),
            match c.union {
                Some(Target::Lease(x)) => Some(x),
                _ => None,
            },
        ),
    };
    match R::try_from(c.result).unwrap_or(R::Equal) {
        R::Equal => ord.is_eq(),
        R::NotEqual => ord.is_ne(),
        R::Greater => ord.is_gt(),
        R::Less => ord.is_lt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::etcdserverpb::compare::{CompareResult as R, CompareTarget as T};
    use Target as U;

    fn cmp(target: T, result: R, u: Option<U<'_>>) -> Compare<'_> {
        Compare {
            result: result as i32,
            target: target as i32,
            key: b"/k",
            union: u,
            range_end: b"",
        }
    }

    fn live(modr: i64, value: &[u8]) -> Live<'_> {
        Live {
            create: 2,
            modr,
            version: 3,
            lease: 0,
            value,
        }
    }

    /// etcd's compareKV: a missing key compares as zeros, and a target
    /// union of another kind compares against 0.
    #[test]
    fn compare_like_etcd() {
        let k = live(7, b"abc");
        assert!(compare_kv(
            &cmp(T::Mod, R::Equal, Some(U::ModRevision(7))),
            Some(&k)
        ));
        assert!(compare_kv(
            &cmp(T::Mod, R::Greater, Some(U::ModRevision(6))),
            Some(&k)
        ));
        assert!(compare_kv(
            &cmp(T::Mod, R::Less, Some(U::ModRevision(8))),
            Some(&k)
        ));
        assert!(compare_kv(
            &cmp(T::Version, R::NotEqual, Some(U::Version(2))),
            Some(&k)
        ));
        // A MOD compare carrying a version union compares against 0.
        assert!(compare_kv(
            &cmp(T::Mod, R::Greater, Some(U::Version(100))),
            Some(&k)
        ));
        assert!(compare_kv(
            &cmp(T::Value, R::Equal, Some(U::Value(b"abc"))),
            Some(&k)
        ));
        assert!(compare_kv(
            &cmp(T::Value, R::Greater, Some(U::Value(b"abb"))),
            Some(&k)
        ));
        // Missing key: create/mod/version 0.
        assert!(compare_kv(
            &cmp(T::Create, R::Equal, Some(U::CreateRevision(0))),
            None
        ));
        assert!(!compare_kv(
            &cmp(T::Version, R::Greater, Some(U::Version(0))),
            None
        ));
    }

    /// The ordered and the hash-only live maps answer ranges and lease
    /// lookups alike, in key order, after inserts and removes.
    #[test]
    fn live_map_ranges_with_and_without_order() {
        let keys: [&[u8]; 6] = [b"/b", b"/a", b"/c/1", b"/c/0", b"/d", b"/c"];
        let mut maps = [LiveMap::new(true, 0), LiveMap::new(false, 4)];
        for m in &mut maps {
            for (i, k) in keys.iter().enumerate() {
                let mut l = live(1, b"v");
                l.lease = (i % 2) as i64;
                if i % 2 == 0 {
                    m.insert(k, l);
                } else {
                    m.update(k, |_| l);
                }
            }
            m.remove(b"/b");
            m.remove(b"/zz");
            assert!(!m.contains_key(b"/b") && m.contains_key(b"/c/1"));
        }
        for m in &maps {
            let want: Vec<&[u8]> = vec![b"/c", b"/c/0", b"/c/1"];
            assert_eq!(m.keys_in(b"/c", b"/d"), want);
            let want: Vec<&[u8]> = vec![b"/c/0", b"/c/1", b"/d"];
            assert_eq!(m.keys_in(b"/c/", b"\0"), want);
            assert_eq!(m.keys_in(b"/d", b"/c"), Vec::<&[u8]>::new());
            assert_eq!(m.keys_in(b"/a", b""), vec![&b"/a"[..]]);
            let want: Vec<&[u8]> = vec![b"/a", b"/c", b"/c/0"];
            assert_eq!(m.keys_with_lease(1), want);
        }
    }

    #[test]
    fn range_end_as_etcd_reads_it() {
        assert!(in_range(b"/a", b"/a", b""));
        assert!(!in_range(b"/ab", b"/a", b""));
        assert!(in_range(b"/ab", b"/a", b"/b"));
        assert!(!in_range(b"/b", b"/a", b"/b"));
        assert!(in_range(b"/zzz", b"/a", b"\0"));
        assert!(!in_range(b"/", b"/a", b"\0"));
    }
}
