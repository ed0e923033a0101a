//! `etcdsnap verify`.

use etcdsnap::escape::controls as esc;
use etcdsnap::input::InputKind;
use etcdsnap::verify::{
    backup_set_layer, decryption_layer, decryption_not_checked, describe_needed, encrypted_values,
    key_use, verify_path_with, Verdict, VerifyOptions,
};

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
    // A data dir: its WAL is a layer of its own.
    if let Some(dir) = etcdsnap::wal::open::wal_dir_of(&input) {
        let ci = etcdsnap::etcd::Snapshot::open(&input.db)
            .ok()
            .and_then(|s| {
                etcdsnap::mvcc::Store::open(&s)
                    .ok()
                    .map(|st| etcdsnap::wal::open::consistent_index(&st))
            })
            .unwrap_or(0);
        let snap_dir = input.db.parent().unwrap_or(&input.db);
        report
            .layers
            .push(etcdsnap::wal::check::wal_layer(&dir, snap_dir, ci));
    }
    let mut decryption = None;
    if !report.unreadable {
        let snap = etcdsnap::etcd::Snapshot::open(&input.db)?;
        match etcdsnap::mvcc::Store::open(&snap) {
            Ok(store) => {
                let needed = encrypted_values(&store);
                let encrypted: u64 = needed.values().flat_map(|m| m.values()).sum();
                // With keys (or a backup dir's tarball): every encrypted
                // value must decrypt and decode.
                let ring = if !keys.is_empty() || input.tarball.is_some() {
                    super::load_keys(&input, keys, &store)?
                } else {
                    None
                };
                match ring {
                    Some(ring) if !ring.is_empty() || encrypted == 0 => {
                        let usage = key_use(&store, &ring, decodes);
                        decryption = Some(serde_json::json!({
                            "checked": true,
                            "encrypted_values": encrypted,
                            "decrypted": usage.decrypted,
                            "damaged": usage.damaged_count,
                            "not_readable_offline": usage.unreadable_offline_count,
                            "damaged_values": usage.failures.iter()
                                .filter_map(|f| f.strip_prefix("damaged: "))
                                .collect::<Vec<_>>(),
                            "not_readable_offline_values": usage.failures.iter()
                                .filter_map(|f| f.strip_prefix("not readable offline: "))
                                .collect::<Vec<_>>(),
                        }));
                        report.layers.push(decryption_layer(&usage));
                    }
                    // Nothing encrypted and no keys: nothing to say.
                    _ if encrypted == 0 => {}
                    _ => {
                        decryption = Some(serde_json::json!({
                            "checked": false,
                            "encrypted_values": encrypted,
                            "needed": needed,
                        }));
                        report.layers.push(decryption_not_checked(&needed));
                    }
                }
                set_needs_config(&input, &describe_needed(&needed), encrypted, &mut report);
            }
            Err(e) => eprintln!("etcdsnap: decryption not checked: {e}"),
        }
    }
    if input.kind == etcdsnap::input::InputKind::BackupDir {
        let (present, missing) = etcdsnap::input::backup_set(&input);
        // The encryption-config check (above) may have added its problem.
        let mut missing = missing;
        if let Some(i) = report.layers.iter().position(|l| l.name == "backup set") {
            missing.extend(report.layers.remove(i).problems);
        }
        report.layers.push(backup_set_layer(
            format!("holds {}", present.join(" and ")),
            missing,
        ));
    }
    // A backup dir whose newer snapshot could not be used is a problem
    // found, whatever the older one's verdict.
    let exit = if input.unusable.is_empty() {
        report.exit_code()
    } else {
        report.exit_code().max(1)
    };
    // With --salvage: the loss report (exit 1 when anything may be lost).
    let salvage_snap = if a.salvage.salvage {
        Some(etcdsnap::etcd::Snapshot::open_salvage(&input.db)?)
    } else {
        None
    };
    let salvage = salvage_snap.as_ref().map(etcdsnap::salvage::Salvage::run);
    // And a data dir's WAL: where it is damaged and which entries past the
    // damage are lost.
    let wal_loss = match (&salvage, etcdsnap::wal::open::wal_dir_of(&input)) {
        (Some(s), Some(dir)) => {
            let ci = s.meta.consistent_index.unwrap_or(0);
            let files = etcdsnap::wal::salvage::open(&dir)?;
            etcdsnap::wal::salvage::read_until_damage(&files, ci).2
        }
        _ => None,
    };
    let exit = super::salvage::exit(exit, salvage.as_ref());
    let exit = match &wal_loss {
        Some(l) if exit == 0 && l.may_be_lost => 1,
        _ => exit,
    };
    if output == Format::Json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("input".into(), serde_json::to_value(&input)?);
            o.insert("verdict".into(), verdict_word(&report).into());
            if let Some(d) = decryption {
                o.insert("decryption".into(), d);
            }
            if let Some(s) = &salvage {
                o.insert("salvage".into(), serde_json::to_value(&s.report)?);
            }
            if let Some(l) = &wal_loss {
                o.insert("wal_salvage".into(), serde_json::to_value(l)?);
            }
            o.insert("exit_code".into(), exit.into());
        }
        super::print_json(&etcdsnap::machine_output::VERIFY.document(&v))?;
        return Ok(exit);
    }
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
    let verdict = match verdict_word(&report) {
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
    if let Some(s) = &salvage {
        for l in s.summary_lines() {
            println!("{}", esc(&l));
        }
    }
    for l in wal_loss.iter().flat_map(|l| l.summary_lines()) {
        println!("{}", esc(&l));
    }
    Ok(exit)
}

/// One word for the whole report, for JSON and the last text line.
fn verdict_word(r: &etcdsnap::verify::Report) -> &'static str {
    let has = |v: Verdict| r.layers.iter().any(|l| l.verdict == v);
    if r.unreadable {
        "unreadable"
    } else if has(Verdict::Damaged) {
        "damaged"
    } else if has(Verdict::Incomplete) {
        "incomplete"
    } else if has(Verdict::UnreadableOffline) {
        "not-readable-offline"
    } else {
        "intact"
    }
}

/// A backup dir's tarball must be readable, and hold the encryption config
/// when the snapshot's values are encrypted: a restored apiserver cannot
/// read them without it.
fn set_needs_config(
    input: &etcdsnap::input::Input,
    needed: &str,
    encrypted: u64,
    report: &mut etcdsnap::verify::Report,
) {
    use etcdsnap::crypt::CryptError;
    if input.kind != etcdsnap::input::InputKind::BackupDir {
        return;
    }
    let Some(t) = &input.tarball else { return };
    let name = t
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let problem = match etcdsnap::crypt::read_tarball(t) {
        Err(CryptError::NoConfigInTarball { .. }) if encrypted > 0 => format!(
            "encryption config: {name} holds none, but {encrypted} values are encrypted ({needed}): a restored kube-apiserver could not read them"
        ),
        Err(e @ (CryptError::Tarball { .. } | CryptError::Io { .. })) => format!(
            "{name}: unreadable ({e}): OpenShift's restore needs its static pod resources"
        ),
        _ => return,
    };
    report
        .layers
        .push(backup_set_layer(String::new(), vec![problem]));
}
