//! Output forms of `get` (and `export`) that need every matched object
//! decoded before the first is printed: apply-ready streams (sorted into
//! dependency order) and kubectl's `-o name|jsonpath|custom-columns`,
//! `--sort-by`, `--show-labels`, `-L`.

use std::io::Write;

use etcdsnap::crypt::KeyRing;
use etcdsnap::kube::apply::{self, ApplyOptions};
use etcdsnap::mvcc::Record;
use etcdsnap::query::{redact, sort_keys, Filter, Item};
use rayon::prelude::*;
use serde_json::Value as J;

use super::get::Tally;

/// `--for-apply` and what it keeps.
#[derive(clap::Args, Clone, Default)]
pub struct ApplyArgs {
    /// Apply-ready objects: drop uid, resourceVersion, creationTimestamp,
    /// generation, managedFields, selfLink, status and ownerReferences (and
    /// a Service's allocated clusterIP), leave out objects a controller
    /// owns, and order them as they must be applied (CRDs, Namespaces,
    /// ServiceAccounts, RBAC, ConfigMaps and Secrets, workloads, the rest).
    /// With -o yaml, a multi-document stream for `kubectl apply -f -`.
    #[arg(long = "for-apply")]
    pub for_apply: bool,
    /// With --for-apply: keep `status`.
    #[arg(long = "keep-status", requires = "for_apply")]
    pub keep_status: bool,
    /// With --for-apply: keep `metadata.ownerReferences` (and the objects
    /// a controller owns).
    #[arg(long = "keep-owner-references", requires = "for_apply")]
    pub keep_owner_references: bool,
}

impl ApplyArgs {
    pub fn options(&self) -> ApplyOptions {
        ApplyOptions {
            keep_status: self.keep_status,
            keep_owner_references: self.keep_owner_references,
        }
    }

    /// Whether an object is left out of an apply stream (a controller
    /// owns it and owner references are not kept).
    pub fn leaves_out(&self, obj: &J) -> bool {
        !self.keep_owner_references && apply::controller_owned(obj)
    }
}

/// One decoded object and the record it came from.
pub struct Decoded<'a> {
    #[allow(dead_code)]
    pub record: Record<'a>,
    pub obj: J,
}

/// Decodes every record in parallel, keeping those that pass the label
/// selector, in key order; undecodable values are named on stderr and
/// counted in the tally's `failed`.
pub fn decode_all<'a>(
    records: &[Record<'a>],
    keys: Option<&KeyRing>,
    filter: &Filter,
    redact_secrets: bool,
    t: &mut Tally,
) -> Vec<Decoded<'a>> {
    let rows: Vec<Result<Option<Decoded<'a>>, String>> = records
        .par_iter()
        .map(|rec| {
            let it = Item::new(*rec, keys);
            let mut obj = it.object().map_err(|e| format!("{}: {e}", it.key_str()))?;
            if let Some(l) = &filter.labels {
                if !l.matches(&obj) {
                    return Ok(None);
                }
            }
            if redact_secrets {
                redact(&mut obj);
            }
            Ok(Some(Decoded { record: *rec, obj }))
        })
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        match r {
            Ok(Some(d)) => out.push(d),
            Ok(None) => {}
            Err(e) => {
                eprintln!("etcdsnap: {e}");
                t.failed += 1;
            }
        }
    }
    out
}

/// Makes objects apply-ready and sorts them into apply order; says on
/// stderr how many controller-owned objects were left out.
pub fn for_apply(objs: Vec<J>, a: &ApplyArgs) -> Vec<J> {
    let mut left_out = 0usize;
    let mut keep: Vec<J> = objs
        .into_iter()
        .filter(|o| {
            let out = a.leaves_out(o);
            left_out += usize::from(out);
            !out
        })
        .collect();
    for o in &mut keep {
        apply::strip(o, a.options());
    }
    apply::sort_for_apply(&mut keep);
    if left_out > 0 {
        eprintln!(
            "etcdsnap: left out {left_out} object{} a controller owns (their owners make them again; --keep-owner-references keeps them)",
            if left_out == 1 { "" } else { "s" }
        );
    }
    keep
}

/// Prints apply-ready objects: YAML as a multi-document stream, JSON as a
/// v1 List (one object alone when a single one was asked for).
pub fn print_for_apply(
    objs: Vec<J>,
    yaml: bool,
    single: bool,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let n = objs.len();
    if yaml {
        for mut o in objs {
            sort_keys(&mut o);
            out.write_all(b"---\n")?;
            out.write_all(serde_saphyr::to_string(&o)?.as_bytes())?;
        }
    } else if single && n == 1 {
        serde_json::to_writer_pretty(&mut *out, &objs[0])?;
        out.write_all(b"\n")?;
    } else {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "items": objs,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        });
        serde_json::to_writer_pretty(&mut *out, &list)?;
        out.write_all(b"\n")?;
    }
    Ok(n)
}
