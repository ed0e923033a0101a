//! `etcdsnap diff` and `etcdsnap stats`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use etcdsnap::etcd::Snapshot;
use etcdsnap::forensics::diff::{
    diff_states, json_diff, FieldChange, PathPattern, DEFAULT_IGNORES,
};
use etcdsnap::forensics::stats::{collect, Place};
use etcdsnap::mvcc::{Record, Store};
use etcdsnap::query::{Filter, Item};
use rayon::prelude::*;
use serde::Serialize;

use super::get::SelectArgs;
use super::{InputArg, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The older input (snapshot file, data dir or backup dir).
    pub a: PathBuf,
    /// The newer input; leave out with --from-rev/--to-rev to compare two
    /// revisions of A.
    pub b: Option<PathBuf>,
    /// Compare A at this revision...
    #[arg(long, requires = "to_rev")]
    pub from_rev: Option<i64>,
    /// ...with A (or B) at this one.
    #[arg(long)]
    pub to_rev: Option<i64>,
    /// Resource type as kubectl names it.
    #[arg(long)]
    pub resource: Option<String>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Hide changes under this path (repeatable), e.g. `status` or
    /// `metadata.annotations`.
    #[arg(long)]
    pub ignore: Vec<String>,
    /// Also show metadata.resourceVersion and metadata.managedFields.
    #[arg(long)]
    pub show_noisy: bool,
    #[command(flatten)]
    pub keys: KeysArg,
    #[command(flatten)]
    pub out_fmt: OutputArg,
}

#[derive(Serialize)]
struct Changed {
    key: String,
    resource: String,
    namespace: String,
    name: String,
    old_revision: i64,
    new_revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    fields: Vec<FieldChange>,
}

#[derive(Serialize)]
struct Entry {
    key: String,
    resource: String,
    namespace: String,
    name: String,
    revision: i64,
}

fn place(f: &Filter, k: &[u8]) -> (String, String, String) {
    match f.parse_key(k) {
        Some(sk) => {
            let res = match sk.group {
                Some(g) if !g.is_empty() => format!("{}.{g}", sk.resource),
                _ => sk.resource.to_string(),
            };
            (
                res,
                sk.namespace.unwrap_or("").to_string(),
                sk.name.to_string(),
            )
        }
        None => (
            "(etcd)".into(),
            String::new(),
            String::from_utf8_lossy(k).into_owned(),
        ),
    }
}

fn entry(f: &Filter, r: &Record<'_>) -> Entry {
    let (resource, namespace, name) = place(f, r.kv.key);
    Entry {
        key: String::from_utf8_lossy(r.kv.key).into_owned(),
        resource,
        namespace,
        name,
        revision: r.kv.mod_revision,
    }
}

