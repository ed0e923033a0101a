//! Salvage: every revision readable out of a damaged snapshot, and what may
//! be missing.
//!
//! Records come from the `key` bucket's tree as far as it can be read (the
//! tolerant walk, `Db::reach`), plus the leaves the page scanner finds that
//! the tree does not reach: an element whose key is a revision key (17
//! bytes, or 18 ending in `t`) and whose value decodes as a `KeyValue`
//! whose `mod_revision` matches is taken, byte for byte as it lies on disk.
//! Copies of one revision are merged: the reachable copy wins; two differing
//! orphaned copies are a conflict and neither is used.
//!
//! An orphaned record whose revision lies in a key range the broken tree
//! lost is `orphan` (cut off by damage: part of the current data); any
//! other is `free-page` (an older copy of a leaf on a free page: history,
//! possibly from before the compaction, never the current state).

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use crate::bolt::{PageAt, PageClass, PageScan};
use crate::etcd::meta::MetaInfo;
use crate::etcd::schema::{Revision, RevisionError, FINISHED_COMPACT_KEY, KEY_BUCKET, META_BUCKET};
use crate::etcd::snapshot::hex;
use crate::etcd::{KeyValue, Snapshot};
use crate::mvcc::Record;

/// How many items a list of the loss report shows (counts are complete).
pub(crate) const MAX_LISTED: usize = 50;

/// Where a salvaged record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Reached by the `key` bucket's tree.
    Tree,
    /// On a leaf the broken tree no longer reaches, in a range it lost.
    Orphan,
    /// On a free page: an older copy of a leaf.
    FreePage,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Tree => "tree",
            Source::Orphan => "orphan",
            Source::FreePage => "free-page",
        }
    }
}

/// A run of main revisions `[from, to]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RevRange {
    pub from: i64,
    pub to: i64,
}

