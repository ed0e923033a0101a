//! `etcdsnap history`: every revision of one key still held.

use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::HistoryEntry;
use etcdsnap::query::Item;

use super::{InputArg, KeysArg, OutputArg};

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub input: InputArg,
    /// The etcd key, e.g. /registry/secrets/default/db.
    pub key: String,
    #[command(flatten)]
    pub keys: KeysArg,
    #[command(flatten)]
    pub out_fmt: OutputArg,
}

pub fn run(a: HistoryArgs) -> anyhow::Result<i32> {
    let input = super::resolve(&a.input.input)?;
    let snap = Snapshot::open(&input.db)?;
    let mut wal = None;
    let store = super::open_store(&input, &snap, a.input.no_wal, &mut wal)?;
    let keys = super::load_keys(&input, &a.keys.keys, &store)?;
    let h = store.history(a.key.as_bytes());
    if a.out_fmt.output == super::Format::Json {
        let entries: Vec<serde_json::Value> = h
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(HistoryEntry::from_record(r)).unwrap_or_default();
                if !r.is_delete() {
                    let it = Item::new(*r, keys.as_ref());
                    v["encoding"] = it.encoding.into();
                    v["encryption"] = serde_json::to_value(&it.encryption).unwrap_or_default();
                    match it.object() {
                        Ok(o) => v["object"] = o,
                        Err(e) => v["error"] = e.into(),
                    }
                }
                v
            })
            .collect();
        super::print_json(&serde_json::json!({
            "key": a.key,
            "compacted_revision": store.compacted,
            "current_revision": store.current,
            "revisions": entries,
        }))?;
    } else {
        println!(
            "{:>8} {:>4} {:<7} {:>8} {:>8} {:>10} {:>9}  ENCODING",
            "REVISION", "SUB", "OP", "CREATE", "MOD", "LEASE", "SIZE"
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
            println!(
                "{:>8} {:>4} {:<7} {:>8} {:>8} {:>10} {:>9}  {enc}",
                e.revision, e.sub, e.op, e.create_revision, e.mod_revision, e.lease, e.size
            );
        }
        if let Some(c) = store.compacted {
            println!("(revisions before {c} were compacted away)");
        }
    }
    if h.is_empty() {
        eprintln!("etcdsnap: no revision of {} is held", a.key);
        return Ok(1);
    }
    Ok(0)
}
