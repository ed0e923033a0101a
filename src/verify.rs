//! `verify`: a layered integrity report of one snapshot.
//!
//! 1. trailer — SHA-256 trailer present, and matching the bbolt bytes
//! 2. meta — magic, version and checksum of both meta pages; which is used
//! 3. structure — what `bbolt check` verifies: bounds, single reference,
//!    page types, key order
//! 4. etcd schema — revision keys, `KeyValue` values, meta/members/lease
//!
//! The SHA-256 of the whole file runs on one core while the structure and
//! schema walk runs on the others.

use std::path::Path;

use serde::Serialize;

use crate::bolt::{Bucket, LeafRef, Storage};
use crate::etcd::members::Member;
use crate::etcd::meta::MetaInfo;
use crate::etcd::schema::{Revision, KEY_BUCKET, LEASE_BUCKET, MEMBERS_BUCKET, META_BUCKET};
use crate::etcd::snapshot::{has_trailer, hex, sha256, TRAILER_LEN};
use crate::etcd::{EtcdError, KeyValue, Snapshot, ValueError};

/// How many problems a layer lists (the count is always complete).
pub(crate) const MAX_LISTED: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Damaged,
    /// Not checked because an earlier layer made it impossible.
    NotChecked,
    /// Nothing to check (a raw db has no trailer).
    Absent,
    /// A backup set lacks a part a restore needs (its tarball, the
    /// encryption config).
    Incomplete,
    /// Values the given keys cannot read offline (key absent from every
    /// source, or wrapped by an external KMS) — not damage.
    UnreadableOffline,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Damaged => "DAMAGED",
            Verdict::NotChecked => "skipped",
            Verdict::Absent => "none",
            Verdict::Incomplete => "MISSING",
            Verdict::UnreadableOffline => "NO KEY",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Layer {
    pub name: &'static str,
    pub verdict: Verdict,
    /// What was checked and what was found, in a sentence or two.
    pub summary: String,
    /// Total problems found.
    pub problem_count: usize,
    /// The first `MAX_LISTED` problems, each naming its page, bucket or key.
    pub problems: Vec<String>,
}

impl Layer {
    fn new(name: &'static str, problems: Vec<String>, summary: String) -> Layer {
        let count = problems.len();
        Layer {
            name,
            verdict: if count == 0 {
                Verdict::Ok
            } else {
                Verdict::Damaged
            },
            summary,
            problem_count: count,
            problems: problems.into_iter().take(MAX_LISTED).collect(),
        }
    }

    fn not_checked(name: &'static str, why: &str) -> Layer {
        Layer {
            name,
            verdict: Verdict::NotChecked,
            summary: why.to_string(),
            problem_count: 0,
            problems: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    pub file_size: u64,
    pub layers: Vec<Layer>,
    /// True when the database could not be opened at all.
    pub unreadable: bool,
    /// Whether `restore` would accept this file, and with which flag.
    pub restore: Restorability,
}

/// What verify needs to know that the bytes do not say.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct VerifyOptions {
    /// `--skip-hash-check`, restore's own flag: a missing or wrong SHA-256
    /// trailer is then not checked (as restore would not check it).
    pub skip_hash_check: bool,
    /// The input is an etcd data dir's `member/snap/db`, where no trailer is
    /// expected (restore needs `--skip-hash-check` for it all the same).
    pub raw_db: bool,
}

impl VerifyOptions {
    /// Options for a file: a path ending in `member/snap/db` is a raw db.
    pub(crate) fn for_path(path: &Path) -> VerifyOptions {
        VerifyOptions {
            skip_hash_check: false,
            raw_db: path.ends_with("member/snap/db"),
        }
    }
}

/// Whether `etcdsnap restore` (and `etcdutl snapshot restore`) would accept
/// the file: the same rules restore applies, stated in the report so that
/// verify never passes what restore refuses.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Restorability {
    /// Restore would succeed (with `--skip-hash-check` when
    /// `needs_skip_hash_check`).
    pub restorable: bool,
    /// Restore succeeds only with `--skip-hash-check` (no trailer).
    pub needs_skip_hash_check: bool,
    /// Why, in a sentence.
    pub reason: String,
}

impl Report {
    pub(crate) fn damaged(&self) -> bool {
        self.layers.iter().any(|l| l.verdict == Verdict::Damaged)
    }

