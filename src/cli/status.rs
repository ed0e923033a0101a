//! `etcdsnap status`.

use std::path::Path;

use anyhow::Context;
use etcdsnap::etcd::{status, Snapshot};

use super::Format;

pub fn run(input: &Path, output: Format, detail: bool) -> anyhow::Result<i32> {
    let input = super::resolve(input)?;
    let snap = Snapshot::open(&input.db)?;
    let d = status::detail(&snap)
        .with_context(|| "run `etcdsnap verify` for the full report".to_string())?;
    if output == Format::Json {
        // The four fields etcdctl prints come first, in its order (the
        // struct's field order), then the format's name and version.
        let doc = etcdsnap::machine_output::STATUS.document_after(&d, 4)?;
        println!("{}", serde_json::to_string(&doc)?);
        return Ok(0);
    }
    if output == Format::Table && !detail {
        print!("{}", etcd_table(&d.status));
        for w in &d.warnings {
            eprintln!("etcdsnap: warning: {w}");
        }
        return Ok(0);
    }
    let s = &d.status;
    let ps = u64::from(d.page_size);
    let row = |k: &str, v: String| println!("{k:<22} {v}");
    row(
        "file",
        format!(
            "{} ({} bytes{})",
            snap.display(),
            d.file_size,
            if d.trailer {
                ", SHA-256 trailer present"
            } else {
                ", no trailer: raw bbolt file"
            }
        ),
    );
    row("hash", format!("{:x} ({})", s.hash, s.hash));
    row("revision", s.revision.to_string());
    row("total keys", s.total_key.to_string());
    row(
        "total size",
        format!("{} ({})", s.total_size, human(s.total_size)),
    );
    row("page size", d.page_size.to_string());
    row(
        "in use",
        format!(
            "{} pages, {} ({:.1}%)",
            d.pages_in_use,
            human(d.bytes_in_use),
            pct(d.pages_in_use, d.pages)
        ),
    );
    row(
        "free",
        format!(
            "{} pages, {} ({:.1}%) — a defrag reclaims at least this (`etcdsnap stats` sizes it)",
            d.pages_free,
            human(d.bytes_free),
            pct(d.pages_free, d.pages)
        ),
    );
    let _ = ps;
    row("txid", d.txid.to_string());
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    row(
        "consistent index",
        opt(d.meta.consistent_index.map(|x| x.to_string())),
    );
    row("term", opt(d.meta.term.map(|x| x.to_string())));
    row(
        "compacted revision",
        opt(d.meta.finished_compact_revision.map(|x| x.to_string())),
    );
    row(
        "scheduled compaction",
        opt(d.meta.scheduled_compact_revision.map(|x| x.to_string())),
    );
    row("cluster version", opt(d.cluster_version.clone()));
    row("storage version", opt(d.meta.storage_version.clone()));
    println!();
    println!("{:<18} {:<12} PEER URLS", "MEMBER ID", "NAME");
    for m in &d.members {
        println!(
            "{:<18} {:<12} {}",
            m.hex_id(),
            m.name,
            m.peer_urls.join(",")
        );
    }
    println!();
    println!(
        "{:<18} {:>10} {:>8} {:>6} {:>14}",
        "BUCKET", "KEYS", "PAGES", "DEPTH", "BYTES"
    );
    for b in &d.buckets {
        println!(
            "{:<18} {:>10} {:>8} {:>6} {:>14}",
            b.name, b.keys, b.pages, b.depth, b.kv_bytes
        );
    }
    for w in &d.warnings {
        eprintln!("etcdsnap: warning: {w}");
    }
    Ok(0)
}

/// The table `etcdutl snapshot status -w table` (and etcdctl 3.4's)
/// prints, byte for byte: Go tablewriter's borders, centred headers,
/// right-aligned cells, and the size as go-humanize's `Bytes` writes it.
pub(crate) fn etcd_table(s: &etcdsnap::etcd::Status) -> String {
    let head = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"];
    let row = [
        format!("{:x}", s.hash),
        s.revision.to_string(),
        s.total_key.to_string(),
        go_humanize_bytes(s.total_size),
    ];
    let w: Vec<usize> = head
        .iter()
        .zip(&row)
        .map(|(h, c)| h.len().max(c.chars().count()))
        .collect();
    let border: String = w.iter().fold(String::from("+"), |mut b, n| {
        b.push_str(&"-".repeat(n + 2));
        b.push('+');
        b
    });
    let mut out = String::new();
    out.push_str(&border);
    out.push('\n');
    out.push('|');
    for (h, n) in head.iter().zip(&w) {
        let gap = n - h.len();
        let left = gap / 2;
        out.push_str(&format!(
            " {}{h}{} |",
            " ".repeat(left),
            " ".repeat(gap - left)
        ));
    }
    out.push('\n');
    out.push_str(&border);
    out.push('\n');
    out.push('|');
    for (c, n) in row.iter().zip(&w) {
        out.push_str(&format!(" {c:>n$} |"));
    }
    out.push('\n');
    out.push_str(&border);
    out.push('\n');
    out
}

/// go-humanize's `Bytes`: SI units, one decimal below 10.
fn go_humanize_bytes(n: u64) -> String {
    if n < 10 {
        return format!("{n} B");
    }
    let sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let e = ((n as f64).ln() / 1000f64.ln()).floor();
    let e = (e as usize).min(sizes.len() - 1);
    let val = ((n as f64) / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {}", sizes[e])
    } else {
        format!("{val:.0} {}", sizes[e])
    }
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

pub(crate) fn human(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}
