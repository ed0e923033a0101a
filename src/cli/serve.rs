//! `etcdsnap serve`: a snapshot as a read-only Kubernetes API.

use std::net::SocketAddr;
use std::path::PathBuf;

use etcdsnap::serve::{Options, Started};
use etcdsnap::session::Session;

use super::{InputArg, KeysArg};

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// A second snapshot (B): the web console at /ui/ compares INPUT with
    /// it on its Diff page.
    #[arg(value_name = "B")]
    pub compare: Option<PathBuf>,
    #[command(flatten)]
    pub keys: KeysArg,
    /// Replace Secret data with SHA-256 digests in everything served.
    #[arg(long)]
    pub redact: bool,
    /// Serve the Secrets that hold encryption keys (OpenShift's
    /// encryption-key-* and any Secret an EncryptionConfiguration was read
    /// from) in clear; they are digests by default.
    #[arg(long)]
    pub show_key_material: bool,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Allow a non-loopback --listen address (decrypted Secrets are
    /// served to whoever can reach it).
    #[arg(long)]
    pub allow_remote: bool,
    /// Serve the state at this revision (default: the latest).
    #[arg(long)]
    pub rev: Option<i64>,
    /// Write a kubeconfig (0600) pointing at the server here.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// HTTPS with a generated self-signed certificate and a random bearer
    /// token, both written into the --kubeconfig-out file.
    #[arg(long, requires = "kubeconfig_out")]
    pub tls: bool,
    /// Seconds between BOOKMARK events on a watch.
    #[arg(long, default_value_t = 10, hide = true)]
    pub bookmark_every: u64,
}

pub fn run(a: ServeArgs) -> anyhow::Result<i32> {
    let mut input = super::resolve(&a.input.input)?;
    // Printed by resolve; not again with the session's notes.
    input.notes.clear();
    let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
    // The server lives as long as the process: the map and a data dir's
    // replayed WAL are leaked so requests can borrow them.
    let snap: &'static etcdsnap::etcd::Snapshot = Box::leak(Box::new(snap));
    let wal: &'static mut Option<etcdsnap::wal::WalFiles> = Box::leak(Box::new(None));
    let store = super::open_store(&input, snap, a.input.no_wal, wal)?;
    let session = Session::with_store(input, store, &a.keys.keys, super::pair())?;
    super::print_notes(&session.notes);
    let compare = match &a.compare {
        Some(b) => {
            let mut input = super::resolve(b)?;
            input.notes.clear();
            let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
            let snap: &'static etcdsnap::etcd::Snapshot = Box::leak(Box::new(snap));
            let wal: &'static mut Option<etcdsnap::wal::WalFiles> = Box::leak(Box::new(None));
            let store = super::open_store(&input, snap, a.input.no_wal, wal)?;
            let s = Session::with_store(input, store, &a.keys.keys, super::pair())?;
            super::print_notes(&s.notes);
            Some(s)
        }
        None => None,
    };
    if !a.listen.ip().is_loopback() && a.allow_remote {
        eprintln!(
            "etcdsnap: warning: serving on {} — anyone who can reach it reads every object{}",
            a.listen,
            if a.redact {
                ""
            } else {
                ", decrypted Secrets included"
            }
        );
    }
    let opts = Options {
        listen: a.listen,
        allow_remote: a.allow_remote,
        redact: a.redact,
        show_key_material: a.show_key_material,
        rev: a.rev,
        kubeconfig_out: a.kubeconfig_out,
        bookmark_every: a.bookmark_every,
        tls: a.tls,
    };
    etcdsnap::serve::run_pair(session, compare, opts, |s: &Started| {
        println!(
            "etcdsnap: serving {} objects at revision {} on {} (read-only)",
            s.objects, s.revision, s.url
        );
        if let Some(k) = &s.kubeconfig {
            println!("etcdsnap: kubectl --kubeconfig {} get pods -A", k.display());
        } else {
            println!("etcdsnap: kubectl --server {} get pods -A", s.url);
        }
        println!("etcdsnap: web console at {}/ui/", s.url);
        use std::io::Write;
        let _ = std::io::stdout().flush();
    })?;
    Ok(0)
}
