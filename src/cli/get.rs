//! `etcdsnap get`: objects as `kubectl get` shows them.

use std::io::Write;

use anyhow::{bail, Context};
use clap::ValueEnum;
use etcdsnap::crypt::KeyRing;
use etcdsnap::mvcc::Record;
use etcdsnap::query::{Filter, Item, LabelSelector};
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
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: GetFormat,
}

/// Counts of what a listing met.
#[derive(Default)]
pub struct Tally {
    pub shown: usize,
    pub failed: usize,
}

pub fn run(a: GetArgs) -> anyhow::Result<i32> {
    let (input, snap) = etcdsnap::session::open_snapshot(&a.input.input)?;
    let session = etcdsnap::session::Session::open(input, &snap, &a.keys.keys)?;
    super::print_notes(&session.notes);
    let (store, keys) = (&session.store, session.keys.as_ref());
    let (resource, name) = type_name(a.resource.as_deref(), a.name.as_deref())?;
    let filter = a.select.filter(resource.as_deref(), name.as_deref())?;
    // `get` lists objects: keys that are not (compact_rev_key, or keys of
    // no Kubernetes layout) only when asked for by --key/--prefix; `ls`
    // shows every key.
    let explicit = a.select.key.is_some() || a.select.prefix.is_some();
    let records = store.state_at(a.select.rev, |k| {
        filter.key_matches(k)
            && (explicit
                || filter
                    .parse_key(k)
                    .is_some_and(|sk| sk.kind != etcdsnap::kube::key::KeyKind::CompactRevKey))
    })?;
    let single = name.is_some() || a.select.key.is_some();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out.lock());
    let t = match a.output {
        GetFormat::Raw => raw(&records, keys, &mut out)?,
        GetFormat::Table => table(&records, keys, &filter, &mut out)?,
        GetFormat::Json | GetFormat::Yaml => {
            let yaml = a.output == GetFormat::Yaml;
            let opts = Render {
                keys,
                filter: &filter,
                redact: a.redact,
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
    finish(&t)
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
    pub redact: bool,
    pub yaml: bool,
}

impl Render<'_> {
    /// Renders one record as a list item into `buf`; `None` when it does
    /// not pass the label selector. Errors name the key. Nothing builds a
    /// `Value` of the object: the selector reads the labels alone, and
    /// redaction happens as the object streams out.
    fn item(&self, r: &Record<'_>, buf: &mut Vec<u8>) -> Result<Option<()>, String> {
        let it = Item::new(*r, self.keys);
        let fail = |e: String| format!("{}: {e}", it.key_str());
        if let Some(l) = &self.filter.labels {
            if !l.matches(&it.labels().map_err(fail)?) {
                return Ok(None);
            }
        }
        it.write_as(buf, self.yaml, self.redact).map_err(fail)?;
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
