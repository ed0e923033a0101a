//! X.509 certificates kept in a backup: in Secrets (`tls.crt`, `ca.crt`,
//! kubeconfigs), ConfigMaps (CA bundles) and the static_kuberesources
//! tarball; when each is valid, and whether it has expired (or expires
//! soon) at a chosen time.
//!
//! Strings are searched for PEM blocks; a string that is base64 of PEM or
//! of a kubeconfig (Secret `data`, kubeconfig `*-data` fields) is decoded
//! and searched in turn. Parsing is x509-parser's. Key material is never
//! read out: only CERTIFICATE blocks are parsed.

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value as J;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use crate::kube::timefmt::rfc3339;

const PEM_CERT: &[u8] = b"-----BEGIN CERTIFICATE-----";
/// How deep base64-in-YAML-in-base64 nesting is followed.
const MAX_DEPTH: usize = 4;
/// Tarball members larger than this are not searched.
const MAX_MEMBER: u64 = 16 << 20;

/// One certificate and where it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cert {
    /// `secrets/NS/NAME data.tls.crt[1]`, `tarball:PATH[0]`, …
    pub source: String,
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    /// Hex, colon-separated, as openssl prints it.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    #[serde(skip)]
    pub not_before_unix: i64,
    #[serde(skip)]
    pub not_after_unix: i64,
    pub is_ca: bool,
}

/// A CERTIFICATE block that did not parse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreadable {
    pub source: String,
    pub error: String,
}

/// Everything found.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Found {
    pub certs: Vec<Cert>,
    pub unreadable: Vec<Unreadable>,
}

impl Found {
    pub fn extend(&mut self, other: Found) {
        self.certs.extend(other.certs);
        self.unreadable.extend(other.unreadable);
    }
}

/// A certificate's state at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Expired,
    /// Expires within the window.
    Expiring,
    NotYetValid,
    Valid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Expired => "expired",
            Status::Expiring => "expiring",
            Status::NotYetValid => "not-yet-valid",
            Status::Valid => "valid",
        }
    }
}

impl Cert {
    /// The state at `at` (Unix seconds), `window` seconds of warning.
    pub fn status(&self, at: i64, window: i64) -> Status {
        if at > self.not_after_unix {
            Status::Expired
        } else if at < self.not_before_unix {
            Status::NotYetValid
        } else if self.not_after_unix - at <= window {
            Status::Expiring
        } else {
            Status::Valid
        }
    }
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("{b:02x?}"),
    }
}

/// Parses every CERTIFICATE block in `text`.
pub(crate) fn in_pem(text: &[u8], source: &str, out: &mut Found) {
    let mut i = 0usize;
    for block in Pem::iter_from_buffer(text) {
        let src = format!("{source}[{i}]");
        let pem = match block {
            Ok(p) => p,
            Err(e) => {
                out.unreadable.push(Unreadable {
                    source: src,
                    error: format!("PEM: {e}"),
                });
                break;
            }
        };
        if pem.label != "CERTIFICATE" {
            continue;
        }
        i += 1;
        match pem.parse_x509() {
            Ok(c) => {
                let mut sans = Vec::new();
                if let Ok(Some(ext)) = c.subject_alternative_name() {
                    for n in &ext.value.general_names {
                        sans.push(match n {
                            GeneralName::DNSName(d) => format!("DNS:{d}"),
                            GeneralName::IPAddress(b) => format!("IP:{}", ip_text(b)),
                            GeneralName::RFC822Name(m) => format!("email:{m}"),
                            GeneralName::URI(u) => format!("URI:{u}"),
                            other => format!("{other}"),
                        });
                    }
                }
                let v = c.validity();
                let (nb, na) = (v.not_before.timestamp(), v.not_after.timestamp());
                out.certs.push(Cert {
                    source: src,
                    subject: c.subject().to_string(),
                    issuer: c.issuer().to_string(),
                    sans,
                    serial: c.raw_serial_as_string(),
                    not_before: rfc3339(nb, None),
                    not_after: rfc3339(na, None),
                    not_before_unix: nb,
                    not_after_unix: na,
                    is_ca: c.is_ca(),
                });
            }
            Err(e) => out.unreadable.push(Unreadable {
                source: src,
                error: format!("X.509: {e}"),
            }),
        }
    }
}

