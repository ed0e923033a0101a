//! `etcdsnap get`: objects as `kubectl get` shows them.

use std::io::Write;

use anyhow::{bail, Context};
use clap::ValueEnum;
use etcdsnap::crypt::KeyRing;
use etcdsnap::kube::render::Style;
use etcdsnap::mvcc::Record;
use etcdsnap::query::{Filter, Item, LabelSelector};
use etcdsnap::redact::Redaction;
use rayon::prelude::*;
use serde_json::Value as J;

use super::{InputArg, KeysArg};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    Yaml,
    Json,
    Table,
    Raw,
}

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
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: GetFormat,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

/// Counts of what a listing met.
#[derive(Default)]
pub struct Tally {
    pub shown: usize,
    pub failed: usize,
}

pub fn run(a: GetArgs) -> anyhow::Result<i32> {
    let input = etcdsnap::input::resolve(&a.input.input)?;
    let snap = super::salvage::open(&input.db, a.salvage.salvage)?;
    let sv = super::salvage::run(&snap, a.salvage.salvage);
    let mut wal = None;
    // --rev may reach before the compaction through free pages.
    let store = super::salvage::store_or_replay(
        &input,
        &snap,
        sv.as_ref(),
        a.select.rev.is_some(),
        a.input.no_wal,
        &mut wal,
    )?;
    let session = etcdsnap::session::Session::with_store(input, store, &a.keys.keys)?;
    super::print_notes(&session.notes);
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
                String::from_utf8_lossy(d.key),
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
                    String::from_utf8_lossy(r.kv.key),
                    r.rev.main,
                    src.label(),
                    s.page_of(r).unwrap_or(0)
                );
            }
        }
    }
    let single = name.is_some() || a.select.key.is_some();
    let redaction = Redaction::new(a.redact, a.show_key_material);
    if a.redact && a.output == GetFormat::Raw {
        bail!("-o raw prints the stored bytes, which --redact cannot hide: use -o yaml or -o json with --redact");
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    let t = match a.output {
        GetFormat::Raw => raw(&records, keys, redaction, &mut out)?,
        GetFormat::Table => table(&records, keys, &filter, &mut out)?,
        GetFormat::Json | GetFormat::Yaml => {
            let yaml = a.output == GetFormat::Yaml;
            let opts = Render {
                keys,
                filter: &filter,
                redaction,
                yaml,
            };
            if single {
                one(&records, &opts, &mut out)?
            } else {
                list(&records, &opts, &mut out)?
            }
        }
    };
    out.flush()?;
    if t.shown == 0 && t.failed == 0 && !a.deleted {
        deletion_hints(store, &a, &wanted);
    }
    Ok(super::salvage::exit(finish(&t)?, sv.as_ref()))
}

/// When nothing matched: keys of the selection deleted within the held
/// history, each with the revision that still shows it.
fn deletion_hints(store: &etcdsnap::mvcc::Store<'_>, a: &GetArgs, wanted: &dyn Fn(&[u8]) -> bool) {
    let Ok(gone) = store.deleted_at(a.select.rev, wanted) else {
        return;
    };
    let input = a.input.input.display();
    for d in gone.iter().take(20) {
        let key = String::from_utf8_lossy(d.key);
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
        _ => format!("--key {}", String::from_utf8_lossy(key)),
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

pub struct Render<'r> {
    pub keys: Option<&'r KeyRing>,
    pub filter: &'r Filter,
    pub redaction: Redaction,
    pub yaml: bool,
}

impl Render<'_> {
    /// Renders one record as a list item into `buf`; `None` when it does
    /// not pass the label selector. Errors name the key. The selector reads
    /// the labels alone (no `Value` of the object). Objects the redaction
    /// may change are decoded to a `Value`, redacted, and printed by the
    /// same emitters; all others stream from the stored bytes.
    fn item(&self, r: &Record<'_>, buf: &mut Vec<u8>) -> Result<Option<()>, String> {
        let it = Item::new(*r, self.keys);
        let fail = |e: String| format!("{}: {e}", it.key_str());
        if let Some(l) = &self.filter.labels {
            if !l.matches(&it.labels().map_err(fail)?) {
                return Ok(None);
            }
        }
        if !self.redaction.may_change(r.kv.key) {
            it.write_as(buf, self.yaml).map_err(fail)?;
            return Ok(Some(()));
        }
        let mut obj = it.object().map_err(fail)?;
        self.redaction.apply(r.kv.key, &mut obj);
        if self.yaml {
            etcdsnap::kube::sink_yaml::write_json_value(&obj, buf);
        } else {
            etcdsnap::kube::render::write_json_value(&obj, buf, Style::PRETTY);
        }
        Ok(Some(()))
    }
}

