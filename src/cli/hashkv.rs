//! `etcdsnap hashkv`: what `etcdctl endpoint hashkv --rev N` returns for a
//! server holding this data.

use etcdsnap::hashkv::{hash_kv, hash_kv_uncompacted};

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
    // A data dir replays its WAL only when it holds entries above the db's
    // consistent index (a restored or cleanly stopped member's has none).
    let replays = !a.input.no_wal
        && etcdsnap::wal::open::wal_dir_of(&input)
            .is_some_and(|dir| etcdsnap::wal::open::has_pending(&snap, &dir));
    // A db never compacted and without a WAL to replay needs no decoding.
    let fast = if replays {
        None
    } else {
        hash_kv_uncompacted(&snap, a.rev)?
    };
    let h = match fast {
        Some(h) => h,
        None => {
            let mut wal = None;
            let store = super::open_store(&input, &snap, a.input.no_wal, &mut wal)?;
            hash_kv(&store, a.rev)?
        }
    };
    if a.output.output == Format::Json {
        // etcdctl's names for the three values.
        let body = serde_json::json!({
            "hash": h.hash,
            "compact_revision": h.compact_revision,
            "hash_revision": h.hash_revision,
        });
        println!(
            "{}",
            serde_json::to_string(&etcdsnap::machine_output::HASHKV.document(&body))?
        );
    } else {
        println!("hash             {} ({:#010x})", h.hash, h.hash);
        println!("compact revision {}", h.compact_revision);
        println!("hash revision    {}", h.hash_revision);
    }
    Ok(0)
}
