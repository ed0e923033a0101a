//! `etcdsnap get`: objects as `kubectl get` shows them.

use std::io::Write;

use anyhow::{bail, Context};
use etcdsnap::crypt::KeyRing;
use etcdsnap::escape::{bytes, controls as esc};
use etcdsnap::mvcc::Record;
use etcdsnap::query::{Filter, Item, LabelSelector, QueryError};
use etcdsnap::redact::Redaction;
use rayon::prelude::*;
use serde_json::Value as J;

use super::forms::OutputForm;
use super::{InputArg, KeysArg};

/// Selection flags shared by `get`, `export` and `diff`.
#[derive(clap::Args, Clone, Default)]
pub struct SelectArgs {
    /// Namespace (default: all namespaces, since there is no kubeconfig
    /// context offline).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// All namespaces (the default; accepted as kubectl users type it).
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Label selector, e.g. `app=web,tier!=db`.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// Exactly this etcd key.
    #[arg(long)]
    pub key: Option<String>,
    /// Etcd keys starting with this.
    #[arg(long)]
    pub prefix: Option<String>,
    /// An etcd prefix besides /registry, /kubernetes.io and /openshift.io.
    #[arg(long = "etcd-prefix")]
    pub etcd_prefix: Option<String>,
    /// The state at this revision (default: the latest).
    #[arg(long)]
    pub rev: Option<i64>,
}

impl SelectArgs {
    /// Builds the filter from the flags and RESOURCE [NAME].
    pub fn filter(&self, resource: Option<&str>, name: Option<&str>) -> anyhow::Result<Filter> {
        let mut f = Filter {
            namespace: self.namespace.clone(),
            name: name.map(str::to_string),
            key: self.key.as_ref().map(|k| k.as_bytes().to_vec()),
            prefix: self.prefix.as_ref().map(|p| p.as_bytes().to_vec()),
            etcd_prefix: self.etcd_prefix.clone(),
            labels: match &self.selector {
                Some(s) => {
                    Some(LabelSelector::parse(s).map_err(|e| anyhow::anyhow!("-l {s}: {e}"))?)
                }
                None => None,
            },
            ..Filter::default()
        };
        if let Some(r) = resource {
            for one in r.split(',').filter(|s| !s.is_empty()) {
                let found = etcdsnap::kube::key::resolve_all(one);
                if found.is_empty() {
                    bail!("unknown resource type {one:?} (use a name as kubectl does: pods, po, secret, deployments.apps, routes.route.openshift.io)");
                }
                f.resources.extend(found);
            }
        }
        Ok(f)
    }
}

/// RESOURCE and NAME as kubectl takes them: `TYPE NAME` or `TYPE/NAME`.
pub fn type_name(
    resource: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<(Option<String>, Option<String>)> {
    match resource.and_then(|r| r.split_once('/')) {
        Some((t, n)) if !t.is_empty() && !n.is_empty() => {
            if name.is_some() {
                bail!("there is no need to give the resource type as a separate argument with TYPE/NAME ({}): give `{t}/{n}` alone", resource.unwrap_or(""));
            }
            Ok((Some(t.to_string()), Some(n.to_string())))
        }
        Some(_) => bail!(
            "{:?}: give TYPE/NAME (e.g. secret/db-password) or TYPE NAME",
            resource.unwrap_or("")
        ),
        None => Ok((resource.map(str::to_string), name.map(str::to_string))),
    }
}

#[derive(clap::Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// Resource type as kubectl names it (pods, po, secret,
    /// deployments.apps, routes.route.openshift.io); comma-separated for
    /// several. `TYPE/NAME` names one object.
    pub resource: Option<String>,
    /// Object name.
    pub name: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub keys: KeysArg,
    /// Replace Secret data with SHA-256 digests, so output can be shared.
    #[arg(long)]
    pub redact: bool,
    /// Show the Secrets that hold encryption keys (hidden as digests by
    /// default).
    #[arg(long)]
    pub show_key_material: bool,
    /// Objects deleted within the held history, as they last were (each
    /// deletion revision named on stderr).
    #[arg(long)]
    pub deleted: bool,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
    /// Output format: table (the default: the columns the apiserver
    /// prints, as kubectl shows them), wide, yaml, json, name, jsonpath=…,
    /// jsonpath-file=…, jsonpath-as-json=…, custom-columns=…,
    /// custom-columns-file=… (kubectl's forms); etcd, etcd-wide (one row
    /// per key: revision, encoding, encryption; wide adds version, lease,
    /// stored size); raw (the stored bytes). With --for-apply: yaml.
    #[arg(short = 'o', long = "output", value_parser = super::forms::parse_output)]
    pub output: Option<OutputForm>,
    #[command(flatten)]
    pub apply: super::forms::ApplyArgs,
    #[command(flatten)]
    pub print: super::forms::PrintArgs,
}