pub fn diff(a: DiffArgs) -> anyhow::Result<i32> {
    let filter = a.select.filter(a.resource.as_deref(), None)?;
    let mut ignore: Vec<PathPattern> = a.ignore.iter().map(|p| PathPattern::parse(p)).collect();
    if !a.show_noisy {
        ignore.extend(DEFAULT_IGNORES.iter().map(|p| PathPattern::parse(p)));
    }
    let ia = super::resolve(&a.a)?;
    let progress = super::progress::Progress::spinner(
        "reading both states",
        super::progress::size(&ia.db) + ib_size(a.b.as_deref()),
    );
    let sa = Snapshot::open(&ia.db)?;
    let ib = match &a.b {
        Some(b) => Some(super::resolve(b)?),
        None => None,
    };
    let sb = match &ib {
        Some(i) => Some(Snapshot::open(&i.db)?),
        None => None,
    };
    if sb.is_none() && (a.from_rev.is_none() || a.to_rev.is_none()) {
        bail!("give two inputs, or one with --from-rev and --to-rev");
    }
    let (store_a, store_b) = match &sb {
        Some(sb) => {
            let (x, y) = rayon::join(|| Store::open(&sa), || Store::open(sb));
            (x?, Some(y?))
        }
        None => (Store::open(&sa)?, None),
    };
    let keys_a = super::load_keys(&ia, &a.keys.keys, &store_a)?;
    let keys_b = match (&ib, &store_b) {
        (Some(i), Some(s)) => super::load_keys(i, &a.keys.keys, s)?,
        _ => None,
    };
    let new_store = store_b.as_ref().unwrap_or(&store_a);
    let keys_new = if store_b.is_some() {
        keys_b.as_ref()
    } else {
        keys_a.as_ref()
    };
    let old = store_a.state_at(a.from_rev, |k| filter.key_matches(k))?;
    let new = new_store.state_at(a.to_rev, |k| filter.key_matches(k))?;
    let d = diff_states(&old, &new);
    progress.set_message("comparing changed objects");

    // Field-level differences of the changed objects, in parallel.
    let changed: Vec<Changed> = d
        .changed
        .par_iter()
        .filter_map(|(o, n)| {
            let (io, inew) = (Item::new(*o, keys_a.as_ref()), Item::new(*n, keys_new));
            let (resource, namespace, name) = place(&filter, n.kv.key);
            let (fields, note) = match (io.object(), inew.object()) {
                (Ok(x), Ok(y)) => (json_diff(&x, &y, &ignore), None),
                (x, y) => {
                    let why = x.err().or(y.err()).unwrap_or_default();
                    let note = if io.is_encrypted() || inew.is_encrypted() {
                        format!("compared as ciphertext: the stored bytes differ ({why})")
                    } else {
                        format!("stored bytes differ; not decoded: {why}")
                    };
                    (Vec::new(), Some(note))
                }
            };
            if fields.is_empty() && note.is_none() {
                return None; // only ignored paths changed
            }
            Some(Changed {
                key: String::from_utf8_lossy(n.kv.key).into_owned(),
                resource,
                namespace,
                name,
                old_revision: o.kv.mod_revision,
                new_revision: n.kv.mod_revision,
                note,
                fields,
            })
        })
        .collect();
    progress.finish();
    let added: Vec<Entry> = d.added.iter().map(|r| entry(&filter, r)).collect();
    let removed: Vec<Entry> = d.removed.iter().map(|r| entry(&filter, r)).collect();
    let summary = format!(
        "{} added, {} removed, {} changed, {} unchanged",
        added.len(),
        removed.len(),
        changed.len(),
        d.unchanged + (d.changed.len() - changed.len())
    );
    let different = !(added.is_empty() && removed.is_empty() && changed.is_empty());
    if a.out_fmt.output == super::Format::Json {
        super::print_json(&serde_json::json!({
            "summary": summary,
            "added": added,
            "removed": removed,
            "changed": changed,
        }))?;
    } else {
        println!("{summary}");
        // Grouped by resource and namespace.
        let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for e in &added {
            groups
                .entry((e.resource.clone(), e.namespace.clone()))
                .or_default()
                .push(format!("+ {} (revision {})", e.name, e.revision));
        }
        for e in &removed {
            groups
                .entry((e.resource.clone(), e.namespace.clone()))
                .or_default()
                .push(format!("- {} (was at revision {})", e.name, e.revision));
        }
        for c in &changed {
            let mut s = format!(
                "~ {} (revision {} → {})",
                c.name, c.old_revision, c.new_revision
            );
            if let Some(n) = &c.note {
                s.push_str(&format!("\n    {n}"));
            }
            for f in &c.fields {
                let show = |v: &Option<serde_json::Value>| match v {
                    Some(v) => {
                        let t = v.to_string();
                        if t.len() > 120 {
                            format!(
                                "{}…",
                                &t[..t.char_indices().nth(117).map(|x| x.0).unwrap_or(t.len())]
                            )
                        } else {
                            t
                        }
                    }
                    None => String::new(),
                };
                s.push_str(&match f.sign() {
                    '+' => format!("\n    + {}: {}", f.path, show(&f.new)),
                    '-' => format!("\n    - {}: {}", f.path, show(&f.old)),
                    _ => format!("\n    ~ {}: {} → {}", f.path, show(&f.old), show(&f.new)),
                });
            }
            groups
                .entry((c.resource.clone(), c.namespace.clone()))
                .or_default()
                .push(s);
        }
        for ((res, ns), lines) in &groups {
            println!();
            if ns.is_empty() {
                println!("{res}:");
            } else {
                println!("{res} in {ns}:");
            }
            for l in lines {
                println!("  {l}");
            }
        }
    }
    Ok(if different { 1 } else { 0 })
}

