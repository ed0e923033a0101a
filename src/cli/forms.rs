//! Output forms of `get` (and `export`) that need every matched object
//! decoded before the first is printed: apply-ready streams (sorted into
//! dependency order) and kubectl's `-o name|jsonpath|custom-columns`,
//! `--sort-by`, `--show-labels`, `-L`.

use std::io::Write;

use etcdsnap::crypt::KeyRing;
use etcdsnap::kube::apply::{self, ApplyOptions};
use etcdsnap::kube::jsonpath::{self, Template};
use etcdsnap::mvcc::Record;
use etcdsnap::query::{sort_keys, Filter, Item};
use etcdsnap::redact::Redaction;
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
    redaction: Redaction,
    t: &mut Tally,
) -> Vec<Decoded<'a>> {
    let rows: Vec<Result<Option<Decoded<'a>>, String>> = records
        .par_iter()
        .map(|rec| {
            Ok(decode_one(rec, keys, filter, redaction)?.map(|obj| Decoded { record: *rec, obj }))
        })
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        match r {
            Ok(Some(d)) => out.push(d),
            Ok(None) => {}
            Err(e) => {
                // Key names and messages come from the snapshot.
                eprintln!("etcdsnap: {}", etcdsnap::escape::controls(&e));
                t.failed += 1;
            }
        }
    }
    out
}

/// One record's object, redacted as it is decoded (a label value is
/// never a JSON document, so redaction leaves labels as they are);
/// `None` when the label selector leaves it out; the error names the key.
pub fn decode_one(
    rec: &Record<'_>,
    keys: Option<&KeyRing>,
    filter: &Filter,
    redaction: Redaction,
) -> Result<Option<J>, String> {
    let it = Item::new(*rec, keys);
    let obj = it
        .object_redacted(&redaction)
        .map_err(|e| format!("{}: {e}", it.key_str()))?;
    if let Some(l) = &filter.labels {
        if !l.matches(&obj) {
            return Ok(None);
        }
    }
    Ok(Some(obj))
}

/// Prints the failures of a parallel pass (key names and messages come
/// from the snapshot: escaped), counting them.
pub fn report_failures(errors: impl IntoIterator<Item = String>, t: &mut Tally) {
    for e in errors {
        eprintln!("etcdsnap: {}", etcdsnap::escape::controls(&e));
        t.failed += 1;
    }
}

/// With `-n NS` and no resource named, the Namespace object itself, so an
/// apply stream of a whole namespace can go into a cluster without it.
pub fn namespace_record<'a>(
    store: &etcdsnap::mvcc::Store<'a>,
    select: &super::get::SelectArgs,
    resource: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<Vec<Record<'a>>> {
    let (Some(ns), None, None) = (&select.namespace, resource, name) else {
        return Ok(Vec::new());
    };
    if select.key.is_some() || select.prefix.is_some() {
        return Ok(Vec::new());
    }
    let prefix = select
        .etcd_prefix
        .as_deref()
        .unwrap_or("/registry")
        .trim_end_matches('/');
    let key = format!("{prefix}/namespaces/{ns}");
    Ok(store.state_at(select.rev, |k| k == key.as_bytes())?)
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

/// `-o` of `get`: kubectl's forms.
#[derive(Clone)]
pub enum OutputForm {
    Yaml,
    Json,
    /// kubectl's table (the apiservers' printer columns).
    Table,
    Wide,
    /// The etcd-level table: namespace, name, kind, created, revision,
    /// encoding (`etcd-wide`: also version, lease, stored size).
    Etcd,
    EtcdWide,
    Raw,
    Name,
    JsonPath(Template),
    JsonPathAsJson(Template),
    /// (header, path)
    CustomColumns(Vec<(String, Template)>),
}