/// Counts of what a listing met.
#[derive(Default)]
pub struct Tally {
    pub shown: usize,
    pub failed: usize,
}

pub fn run(a: GetArgs) -> anyhow::Result<i32> {
    // --rev may reach before the compaction through free pages.
    let opened = super::session::open(
        &a.input.input,
        &a.keys.keys,
        super::session::Read::Replayed {
            salvage: a.salvage.salvage,
            history: a.select.rev.is_some(),
            no_wal: a.input.no_wal,
        },
    )?;
    let (session, sv) = (&opened.session, &opened.salvage);
    let (store, keys) = (&session.store, session.keys.as_ref());
    let (resource, name) = type_name(a.resource.as_deref(), a.name.as_deref())?;
    let filter = a.select.filter(resource.as_deref(), name.as_deref())?;
    // `get` lists objects: keys that are not (compact_rev_key, or keys of
    // no Kubernetes layout) only when asked for by --key/--prefix; `ls`
    // shows every key.
    let explicit = a.select.key.is_some() || a.select.prefix.is_some();
    let wanted = |k: &[u8]| {
        filter.key_matches(k)
            && (explicit
                || filter
                    .parse_key(k)
                    .is_some_and(|sk| sk.kind != etcdsnap::kube::key::KeyKind::CompactRevKey))
    };
    let records = if a.deleted {
        let gone = store
            .deleted_at(a.select.rev, wanted)
            .map_err(|e| compacted_hint(e, &a.input.input, None))?;
        for d in &gone {
            eprintln!(
                "etcdsnap: {}: deleted at revision {}{}",
                bytes(d.key),
                d.deleted_at,
                match &d.last {
                    Some(r) => format!(", last written at {}", r.kv.mod_revision),
                    None => ", its earlier revisions compacted away".into(),
                }
            );
        }
        gone.iter().filter_map(|d| d.last).collect()
    } else {
        store.state_at(a.select.rev, wanted).map_err(|e| {
            let what = match (&resource, &name) {
                (Some(r), Some(n)) => Some(match &a.select.namespace {
                    Some(ns) => format!("{r} {n} -n {ns}"),
                    None => format!("{r} {n}"),
                }),
                _ => None,
            };
            compacted_hint(e, &a.input.input, what)
        })?
    };
    if let Some(s) = &sv {
        for r in &records {
            let src = s.source(r);
            if src != etcdsnap::salvage::Source::Tree {
                eprintln!(
                    "etcdsnap: salvage: {} (revision {}) source: {} (page {})",
                    bytes(r.kv.key),
                    r.rev.main,
                    src.label(),
                    s.page_of(r).unwrap_or(0)
                );
            }
        }
    }
    let single = name.is_some() || a.select.key.is_some();
    let output = match &a.output {
        Some(o) => o.clone(),
        None if a.apply.for_apply => OutputForm::Yaml,
        None => OutputForm::Table,
    };
    let redaction = Redaction::new(a.redact, a.show_key_material);
    if a.redact && matches!(output, OutputForm::Raw) {
        bail!("-o raw prints the stored bytes, which --redact cannot hide: use -o yaml or -o json with --redact");
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    let sort = a.print.sort_template()?;
    let t = match &output {
        OutputForm::Json | OutputForm::Yaml if a.apply.for_apply => {
            let mut t = Tally::default();
            let mut records = records.clone();
            records.extend(super::forms::namespace_record(
                store,
                &a.select,
                a.resource.as_deref(),
                a.name.as_deref(),
            )?);
            let objs = super::forms::decode_all(&records, keys, &filter, redaction, &mut t);
            let objs = super::forms::for_apply(objs.into_iter().map(|d| d.obj).collect(), &a.apply);
            let yaml = matches!(output, OutputForm::Yaml);
            t.shown = super::forms::print_for_apply(objs, yaml, single, &mut out)?;
            t
        }
        _ if a.apply.for_apply => {
            bail!("--for-apply prints objects: use it with -o yaml or -o json")
        }
        OutputForm::Raw => raw(&records, keys, redaction, &mut out)?,
        OutputForm::Table | OutputForm::Wide => {
            let several = resource.as_deref().is_none_or(|r| r.contains(','));
            let how = TableRun {
                store,
                rev: if a.deleted { None } else { a.select.rev },
                keys,
                filter: &filter,
                redaction,
                now: etcdsnap::session::snapshot_time(&session.input.db).unwrap_or(0),
                across_namespaces: a.select.namespace.is_none(),
                several_types: several,
            };
            let opts = etcdsnap::kube::tabular::Options {
                wide: matches!(output, OutputForm::Wide),
                no_headers: a.print.no_headers,
                label_columns: a.print.label_columns.clone(),
                show_labels: a.print.show_labels,
            };
            kube_table(&records, &how, &opts, sort.as_ref(), &mut out)?
        }
        OutputForm::Etcd | OutputForm::EtcdWide => {
            let wide = matches!(output, OutputForm::EtcdWide);
            table(
                &records,
                keys,
                &filter,
                &a.print,
                wide,
                sort.as_ref(),
                &mut out,
            )?
        }
        OutputForm::Json | OutputForm::Yaml if sort.is_none() => {
            let yaml = matches!(output, OutputForm::Yaml);
            let opts = Render {
                keys,
                filter: &filter,
                redaction,
                yaml,
                depth: 0,
            };
            if single {
                one(&records, &opts, &mut out)?
            } else {
                list(&records, &opts, &mut out)?
            }
        }
        OutputForm::Name => names(&records, keys, &filter, redaction, sort.as_ref(), &mut out)?,
        form => {
            let mut t = Tally::default();
            let mut objs = super::forms::decode_all(&records, keys, &filter, redaction, &mut t);
            if let Some(s) = &sort {
                super::forms::sort_by(&mut objs, s)?;
            }
            super::forms::print_decoded(&objs, form, single, &a.print, &mut out)?;
            t.shown = objs.len();
            t
        }
    };
    out.flush()?;
    let human = matches!(output, OutputForm::Table | OutputForm::Wide);
    if t.shown == 0 && t.failed == 0 && human {
        // As kubectl says it (on stderr); the exit code stays 1.
        match &a.select.namespace {
            Some(ns) => eprintln!("No resources found in {} namespace.", esc(ns)),
            None => eprintln!("No resources found"),
        }
    }
    if t.shown == 0 && t.failed == 0 && !a.deleted {
        deletion_hints(store, &a, &wanted);
    }
    let code = if t.shown == 0 && t.failed == 0 && human {
        1
    } else {
        finish(&t)?
    };
    Ok(super::salvage::exit(code, sv.as_ref()))
}

/// When nothing matched: keys of the selection deleted within the held
/// history, each with the revision that still shows it.
fn deletion_hints(store: &etcdsnap::mvcc::Store<'_>, a: &GetArgs, wanted: &dyn Fn(&[u8]) -> bool) {
    let Ok(gone) = store.deleted_at(a.select.rev, wanted) else {
        return;
    };
    let input = a.input.input.display();
    for d in gone.iter().take(20) {
        let key = bytes(d.key);
        let Some(last) = &d.last else {
            eprintln!(
                "etcdsnap: {key}: deleted at revision {}; its earlier revisions were compacted away",
                d.deleted_at
            );
            continue;
        };
        let at = d.last_live_revision();
        let how = match store.compacted {
            Some(c) if at < c => format!(
                "`etcdsnap history {input} {}` still shows it (revision {at} is below the compaction at {c})",
                select_words(a, d.key).trim_start_matches("--key ")
            ),
            _ => format!("`etcdsnap get {input} {} --rev {at}`", select_words(a, d.key)),
        };
        eprintln!(
            "etcdsnap: {key}: deleted at revision {}, last held at {}: {how}",
            d.deleted_at, last.kv.mod_revision
        );
    }
    if gone.len() > 20 {
        eprintln!(
            "etcdsnap: … and {} more deleted (`--deleted` lists them)",
            gone.len() - 20
        );
    }
}

/// How to name one key again on a command line: RESOURCE NAME -n NS when
/// it has a Kubernetes layout, else --key.
fn select_words(a: &GetArgs, key: &[u8]) -> String {
    let f = Filter {
        etcd_prefix: a.select.etcd_prefix.clone(),
        ..Filter::default()
    };
    match f.parse_key(key) {
        Some(sk) if sk.kind == etcdsnap::kube::key::KeyKind::Object => {
            let res = match sk.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", sk.resource),
                _ => sk.resource.to_string(),
            };
            match sk.namespace {
                Some(ns) => format!("{res} {} -n {ns}", sk.name),
                None => format!("{res} {}", sk.name),
            }
        }
        _ => format!("--key {}", bytes(key)),
    }
}