    /// Whether some layer found a problem that is not damage: a backup set
    /// missing a part, values no key given can read offline.
    pub(crate) fn incomplete(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l.verdict, Verdict::Incomplete | Verdict::UnreadableOffline))
    }

    /// 0 intact, 1 damaged or incomplete, 2 unreadable.
    pub fn exit_code(&self) -> i32 {
        if self.unreadable {
            2
        } else if self.damaged() || self.incomplete() {
            1
        } else {
            0
        }
    }
}

/// What the schema check of one `key`-bucket leaf found.
#[derive(Debug, Default)]
struct KeyLeaf {
    revisions: u64,
    tombstones: u64,
    bump_markers: u64,
    min_main: Option<i64>,
    max_main: Option<i64>,
    problems: Vec<String>,
}

fn check_key_leaves(leaves: &[LeafRef<'_>]) -> KeyLeaf {
    let mut out = KeyLeaf::default();
    for leaf in leaves {
        check_key_leaf(leaf, &mut out);
    }
    out
}

fn check_key_leaf(leaf: &LeafRef<'_>, out: &mut KeyLeaf) {
    for e in leaf.elems() {
        let Ok(e) = e else { break };
        out.revisions += 1;
        let at = || format!("bucket key, {}, key {}", leaf.page.at, hex(e.key));
        if e.is_bucket() {
            out.problems
                .push(format!("{}: a nested bucket (etcd has none)", at()));
            continue;
        }
        let rev = match Revision::parse(e.key) {
            Ok(r) => r,
            Err(why) => {
                out.problems
                    .push(format!("{}: not a revision key: {why}", at()));
                continue;
            }
        };
        out.min_main = Some(out.min_main.map_or(rev.main, |m| m.min(rev.main)));
        out.max_main = Some(out.max_main.map_or(rev.main, |m| m.max(rev.main)));
        if rev.tombstone {
            out.tombstones += 1;
        }
        if e.value.is_empty() {
            // A restore's --bump-revision marker: (latest + N, 0), empty value.
            if rev.sub == 0 && !rev.tombstone {
                out.bump_markers += 1;
            } else {
                out.problems
                    .push(format!("bucket key, revision {rev}: empty value"));
            }
            continue;
        }
        let kv = match KeyValue::decode(e.value) {
            Ok(kv) => kv,
            Err(err) => {
                out.problems.push(format!(
                    "bucket key, revision {rev}: value is not a mvccpb.KeyValue: {err}"
                ));
                continue;
            }
        };
        let name = String::from_utf8_lossy(&kv.key[..kv.key.len().min(200)]).into_owned();
        if kv.key.is_empty() {
            out.problems.push(format!(
                "bucket key, revision {rev}: KeyValue has an empty key"
            ));
        } else if rev.tombstone {
            if kv.mod_revision != 0 && kv.mod_revision != rev.main {
                out.problems.push(format!(
                    "bucket key, revision {rev}, key {name}: tombstone's mod_revision {} differs",
                    kv.mod_revision
                ));
            }
        } else if kv.mod_revision != rev.main {
            out.problems.push(format!(
                "bucket key, revision {rev}, key {name}: mod_revision {} differs from the revision key's {}",
                kv.mod_revision, rev.main
            ));
        } else if kv.create_revision <= 0 || kv.create_revision > kv.mod_revision {
            out.problems.push(format!(
                "bucket key, revision {rev}, key {name}: create_revision {} outside [1, {}]",
                kv.create_revision, kv.mod_revision
            ));
        } else if kv.version <= 0 {
            out.problems.push(format!(
                "bucket key, revision {rev}, key {name}: version {} is not positive",
                kv.version
            ));
        }
    }
}

/// The SHA-256 trailer layer, from the raw file bytes. A file without a
/// trailer is damaged here (restore refuses it) unless the options say no
/// trailer is expected or it is not to be checked.
fn trailer_layer(bytes: &[u8], opts: VerifyOptions) -> Layer {
    let len = bytes.len() as u64;
    if !has_trailer(len) && !len.is_multiple_of(512) {
        return Layer::new(
            "trailer",
            vec![format!(
                "size {len} is neither a multiple of 512 (a raw bbolt file) nor 32 more than one (a snapshot with its SHA-256 trailer): the file was truncated or appended to"
            )],
            "no SHA-256 trailer".into(),
        );
    }
    if !has_trailer(len) {
        if !opts.raw_db && !opts.skip_hash_check {
            return Layer::new(
                "trailer",
                vec![format!(
                    "no SHA-256 trailer (size {len} is not 32 more than a multiple of 512): `restore` and `etcdutl snapshot restore` refuse this file without --skip-hash-check; the trailer was cut off, or this is a raw member/snap/db (then pass --skip-hash-check)"
                )],
                "no SHA-256 trailer".into(),
            );
        }
        return Layer {
            name: "trailer",
            verdict: Verdict::Absent,
            summary: format!(
                "no SHA-256 trailer (size {len} is not 32 more than a multiple of 512){}",
                if opts.raw_db {
                    ": a raw bbolt file (member/snap/db), not an `etcdctl snapshot save` output"
                } else {
                    ": not checked (--skip-hash-check)"
                }
            ),
            problem_count: 0,
            problems: Vec::new(),
        };
    }
    if opts.skip_hash_check {
        return Layer {
            name: "trailer",
            verdict: Verdict::NotChecked,
            summary: "SHA-256 trailer present, not checked (--skip-hash-check)".into(),
            problem_count: 0,
            problems: Vec::new(),
        };
    }
    let body = &bytes[..bytes.len() - TRAILER_LEN];
    let stored = &bytes[bytes.len() - TRAILER_LEN..];
    let computed = sha256(body);
    if computed[..] == stored[..] {
        Layer::new(
            "trailer",
            vec![],
            format!(
                "SHA-256 of the {} bbolt bytes matches the trailer ({})",
                body.len(),
                &hex(stored)[..16]
            ),
        )
    } else {
        Layer::new(
            "trailer",
            vec![format!(
                "SHA-256 mismatch: trailer holds {}, the bytes hash to {}: the file changed after it was saved",
                hex(stored),
                hex(&computed)
            )],
            format!("SHA-256 of the {} bbolt bytes", body.len()),
        )
    }
}

fn meta_layer(snap: &Snapshot) -> Layer {
    let db = &snap.db;
    let mut problems = Vec::new();
    let mut parts = Vec::new();
    for st in db.meta_states() {
        match (&st.problem, &st.meta) {
            (None, Some(m)) => parts.push(format!(
                "meta {}: valid (txid {}, root page {}, {} pages)",
                st.index, m.txid, m.root, m.pgid
            )),
            (Some(p), _) => {
                problems.push(format!("meta page {}: {p}", st.index));
                parts.push(format!("meta {}: invalid", st.index));
            }
            (None, None) => parts.push(format!("meta {}: unreadable", st.index)),
        }
    }
    let m = db.meta();
    let summary = format!(
        "{}; using meta {} (txid {}); page size {}, high-water mark {} pages ({} bytes){}",
        parts.join(", "),
        db.active_meta(),
        m.txid,
        db.page_size(),
        m.pgid,
        db.size(),
        if m.freelist == crate::bolt::PGID_NO_FREELIST {
            ", no freelist (as etcd writes)".to_string()
        } else {
            format!(", freelist at page {}", m.freelist)
        }
    );
    Layer::new("meta", problems, summary)
}

/// [`verify_path`] with explicit options.
pub(crate) fn verify_path_with(
    path: &Path,
    opts: VerifyOptions,
) -> Result<Report, crate::bolt::BoltError> {
    let storage = Storage::map(path)?;
    match Snapshot::from_storage_at(path, storage) {
        Ok(snap) => Ok(verify_snapshot_with(&snap, opts)),
        Err(e) => {
            // Still say what the trailer says: it tells a truncated copy from
            // a corrupted one.
            let raw = Storage::map(path)?;
            Ok(unreadable(path.display().to_string(), raw.bytes(), e, opts))
        }
    }
}

/// Verifies bytes in memory (tests, fuzzing); `name` is used in messages
/// and, as for a path, says whether a trailer is expected.
pub fn verify_bytes(name: &str, bytes: &[u8]) -> Report {
    verify_bytes_with(name, bytes, VerifyOptions::for_path(Path::new(name)))
}

/// [`verify_bytes`] with explicit options.
pub(crate) fn verify_bytes_with(name: &str, bytes: &[u8], opts: VerifyOptions) -> Report {
    match Snapshot::from_bytes(name, bytes.to_vec()) {
        Ok(snap) => verify_snapshot_with(&snap, opts),
        Err(e) => unreadable(name.to_string(), bytes, e, opts),
    }
}

fn unreadable(
    file: String,
    bytes: &[u8],
    e: crate::etcd::EtcdError,
    opts: VerifyOptions,
) -> Report {
    Report {
        restore: Restorability {
            restorable: false,
            needs_skip_hash_check: false,
            reason: "restore refuses it: the database cannot be opened (no valid meta page)".into(),
        },
        file,
        file_size: bytes.len() as u64,
        layers: vec![
            trailer_layer(bytes, opts),
            Layer::new(
                "meta",
                vec![e.to_string()],
                "cannot open the database".into(),
            ),
            Layer::not_checked("structure", "no valid meta page"),
            Layer::not_checked("etcd schema", "no valid meta page"),
        ],
        unreadable: true,
    }
}

/// [`verify_snapshot`] with explicit options.
pub(crate) fn verify_snapshot_with(snap: &Snapshot, opts: VerifyOptions) -> Report {
    let (trailer, (structure, schema)) = rayon::join(
        || trailer_layer(snap.db.file_bytes(), opts),
        || structure_and_schema(snap),
    );
    let layers = vec![trailer, meta_layer(snap), structure, schema];
    Report {
        restore: restorability(snap, &layers, opts),
        file: snap.display(),
        file_size: snap.file_len,
        layers,
        unreadable: false,
    }
}

/// The rules `restore` applies, in its order: a SHA-256 trailer that
/// matches (unless `--skip-hash-check`), a bbolt tree without structural
/// damage, and the `key` and `meta` buckets. A broken meta page or schema
/// problems do not stop it.
fn restorability(snap: &Snapshot, layers: &[Layer], opts: VerifyOptions) -> Restorability {
    let verdict = |name: &str| {
        layers
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.verdict)
            .unwrap_or(Verdict::NotChecked)
    };
    let no = |reason: String| Restorability {
        restorable: false,
        needs_skip_hash_check: false,
        reason,
    };
    let needs_skip = snap.trailer.is_none() && !opts.skip_hash_check;
    if snap.trailer.is_some() && !opts.skip_hash_check && verdict("trailer") == Verdict::Damaged {
        return no("restore refuses it: the SHA-256 trailer does not match the bytes (with --skip-hash-check it would go on to the structure)".into());
    }
    if verdict("structure") == Verdict::Damaged {
        return no("restore refuses it: the bbolt tree is damaged (`restore --salvage` rebuilds from what is readable)".into());
    }
    let schema = layers.iter().find(|l| l.name == "etcd schema");
    if let Some(p) = schema
        .into_iter()
        .flat_map(|l| l.problems.iter())
        .find(|p| p.contains("is missing: not an etcd database"))
    {
        return no(format!("restore refuses it: {p}"));
    }
    let mut reason = if needs_skip {
        "restore succeeds only with --skip-hash-check (no SHA-256 trailer)".to_string()
    } else {
        "restore succeeds".to_string()
    };
    let mut despite = Vec::new();
    if verdict("meta") == Verdict::Damaged {
        despite.push("a broken meta page (it uses the valid one)");
    }
    if verdict("etcd schema") == Verdict::Damaged {
        despite.push("the schema problems (values are copied as they are)");
    }
    if opts.skip_hash_check && verdict("trailer") == Verdict::Damaged {
        despite.push("the trailer (not checked with --skip-hash-check)");
    }
    if !despite.is_empty() {
        reason.push_str(&format!(" despite {}", despite.join(" and ")));
    }
    Restorability {
        restorable: true,
        needs_skip_hash_check: needs_skip,
        reason,
    }
}

