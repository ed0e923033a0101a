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
    /// For an etcd data dir: restore the db alone, without the WAL entries
    /// a restarted etcd would apply on top of it.
    #[arg(long = "no-wal")]
    pub no_wal: bool,
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
    pub keys: super::KeysArg,
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
        return run_salvage(&input, a.no_wal, cfg, a.out_fmt.output);
    }
    let replayed = super::replayed_db(&input, a.no_wal, &cfg.data_dir)?;
    let db = replayed
        .as_ref()
        .map(|r| r.db.clone())
        .unwrap_or(input.db.clone());
    let progress = super::progress::Progress::spinner(
        "restoring (verify, copy, rewrite)",
        super::progress::size(&db),
    );
    let result = restore::restore(&db, &cfg);
    progress.finish();
    match result {
        Ok(mut r) => {
            r.warnings.extend(value_warnings(&input, &a.keys.keys));
            let openshift =
                input.kind == etcdsnap::input::InputKind::BackupDir || cfg.mark_compacted;
            let steps = if openshift {
                next_steps(&input, &r)
            } else {
                Vec::new()
            };
            if a.out_fmt.output == Format::Json {
                print_json(&r, openshift.then_some(&steps))?;
            } else {
                print_text(&input.db, &r);
                if !steps.is_empty() {
                    println!();
                    println!("next steps (OpenShift's restore procedure, after the etcd restore):");
                    for (i, s) in steps.iter().enumerate() {
                        println!("  {}. {s}", i + 1);
                    }
                }
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("etcdsnap: restore failed: {e}");
            // Only when true: an Incomplete error names what was left.
            if !matches!(e, RestoreError::Incomplete { .. }) {
                match &cfg.wal_dir {
                    Some(w) => eprintln!(
                        "etcdsnap: nothing was written to {} or {}",
                        cfg.data_dir.display(),
                        w.display()
                    ),
                    None => eprintln!(
                        "etcdsnap: nothing was written to {}",
                        cfg.data_dir.display()
                    ),
                }
            }
            Ok(exit_code(&e))
        }
    }
}

