//! `etcdsnap verify`.

use etcdsnap::input::InputKind;
use etcdsnap::verify::{decryption_layer, key_use, verify_path_with, Verdict, VerifyOptions};

use super::{decodes, Format, KeyedArgs};

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
    let keys = &a.common.keys.keys;
    let output = a.common.output.output;
    let input = super::resolve(&a.common.input.input)?;
    let opts = VerifyOptions {
        skip_hash_check: a.skip_hash_check,
        raw_db: input.kind == InputKind::DataDir || input.db.ends_with("member/snap/db"),
    };
    let mut report = verify_path_with(&input.db, opts)?;
    // With keys (or a backup dir's tarball): every encrypted value must
    // decrypt and decode.
    if !report.unreadable && (!keys.is_empty() || input.tarball.is_some()) {
        let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
        match etcdsnap::mvcc::Store::open(&snap) {
            Ok(store) => {
                if let Some(ring) = super::load_keys(&input, keys, &store)? {
                    let usage = key_use(&store, &ring, decodes);
                    report.layers.push(decryption_layer(&usage));
                }
            }
            Err(e) => eprintln!("etcdsnap: decryption not checked: {e}"),
        }
    }
    // With --salvage: the loss report (exit 1 when anything may be lost).
    let salvage_snap = if a.salvage.salvage {
        Some(etcdsnap::etcd::Snapshot::open_salvage(&input.db)?)
    } else {
        None
    };
    let salvage = salvage_snap.as_ref().map(etcdsnap::salvage::Salvage::run);
    let code = super::salvage::exit(report.exit_code(), salvage.as_ref());
    if output == Format::Json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("input".into(), serde_json::to_value(&input)?);
            if let Some(s) = &salvage {
                o.insert("salvage".into(), serde_json::to_value(&s.report)?);
            }
            o.insert("exit_code".into(), code.into());
        }
        super::print_json(&v)?;
        return Ok(code);
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
    println!("restore: {}", report.restore.reason);
    if let Some(s) = &salvage {
        for l in s.summary_lines() {
            println!("{l}");
        }
    }
    Ok(code)
}
