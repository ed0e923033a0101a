//! `etcdsnap certs INPUT [--at snapshot|now|DATE]`: every X.509 certificate
//! in the backup's Secrets, ConfigMaps and static_kuberesources tarball,
//! and whether it has expired (exit 1) or expires soon at that time.

use anyhow::{bail, Context};
use etcdsnap::etcd::Snapshot;
use etcdsnap::forensics::certs::{in_object, in_tarball, Found, Status};
use etcdsnap::kube::timefmt::{parse_rfc3339, rfc3339};
use etcdsnap::mvcc::Store;
use etcdsnap::query::Item;
use rayon::prelude::*;

use super::get::SelectArgs;
use super::{Format, InputArg, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct CertsArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// When to judge expiry: `snapshot` (the time in the snapshot's name,
    /// else its mtime), `now`, or a date (`2026-12-01`,
    /// `2026-12-01T08:00:00Z`).
    #[arg(long, default_value = "snapshot")]
    pub at: String,
    /// Days before expiry that count as "expiring".
    #[arg(long = "warn-days", default_value_t = 30)]
    pub warn_days: u32,
    /// Only this namespace.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub keys: KeysArg,
    #[command(flatten)]
    pub output: OutputArg,
}

/// `--at` as Unix seconds, with what it was taken from.
fn at_time(at: &str, db: &std::path::Path) -> anyhow::Result<(i64, String)> {
    let parse = |s: &str| -> Option<i64> {
        let full = if s.len() == 10 {
            format!("{s}T00:00:00Z")
        } else if s.len() == 19 {
            format!("{s}Z")
        } else {
            s.to_string()
        };
        parse_rfc3339(&full).map(|(secs, _)| secs)
    };
    match at {
        "now" => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok((secs, "now".into()))
        }
        "snapshot" => {
            let name = db
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(t) = super::timeline::name_time(&name).and_then(|t| parse(&t)) {
                return Ok((t, format!("snapshot (the time in {name})")));
            }
            let m = std::fs::metadata(db)
                .and_then(|m| m.modified())
                .with_context(|| db.display().to_string())?;
            let secs = m
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok((secs, format!("snapshot (the mtime of {name})")))
        }
        d => match parse(d) {
            Some(t) => Ok((t, "given".into())),
            None => bail!("--at {d:?}: use snapshot, now, YYYY-MM-DD or an RFC 3339 time"),
        },
    }
}

pub fn run(a: CertsArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let (at, at_source) = at_time(&a.at, &input.db)?;
    let snap = Snapshot::open(&input.db)?;
    let store = Store::open(&snap)?;
    let keys = super::load_keys(&input, &a.keys.keys, &store)?;
    let select = SelectArgs {
        namespace: a.namespace.clone(),
        ..SelectArgs::default()
    };
    let filter = select.filter(Some("secrets,configmaps"), None)?;
    let records = store.state_at(None, |k| filter.key_matches(k))?;
    let per: Vec<(Found, Option<String>)> = records
        .par_iter()
        .map(|r| {
            let it = Item::new(*r, keys.as_ref());
            let name = etcdsnap::forensics::timeline::object_name(&filter, r.kv.key);
            match it.object() {
                Ok(o) => (in_object(&o, &name), None),
                Err(e) => (Found::default(), Some(format!("{name}: {e}"))),
            }
        })
        .collect();
    let mut found = Found::default();
    let mut undecoded = Vec::new();
    for (f, e) in per {
        found.extend(f);
        undecoded.extend(e);
    }
    let tarball = input
        .tarball
        .clone()
        .or_else(|| super::timeline::paired_tarball(&input.db));
    if let Some(t) = &tarball {
        found.extend(in_tarball(t).with_context(|| t.display().to_string())?);
    }
    for e in &undecoded {
        eprintln!("etcdsnap: not searched: {e}");
    }
    let window = i64::from(a.warn_days) * 86400;
    let mut rows: Vec<(Status, &etcdsnap::forensics::certs::Cert)> = found
        .certs
        .iter()
        .map(|c| (c.status(at, window), c))
        .collect();
    let rank = |s: Status| match s {
        Status::Expired => 0,
        Status::Expiring => 1,
        Status::NotYetValid => 2,
        Status::Valid => 3,
    };
    rows.sort_by(|x, y| {
        (rank(x.0), x.1.not_after_unix, &x.1.source).cmp(&(
            rank(y.0),
            y.1.not_after_unix,
            &y.1.source,
        ))
    });
    let count = |s: Status| rows.iter().filter(|r| r.0 == s).count();
    let expired = count(Status::Expired);
    match a.output.output {
        Format::Json => {
            let certs: Vec<serde_json::Value> = rows
                .iter()
                .map(|(s, c)| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    v["status"] = s.as_str().into();
                    v
                })
                .collect();
            super::print_json(
                &etcdsnap::machine_output::CERTS.document(&serde_json::json!({
                    "at": rfc3339(at, None),
                    "at_source": at_source,
                    "warn_days": a.warn_days,
                    "tarball": tarball.as_ref().map(|t| t.display().to_string()),
                    "counts": {
                        "expired": expired,
                        "expiring": count(Status::Expiring),
                        "not_yet_valid": count(Status::NotYetValid),
                        "valid": count(Status::Valid),
                        "unreadable": found.unreadable.len(),
                    },
                    "certificates": certs,
                    "unreadable": found.unreadable,
                    "not_searched": undecoded,
                })),
            )?;
        }
        Format::Text | Format::Table | Format::Wide => {
            let esc = |s: &str| s.escape_debug().to_string();
            for (s, c) in &rows {
                println!("{:<13} {}", s.as_str(), esc(&c.subject));
                println!("    source     {}", esc(&c.source));
                println!("    issuer     {}", esc(&c.issuer));
                println!("    valid      {} .. {}", c.not_before, c.not_after);
                println!("    serial     {}", c.serial);
                if !c.sans.is_empty() {
                    println!("    sans       {}", esc(&c.sans.join(", ")));
                }
                if c.is_ca {
                    println!("    ca         true");
                }
            }
            for u in &found.unreadable {
                println!("unreadable    {}: {}", esc(&u.source), esc(&u.error));
            }
            println!(
                "at {} ({}): {} certificate{}: {} expired, {} expiring within {} days, {} not yet valid, {} valid{}",
                rfc3339(at, None),
                at_source,
                rows.len(),
                if rows.len() == 1 { "" } else { "s" },
                expired,
                count(Status::Expiring),
                a.warn_days,
                count(Status::NotYetValid),
                count(Status::Valid),
                if found.unreadable.is_empty() {
                    String::new()
                } else {
                    format!(", {} unreadable", found.unreadable.len())
                }
            );
        }
    }
    Ok(if expired > 0 { 1 } else { 0 })
}