/// A revision below the compaction: say that `history` still holds each
/// key's newest revision from before it. `what` names the object
/// (`RESOURCE NAME -n NS`) when known.
pub fn compacted_hint(
    e: etcdsnap::mvcc::MvccError,
    input: &std::path::Path,
    what: Option<String>,
) -> anyhow::Error {
    match e {
        etcdsnap::mvcc::MvccError::Compacted { .. } => anyhow::anyhow!(
            "{e}; `etcdsnap history {} {}` still shows the revision each key held at the compaction (etcd keeps it)",
            input.display(),
            what.unwrap_or_else(|| "RESOURCE NAME".into())
        ),
        e => e.into(),
    }
}

/// Exit code and stderr summary of a listing.
pub fn finish(t: &Tally) -> anyhow::Result<i32> {
    if t.failed > 0 {
        eprintln!(
            "etcdsnap: {} value{} could not be decoded (named above); {} shown",
            t.failed,
            if t.failed == 1 { "" } else { "s" },
            t.shown
        );
        return Ok(1);
    }
    if t.shown == 0 {
        eprintln!("etcdsnap: no objects matched");
        return Ok(1);
    }
    Ok(0)
}

#[derive(Clone, Copy)]
pub struct Render<'r> {
    pub keys: Option<&'r KeyRing>,
    pub filter: &'r Filter,
    pub redaction: Redaction,
    pub yaml: bool,
    /// JSON only: how deep in an enclosing pretty document the object
    /// sits (2 for a List's items: rendered in place, starting on a new
    /// line); 0 for a document of its own.
    pub depth: usize,
}