/// Appends `text` with every line but the first indented by `indent`
/// (and the first prefixed by `first`).
fn indented(out: &mut Vec<u8>, first: &[u8], indent: &[u8], text: &[u8]) {
    out.extend_from_slice(first);
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', text) {
        out.extend_from_slice(&text[start..=nl]);
        if text.get(nl + 1).is_some_and(|&c| c != b'\n') {
            out.extend_from_slice(indent);
        }
        start = nl + 1;
    }
    out.extend_from_slice(&text[start..]);
}

/// Records rendered per parallel task, and tasks per window: bounds the
/// output held in memory while keeping both cores busy.
const CHUNK: usize = 64;
const WINDOW: usize = CHUNK * 64;

/// A kubectl-style List, streamed: items are rendered in parallel windows
/// and written in key order.
fn list(records: &[Record<'_>], r: &Render<'_>, out: &mut impl Write) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    if r.yaml {
        out.write_all(b"apiVersion: v1\nitems:")?;
    } else {
        out.write_all(b"{\n  \"apiVersion\": \"v1\",\n  \"items\": [")?;
    }
    let mut first = true;
    for window in records.chunks(WINDOW) {
        // Each task renders its records, already indented as list items.
        let parts: Vec<(Vec<Vec<u8>>, Vec<String>)> = window
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut items = Vec::with_capacity(chunk.len());
                let mut one = Vec::with_capacity(4096);
                let mut errors = Vec::new();
                for rec in chunk {
                    one.clear();
                    match r.item(rec, &mut one) {
                        Ok(Some(())) => {
                            let mut item = Vec::with_capacity(one.len() + one.len() / 8);
                            if r.yaml {
                                indented(&mut item, b"\n- ", b"  ", &one);
                            } else {
                                indented(&mut item, b"\n    ", b"    ", &one);
                            }
                            items.push(item);
                        }
                        Ok(None) => {}
                        Err(e) => errors.push(e),
                    }
                }
                (items, errors)
            })
            .collect();
        for (items, errors) in parts {
            for e in errors {
                eprintln!("etcdsnap: {e}");
                t.failed += 1;
            }
            for item in items {
                if !r.yaml && !first {
                    out.write_all(b",")?;
                }
                first = false;
                out.write_all(&item)?;
                t.shown += 1;
            }
        }
    }
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
        match r.item(rec, &mut buf) {
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
                eprintln!("etcdsnap: {e}");
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
            eprintln!("etcdsnap: {}: {e}", it.key_str());
            t.failed += 1;
        }
        out.write_all(&it.plain).context("write")?;
        t.shown = 1;
    }
    Ok(t)
}

fn table(
    records: &[Record<'_>],
    keys: Option<&KeyRing>,
    filter: &Filter,
    out: &mut impl Write,
) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let rows: Vec<Result<Option<[String; 6]>, String>> = records
        .par_iter()
        .map(|rec| {
            let it = Item::new(*rec, keys);
            let sk = filter.parse_key(rec.kv.key);
            let (ns, name) = match &sk {
                Some(k) => (k.namespace.unwrap_or("").to_string(), k.name.to_string()),
                None => (String::new(), it.key_str().into_owned()),
            };
            let enc = match &it.encryption {
                Some(e) if it.is_encrypted() => format!("{} key {} (encrypted)", e.provider, e.key),
                Some(e) => format!("{} key {} → {}", e.provider, e.key, it.encoding),
                None => it.encoding.to_string(),
            };
            let (kind, created) = match it.object() {
                Ok(o) => {
                    if let Some(l) = &filter.labels {
                        if !l.matches(&o) {
                            return Ok(None);
                        }
                    }
                    (
                        o.get("kind").and_then(J::as_str).unwrap_or("").to_string(),
                        o.pointer("/metadata/creationTimestamp")
                            .and_then(J::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )
                }
                Err(_) if it.is_encrypted() => ("?".into(), "?".into()),
                Err(e) => return Err(format!("{}: {e}", it.key_str())),
            };
            Ok(Some([
                ns,
                name,
                kind,
                created,
                rec.kv.mod_revision.to_string(),
                enc,
            ]))
        })
        .collect();
    let mut shown = Vec::new();
    for r in rows {
        match r {
            Ok(Some(row)) => shown.push(row),
            Ok(None) => {}
            Err(e) => {
                eprintln!("etcdsnap: {e}");
                t.failed += 1;
            }
        }
    }
    let head = [
        "NAMESPACE",
        "NAME",
        "KIND",
        "CREATED",
        "REVISION",
        "ENCODING",
    ];
    let mut w = [0usize; 6];
    for row in shown
        .iter()
        .map(|r| r.each_ref().map(|s| s.as_str()))
        .chain([head])
    {
        for (i, c) in row.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |row: [&str; 6]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<width$}   ", width = w[i]));
            }
        }
        s
    };
    writeln!(out, "{}", line(head))?;
    for row in &shown {
        writeln!(out, "{}", line(row.each_ref().map(|s| s.as_str())))?;
    }
    t.shown = shown.len();
    Ok(t)
}
