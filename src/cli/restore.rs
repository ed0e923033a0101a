//! `etcdsnap restore`: a snapshot into a new etcd data dir, with
//! `etcdutl snapshot restore`'s flags and defaults.

use std::path::{Path, PathBuf};

use etcdsnap::restore::{self, RestoreConfig, RestoreError};

use super::Format;

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A snapshot_*.db, a raw bbolt file (needs --skip-hash-check), an etcd
    /// data dir, or an OpenShift backup dir.
    pub input: PathBuf,
    /// The data dir to create (missing or empty); default `<name>.etcd`.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Put the WAL here instead of `<data-dir>/member/wal`.
    #[arg(long)]
    pub wal_dir: Option<PathBuf>,
    /// The restored member's name.
    #[arg(long, default_value = "default")]
    pub name: String,
    /// The cluster as name=peerURL pairs.
    #[arg(long, default_value = "default=http://localhost:2380")]
    pub initial_cluster: String,
    /// The cluster token (part of every member ID and so the cluster ID).
    #[arg(long, default_value = "etcd-cluster")]
    pub initial_cluster_token: String,
    /// This member's peer URLs (comma-separated); must equal its entry in
    /// --initial-cluster.
    #[arg(long, default_value = "http://localhost:2380")]
    pub initial_advertise_peer_urls: String,
    /// Do not verify the SHA-256 trailer (needed for a raw member/snap/db).
    #[arg(long)]
    pub skip_hash_check: bool,
    /// Mark the bumped revision compacted (needs --bump-revision).
    #[arg(long)]
    pub mark_compacted: bool,
    /// Add this much to the latest revision (so watchers and caches see a
    /// newer revision than any they had).
    #[arg(long, default_value_t = 0)]
    pub bump_revision: u64,
    /// Reproduce the restore of this etcd version (3.4 or 3.5); detected
    /// from the snapshot by default.
    #[arg(long)]
    pub etcd_version: Option<etcdsnap::restore::EtcdVersion>,
    #[command(flatten)]
    pub out_fmt: super::OutputArg,
    /// Restore what is readable from a damaged snapshot: the salvaged
    /// revisions (see `ls --salvage`) and every bucket as far as its tree
    /// can be read; the loss report is written beside the data dir as
    /// `<data-dir>.salvage-report.json`. Implies --skip-hash-check. Exit 1
    /// when anything may be lost.
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

pub fn run(a: RestoreArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input)?;
    // etcdutl's default data dir: <name>.etcd
    let data_dir = a
        .data_dir
        .unwrap_or_else(|| PathBuf::from(format!("{}.etcd", a.name)));
    let cfg = RestoreConfig {
        name: a.name,
        initial_cluster: a.initial_cluster,
        initial_cluster_token: a.initial_cluster_token,
        initial_advertise_peer_urls: a.initial_advertise_peer_urls,
        data_dir,
        wal_dir: a.wal_dir,
        skip_hash_check: a.skip_hash_check,
        mark_compacted: a.mark_compacted,
        bump_revision: a.bump_revision,
        etcd_version: a.etcd_version,
    };
    if a.salvage.salvage {
        return run_salvage(&input.db, cfg, a.out_fmt.output);
    }
    match restore::restore(&input.db, &cfg) {
        Ok(r) => {
            if a.out_fmt.output == Format::Json {
                super::print_json(&r)?;
            } else {
                print_text(&input.db, &r);
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("etcdsnap: restore failed: {e}");
            eprintln!(
                "etcdsnap: nothing was written to {}",
                cfg.data_dir.display()
            );
            Ok(exit_code(&e))
        }
    }
}

/// `restore --salvage`: the salvaged db is written to a private temp file
/// beside the target, restored as a raw db, then removed.
fn run_salvage(db: &Path, mut cfg: RestoreConfig, output: Format) -> anyhow::Result<i32> {
    let snap = etcdsnap::etcd::Snapshot::open_salvage(db)?;
    let s = super::salvage::run(&snap, true).ok_or_else(|| anyhow::anyhow!("salvage"))?;
    // The intermediate db lives in a private temp dir that is removed on
    // exit and on Ctrl-C (see `etcdsnap::unpack`).
    let mut area = etcdsnap::unpack::TempArea::new()?;
    // Registered for the signal handler, then left for the writer to create.
    let (tmp, f) = area.create(Path::new("salvaged.db"))?;
    drop(f);
    std::fs::remove_file(&tmp)?;
    etcdsnap::restore::salvaged::write_salvaged_db(&snap, &s, &tmp)
        .map_err(|e| anyhow::anyhow!("{}: writing the salvaged db: {e}", tmp.display()))?;
    cfg.skip_hash_check = true;
    let report_path = PathBuf::from(format!("{}.salvage-report.json", cfg.data_dir.display()));
    match restore::restore(&tmp, &cfg) {
        Ok(r) => {
            let f = etcdsnap::bolt::writer::create_new_0600(&report_path)
                .or_else(|_| {
                    std::fs::remove_file(&report_path)?;
                    etcdsnap::bolt::writer::create_new_0600(&report_path)
                })
                .map_err(|e| anyhow::anyhow!("{}: {e}", report_path.display()))?;
            serde_json::to_writer_pretty(f, &s.report)?;
            eprintln!(
                "etcdsnap: salvage: loss report written to {}",
                report_path.display()
            );
            if output == Format::Json {
                super::print_json(&r)?;
            } else {
                print_text(db, &r);
            }
            Ok(super::salvage::exit(0, Some(&s)))
        }
        Err(e) => {
            eprintln!("etcdsnap: restore failed: {e}");
            eprintln!(
                "etcdsnap: nothing was written to {}",
                cfg.data_dir.display()
            );
            Ok(exit_code(&e))
        }
    }
}

pub(crate) fn exit_code(e: &RestoreError) -> i32 {
    if e.is_problem_found() {
        1
    } else {
        2
    }
}

fn print_text(input: &Path, r: &restore::RestoreReport) {
    for w in &r.warnings {
        eprintln!("etcdsnap: warning: {w}");
    }
    println!("restored {} into {}", input.display(), r.data_dir.display());
    println!(
        "  etcd version:   {}{}",
        r.etcd_version,
        if r.version_detected {
            " (detected from the snapshot)"
        } else {
            " (--etcd-version)"
        }
    );
    println!(
        "  hash check:     {}",
        if r.hash_checked {
            "SHA-256 trailer verified"
        } else {
            "skipped"
        }
    );
    println!("  member ID:      {}", r.member_id);
    println!("  cluster ID:     {}", r.cluster_id);
    for m in &r.members {
        println!("  member {:x} {} {}", m.id, m.name, m.peer_urls.join(","));
    }
    println!(
        "  revision:       {}{}",
        r.source.revision,
        match r.bumped_revision {
            Some(b) => format!(" → bumped to {b}"),
            None => String::new(),
        }
    );
    println!("  keys:           {}", r.restored.total_key);
    println!(
        "  db size:        {} → {} bytes (compacted)",
        r.source.total_size, r.restored.total_size
    );
    println!("  WAL dir:        {}", r.wal_dir.display());
    println!("  snap file:      {}", r.snap_file.display());
    println!("  took:           {:.2}s", r.seconds);
}