#[derive(clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// How many of the largest objects to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub out_fmt: OutputArg,
}

pub fn stats(a: StatsArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let progress = super::progress::Progress::spinner(
        "reading every revision",
        super::progress::size(&input.db),
    );
    let snap = Snapshot::open(&input.db)?;
    let (detail, store) = rayon::join(
        || etcdsnap::etcd::status::detail(&snap),
        || Store::open(&snap),
    );
    let (detail, store) = (detail?, store?);
    let f = Filter::default();
    let s = collect(
        &store,
        a.top,
        |k| {
            let (resource, namespace, _) = place(&f, k);
            Place {
                resource,
                namespace,
            }
        },
        |v| match etcdsnap::kube::detect(v) {
            etcdsnap::kube::Encoding::Encrypted(e) => e.provider.as_str().to_string(),
            _ => "identity".into(),
        },
    );
    progress.finish();
    let ps = u64::from(detail.page_size);
    if a.out_fmt.output == super::Format::Json {
        super::print_json(&serde_json::json!({
            "database": {
                "total_size": detail.status.total_size,
                "file_size": detail.file_size,
                "bytes_in_use": detail.bytes_in_use,
                "bytes_free": detail.bytes_free,
                "free_pages": detail.pages_free,
                "total_key": detail.status.total_key,
                "revision": detail.status.revision,
                "compacted_revision": s.compacted_revision,
                "scheduled_compact_revision": detail.meta.scheduled_compact_revision,
                "oldest_revision": s.oldest_revision,
                "revisions_held": s.revisions,
                "live_objects": s.live_objects,
            },
            "resources": s.resources,
            "largest": s.largest,
            "namespaces": s.namespaces,
        }))?;
        return Ok(0);
    }
    let h = super::status::human;
    println!("DATABASE");
    println!(
        "  total size        {} ({} pages of {ps})",
        h(detail.status.total_size),
        detail.pages
    );
    println!("  in use            {}", h(detail.bytes_in_use));
    println!(
        "  free              {} ({} pages: what a defrag reclaims)",
        h(detail.bytes_free),
        detail.pages_free
    );
    println!("  keys (all buckets) {}", detail.status.total_key);
    println!(
        "  revision          {} (oldest held {}, compacted at {})",
        s.current_revision,
        s.oldest_revision
            .map(|r| r.to_string())
            .unwrap_or("-".into()),
        s.compacted_revision
            .map(|r| r.to_string())
            .unwrap_or("never".into())
    );
    println!(
        "  revisions held    {} for {} live objects",
        s.revisions, s.live_objects
    );
    println!();
    println!(
        "{:<44} {:>8} {:>11} {:>10} {:>9} {:>11}  ENCRYPTION",
        "RESOURCE", "OBJECTS", "BYTES", "LARGEST", "REVS", "HISTORY"
    );
    for r in &s.resources {
        let enc: Vec<String> = r
            .encryption
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        println!(
            "{:<44} {:>8} {:>11} {:>10} {:>9} {:>11}  {}",
            r.resource,
            r.objects,
            h(r.bytes),
            h(r.largest),
            r.revisions,
            h(r.history_bytes),
            enc.join(", ")
        );
    }
    println!();
    println!("LARGEST OBJECTS");
    for o in &s.largest {
        println!(
            "  {:>10}  {} (revision {})",
            h(o.bytes),
            o.key,
            o.mod_revision
        );
    }
    println!();
    println!("NAMESPACES BY SIZE");
    for n in s.namespaces.iter().take(a.top) {
        println!(
            "  {:>10}  {:>7} objects  {}",
            h(n.bytes),
            n.objects,
            n.namespace
        );
    }
    Ok(0)
}

/// The size of diff's second input, when it is a file.
fn ib_size(b: Option<&std::path::Path>) -> u64 {
    b.map(super::progress::size).unwrap_or(0)
}