fn looks_base64(s: &str) -> bool {
    s.len() >= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
}

fn kubeconfig_like(t: &[u8]) -> bool {
    memchr::memmem::find(t, b"certificate-authority-data").is_some()
        || memchr::memmem::find(t, b"client-certificate-data").is_some()
}

/// Searches one string (or bytes) for certificates, decoding base64 and
/// kubeconfigs on the way.
fn in_bytes(t: &[u8], source: &str, depth: usize, out: &mut Found) {
    if depth > MAX_DEPTH {
        return;
    }
    if kubeconfig_like(t) {
        if let Ok(v) = serde_saphyr::from_slice::<J>(t) {
            walk(&v, source, depth + 1, out);
            return;
        }
    }
    if memchr::memmem::find(t, PEM_CERT).is_some() {
        in_pem(t, source, out);
        return;
    }
    if let Ok(s) = std::str::from_utf8(t) {
        if looks_base64(s) {
            let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(clean) {
                if memchr::memmem::find(&d, PEM_CERT).is_some() || kubeconfig_like(&d) {
                    in_bytes(&d, source, depth + 1, out);
                }
            }
        }
    }
}

fn walk(v: &J, path: &str, depth: usize, out: &mut Found) {
    match v {
        J::String(s) => in_bytes(s.as_bytes(), path, depth, out),
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{path}[{i}]"), depth, out);
            }
        }
        J::Object(m) => {
            for (k, x) in m {
                let sep = if path.ends_with(' ') || path.is_empty() {
                    ""
                } else {
                    "."
                };
                walk(x, &format!("{path}{sep}{k}"), depth, out);
            }
        }
        _ => {}
    }
}

/// Certificates in one decoded object; sources are named
/// `{name} {field path}`.
pub fn in_object(obj: &J, name: &str) -> Found {
    let mut out = Found::default();
    let Some(m) = obj.as_object() else {
        return out;
    };
    for (k, v) in m {
        if k == "metadata" || k == "apiVersion" || k == "kind" {
            continue;
        }
        walk(v, &format!("{name} {k}"), 0, &mut out);
    }
    out
}

/// Certificates in the members of a static_kuberesources tarball.
pub fn in_tarball(path: &Path) -> std::io::Result<Found> {
    let f = std::fs::File::open(path)?;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Found::default();
    for entry in ar.entries()? {
        let mut e = entry?;
        if !e.header().entry_type().is_file() || e.size() > MAX_MEMBER {
            continue;
        }
        let name = e.path()?.display().to_string();
        let mut buf = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut buf)?;
        in_bytes(&buf, &format!("tarball:{name}"), 0, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_blocks_are_unreadable_not_fatal() {
        let text = b"-----BEGIN CERTIFICATE-----\nMIIBfixtureCERTIFICATEnotREALdataAAAA\n-----END CERTIFICATE-----\n";
        let mut f = Found::default();
        in_pem(text, "x", &mut f);
        assert!(f.certs.is_empty());
        assert_eq!(f.unreadable.len(), 1);
        assert_eq!(f.unreadable[0].source, "x[0]");
    }

    #[test]
    fn status_windows() {
        let c = Cert {
            source: String::new(),
            subject: String::new(),
            issuer: String::new(),
            sans: Vec::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            not_before_unix: 100,
            not_after_unix: 1000,
            is_ca: false,
        };
        assert_eq!(c.status(50, 10), Status::NotYetValid);
        assert_eq!(c.status(500, 10), Status::Valid);
        assert_eq!(c.status(995, 10), Status::Expiring);
        assert_eq!(c.status(1000, 10), Status::Expiring);
        assert_eq!(c.status(1001, 10), Status::Expired);
    }
}
