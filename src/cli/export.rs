//! `etcdsnap export`: one YAML file per object,
//! `DIR/<namespace or _cluster>/<resource>/<name>.yaml`, plus `index.json`.
//! Files are 0600 and dirs 0700: they may hold Secrets.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use etcdsnap::query::{sort_keys, Item};
use etcdsnap::redact::{digest, Redaction};
use rayon::prelude::*;

use super::get::{finish, SelectArgs, Tally};
use super::{InputArg, KeysArg};

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// Only this resource type (as kubectl names it); `TYPE/NAME` or
    /// `TYPE NAME` for one object.
    pub resource: Option<String>,
    /// Only the object of this name.
    pub name: Option<String>,
    /// The directory to create (must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub keys: KeysArg,
    /// Replace Secret data with SHA-256 digests.
    #[arg(long)]
    pub redact: bool,
    /// Show the Secrets that hold encryption keys (hidden as digests by
    /// default).
    #[arg(long)]
    pub show_key_material: bool,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
    /// Apply-ready files (see `get --for-apply`); index.json then lists
    /// them in apply order, each with its `apply_rank`.
    #[command(flatten)]
    pub apply: super::forms::ApplyArgs,
}

/// The longest file-name segment written (file systems allow 255 bytes;
/// room is left for a `~<hash>` suffix and `.undecoded.sha256`).
const MAX_SEG: usize = 200;

/// Bytes kept as they are in a file name; every other byte (including
/// `%`, `/`, controls and bytes that are not UTF-8) is written `%XX`, so
/// the mapping from names to segments is one to one.
fn keep(b: u8, first: bool, top: bool) -> bool {
    match b {
        b'a'..=b'z'
        | b'A'..=b'Z'
        | b'0'..=b'9'
        | b'-'
        | b'~'
        | b':'
        | b'@'
        | b'+'
        | b'='
        | b',' => true,
        // A leading `.` (hidden, `.`/`..`) and, at the top level, any `.`
        // or `_`: namespaces (DNS labels) have neither, so `index.json`,
        // `_cluster` and `_etcd` stay ours.
        b'.' => !first && !top,
        b'_' => !top,
        _ => false,
    }
}