fn structure_and_schema(snap: &Snapshot) -> (Layer, Layer) {
    let db = &snap.db;
    let scan = db.scan(|b: &Bucket<'_>, leaves| {
        if b.name == KEY_BUCKET && !b.path.contains('/') {
            Some(check_key_leaves(leaves))
        } else {
            None
        }
    });
    let structure_problems: Vec<String> = scan.issues.iter().map(|e| e.to_string()).collect();
    let buckets = scan.top_level().count();
    let keys: u64 = scan.buckets.iter().map(|b| b.keys).sum();
    let depth = scan.buckets.iter().map(|b| b.depth).max().unwrap_or(0);
    let structure = Layer::new(
        "structure",
        structure_problems,
        format!(
            "bounds, page types, single reference, key order: {} buckets, {} keys, tree depth up to {}; {} of {} pages reachable, {} free ({} bytes; `etcdsnap stats` sizes what a defrag reclaims)",
            buckets,
            keys,
            depth,
            scan.reachable_pages,
            db.page_limit(),
            scan.free_pages,
            scan.free_pages * u64::from(db.page_size())
        ),
    );

    let mut problems = Vec::new();
    let mut parts = Vec::new();
    let names: Vec<&[u8]> = scan.top_level().map(|b| b.bucket.name).collect();
    for required in [KEY_BUCKET, META_BUCKET] {
        if !names.contains(&required) {
            problems.push(format!(
                "bucket {} is missing: not an etcd database",
                String::from_utf8_lossy(required)
            ));
        }
    }
    // The key bucket, from the per-leaf results.
    if let Some(kb) = scan.top_level().find(|b| b.bucket.name == KEY_BUCKET) {
        let mut agg = KeyLeaf::default();
        for l in kb.per_chunk.iter().flatten() {
            agg.revisions += l.revisions;
            agg.tombstones += l.tombstones;
            agg.bump_markers += l.bump_markers;
            agg.min_main = match (agg.min_main, l.min_main) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            agg.max_main = agg.max_main.max(l.max_main);
            problems.extend(l.problems.iter().cloned());
        }
        parts.push(format!(
            "key: {} revisions ({} tombstones{}), revisions {}..{}",
            agg.revisions,
            agg.tombstones,
            if agg.bump_markers > 0 {
                format!(", {} restore bump marker", agg.bump_markers)
            } else {
                String::new()
            },
            agg.min_main.unwrap_or(0),
            agg.max_main.unwrap_or(0)
        ));
    }
    // The small buckets, sequentially.
    let mut meta = MetaInfo::default();
    let mut members = 0;
    let mut leases = 0;
    for b in scan.top_level() {
        let name = b.bucket.name;
        if name != META_BUCKET && name != MEMBERS_BUCKET && name != LEASE_BUCKET {
            continue;
        }
        let bname = String::from_utf8_lossy(name).into_owned();
        let r = db.for_each(&b.bucket, |e| {
            let res: Result<(), ValueError> = if name == META_BUCKET {
                meta.apply(e.key, e.value).map_err(Into::into)
            } else if name == MEMBERS_BUCKET {
                Member::parse(e.key, e.value)
                    .map(|_| members += 1)
                    .map_err(Into::into)
            } else {
                crate::etcd::lease::check(e.key, e.value)
                    .map(|_| leases += 1)
                    .map_err(Into::into)
            };
            if let Err(why) = res {
                problems.push(EtcdError::bad_value(name, e.key, why).to_string());
            }
            Ok(())
        });
        if let Err(e) = r {
            problems.push(format!("bucket {bname}: {e}"));
        }
    }
    if meta.consistent_index.is_none() && names.contains(&META_BUCKET) {
        problems.push("bucket meta: no consistent_index".to_string());
    }
    parts.push(format!(
        "meta: consistent_index {}{}{}",
        meta.consistent_index.unwrap_or(0),
        meta.term.map(|t| format!(", term {t}")).unwrap_or_default(),
        meta.finished_compact_revision
            .map(|r| format!(", compacted at {r}"))
            .unwrap_or_default()
    ));
    parts.push(format!("{members} members, {leases} leases"));
    let schema = if scan.issues.is_empty() {
        Layer::new("etcd schema", problems, parts.join("; "))
    } else {
        // Still report what could be read, but say the structure limits it.
        let mut l = Layer::new("etcd schema", problems, parts.join("; "));
        l.summary
            .push_str(" (structure damaged: only reachable pages were read)");
        l
    };
    (structure, schema)
}

