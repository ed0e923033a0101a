//! Command-line front end: flag definitions, output formats and exit codes.
//! Each command lives in a file of its own and only parses and prints.
//!
//! Exit codes: 0 ok, 1 the check found a problem or nothing matched,
//! 2 bad usage or unreadable input.

mod defrag;
mod restore;
mod status;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "etcdsnap",
    version,
    about = "Offline forensics and restore for etcd snapshots of Kubernetes and OpenShift clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Hash, revision, key count and size as `etcdctl snapshot status`
    /// prints them, plus page use, compaction, members and buckets.
    Status {
        /// A snapshot_*.db, a raw bbolt file, an etcd data dir, or an
        /// OpenShift backup dir.
        input: PathBuf,
        /// Output format (`-w/--write-out` as etcdctl spells it).
        #[arg(
            short = 'o',
            long = "output",
            visible_short_alias = 'w',
            visible_alias = "write-out",
            value_enum,
            default_value = "table"
        )]
        output: Format,
    },
    /// Layered integrity check: trailer, meta pages, bbolt structure, etcd
    /// schema. Exit 0 intact, 1 damaged, 2 unreadable.
    Verify {
        /// A snapshot_*.db, a raw bbolt file, an etcd data dir, or an
        /// OpenShift backup dir.
        input: PathBuf,
        /// Output format (`-w/--write-out` as etcdctl spells it).
        #[arg(
            short = 'o',
            long = "output",
            visible_short_alias = 'w',
            visible_alias = "write-out",
            value_enum,
            default_value = "text"
        )]
        output: Format,
    },
    /// Restore a snapshot into a new etcd data dir, as `etcdutl snapshot
    /// restore` does (same flags and defaults), verifying it first and
    /// building in a temp dir. Exit 0 done, 1 the snapshot is damaged,
    /// 2 bad flags or unreadable input (nothing written).
    Restore(RestoreArgs),
    /// Write a compact copy of a snapshot with a valid SHA-256 trailer.
    /// Never writes over the input.
    Defrag {
        /// A snapshot_*.db, a raw bbolt file, an etcd data dir, or an
        /// OpenShift backup dir.
        input: PathBuf,
        /// The new file (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Do not verify the input's SHA-256 trailer.
        #[arg(long)]
        skip_hash_check: bool,
        #[arg(
            short = 'o',
            long = "output",
            visible_short_alias = 'w',
            visible_alias = "write-out",
            value_enum,
            default_value = "text"
        )]
        output: Format,
    },
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// A snapshot_*.db, a raw bbolt file (needs --skip-hash-check), an etcd
    /// data dir, or an OpenShift backup dir.
    input: PathBuf,
    /// The data dir to create (missing or empty); default `<name>.etcd`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Put the WAL here instead of `<data-dir>/member/wal`.
    #[arg(long)]
    wal_dir: Option<PathBuf>,
    /// The restored member's name.
    #[arg(long, default_value = "default")]
    name: String,
    /// The cluster as name=peerURL pairs.
    #[arg(long, default_value = "default=http://localhost:2380")]
    initial_cluster: String,
    /// The cluster token (part of every member ID and so the cluster ID).
    #[arg(long, default_value = "etcd-cluster")]
    initial_cluster_token: String,
    /// This member's peer URLs (comma-separated); must equal its entry in
    /// --initial-cluster.
    #[arg(long, default_value = "http://localhost:2380")]
    initial_advertise_peer_urls: String,
    /// Do not verify the SHA-256 trailer (needed for a raw member/snap/db).
    #[arg(long)]
    skip_hash_check: bool,
    /// Mark the bumped revision compacted (needs --bump-revision).
    #[arg(long)]
    mark_compacted: bool,
    /// Add this much to the latest revision (so watchers and caches see a
    /// newer revision than any they had).
    #[arg(long, default_value_t = 0)]
    bump_revision: u64,
    /// Reproduce the restore of this etcd version (3.4 or 3.5); detected
    /// from the snapshot by default.
    #[arg(long)]
    etcd_version: Option<etcdsnap::restore::EtcdVersion>,
    #[arg(
        short = 'o',
        long = "output",
        visible_short_alias = 'w',
        visible_alias = "write-out",
        value_enum,
        default_value = "text"
    )]
    output: Format,
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Status { input, output } => status::run(&input, output),
        Command::Verify { input, output } => verify::run(&input, output),
        Command::Restore(a) => restore::run(restore::Args {
            input: a.input,
            data_dir: a.data_dir,
            wal_dir: a.wal_dir,
            name: a.name,
            initial_cluster: a.initial_cluster,
            initial_cluster_token: a.initial_cluster_token,
            initial_advertise_peer_urls: a.initial_advertise_peer_urls,
            skip_hash_check: a.skip_hash_check,
            mark_compacted: a.mark_compacted,
            bump_revision: a.bump_revision,
            etcd_version: a.etcd_version,
            output: a.output,
        }),
        Command::Defrag {
            input,
            out,
            skip_hash_check,
            output,
        } => defrag::run(input, out, skip_hash_check, output),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("etcdsnap: error: {e:#}");
            2
        }
    }
}

/// Resolves INPUT and prints the notes saying which file was chosen.
pub(crate) fn resolve(input: &std::path::Path) -> anyhow::Result<etcdsnap::input::Input> {
    let i = etcdsnap::input::resolve(input)?;
    for n in &i.notes {
        eprintln!("etcdsnap: {n}");
    }
    Ok(i)
}

/// Prints JSON to stdout, pretty, with a trailing newline.
pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}