/// Parses `-o`: yaml, json, table, wide, etcd, etcd-wide, raw, name, `jsonpath=T`,
/// `jsonpath-file=F`, `jsonpath-as-json=T`, `custom-columns=H:P,…`,
/// `custom-columns-file=F`.
pub fn parse_output(s: &str) -> Result<OutputForm, String> {
    let (form, arg) = match s.split_once('=') {
        Some((f, a)) => (f, Some(a)),
        None => (s, None),
    };
    let file = |a: Option<&str>| -> Result<String, String> {
        let p = a.ok_or_else(|| format!("{form} needs =FILE"))?;
        std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))
    };
    let template = |t: &str| Template::parse(t).map_err(|e| format!("jsonpath {t:?}: {e}"));
    Ok(match (form, arg) {
        ("yaml", None) => OutputForm::Yaml,
        ("json", None) => OutputForm::Json,
        ("table", None) => OutputForm::Table,
        ("wide", None) => OutputForm::Wide,
        ("etcd", None) => OutputForm::Etcd,
        ("etcd-wide", None) => OutputForm::EtcdWide,
        ("raw", None) => OutputForm::Raw,
        ("name", None) => OutputForm::Name,
        ("jsonpath", Some(t)) => OutputForm::JsonPath(template(t)?),
        ("jsonpath-as-json", Some(t)) => OutputForm::JsonPathAsJson(template(t)?),
        ("jsonpath-file", a) => OutputForm::JsonPath(template(&file(a)?)?),
        ("custom-columns", Some(spec)) => OutputForm::CustomColumns(columns(spec)?),
        ("custom-columns-file", a) => {
            // A header line and a path line, columns split by whitespace.
            let text = file(a)?;
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let heads: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
            let paths: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
            if heads.len() != paths.len() || heads.is_empty() {
                return Err(format!(
                    "custom-columns-file: {} headers but {} paths",
                    heads.len(),
                    paths.len()
                ));
            }
            let mut cols = Vec::new();
            for (h, p) in heads.into_iter().zip(paths) {
                cols.push((h.to_string(), relaxed(p)?));
            }
            OutputForm::CustomColumns(cols)
        }
        _ => {
            return Err(format!(
                "unknown output format {s:?}: use table, wide, yaml, json, etcd, etcd-wide, raw, name, jsonpath=…, jsonpath-file=…, jsonpath-as-json=…, custom-columns=…, custom-columns-file=…"
            ))
        }
    })
}

fn relaxed(p: &str) -> Result<Template, String> {
    Template::parse_relaxed(p).map_err(|e| format!("{p:?}: {e}"))
}

fn columns(spec: &str) -> Result<Vec<(String, Template)>, String> {
    if spec.is_empty() {
        return Err("custom-columns format specified but no custom columns given".into());
    }
    let mut out = Vec::new();
    for part in spec.split(',') {
        let bits: Vec<&str> = part.split(':').collect();
        if bits.len() != 2 {
            return Err(format!(
                "unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            ));
        }
        out.push((bits[0].to_string(), relaxed(bits[1])?));
    }
    Ok(out)
}

/// kubectl's printing flags besides `-o`.
#[derive(clap::Args, Clone, Default)]
pub struct PrintArgs {
    /// Sort by the value at this JSONPath (`.metadata.name`,
    /// `{.spec.replicas}`), as kubectl does.
    #[arg(long = "sort-by", value_name = "PATH")]
    pub sort_by: Option<String>,
    /// Table: a LABELS column with every label.
    #[arg(long = "show-labels")]
    pub show_labels: bool,
    /// Table: a column per label key (repeatable or comma-separated).
    #[arg(
        short = 'L',
        long = "label-columns",
        value_name = "KEY",
        value_delimiter = ','
    )]
    pub label_columns: Vec<String>,
    /// Table and custom-columns: no header line.
    #[arg(long = "no-headers")]
    pub no_headers: bool,
}

impl PrintArgs {
    /// The parsed `--sort-by` path.
    pub fn sort_template(&self) -> anyhow::Result<Option<Template>> {
        match &self.sort_by {
            None => Ok(None),
            Some(p) => Template::parse_relaxed(p)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("--sort-by {p:?}: {e}")),
        }
    }

    /// Extra table headers for `--show-labels` and `-L`.
    pub fn label_headers(&self) -> Vec<String> {
        let mut h: Vec<String> = self
            .label_columns
            .iter()
            .map(|l| l.rsplit('/').next().unwrap_or(l).to_uppercase())
            .collect();
        if self.show_labels {
            h.push("LABELS".into());
        }
        h
    }

    /// The label cells of one object, matching [`PrintArgs::label_headers`].
    pub fn label_cells(&self, obj: &J) -> Vec<String> {
        etcdsnap::kube::tabular::label_cells(obj, &self.label_columns, self.show_labels)
    }
}