impl Render<'_> {
    /// Renders one record as a list item into `buf`; `None` when it does
    /// not pass the label selector. Errors name the key. The selector reads
    /// the labels alone (no `Value` of the object). The redaction is
    /// applied as the object streams from the stored bytes. YAML goes in a
    /// List's `items:` when `list_item` (`- ` first, the object's strings
    /// folded at their column there, as kubectl does).
    fn item(
        &self,
        r: &Record<'_>,
        buf: &mut Vec<u8>,
        list_item: bool,
    ) -> Result<Option<()>, String> {
        let it = Item::new(*r, self.keys);
        let fail = |e: QueryError| format!("{}: {e}", bytes(r.kv.key));
        if let Some(l) = &self.filter.labels {
            if !l.matches(&it.labels().map_err(fail)?) {
                return Ok(None);
            }
        }
        it.write_redacted(buf, self.yaml, list_item, self.depth, &self.redaction)
            .map_err(fail)?;
        Ok(Some(()))
    }
}

/// At most this many records, and (past the first) this many stored
/// bytes, per parallel task; the rendered output held in memory is bounded
/// by [`etcdsnap::pipeline::IN_FLIGHT_PER_THREAD`] such chunks per thread
/// (each value renders to at most `kube::decode::expansion_limit` of its
/// size), not by the listing's length.
const CHUNK: usize = 64;
const CHUNK_BYTES: usize = 256 << 10;

/// What one parallel task rendered: its items (already indented and, for
/// JSON, joined by commas), how many, and the errors met, in order.
struct Rendered {
    text: Vec<u8>,
    items: usize,
    errors: Vec<String>,
}