/// A path segment for `name` (raw bytes): one to one, no `/`, never `.`
/// or `..`, bounded to `MAX_SEG` bytes (a longer one is cut and marked
/// with a hash of `key`, the full etcd key, which keeps it distinct).
fn seg(name: &[u8], top: bool, key: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut o = String::with_capacity(name.len());
    for (i, &b) in name.iter().enumerate() {
        if keep(b, i == 0, top) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    if o.is_empty() {
        o.push('%');
    }
    if o.len() > MAX_SEG {
        let mut cut = MAX_SEG - 20;
        // Never inside a %XX triplet.
        while o.as_bytes()[..cut].iter().rev().take(2).any(|&c| c == b'%') {
            cut -= 1;
        }
        o.truncate(cut);
        o.push('~');
        o.push_str(&short_hash(key));
    }
    o
}

/// 16 hex digits of the SHA-256 of `key`.
fn short_hash(key: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where one record goes: `(dir, stem)` relative to `--out`.
fn place(filter: &etcdsnap::query::Filter, key: &[u8]) -> (PathBuf, String) {
    match filter.parse_key(key) {
        Some(k) if k.kind == etcdsnap::kube::key::KeyKind::Object => {
            let res = match k.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", k.resource),
                _ => k.resource.to_string(),
            };
            let ns = match k.namespace {
                Some(ns) => seg(ns.as_bytes(), true, key),
                None => "_cluster".to_string(),
            };
            (
                PathBuf::from(ns).join(seg(res.as_bytes(), false, key)),
                seg(k.name.as_bytes(), false, key),
            )
        }
        _ => {
            let k = key.strip_prefix(b"/").unwrap_or(key);
            (PathBuf::from("_etcd"), seg(k, false, key))
        }
    }
}

/// Stems for every record, one to one: records that would share a file
/// (keys under two etcd prefixes, names equal but for case on a
/// case-insensitive file system) all get a `~<hash of the key>` suffix.
fn plan(filter: &etcdsnap::query::Filter, records: &[etcdsnap::mvcc::Record<'_>]) -> Vec<PathBuf> {
    let placed: Vec<(PathBuf, String)> = records.iter().map(|r| place(filter, r.kv.key)).collect();
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (d, s) in &placed {
        *count
            .entry(d.join(s).to_string_lossy().to_lowercase())
            .or_default() += 1;
    }
    placed
        .into_iter()
        .zip(records)
        .map(|((d, s), r)| {
            if count[&d.join(&s).to_string_lossy().to_lowercase()] > 1 {
                d.join(format!("{s}~{}", short_hash(r.kv.key)))
            } else {
                d.join(s)
            }
        })
        .collect()
}

fn mkdir(p: &Path) -> std::io::Result<()> {
    etcdsnap::private_files::mkdir_all_0700(p)
}

fn write_file(p: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = etcdsnap::private_files::create_new_0600(p)?;
    f.write_all(bytes)
}

pub fn run(a: ExportArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    if a.out.exists()
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{}: exists and is not an empty directory", a.out.display());
    }
    let snap = super::salvage::open(&input.db, a.salvage.salvage)?;
    let sv = super::salvage::run(&snap, a.salvage.salvage);
    let mut wal = None;
    let store = super::salvage::store_or_replay(
        &input,
        &snap,
        sv.as_ref(),
        a.select.rev.is_some(),
        a.input.no_wal,
        &mut wal,
    )?;
    let keys = super::load_keys(&input, &a.keys.keys, &store)?;
    let (resource, name) = super::get::type_name(a.resource.as_deref(), a.name.as_deref())?;
    let filter = a.select.filter(resource.as_deref(), name.as_deref())?;
    let mut records = store.state_at(a.select.rev, |k| filter.key_matches(k))?;
    if a.apply.for_apply {
        records.extend(super::forms::namespace_record(
            &store,
            &a.select,
            resource.as_deref(),
            name.as_deref(),
        )?);
    }
    mkdir(&a.out).with_context(|| a.out.display().to_string())?;
    let redaction = Redaction::new(a.redact, a.show_key_material);
    let left_out = std::sync::atomic::AtomicUsize::new(0);
    let progress = super::progress::Progress::bar(
        "exporting",
        records.len() as u64,
        super::progress::size(&input.db),
    );
    let stems = plan(&filter, &records);
    // Every object is tried; what fails is recorded in its index entry and
    // the export goes on.
    let results: Vec<Option<serde_json::Value>> = records
        .par_iter()
        .zip(stems.par_iter())
        .map(|(r, stem)| {
            progress.inc(1);
            let it = Item::new(*r, keys.as_ref());
            let key = it.key_str().into_owned();
            let mut entry = serde_json::json!({
                "key": key,
                "mod_revision": r.kv.mod_revision,
                "encoding": it.encoding,
                "encryption": it.encryption,
            });
            if std::str::from_utf8(r.kv.key).is_err() {
                entry["key_hex"] =
                    r.kv.key
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                        .into();
            }
            let with_ext = |ext: &str| {
                let mut p = stem.clone().into_os_string();
                p.push(ext);
                PathBuf::from(p)
            };
            let (rel, bytes, error) = match it.object() {
                Ok(mut o) => {
                    if let Some(l) = &filter.labels {
                        if !l.matches(&o) {
                            return None;
                        }
                    }
                    redaction.apply(r.kv.key, &mut o);
                    if a.apply.for_apply {
                        if a.apply.leaves_out(&o) {
                            left_out.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return None;
                        }
                        etcdsnap::kube::apply::strip(&mut o, a.apply.options());
                        entry["apply_rank"] = etcdsnap::kube::apply::rank(&o).into();
                    }
                    for f in ["apiVersion", "kind"] {
                        entry[f] = o.get(f).cloned().unwrap_or_default();
                    }
                    sort_keys(&mut o);
                    match serde_saphyr::to_string(&o) {
                        Ok(y) => (Some(with_ext(".yaml")), y.into_bytes(), None),
                        Err(e) => (None, Vec::new(), Some(format!("rendering YAML: {e}"))),
                    }
                }
                // Under redaction only the digest of what may be secret.
                Err(e) if redaction.hides_bytes(r.kv.key) => {
                    entry["redacted"] = true.into();
                    (
                        Some(with_ext(".undecoded.sha256")),
                        format!("{}\n", digest(&it.plain)).into_bytes(),
                        Some(e),
                    )
                }
                // Kept as stored (or as decrypted), so nothing is lost.
                Err(e) => (Some(with_ext(".undecoded")), it.plain.to_vec(), Some(e)),
            };
            let mut error = error;
            if let Some(rel) = rel {
                let path = a.out.join(&rel);
                let written = path
                    .parent()
                    .map_or(Ok(()), mkdir)
                    .and_then(|()| write_file(&path, &bytes));
                match written {
                    Ok(()) => entry["file"] = rel.display().to_string().into(),
                    Err(e) => {
                        let w = format!("writing {}: {e}", rel.display());
                        error = Some(match error {
                            Some(prev) => format!("{prev}; {w}"),
                            None => w,
                        });
                    }
                }
            }
            if let Some(e) = error {
                entry["error"] = e.into();
            }
            Some(entry)
        })
        .collect();
    progress.finish();
    let mut t = Tally::default();
    let mut index = Vec::new();
    for e in results.into_iter().flatten() {
        if let Some(err) = e.get("error").and_then(|x| x.as_str()) {
            eprintln!(
                "etcdsnap: {}: {}",
                etcdsnap::escape::controls(e["key"].as_str().unwrap_or("")),
                etcdsnap::escape::controls(err)
            );
            t.failed += 1;
        }
        index.push(e);
        t.shown += 1;
    }
    if a.apply.for_apply {
        // Apply order: rank, then the file path (namespace, resource, name).
        index.sort_by_cached_key(|e| {
            (
                e.get("apply_rank")
                    .and_then(|r| r.as_u64())
                    .unwrap_or(u64::MAX),
                e.get("file")
                    .and_then(|f| f.as_str())
                    .unwrap_or("")
                    .to_string(),
            )
        });
        let n = left_out.into_inner();
        if n > 0 {
            eprintln!("etcdsnap: left out {n} object{} a controller owns (--keep-owner-references keeps them)", if n == 1 { "" } else { "s" });
        }
    }
    let idx = a.out.join("index.json");
    write_file(&idx, &serde_json::to_vec_pretty(&index)?)
        .with_context(|| idx.display().to_string())?;
    super::note(format_args!(
        "wrote {} objects under {} ({} failed; index.json lists every one)",
        t.shown - t.failed,
        a.out.display(),
        t.failed
    ));
    Ok(super::salvage::exit(finish(&t)?, sv.as_ref()))
}
