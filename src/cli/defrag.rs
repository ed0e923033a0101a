//! `etcdsnap defrag`: a compact copy of a snapshot with a fresh SHA-256
//! trailer. Never writes over its input.

use std::path::PathBuf;

use etcdsnap::restore::defrag;

use super::Format;

pub fn run(
    input: PathBuf,
    out: PathBuf,
    skip_hash_check: bool,
    output: Format,
) -> anyhow::Result<i32> {
    let i = super::resolve(&input)?;
    match defrag::defrag(&i.db, &out, skip_hash_check) {
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
