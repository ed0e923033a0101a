//! `etcdsnap ls`: every key with its revisions, size and encoding; with
//! `--decode`, each value's object (the full forensic dump, one pass).

use std::io::Write;

use etcdsnap::escape::{bytes, controls as esc};
use etcdsnap::mvcc::Record;
use etcdsnap::query::{Encryption, Item};
use rayon::prelude::*;
use serde::Serialize;

use super::get::{finish, Tally};
use super::{InputArg, KeysArg};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LsFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// Only keys starting with this.
    pub prefix: Option<String>,
    /// The keys live at this revision (default: the latest).
    #[arg(long)]
    pub rev: Option<i64>,
    /// Add each value's decoded object (or the error) to its record.
    #[arg(long)]
    pub decode: bool,
    /// With --decode, show the Secrets that hold encryption keys (digests
    /// by default).
    #[arg(long)]
    pub show_key_material: bool,
    /// Keys deleted within the held history instead: deletion revision,
    /// last write, and the revision that still shows each.
    #[arg(long, conflicts_with = "decode")]
    pub deleted: bool,
    #[command(flatten)]
    pub keys: KeysArg,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: LsFormat,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

#[derive(Serialize)]
struct Row<'a> {
    key: std::borrow::Cow<'a, str>,
    create_revision: i64,
    mod_revision: i64,
    version: i64,
    lease: i64,
    size: usize,
    encoding: &'static str,
    encryption: Option<Encryption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// With --salvage: where the record was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
}

fn row<'a>(it: &'a Item<'a>, decode: bool, show_key_material: bool) -> Row<'a> {
    let kv = &it.record.kv;
    let (object, error) = if decode {
        match it.object() {
            Ok(mut o) => {
                etcdsnap::redact::Redaction::new(false, show_key_material).apply(kv.key, &mut o);
                (Some(o), None)
            }
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, it.decrypt_error.as_ref().map(ToString::to_string))
    };
    Row {
        key: it.key_str(),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        lease: kv.lease,
        size: kv.value.len(),
        encoding: if it.encryption.is_some() && !it.is_encrypted() {
            "encrypted"
        } else {
            it.encoding
        },
        encryption: it.encryption.clone(),
        object,
        error,
        source: None,
    }
}

pub fn run(a: LsArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let snap = super::salvage::open(&input.db, a.salvage.salvage)?;
    let sv = super::salvage::run(&snap, a.salvage.salvage);
    let mut wal = None;
    let store = super::salvage::store_or_replay(
        &input,
        &snap,
        sv.as_ref(),
        false,
        a.input.no_wal,
        &mut wal,
    )?;
    let keys = super::load_keys(&input, &a.keys.keys, &store)?;
    let prefix = a.prefix.clone().unwrap_or_default();
    if a.deleted {
        return deleted(&store, a.rev, &prefix, a.output);
    }
    let records = store.state_at(a.rev, |k| k.starts_with(prefix.as_bytes()))?;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    let mut t = Tally::default();
    if a.output == LsFormat::Json {
        // Streamed: {"format":…,"version":1,"keys":[ one row a line ]}.
        writeln!(
            out,
            "{{{},\"keys\":[",
            etcdsnap::machine_output::LS.members()
        )?;
        let mut first = true;
        for window in records.chunks(4096) {
            let parts: Vec<(Vec<Vec<u8>>, usize)> = window
                .par_chunks(64)
                .map(|chunk: &[Record<'_>]| {
                    let mut failed = 0;
                    let rows = chunk
                        .iter()
                        .map(|r| {
                            let it = Item::new(*r, keys.as_ref());
                            let mut row = row(&it, a.decode, a.show_key_material);
                            row.source = sv.as_ref().map(|s| s.source(r).label());
                            if row.error.is_some() {
                                failed += 1;
                            }
                            serde_json::to_vec(&row).unwrap_or_default()
                        })
                        .collect();
                    (rows, failed)
                })
                .collect();
            for (rows, failed) in parts {
                t.failed += failed;
                for r in rows {
                    out.write_all(if first { b"  " } else { b",\n  " })?;
                    first = false;
                    out.write_all(&r)?;
                    t.shown += 1;
                }
            }
        }
        out.write_all(if first { b"]}\n" } else { b"\n]}\n" })?;
    } else {
        writeln!(
            out,
            "{:>8} {:>8} {:>4} {:>10} {:>9}  {:<26} KEY",
            "CREATE", "MOD", "VER", "LEASE", "SIZE", "ENCODING"
        )?;
        for r in &records {
            let it = Item::new(*r, keys.as_ref());
            let kv = &r.kv;
            let enc = match &it.encryption {
                Some(e) => format!("{} key {}", e.provider, e.key),
                None => it.encoding.to_string(),
            };
            let lease = if kv.lease == 0 {
                "-".to_string()
            } else {
                format!("{:x}", kv.lease)
            };
            writeln!(
                out,
                "{:>8} {:>8} {:>4} {:>10} {:>9}  {:<26} {}",
                kv.create_revision,
                kv.mod_revision,
                kv.version,
                lease,
                kv.value.len(),
                esc(&enc),
                bytes(kv.key)
            )?;
            if let Some(e) = &it.decrypt_error {
                eprintln!("etcdsnap: {}: {}", bytes(kv.key), esc(&e.to_string()));
                t.failed += 1;
            }
            t.shown += 1;
        }
    }
    out.flush()?;
    Ok(super::salvage::exit(finish(&t)?, sv.as_ref()))
}

#[derive(Serialize)]
struct DeletedRow<'a> {
    key: std::borrow::Cow<'a, str>,
    deleted_revision: i64,
    /// The newest revision at which the key still existed.
    last_live_revision: i64,
    /// The last put's revisions, when still held.
    create_revision: Option<i64>,
    mod_revision: Option<i64>,
}

/// `ls --deleted`: keys whose newest held revision is a deletion.
fn deleted(
    store: &etcdsnap::mvcc::Store<'_>,
    rev: Option<i64>,
    prefix: &str,
    output: LsFormat,
) -> anyhow::Result<i32> {
    let gone = store
        .deleted_at(rev, |k| k.starts_with(prefix.as_bytes()))
        .map_err(|e| super::get::compacted_hint(e, std::path::Path::new("INPUT"), None))?;
    let rows: Vec<DeletedRow<'_>> = gone
        .iter()
        .map(|d| DeletedRow {
            key: String::from_utf8_lossy(d.key),
            deleted_revision: d.deleted_at,
            last_live_revision: d.last_live_revision(),
            create_revision: d.last.map(|r| r.kv.create_revision),
            mod_revision: d.last.map(|r| r.kv.mod_revision),
        })
        .collect();
    if output == LsFormat::Json {
        super::print_json(
            &etcdsnap::machine_output::LS_DELETED.document(&serde_json::json!({ "deleted": rows })),
        )?;
    } else {
        let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "{:>8} {:>8} {:>8} {:>8}  KEY",
            "CREATE", "MOD", "DELETED", "LIVE AT"
        );
        for r in &rows {
            println!(
                "{:>8} {:>8} {:>8} {:>8}  {}",
                opt(r.create_revision),
                opt(r.mod_revision),
                r.deleted_revision,
                r.last_live_revision,
                esc(&r.key)
            );
        }
    }
    if rows.is_empty() {
        eprintln!("etcdsnap: no key was deleted within the held history");
        return Ok(1);
    }
    Ok(0)
}
