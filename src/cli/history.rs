//! `etcdsnap history`: every revision of one key still held.

use etcdsnap::forensics::history::{matching_keys, History, HistoryOptions};

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
    let opened = super::session::open(
        &a.input.input,
        &a.keys.keys,
        super::session::Read::Replayed {
            salvage: a.salvage.salvage,
            history: true,
            no_wal: a.input.no_wal,
        },
    )?;
    let (store, sv) = (&opened.session.store, opened.salvage.as_ref());
    let key = target_key(&a, store)?;
    if key.is_empty() {
        return Ok(1);
    }
    let json = a.out_fmt.output == super::Format::Json;
    let h = History::new(
        store,
        &key,
        opened.session.keys.as_ref(),
        sv,
        HistoryOptions {
            decode: json,
            show_key_material: a.show_key_material,
        },
    );
    if json {
        super::print_json(&etcdsnap::machine_output::HISTORY.document(&h))?;
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
        for r in &h.revisions {
            let e = &r.entry;
            let src = r.source.map(|s| format!("{s:<10} ")).unwrap_or_default();
            println!(
                "{:>8} {:>4} {:<7} {:>8} {:>8} {:>10} {:>9}  {src}{enc}",
                e.revision,
                e.sub,
                e.op,
                e.create_revision,
                e.mod_revision,
                e.lease,
                e.size,
                enc = etcdsnap::escape::controls(&r.storage())
            );
        }
        if let Some(note) = h.compaction_note() {
            println!("{note}");
        }
    }
    if h.revisions.is_empty() {
        eprintln!(
            "etcdsnap: no revision of {} is held",
            etcdsnap::escape::controls(&key)
        );
        return Ok(1);
    }
    Ok(super::salvage::exit(0, sv))
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
    let keys = matching_keys(store, &filter);
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
