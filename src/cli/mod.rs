//! Command-line front end: flag definitions, output formats and exit codes.
//! Each command lives in a file of its own and only parses and prints.
//!
//! Exit codes: 0 ok, 1 the check found a problem or nothing matched,
//! 2 bad usage or unreadable input.

mod args;
mod certs;
mod codec;
mod completions;
mod defrag;
mod export;
mod forensics;
mod forms;
mod get;
mod hashkv;
mod history;
#[cfg(test)]
mod json_formats;
mod keys;
mod ls;
mod progress;
mod restore;
mod salvage;
mod serve;
mod session;
mod status;
mod timeline;
mod verify;
mod wal;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "etcdsnap",
    version = env!("ETCDSNAP_VERSION"),
    about = "Offline forensics and restore for etcd snapshots of Kubernetes and OpenShift clusters"
)]
pub(crate) struct Cli {
    /// Print no notes on stderr (which file was chosen, which keys were
    /// loaded); warnings and errors still print.
    #[arg(short = 'q', long, global = true)]
    quiet: bool,
    /// With an OpenShift backup dir, do not use its paired
    /// static_kuberesources tarball as a key source (only --keys).
    #[arg(long, global = true)]
    no_pair: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Text,
    Json,
    /// The long report (`status`: everything besides etcdctl's table).
    Wide,
}

/// Set once by `-q/--quiet`.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set once by `--no-pair`.
static NO_PAIR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints a note on stderr (`etcdsnap: {msg}`) unless `-q` was given.
/// Warnings and errors use `eprintln!` directly.
/// File and key names in notes come from the backup: control characters
/// are escaped.
pub(crate) fn note(msg: impl std::fmt::Display) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        warn(msg);
    }
}

/// Prints a warning on stderr (`etcdsnap: {msg}`), whatever `-q` says,
/// with control characters escaped.
pub(crate) fn warn(msg: impl std::fmt::Display) {
    eprintln!("etcdsnap: {}", etcdsnap::escape::controls(&msg.to_string()));
}

/// `-o`, as the commands that print a report take it.
#[derive(clap::Args, Clone, Copy)]
pub struct OutputArg {
    /// Output format: text for people (table: etcdctl's table where it has
    /// one, as `status -w table`; wide: the long report), json for machines
    /// (`-w/--write-out` as etcdctl spells it).
    #[arg(
        short = 'o',
        long = "output",
        visible_short_alias = 'w',
        visible_alias = "write-out",
        value_enum,
        default_value = "text"
    )]
    pub output: Format,
}

/// INPUT, `--keys` and `-o`: what `verify` and `keys` take.
#[derive(clap::Args)]
pub struct KeyedArgs {
    #[command(flatten)]
    input: InputArg,
    #[command(flatten)]
    keys: KeysArg,
    #[command(flatten)]
    output: OutputArg,
}

/// `--keys`, repeatable.
#[derive(clap::Args, Default)]
pub struct KeysArg {
    /// Encryption keys: a static_kuberesources_*.tar.gz, an
    /// EncryptionConfiguration file (YAML or JSON) or an OpenShift backup
    /// dir. Repeatable; all form one key ring. OpenShift's key Secrets
    /// inside the snapshot are loaded once Secrets decrypt.
    #[arg(long = "keys", value_name = "K")]
    pub keys: Vec<PathBuf>,
}

