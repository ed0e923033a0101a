//! `etcdsnap history`: every revision of one key still held.

use etcdsnap::mvcc::HistoryEntry;
use etcdsnap::query::Item;

use super::{InputArg, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// An etcd key (/registry/secrets/default/db), or RESOURCE as `get`
    /// takes it: `secret db -n default`, `secret/db -n default`.
    pub target: String,
    /// Object name (with RESOURCE).
    pub name: Option<String>,
    /// Namespace of the object (with RESOURCE).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub keys: KeysArg,
    /// Show the Secrets that hold encryption keys (digests by default).
    #[arg(long)]
    pub show_key_material: bool,
    #[command(flatten)]
    pub out_fmt: OutputArg,
    #[command(flatten)]
    pub salvage: super::salvage::SalvageArg,
}

pub fn run(a: HistoryArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let snap = super::salvage::open(&input.db, a.salvage.salvage)?;
    let sv = super::salvage::run(&snap, a.salvage.salvage);
    let mut wal = None;
    let store = super::salvage::store_or_replay(
        &input,
        &snap,
        sv.as_ref(),
        true,
        a.input.no_wal,
        &mut wal,
    )?;
    let source = |r: &etcdsnap::mvcc::Record<'_>| sv.as_ref().map(|s| s.source(r).label());
    let keys = super::load_keys(&input, &a.keys.keys, &store)?;
    let key = target_key(&a, &store)?;
    if key.is_empty() {
        return Ok(1);
    }
    let h = store.history(key.as_bytes());
    if a.out_fmt.output == super::Format::Json {
        let entries: Vec<serde_json::Value> = h
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(HistoryEntry::from_record(r)).unwrap_or_default();
                if let Some(s) = source(r) {
                    v["source"] = s.into();
                }
                if !r.is_delete() {
                    let it = Item::new(*r, keys.as_ref());
                    v["encoding"] = it.encoding.into();
                    v["encryption"] = serde_json::to_value(&it.encryption).unwrap_or_default();
                    match it.object() {
                        Ok(mut o) => {
                            etcdsnap::redact::Redaction::new(false, a.show_key_material)
                                .apply(r.kv.key, &mut o);
                            v["object"] = o
                        }
                        Err(e) => v["error"] = e.to_string().into(),
                    }
                }
                v
            })
            .collect();
        super::print_json(&etcdsnap::machine_output::HISTORY.document(&serde_json::json!({
            "key": key,
            "compacted_revision": store.compacted.or(sv.as_ref().and_then(|s| s.meta.finished_compact_revision)),
            "current_revision": store.current,
            "revisions": entries,
        })))?;
    } else {
        println!(
            "{:>8} {:>4} {:<7} {:>8} {:>8} {:>10} {:>9}  {}ENCODING",
            "REVISION",
            "SUB",
            "OP",
            "CREATE",
            "MOD",
            "LEASE",
            "SIZE",
            if sv.is_some() { "SOURCE     " } else { "" }
        );
        for r in &h {
            let e = HistoryEntry::from_record(r);
            let enc = if r.is_delete() {
                String::new()
            } else {
                let it = Item::new(*r, keys.as_ref());
                match &it.encryption {
                    Some(x) => format!("{} key {}", x.provider, x.key),
                    None => it.encoding.to_string(),
                }
            };
            let src = source(r).map(|s| format!("{s:<10} ")).unwrap_or_default();
            println!(
                "{:>8} {:>4} {:<7} {:>8} {:>8} {:>10} {:>9}  {src}{enc}",
                e.revision,
                e.sub,
                e.op,
                e.create_revision,
                e.mod_revision,
                e.lease,
                e.size,
                enc = etcdsnap::escape::controls(&enc)
            );
        }
        if let Some(c) = store.compacted {
            println!("(revisions before {c} were compacted away)");
        } else if let Some(c) = sv.as_ref().and_then(|s| s.meta.finished_compact_revision) {
            println!("(compacted at {c}: older revisions shown come from free pages)");
        }
    }
    if h.is_empty() {
        eprintln!(
            "etcdsnap: no revision of {} is held",
            etcdsnap::escape::controls(&key)
        );
        return Ok(1);
    }
    Ok(super::salvage::exit(0, sv.as_ref()))
}

/// The etcd key named by KEY or by RESOURCE NAME [-n NS]: the one key of
/// any held revision that matches (an object deleted since still has its
/// history).
fn target_key(a: &HistoryArgs, store: &etcdsnap::mvcc::Store<'_>) -> anyhow::Result<String> {
    if a.target.starts_with('/') {
        if a.name.is_some() {
            anyhow::bail!("give an etcd key alone, or RESOURCE NAME");
        }
        return Ok(a.target.clone());
    }
    let (resource, name) = super::get::type_name(Some(&a.target), a.name.as_deref())?;
    let Some(name) = name else {
        anyhow::bail!(
            "history needs one object: RESOURCE NAME (e.g. `secret db-password -n shop`) or an etcd key"
        );
    };
    let select = super::get::SelectArgs {
        namespace: a.namespace.clone(),
        ..Default::default()
    };
    let filter = select.filter(resource.as_deref(), Some(&name))?;
    let keys: std::collections::BTreeSet<&[u8]> = store
        .records()
        .iter()
        .map(|r| r.kv.key)
        .filter(|k| filter.key_matches(k))
        .collect();
    match keys.len() {
        0 => {
            eprintln!(
                "etcdsnap: no revision of {} {} is held",
                etcdsnap::escape::controls(&a.target),
                etcdsnap::escape::controls(&name)
            );
            Ok(String::new())
        }
        1 => Ok(keys
            .first()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default()),
        n => anyhow::bail!(
            "{n} keys match ({}); name the namespace with -n or give the etcd key",
            keys.iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
