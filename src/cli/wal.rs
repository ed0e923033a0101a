//! `etcdsnap wal`: the entries of a data dir's WAL, decoded, and whether a
//! restart would replay them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use etcdsnap::wal::check::{match_snaps, snap_files};
use etcdsnap::wal::list::{rows, Selection};
use etcdsnap::wal::{Log, WalFiles};

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
    let has_wal_files = std::fs::read_dir(&a.input)
        .map(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".wal"))
        })
        .unwrap_or(false);
    let (wal_dir, db, snap_dir) = if has_wal_files {
        let snap_dir = a.input.join("../snap");
        let db = snap_dir.join("db");
        (a.input.clone(), db.is_file().then_some(db), snap_dir)
    } else {
        let input = super::resolve(&a.input)?;
        let dir = etcdsnap::wal::open::wal_dir_of(&input).with_context(|| {
            format!(
                "{}: no WAL here (give an etcd data dir, its member dir or member/wal)",
                a.input.display()
            )
        })?;
        let snap_dir = input.db.parent().map(PathBuf::from).unwrap_or_default();
        (dir, Some(input.db.clone()), snap_dir)
    };
    let ci = match &db {
        Some(db) => {
            let snap = etcdsnap::etcd::Snapshot::open(db)?;
            let store = etcdsnap::mvcc::Store::open(&snap)?;
            Some(etcdsnap::wal::open::consistent_index(&store))
        }
        None => None,
    };
    let files = WalFiles::open(&wal_dir)?;
    let records = files.records()?;
    let log = Log::decode(&files, &records)?;
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
    let name = |i: usize| {
        files
            .segments
            .get(i)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let entries = rows(&log.entries, ci.unwrap_or(0), &sel, name);
    let snaps = snap_files(&snap_dir);
    let marks = match_snaps(&log, &snaps);
    if a.output == WalFormat::Json {
        let v = serde_json::json!({
            "wal_dir": wal_dir.display().to_string(),
            "segments": files.segments,
            "consistent_index": ci,
            "node_id": log.node_id.map(|x| format!("{x:x}")),
            "cluster_id": log.cluster_id.map(|x| format!("{x:x}")),
            "hard_state": log.hard_state,
            "snapshots": marks.iter().map(|(i, t, f)| serde_json::json!({
                "index": i, "term": t, "snap_file": f})).collect::<Vec<_>>(),
            "torn": log.torn,
            "overwritten": log.overwritten,
            "entries": entries,
        });
        super::print_json(&etcdsnap::machine_output::WAL.document(&v))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# {}: {} segment(s), {} entries ({}..{}), consistent index of the db: {}",
            wal_dir.display(),
            files.segments.len(),
            log.entries.len(),
            log.entries.first().map(|e| e.index).unwrap_or(0),
            log.last_index(),
            ci.map(|c| c.to_string())
                .unwrap_or_else(|| "unknown (no db)".into())
        )?;
        if let Some(h) = log.hard_state {
            writeln!(
                out,
                "# hard state: term {} vote {:x} commit {}",
                h.term, h.vote, h.commit
            )?;
        }
        for (i, t, f) in &marks {
            writeln!(
                out,
                "# snapshot mark: index {i} term {t}: {}",
                match (f, i) {
                    (Some(f), _) => f.as_str(),
                    (None, 0) => "the WAL's start (no file)",
                    (None, _) => "no .snap file (purged, or lost)",
                }
            )?;
        }
        if let Some(t) = &log.torn {
            writeln!(
                out,
                "# torn last record in {} at offset {}: etcd drops it on restart ({})",
                t.segment, t.offset, t.why
            )?;
        }
        if log.overwritten > 0 {
            writeln!(
                out,
                "# {} entries were replaced by a later leader's entries at the same index",
                log.overwritten
            )?;
        }
        writeln!(
            out,
            "{:>8} {:>5} {:<6} {:<14} {:>7} {:<9} {:>16} {:>16}  KEY / DETAIL",
            "INDEX", "TERM", "STATE", "OP", "SIZE", "ENCODING", "LEASE", "ID"
        )?;
        for r in &entries {
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
            let mut what = match first {
                Some(k) => {
                    let mut s = k.key.clone();
                    if let Some(e) = &k.range_end {
                        s.push_str(&format!(" .. {e}"));
                    }
                    if let (Some(res), Some(n)) = (&k.resource, &k.name) {
                        s.push_str(&format!(
                            "  [{res} {}{n}]",
                            k.namespace
                                .as_deref()
                                .map(|ns| format!("{ns}/"))
                                .unwrap_or_default()
                        ));
                    }
                    s
                }
                None => String::new(),
            };
            if r.keys.len() > 1 {
                what.push_str(&format!(" (+{} more)", r.keys.len() - 1));
            }
            if !r.detail.is_empty() {
                if !what.is_empty() {
                    what.push_str("  ");
                }
                what.push_str(&r.detail);
            }
            if let Some(u) = &r.user {
                what.push_str(&format!(
                    "  user {}",
                    etcdsnap::wal::list::escape(u.as_bytes())
                ));
            }
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
                what
            )?;
        }
    }
    if entries.is_empty() {
        eprintln!("etcdsnap: no entries matched");
        return Ok(1);
    }
    Ok(0)
}
