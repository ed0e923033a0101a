//! `etcdsnap defrag`: a compact copy of a snapshot with a fresh SHA-256
//! trailer. Never writes over its input.

use std::path::PathBuf;

use etcdsnap::restore::defrag;

use super::Format;

#[derive(clap::Args)]
pub struct DefragArgs {
    /// A snapshot_*.db, a raw bbolt file, an etcd data dir, or an
    /// OpenShift backup dir.
    pub input: PathBuf,
    /// The new file (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Also compact the history at this revision, as `etcdctl compact REV`
    /// would: revisions it makes unreadable are dropped and the compaction
    /// is recorded, so etcd reports REV as compacted.
    #[arg(long, value_name = "REV")]
    pub compact_to: Option<i64>,
    /// Do not verify the input's SHA-256 trailer.
    #[arg(long)]
    pub skip_hash_check: bool,
    /// For an etcd data dir: copy the db alone, without the WAL entries a
    /// restarted etcd would apply on top of it.
    #[arg(long = "no-wal")]
    pub no_wal: bool,
    #[command(flatten)]
    pub out_fmt: super::OutputArg,
}

pub fn run(a: DefragArgs) -> anyhow::Result<i32> {
    let output = a.out_fmt.output;
    let i = super::resolve(&a.input)?;
    let replayed = super::replayed_db(&i, a.no_wal, &a.out)?;
    let db = replayed
        .as_ref()
        .map(|r| r.db.clone())
        .unwrap_or(i.db.clone());
    let progress =
        super::progress::Progress::spinner("writing a compact copy", super::progress::size(&db));
    let result = defrag::defrag_compact(&db, &a.out, a.skip_hash_check, a.compact_to);
    progress.finish();
    match result {
        Ok(r) => {
            if output == Format::Json {
                super::print_json(&etcdsnap::machine_output::DEFRAG.document(&r))?;
            } else {
                println!("wrote {}", r.output.display());
                println!(
                    "  size:     {} → {} bytes (with trailer): {} saved",
                    r.source_file_size,
                    r.written_file_size,
                    saved(r.source_file_size, r.written_file_size)
                );
                if let Some(c) = r.compacted_to {
                    println!(
                        "  compacted at revision {c}: {} older revisions dropped (was {})",
                        r.revisions_dropped,
                        r.source_compacted
                            .map(|x| format!("compacted at {x}"))
                            .unwrap_or_else(|| "never compacted".into())
                    );
                    println!(
                        "  status:   hash {:x} revision {} keys {}",
                        r.written.hash, r.written.revision, r.written.total_key
                    );
                } else {
                    println!(
                        "  status:   hash {:x} revision {} keys {} (same as the input)",
                        r.written.hash, r.written.revision, r.written.total_key
                    );
                }
                println!("  sha256:   {}", r.sha256);
                println!(
                    "  input trailer: {}",
                    if r.hash_checked {
                        "verified"
                    } else {
                        "none or skipped"
                    }
                );
                println!("  took:     {:.2}s", r.seconds);
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("etcdsnap: defrag failed: {e}");
            Ok(super::restore::exit_code(&e))
        }
    }
}

/// "3.9 MiB (7.1%)", or "nothing" when the copy is not smaller.
fn saved(from: u64, to: u64) -> String {
    if to >= from {
        return "nothing".into();
    }
    let d = from - to;
    format!(
        "{} ({:.1}%)",
        super::status::human(d),
        d as f64 * 100.0 / from as f64
    )
}
