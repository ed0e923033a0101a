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

/// When expiry is judged, and what that time was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// Unix seconds.
    pub unix: i64,
    /// `now`, `given`, `snapshot (the time in NAME)`, `snapshot (the mtime of NAME)`.
    pub source: String,
}

/// Why a certificate report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("--at {0:?}: use snapshot, now, YYYY-MM-DD or an RFC 3339 time")]
    BadAt(String),
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Mvcc(#[from] crate::mvcc::MvccError),
}

impl At {
    /// `snapshot` (the time in the snapshot's name, else its mtime),
    /// `now`, or a date (`2026-12-01`, `2026-12-01T08:00:00`,
    /// `2026-12-01T08:00:00Z`).
    pub fn parse(at: &str, db: &Path) -> Result<At, CertsError> {
        let parse = |s: &str| -> Option<i64> {
            let full = if s.len() == 10 {
                format!("{s}T00:00:00Z")
            } else if s.len() == 19 {
                format!("{s}Z")
            } else {
                s.to_string()
            };
            crate::kube::timefmt::parse_rfc3339(&full).map(|(secs, _)| secs)
        };
        let unix = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        };
        match at {
            "now" => Ok(At {
                unix: unix(std::time::SystemTime::now()),
                source: "now".into(),
            }),
            "snapshot" => {
                let name = db
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Some(t) = crate::input::name_time(&name).and_then(|t| parse(&t)) {
                    return Ok(At {
                        unix: t,
                        source: format!("snapshot (the time in {name})"),
                    });
                }
                let m = std::fs::metadata(db)
                    .and_then(|m| m.modified())
                    .map_err(|source| CertsError::Io {
                        path: db.display().to_string(),
                        source,
                    })?;
                Ok(At {
                    unix: unix(m),
                    source: format!("snapshot (the mtime of {name})"),
                })
            }
            d => match parse(d) {
                Some(t) => Ok(At {
                    unix: t,
                    source: "given".into(),
                }),
                None => Err(CertsError::BadAt(d.to_string())),
            },
        }
    }
}

/// A certificate with its state at the report's time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    pub cert: Cert,
    pub status: Status,
}

/// How many certificates are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub expired: usize,
    pub expiring: usize,
    pub not_yet_valid: usize,
    pub valid: usize,
    pub unreadable: usize,
}

/// The `certs` report: every certificate found in a snapshot's Secrets and
/// ConfigMaps and in its static_kuberesources tarball, judged at one time,
/// worst first (expired, expiring, not yet valid, valid; then by expiry).
#[derive(Debug, Clone, Serialize)]
pub struct CertsReport {
    /// RFC 3339.
    pub at: String,
    pub at_source: String,
    pub warn_days: u32,
    pub tarball: Option<String>,
    pub counts: Counts,
    pub certificates: Vec<Checked>,
    pub unreadable: Vec<Unreadable>,
    /// Objects that could not be decoded (`NAME: why`), so not searched.
    pub not_searched: Vec<String>,
}

impl CertsReport {
    /// Searches the latest Secrets and ConfigMaps of `store` (in
    /// `namespace` when given), decrypted with `keys`, and `tarball`.
    pub fn new(
        store: &crate::mvcc::Store<'_>,
        keys: Option<&crate::crypt::KeyRing>,
        namespace: Option<&str>,
        tarball: Option<&Path>,
        at: &At,
        warn_days: u32,
    ) -> Result<CertsReport, CertsError> {
        use rayon::prelude::*;
        let mut resources = crate::kube::key::resolve_all("secrets");
        resources.extend(crate::kube::key::resolve_all("configmaps"));
        let filter = crate::query::Filter {
            namespace: namespace.map(str::to_string),
            resources,
            ..crate::query::Filter::default()
        };
        let records = store.state_at(None, |k| filter.key_matches(k))?;
        let per: Vec<(Found, Option<String>)> = records
            .par_iter()
            .map(|r| {
                let it = crate::query::Item::new(*r, keys);
                let name = super::timeline::object_name(&filter, r.kv.key);
                match it.object() {
                    Ok(o) => (in_object(&o, &name), None),
                    Err(e) => (Found::default(), Some(format!("{name}: {e}"))),
                }
            })
            .collect();
        let mut found = Found::default();
        let mut not_searched = Vec::new();
        for (f, e) in per {
            found.extend(f);
            not_searched.extend(e);
        }
        if let Some(t) = tarball {
            found.extend(in_tarball(t).map_err(|source| CertsError::Io {
                path: t.display().to_string(),
                source,
            })?);
        }
        Ok(Self::judge(found, not_searched, tarball, at, warn_days))
    }

