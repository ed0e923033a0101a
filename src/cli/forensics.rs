//! `etcdsnap diff` and `etcdsnap stats`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use etcdsnap::escape::controls as esc;
use etcdsnap::etcd::Snapshot;
use etcdsnap::forensics::diff::{PathPattern, DEFAULT_IGNORES};
use etcdsnap::forensics::diff_report::{diff_report, place, DiffOptions, DiffReport};
use etcdsnap::forensics::stats::{collect, Place, StatsReport};
use etcdsnap::query::Filter;
use etcdsnap::session::Session;

use super::get::SelectArgs;
use super::{InputArg, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The older input (snapshot file, data dir or backup dir).
    pub a: PathBuf,
    /// The newer input B (leave out with --from-rev/--to-rev to compare
    /// two revisions of A), then RESOURCE [NAME] as `get` takes them
    /// (`TYPE/NAME` too). An argument that names an existing file or
    /// directory is B.
    #[arg(value_name = "B|RESOURCE")]
    pub rest: Vec<String>,
    /// For an etcd data dir: read the db alone, without the WAL entries a
    /// restarted etcd would apply on top of it.
    #[arg(long = "no-wal")]
    pub no_wal: bool,
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
    /// Show Secret values as SHA-256 digests (a changed value shows as a
    /// changed digest).
    #[arg(long)]
    pub redact: bool,
    /// Show the Secrets that hold encryption keys (digests by default).
    #[arg(long)]
    pub show_key_material: bool,
    #[command(flatten)]
    pub keys: KeysArg,
    #[command(flatten)]
    pub out_fmt: OutputArg,
    /// Read both inputs with --salvage (see `ls --salvage`).
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

pub fn diff(mut a: DiffArgs) -> anyhow::Result<i32> {
    let mut rest = std::mem::take(&mut a.rest).into_iter().peekable();
    let b: Option<PathBuf> = rest
        .next_if(|r| std::path::Path::new(r).exists())
        .map(PathBuf::from);
    let positional: Vec<String> = rest.collect();
    if let Some(p) = positional.first() {
        if b.is_none() && (p.starts_with('.') || p.starts_with('/') || p.ends_with(".db")) {
            bail!("{p}: no such file or directory");
        }
    }
    if positional.len() > 2 {
        bail!("diff takes A [B] [RESOURCE [NAME]]; {positional:?} is too many");
    }
    let mut resource = positional.first().cloned();
    if let Some(r) = &a.resource {
        if resource.is_some() {
            bail!("give RESOURCE once: positionally or with --resource");
        }
        resource = Some(r.clone());
    }
    let (resource, name) =
        super::get::type_name(resource.as_deref(), positional.get(1).map(String::as_str))?;
    let filter = a.select.filter(resource.as_deref(), name.as_deref())?;
    let mut ignore: Vec<PathPattern> = a.ignore.iter().map(|p| PathPattern::parse(p)).collect();
    if !a.show_noisy {
        ignore.extend(DEFAULT_IGNORES.iter().map(|p| PathPattern::parse(p)));
    }
    let ia = super::resolve(&a.a)?;
    let progress = super::progress::Progress::spinner(
        "reading both states",
        super::progress::size(&ia.db) + ib_size(b.as_deref()),
    );
    let salvage = a.salvage.salvage;
    let sa = super::salvage::open(&ia.db, salvage)?;
    let ib = match &b {
        Some(b) => Some(super::resolve(b)?),
        None => None,
    };
    let sb = match &ib {
        Some(i) => Some(super::salvage::open(&i.db, salvage)?),
        None => None,
    };
    if sb.is_none() && (a.from_rev.is_none() || a.to_rev.is_none()) {
        bail!("give two inputs, or one with --from-rev and --to-rev");
    }
    let sva = super::salvage::run(&sa, salvage);
    let svb = sb.as_ref().and_then(|s| super::salvage::run(s, salvage));
    let (mut wal_a, mut wal_b) = (None, None);
    let (store_a, store_b) = match (&sb, &ib) {
        (Some(sb), Some(ib)) => {
            let (x, y) = rayon::join(
                || {
                    super::salvage::store_or_replay(
                        &ia,
                        &sa,
                        sva.as_ref(),
                        a.from_rev.is_some(),
                        a.no_wal,
                        &mut wal_a,
                    )
                },
                || {
                    super::salvage::store_or_replay(
                        ib,
                        sb,
                        svb.as_ref(),
                        a.to_rev.is_some(),
                        a.no_wal,
                        &mut wal_b,
                    )
                },
            );
            (x?, Some(y?))
        }
        _ => (
            super::salvage::store_or_replay(
                &ia,
                &sa,
                sva.as_ref(),
                a.from_rev.is_some(),
                a.no_wal,
                &mut wal_a,
            )?,
            None,
        ),
    };
    // The key rings through the library session; resolve printed the
    // inputs' notes already.
    let session = |mut input: etcdsnap::input::Input, store| -> anyhow::Result<Session<'_>> {
        input.notes.clear();
        let s = Session::with_store(input, store, &a.keys.keys, super::pair())?;
        super::print_notes(&s.notes);
        Ok(s)
    };
    let session_a = session(ia, store_a)?;
    let session_b = match (ib, store_b) {
        (Some(i), Some(s)) => Some(session(i, s)?),
        _ => None,
    };
    let (store_a, keys_a) = (&session_a.store, session_a.keys.as_ref());
    let new = session_b.as_ref().unwrap_or(&session_a);
    let (new_store, keys_new) = (&new.store, new.keys.as_ref());
    let old = store_a.state_at(a.from_rev, |k| filter.key_matches(k))?;
    let new = new_store.state_at(a.to_rev, |k| filter.key_matches(k))?;
    let redaction = etcdsnap::redact::Redaction::new(a.redact, a.show_key_material);
    progress.set_message("comparing changed objects");
    let opts = DiffOptions {
        filter: &filter,
        ignore: &ignore,
        redaction,
    };
    let report = diff_report(&old, &new, keys_a, keys_new, &opts);
    progress.finish();
    let different = report.is_different();
    if a.out_fmt.output == super::Format::Json {
        super::print_json(&etcdsnap::machine_output::DIFF.document(&report))?;
    } else {
        let DiffReport {
            summary,
            added,
            removed,
            changed,
        } = &report;
        println!("{summary}");
        // Grouped by resource and namespace.
        let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for e in added {
            groups
                .entry((e.resource.clone(), e.namespace.clone()))
                .or_default()
                .push(format!("+ {} (revision {})", esc(&e.name), e.revision));
        }
        for e in removed {
            groups
                .entry((e.resource.clone(), e.namespace.clone()))
                .or_default()
                .push(format!(
                    "- {} (was at revision {})",
                    esc(&e.name),
                    e.revision
                ));
        }
        for c in changed {
            let mut s =
                match &c.recreated {
                    Some((a, b)) => format!(
                    "± {} recreated: deleted and created again (uid {a} → {b}; revision {} → {})",
                    esc(&c.name), c.old_revision, c.new_revision
                ),
                    None => format!(
                        "~ {} (revision {} → {})",
                        esc(&c.name),
                        c.old_revision,
                        c.new_revision
                    ),
                };
            if !c.changed_by.is_empty() {
                let who: Vec<String> = c
                    .changed_by
                    .iter()
                    .map(|m| {
                        let mut w = format!("{} ({}", esc(&m.manager), esc(&m.operation));
                        if !m.subresource.is_empty() {
                            w.push_str(&format!(" {}", esc(&m.subresource)));
                        }
                        if !m.time.is_empty() {
                            w.push_str(&format!(", {}", esc(&m.time)));
                        }
                        w.push(')');
                        w
                    })
                    .collect();
                s.push_str(&format!("\n    changed by {}", who.join(", ")));
            }
            if let Some(n) = &c.note {
                s.push_str(&format!("\n    {}", esc(n)));
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
                let path = esc(&f.path);
                s.push_str(&match f.sign() {
                    '+' => format!("\n    + {path}: {}", show(&f.new)),
                    '-' => format!("\n    - {path}: {}", show(&f.old)),
                    _ => format!("\n    ~ {path}: {} → {}", show(&f.old), show(&f.new)),
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
                println!("{}:", esc(res));
            } else {
                println!("{} in {}:", esc(res), esc(ns));
            }
            for l in lines {
                println!("  {l}");
            }
        }
    }
    let code = if different { 1 } else { 0 };
    Ok(super::salvage::exit(
        super::salvage::exit(code, sva.as_ref()),
        svb.as_ref(),
    ))
}

#[derive(clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArg,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
    /// How many of the largest objects to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub out_fmt: OutputArg,
}

fn salvaged_detail(
    snap: &Snapshot,
    s: &etcdsnap::salvage::Salvage<'_>,
    store: &etcdsnap::mvcc::Store<'_>,
) -> etcdsnap::etcd::StatusDetail {
    let r = &s.report;
    let ps = u64::from(r.page_size);
    let free = r.file_pages.saturating_sub(r.reachable_pages);
    etcdsnap::etcd::StatusDetail {
        status: etcdsnap::etcd::Status {
            hash: 0,
            revision: store.current,
            total_key: store.records().len() as u64,
            total_size: r.file_pages * ps,
        },
        file_size: snap.file_len,
        page_size: r.page_size,
        trailer: snap.trailer.is_some(),
        pages: r.file_pages,
        pages_in_use: r.reachable_pages,
        pages_free: free,
        bytes_in_use: r.reachable_pages * ps,
        bytes_free: free * ps,
        txid: snap.db.meta().txid,
        meta: s.meta.clone(),
        members: Vec::new(),
        cluster_version: None,
        buckets: Vec::new(),
        warnings: vec!["salvaged: numbers from the page scan".into()],
    }
}

pub fn stats(a: StatsArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let progress = super::progress::Progress::spinner(
        "reading every revision",
        super::progress::size(&input.db),
    );
    let snap = super::salvage::open(&input.db, a.salvage.salvage)?;
    let sv = super::salvage::run(&snap, a.salvage.salvage);
    let mut wal = None;
    let ((detail, defrag_size), store) = rayon::join(
        || {
            (
                etcdsnap::etcd::status::detail(&snap),
                etcdsnap::restore::defrag::defrag_size(&snap),
            )
        },
        || {
            super::salvage::store_or_replay(
                &input,
                &snap,
                sv.as_ref(),
                false,
                a.input.no_wal,
                &mut wal,
            )
        },
    );
    let store = store?;
    let detail = match (detail, &sv) {
        (Ok(d), _) => d,
        // A damaged tree has no exact status: the page numbers come from
        // the salvage scan (hash 0: not computable).
        (Err(e), Some(s)) => {
            eprintln!("etcdsnap: salvage: database numbers from the page scan ({e})");
            salvaged_detail(&snap, s, &store)
        }
        (Err(e), None) => return Err(e.into()),
    };
    // What the compact rewrite saves: the bbolt bytes now, less what
    // `defrag` would write (free pages, and half-empty pages refilled).
    // A damaged tree cannot be rewritten: no estimate then.
    let defrag_size = match defrag_size {
        Ok(size) => size,
        Err(_) if sv.is_some() => detail.status.total_size,
        Err(e) => return Err(e.into()),
    };
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
    let r = StatsReport::new(&detail, defrag_size, s);
    if a.out_fmt.output == super::Format::Json {
        super::print_json(&etcdsnap::machine_output::STATS.document(&r))?;
        return Ok(super::salvage::exit(0, sv.as_ref()));
    }
    let d = &r.database;
    let ps = u64::from(r.page_size);
    let h = super::status::human;
    println!("DATABASE");
    println!(
        "  total size        {} ({} pages of {ps})",
        h(d.total_size),
        r.pages
    );
    println!("  in use            {}", h(d.bytes_in_use));
    println!(
        "  free              {} ({} pages)",
        h(d.bytes_free),
        d.free_pages
    );
    println!(
        "  defrag reclaims   {} (rewritten compactly: {}; `etcdsnap defrag`)",
        h(d.defrag_reclaims),
        h(d.defrag_size)
    );
    println!("  keys (all buckets) {}", d.total_key);
    println!(
        "  revision          {} (oldest held {}, compacted at {})",
        r.current_revision,
        d.oldest_revision
            .map(|r| r.to_string())
            .unwrap_or("-".into()),
        d.compacted_revision
            .map(|r| r.to_string())
            .unwrap_or("never".into())
    );
    println!(
        "  revisions held    {} for {} live objects",
        d.revisions_held, d.live_objects
    );
    println!();
    let w = r
        .resources
        .iter()
        .map(|r| r.resource.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    println!(
        "{:<w$} {:>8} {:>11} {:>10} {:>9} {:>11}  ENCRYPTION",
        "RESOURCE", "OBJECTS", "BYTES", "LARGEST", "REVS", "HISTORY"
    );
    for x in &r.resources {
        let enc: Vec<String> = x
            .encryption
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        println!(
            "{:<w$} {:>8} {:>11} {:>10} {:>9} {:>11}  {}",
            esc(&x.resource),
            x.objects,
            h(x.bytes),
            h(x.largest),
            x.revisions,
            h(x.history_bytes),
            enc.join(", ")
        );
    }
    println!();
    println!("LARGEST OBJECTS");
    for o in &r.largest {
        println!(
            "  {:>10}  {} (revision {})",
            h(o.bytes),
            esc(&o.key),
            o.mod_revision
        );
    }
    println!();
    println!("NAMESPACES BY SIZE");
    for n in r.namespaces.iter().take(a.top) {
        println!(
            "  {:>10}  {:>7} objects  {}",
            h(n.bytes),
            n.objects,
            esc(&n.namespace)
        );
    }
    Ok(super::salvage::exit(0, sv.as_ref()))
}

/// The size of diff's second input, when it is a file.
fn ib_size(b: Option<&std::path::Path>) -> u64 {
    b.map(super::progress::size).unwrap_or(0)
}