/// INPUT, as every command takes it.
#[derive(clap::Args)]
pub struct InputArg {
    /// A snapshot_*.db, a raw bbolt file, an etcd data dir, or an OpenShift
    /// backup dir (its newest snapshot is used).
    pub input: PathBuf,
    /// For an etcd data dir: read the db alone, without the WAL entries a
    /// restarted etcd would apply on top of it.
    #[arg(long = "no-wal")]
    pub no_wal: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Hash, revision, key count and size as `etcdctl snapshot status`
    /// prints them, plus page use, compaction, members and buckets.
    Status {
        #[command(flatten)]
        input: InputArg,
        #[command(flatten)]
        output: OutputArg,
        /// With `-w table`, the long report instead of etcdctl's table
        /// (as `-o wide` gives).
        #[arg(long)]
        detail: bool,
    },
    /// Layered integrity check: trailer, meta pages, bbolt structure, etcd
    /// schema. Exit 0 intact, 1 damaged, 2 unreadable. A snapshot file
    /// without its SHA-256 trailer is damaged (restore refuses it) unless
    /// --skip-hash-check or the input is a data dir.
    Verify(verify::VerifyArgs),
    /// Which encryption keys were found where (never their bytes), and
    /// which keys the snapshot's values need. Exit 1 when some value
    /// cannot be read with the keys given.
    Keys(KeyedArgs),
    /// Objects as `kubectl get` shows them: RESOURCE [NAME], -n/-A, -l,
    /// --key/--prefix, --rev; -o yaml|json|table|raw. Exit 1 when nothing
    /// matched or a value could not be decoded.
    Get(get::GetArgs),
    /// Every live key with create/mod revision, version, lease, size and
    /// encoding (and encryption provider/key); --decode adds each object.
    Ls(ls::LsArgs),
    /// Every revision of one key still held: puts and deletes.
    History(history::HistoryArgs),
    /// Objects added, removed and changed between two inputs (or two
    /// revisions of one), with field-level differences. Exit 0 equal,
    /// 1 different.
    Diff(forensics::DiffArgs),
    /// What fills the database: per resource, largest objects, namespaces,
    /// free pages, compaction.
    Stats(forensics::StatsArgs),
    /// One YAML file per object under --out, plus index.json (files 0600).
    Export(export::ExportArgs),
    /// One stored value (file or stdin) to its object, as YAML or JSON.
    Decode(codec::DecodeArgs),
    /// A YAML/JSON object to the exact bytes the apiserver stores.
    Encode(codec::EncodeArgs),
    /// Restore a snapshot into a new etcd data dir, as `etcdutl snapshot
    /// restore` does (same flags and defaults), verifying it first and
    /// building in a temp dir. Exit 0 done, 1 the snapshot is damaged,
    /// 2 bad flags or unreadable input (nothing written).
    Restore(restore::RestoreArgs),
    /// Serve the snapshot as a read-only Kubernetes API (kubectl, client
    /// libraries): loopback by default, with a kubeconfig to point at it.
    Serve(serve::ServeArgs),
    /// Write a compact copy of a snapshot with a valid SHA-256 trailer.
    /// Never writes over the input.
    Defrag(defrag::DefragArgs),
    /// The hash `etcdctl endpoint hashkv --rev N` returns for a server
    /// holding this data (3.4/3.5), with its compaction revision.
    Hashkv(hashkv::HashKvArgs),
    /// A selection across many backups (files, data dirs, dirs of
    /// snapshot_<ts>.db), in time order: per backup its revision and the
    /// objects created, changed (with field paths) and deleted since the
    /// one before. INPUT… [RESOURCE [NAME]] [-n NS] [-o json].
    Timeline(timeline::TimelineArgs),
    /// Every X.509 certificate in Secrets, ConfigMaps and the
    /// static_kuberesources tarball: subject, issuer, SANs, serial,
    /// validity, and whether it is expired or expiring at --at
    /// (snapshot|now|DATE). Exit 1 when any is expired.
    Certs(certs::CertsArgs),
    /// A shell completion script (bash, zsh, fish, powershell, elvish) on
    /// stdout, e.g. `source <(etcdsnap completions bash)`.
    Completions(completions::CompletionsArgs),
    /// Man pages, etcdsnap.1 and one etcdsnap-CMD.1 per command, into
    /// --out (view with `man -l`).
    Man(completions::ManArgs),
    /// The entries of a data dir's WAL, decoded: index, term, operation,
    /// keys and objects, value size and encoding, lease, request ID and
    /// user, and whether a restart would replay them.
    Wal(wal::WalArgs),
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn run() -> i32 {
    let cli = Cli::parse_from(args::cobra_bools(
        &<Cli as clap::CommandFactory>::command(),
        std::env::args_os().collect(),
    ));
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    NO_PAIR.store(cli.no_pair, std::sync::atomic::Ordering::Relaxed);
    let result = match cli.command {
        Command::Status {
            input,
            output,
            detail,
        } => status::run(&input.input, output.output, detail),
        Command::Verify(a) => verify::run(a),
        Command::Keys(a) => keys::run(&a.input.input, &a.keys.keys, a.output.output),
        Command::Get(a) => get::run(a),
        Command::Ls(a) => ls::run(a),
        Command::History(a) => history::run(a),
        Command::Export(a) => export::run(a),
        Command::Diff(a) => forensics::diff(a),
        Command::Stats(a) => forensics::stats(a),
        Command::Decode(a) => codec::decode(a),
        Command::Encode(a) => codec::encode(a),
        Command::Restore(a) => restore::run(a),
        Command::Defrag(a) => defrag::run(a),
        Command::Hashkv(a) => hashkv::run(a),
        Command::Timeline(a) => timeline::run(a),
        Command::Certs(a) => certs::run(a),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => completions::man(a),
        Command::Wal(a) => wal::run(a),
        Command::Serve(a) => serve::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Each cause once, control characters escaped.
            let e: &(dyn std::error::Error + 'static) = e.as_ref();
            eprintln!("etcdsnap: error: {}", etcdsnap::escape::error_chain(e));
            2
        }
    }
}

/// Resolves INPUT and prints the notes saying which file was chosen.
pub fn resolve(input: &std::path::Path) -> anyhow::Result<etcdsnap::input::Input> {
    let i = etcdsnap::input::resolve(input)?;
    let no_pair = NO_PAIR.load(std::sync::atomic::Ordering::Relaxed);
    for n in &i.notes {
        if n.starts_with("warning") {
            warn(n);
        } else if let Some(t) = n.strip_prefix("paired with ").filter(|_| no_pair) {
            note(format_args!("not using {t} (--no-pair)"));
        } else {
            note(n);
        }
    }
    Ok(i)
}

/// Prints a library session's notes to stderr.
/// Warnings always print; other notes are silenced by `-q`.
pub fn print_notes(notes: &[etcdsnap::session::Note]) {
    for n in notes {
        if matches!(n.kind, etcdsnap::session::NoteKind::Warning) {
            warn(n);
        } else {
            note(n);
        }
    }
}

/// Opens the MVCC store of an input; for a data dir, with its WAL replayed
/// as a restarted etcd applies it (unless `no_wal`), saying so on stderr.
/// `slot` keeps the mapped WAL segments the replayed revisions borrow.
pub(crate) fn open_store<'a>(
    input: &etcdsnap::input::Input,
    snap: &'a etcdsnap::etcd::Snapshot,
    no_wal: bool,
    slot: &'a mut Option<etcdsnap::wal::WalFiles>,
) -> anyhow::Result<etcdsnap::mvcc::Store<'a>> {
    open_store_replayed(input, snap, no_wal, slot).map(|(s, _)| s)
}

