//! `etcdsnap hashkv`: what `etcdctl endpoint hashkv --rev N` returns for a
//! server holding this data.

use etcdsnap::hashkv::hash_kv;

use super::{Format, InputArg, OutputArg};

#[derive(clap::Args)]
pub struct HashKvArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// The revision to hash (default: the latest), as `--rev` of
    /// `etcdctl endpoint hashkv`.
    #[arg(long)]
    pub rev: Option<i64>,
    #[command(flatten)]
    pub output: OutputArg,
}

pub fn run(a: HashKvArgs) -> anyhow::Result<i32> {
    if matches!(a.rev, Some(r) if r < 0) {
        anyhow::bail!("--rev must be 0 (latest) or a positive revision");
    }
    let input = super::resolve(&a.input.input)?;
    let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
    let mut wal = None;
    let store = super::open_store(&input, &snap, a.input.no_wal, &mut wal)?;
    let h = hash_kv(&store, a.rev)?;
    if a.output.output == Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "hash": h.hash,
                "compact_revision": h.compact_revision,
                "hash_revision": h.hash_revision,
            })
        );
    } else {
        println!("hash             {} ({:#010x})", h.hash, h.hash);
        println!("compact revision {}", h.compact_revision);
        println!("hash revision    {}", h.hash_revision);
    }
    Ok(0)
}
