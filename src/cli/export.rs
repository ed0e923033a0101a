//! `etcdsnap export`: one YAML file per object,
//! `DIR/<namespace or _cluster>/<resource>/<name>.yaml`, plus `index.json`.
//! Files are 0600 and dirs 0700: they may hold Secrets.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use etcdsnap::export::{plan, ExportIndex, IndexEntry};
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
    let opened = super::session::open_input(
        input,
        &a.keys.keys,
        super::session::Read::Replayed {
            salvage: a.salvage.salvage,
            history: a.select.rev.is_some(),
            no_wal: a.input.no_wal,
        },
    )?;
    let (input, store, keys) = (
        &opened.session.input,
        &opened.session.store,
        opened.session.keys.as_ref(),
    );
    let sv = opened.salvage.as_ref();
    let (resource, name) = super::get::type_name(a.resource.as_deref(), a.name.as_deref())?;
    let filter = a.select.filter(resource.as_deref(), name.as_deref())?;
    let mut records = store.state_at(a.select.rev, |k| filter.key_matches(k))?;
    if a.apply.for_apply {
        records.extend(super::forms::namespace_record(
            store,
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
    let results: Vec<Option<IndexEntry>> = records
        .par_iter()
        .zip(stems.par_iter())
        .map(|(r, stem)| {
            progress.inc(1);
            let it = Item::new(*r, keys);
            let mut entry = IndexEntry::of(r, it.encoding, it.encryption.clone());
            let with_ext = |ext: &str| {
                let mut p = stem.clone().into_os_string();
                p.push(ext);
                PathBuf::from(p)
            };
            // Redacted as it is decoded (a label value is never a JSON
            // document, so redaction leaves labels as they are).
            let (rel, bytes) = match it.object_redacted(&redaction) {
                Ok(mut o) => {
                    if let Some(l) = &filter.labels {
                        if !l.matches(&o) {
                            return None;
                        }
                    }
                    if a.apply.for_apply {
                        if a.apply.leaves_out(&o) {
                            left_out.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return None;
                        }
                        etcdsnap::kube::apply::strip(&mut o, a.apply.options());
                        entry.apply_rank = Some(etcdsnap::kube::apply::rank(&o));
                    }
                    let text = |f: &str| o.get(f).and_then(|v| v.as_str()).map(str::to_string);
                    entry.api_version = text("apiVersion");
                    entry.kind = text("kind");
                    sort_keys(&mut o);
                    match serde_saphyr::to_string(&o) {
                        Ok(y) => (Some(with_ext(".yaml")), y.into_bytes()),
                        Err(e) => {
                            entry.fail(format!("rendering YAML: {e}"));
                            (None, Vec::new())
                        }
                    }
                }
                // Under redaction only the digest of what may be secret.
                Err(e) if redaction.hides_bytes(r.kv.key) => {
                    entry.redacted = true;
                    entry.fail(e.to_string());
                    (
                        Some(with_ext(".undecoded.sha256")),
                        format!("{}\n", digest(&it.plain)).into_bytes(),
                    )
                }
                // Kept as stored (or as decrypted), so nothing is lost.
                Err(e) => {
                    entry.fail(e.to_string());
                    (Some(with_ext(".undecoded")), it.plain.to_vec())
                }
            };
            if let Some(rel) = rel {
                let path = a.out.join(&rel);
                let written = path
                    .parent()
                    .map_or(Ok(()), mkdir)
                    .and_then(|()| write_file(&path, &bytes));
                match written {
                    Ok(()) => entry.file = Some(rel.display().to_string()),
                    Err(e) => entry.fail(format!("writing {}: {e}", rel.display())),
                }
            }
            Some(entry)
        })
        .collect();
    progress.finish();
    let mut index = ExportIndex {
        objects: results.into_iter().flatten().collect(),
    };
    for e in &index.objects {
        if let Some(err) = &e.error {
            eprintln!(
                "etcdsnap: {}: {}",
                etcdsnap::escape::controls(&e.key),
                etcdsnap::escape::controls(err)
            );
        }
    }
    let t = Tally {
        shown: index.objects.len(),
        failed: index.failed(),
    };
    if a.apply.for_apply {
        index.sort_for_apply();
        let n = left_out.into_inner();
        if n > 0 {
            eprintln!("etcdsnap: left out {n} object{} a controller owns (--keep-owner-references keeps them)", if n == 1 { "" } else { "s" });
        }
    }
    let idx = a.out.join("index.json");
    let doc = etcdsnap::machine_output::EXPORT_INDEX.document(&index);
    write_file(&idx, &serde_json::to_vec_pretty(&doc)?)
        .with_context(|| idx.display().to_string())?;
    super::note(format_args!(
        "wrote {} objects under {} ({} failed; index.json lists every one)",
        t.shown - t.failed,
        a.out.display(),
        t.failed
    ));
    Ok(super::salvage::exit(finish(&t)?, sv))
}
