//! Builds a data dir for the WAL replay benchmark (BENCHMARKS.md): a copy
//! (hard link when possible) of a db as `member/snap/db` and a WAL of N
//! put entries above its consistent index (Kubernetes-like keys, 600-byte
//! values), in etcd's record format and 64 MB segments.
//!
//!     cargo run --release --example bench_wal_datadir -- DB OUT-DIR [N]
//!
//! `--time DATA-DIR [ROUNDS]` instead times, in one process and back to
//! back, opening the db's MVCC store (`Snapshot::open` + `Store::open`)
//! and replaying the WAL over it (`replay_wal`: read, decode, replay,
//! overlay).

use std::path::PathBuf;

#[path = "../benches/support/put_wal.rs"]
mod put_wal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--time") {
        return time(&args[2..]);
    }
    if args.len() < 3 {
        return Err("usage: bench_wal_datadir DB OUT-DIR [N]".into());
    }
    let db = PathBuf::from(&args[1]);
    let out = PathBuf::from(&args[2]);
    let n: u64 = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let snap_dir = out.join("member/snap");
    let wal_dir = out.join("member/wal");
    std::fs::create_dir_all(&snap_dir)?;
    std::fs::create_dir_all(&wal_dir)?;
    if std::fs::hard_link(&db, snap_dir.join("db")).is_err() {
        std::fs::copy(&db, snap_dir.join("db"))?;
    }
    let snap = etcdsnap::etcd::Snapshot::open(&db)?;
    let store = etcdsnap::mvcc::Store::open(&snap)?;
    let first = etcdsnap::wal::open::consistent_index(&store) + 1;
    let wal = put_wal::PutWal {
        first_index: first,
        entries: n,
        namespace_prefix: "walbench-",
        metadata: true,
    };
    let (segments, _) = put_wal::write(&wal_dir, &wal)?;
    println!(
        "{}: db {} + {n} entries from index {first} in {} segment(s)",
        out.display(),
        db.display(),
        segments
    );
    Ok(())
}

fn time(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    use std::time::Instant;
    let dir = PathBuf::from(args.first().ok_or("--time DATA-DIR [ROUNDS]")?);
    let rounds: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let input = etcdsnap::input::resolve(&dir)?;
    let wal = etcdsnap::wal::open::wal_dir_of(&input).ok_or("no WAL")?;
    for _ in 0..rounds {
        let t = Instant::now();
        let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
        let mut store = etcdsnap::mvcc::Store::open(&snap)?;
        let open = t.elapsed();
        let t = Instant::now();
        let mut slot = None;
        let (ov, _) = etcdsnap::wal::open::replay_wal(&mut store, &wal, &mut slot)?;
        let replay = t.elapsed();
        println!(
            "db open {:.3} s ({} revisions); WAL replay {:.3} s ({} entries, {} writes)",
            open.as_secs_f64(),
            store.records().len() - store.overlay_records().len(),
            replay.as_secs_f64(),
            ov.replayed,
            ov.writes
        );
    }
    Ok(())
}
