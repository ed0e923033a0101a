//! `etcdsnap certs INPUT [--at snapshot|now|DATE]`: every X.509 certificate
//! in the backup's Secrets, ConfigMaps and static_kuberesources tarball,
//! and whether it has expired (exit 1) or expires soon at that time.

use etcdsnap::forensics::certs::{At, CertsReport, Checked};

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

pub fn run(a: CertsArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let at = At::parse(&a.at, &input.db)?;
    let tarball = input
        .tarball
        .clone()
        .or_else(|| etcdsnap::input::paired_tarball(&input.db));
    let opened = super::session::open_input(input, &a.keys.keys, super::session::Read::Tree)?;
    let s = &opened.session;
    let report = CertsReport::new(
        &s.store,
        s.keys.as_ref(),
        a.namespace.as_deref(),
        tarball.as_deref(),
        &at,
        a.warn_days,
    )?;
    for e in &report.not_searched {
        eprintln!("etcdsnap: not searched: {e}");
    }
    match a.output.output {
        Format::Json => {
            super::print_json(&etcdsnap::machine_output::CERTS.document(&report))?;
        }
        Format::Text | Format::Table | Format::Wide => {
            let esc = |s: &str| s.escape_debug().to_string();
            for Checked { cert: c, status } in &report.certificates {
                println!("{:<13} {}", status.as_str(), esc(&c.subject));
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
            for u in &report.unreadable {
                println!("unreadable    {}: {}", esc(&u.source), esc(&u.error));
            }
            let n = &report.counts;
            let total = report.certificates.len();
            println!(
                "at {} ({}): {} certificate{}: {} expired, {} expiring within {} days, {} not yet valid, {} valid{}",
                report.at,
                report.at_source,
                total,
                if total == 1 { "" } else { "s" },
                n.expired,
                n.expiring,
                report.warn_days,
                n.not_yet_valid,
                n.valid,
                if n.unreadable == 0 {
                    String::new()
                } else {
                    format!(", {} unreadable", n.unreadable)
                }
            );
        }
    }
    Ok(report.exit_code())
}
