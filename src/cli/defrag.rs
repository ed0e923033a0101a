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
    /// Do not verify the input's SHA-256 trailer.
    #[arg(long)]
    pub skip_hash_check: bool,
    #[command(flatten)]
    pub out_fmt: super::OutputArg,
}

pub fn run(a: DefragArgs) -> anyhow::Result<i32> {
    let output = a.out_fmt.output;
    let i = super::resolve(&a.input)?;
    let progress =
        super::progress::Progress::spinner("writing a compact copy", super::progress::size(&i.db));
    let result = defrag::defrag(&i.db, &a.out, a.skip_hash_check);
    progress.finish();
    match result {
        Ok(r) => {
            if output == Format::Json {
                super::print_json(&r)?;
            } else {
                println!("wrote {}", r.output.display());
                println!(
                    "  size:     {} → {} bytes (with trailer)",
                    r.source_file_size, r.written_file_size
                );
                println!(
                    "  status:   hash {} revision {} keys {} (same as the input)",
                    r.written.hash, r.written.revision, r.written.total_key
                );
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
