//! Building an etcd data dir from a snapshot (docs/wal-and-snap.md, "Restore"),
//! as `etcdutl snapshot restore` (3.5) and `etcdctl snapshot restore` (3.4)
//! do, with stricter safety:
//!
//! 1. Flags are checked and the new members computed before anything is
//!    touched.
//! 2. The snapshot is verified: its SHA-256 trailer (unless
//!    `skip_hash_check`; a raw bbolt file without a trailer needs it) and
//!    its whole bbolt structure.
//! 3. Everything is built in temp dirs on the targets' filesystems
//!    (`place`; target paths are canonicalised and checked first): a compact
//!    copy of the db with `members`/`members_removed` rewritten, meta
//!    `consistent_index` (and for 3.5 `term` and `confState`), and
//!    optionally a revision bump marked compacted; the `.snap` file; the
//!    WAL. Files are 0600, dirs 0700, all fsynced.
//! 4. Only then are missing parent dirs created and the temp dirs moved
//!    into place. On any failure everything this run created is removed
//!    and the targets are left as they were.
//!
//! Unlike etcdctl 3.4 (which leaves the `members` bucket as the old cluster
//! had it — observed on 3.4.23), members are rewritten for both versions,
//! so a later upgrade that reads membership from the backend sees the
//! restored cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use thiserror::Error;

use super::ids::{cluster_id, member_id};
use super::place::{self, fsync_dir, mkdir_all_0700};
use super::snapfile::{self, NewMember};
use super::wal::{self, WalEncoder};
use crate::bolt::{copy_db, BoltWriter, BucketEdit, CopyError, WriteSummary, WriterOptions};
use crate::etcd::meta::{conf_state_value, u64_value};
use crate::etcd::schema::{
    CONF_STATE_KEY, CONSISTENT_INDEX_KEY, KEY_BUCKET, MEMBERS_BUCKET, MEMBERS_REMOVED_BUCKET,
    META_BUCKET, SCHEDULED_COMPACT_KEY, TERM_KEY,
};
use crate::etcd::snapshot::hex;
use crate::etcd::status::StatusHasher;
use crate::etcd::{EtcdError, Revision, Snapshot, Status};
use crate::proto::raftpb;

/// Which etcd's restore to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EtcdVersion {
    #[serde(rename = "3.4")]
    V3_4,
    #[serde(rename = "3.5")]
    V3_5,
}

/// An `--etcd-version` this restore cannot reproduce.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported etcd version {0:?} (expected 3.4 or 3.5)")]
pub struct UnsupportedVersion(pub String);

impl std::str::FromStr for EtcdVersion {
    type Err = UnsupportedVersion;
    fn from_str(s: &str) -> Result<Self, UnsupportedVersion> {
        match s {
            "3.4" => Ok(EtcdVersion::V3_4),
            "3.5" => Ok(EtcdVersion::V3_5),
            _ => Err(UnsupportedVersion(s.to_string())),
        }
    }
}

impl std::fmt::Display for EtcdVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EtcdVersion::V3_4 => "3.4",
            EtcdVersion::V3_5 => "3.5",
        })
    }
}

/// Restore settings, with etcdutl's defaults.
#[derive(Debug, Clone)]
pub struct RestoreConfig {
    pub name: String,
    pub initial_cluster: String,
    pub initial_cluster_token: String,
    /// Comma-separated.
    pub initial_advertise_peer_urls: String,
    pub data_dir: PathBuf,
    /// WAL files go straight into this dir; default `<data>/member/wal`.
    pub wal_dir: Option<PathBuf>,
    pub skip_hash_check: bool,
    pub mark_compacted: bool,
    pub bump_revision: u64,
    /// Detected from the snapshot when `None`.
    pub etcd_version: Option<EtcdVersion>,
}

