//! `etcdsnap decode` and `etcdsnap encode`: one stored value to its object
//! and back (the exact bytes the apiserver writes).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use etcdsnap::kube;
use etcdsnap::query::sort_keys;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjFormat {
    Yaml,
    Json,
}

#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The stored value (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// The etcd key the value was stored under (needed to decrypt: it picks
    /// the key set and is the AES-GCM associated data).
    #[arg(long)]
    pub key: Option<String>,
    #[command(flatten)]
    pub keys: super::KeysArg,
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: ObjFormat,
}

#[derive(clap::Args)]
pub struct EncodeArgs {
    /// A YAML or JSON object (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// Where to write the stored bytes (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stream mode for generators: one JSON object per input line; each
    /// stored value is written as a 4-byte big-endian length and the bytes,
    /// flushed per object.
    #[arg(long, conflicts_with = "out")]
    pub jsonl: bool,
}

/// The most bytes `decode`/`encode` read (etcd's own request limit is
/// 1.5 MiB by default).
const MAX_INPUT: u64 = 64 << 20;

fn read_input(file: &Option<PathBuf>) -> anyhow::Result<Vec<u8>> {
    use etcdsnap::input::{read_file_whole, read_whole};
    Ok(match file {
        Some(p) if p.as_os_str() != "-" => {
            read_file_whole(p, MAX_INPUT).with_context(|| p.display().to_string())?
        }
        _ => read_whole(std::io::stdin().lock(), MAX_INPUT).context("standard input")?,
    })
}

pub fn decode(a: DecodeArgs) -> anyhow::Result<i32> {
    let bytes = read_input(&a.file)?;
    let key = a.key.clone().unwrap_or_default();
    let mut plain = bytes.clone();
    if bytes.starts_with(b"k8s:enc:") {
        if a.keys.keys.is_empty() {
            bail!(
                "the value is encrypted ({}): give --keys and --key",
                describe(&bytes)
            );
        }
        let mut ring = etcdsnap::crypt::KeyRing::new();
        for k in &a.keys.keys {
            ring.load_path(k)
                .with_context(|| format!("--keys {}", k.display()))?;
        }
        plain = ring.decrypt(key.as_bytes(), &bytes)?.plaintext.into_owned();
    }
    let mut obj = kube::decode_value(key.as_bytes(), &plain).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    match a.output {
        ObjFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&obj)?)?,
        ObjFormat::Yaml => {
            sort_keys(&mut obj);
            write!(out, "{}", serde_saphyr::to_string(&obj)?)?
        }
    }
    Ok(0)
}

fn describe(v: &[u8]) -> String {
    match kube::detect(v) {
        kube::Encoding::Encrypted(e) => format!("{} key {}", e.provider.as_str(), e.key_name_str()),
        _ => "unknown".into(),
    }
}

/// The bytes the apiserver stores for `obj`.
fn stored(obj: &serde_json::Value) -> anyhow::Result<Vec<u8>> {
    let kind = obj.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let av = obj.get("apiVersion").and_then(|k| k.as_str()).unwrap_or("");
    if kind.is_empty() || av.is_empty() {
        bail!("the object needs apiVersion and kind");
    }
    // Built-in types are stored as protobuf; others (custom resources) as
    // the JSON the apiserver writes.
    Ok(if kube::schema::schema().kind(av, kind).is_some() {
        kube::encode::encode_object(obj).map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        let mut v = serde_json::to_vec(obj)?;
        v.push(b'\n');
        v
    })
}

fn encode_lines() -> anyhow::Result<i32> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let obj: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("line {}: not JSON", n + 1))?;
        let b = stored(&obj).with_context(|| format!("line {}", n + 1))?;
        out.write_all(&(b.len() as u32).to_be_bytes())?;
        out.write_all(&b)?;
        out.flush()?;
    }
    Ok(0)
}

pub fn encode(a: EncodeArgs) -> anyhow::Result<i32> {
    if a.jsonl {
        return encode_lines();
    }
    let bytes = read_input(&a.file)?;
    let text = std::str::from_utf8(&bytes).context("the object is not UTF-8 text")?;
    let obj: serde_json::Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).context("not a JSON object")?
    } else {
        serde_saphyr::from_str(text).context("not a YAML object")?
    };
    let stored = stored(&obj)?;
    match &a.out {
        Some(p) => {
            let mut f = etcdsnap::private_files::create_new_0600(p)
                .with_context(|| p.display().to_string())?;
            f.write_all(&stored)?;
        }
        None => std::io::stdout().lock().write_all(&stored)?,
    }
    Ok(0)
}
