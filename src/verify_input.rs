//! `verify` of a resolved INPUT, as one value: the byte layers of
//! [`crate::verify`] (trailer, meta, structure, etcd schema), then what
//! only the INPUT tells — a data dir's WAL, the decryption of encrypted
//! values with the keys given (or the backup's tarball), the backup set
//! (tarball, encryption config) — and, when asked, a salvage loss report;
//! with one verdict word and the exit code. Notes about key loading are
//! returned, not printed. The serde shape of [`InputReport`] is the body of
//! the `etcdsnap.verify` document (docs/json/verify.schema.json).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;

use crate::crypt::CryptError;
use crate::etcd::{EtcdError, Snapshot};
use crate::input::{Input, InputKind};
use crate::mvcc::Store;
use crate::salvage::{LossReport, Salvage};
use crate::session::{Note, NoteKind, SessionError};
use crate::verify::{
    backup_set_layer, decryption_layer, decryption_not_checked, describe_needed, encrypted_values,
    key_use, verify_path_with, Report, Verdict, VerifyOptions,
};

#[derive(Debug, Error)]
pub enum VerifyInputError {
    #[error(transparent)]
    Bolt(#[from] crate::bolt::BoltError),
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Wal(#[from] crate::wal::WalError),
}

/// What to check beyond the bytes.
#[derive(Debug, Clone, Default)]
pub struct InputVerifyOptions {
    /// `--keys`: key sources for the decryption check.
    pub keys: Vec<PathBuf>,
    /// Use a backup dir's paired tarball as a key source (no `--no-pair`).
    pub pair: bool,
    /// Restore's `--skip-hash-check`.
    pub skip_hash_check: bool,
    /// Add a salvage loss report (`--salvage`).
    pub salvage: bool,
}

/// The decryption check's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decryption {
    /// False when encrypted values were found but no key was given.
    pub checked: bool,
    pub encrypted_values: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decrypted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_readable_offline: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged_values: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_readable_offline_values: Option<Vec<String>>,
    /// Unchecked: provider → key name → values encrypted under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needed: Option<BTreeMap<String, BTreeMap<String, u64>>>,
}

/// The whole `verify` report of an INPUT.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    #[serde(flatten)]
    pub report: Report,
    pub input: Input,
    /// intact, damaged, incomplete, not-readable-offline or unreadable.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salvage: Option<LossReport>,
    /// With `--salvage` on a data dir whose WAL is damaged: where, and
    /// which entries past the damage are lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_salvage: Option<crate::wal::salvage::WalLoss>,
    /// 0 intact, 1 a problem found (or a newer snapshot of a backup dir
    /// unusable, or something a salvage may lose), 2 unreadable.
    pub exit_code: i32,
    /// Key loading and checks skipped, for stderr.
    #[serde(skip)]
    pub notes: Vec<Note>,
    /// The salvage report's summary, for people.
    #[serde(skip)]
    pub salvage_lines: Vec<String>,
}

