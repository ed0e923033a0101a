//! `etcdsnap timeline INPUT… [RESOURCE [NAME]]`: a selection across many
//! backups, one row per backup in time order. Backups are opened in
//! parallel; the library diffs consecutive ones.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use etcdsnap::etcd::Snapshot;
use etcdsnap::forensics::diff::{PathPattern, DEFAULT_IGNORES};
use etcdsnap::forensics::timeline::{timeline, Backup, Row};
use etcdsnap::input::{name_time, paired_tarball};
use etcdsnap::mvcc::Store;
use rayon::prelude::*;

use super::get::SelectArgs;
use super::{Format, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct TimelineArgs {
    /// Backups, then what to follow: snapshot files, etcd data dirs, backup
    /// dirs (every snapshot_<ts>.db in them), then RESOURCE and NAME as
    /// kubectl names them (default: every object).
    #[arg(required = true, value_name = "INPUT… [RESOURCE [NAME]]")]
    pub args: Vec<String>,
    /// Only this namespace.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Label selector, e.g. `app=web`.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// Field paths not to report (`status`, `metadata.annotations`);
    /// repeatable.
    #[arg(long = "ignore", value_name = "PATH")]
    pub ignore: Vec<String>,
    /// Also report metadata.resourceVersion and managedFields changes.
    #[arg(long = "show-noisy")]
    pub show_noisy: bool,
    #[command(flatten)]
    pub keys: KeysArg,
    #[command(flatten)]
    pub output: OutputArg,
}

/// One snapshot to open, with its time and paired tarball.
struct Found {
    db: PathBuf,
    time: Option<String>,
    tarball: Option<PathBuf>,
}

fn mtime(p: &Path) -> Option<String> {
    let t = std::fs::metadata(p).ok()?.modified().ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(etcdsnap::kube::timefmt::rfc3339(secs, None))
}

fn found(db: PathBuf) -> Found {
    let name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let time = name_time(&name).or_else(|| mtime(&db));
    let tarball = paired_tarball(&db);
    Found { db, time, tarball }
}

/// Every snapshot an INPUT names.
fn expand(p: &Path) -> anyhow::Result<Vec<Found>> {
    if p.is_file() {
        return Ok(vec![found(p.to_path_buf())]);
    }
    let member = p.join("member/snap/db");
    if member.is_file() {
        let mut f = found(member);
        f.time = mtime(&p.join("member/snap/db"));
        return Ok(vec![f]);
    }
    let mut dbs: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| p.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|q| {
            q.is_file()
                && q.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("snapshot_") && n.ends_with(".db"))
        })
        .collect();
    dbs.sort();
    if dbs.is_empty() {
        bail!(
            "{}: a directory with neither member/snap/db nor snapshot_*.db",
            p.display()
        );
    }
    Ok(dbs.into_iter().map(found).collect())
}

