//! `etcdsnap export`: one YAML file per object,
//! `DIR/<namespace or _cluster>/<resource>/<name>.yaml`, plus `index.json`.
//! Files are 0600 and dirs 0700: they may hold Secrets.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
}

/// A path segment safe for any file system: `/` and NUL escaped, `.`/`..`
/// avoided.
fn seg(s: &str) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('\0', "%00");
    if o.is_empty() || o == "." || o == ".." {
        o = format!("%{o}");
    }
    o
}

fn mkdir(p: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
}

fn write_file(p: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)?;
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
    let records = store.state_at(a.select.rev, |k| filter.key_matches(k))?;
    mkdir(&a.out).with_context(|| a.out.display().to_string())?;
    let redaction = Redaction::new(a.redact, a.show_key_material);
    let results: Vec<Result<Option<serde_json::Value>, String>> = records
        .par_iter()
        .map(|r| {
            let it = Item::new(*r, keys.as_ref());
            let key = it.key_str().into_owned();
            let sk = filter.parse_key(r.kv.key);
            let (dir, name) = match &sk {
                Some(k) if k.kind == etcdsnap::kube::key::KeyKind::Object => {
                    let res = match k.group {
                        Some(g) if !g.is_empty() => format!("{}.{g}", k.resource),
                        _ => k.resource.to_string(),
                    };
                    (
                        PathBuf::from(seg(k.namespace.unwrap_or("_cluster"))).join(seg(&res)),
                        seg(k.name),
                    )
                }
                _ => (PathBuf::from("_etcd"), seg(key.trim_start_matches('/'))),
            };
            let mut entry = serde_json::json!({
                "key": key,
                "mod_revision": r.kv.mod_revision,
                "encoding": it.encoding,
                "encryption": it.encryption,
            });
            let (rel, bytes, error) = match it.object() {
                Ok(mut o) => {
                    if let Some(l) = &filter.labels {
                        if !l.matches(&o) {
                            return Ok(None);
                        }
                    }
                    redaction.apply(r.kv.key, &mut o);
                    for f in ["apiVersion", "kind"] {
                        entry[f] = o.get(f).cloned().unwrap_or_default();
                    }
                    sort_keys(&mut o);
                    let y = serde_saphyr::to_string(&o).map_err(|e| format!("{key}: {e}"))?;
                    (dir.join(format!("{name}.yaml")), y.into_bytes(), None)
                }
                // Under redaction only the digest of what may be secret.
                Err(e) if redaction.hides_bytes(r.kv.key) => {
                    entry["redacted"] = true.into();
                    (
                        dir.join(format!("{name}.undecoded.sha256")),
                        format!("{}\n", digest(&it.plain)).into_bytes(),
                        Some(e),
                    )
                }
                // Kept as stored (or as decrypted), so nothing is lost.
                Err(e) => (
                    dir.join(format!("{name}.undecoded")),
                    it.plain.to_vec(),
                    Some(e),
                ),
            };
            let path = a.out.join(&rel);
            if let Some(parent) = path.parent() {
                mkdir(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            write_file(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            entry["file"] = rel.display().to_string().into();
            if let Some(e) = error {
                entry["error"] = e.into();
            }
            Ok(Some(entry))
        })
        .collect();
    let mut t = Tally::default();
    let mut index = Vec::new();
    for r in results {
        match r {
            Ok(Some(e)) => {
                if let Some(err) = e.get("error").and_then(|x| x.as_str()) {
                    eprintln!("etcdsnap: {}: {err}", e["key"].as_str().unwrap_or(""));
                    t.failed += 1;
                }
                index.push(e);
                t.shown += 1;
            }
            Ok(None) => {}
            Err(e) => bail!("{e}"),
        }
    }
    let idx = a.out.join("index.json");
    write_file(&idx, &serde_json::to_vec_pretty(&index)?)
        .with_context(|| idx.display().to_string())?;
    super::note(format_args!(
        "wrote {} objects under {} (index.json lists them)",
        t.shown,
        a.out.display()
    ));
    Ok(super::salvage::exit(finish(&t)?, sv.as_ref()))
}