/// Sorts decoded objects by a `--sort-by` path, stably; objects without
/// the field come first, as in kubectl.
pub fn sort_by(objs: &mut [Decoded<'_>], t: &Template) -> anyhow::Result<()> {
    let keys: Vec<Option<J>> = objs
        .iter()
        .map(|d| sort_key(&d.obj, t))
        .collect::<anyhow::Result<_>>()?;
    permute(objs, &sorted_order(&keys));
    Ok(())
}

/// What `--sort-by` orders `obj` by: the template's first value.
pub fn sort_key(obj: &J, t: &Template) -> anyhow::Result<Option<J>> {
    t.find(obj)
        .map(|sets| {
            sets.into_iter()
                .next()
                .and_then(|s| s.into_iter().next())
                .map(std::borrow::Cow::into_owned)
        })
        .map_err(|e| anyhow::anyhow!("--sort-by: {e}"))
}

/// The order of `keys` as kubectl sorts them (stable; a missing key
/// first): `order[i]` is the index of the `i`-th.
pub fn sorted_order(keys: &[Option<J>]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by(|&a, &b| {
        let less = |x: usize, y: usize| match (&keys[x], &keys[y]) {
            (None, _) => true,
            (_, None) => false,
            (Some(p), Some(q)) => jsonpath::sort_less(p, q),
        };
        if less(a, b) && !less(b, a) {
            std::cmp::Ordering::Less
        } else if less(b, a) && !less(a, b) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    idx
}

/// Reorders `v` so that `v[i]` becomes the old `v[idx[i]]`.
fn permute<T>(v: &mut [T], idx: &[usize]) {
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        if done[start] {
            continue;
        }
        let mut cur = start;
        loop {
            done[cur] = true;
            let next = idx[cur];
            if next == start {
                break;
            }
            v.swap(cur, next);
            cur = next;
        }
    }
}

/// `kind.group/name` as `kubectl -o name` prints it.
pub fn kind_name(obj: &J) -> String {
    let kind = obj
        .get("kind")
        .and_then(J::as_str)
        .unwrap_or("")
        .to_lowercase();
    let api = obj.get("apiVersion").and_then(J::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let name = obj
        .pointer("/metadata/name")
        .and_then(J::as_str)
        .unwrap_or("");
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// Cells padded as kubectl's tabwriter pads them (3 spaces, at least 6
/// wide; the last column as is).
pub fn write_columns(rows: &[Vec<String>], out: &mut impl Write) -> std::io::Result<()> {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = vec![0usize; n];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count() + 3).max(6);
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                let pad = w[i] - c.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The value kubectl's custom-columns printer shows for one column.
pub fn column_cell(obj: &J, t: &Template) -> anyhow::Result<String> {
    let sets = t.find(obj).map_err(|e| anyhow::anyhow!("{e}"))?;
    if sets.first().is_none_or(|s| s.is_empty()) {
        return Ok("<none>".into());
    }
    let mut vals = Vec::new();
    for set in &sets {
        for v in set {
            let mut s = String::new();
            jsonpath::go_value(&mut s, v);
            vals.push(s);
        }
    }
    Ok(vals.join(","))
}

/// Prints decoded objects in one of the forms that need them all:
/// jsonpath, custom-columns, and json/yaml after `--sort-by`.
pub fn print_decoded(
    objs: &[Decoded<'_>],
    form: &OutputForm,
    single: bool,
    p: &PrintArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // kubectl prints one named object as itself, anything else as a List.
    let list = || {
        serde_json::json!({
            "apiVersion": "v1",
            "items": objs.iter().map(|d| d.obj.clone()).collect::<Vec<_>>(),
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        })
    };
    let target = || {
        if single && objs.len() == 1 {
            objs[0].obj.clone()
        } else {
            list()
        }
    };
    match form {
        OutputForm::JsonPath(t) => {
            let s = t
                .render(&target())
                .map_err(|e| anyhow::anyhow!("error executing jsonpath: {e}"))?;
            out.write_all(s.as_bytes())?;
        }
        OutputForm::JsonPathAsJson(t) => {
            let s = t
                .render_json(&target())
                .map_err(|e| anyhow::anyhow!("error executing jsonpath: {e}"))?;
            out.write_all(s.as_bytes())?;
        }
        OutputForm::CustomColumns(cols) => {
            let mut rows = Vec::with_capacity(objs.len() + 1);
            if !p.no_headers {
                rows.push(cols.iter().map(|(h, _)| h.clone()).collect());
            }
            for d in objs {
                let mut row = Vec::with_capacity(cols.len());
                for (_, t) in cols {
                    row.push(column_cell(&d.obj, t)?);
                }
                rows.push(row);
            }
            write_columns(&rows, out)?;
        }
        OutputForm::Json => {
            serde_json::to_writer_pretty(&mut *out, &target())?;
            out.write_all(b"\n")?;
        }
        OutputForm::Yaml => {
            let mut v = target();
            sort_keys(&mut v);
            out.write_all(serde_saphyr::to_string(&v)?.as_bytes())?;
        }
        OutputForm::Name
        | OutputForm::Table
        | OutputForm::Wide
        | OutputForm::Etcd
        | OutputForm::EtcdWide
        | OutputForm::Raw => {
            anyhow::bail!("internal: names and table forms are printed by get")
        }
    }
    Ok(())
}