/// What the values of a snapshot need and what the key ring did with them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyUse {
    /// provider → key name → values (all revisions held).
    pub needed: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    pub plain: u64,
    pub decrypted: u64,
    /// Values that did not decrypt (or decode), each naming the etcd key,
    /// revision and key name.
    pub failures: Vec<String>,
    pub failure_count: usize,
    /// Of the failures: damaged bytes (authentication tag mismatch, bad
    /// padding, truncated payload, undecodable plaintext).
    pub damaged_count: usize,
    /// Of the failures: not readable offline (the key is in no loaded
    /// source, or an external KMS wraps the data key).
    pub unreadable_offline_count: usize,
}

/// The `keys` report: which keys were found where (never their bytes),
/// the notes of loading them, and which keys the values need. Its serde
/// shape is the body of the `etcdsnap.keys` document
/// (docs/json/keys.schema.json).
#[derive(Debug, Clone, Serialize)]
pub struct KeysReport {
    pub keys: Vec<crate::crypt::KeySummary>,
    pub notes: Vec<String>,
    pub values: KeyUse,
}

impl KeysReport {
    /// Tries every encrypted value of every held revision with `keys`;
    /// `decode` checks that a plaintext is an object.
    pub fn new<D>(store: &crate::mvcc::Store<'_>, keys: &crate::crypt::KeyRing, decode: D) -> Self
    where
        D: Fn(&[u8], &[u8]) -> Result<(), crate::kube::KubeError> + Sync,
    {
        KeysReport {
            keys: keys.summary(),
            notes: keys.notes().to_vec(),
            values: key_use(store, keys, decode),
        }
    }

    /// 1 when some value cannot be read with these keys, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.values.failure_count > 0)
    }
}

