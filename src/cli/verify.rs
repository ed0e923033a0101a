//! `etcdsnap verify`.

use etcdsnap::escape::controls as esc;
use etcdsnap::verify::Verdict;
use etcdsnap::verify_input::{verify_input, InputVerifyOptions};

use super::{Format, KeyedArgs};

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: KeyedArgs,
    /// Do not check the SHA-256 trailer (restore's flag of the same name):
    /// a file without one then passes the trailer layer.
    #[arg(long)]
    pub skip_hash_check: bool,
    /// Add a salvage loss report: what `--salvage` would recover and what
    /// may be lost (pages, revision ranges, keys per resource).
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

pub fn run(a: VerifyArgs) -> anyhow::Result<i32> {
    let output = a.common.output.output;
    let input = super::resolve(&a.common.input.input)?;
    let opts = InputVerifyOptions {
        keys: a.common.keys.keys.clone(),
        pair: super::pair(),
        skip_hash_check: a.skip_hash_check,
        salvage: a.salvage.salvage,
    };
    let full = verify_input(&input, &opts)?;
    super::print_notes(&full.notes);
    let exit = full.exit_code;
    if output == Format::Json {
        super::print_json(&etcdsnap::machine_output::VERIFY.document(&full))?;
        return Ok(exit);
    }
    let report = &full.report;
    println!("file: {} ({} bytes)", report.file, report.file_size);
    for l in &report.layers {
        println!(
            "[{:<7}] {:<12} {}",
            l.verdict.label(),
            l.name,
            esc(&l.summary)
        );
        for p in &l.problems {
            println!("           - {}", esc(p));
        }
        if l.problem_count > l.problems.len() {
            println!(
                "           … and {} more",
                l.problem_count - l.problems.len()
            );
        }
    }
    let names = |v: Verdict| -> String {
        report
            .layers
            .iter()
            .filter(|l| l.verdict == v)
            .map(|l| l.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let verdict = match full.verdict {
        "intact" if exit == 1 => format!(
            "PROBLEM: {}; the snapshot checked instead is intact",
            input.unusable.join("; ")
        ),
        "intact" => {
            let skipped = names(Verdict::NotChecked);
            if skipped.is_empty() {
                "intact: every layer passed".to_string()
            } else {
                format!("intact: every layer checked passed; not checked: {skipped} (see above)")
            }
        }
        "damaged" => format!("DAMAGED: problems in {}", names(Verdict::Damaged)),
        "incomplete" => format!(
            "INCOMPLETE: the backup lacks what a restore needs ({}: named above)",
            names(Verdict::Incomplete)
        ),
        "not-readable-offline" => format!(
            "NOT READABLE OFFLINE: the bytes are intact as far as checked, but some values no given key reads ({})",
            names(Verdict::UnreadableOffline)
        ),
        _ => "UNREADABLE: the database cannot be opened".to_string(),
    };
    println!("verdict: {}", esc(&verdict));
    println!("restore: {}", report.restore.reason);
    for l in &full.salvage_lines {
        println!("{}", esc(l));
    }
    Ok(exit)
}
