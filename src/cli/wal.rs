//! `etcdsnap wal`: the entries of a data dir's WAL, decoded, and whether a
//! restart would replay them.

use std::io::Write;
use std::path::PathBuf;

use etcdsnap::wal::list::{Selection, WalListing, WalSource};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WalFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct WalArgs {
    /// An etcd data dir, its `member` dir, or a WAL dir (`member/wal`).
    pub input: PathBuf,
    /// Resource type as kubectl names it (pods, secrets, deployments.apps);
    /// only entries touching such keys.
    pub resource: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Only entries touching keys in this namespace.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Only entries touching keys starting with this.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Only entries at or above this raft index.
    #[arg(long = "from-index", default_value_t = 0)]
    pub from_index: u64,
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: WalFormat,
}

pub fn run(a: WalArgs) -> anyhow::Result<i32> {
    // A WAL dir itself, or a data dir / member dir holding one.
    let src = if WalSource::is_wal_dir(&a.input) {
        WalSource::of_wal_dir(&a.input)
    } else {
        WalSource::of_input(&super::resolve(&a.input)?, &a.input)?
    };
    let mut filter = super::get::SelectArgs {
        namespace: a.namespace.clone(),
        prefix: a.prefix.clone(),
        ..Default::default()
    }
    .filter(a.resource.as_deref(), a.name.as_deref())?;
    filter.name = a.name.clone();
    let sel = Selection {
        from_index: a.from_index,
        filter,
    };
    let w = WalListing::read(&src, &sel)?;
    if a.output == WalFormat::Json {
        super::print_json(&etcdsnap::machine_output::WAL.document(&w))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# {}: {} segment(s), {} entries ({}..{}), consistent index of the db: {}",
            w.wal_dir,
            w.segments.len(),
            w.entry_count,
            w.first_index,
            w.last_index,
            w.consistent_index
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unknown (no db)".into())
        )?;
        if let Some(h) = w.hard_state {
            writeln!(
                out,
                "# hard state: term {} vote {:x} commit {}",
                h.term, h.vote, h.commit
            )?;
        }
        for m in &w.snapshots {
            writeln!(
                out,
                "# snapshot mark: index {} term {}: {}",
                m.index,
                m.term,
                m.describe()
            )?;
        }
        if let Some(t) = &w.torn {
            writeln!(
                out,
                "# torn last record in {} at offset {}: etcd drops it on restart ({})",
                t.segment, t.offset, t.why
            )?;
        }
        if w.overwritten > 0 {
            writeln!(
                out,
                "# {} entries were replaced by a later leader's entries at the same index",
                w.overwritten
            )?;
        }
        writeln!(
            out,
            "{:>8} {:>5} {:<6} {:<14} {:>7} {:<9} {:>16} {:>16}  KEY / DETAIL",
            "INDEX", "TERM", "STATE", "OP", "SIZE", "ENCODING", "LEASE", "ID"
        )?;
        for r in &w.entries {
            let first = r.keys.first();
            let size = first
                .and_then(|k| k.value_size)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into());
            let enc = first.and_then(|k| k.encoding).unwrap_or("-");
            let lease = first
                .map(|k| k.lease)
                .filter(|&l| l != 0)
                .map(|l| format!("{l:x}"))
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "{:>8} {:>5} {:<6} {:<14} {:>7} {:<9} {:>16} {:>16}  {}",
                r.index,
                r.term,
                r.state,
                r.op,
                size,
                enc,
                lease,
                r.id.as_deref().unwrap_or("-"),
                r.what()
            )?;
        }
    }
    if w.entries.is_empty() {
        eprintln!("etcdsnap: no entries matched");
        return Ok(1);
    }
    Ok(0)
}