/// A kubectl-style List, streamed: items are rendered in parallel chunks
/// ([`etcdsnap::pipeline`]) and written in key order.
fn list<W: Write>(
    records: &[Record<'_>],
    r: &Render<'_>,
    out: &mut std::io::BufWriter<W>,
) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    if r.yaml {
        out.write_all(b"apiVersion: v1\nitems:")?;
    } else {
        out.write_all(b"{\n  \"apiVersion\": \"v1\",\n  \"items\": [")?;
    }
    // Items are rendered in place: JSON at its depth in the List (2), YAML
    // as an item of `items:`.
    let r = Render { depth: 2, ..*r };
    let chunks = etcdsnap::pipeline::chunks(records, CHUNK, CHUNK_BYTES, |rec| rec.kv.value.len());
    // Output buffers go back to a pool once written: a fresh one per chunk
    // would be a fresh mapping, page-faulted in and unmapped each time.
    let pool: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    let render = |chunk: &[Record<'_>]| {
        let stored: usize = chunk.iter().map(|rec| rec.kv.value.len()).sum();
        let text = pool.lock().ok().and_then(|mut p| p.pop());
        let mut done = Rendered {
            text: text.unwrap_or_else(|| Vec::with_capacity(stored * 4)),
            items: 0,
            errors: Vec::new(),
        };
        for rec in chunk {
            let at = done.text.len();
            if r.yaml {
                // `\n- ` and the object at column 2, written in place.
                done.text.push(b'\n');
            } else if done.items > 0 {
                done.text.push(b',');
            }
            match r.item(rec, &mut done.text, true) {
                Ok(Some(())) => {
                    if r.yaml && done.text.ends_with(b"\n") {
                        done.text.pop();
                    }
                    done.items += 1;
                }
                Ok(None) => done.text.truncate(at),
                Err(e) => {
                    done.text.truncate(at);
                    done.errors.push(e);
                }
            }
        }
        done
    };
    etcdsnap::pipeline::render_in_order(&chunks, render, |done: Rendered| {
        for e in done.errors {
            eprintln!("etcdsnap: {}", esc(&e));
            t.failed += 1;
        }
        if done.items > 0 {
            if !r.yaml && t.shown > 0 {
                out.write_all(b",")?;
            }
            if done.text.len() >= 64 << 10 {
                // Large: straight to the output, not copied through the
                // buffer (the copy would be this thread's main work, taking
                // CPU from the workers rendering).
                out.flush()?;
                out.get_mut().write_all(&done.text)?;
            } else {
                out.write_all(&done.text)?;
            }
            t.shown += done.items;
        }
        let mut text = done.text;
        text.clear();
        if let Ok(mut p) = pool.lock() {
            p.push(text);
        }
        anyhow::Ok(())
    })?;
    if r.yaml {
        if t.shown == 0 {
            out.write_all(b" []")?;
        }
        out.write_all(b"\nkind: List\nmetadata:\n  resourceVersion: \"\"\n")?;
    } else {
        out.write_all(if t.shown == 0 { b"]" } else { b"\n  ]" })?;
        out.write_all(
            b",\n  \"kind\": \"List\",\n  \"metadata\": {\n    \"resourceVersion\": \"\"\n  }\n}\n",
        )?;
    }
    Ok(t)
}

/// One named object.
fn one(records: &[Record<'_>], r: &Render<'_>, out: &mut impl Write) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    for rec in records {
        let mut buf = Vec::new();
        match r.item(rec, &mut buf, false) {
            Ok(Some(())) => {
                if !buf.ends_with(b"\n") {
                    buf.push(b'\n');
                }
                if t.shown > 0 && r.yaml {
                    out.write_all(b"---\n")?;
                }
                out.write_all(&buf)?;
                t.shown += 1;
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("etcdsnap: {}", esc(&e));
                t.failed += 1;
            }
        }
    }
    Ok(t)
}

