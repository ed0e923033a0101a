//! `etcdsnap ls`: every key with its revisions, size and encoding; with
//! `--decode`, each value's object (the full forensic dump, one pass).

use std::io::Write;

use etcdsnap::escape::{bytes, controls as esc};
use etcdsnap::forensics::listing::{self, KeyRow, RowOptions};
use etcdsnap::mvcc::Record;
use rayon::prelude::*;

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

pub fn run(a: LsArgs) -> anyhow::Result<i32> {
    let opened = super::session::open(
        &a.input.input,
        &a.keys.keys,
        super::session::Read::Replayed {
            salvage: a.salvage.salvage,
            history: false,
            no_wal: a.input.no_wal,
        },
    )?;
    let (store, keys, sv) = (
        &opened.session.store,
        opened.session.keys.as_ref(),
        opened.salvage.as_ref(),
    );
    let prefix = a.prefix.clone().unwrap_or_default();
    if a.deleted {
        return deleted(store, a.rev, &prefix, a.output);
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
        let opts = RowOptions {
            decode: a.decode,
            show_key_material: a.show_key_material,
        };
        let mut first = true;
        for window in records.chunks(4096) {
            let parts: Vec<(Vec<Vec<u8>>, usize)> = window
                .par_chunks(64)
                .map(|chunk: &[Record<'_>]| {
                    let mut failed = 0;
                    let rows = chunk
                        .iter()
                        .map(|r| {
                            let mut row = KeyRow::new(*r, keys, opts);
                            row.source = sv.map(|s| s.source(r).label());
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
            let row = KeyRow::new(*r, keys, RowOptions::default());
            writeln!(
                out,
                "{:>8} {:>8} {:>4} {:>10} {:>9}  {:<26} {}",
                row.create_revision,
                row.mod_revision,
                row.version,
                row.lease_hex(),
                row.size,
                esc(&row.storage()),
                bytes(r.kv.key)
            )?;
            if let Some(e) = &row.error {
                eprintln!("etcdsnap: {}: {}", bytes(r.kv.key), esc(e));
                t.failed += 1;
            }
            t.shown += 1;
        }
    }
    out.flush()?;
    Ok(super::salvage::exit(finish(&t)?, sv))
}

/// `ls --deleted`: keys whose newest held revision is a deletion.
fn deleted(
    store: &etcdsnap::mvcc::Store<'_>,
    rev: Option<i64>,
    prefix: &str,
    output: LsFormat,
) -> anyhow::Result<i32> {
    let rows = listing::deleted(store, rev, prefix.as_bytes())
        .map_err(|e| super::get::compacted_hint(e, std::path::Path::new("INPUT"), None))?;
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