/// [`open_store`], also returning what the replay laid over the store did.
pub(crate) fn open_store_replayed<'a>(
    input: &etcdsnap::input::Input,
    snap: &'a etcdsnap::etcd::Snapshot,
    no_wal: bool,
    slot: &'a mut Option<etcdsnap::wal::WalFiles>,
) -> anyhow::Result<(
    etcdsnap::mvcc::Store<'a>,
    Option<etcdsnap::wal::replay::ReplayReport>,
)> {
    use anyhow::Context;
    // Without --salvage: a damaged tree's error names the page and
    // suggests --salvage.
    let mut store = salvage::store(snap, None, false)?;
    let Some(dir) = etcdsnap::wal::open::wal_dir_of(input) else {
        return Ok((store, None));
    };
    if no_wal {
        eprintln!(
            "etcdsnap: --no-wal: reading the db alone, not the WAL in {}",
            dir.display()
        );
        return Ok((store, None));
    }
    let db_rev = store.current.max(1);
    let (ov, torn) = etcdsnap::wal::open::replay_wal(&mut store, &dir, slot)
        .context("the WAL cannot be replayed (--salvage, where a command takes it, replays the entries before the damage and reports the rest lost; --no-wal reads the db alone)")?;
    print_replay(db_rev, &ov, torn.as_ref());
    Ok((store, Some(ov)))
}