/// A part of a bucket the tree could not read.
#[derive(Debug, Clone, Serialize)]
pub struct LostPart {
    pub bucket: String,
    /// The page that could not be read.
    pub page: u64,
    /// For the `key` bucket: the main revisions it covered (`None`:
    /// unbounded).
    pub from_revision: Option<i64>,
    pub to_revision: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordCounts {
    pub tree: u64,
    pub orphan: u64,
    pub free_page: u64,
    /// Orphaned copies equal to a record already found.
    pub duplicates: u64,
    /// Revisions dropped because two orphaned copies differ.
    pub conflicts: u64,
    /// Elements of `key`-bucket leaves that are not valid revisions.
    pub invalid: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct UncertainKeys {
    pub count: usize,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnreadablePage {
    pub id: u64,
    pub why: String,
    pub reachable: bool,
}

/// What salvage found and what may be missing.
#[derive(Debug, Clone, Serialize)]
pub struct LossReport {
    pub file: String,
    pub page_size: u32,
    pub file_pages: u64,
    pub reachable_pages: u64,
    pub orphan_leaf_pages: u64,
    /// Pages that cannot be read (zeroed free pages included).
    pub unreadable_page_count: usize,
    pub unreadable_pages: Vec<UnreadablePage>,
    /// Problems of the tree walk, each naming its page.
    pub tree_problem_count: usize,
    pub tree_problems: Vec<String>,
    pub lost: Vec<LostPart>,
    pub records: RecordCounts,
    pub conflicts: Vec<String>,
    /// `finishedCompactRev`, from the meta bucket or (when it is lost) the
    /// newest copy on an orphaned page.
    pub compacted_revision: Option<i64>,
    /// The newest main revision salvaged.
    pub current_revision: i64,
    /// Main revisions (at or after the compaction) inside lost ranges for
    /// which no record was found.
    pub missing_revisions: Vec<RevRange>,
    /// Lost ranges below the compaction, where a missing revision cannot be
    /// told from a compacted one.
    pub unverifiable_revisions: Vec<RevRange>,
    /// A lost range runs past the newest revision salvaged: newer ones may
    /// have existed.
    pub newer_revisions_may_be_lost: bool,
    /// Per resource: keys whose latest state is uncertain (they may have
    /// changed in a missing range after their newest salvaged revision).
    pub uncertain: BTreeMap<String, UncertainKeys>,
    /// True when anything may be lost: the exit code is then 1.
    pub may_be_lost: bool,
}

/// The salvage of one snapshot.
pub struct Salvage<'a> {
    /// Every salvaged record, in revision order.
    records: Vec<Record<'a>>,
    /// (main, sub) → where it was found, the page, and the value exactly as
    /// on disk.
    sources: HashMap<(i64, i64), (Source, u64, &'a [u8])>,
    pub meta: MetaInfo,
    pub report: LossReport,
    pub scan: PageScan,
}

/// The records of one orphaned leaf (with their raw values) and any
/// `finishedCompactRev` copy on it.
type OrphanPage<'a> = (Vec<(Record<'a>, &'a [u8])>, Option<i64>);

struct Found<'a> {
    rec: Record<'a>,
    raw: &'a [u8],
    source: Source,
    page: u64,
}

/// Why a `key`-bucket element is not a valid record (the caller names the
/// page and the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Key(#[from] RevisionError),
    #[error("revision {0}: empty value")]
    EmptyValue(Revision),
    #[error("revision {rev}: not a mvccpb.KeyValue: {source}")]
    NotKeyValue {
        rev: Revision,
        #[source]
        source: crate::wire::WireError,
    },
    #[error("revision {0}: KeyValue with an empty key")]
    EmptyKey(Revision),
    #[error("revision {rev}: tombstone's mod_revision {mod_revision} differs")]
    TombstoneRevision { rev: Revision, mod_revision: i64 },
    #[error("revision {rev}: mod_revision {mod_revision} differs from the revision key")]
    ModRevision { rev: Revision, mod_revision: i64 },
    #[error("revision {rev}: create_revision {create_revision} / version {version} impossible")]
    Impossible {
        rev: Revision,
        create_revision: i64,
        version: i64,
    },
}

/// A `key`-bucket element as a record: `Ok(None)` for a restore's bump
/// marker, `Err` when it is not a valid revision.
pub(crate) fn record_of<'a>(
    key: &'a [u8],
    value: &'a [u8],
) -> Result<Option<Record<'a>>, RecordError> {
    let rev = Revision::parse(key)?;
    if value.is_empty() {
        if rev.sub == 0 && !rev.tombstone {
            return Ok(None);
        }
        return Err(RecordError::EmptyValue(rev));
    }
    let kv = KeyValue::decode(value).map_err(|source| RecordError::NotKeyValue { rev, source })?;
    if kv.key.is_empty() {
        return Err(RecordError::EmptyKey(rev));
    }
    if rev.tombstone {
        if kv.mod_revision != 0 && kv.mod_revision != rev.main {
            return Err(RecordError::TombstoneRevision {
                rev,
                mod_revision: kv.mod_revision,
            });
        }
    } else if kv.mod_revision != rev.main {
        return Err(RecordError::ModRevision {
            rev,
            mod_revision: kv.mod_revision,
        });
    } else if kv.create_revision <= 0 || kv.create_revision > kv.mod_revision || kv.version <= 0 {
        return Err(RecordError::Impossible {
            rev,
            create_revision: kv.create_revision,
            version: kv.version,
        });
    }
    Ok(Some(Record { rev, kv }))
}

fn looks_like_rev_key(k: &[u8]) -> bool {
    (k.len() == 17 || (k.len() == 18 && k[17] == b't')) && k[8] == b'_'
}

