//! `etcdsnap keys`: which keys were found where (never their bytes), and
//! which keys the snapshot's values need.

use etcdsnap::escape::controls as esc;
use std::path::{Path, PathBuf};

use etcdsnap::verify::KeysReport;

use super::{decodes, Format};

pub fn run(input: &Path, keys: &[PathBuf], output: Format) -> anyhow::Result<i32> {
    let mut opened = super::session::open(input, keys, super::session::Read::Tree)?;
    let ring = opened.session.keys.take().unwrap_or_default();
    let store = &opened.session.store;
    let report = KeysReport::new(store, &ring, decodes);
    if output == Format::Json {
        super::print_json(&etcdsnap::machine_output::KEYS.document(&report))?;
    } else {
        let usage = &report.values;
        println!("KEYS FOUND ({}):", ring.len());
        for k in &report.keys {
            println!("  {}", esc(&k.to_string()));
        }
        for n in &report.notes {
            println!("  note: {}", esc(n));
        }
        println!();
        println!(
            "VALUES: {} plain, {} decrypt with these keys, {} do not ({} damaged, {} not readable offline)",
            usage.plain,
            usage.decrypted,
            usage.failure_count,
            usage.damaged_count,
            usage.unreadable_offline_count
        );
        for (p, names) in &usage.needed {
            for (n, c) in names {
                println!("  {p:<10} key {:<24} {c} values", esc(n));
            }
        }
        for f in &usage.failures {
            println!("  cannot read: {}", esc(f));
        }
        if usage.failure_count > usage.failures.len() {
            println!(
                "  … and {} more",
                usage.failure_count - usage.failures.len()
            );
        }
    }
    Ok(report.exit_code())
}