/// Says on stderr what a WAL replay did (and the torn tail it dropped).
pub(crate) fn print_replay(
    db_rev: i64,
    rep: &etcdsnap::wal::replay::ReplayReport,
    torn: Option<&etcdsnap::wal::Torn>,
) {
    if let Some(t) = torn {
        eprintln!(
            "etcdsnap: WAL: torn last record in {} at offset {} dropped, as etcd drops it on restart ({})",
            t.segment, t.offset, t.why
        );
    }
    eprintln!(
        "etcdsnap: WAL: replayed {} entr{} above consistent index {} ({} write{}{}), revision {} -> {}{}",
        rep.replayed,
        if rep.replayed == 1 { "y" } else { "ies" },
        rep.consistent_index,
        rep.writes,
        if rep.writes == 1 { "" } else { "s" },
        if rep.failed > 0 {
            format!(", {} refused as etcd refuses them", rep.failed)
        } else {
            String::new()
        },
        db_rev,
        rep.revision,
        if rep.replayed > 0 { "; --no-wal reads the db alone" } else { "" },
    );
    if rep.beyond_commit > 0 {
        eprintln!(
            "etcdsnap: WAL: {} of them lie above the last recorded commit index: a restarted single member commits and applies them; in a cluster the leader's log decides",
            rep.beyond_commit
        );
    }
}

/// A db file with a data dir's WAL replayed into it, in a private (0700)
/// temp dir removed on drop.
pub(crate) struct ReplayedDb {
    dir: PathBuf,
    pub db: PathBuf,
}

impl Drop for ReplayedDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// For a data dir whose WAL holds entries above the db's consistent index
/// (and unless `no_wal`): writes db + replay to a temp file in a new
/// private dir beside `near`, for `restore` and `defrag` to start from.
/// `None` when there is nothing to replay.
pub(crate) fn replayed_db(
    input: &etcdsnap::input::Input,
    no_wal: bool,
    near: &std::path::Path,
) -> anyhow::Result<Option<ReplayedDb>> {
    use anyhow::Context;
    let Some(dir) = etcdsnap::wal::open::wal_dir_of(input) else {
        return Ok(None);
    };
    if no_wal {
        eprintln!(
            "etcdsnap: --no-wal: the db alone, not the WAL in {}",
            dir.display()
        );
        return Ok(None);
    }
    let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
    let mut slot = None;
    let (store, ov) = open_store_replayed(input, &snap, false, &mut slot)?;
    let Some(rep) = ov.filter(|r| r.replayed > 0) else {
        return Ok(None);
    };
    let parent = near
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let dir = parent.join(format!(".etcdsnap-replay-{}", std::process::id()));
    etcdsnap::private_files::mkdir_0700(&dir)
        .with_context(|| format!("{}: creating a temp dir", dir.display()))?;
    let out = ReplayedDb {
        db: dir.join("db"),
        dir,
    };
    etcdsnap::wal::materialize::write_replayed_db(&store, &rep, &out.db)
        .with_context(|| format!("{}: writing the db with the WAL replayed", out.db.display()))?;
    eprintln!(
        "etcdsnap: starting from the db with the WAL's {} entries replayed (--no-wal: the db alone)",
        rep.replayed
    );
    Ok(Some(out))
}

/// Prints JSON to stdout, pretty, with a trailing newline.
pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Builds the key ring from `--keys` and the paired tarball (unless
/// `--no-pair`), then the key Secrets inside the snapshot, printing the
/// library's notes. `None` when no key source was given or found.
pub(crate) fn load_keys(
    input: &etcdsnap::input::Input,
    keys: &[PathBuf],
    store: &etcdsnap::mvcc::Store<'_>,
) -> anyhow::Result<Option<etcdsnap::crypt::KeyRing>> {
    let mut notes = Vec::new();
    let ring = etcdsnap::session::load_keys(input, keys, store, pair(), &mut notes)?;
    print_notes(&notes);
    Ok(ring)
}

/// Whether a backup dir's tarball is used as a key source (no `--no-pair`).
pub(crate) fn pair() -> bool {
    !NO_PAIR.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether a (decrypted) value decodes as an object: the decode check of
/// `verify --keys` and `keys`.
pub(crate) fn decodes(key: &[u8], value: &[u8]) -> Result<(), etcdsnap::kube::KubeError> {
    etcdsnap::verify::value_decodes(key, value)
}