impl<'a> Salvage<'a> {
    /// Salvages `snap` (opened with `Snapshot::open_salvage` or `open`).
    pub fn run(snap: &'a Snapshot) -> Salvage<'a> {
        let db = &snap.db;
        let reach = db.reach();
        let scan = PageScan::scan(db, &reach);
        let mut counts = RecordCounts::default();
        let mut problems: Vec<String> = reach.issues.iter().map(|e| e.to_string()).collect();

        // The meta bucket, as far as readable.
        let mut meta = MetaInfo::default();
        let meta_found = reach.bucket(META_BUCKET);
        if let Some((_, leaves)) = meta_found {
            for leaf in leaves {
                for e in leaf.elems().flatten() {
                    let _ = meta.apply(e.key, e.value);
                }
            }
        }

        // Lost ranges, by bucket.
        let mut lost = Vec::new();
        let mut key_lost: Vec<(i64, i64)> = Vec::new();
        for (bucket, l) in &reach.lost {
            let from = l.lower.and_then(Revision::main_of);
            let to = l.upper.and_then(Revision::main_of);
            let is_key = bucket.as_bytes() == KEY_BUCKET;
            if is_key {
                key_lost.push((from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX)));
            }
            lost.push(LostPart {
                bucket: if bucket.is_empty() {
                    "(root)".into()
                } else {
                    bucket.clone()
                },
                page: page_no(l.page),
                from_revision: if is_key { from } else { None },
                to_revision: if is_key { to } else { None },
            });
        }
        let key_found = reach.bucket(KEY_BUCKET);
        if key_found.is_none() {
            // The key bucket itself is out of reach: all of it is lost.
            key_lost.push((i64::MIN, i64::MAX));
            if !lost.iter().any(|l| l.bucket == "key") {
                lost.push(LostPart {
                    bucket: "key".into(),
                    page: db.meta().root.get(),
                    from_revision: None,
                    to_revision: None,
                });
            }
        }
        let in_lost = |main: i64| key_lost.iter().any(|&(a, b)| a <= main && main <= b);

        // Records from the tree.
        let mut found: Vec<Found<'a>> = Vec::new();
        if let Some((_, leaves)) = key_found {
            // Decoded in parallel, joined in key order.
            let parts: Vec<(Vec<Found<'a>>, Vec<String>)> = leaves
                .par_iter()
                .map(|leaf| {
                    let mut ok = Vec::with_capacity(leaf.page.count as usize);
                    let mut bad = Vec::new();
                    for e in leaf.elems() {
                        let Ok(e) = e else { break };
                        match record_of(e.key, e.value) {
                            Ok(Some(rec)) => ok.push(Found {
                                rec,
                                raw: e.value,
                                source: Source::Tree,
                                page: page_no(leaf.page.at),
                            }),
                            Ok(None) => {}
                            Err(why) => bad.push(format!(
                                "bucket key, {}, key {}: {why}",
                                leaf.page.at,
                                hex(e.key)
                            )),
                        }
                    }
                    (ok, bad)
                })
                .collect();
            for (ok, bad) in parts {
                found.extend(ok);
                counts.invalid += bad.len() as u64;
                problems.extend(bad);
            }
        }

        // Records from orphaned leaves, in parallel.
        let orphan_ids: Vec<u64> = scan.orphan_leaves().map(|p| p.id.get()).collect();
        let orphaned: Vec<OrphanPage<'a>> = orphan_ids
            .par_iter()
            .map(|&id| {
                let mut out = Vec::new();
                let mut compact = None;
                if let Some(page) = db.scan_page(id) {
                    for i in 0..page.count as usize {
                        let Ok(e) = page.leaf_elem(i) else { break };
                        if e.is_bucket() {
                            continue;
                        }
                        if looks_like_rev_key(e.key) {
                            if let Ok(Some(rec)) = record_of(e.key, e.value) {
                                out.push((rec, e.value));
                            }
                        } else if e.key == FINISHED_COMPACT_KEY {
                            let mut m = MetaInfo::default();
                            if m.apply(e.key, e.value).is_ok() {
                                compact = m.finished_compact_revision;
                            }
                        }
                    }
                }
                (out, compact)
            })
            .collect();
        let mut orphan_compact: Option<i64> = None;
        for (id, (recs, compact)) in orphan_ids.iter().zip(orphaned) {
            orphan_compact = orphan_compact.max(compact);
            for (rec, raw) in recs {
                let source = if in_lost(rec.rev.main) {
                    Source::Orphan
                } else {
                    Source::FreePage
                };
                found.push(Found {
                    rec,
                    raw,
                    source,
                    page: *id,
                });
            }
        }
        if meta_found.is_none() && meta.finished_compact_revision.is_none() {
            meta.finished_compact_revision = orphan_compact;
        }

        // Merge copies of one revision.
        let mut merged: BTreeMap<(i64, i64), Found<'a>> = BTreeMap::new();
        let mut conflicted: BTreeMap<(i64, i64), Vec<u64>> = BTreeMap::new();
        for f in found {
            let k = (f.rec.rev.main, f.rec.rev.sub);
            if let Some(pages) = conflicted.get_mut(&k) {
                pages.push(f.page);
                continue;
            }
            match merged.get(&k) {
                None => {
                    merged.insert(k, f);
                }
                Some(have) => {
                    let same = have.raw == f.raw && have.rec.rev == f.rec.rev;
                    if same || have.source == Source::Tree {
                        counts.duplicates += 1;
                    } else if f.source != Source::Tree {
                        let have = merged.remove(&k).map(|h| h.page).unwrap_or(0);
                        conflicted.insert(k, vec![have, f.page]);
                    }
                }
            }
        }
        let conflicts: Vec<String> = conflicted
            .iter()
            .map(|((m, s), pages)| {
                format!("revision {m}_{s}: orphaned copies on pages {pages:?} differ; none is used")
            })
            .collect();
        counts.conflicts = conflicted.len() as u64;

        let mut records = Vec::with_capacity(merged.len());
        let mut sources = HashMap::with_capacity(merged.len());
        for (k, f) in merged {
            match f.source {
                Source::Tree => counts.tree += 1,
                Source::Orphan => counts.orphan += 1,
                Source::FreePage => counts.free_page += 1,
            }
            sources.insert(k, (f.source, f.page, f.raw));
            records.push(f.rec);
        }

        // What may be missing.
        let current = records.iter().map(|r| r.rev.main).max().unwrap_or(0);
        let floor = meta.finished_compact_revision.unwrap_or(1).max(1);
        let mut present: Vec<i64> = records.iter().map(|r| r.rev.main).collect();
        present.dedup();
        let mut missing = Vec::new();
        let mut unverifiable = Vec::new();
        let mut newer_lost = false;
        for &(a, b) in &key_lost {
            if b > current {
                newer_lost = true;
            }
            if a < floor {
                let to = b.min(floor - 1);
                let from = a.max(0);
                if from <= to {
                    unverifiable.push(RevRange { from, to });
                }
            }
            let (lo, hi) = (a.max(floor), b.min(current));
            if lo > hi {
                continue;
            }
            // Gaps between the revisions present in [lo, hi] (walking the
            // present ones, not every number: a bumped revision leaves a
            // gap of a billion).
            let start = present.partition_point(|&m| m < lo);
            let mut next = lo;
            for &m in present[start..].iter().take_while(|&&m| m <= hi) {
                if m > next {
                    missing.push(RevRange {
                        from: next,
                        to: m - 1,
                    });
                }
                next = m.saturating_add(1);
            }
            if next <= hi {
                missing.push(RevRange { from: next, to: hi });
            }
        }
        missing.sort_by_key(|r| r.from);
        missing.dedup();
        unverifiable.sort_by_key(|r| r.from);
        unverifiable.dedup();

        // Keys whose latest state is uncertain.
        let mut uncertain: BTreeMap<String, UncertainKeys> = BTreeMap::new();
        let last_gap = missing
            .iter()
            .chain(unverifiable.iter())
            .map(|r| r.to)
            .max();
        if last_gap.is_some() || newer_lost {
            let mut latest: HashMap<&[u8], i64> = HashMap::new();
            for r in &records {
                if sources.get(&(r.rev.main, r.rev.sub)).map(|s| s.0) == Some(Source::FreePage) {
                    continue;
                }
                latest.insert(r.kv.key, r.rev.main);
            }
            let mut keys: Vec<(&[u8], i64)> = latest.into_iter().collect();
            keys.sort();
            for (k, main) in keys {
                if newer_lost || last_gap.is_some_and(|g| g > main) {
                    let res = crate::kube::key::parse(k)
                        .map(|sk| sk.resource.to_string())
                        .unwrap_or_else(|| "(not a Kubernetes key)".into());
                    let u = uncertain.entry(res).or_default();
                    u.count += 1;
                    if u.keys.len() < 20 {
                        u.keys.push(String::from_utf8_lossy(k).into_owned());
                    }
                }
            }
        }

        let reachable_pages = scan.pages.iter().filter(|p| p.reachable).count() as u64;
        let unreadable: Vec<UnreadablePage> = scan
            .unreadable()
            .map(|p| UnreadablePage {
                id: p.id.get(),
                why: match &p.class {
                    PageClass::Unreadable { why } => why.clone(),
                    _ => String::new(),
                },
                reachable: p.reachable,
            })
            .collect();
        let may_be_lost = !problems.is_empty()
            || !lost.is_empty()
            || !conflicts.is_empty()
            || !missing.is_empty()
            || !unverifiable.is_empty()
            || newer_lost;
        let report = LossReport {
            file: snap.display(),
            page_size: scan.page_size,
            file_pages: scan.file_pages,
            reachable_pages,
            orphan_leaf_pages: orphan_ids.len() as u64,
            unreadable_page_count: unreadable.len(),
            unreadable_pages: unreadable.into_iter().take(MAX_LISTED).collect(),
            tree_problem_count: problems.len(),
            tree_problems: problems.into_iter().take(MAX_LISTED).collect(),
            lost,
            records: counts,
            conflicts: conflicts.into_iter().take(MAX_LISTED).collect(),
            compacted_revision: meta.finished_compact_revision,
            current_revision: current,
            missing_revisions: missing,
            unverifiable_revisions: unverifiable,
            newer_revisions_may_be_lost: newer_lost,
            uncertain,
            may_be_lost,
        };
        Salvage {
            records,
            sources,
            meta,
            report,
            scan,
        }
    }

    /// Every salvaged record in revision order; without free-page ones
    /// unless `with_free_pages` (they are history, never the current state).
    pub fn records(&self, with_free_pages: bool) -> Vec<Record<'a>> {
        self.records
            .iter()
            .filter(|r| with_free_pages || self.source(r) != Source::FreePage)
            .copied()
            .collect()
    }