/// `restore --salvage`: the salvaged db is written to a private temp file
/// beside the target (for a data dir, with the WAL's entries up to any
/// damage replayed into a second one), restored as a raw db, then removed.
fn run_salvage(
    input: &etcdsnap::input::Input,
    no_wal: bool,
    mut cfg: RestoreConfig,
    output: Format,
) -> anyhow::Result<i32> {
    let db = &input.db;
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
    // A data dir's WAL, replayed over the salvaged (now intact) db up to
    // any damage in it.
    let mut wal_loss = None;
    let mut source = tmp.clone();
    if etcdsnap::wal::open::wal_dir_of(input).is_some() {
        let salvaged = etcdsnap::etcd::Snapshot::open(&tmp)?;
        let mut store = etcdsnap::mvcc::Store::open(&salvaged)?;
        let mut slot = None;
        let (ov, loss) = super::salvage::replay_wal(input, &s, &mut store, no_wal, &mut slot)?;
        wal_loss = loss;
        if let Some(rep) = ov.filter(|r| r.replayed > 0) {
            let (replayed, f) = area.create(Path::new("replayed.db"))?;
            drop(f);
            std::fs::remove_file(&replayed)?;
            etcdsnap::wal::materialize::write_replayed_db(&store, &rep, &replayed).map_err(
                |e| {
                    anyhow::anyhow!(
                        "{}: writing the db with the WAL replayed: {e}",
                        replayed.display()
                    )
                },
            )?;
            source = replayed;
        }
    }
    cfg.skip_hash_check = true;
    let report_path = PathBuf::from(format!("{}.salvage-report.json", cfg.data_dir.display()));
    match restore::restore(&source, &cfg) {
        Ok(r) => {
            let f = etcdsnap::bolt::writer::create_new_0600(&report_path)
                .or_else(|_| {
                    std::fs::remove_file(&report_path)?;
                    etcdsnap::bolt::writer::create_new_0600(&report_path)
                })
                .map_err(|e| anyhow::anyhow!("{}: {e}", report_path.display()))?;
            let mut report =
                serde_json::to_value(etcdsnap::machine_output::SALVAGE_REPORT.document(&s.report))?;
            if let (Some(l), Some(o)) = (&wal_loss, report.as_object_mut()) {
                o.insert("wal_salvage".into(), serde_json::to_value(l)?);
            }
            serde_json::to_writer_pretty(f, &report)?;
            eprintln!(
                "etcdsnap: salvage: loss report written to {}",
                report_path.display()
            );
            if output == Format::Json {
                print_json(&r, None)?;
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

/// The `etcdsnap.restore` document: the report with member IDs in hex, as
/// etcd logs them, and OpenShift's next steps when they apply.
fn print_json(r: &restore::RestoreReport, steps: Option<&Vec<String>>) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(r)?;
    if let Some(ms) = v.get_mut("members").and_then(|m| m.as_array_mut()) {
        for m in ms {
            if let Some(id) = m.get("id").and_then(|i| i.as_u64()) {
                m["id"] = format!("{id:x}").into();
            }
        }
    }
    if let Some(steps) = steps {
        v["next_steps"] = serde_json::to_value(steps)?;
    }
    super::print_json(&etcdsnap::machine_output::RESTORE.document(&v))
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
    println!("  etcd keys:      {}", r.restored.total_key);
    println!(
        "  db size:        {} → {} bytes (defragmented)",
        r.source.total_size, r.restored.total_size
    );
    println!("  WAL dir:        {}", r.wal_dir.display());
    println!("  snap file:      {}", r.snap_file.display());
    println!("  took:           {:.2}s", r.seconds);
}

/// Warnings about the values the restored cluster will hold: encrypted
/// values no loaded key reads (or, with no keys at all, that the
/// encryption config must come along).
fn value_warnings(input: &etcdsnap::input::Input, keys: &[PathBuf]) -> Vec<String> {
    let Ok(snap) = etcdsnap::etcd::Snapshot::open(&input.db) else {
        return Vec::new();
    };
    let Ok(store) = etcdsnap::mvcc::Store::open(&snap) else {
        return Vec::new();
    };
    let needed = etcdsnap::verify::encrypted_values(&store);
    let encrypted: u64 = needed.values().flat_map(|m| m.values()).sum();
    if encrypted == 0 {
        return Vec::new();
    }
    let ring = match super::load_keys(input, keys, &store) {
        Ok(Some(r)) => r,
        Ok(None) => {
            return vec![format!(
                "{encrypted} values are encrypted at rest ({}) and no key was given: the restored kube-apiserver reads them only with the encryption config of the backup's static_kuberesources tarball",
                etcdsnap::verify::describe_needed(&needed)
            )]
        }
        Err(e) => return vec![format!("keys: {e:#}")],
    };
    let u = etcdsnap::verify::key_use(&store, &ring, super::decodes);
    let mut w = Vec::new();
    if u.failure_count > 0 {
        w.push(format!(
            "{} values cannot be read with the loaded keys ({} damaged: the restored apiserver cannot read them either; {} not readable offline: it needs their keys, or the KMS) — `etcdsnap verify` names each",
            u.failure_count, u.damaged_count, u.unreadable_offline_count
        ));
        w.extend(u.failures.iter().take(10).cloned());
    }
    w
}

/// The steps of OpenShift's "restore to a previous cluster state" that
/// remain once the data dir is built.
fn next_steps(input: &etcdsnap::input::Input, r: &restore::RestoreReport) -> Vec<String> {
    let tarball = input
        .tarball
        .as_ref()
        .map(|t| t.display().to_string())
        .unwrap_or_else(|| "static_kuberesources_<timestamp>.tar.gz (of the same backup)".into());
    vec![
        "on every control-plane host, stop the static pods (move etcd-pod.yaml, kube-apiserver-pod.yaml, kube-controller-manager-pod.yaml and kube-scheduler-pod.yaml out of /etc/kubernetes/manifests) and move /var/lib/etcd aside".into(),
        format!(
            "on the recovery host, put {} in place as /var/lib/etcd (same owner and SELinux context as the old one)",
            r.data_dir.display()
        ),
        format!(
            "the control plane needs the static pod resources and the kube-apiserver encryption config from {tarball}: restore them under /etc/kubernetes/static-pod-resources as cluster-restore.sh does"
        ),
        "put the recovery host's etcd and kube-apiserver static pod manifests back, then restart kubelet on every control-plane host (`sudo systemctl restart kubelet.service`)".into(),
        "approve pending CSRs (`oc get csr`, `oc adm certificate approve <name>`)".into(),
        "force new rollouts of etcd, kube-apiserver, kube-controller-manager and kube-scheduler: `oc patch etcd cluster -p='{\"spec\": {\"forceRedeploymentReason\": \"recovery-'\"$(date --rfc-3339=ns)\"'\"}}' --type=merge`, then the same for kubeapiserver, kubecontrollermanager and kubescheduler".into(),
    ]
}
