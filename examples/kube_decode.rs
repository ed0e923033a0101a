//! Decodes one stored value (a file holding the raw etcd value bytes) and
//! prints the Kubernetes JSON. Used to measure startup cost:
//! `cargo run --release --example kube_decode -- FILE`.

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: kube_decode FILE");
        std::process::exit(2)
    });
    let value = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    match etcdsnap::kube::decode_value(b"", &value) {
        Ok(v) => {
            use std::io::Write as _;
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1)
        }
    }
}