    /// Where a record was found (and the page).
    pub fn source(&self, r: &Record<'_>) -> Source {
        self.sources
            .get(&(r.rev.main, r.rev.sub))
            .map(|s| s.0)
            .unwrap_or(Source::Tree)
    }

    pub fn page_of(&self, r: &Record<'_>) -> Option<u64> {
        self.sources.get(&(r.rev.main, r.rev.sub)).map(|s| s.1)
    }

    /// The record's value exactly as it lies on disk.
    pub(crate) fn raw_value(&self, r: &Record<'_>) -> Option<&'a [u8]> {
        self.sources.get(&(r.rev.main, r.rev.sub)).map(|s| s.2)
    }

    /// The loss report as lines for stderr.
    pub fn summary_lines(&self) -> Vec<String> {
        let r = &self.report;
        let c = &r.records;
        let mut out = vec![format!(
            "salvage: {} records from the tree, {} from orphaned leaves, {} older revisions from free pages ({} duplicate copies merged, {} conflicts); {} of {} pages reachable, {} orphaned leaf pages, {} unreadable pages",
            c.tree, c.orphan, c.free_page, c.duplicates, c.conflicts, r.reachable_pages, r.file_pages, r.orphan_leaf_pages, r.unreadable_page_count
        )];
        for p in r.tree_problems.iter().take(10) {
            out.push(format!("salvage: damage: {p}"));
        }
        if r.tree_problem_count > 10 {
            out.push(format!(
                "salvage: … and {} more problems (verify --salvage -o json lists them)",
                r.tree_problem_count - 10
            ));
        }
        for l in &r.lost {
            out.push(format!(
                "salvage: bucket {}: the part behind page {} could not be read{}",
                l.bucket,
                l.page,
                match (l.from_revision, l.to_revision) {
                    (None, None) if l.bucket == "key" => " (all revisions)".to_string(),
                    (a, b) if l.bucket == "key" => format!(
                        " (revisions {}..{})",
                        a.map(|x| x.to_string()).unwrap_or_default(),
                        b.map(|x| x.to_string()).unwrap_or_default()
                    ),
                    _ => String::new(),
                }
            ));
        }
        for cf in &r.conflicts {
            out.push(format!("salvage: conflict: {cf}"));
        }
        if !r.missing_revisions.is_empty() {
            let shown: Vec<String> = r
                .missing_revisions
                .iter()
                .take(20)
                .map(|x| {
                    if x.from == x.to {
                        x.from.to_string()
                    } else {
                        format!("{}..{}", x.from, x.to)
                    }
                })
                .collect();
            out.push(format!(
                "salvage: revisions that may be missing: {}",
                shown.join(", ")
            ));
        }
        for u in &r.unverifiable_revisions {
            out.push(format!(
                "salvage: revisions {}..{} lie below the compaction: a lost one cannot be told from a compacted one",
                u.from, u.to
            ));
        }
        if r.newer_revisions_may_be_lost {
            out.push(format!(
                "salvage: revisions newer than {} may have been lost",
                r.current_revision
            ));
        }
        for (res, u) in &r.uncertain {
            out.push(format!(
                "salvage: {res}: {} keys whose latest state is uncertain (e.g. {})",
                u.count,
                u.keys
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push(if r.may_be_lost {
            "salvage: some data may be lost (exit 1)".to_string()
        } else {
            "salvage: nothing appears to be missing".to_string()
        });
        out
    }
}

/// The page number salvage reports: the file page, or 0 for an inline
/// bucket's page (which has no page of its own).
fn page_no(at: PageAt) -> u64 {
    at.id().map_or(0, |id| id.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev_key(main: i64, sub: i64) -> Vec<u8> {
        [&main.to_be_bytes()[..], b"_", &sub.to_be_bytes()].concat()
    }

    /// mvccpb.KeyValue{key=1, create_revision=2, mod_revision=3, version=4}.
    fn kv(key: &[u8], create: u8, modr: u8, version: u8) -> Vec<u8> {
        [
            &[0x0a, key.len() as u8][..],
            key,
            &[0x10, create, 0x18, modr, 0x20, version],
        ]
        .concat()
    }

    #[test]
    fn record_errors_name_the_revision() {
        let k = rev_key(5, 0);
        let v = kv(b"/a", 2, 5, 1);
        let r = record_of(&k, &v).unwrap().unwrap();
        assert_eq!((r.rev.main, r.kv.key), (5, &b"/a"[..]));
        // A restore's bump marker: no record, no error.
        assert!(record_of(&k, b"").unwrap().is_none());
        let cases: [(Vec<u8>, Vec<u8>, &str); 5] = [
            (rev_key(5, 1), Vec::new(), "revision 5_1: empty value"),
            (
                k.clone(),
                kv(b"", 2, 5, 1),
                "revision 5_0: KeyValue with an empty key",
            ),
            (
                k.clone(),
                kv(b"/a", 2, 6, 1),
                "revision 5_0: mod_revision 6 differs from the revision key",
            ),
            (
                k.clone(),
                kv(b"/a", 6, 5, 1),
                "revision 5_0: create_revision 6 / version 1 impossible",
            ),
            (
                b"short".to_vec(),
                v.clone(),
                "5-byte key (a revision key has 17 or 18)",
            ),
        ];
        for (key, value, want) in cases {
            let e = record_of(&key, &value).unwrap_err();
            assert_eq!(e.to_string(), want);
        }
        let e = record_of(&k, &[0x0a, 9]).unwrap_err();
        assert!(matches!(e, RecordError::NotKeyValue { .. }), "{e}");
        assert!(e
            .to_string()
            .starts_with("revision 5_0: not a mvccpb.KeyValue: "));
    }
}