    /// Judges what was found at `at`, `warn_days` of warning.
    pub fn judge(
        found: Found,
        not_searched: Vec<String>,
        tarball: Option<&Path>,
        at: &At,
        warn_days: u32,
    ) -> CertsReport {
        let window = i64::from(warn_days) * 86400;
        let mut certificates: Vec<Checked> = found
            .certs
            .into_iter()
            .map(|c| Checked {
                status: c.status(at.unix, window),
                cert: c,
            })
            .collect();
        let rank = |s: Status| match s {
            Status::Expired => 0,
            Status::Expiring => 1,
            Status::NotYetValid => 2,
            Status::Valid => 3,
        };
        certificates.sort_by(|x, y| {
            (rank(x.status), x.cert.not_after_unix, &x.cert.source).cmp(&(
                rank(y.status),
                y.cert.not_after_unix,
                &y.cert.source,
            ))
        });
        let count = |s: Status| certificates.iter().filter(|c| c.status == s).count();
        CertsReport {
            at: rfc3339(at.unix, None),
            at_source: at.source.clone(),
            warn_days,
            tarball: tarball.map(|t| t.display().to_string()),
            counts: Counts {
                expired: count(Status::Expired),
                expiring: count(Status::Expiring),
                not_yet_valid: count(Status::NotYetValid),
                valid: count(Status::Valid),
                unreadable: found.unreadable.len(),
            },
            certificates,
            unreadable: found.unreadable,
            not_searched,
        }
    }

    /// 1 when a certificate has expired, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.counts.expired > 0 {
            1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(source: &str, before: i64, after: i64) -> Cert {
        Cert {
            source: source.into(),
            subject: String::new(),
            issuer: String::new(),
            sans: Vec::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            not_before_unix: before,
            not_after_unix: after,
            is_ca: false,
        }
    }

    #[test]
    fn report_orders_worst_first_and_counts() {
        let found = Found {
            certs: vec![
                cert("valid", 0, 10 * 86400),
                cert("expired-late", 0, 50),
                cert("expired-early", 0, 20),
                cert("future", 200, 10 * 86400),
                cert("expiring", 0, 2 * 86400),
            ],
            unreadable: vec![Unreadable {
                source: "u".into(),
                error: "e".into(),
            }],
        };
        let at = At {
            unix: 100,
            source: "given".into(),
        };
        let r = CertsReport::judge(found, vec!["x: y".into()], None, &at, 3);
        let order: Vec<&str> = r
            .certificates
            .iter()
            .map(|c| c.cert.source.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "expired-early",
                "expired-late",
                "expiring",
                "future",
                "valid"
            ]
        );
        assert_eq!(
            r.counts,
            Counts {
                expired: 2,
                expiring: 1,
                not_yet_valid: 1,
                valid: 1,
                unreadable: 1
            }
        );
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.at, "1970-01-01T00:01:40Z");
        // JSON: the certificate's fields, then its status.
        let v = serde_json::to_value(&r.certificates[0]).unwrap();
        let names: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(names.first().map(|s| s.as_str()), Some("source"));
        assert_eq!(names.last().map(|s| s.as_str()), Some("status"));
        assert_eq!(v["status"], "expired");
    }

    #[test]
    fn at_parses_dates_and_names() {
        let db = Path::new("/nonexistent/snapshot_2026-11-21_101500.db");
        let a = At::parse("snapshot", db).unwrap();
        assert_eq!(rfc3339(a.unix, None), "2026-11-21T10:15:00Z");
        assert_eq!(
            a.source,
            "snapshot (the time in snapshot_2026-11-21_101500.db)"
        );
        let d = At::parse("2026-12-01", db).unwrap();
        assert_eq!(rfc3339(d.unix, None), "2026-12-01T00:00:00Z");
        assert_eq!(d.source, "given");
        assert_eq!(
            At::parse("2026-12-01T08:00:00", db).unwrap().unix,
            d.unix + 8 * 3600
        );
        let e = At::parse("bad", db).unwrap_err();
        assert!(e.to_string().starts_with("--at \"bad\""), "{e}");
        let e = At::parse("snapshot", Path::new("/nonexistent/x.db")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.db"), "{e}");
    }

    #[test]
    fn fixture_certs_found_in_snapshot_and_tarball() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs");
        let s = crate::session::Session::open_path(&dir, &[]).unwrap();
        let at = At::parse("2026-11-21", &s.input.db).unwrap();
        let r = CertsReport::new(
            &s.store,
            s.keys.as_ref(),
            None,
            s.input.tarball.as_deref(),
            &at,
            30,
        )
        .unwrap();
        assert!(r
            .certificates
            .iter()
            .any(|c| c.cert.source.starts_with("secrets/")));
        assert!(r
            .certificates
            .iter()
            .any(|c| c.cert.source.starts_with("tarball:")));
        let total = r.counts.expired + r.counts.expiring + r.counts.not_yet_valid + r.counts.valid;
        assert_eq!(total, r.certificates.len());
    }

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