/// Why a value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FailureKind {
    /// The bytes are damaged (or the key is wrong): the check failed.
    Damaged,
    /// No offline key reads it: the key is absent, or a KMS holds it.
    UnreadableOffline,
}

impl FailureKind {
    pub(crate) fn of(e: &crate::crypt::CryptError) -> FailureKind {
        if e.is_unreadable_offline() {
            FailureKind::UnreadableOffline
        } else {
            FailureKind::Damaged
        }
    }

    pub(crate) fn words(self) -> &'static str {
        match self {
            FailureKind::Damaged => "damaged",
            FailureKind::UnreadableOffline => "not readable offline",
        }
    }
}

/// Encrypted values of every revision held, per provider and key name,
/// read from the value prefixes alone (no key needed).
pub fn encrypted_values(
    store: &crate::mvcc::Store<'_>,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> {
    use crate::crypt::providers::{guess_name, split_provider};
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> =
        Default::default();
    for r in store.records() {
        if r.is_delete() {
            continue;
        }
        let (p, n) = match split_provider(r.kv.value) {
            None => continue,
            Some(Ok((kind, rest))) => (kind.as_str().to_string(), guess_name(rest)),
            Some(Err(())) => ("unknown".to_string(), guess_name(r.kv.value)),
        };
        *out.entry(p).or_default().entry(n).or_default() += 1;
    }
    out
}

