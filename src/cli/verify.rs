//! `etcdsnap verify`.

use std::path::Path;

use etcdsnap::verify::{verify_path, Verdict};

use super::Format;

pub fn run(input: &Path, output: Format) -> anyhow::Result<i32> {
    let input = super::resolve(input)?;
    let report = verify_path(&input.db)?;
    if output == Format::Json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("input".into(), serde_json::to_value(&input)?);
            o.insert("exit_code".into(), report.exit_code().into());
        }
        super::print_json(&v)?;
        return Ok(report.exit_code());
    }
    println!("file: {} ({} bytes)", report.file, report.file_size);
    for l in &report.layers {
        println!("[{:<7}] {:<12} {}", l.verdict.label(), l.name, l.summary);
        for p in &l.problems {
            println!("           - {p}");
        }
        if l.problem_count > l.problems.len() {
            println!(
                "           … and {} more",
                l.problem_count - l.problems.len()
            );
        }
    }
    let verdict = match report.exit_code() {
        0 => "intact: every layer checked passed".to_string(),
        1 => {
            let bad: Vec<&str> = report
                .layers
                .iter()
                .filter(|l| l.verdict == Verdict::Damaged)
                .map(|l| l.name)
                .collect();
            format!("DAMAGED: problems in {}", bad.join(", "))
        }
        _ => "UNREADABLE: the database cannot be opened".to_string(),
    };
    println!("verdict: {verdict}");
    Ok(report.exit_code())
}
