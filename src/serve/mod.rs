//! `serve`: a snapshot as a read-only Kubernetes API, so kubectl, k9s and
//! client libraries work on a backup.
//!
//! * [`catalog`] — the resources offered and the index of live objects.
//! * [`api`] — request → reply (discovery, get, list, table, watch, Status).
//! * this file — the listener (tokio + hyper, HTTP/1.1), the kubeconfig, and
//!   the facts taken from the snapshot (its time, the cluster's version).

pub(crate) mod api;
pub mod catalog;
pub(crate) mod openapi;
pub(crate) mod ui;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::{json, Value as J};
use thiserror::Error;

use crate::session::Session;
use api::{Body, Reply, State};
use catalog::{Catalog, Index};

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("--listen {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--listen {addr}: not a loopback address; serving decrypted objects to the network needs --allow-remote")]
    NotLoopback { addr: String },
    #[error("--kubeconfig-out {path}: {source}")]
    Kubeconfig {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Mvcc(#[from] crate::mvcc::MvccError),
    #[error("tokio runtime: {0}")]
    Runtime(std::io::Error),
    #[error("--tls: {0}")]
    Tls(String),
    /// An object a request asked for that cannot be read (answered with a
    /// `Status` of this message).
    #[error("{key}: {source}")]
    Object {
        key: String,
        #[source]
        source: crate::query::QueryError,
    },
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// Allow a non-loopback `listen`.
    pub allow_remote: bool,
    pub redact: bool,
    /// Serve the Secrets that hold encryption keys in clear (hidden as
    /// digests by default).
    pub show_key_material: bool,
    /// Serve the state at this revision (default: the latest).
    pub rev: Option<i64>,
    pub kubeconfig_out: Option<PathBuf>,
    /// Seconds between watch bookmarks.
    pub bookmark_every: u64,
    /// HTTPS with a generated self-signed certificate and a random bearer
    /// token (both written into the kubeconfig).
    pub tls: bool,
}

/// A generated certificate, its key, and the bearer token clients must send.
pub(crate) struct Tls {
    pub cert_pem: String,
    pub token: String,
    config: Arc<rustls::ServerConfig>,
}

/// A self-signed certificate for `listen` (plus localhost and 127.0.0.1)
/// and a random 256-bit bearer token.
pub(crate) fn self_signed(listen: SocketAddr) -> Result<Tls, ServeError> {
    let tls = |e: String| ServeError::Tls(e);
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let ip = listen.ip().to_string();
    if !names.contains(&ip) && !listen.ip().is_unspecified() {
        names.push(ip);
    }
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| tls(e.to_string()))?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .map_err(|e| tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|e| tls(e.to_string()))?;
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Tls {
        cert_pem: ck.cert.pem(),
        token,
        config: Arc::new(config),
    })
}

/// What a started server tells its user.
pub struct Started {
    pub url: String,
    pub kubeconfig: Option<PathBuf>,
    pub objects: usize,
    pub revision: i64,
}

pub use crate::session::snapshot_time;

/// `/version` as far as the snapshot shows it: the kubelet version most
/// nodes report, else OpenShift's ClusterVersion, else unknown.
fn version_of(state_index: &Index<'_>, keys: Option<&crate::crypt::KeyRing>) -> J {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for e in state_index.select("", "nodes", None) {
        if let Ok(o) = crate::query::Item::new(e.record, keys).object() {
            if let Some(v) = o
                .pointer("/status/nodeInfo/kubeletVersion")
                .and_then(J::as_str)
            {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
    }
    let git = counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(v, _)| v)
        .unwrap_or_else(|| "v0.0.0-unknown".to_string());
    let core = git.trim_start_matches('v');
    let mut parts = core.split(['.', '+', '-']);
    let major = parts.next().unwrap_or("0").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git,
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "compiler": "etcdsnap",
        "platform": "snapshot",
    })
}

/// Builds the shared state: the index at the served revision and the
/// catalog. The session is kept for the life of the process.
pub(crate) fn state(session: Session<'static>, opts: &Options) -> Result<State, ServeError> {
    let session: &'static Session<'static> = Box::leak(Box::new(session));
    let console = ui::Console::new(session);
    let store = &session.store;
    let keys = session.keys.as_ref();
    let live = store.state_at(opts.rev, |_| true)?;
    let rev = opts.rev.unwrap_or(store.current);
    let index = Index::build(Box::leak(live.into_boxed_slice()));
    // Independent reads of the index: side by side.
    let (catalog, version) =
        rayon::join(|| Catalog::build(&index, keys), || version_of(&index, keys));
    let now = snapshot_time(&session.input.db).unwrap_or(0);
    Ok(State {
        store,
        keys,
        redaction: crate::redact::Redaction::new(opts.redact, opts.show_key_material),
        rev,
        index,
        catalog,
        now,
        version,
        bookmark_every: opts.bookmark_every,
        token: None,
        console,
    })
}