impl Default for RestoreConfig {
    fn default() -> Self {
        RestoreConfig {
            name: "default".into(),
            initial_cluster: "default=http://localhost:2380".into(),
            initial_cluster_token: "etcd-cluster".into(),
            initial_advertise_peer_urls: "http://localhost:2380".into(),
            data_dir: PathBuf::new(),
            wal_dir: None,
            skip_hash_check: false,
            mark_compacted: false,
            bump_revision: 0,
            etcd_version: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum RestoreError {
    /// Bad flags: nothing was touched.
    #[error("{0}")]
    Usage(String),
    #[error("{path}: exists and is not empty; restore only into a missing or empty directory")]
    NotEmpty { path: String },
    #[error("{path}: snapshot missing hash but --skip-hash-check=false (a raw member/snap/db needs --skip-hash-check)")]
    MissingHash { path: String },
    #[error("{path}: SHA-256 mismatch: trailer says {stored}, the data hashes to {computed} (the snapshot is damaged or truncated)")]
    HashMismatch {
        path: String,
        stored: String,
        computed: String,
    },
    #[error(transparent)]
    Snapshot(#[from] EtcdError),
    #[error("{path}: writing the restored db: {source}")]
    Copy {
        path: String,
        #[source]
        source: CopyError,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an etcd snapshot: it has no {bucket:?} bucket")]
    NotEtcd { path: String, bucket: String },
    #[error("{0}")]
    Other(String),
    /// The restore failed and some of what it created could not be removed.
    #[error("{cause}; and these could not be removed: {}", left.join(", "))]
    Incomplete {
        cause: Box<RestoreError>,
        left: Vec<String>,
    },
}

impl RestoreError {
    /// True when the input itself is bad (hash or structure): exit 1.
    pub fn is_problem_found(&self) -> bool {
        if let RestoreError::Incomplete { cause, .. } = self {
            return cause.is_problem_found();
        }
        matches!(
            self,
            RestoreError::HashMismatch { .. } | RestoreError::Snapshot(EtcdError::Damaged { .. })
        )
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The members a restore creates, in ascending ID order, and the IDs.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ClusterPlan {
    pub members: Vec<PlannedMember>,
    pub local_id: u64,
    pub cluster_id: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedMember {
    pub id: u64,
    pub name: String,
    pub peer_urls: Vec<String>,
}

impl ClusterPlan {
    fn new_members(&self) -> Vec<NewMember> {
        self.members
            .iter()
            .map(|m| NewMember {
                id: m.id,
                name: m.name.clone(),
                peer_urls: m.peer_urls.clone(),
            })
            .collect()
    }
}

/// A URL etcd's `types.NewURLs` would refuse, with the URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum UrlError {
    #[error("URL {0:?} has no scheme")]
    NoScheme(String),
    #[error("URL scheme must be http, https, unix, or unixs: {0}")]
    Scheme(String),
    #[error("URL must not contain a path: {0}")]
    Path(String),
    #[error("URL address does not have the form \"host:port\": {0}")]
    NoPort(String),
}

/// Parses a comma-separated URL list as etcd's `types.NewURLs`: each URL
/// needs a scheme http, https, unix or unixs, a `host:port` for http(s), no
/// path. Returned sorted.
pub(crate) fn parse_urls(s: &str) -> Result<Vec<String>, UrlError> {
    let mut out = Vec::new();
    for u in s.split(',') {
        let u = u.trim();
        let (scheme, rest) = u
            .split_once("://")
            .ok_or_else(|| UrlError::NoScheme(u.to_string()))?;
        let scheme_lc = scheme.to_ascii_lowercase();
        let scheme = scheme_lc.as_str();
        if !matches!(scheme, "http" | "https" | "unix" | "unixs") {
            return Err(UrlError::Scheme(u.to_string()));
        }
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if !path.is_empty() {
            return Err(UrlError::Path(u.to_string()));
        }
        if matches!(scheme, "http" | "https") && !has_port(host) {
            return Err(UrlError::NoPort(u.to_string()));
        }
        // Go's url.Parse lowercases the scheme; etcd hashes the parsed form.
        out.push(format!("{scheme}://{rest}"));
    }
    out.sort();
    Ok(out)
}

fn has_port(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once("]:")
            .map(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(false);
    }
    match host.rsplit_once(':') {
        Some((h, p)) => !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Checks the cluster flags as etcd's `VerifyBootstrap` does and computes
/// the members: the local name must be in `--initial-cluster`, its URLs
/// must equal `--initial-advertise-peer-urls`, no URL may repeat, and IDs
/// must be distinct and non-zero.
pub(crate) fn plan(cfg: &RestoreConfig) -> Result<ClusterPlan, RestoreError> {
    let usage = RestoreError::Usage;
    if cfg.initial_cluster.trim().is_empty() {
        return Err(usage("initial cluster unset (--initial-cluster)".into()));
    }
    if cfg.name.is_empty() {
        return Err(usage("--name must not be empty".into()));
    }
    // name → URLs; a name may be given several times.
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in cfg.initial_cluster.split(',').filter(|p| !p.is_empty()) {
        let (name, url) = pair.split_once('=').ok_or_else(|| {
            usage(format!(
                "--initial-cluster: {pair:?} is not of the form name=url"
            ))
        })?;
        let url = parse_urls(url).map_err(|e| usage(format!("--initial-cluster: {e}")))?;
        by_name
            .entry(name.trim().to_string())
            .or_default()
            .extend(url);
    }
    let mut seen = std::collections::BTreeSet::new();
    for urls in by_name.values_mut() {
        urls.sort();
        for u in urls.iter() {
            if !seen.insert(u.clone()) {
                return Err(usage(format!(
                    "initial cluster {} has duplicate url {u}",
                    cfg.initial_cluster
                )));
            }
        }
    }
    let local_urls = by_name.get(&cfg.name).ok_or_else(|| {
        usage(format!(
            "cannot find local etcd member {:?} in --initial-cluster {}",
            cfg.name, cfg.initial_cluster
        ))
    })?;
    let adv = parse_urls(&cfg.initial_advertise_peer_urls)
        .map_err(|e| usage(format!("--initial-advertise-peer-urls: {e}")))?;
    if &adv != local_urls {
        return Err(usage(format!(
            "--initial-cluster has {}={} but --initial-advertise-peer-urls is {} (they must list the same URLs)",
            cfg.name,
            local_urls.join(","),
            adv.join(",")
        )));
    }
    let mut members = Vec::new();
    for (name, urls) in &by_name {
        let id = member_id(urls, &cfg.initial_cluster_token);
        if id == 0 {
            return Err(usage(format!("member {name}: cannot use 0 as member id")));
        }
        if members.iter().any(|m: &PlannedMember| m.id == id) {
            return Err(usage(format!(
                "member {name}: member exists with identical ID {id:x}"
            )));
        }
        members.push(PlannedMember {
            id,
            name: name.clone(),
            peer_urls: urls.clone(),
        });
    }
    members.sort_by_key(|m| m.id);
    let local_id = member_id(local_urls, &cfg.initial_cluster_token);
    let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
    if cfg.mark_compacted && cfg.bump_revision == 0 {
        return Err(usage(
            "--mark-compacted needs --bump-revision greater than 0".into(),
        ));
    }
    if cfg.bump_revision > i64::MAX as u64 / 2 {
        return Err(usage(format!(
            "--bump-revision {} is too large",
            cfg.bump_revision
        )));
    }
    Ok(ClusterPlan {
        cluster_id: cluster_id(&ids),
        local_id,
        members,
    })
}

/// What a restore did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    pub data_dir: PathBuf,
    pub wal_dir: PathBuf,
    pub snap_file: PathBuf,
    pub etcd_version: EtcdVersion,
    /// True when the version came from the snapshot, not a flag.
    pub version_detected: bool,
    pub member_id: String,
    pub cluster_id: String,
    pub members: Vec<PlannedMember>,
    pub hash_checked: bool,
    /// The source's status numbers.
    pub source: Status,
    /// The restored db's status numbers.
    pub restored: Status,
    /// The revision written by `--bump-revision` (and marked compacted with
    /// `--mark-compacted`).
    pub bumped_revision: Option<i64>,
    pub consistent_index: u64,
    pub db_pages: u64,
    pub seconds: f64,
    /// Things the operator should know about the restored cluster.
    pub warnings: Vec<String>,
}

/// Detects the etcd version that wrote a snapshot: 3.5 writes `term` and
/// `confState` into the meta bucket and its cluster version is ≥ 3.5.
pub(crate) fn detect_version(detail: &crate::etcd::StatusDetail) -> EtcdVersion {
    let cv35 = detail
        .cluster_version
        .as_deref()
        .map(|v| !v.starts_with("3.4") && !v.starts_with("3.3") && !v.starts_with("3.2"))
        .unwrap_or(false);
    if detail.meta.term.is_some() || detail.meta.conf_state.is_some() || cv35 {
        EtcdVersion::V3_5
    } else {
        EtcdVersion::V3_4
    }
}

/// Restores `input` into `cfg.data_dir` (and `cfg.wal_dir`), all or
/// nothing (see [`super::place`]).
pub fn restore(input: &Path, cfg: &RestoreConfig) -> Result<RestoreReport, RestoreError> {
    let t0 = Instant::now();
    let plan = plan(cfg)?;
    if cfg.data_dir.as_os_str().is_empty() {
        return Err(RestoreError::Usage("--data-dir is empty".into()));
    }
    // Every precondition on canonical paths, before anything is written.
    let data_target = place::resolve(&cfg.data_dir)?;
    let wal_target = match &cfg.wal_dir {
        Some(w) => {
            let t = place::resolve(w)?;
            if t.path.starts_with(&data_target.path) || data_target.path.starts_with(&t.path) {
                return Err(RestoreError::Usage(format!(
                    "--wal-dir {} is {} --data-dir {}: it must lie outside it (or be left unset)",
                    w.display(),
                    if t.path == data_target.path {
                        "the same dir as"
                    } else if t.path.starts_with(&data_target.path) {
                        "inside"
                    } else {
                        "a parent of"
                    },
                    cfg.data_dir.display()
                )));
            }
            Some(t)
        }
        None => None,
    };

    // Verify the input.
    let snap = Snapshot::open(input)?;
    let path_s = snap.display();
    let check_hash = snap.trailer.is_some() && !cfg.skip_hash_check;
    if snap.trailer.is_none() && !cfg.skip_hash_check {
        return Err(RestoreError::MissingHash { path: path_s });
    }
    // Temp dirs on the targets' filesystems; no other dir is created
    // before everything is built and checked.
    let data_stage = place::Stage::new(data_target)?;
    let wal_stage = match wal_target {
        Some(t) => match place::Stage::new(t) {
            Ok(s) => Some(s),
            Err(e) => return Err(discard(e, vec![data_stage])),
        },
        None => None,
    };
    // The SHA-256 of the input (one core) runs beside everything up to the
    // final move: the scan, the rewrite and the WAL. A mismatch drops the
    // temp dirs and leaves the targets untouched.
    let built = std::thread::scope(|sc| {
        let hasher = sc.spawn(|| check_hash.then(|| snap.compute_sha256()));
        let built = build(
            &snap,
            cfg,
            &plan,
            &data_stage.tmp,
            wal_stage.as_ref().map(|s| s.tmp.as_path()),
            t0,
        );
        let computed = hasher.join().ok().flatten();
        if let (Some(t), Some(computed)) = (&snap.trailer, computed) {
            if computed != t.stored {
                return Err(RestoreError::HashMismatch {
                    path: path_s.clone(),
                    stored: hex(&t.stored),
                    computed: hex(&computed),
                });
            }
        }
        built
    });
    // Into place: the WAL dir first (if separate), then the data dir; a
    // failure of either removes both.
    let mut stages: Vec<place::Stage> = wal_stage.into_iter().collect();
    stages.push(data_stage);
    let mut report = match built {
        Ok(r) => r,
        Err(e) => return Err(discard(e, stages)),
    };
    place::place_all(stages)?;
    report.hash_checked = check_hash;
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}

/// Removes the temp dirs after `e`; names what could not be removed.
fn discard(e: RestoreError, stages: Vec<place::Stage>) -> RestoreError {
    let left: Vec<String> = stages.into_iter().filter_map(|s| s.discard()).collect();
    if left.is_empty() {
        e
    } else {
        RestoreError::Incomplete {
            cause: Box::new(e),
            left,
        }
    }
}

/// Scans the input and builds the data dir (and WAL dir) in temp dirs.
fn build(
    snap: &Snapshot,
    cfg: &RestoreConfig,
    plan: &ClusterPlan,
    data_tmp: &Path,
    wal_tmp: Option<&Path>,
    t0: Instant,
) -> Result<RestoreReport, RestoreError> {
    let detail = crate::etcd::status::detail(snap);
    let detail = detail?;
    for required in [KEY_BUCKET, META_BUCKET] {
        if !detail.buckets.iter().any(|b| b.name.as_bytes() == required) {
            return Err(RestoreError::NotEtcd {
                path: snap.display(),
                bucket: String::from_utf8_lossy(required).into_owned(),
            });
        }
    }
    let (version, detected) = match cfg.etcd_version {
        Some(v) => (v, false),
        None => (detect_version(&detail), true),
    };
    let source = detail.status;
    let mut warnings = Vec::new();
    if let Some(sv) = &detail.meta.storage_version {
        warnings.push(format!(
            "the snapshot was written by etcd {sv} (meta storageVersion); restored with the etcd {version} layout, which etcd ≥ 3.6 upgrades at start"
        ));
    }
    if let Some(a) = detail
        .buckets
        .iter()
        .find(|b| b.name == "alarm" && b.keys > 0)
    {
        warnings.push(format!(
            "the alarm bucket holds {} alarm(s) (e.g. NOSPACE); they stay active after start: check with `etcdctl alarm list`, clear with `etcdctl alarm disarm`",
            a.keys
        ));
    }

    // The edits of the db.
    let n = plan.members.len() as u64;
    let members = plan.new_members();
    let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
    let mut edits: BTreeMap<Vec<u8>, BucketEdit> = BTreeMap::new();
    let mut mset = BTreeMap::new();
    for m in &members {
        mset.insert(
            format!("{:x}", m.id).into_bytes(),
            Some(m.json().into_bytes()),
        );
    }
    edits.insert(
        MEMBERS_BUCKET.to_vec(),
        BucketEdit {
            clear: true,
            set: mset,
        },
    );
    edits.insert(
        MEMBERS_REMOVED_BUCKET.to_vec(),
        BucketEdit {
            clear: true,
            set: BTreeMap::new(),
        },
    );
    let mut meta = BTreeMap::new();
    meta.insert(CONSISTENT_INDEX_KEY.to_vec(), Some(u64_value(n)));
    if version == EtcdVersion::V3_4 {
        // etcd 3.4 never updates these, so from a 3.5 snapshot they would be
        // stale the moment 3.4 runs; a later upgrade to 3.5 must not trust
        // them. A 3.4 backend simply has neither.
        meta.insert(TERM_KEY.to_vec(), None);
        meta.insert(CONF_STATE_KEY.to_vec(), None);
    } else {
        meta.insert(TERM_KEY.to_vec(), Some(u64_value(1)));
        meta.insert(CONF_STATE_KEY.to_vec(), Some(conf_state_value(&ids)));
    }
    let mut bumped = None;
    if cfg.bump_revision > 0 {
        let rev = source.revision.saturating_add(cfg.bump_revision as i64);
        let key = Revision {
            main: rev,
            sub: 0,
            tombstone: false,
        }
        .to_bytes();
        let mut kset = BTreeMap::new();
        kset.insert(key.clone(), Some(Vec::new()));
        edits.insert(
            KEY_BUCKET.to_vec(),
            BucketEdit {
                clear: false,
                set: kset,
            },
        );
        if cfg.mark_compacted {
            meta.insert(SCHEDULED_COMPACT_KEY.to_vec(), Some(key));
        }
        bumped = Some(rev);
    }
    edits.insert(
        META_BUCKET.to_vec(),
        BucketEdit {
            clear: false,
            set: meta,
        },
    );

    // Build everything in the temp dirs.
    let snap_dir = data_tmp.join("member").join("snap");
    mkdir_all_0700(&snap_dir).map_err(io(&snap_dir))?;
    let wal_build_dir = match wal_tmp {
        Some(t) => t.to_path_buf(),
        None => {
            let d = data_tmp.join("member").join("wal");
            mkdir_all_0700(&d).map_err(io(&d))?;
            d
        }
    };

    let db_path = snap_dir.join("db");
    let mut hasher = StatusHasher::default();
    let summary = write_db(snap, &db_path, edits, &mut hasher)?;
    // The written db's status numbers come from the writer's own stream;
    // reading it back only checks that its metas and root open (mapping
    // the whole output would double the peak memory).
    let written = Snapshot::open(&db_path)?;
    written
        .db
        .buckets()
        .map_err(|source| crate::etcd::EtcdError::Bolt {
            path: db_path.display().to_string(),
            source,
        })?;
    drop(written);
    let restored = hasher.status(summary.bytes);

    let snap_bytes = snapfile::encode(
        snapfile::v2_store_json(&members)
            .map_err(|e| RestoreError::Other(e.to_string()))?
            .into_bytes(),
        &ids,
        n,
        1,
    );
    let snap_file = snapfile::write(&snap_dir, &snap_bytes, 1, n).map_err(io(&snap_dir))?;

    let wal_bytes = wal_records(plan, &members, version);
    let wal_file = wal_build_dir.join("0000000000000000-0000000000000000.wal");
    wal::write_segment(&wal_file, &wal_bytes).map_err(io(&wal_file))?;

    for d in [
        snap_dir.clone(),
        wal_build_dir.clone(),
        data_tmp.join("member"),
        data_tmp.to_path_buf(),
    ] {
        fsync_dir(&d).map_err(io(&d))?;
    }
    let wal_dir = cfg
        .wal_dir
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("member").join("wal"));
    let snap_name = snap_file.file_name().map(PathBuf::from).unwrap_or_default();
    let report = RestoreReport {
        snap_file: cfg.data_dir.join("member").join("snap").join(snap_name),
        data_dir: cfg.data_dir.clone(),
        wal_dir,
        etcd_version: version,
        version_detected: detected,
        member_id: format!("{:x}", plan.local_id),
        cluster_id: format!("{:x}", plan.cluster_id),
        members: plan.members.clone(),
        hash_checked: false,
        source,
        restored,
        bumped_revision: bumped,
        consistent_index: n,
        db_pages: summary.pages,
        seconds: t0.elapsed().as_secs_f64(),
        warnings,
    };
    Ok(report)
}

fn write_db(
    snap: &Snapshot,
    path: &Path,
    edits: BTreeMap<Vec<u8>, BucketEdit>,
    hasher: &mut StatusHasher,
) -> Result<WriteSummary, RestoreError> {
    let copy_err = |source: CopyError| RestoreError::Copy {
        path: path.display().to_string(),
        source,
    };
    let opts = WriterOptions {
        page_size: snap.db.page_size(),
        ..WriterOptions::default()
    };
    let mut w = BoltWriter::create(path, opts)
        .map_err(|e| copy_err(e.into()))?
        .observed(hasher);
    copy_db(&snap.db, &mut w, edits).map_err(copy_err)?;
    w.finish_file().map_err(|e| copy_err(e.into()))
}

/// The WAL records of a restore: crc, metadata, empty snapshot, one
/// ConfChange entry per member, HardState, snapshot at the commit index.
pub(crate) fn wal_records(
    plan: &ClusterPlan,
    members: &[NewMember],
    version: EtcdVersion,
) -> Vec<u8> {
    use prost::Message;
    let mut w = WalEncoder::new(0);
    w.metadata(wal::metadata_bytes(plan.local_id, plan.cluster_id));
    w.snapshot(&wal::wal_snapshot(0, 0, None));
    for (i, m) in members.iter().enumerate() {
        let cc = raftpb::ConfChange {
            id: Some(0),
            r#type: Some(raftpb::ConfChangeType::ConfChangeAddNode as i32),
            node_id: Some(m.id),
            context: Some(m.json().into_bytes()),
        };
        w.entry(&raftpb::Entry {
            r#type: Some(raftpb::EntryType::EntryConfChange as i32),
            term: Some(1),
            index: Some(i as u64 + 1),
            data: Some(cc.encode_to_vec()),
        });
    }
    let n = members.len() as u64;
    let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
    w.state(&raftpb::HardState {
        term: Some(1),
        vote: ids.first().copied(),
        commit: Some(n),
    });
    let conf = match version {
        EtcdVersion::V3_5 => Some(wal::conf_state(&ids)),
        EtcdVersion::V3_4 => None,
    };
    w.snapshot(&wal::wal_snapshot(n, 1, conf));
    w.bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn cfg(name: &str, cluster: &str, adv: &str) -> RestoreConfig {
        RestoreConfig {
            name: name.into(),
            initial_cluster: cluster.into(),
            initial_advertise_peer_urls: adv.into(),
            initial_cluster_token: "etcd-cluster-1".into(),
            ..Default::default()
        }
    }

    /// A small etcd-like snapshot with a SHA-256 trailer, made by our writer.
    fn synthetic_snapshot(path: &Path) {
        let mut w = BoltWriter::create(path, WriterOptions::default()).unwrap();
        for b in [
            "alarm",
            "cluster",
            "key",
            "members",
            "members_removed",
            "meta",
        ] {
            w.begin_bucket(b.as_bytes(), 0).unwrap();
            match b {
                // AlarmMember{memberID: 1, alarm: NOSPACE}
                "alarm" => w.put(&[0x08, 0x01, 0x10, 0x01], b"").unwrap(),
                "cluster" => w.put(b"clusterVersion", b"3.5.0").unwrap(),
                "key" => {
                    for i in 1..=20i64 {
                        let k = format!("/k{i:02}");
                        let kv = crate::etcd::KeyValue {
                            key: k.as_bytes(),
                            create_revision: i,
                            mod_revision: i,
                            version: 1,
                            value: b"v",
                            lease: 0,
                        };
                        let r = Revision {
                            main: i,
                            sub: 0,
                            tombstone: false,
                        };
                        w.put(&r.to_bytes(), &kv.encode()).unwrap();
                    }
                }
                "members" => w
                    .put(b"1", br#"{"id":1,"peerURLs":["http://old:2380"]}"#)
                    .unwrap(),
                "members_removed" => w.put(b"2", b"removed").unwrap(),
                "meta" => {
                    w.put(b"consistent_index", &99u64.to_be_bytes()).unwrap();
                    w.put(b"term", &7u64.to_be_bytes()).unwrap();
                }
                _ => {}
            }
            w.end_bucket().unwrap();
        }
        w.finish_file().unwrap();
        let digest = crate::etcd::snapshot::sha256(&fs::read(path).unwrap());
        let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
        std::io::Write::write_all(&mut f, &digest).unwrap();
    }

    #[test]
    fn restore_synthetic_and_fail_cleanly() {
        let t = tempfile::tempdir().unwrap();
        let snap = t.path().join("s.db");
        synthetic_snapshot(&snap);
        let work = t.path().join("work");
        fs::create_dir(&work).unwrap();
        let mut c = RestoreConfig {
            data_dir: work.join("data"),
            bump_revision: 5,
            mark_compacted: true,
            ..Default::default()
        };
        // A WAL dir that cannot be created: nothing is left behind.
        let blocker = t.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        c.wal_dir = Some(blocker.join("wal"));
        assert!(restore(&snap, &c).is_err());
        assert_eq!(fs::read_dir(&work).unwrap().count(), 0);
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 3);

        c.wal_dir = None;
        let r = restore(&snap, &c).unwrap();
        assert_eq!(r.etcd_version, EtcdVersion::V3_5);
        assert_eq!(r.bumped_revision, Some(25));
        assert!(
            r.warnings.iter().any(|w| w.contains("alarm disarm")),
            "{:?}",
            r.warnings
        );
        assert_eq!(r.restored.revision, 25);
        assert_eq!(r.source.total_key + 2, r.restored.total_key);
        let db = crate::bolt::Db::open(&work.join("data/member/snap/db")).unwrap();
        let get = |b: &[u8]| {
            let mut m = BTreeMap::new();
            db.for_each(&db.bucket(b).unwrap(), |e| {
                m.insert(e.key.to_vec(), e.value.to_vec());
                Ok(())
            })
            .unwrap();
            m
        };
        let meta = get(b"meta");
        assert_eq!(meta[b"consistent_index".as_slice()], 1u64.to_be_bytes());
        assert_eq!(meta[b"term".as_slice()], 1u64.to_be_bytes());
        assert_eq!(
            meta[b"confState".as_slice()],
            br#"{"voters":[10276657743932975437],"auto_leave":false}"#
        );
        let bump = Revision {
            main: 25,
            sub: 0,
            tombstone: false,
        }
        .to_bytes();
        assert_eq!(meta[b"scheduledCompactRev".as_slice()], bump);
        assert_eq!(get(b"key")[&bump], Vec::<u8>::new());
        assert!(get(b"members_removed").is_empty());
        assert_eq!(
            get(b"members").keys().cloned().collect::<Vec<_>>(),
            vec![b"8e9e05c52164694d".to_vec()]
        );
        // A bbolt file that is not an etcd snapshot is refused.
        let other = t.path().join("other.db");
        let mut w = BoltWriter::create(&other, WriterOptions::default()).unwrap();
        w.begin_bucket(b"key", 0).unwrap();
        w.end_bucket().unwrap();
        w.finish_file().unwrap();
        let c2 = RestoreConfig {
            data_dir: work.join("other"),
            skip_hash_check: true,
            ..Default::default()
        };
        let e = restore(&other, &c2).unwrap_err();
        assert!(e.to_string().contains("no \"meta\" bucket"), "{e}");
        assert!(!work.join("other").exists());
        // Now not empty: refused.
        assert!(matches!(
            restore(&snap, &c),
            Err(RestoreError::NotEmpty { .. })
        ));
    }

    #[test]
    fn plan_defaults() {
        let p = plan(&RestoreConfig::default()).unwrap();
        assert_eq!(format!("{:x}", p.local_id), "8e9e05c52164694d");
        assert_eq!(format!("{:x}", p.cluster_id), "cdf818194e3a8c32");
    }

    #[test]
    fn plan_checks_flags() {
        let bad = [
            cfg("x", "m1=http://127.0.0.1:1", "http://127.0.0.1:1"),
            cfg("m1", "m1=http://127.0.0.1:1", "http://127.0.0.1:2"),
            cfg(
                "m1",
                "m1=http://127.0.0.1:1,m2=http://127.0.0.1:1",
                "http://127.0.0.1:1",
            ),
            cfg("m1", "m1=ftp://127.0.0.1:1", "ftp://127.0.0.1:1"),
            cfg("m1", "m1=http://127.0.0.1", "http://127.0.0.1"),
            cfg("m1", "m1=http://127.0.0.1:1/p", "http://127.0.0.1:1/p"),
            cfg("m1", "m1", "http://127.0.0.1:1"),
        ];
        for c in bad {
            let e = plan(&c).unwrap_err();
            assert!(matches!(e, RestoreError::Usage(_)), "{e}");
        }
        let mut c = cfg("m1", "m1=http://127.0.0.1:1", "http://127.0.0.1:1");
        c.mark_compacted = true;
        assert!(plan(&c).is_err());
        c.bump_revision = 10;
        assert!(plan(&c).is_ok());
    }

    /// The WAL of a 3-member restore equals etcdutl 3.5.1's, byte for byte
    /// (up to the zero fill).
    #[test]
    fn wal_matches_etcdutl_three_members() {
        let c = cfg(
            "b",
            "a=http://127.0.0.1:1,b=http://127.0.0.1:2,b=http://127.0.0.2:2,c=http://127.0.0.1:3",
            "http://127.0.0.2:2,http://127.0.0.1:2",
        );
        let c = RestoreConfig {
            initial_cluster_token: "tok".into(),
            ..c
        };
        let p = plan(&c).unwrap();
        let b = wal_records(&p, &p.clone().new_members(), EtcdVersion::V3_5);
        let recs = wal::decode(&b).unwrap();
        assert_eq!(recs.len(), 8);
        let golden: Vec<u8> = (0..ETCDUTL_3M_WAL.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&ETCDUTL_3M_WAL[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(hex(&b), hex(&golden));
    }

    /// The first 544 bytes (all records) of the WAL etcdutl 3.5.1 wrote for
    /// `--name b --initial-cluster a=http://127.0.0.1:1,b=http://127.0.0.1:2,b=http://127.0.0.2:2,c=http://127.0.0.1:3
    /// --initial-cluster-token tok`.
    const ETCDUTL_3M_WAL: &str = concat!(
    "040000000000008408041000000000002000000000000000080110f89fc39d041a1608f7f3c187e3d5f888c70110c4c5",
    "82a6a49eecd7fb010e00000000000082080510acc480cd051a040800100000006800000000000000080210dadda4d10c",
    "1a5e08011001180122560800100018df85aebc96e59fb20b22467b226964223a38323039323038343738393538353538",
    "33392c227065657255524c73223a5b22687474703a2f2f3132372e302e302e313a31225d2c226e616d65223a2261227d",
    "6900000000000087080210c5a3ca8b041a5f08011001180222570800100018fde787c3f4edb2c31b22477b226964223a",
    "313938333439363336343731393436393536352c227065657255524c73223a5b22687474703a2f2f3132372e302e302e",
    "313a33225d2c226e616d65223a2263227d000000000000008000000000000000080210b2a9c5900c1a76080110011803",
    "226e0800100018f7f3c187e3d5f888c701225d7b226964223a31343334343439353532353932343939333532372c2270",
    "65657255524c73223a5b22687474703a2f2f3132372e302e302e313a32222c22687474703a2f2f3132372e302e302e32",
    "3a32225d2c226e616d65223a2262227d18000000000000000803109aa185a9081a0e080110df85aebc96e59fb20b1803",
    "310000000000008708051083ccf2dc061a27080310011a2108df85aebc96e59fb20b08fde787c3f4edb2c31b08f7f3c1",
    "87e3d5f888c701280000000000000000",
);
}