/// Verifies a resolved INPUT.
pub fn verify_input(
    input: &Input,
    opts: &InputVerifyOptions,
) -> Result<InputReport, VerifyInputError> {
    let vopts = VerifyOptions {
        skip_hash_check: opts.skip_hash_check,
        raw_db: input.kind == InputKind::DataDir || input.db.ends_with("member/snap/db"),
    };
    let mut report = verify_path_with(&input.db, vopts)?;
    let mut notes = Vec::new();
    // A data dir: its WAL is a layer of its own.
    if let Some(dir) = crate::wal::open::wal_dir_of(input) {
        let ci = Snapshot::open(&input.db)
            .ok()
            .and_then(|s| {
                Store::open(&s)
                    .ok()
                    .map(|st| crate::wal::open::consistent_index(&st))
            })
            .unwrap_or(0);
        let snap_dir = input.db.parent().unwrap_or(&input.db);
        report
            .layers
            .push(crate::wal::check::wal_layer(&dir, snap_dir, ci));
    }
    let mut decryption = None;
    if !report.unreadable {
        let snap = Snapshot::open(&input.db)?;
        match Store::open(&snap) {
            Ok(store) => {
                decryption = decryption_check(input, opts, &store, &mut report, &mut notes)?;
            }
            Err(e) => notes.push(Note {
                kind: NoteKind::Warning,
                text: format!("decryption not checked: {e}"),
            }),
        }
    }
    if input.kind == InputKind::BackupDir {
        let (present, mut missing) = crate::input::backup_set(input);
        // The encryption-config check may have added its problem.
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
    let mut exit = if input.unusable.is_empty() {
        report.exit_code()
    } else {
        report.exit_code().max(1)
    };
    let (salvage, wal_salvage, salvage_lines) = if opts.salvage {
        let snap = Snapshot::open_salvage(&input.db)?;
        let s = Salvage::run(&snap);
        // And a data dir's WAL: where it is damaged and which entries past
        // the damage are lost.
        let wal_loss = match crate::wal::open::wal_dir_of(input) {
            Some(dir) => {
                let ci = s.meta.consistent_index.unwrap_or(0);
                let files = crate::wal::salvage::open(&dir)?;
                crate::wal::salvage::read_until_damage(&files, ci).2
            }
            None => None,
        };
        if exit == 0 && (s.report.may_be_lost || wal_loss.as_ref().is_some_and(|l| l.may_be_lost)) {
            exit = 1;
        }
        let mut lines = s.summary_lines();
        lines.extend(wal_loss.iter().flat_map(|l| l.summary_lines()));
        (Some(s.report.clone()), wal_loss, lines)
    } else {
        (None, None, Vec::new())
    };
    Ok(InputReport {
        verdict: verdict_word(&report),
        report,
        input: input.clone(),
        decryption,
        salvage,
        wal_salvage,
        exit_code: exit,
        notes,
        salvage_lines,
    })
}

/// With keys (or a backup dir's tarball) every encrypted value must
/// decrypt and decode; without, how many were not checked.
fn decryption_check(
    input: &Input,
    opts: &InputVerifyOptions,
    store: &Store<'_>,
    report: &mut Report,
    notes: &mut Vec<Note>,
) -> Result<Option<Decryption>, VerifyInputError> {
    let needed = encrypted_values(store);
    let encrypted: u64 = needed.values().flat_map(|m| m.values()).sum();
    let ring = if !opts.keys.is_empty() || input.tarball.is_some() {
        crate::session::load_keys(input, &opts.keys, store, opts.pair, notes)?
    } else {
        None
    };
    let d = match ring {
        Some(ring) if !ring.is_empty() || encrypted == 0 => {
            let usage = key_use(store, &ring, crate::verify::value_decodes);
            let strip = |p: &str| -> Vec<String> {
                usage
                    .failures
                    .iter()
                    .filter_map(|f| f.strip_prefix(p))
                    .map(str::to_string)
                    .collect()
            };
            let d = Decryption {
                checked: true,
                encrypted_values: encrypted,
                decrypted: Some(usage.decrypted),
                damaged: Some(usage.damaged_count),
                not_readable_offline: Some(usage.unreadable_offline_count),
                damaged_values: Some(strip("damaged: ")),
                not_readable_offline_values: Some(strip("not readable offline: ")),
                needed: None,
            };
            report.layers.push(decryption_layer(&usage));
            Some(d)
        }
        // Nothing encrypted and no keys: nothing to say.
        _ if encrypted == 0 => None,
        _ => {
            report.layers.push(decryption_not_checked(&needed));
            Some(Decryption {
                checked: false,
                encrypted_values: encrypted,
                decrypted: None,
                damaged: None,
                not_readable_offline: None,
                damaged_values: None,
                not_readable_offline_values: None,
                needed: Some(needed.clone()),
            })
        }
    };
    needs_config(input, &describe_needed(&needed), encrypted, report);
    Ok(d)
}

/// One word for the whole report, for JSON and the last text line.
pub(crate) fn verdict_word(r: &Report) -> &'static str {
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
fn needs_config(input: &Input, needed: &str, encrypted: u64, report: &mut Report) {
    if input.kind != InputKind::BackupDir {
        return;
    }
    let Some(t) = &input.tarball else { return };
    let name = t
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let problem = match crate::crypt::read_tarball(t) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel)
    }

    fn names(r: &InputReport) -> Vec<&'static str> {
        r.report.layers.iter().map(|l| l.name).collect()
    }

    #[test]
    fn intact_snapshot() {
        let input = crate::input::resolve(&fixture("etcd-3.5/small.db")).unwrap();
        let r = verify_input(&input, &InputVerifyOptions::default()).unwrap();
        assert_eq!(names(&r), ["trailer", "meta", "structure", "etcd schema"]);
        assert_eq!((r.verdict, r.exit_code), ("intact", 0));
        assert!(r.decryption.is_none() && r.salvage.is_none());
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "file",
                "file_size",
                "layers",
                "unreadable",
                "restore",
                "input",
                "verdict",
                "exit_code"
            ]
        );
    }

    #[test]
    fn encrypted_backup_with_and_without_keys() {
        let dir = fixture("encrypted");
        let input = crate::input::resolve(&dir).unwrap();
        // The paired tarball is a key source unless `pair` is off.
        let with = verify_input(
            &input,
            &InputVerifyOptions {
                pair: true,
                ..Default::default()
            },
        )
        .unwrap();
        // The fixture holds values damaged on purpose.
        assert_eq!((with.verdict, with.exit_code), ("damaged", 1));
        let d = with.decryption.as_ref().unwrap();
        assert!(d.checked);
        assert!(d.damaged.is_some_and(|n| n > 0));
        assert!(d.encrypted_values > 0);
        assert!(names(&with).contains(&"decryption"));
        assert!(names(&with).contains(&"backup set"));
        assert!(with.notes.iter().any(|n| n.kind == NoteKind::Keys));
        let without = verify_input(&input, &InputVerifyOptions::default()).unwrap();
        let d = without.decryption.as_ref().unwrap();
        assert!(!d.checked);
        assert!(d.needed.as_ref().is_some_and(|n| !n.is_empty()));
        assert!(without.notes.is_empty());
    }

    #[test]
    fn salvage_adds_the_loss_report() {
        let input = crate::input::resolve(&fixture("salvage/compacted.db")).unwrap();
        let r = verify_input(
            &input,
            &InputVerifyOptions {
                salvage: true,
                ..Default::default()
            },
        )
        .unwrap();
        // An intact file: every record comes from the tree, nothing lost.
        let s = r.salvage.as_ref().unwrap();
        assert_eq!(s.records.tree, 350);
        assert!(!s.may_be_lost);
        assert_eq!((r.verdict, r.exit_code), ("intact", 0));
        assert!(r
            .salvage_lines
            .iter()
            .any(|l| l.contains("nothing appears to be missing")));
    }
}