pub fn run(a: TimelineArgs) -> anyhow::Result<i32> {
    // Leading arguments that exist are inputs; the rest RESOURCE [NAME].
    let split = a
        .args
        .iter()
        .position(|s| !Path::new(s).exists())
        .unwrap_or(a.args.len());
    let (inputs, rest) = a.args.split_at(split);
    if inputs.is_empty() {
        bail!(
            "{}: no such file or directory (give the backups first, then RESOURCE [NAME])",
            a.args[0]
        );
    }
    if rest.len() > 2 {
        bail!(
            "{}: no such file or directory (after the backups come at most RESOURCE and NAME)",
            rest[0]
        );
    }
    let select = SelectArgs {
        namespace: a.namespace.clone(),
        selector: a.selector.clone(),
        ..SelectArgs::default()
    };
    let filter = select.filter(
        rest.first().map(String::as_str),
        rest.get(1).map(String::as_str),
    )?;
    let mut ignore: Vec<PathPattern> = a.ignore.iter().map(|p| PathPattern::parse(p)).collect();
    if !a.show_noisy {
        ignore.extend(DEFAULT_IGNORES.iter().map(|p| PathPattern::parse(p)));
    }
    let mut all = Vec::new();
    for i in inputs {
        all.extend(expand(Path::new(i))?);
    }
    let total: u64 = all.iter().map(|f| super::progress::size(&f.db)).sum();
    let progress = super::progress::Progress::bar("opening backups", all.len() as u64 * 2, total);
    // Open every snapshot in parallel, then read each one's revisions.
    let snaps: Vec<Snapshot> = all
        .par_iter()
        .map(|f| {
            let s = Snapshot::open(&f.db).with_context(|| f.db.display().to_string());
            progress.inc(1);
            s
        })
        .collect::<anyhow::Result<_>>()?;
    let stores: Vec<Store<'_>> = snaps
        .par_iter()
        .zip(all.par_iter())
        .map(|(s, f)| {
            let st = Store::open(s).with_context(|| f.db.display().to_string());
            progress.inc(1);
            st
        })
        .collect::<anyhow::Result<_>>()?;
    let mut rings = Vec::with_capacity(all.len());
    for (f, store) in all.iter().zip(&stores) {
        let input = etcdsnap::input::Input {
            given: f.db.clone(),
            kind: etcdsnap::input::InputKind::File,
            db: f.db.clone(),
            tarball: f.tarball.clone(),
            notes: Vec::new(),
            unpacked: None,
            unusable: Vec::new(),
        };
        rings.push(super::load_keys(&input, &a.keys.keys, store)?);
    }
    let mut backups: Vec<Backup<'_>> = all
        .iter()
        .zip(&stores)
        .zip(&rings)
        .map(|((f, s), k)| Backup {
            name: f.db.display().to_string(),
            time: f.time.clone(),
            store: s,
            keys: k.as_ref(),
        })
        .collect();
    backups.sort_by(|x, y| (&x.time, x.store.current).cmp(&(&y.time, y.store.current)));
    progress.finish();
    let spin = super::progress::Progress::spinner("comparing backups", total);
    let rows = timeline(&backups, &filter, &ignore)?;
    spin.finish();
    match a.output.output {
        Format::Json => super::print_json(
            &etcdsnap::machine_output::TIMELINE.document(&serde_json::json!({ "backups": rows })),
        )?,
        Format::Text | Format::Table | Format::Wide => print_text(&rows),
    }
    if rows.iter().all(|r| r.objects == 0) {
        eprintln!("etcdsnap: no objects matched in any backup");
        return Ok(1);
    }
    Ok(0)
}

fn print_text(rows: &[Row]) {
    let esc = |s: &str| s.escape_debug().to_string();
    let head = [
        "TIME", "REVISION", "OBJECTS", "CREATED", "CHANGED", "DELETED", "BACKUP",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = |v: usize| {
                if i == 0 {
                    "-".to_string()
                } else {
                    v.to_string()
                }
            };
            [
                r.time.clone().unwrap_or_else(|| "?".into()),
                r.revision.to_string(),
                r.objects.to_string(),
                n(r.created.len()),
                n(r.changed.len()),
                n(r.deleted.len()),
                esc(&r.backup),
            ]
        })
        .collect();
    let mut w = head.map(str::len);
    for c in &cells {
        for (i, x) in c.iter().enumerate() {
            w[i] = w[i].max(x.chars().count());
        }
    }
    let line = |c: &[&str]| {
        let mut s = String::new();
        for (i, x) in c.iter().enumerate() {
            if i + 1 == c.len() {
                s.push_str(x);
            } else {
                s.push_str(&format!("{x:<width$}   ", width = w[i]));
            }
        }
        s
    };
    println!("{}", line(&head));
    for (c, r) in cells.iter().zip(rows) {
        println!("{}", line(&c.each_ref().map(String::as_str)));
        for o in &r.created {
            println!("    + {}", esc(o));
        }
        for ch in &r.changed {
            match &ch.note {
                Some(n) => println!("    ~ {}: {}", esc(&ch.object), esc(n)),
                None => println!("    ~ {}: {}", esc(&ch.object), esc(&ch.paths.join(", "))),
            }
        }
        for o in &r.deleted {
            println!("    - {}", esc(o));
        }
    }
}
