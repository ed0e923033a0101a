//! `etcdsnap verify`.

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
                if encrypted > 0 {
                    set_needs_config(&input, &describe_needed(&needed), encrypted, &mut report);
                }
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
    if output == Format::Json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("input".into(), serde_json::to_value(&input)?);
            o.insert("verdict".into(), verdict_word(&report).into());
            if let Some(d) = decryption {
                o.insert("decryption".into(), d);
            }
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
    println!("verdict: {verdict}");
    println!("restore: {}", report.restore.reason);
    Ok(report.exit_code())
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

/// A backup dir whose snapshot holds encrypted values needs the encryption
/// config in its tarball: a restored apiserver cannot read them without it.
fn set_needs_config(
    input: &etcdsnap::input::Input,
    needed: &str,
    encrypted: u64,
    report: &mut etcdsnap::verify::Report,
) {
    if input.kind != etcdsnap::input::InputKind::BackupDir {
        return;
    }
    let Some(t) = &input.tarball else { return };
    if let Err(e @ etcdsnap::crypt::CryptError::NoConfigInTarball { .. }) =
        etcdsnap::crypt::read_tarball(t)
    {
        let _ = e;
        report.layers.push(backup_set_layer(
            String::new(),
            vec![format!(
                "encryption config: {} holds none, but {encrypted} values are encrypted ({needed}): a restored kube-apiserver could not read them",
                t.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            )],
        ));
    }
}