/// "aescbc key 1: 20, aesgcm key k: 3".
pub fn describe_needed(
    needed: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> String {
    needed
        .iter()
        .flat_map(|(p, names)| names.iter().map(move |(n, c)| format!("{p} key {n}: {c}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The decryption layer when no key was given or found: what was not
/// checked.
pub(crate) fn decryption_not_checked(
    needed: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> Layer {
    let n: u64 = needed.values().flat_map(|m| m.values()).sum();
    if n == 0 {
        return Layer {
            name: "decryption",
            verdict: Verdict::Absent,
            summary: "no value is encrypted at rest".into(),
            problem_count: 0,
            problems: Vec::new(),
        };
    }
    Layer::not_checked(
        "decryption",
        &format!(
            "not checked — {n} values under keys {} (give --keys: the backup's static_kuberesources tarball or an EncryptionConfiguration)",
            describe_needed(needed)
        ),
    )
}

/// The "backup set" layer of an OpenShift backup dir: the parts a restore
/// needs beside the snapshot. `missing` names each absent part.
pub(crate) fn backup_set_layer(present: String, missing: Vec<String>) -> Layer {
    let mut l = Layer::new("backup set", missing, present);
    if l.problem_count > 0 {
        l.verdict = Verdict::Incomplete;
    }
    l
}

/// The decode check of `verify --keys` and `keys`: whether a (decrypted)
/// value decodes as an object.
pub fn value_decodes(key: &[u8], value: &[u8]) -> Result<(), crate::kube::KubeError> {
    crate::kube::decode_value(key, value).map(|_| ())
}

/// Tries every value of every revision held with `keys` (in parallel).
/// `decode` checks that a plaintext decodes as an object (normally
/// [`value_decodes`]).
pub fn key_use<D>(store: &crate::mvcc::Store<'_>, keys: &crate::crypt::KeyRing, decode: D) -> KeyUse
where
    D: Fn(&[u8], &[u8]) -> Result<(), crate::kube::KubeError> + Sync,
{
    use crate::crypt::providers::{guess_name, split_provider};
    use rayon::prelude::*;

    struct One {
        needed: Option<(String, String)>,
        plain: bool,
        failure: Option<(FailureKind, String)>,
    }
    let results: Vec<One> = store
        .records()
        .par_iter()
        .filter(|r| !r.is_delete() && !r.kv.value.is_empty())
        .map(|r| {
            let (k, v) = (r.kv.key, r.kv.value);
            let name = String::from_utf8_lossy(k);
            let needed = match split_provider(v) {
                None => None,
                Some(Ok((kind, rest))) => Some((kind.as_str().to_string(), guess_name(rest))),
                Some(Err(())) => Some(("unknown".to_string(), guess_name(v))),
            };
            let plain = needed.is_none();
            #[allow(clippy::let_and_return)]
            let failure = match keys.decrypt(k, v) {
                Ok(_) if plain => None,
                Ok(d) => decode(k, &d.plaintext).err().map(|e| {
                    (
                        FailureKind::Damaged,
                        format!(
                            "damaged: {name} (revision {}): decrypted but does not decode: {e}",
                            r.rev.main
                        ),
                    )
                }),
                Err(e) => {
                    let kind = FailureKind::of(&e);
                    Some((
                        kind,
                        format!("{}: revision {}: {e}", kind.words(), r.rev.main),
                    ))
                }
            };
            One {
                needed,
                plain,
                failure,
            }
        })
        .collect();
    let mut u = KeyUse::default();
    for o in results {
        if o.plain {
            u.plain += 1;
        }
        if let Some((p, n)) = o.needed {
            *u.needed.entry(p).or_default().entry(n).or_default() += 1;
            if o.failure.is_none() {
                u.decrypted += 1;
            }
        }
        if let Some((kind, f)) = o.failure {
            u.failure_count += 1;
            match kind {
                FailureKind::Damaged => u.damaged_count += 1,
                FailureKind::UnreadableOffline => u.unreadable_offline_count += 1,
            }
            if u.failures.len() < MAX_LISTED {
                u.failures.push(f);
            }
        }
    }
    u
}

/// The "decryption" layer of `verify --keys`: every encrypted value must
/// decrypt and decode.
pub fn decryption_layer(u: &KeyUse) -> Layer {
    let per: Vec<String> = u
        .needed
        .iter()
        .flat_map(|(p, names)| names.iter().map(move |(n, c)| format!("{p} key {n}: {c}")))
        .collect();
    let summary = format!(
        "{} values plain, {} decrypted and decoded{}",
        u.plain,
        u.decrypted,
        if per.is_empty() {
            String::new()
        } else {
            format!(" ({})", per.join(", "))
        }
    );
    let mut l = Layer::new("decryption", u.failures.clone(), summary);
    l.problem_count = u.failure_count;
    if u.damaged_count > 0 {
        l.verdict = Verdict::Damaged;
    } else if u.unreadable_offline_count > 0 {
        l.verdict = Verdict::UnreadableOffline;
    }
    if u.failure_count > 0 {
        l.summary.push_str(&format!(
            "; {} damaged, {} not readable offline",
            u.damaged_count, u.unreadable_offline_count
        ));
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_report_with_and_without_the_tarball() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/encrypted");
        let snap = Snapshot::open(&dir.join("snapshot_2026-11-21_101500.db")).unwrap();
        let store = crate::mvcc::Store::open(&snap).unwrap();
        let decode = value_decodes;
        let none = KeysReport::new(&store, &crate::crypt::KeyRing::new(), decode);
        assert!(none.keys.is_empty());
        assert_eq!(none.values.decrypted, 0);
        let encrypted: u64 = encrypted_values(&store)
            .values()
            .flat_map(|m| m.values())
            .sum();
        assert_eq!(none.values.failure_count as u64, encrypted);
        assert_eq!(none.exit_code(), 1);

        let mut ring = crate::crypt::KeyRing::new();
        ring.load_tarball(&dir.join("static_kuberesources_2026-11-21_101500.tar.gz"))
            .unwrap();
        let r = KeysReport::new(&store, &ring, decode);
        assert!(!r.keys.is_empty());
        assert!(r.values.decrypted > 0);
        assert!(r.values.failure_count < none.values.failure_count);
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["keys", "notes", "values"]);
    }
}