/// A kubeconfig pointing at `url`, written 0600; with TLS, the
/// certificate to trust and the bearer token.
pub(crate) fn write_kubeconfig(path: &Path, url: &str, tls: Option<&Tls>) -> std::io::Result<()> {
    use base64::Engine as _;
    let (ca, user) = match tls {
        Some(t) => (
            format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(t.cert_pem.as_bytes())
            ),
            format!("    token: {}\n", t.token),
        ),
        None => (String::new(), "    {}\n".to_string()),
    };
    let user = if tls.is_some() {
        format!("\n{user}")
    } else {
        format!(" {}", user.trim_start())
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: etcdsnap\n  cluster:\n    server: {url}\n{ca}contexts:\n- name: etcdsnap\n  context:\n    cluster: etcdsnap\n    user: etcdsnap\n    namespace: default\ncurrent-context: etcdsnap\nusers:\n- name: etcdsnap\n  user:{user}"
    );
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(text.as_bytes())
}

type Out = hyper::Response<BoxBody<Bytes, Infallible>>;

fn to_response(reply: Reply) -> Out {
    let body: BoxBody<Bytes, Infallible> = match reply.body {
        Body::Full(b) => Full::new(Bytes::from(b)).boxed(),
        Body::Stream(rx) => {
            let stream = futures_stream(rx);
            StreamBody::new(stream).boxed()
        }
    };
    let mut r = hyper::Response::builder()
        .status(reply.code)
        .header("Content-Type", reply.content_type)
        .header("Cache-Control", "no-cache, private");
    for w in &reply.warnings {
        // A header carries visible ASCII only: key names from the snapshot
        // may hold anything.
        let text: String = w
            .chars()
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        r = r.header("Warning", format!("299 - {}", json!(text)));
    }
    r.body(body)
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::from_static(b"")).boxed()))
}

/// A receiver as a stream of body frames.
fn futures_stream(
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
) -> impl futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    ReceiverStream { rx }
}

struct ReceiverStream {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
}

impl futures_core::Stream for ReceiverStream {
    type Item = Result<Frame<Bytes>, Infallible>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.rx
            .poll_recv(cx)
            .map(|o| o.map(|v| Ok(Frame::data(Bytes::from(v)))))
    }
}

async fn answer(
    state: Arc<State>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<Out, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = api::parse_query(req.uri().query().unwrap_or(""));
    if let Some(want) = &state.token {
        let got = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !got.is_some_and(|g| constant_time_eq(g.as_bytes(), want.as_bytes())) {
            return Ok(to_response(api::status(
                401,
                "Unauthorized",
                "Unauthorized",
                None,
            )));
        }
    }
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // The request body is never read: writes are refused, so a client
    // cannot make the server hold one.
    drop(req);
    let st = Arc::clone(&state);
    let reply = tokio::task::spawn_blocking(move || {
        let handle_req = api::Request {
            method: &method,
            path: &path,
            query,
            accept: &accept,
        };
        let rt = tokio::runtime::Handle::current();
        let _g = rt.enter();
        if ui::is_ui(&path) {
            return ui::handle(&st, &method, &path, &handle_req.query);
        }
        api::handle(&st, &handle_req)
    })
    .await
    .unwrap_or_else(|_| api::status(500, "InternalError", "request handler failed", None));
    Ok(to_response(reply))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Serves one connection (plain or TLS) until it closes.
async fn connection<S>(io: S, state: Arc<State>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(io);
    let svc = hyper::service::service_fn(move |req| answer(Arc::clone(&state), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(30))
        .max_buf_size(64 << 10)
        .serve_connection(io, svc)
        .await;
}

/// Serves `session` until the process ends; with `compare`, the console's diff page also compares the
/// served snapshot with that one (`serve A B`).
pub fn run_pair(
    session: Session<'static>,
    compare: Option<Session<'static>>,
    opts: Options,
    on_start: impl FnOnce(&Started),
) -> Result<(), ServeError> {
    if !opts.listen.ip().is_loopback() && !opts.allow_remote {
        return Err(ServeError::NotLoopback {
            addr: opts.listen.to_string(),
        });
    }
    let tls = if opts.tls {
        Some(self_signed(opts.listen)?)
    } else {
        None
    };
    let mut st = state(session, &opts)?;
    st.token = tls.as_ref().map(|t| t.token.clone());
    st.console.compare = compare.map(|s| ui::Compare {
        session: Box::leak(Box::new(s)),
    });
    let state = Arc::new(st);
    ui::warm(&state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.listen.to_string(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: opts.listen.to_string(),
            source,
        })?;
        let url = if tls.is_some() {
            format!("https://{local}")
        } else {
            format!("http://{local}")
        };
        if let Some(p) = &opts.kubeconfig_out {
            write_kubeconfig(p, &url, tls.as_ref()).map_err(|source| ServeError::Kubeconfig {
                path: p.display().to_string(),
                source,
            })?;
        }
        on_start(&Started {
            url,
            kubeconfig: opts.kubeconfig_out.clone(),
            objects: state.index.by_plural.values().map(Vec::len).sum(),
            revision: state.rev,
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let st = Arc::clone(&state);
            let acceptor = tls
                .as_ref()
                .map(|t| tokio_rustls::TlsAcceptor::from(Arc::clone(&t.config)));
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        // A handshake that stalls cannot hold the task.
                        let hs = tokio::time::timeout(
                            std::time::Duration::from_secs(10),
                            a.accept(stream),
                        )
                        .await;
                        if let Ok(Ok(s)) = hs {
                            connection(s, st).await;
                        }
                    }
                    None => connection(stream, st).await,
                }
            });
        }
    })
}