/// The stored (decrypted) bytes of one value.
fn raw(
    records: &[Record<'_>],
    keys: Option<&KeyRing>,
    redaction: Redaction,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    if records.len() > 1 {
        bail!(
            "-o raw needs exactly one object, {} matched (name one, or use --key)",
            records.len()
        );
    }
    let mut t = Tally::default();
    if let Some(rec) = records.first() {
        if redaction.hides_bytes(rec.kv.key) {
            bail!(
                "{}: holds encryption key material; -o raw would print it (add --show-key-material to show it)",
                etcdsnap::crypt::show_key(rec.kv.key)
            );
        }
        let it = Item::new(*rec, keys);
        if let Some(e) = &it.decrypt_error {
            eprintln!("etcdsnap: {}: {}", bytes(rec.kv.key), esc(&e.to_string()));
            t.failed += 1;
        }
        out.write_all(&it.plain).context("write")?;
        t.shown = 1;
    }
    Ok(t)
}

/// What kubectl's table needs besides the records.
struct TableRun<'r, 'a> {
    store: &'r etcdsnap::mvcc::Store<'a>,
    /// The revision shown (for the CRDs that define printer columns).
    rev: Option<i64>,
    keys: Option<&'r KeyRing>,
    filter: &'r Filter,
    redaction: Redaction,
    /// The snapshot's time, for ages.
    now: i64,
    /// No `-n`: a NAMESPACE column for namespaced kinds.
    across_namespaces: bool,
    /// No resource, or several, named: names prefixed with `kind.group/`
    /// (as kubectl does when several types are asked for).
    several_types: bool,
}

/// kubectl's table: one section per kind (in the order the kinds first
/// appear), each with the columns the apiservers print for it (a CRD's
/// `additionalPrinterColumns` when the snapshot holds the CRD), AGE from
/// the snapshot's time; the same printers `serve` answers kubectl with.
fn kube_table(
    records: &[Record<'_>],
    how: &TableRun<'_, '_>,
    opts: &etcdsnap::kube::tabular::Options,
    sort: Option<&etcdsnap::kube::jsonpath::Template>,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    use etcdsnap::kube::print::{self, Printer};
    use etcdsnap::kube::tabular::{head, kind_prefix, layout, row};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    /// One object as the table needs it: each object's tree is dropped
    /// as soon as its row is made (held all at once, the trees of a
    /// 1 GiB snapshot took 6 GB and most of the run in the allocator).
    struct Entry {
        group: String,
        kind: String,
        plural: String,
        namespaced: bool,
        rank: usize,
        sort: Option<J>,
        row: Vec<String>,
        name_at: Option<usize>,
    }
    let mut t = Tally::default();
    // The CRDs' printer columns, read once when a kind of a group first
    // needs them.
    /// (group, plural) → the CRD's printer columns.
    type CrdColumns = HashMap<(String, String), Vec<J>>;
    let crd_columns: OnceLock<Result<CrdColumns, String>> = OnceLock::new();
    let load_crds = || -> Result<CrdColumns, String> {
        const CRDS: &[u8] = b"/apiextensions.k8s.io/customresourcedefinitions/";
        let crds = how
            .store
            .state_at(how.rev, |k| memchr::memmem::find(k, CRDS).is_some())
            .map_err(|e| e.to_string())?;
        let mut m = HashMap::new();
        for rec in crds {
            let Ok(crd) = Item::new(rec, how.keys).object() else {
                continue;
            };
            if let Some(r) = etcdsnap::serve::catalog::from_crd(&crd) {
                m.insert((r.group, r.plural), r.printer_columns.unwrap_or_default());
            }
        }
        Ok(m)
    };
    // Printers by (group, plural, kind), made once each.
    let printers: Mutex<HashMap<(String, String, String), std::sync::Arc<Printer>>> =
        Mutex::default();
    let printer =
        |group: &str, plural: &str, kind: &str| -> Result<std::sync::Arc<Printer>, String> {
            let id = (group.to_string(), plural.to_string(), kind.to_string());
            if let Some(p) = printers.lock().ok().and_then(|m| m.get(&id).cloned()) {
                return Ok(p);
            }
            let crd = if group.is_empty() {
                None
            } else {
                let cols = crd_columns
                    .get_or_init(load_crds)
                    .as_ref()
                    .map_err(Clone::clone)?;
                cols.get(&(group.to_string(), plural.to_string())).cloned()
            };
            let p = std::sync::Arc::new(print::printer_for(group, kind, crd.as_deref()));
            if let Ok(mut m) = printers.lock() {
                m.insert(id, p.clone());
            }
            Ok(p)
        };
    let made: Vec<Result<Option<Entry>, Fail>> = records
        .par_iter()
        .map(|rec| {
            let decoded = super::forms::decode_one(rec, how.keys, how.filter, how.redaction);
            let Some(obj) = decoded.map_err(Fail::Record)? else {
                return Ok(None);
            };
            let api = obj.get("apiVersion").and_then(J::as_str).unwrap_or("");
            let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_string();
            let kind = obj
                .get("kind")
                .and_then(J::as_str)
                .unwrap_or("")
                .to_string();
            let sk = how.filter.parse_key(rec.kv.key);
            let plural = sk.as_ref().map_or("", |k| k.resource).to_string();
            let namespaced = sk.as_ref().is_some_and(|k| k.namespace.is_some());
            // Kinds print in the order the resources were named, as kubectl.
            let rank = sk
                .as_ref()
                .and_then(|k| how.filter.resources.iter().position(|r| r.matches(k)))
                .unwrap_or(usize::MAX);
            let sort = match sort {
                Some(s) => super::forms::sort_key(&obj, s).map_err(Fail::Sort)?,
                None => None,
            };
            let p = printer(&group, &plural, &kind).map_err(Fail::Record)?;
            let with_namespace = how.across_namespaces && namespaced;
            let (row, name_at) = row(&p, with_namespace, &obj, how.now, opts);
            Ok(Some(Entry {
                group,
                kind,
                plural,
                namespaced,
                rank,
                sort,
                row,
                name_at,
            }))
        })
        .collect();
    if let Some(Err(e)) = crd_columns.get() {
        bail!("{e}");
    }
    let mut entries = gathered(made, &mut t)?;
    let order: Vec<usize> = if sort.is_some() {
        let keys: Vec<Option<J>> = entries.iter_mut().map(|e| e.sort.take()).collect();
        super::forms::sorted_order(&keys)
    } else {
        (0..entries.len()).collect()
    };
    // (group, kind) → (plural, namespaced, rank, entries), in first-seen
    // order.
    // (group, kind) → the first entry of its kind (its plural, whether
    // namespaced, its rank) and all of them, in first-seen order.
    let mut kinds: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut at: HashMap<(&str, &str), usize> = HashMap::new();
    for &i in &order {
        let e = &entries[i];
        let k = *at.entry((&e.group, &e.kind)).or_insert_with(|| {
            kinds.push((i, Vec::new()));
            kinds.len() - 1
        });
        kinds[k].1.push(i);
    }
    kinds.sort_by_key(|k| entries[k.0].rank);
    let several = how.several_types || kinds.len() > 1;
    let mut rows: Vec<Vec<String>> = entries
        .iter_mut()
        .map(|e| std::mem::take(&mut e.row))
        .collect();
    let mut first = true;
    for (lead, list) in &kinds {
        let Entry {
            group,
            kind,
            plural,
            namespaced,
            ..
        } = &entries[*lead];
        let p = printer(group, plural, kind).map_err(|e| anyhow::anyhow!("{e}"))?;
        let prefix = several.then(|| kind_prefix(group, kind));
        let mut lines = Vec::with_capacity(list.len() + 1);
        if !opts.no_headers {
            lines.push(head(&p, how.across_namespaces && *namespaced, opts));
        }
        for &i in list {
            let mut cells = std::mem::take(&mut rows[i]);
            if let (Some(k), Some(n)) = (&prefix, entries[i].name_at) {
                cells[n] = format!("{k}/{}", cells[n]);
            }
            // Every cell comes from the snapshot: escaped for the terminal.
            lines.push(cells.into_iter().map(|c| esc(&c).into_owned()).collect());
        }
        if !first && !opts.no_headers {
            out.write_all(b"\n")?;
        }
        first = false;
        out.write_all(layout(&lines).as_bytes())?;
        t.shown += list.len();
    }
    Ok(t)
}

/// Why one record of a parallel pass gave nothing: its failure, reported
/// and counted while the rest goes on, or a `--sort-by` failure, which
/// fails the command (as it does in every form).
enum Fail {
    Record(String),
    Sort(anyhow::Error),
}

/// What a parallel pass made, in order; its failures reported.
fn gathered<T>(made: Vec<Result<Option<T>, Fail>>, t: &mut Tally) -> anyhow::Result<Vec<T>> {
    let mut kept = Vec::with_capacity(made.len());
    let mut errors = Vec::new();
    let mut sort_error = None;
    for m in made {
        match m {
            Ok(Some(x)) => kept.push(x),
            Ok(None) => {}
            Err(Fail::Record(e)) => errors.push(e),
            Err(Fail::Sort(e)) => {
                sort_error.get_or_insert(e);
            }
        }
    }
    super::forms::report_failures(errors, t);
    match sort_error {
        Some(e) => Err(e),
        None => Ok(kept),
    }
}

/// `-o name`: `kind.group/name` per object, each object's tree dropped
/// as soon as its line (and `--sort-by` key) is made.
fn names(
    records: &[Record<'_>],
    keys: Option<&KeyRing>,
    filter: &Filter,
    redaction: Redaction,
    sort: Option<&etcdsnap::kube::jsonpath::Template>,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    type Named = (String, Option<J>);
    let made: Vec<Result<Option<Named>, Fail>> = records
        .par_iter()
        .map(|rec| {
            let decoded = super::forms::decode_one(rec, keys, filter, redaction);
            let Some(obj) = decoded.map_err(Fail::Record)? else {
                return Ok(None);
            };
            let key = match sort {
                Some(s) => super::forms::sort_key(&obj, s).map_err(Fail::Sort)?,
                None => None,
            };
            Ok(Some((super::forms::kind_name(&obj), key)))
        })
        .collect();
    let mut named = gathered(made, &mut t)?;
    let order: Vec<usize> = if sort.is_some() {
        let keys: Vec<Option<J>> = named.iter_mut().map(|n| n.1.take()).collect();
        super::forms::sorted_order(&keys)
    } else {
        (0..named.len()).collect()
    };
    for i in order {
        // Kinds and names come from the snapshot: escaped for the terminal.
        writeln!(out, "{}", esc(&named[i].0))?;
    }
    t.shown = named.len();
    Ok(t)
}

/// The etcd-level table (`-o etcd`): one row per key; `-o wide` adds the key's
/// version, lease and stored size (`-o etcd-wide`); `-L`/`--show-labels` add label
/// columns; `--sort-by` orders rows as kubectl would.
fn table(
    records: &[Record<'_>],
    keys: Option<&KeyRing>,
    filter: &Filter,
    print: &super::forms::PrintArgs,
    wide: bool,
    sort: Option<&etcdsnap::kube::jsonpath::Template>,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    type Row = (Vec<String>, Option<J>);
    let mut t = Tally::default();
    let rows: Vec<Result<Option<Row>, String>> = records
        .par_iter()
        .map(|rec| {
            let it = Item::new(*rec, keys);
            let sk = filter.parse_key(rec.kv.key);
            let (ns, name) = match &sk {
                Some(k) => (k.namespace.unwrap_or("").to_string(), k.name.to_string()),
                None => (String::new(), bytes(rec.kv.key).into_owned()),
            };
            let enc = match &it.encryption {
                Some(e) if it.is_encrypted() => format!("{} key {} (encrypted)", e.provider, e.key),
                Some(e) => format!("{} key {} → {}", e.provider, e.key, it.encoding),
                None => it.encoding.to_string(),
            };
            let obj = match it.object() {
                Ok(o) => {
                    if let Some(l) = &filter.labels {
                        if !l.matches(&o) {
                            return Ok(None);
                        }
                    }
                    Some(o)
                }
                Err(e) if e.is_encrypted() => None,
                Err(e) => return Err(format!("{}: {e}", bytes(rec.kv.key))),
            };
            let (kind, created) = match &obj {
                Some(o) => (
                    o.get("kind").and_then(J::as_str).unwrap_or("").to_string(),
                    o.pointer("/metadata/creationTimestamp")
                        .and_then(J::as_str)
                        .unwrap_or("")
                        .to_string(),
                ),
                None => ("?".into(), "?".into()),
            };
            let mut row = vec![ns, name, kind, created, rec.kv.mod_revision.to_string()];
            if wide {
                row.push(rec.kv.version.to_string());
                row.push(if rec.kv.lease == 0 {
                    "<none>".into()
                } else {
                    format!("{:x}", rec.kv.lease)
                });
                row.push(rec.kv.value.len().to_string());
            }
            row.push(enc);
            let null = J::Null;
            row.extend(print.label_cells(obj.as_ref().unwrap_or(&null)));
            // Every cell comes from the snapshot: escaped for the terminal.
            let row: Vec<String> = row.into_iter().map(|c| esc(&c).into_owned()).collect();
            let key = match (sort, &obj) {
                (Some(s), Some(o)) => s
                    .find(o)
                    .map_err(|e| format!("--sort-by: {e}"))?
                    .into_iter()
                    .next()
                    .and_then(|set| set.into_iter().next())
                    .map(std::borrow::Cow::into_owned),
                _ => None,
            };
            Ok(Some((row, key)))
        })
        .collect();
    let mut shown: Vec<Row> = Vec::new();
    for r in rows {
        match r {
            Ok(Some(row)) => shown.push(row),
            Ok(None) => {}
            Err(e) => {
                eprintln!("etcdsnap: {}", esc(&e));
                t.failed += 1;
            }
        }
    }
    if sort.is_some() {
        shown.sort_by(|(_, a), (_, b)| {
            let less = |x: &Option<J>, y: &Option<J>| match (x, y) {
                (None, _) => true,
                (_, None) => false,
                (Some(p), Some(q)) => etcdsnap::kube::jsonpath::sort_less(p, q),
            };
            match (less(a, b), less(b, a)) {
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                _ => std::cmp::Ordering::Equal,
            }
        });
    }
    let mut head: Vec<String> = ["NAMESPACE", "NAME", "KIND", "CREATED", "REVISION"]
        .map(String::from)
        .to_vec();
    if wide {
        head.extend(["VERSION", "LEASE", "SIZE"].map(String::from));
    }
    head.push("ENCODING".into());
    head.extend(print.label_headers());
    let mut w = vec![0usize; head.len()];
    for row in shown.iter().map(|(r, _)| r).chain([&head]) {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}   ", width = w[i]));
            }
        }
        s
    };
    if !print.no_headers {
        writeln!(out, "{}", line(&head))?;
    }
    for (row, _) in &shown {
        writeln!(out, "{}", line(row))?;
    }
    t.shown = shown.len();
    Ok(t)
}
