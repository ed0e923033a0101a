//! The Kubernetes API over one snapshot: request path and query → reply.
//! Discovery, get, list (selectors, paging, past revisions), tables,
//! watch replay; everything else a `Status` as kube-apiserver words it.
//! Knows nothing of sockets: `serve::mod` moves bytes.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value as J};

use super::catalog::{ApiResource, Catalog, Entry, Index};
use crate::crypt::KeyRing;
use crate::kube::print::{self, Printer};
use crate::kube::render::Style;
use crate::mvcc::{Record, Store};
use crate::query::{FieldSelector, Item, LabelSelector};
use crate::redact::Redaction;

/// Everything a request reads: shared, immutable.
pub(crate) struct State {
    pub store: &'static Store<'static>,
    pub keys: Option<&'static KeyRing>,
    /// What to hide: Secrets under `--redact`, key material always unless
    /// `--show-key-material`.
    pub redaction: Redaction,
    /// The revision served as "now".
    pub rev: i64,
    pub index: Index<'static>,
    pub catalog: Catalog,
    /// The snapshot's time (Unix seconds), for ages.
    pub now: i64,
    pub version: J,
    /// Seconds between watch bookmarks.
    pub bookmark_every: u64,
    /// The bearer token every request must carry (with --tls).
    pub token: Option<String>,
    /// The web console's caches and second snapshot (`/ui/`).
    pub console: super::ui::Console,
}

/// A reply body: whole, or chunks from a producer (lists, watches).
pub(crate) enum Body {
    Full(Vec<u8>),
    Stream(tokio::sync::mpsc::Receiver<Vec<u8>>),
}

pub(crate) struct Reply {
    pub code: u16,
    pub content_type: &'static str,
    pub body: Body,
    /// `Warning` headers (kubectl prints them).
    pub warnings: Vec<String>,
}

const JSON: &str = "application/json";
const DISCOVERY_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

impl Reply {
    pub(super) fn json(code: u16, v: &J) -> Reply {
        Reply {
            code,
            content_type: JSON,
            body: Body::Full(serde_json::to_vec(v).unwrap_or_default()),
            warnings: Vec::new(),
        }
    }
}

/// A Kubernetes `Status` failure.
pub(crate) fn status(code: u16, reason: &str, message: &str, details: Option<J>) -> Reply {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    Reply::json(code, &s)
}

fn not_found_path() -> Reply {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

fn bad_request(message: &str) -> Reply {
    status(400, "BadRequest", message, None)
}

/// What the client asked for.
pub(crate) struct Request<'r> {
    pub method: &'r str,
    pub path: &'r str,
    pub query: HashMap<String, String>,
    pub accept: &'r str,
}

/// Parses `a=b&c=d` with percent-decoding.
pub(crate) fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Subresources that need a running cluster.
const LIVE_ONLY: &[&str] = &[
    "log",
    "exec",
    "attach",
    "portforward",
    "proxy",
    "eviction",
    "binding",
    "ephemeralcontainers",
    "resize",
    "token",
    "rollback",
    "instantiate",
    "instantiatebinary",
    "clone",
    "webhooks",
    "secrets",
    "layers",
    "approval",
];

/// Answers one request.
pub(crate) fn handle(state: &Arc<State>, req: &Request<'_>) -> Reply {
    let path = req.path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let read = matches!(req.method, "GET" | "HEAD");
    match segs.as_slice() {
        ["version"] if read => return Reply::json(200, &state.version),
        ["healthz" | "livez" | "readyz", ..] if read => {
            return Reply {
                code: 200,
                content_type: "text/plain",
                body: Body::Full(b"ok".to_vec()),
                warnings: Vec::new(),
            }
        }
        ["api"] if read => return api_versions(state, req),
        ["apis"] if read => return api_groups(state, req),
        ["api", "v1"] if read => return resource_list(state, "", "v1"),
        ["apis", g] if read => return api_group(state, g),
        ["apis", g, v] if read => return resource_list(state, g, v),
        ["openapi", "v3"] if read => return super::openapi::index(state),
        ["openapi", "v3", gv @ ..] if read => {
            return super::openapi::document(state, gv).unwrap_or_else(not_found_path)
        }
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => {
            if !read {
                return read_only(req.method);
            }
            return not_found_path();
        }
    };
    let _ = version;
    // /namespaces/{ns}/{resource}[/{name}[/{sub}]] or /{resource}[/{name}[/{sub}]]
    let (ns, rest) = match rest {
        ["namespaces", ns, r, tail @ ..]
            if !(tail.is_empty() && matches!(*r, "status" | "finalize")) =>
        {
            (
                Some(*ns),
                std::iter::once(*r)
                    .chain(tail.iter().copied())
                    .collect::<Vec<_>>(),
            )
        }
        other => (None, other.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, s, ..] => (*p, Some(*n), Some(*s)),
        _ => return not_found_path(),
    };
    let Some(res) = state.catalog.find(group, plural) else {
        if !read {
            return read_only(req.method);
        }
        return not_found_path();
    };
    if let Some(s) = sub {
        if LIVE_ONLY.contains(&s) {
            return status(
                405,
                "MethodNotAllowed",
                &format!("read-only snapshot: {plural}/{s} needs a running cluster"),
                None,
            );
        }
    }
    if !read {
        return read_only(req.method);
    }
    if ns.is_some() && !res.namespaced {
        return not_found_path();
    }
    match (name, sub) {
        (Some(n), None) => get_one(state, req, res, ns, n, false),
        (Some(n), Some("status")) if res.status => get_one(state, req, res, ns, n, false),
        (Some(n), Some("scale")) if res.scale => get_one(state, req, res, ns, n, true),
        (Some(_), Some(_)) => not_found_path(),
        (None, _) => {
            if req
                .query
                .get("watch")
                .is_some_and(|w| w == "1" || w == "true")
            {
                watch(state, req, res, ns)
            } else {
                list(state, req, res, ns)
            }
        }
    }
}

fn read_only(method: &str) -> Reply {
    status(
        405,
        "MethodNotAllowed",
        &format!("read-only snapshot: {method} is not allowed"),
        None,
    )
}

// ---------------------------------------------------------------- discovery

fn wants_aggregated(accept: &str) -> bool {
    accept.contains("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
}

fn api_versions(state: &Arc<State>, req: &Request<'_>) -> Reply {
    if wants_aggregated(req.accept) {
        return aggregated(state, true);
    }
    Reply::json(
        200,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
        }),
    )
}

fn group_json(g: &str, versions: &[String]) -> J {
    let vs: Vec<J> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({
        "name": g,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(J::Null),
    })
}

fn api_groups(state: &Arc<State>, req: &Request<'_>) -> Reply {
    if wants_aggregated(req.accept) {
        return aggregated(state, false);
    }
    let groups: Vec<J> = state
        .catalog
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| group_json(g, v))
        .collect();
    Reply::json(
        200,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

fn api_group(state: &Arc<State>, g: &str) -> Reply {
    match state.catalog.groups().iter().find(|(x, _)| x == g) {
        Some((g, v)) if !g.is_empty() => {
            let mut j = group_json(g, v);
            j["kind"] = "APIGroup".into();
            j["apiVersion"] = "v1".into();
            Reply::json(200, &j)
        }
        _ => not_found_path(),
    }
}

const VERBS: [&str; 3] = ["get", "list", "watch"];

fn resource_list(state: &Arc<State>, g: &str, v: &str) -> Reply {
    let rs = state.catalog.discovered(g, v);
    if rs.is_empty() && !state.catalog.has_version(g, v) {
        return not_found_path();
    }
    let mut out = Vec::new();
    for r in &rs {
        let mut one = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
        });
        if !r.short_names.is_empty() {
            one["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            one["categories"] = json!(r.categories);
        }
        out.push(one);
        if r.status {
            out.push(
                json!({"name": format!("{}/status", r.plural), "singularName": "",
                "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get"]}),
            );
        }
        if r.scale {
            out.push(
                json!({"name": format!("{}/scale", r.plural), "singularName": "",
                "namespaced": r.namespaced, "group": "autoscaling", "version": "v1",
                "kind": "Scale", "verbs": ["get"]}),
            );
        }
    }
    let gv = if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    };
    Reply::json(
        200,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}),
    )
}

/// Aggregated discovery (apidiscovery.k8s.io/v2): `/api` (core) or `/apis`.
fn aggregated(state: &Arc<State>, core: bool) -> Reply {
    let mut items = Vec::new();
    for (g, versions) in state.catalog.groups() {
        if g.is_empty() != core {
            continue;
        }
        let vs: Vec<J> = versions
            .iter()
            .map(|v| {
                let resources: Vec<J> = state
                    .catalog
                    .discovered(&g, v)
                    .iter()
                    .map(|r| {
                        let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
                        let mut subs = Vec::new();
                        if r.status {
                            subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get"]}));
                        }
                        if r.scale {
                            subs.push(json!({"subresource": "scale",
                                "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                "verbs": ["get"]}));
                        }
                        let mut one = json!({
                            "resource": r.plural,
                            "responseKind": kind,
                            "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                            "singularResource": r.singular,
                            "verbs": VERBS,
                        });
                        if !r.short_names.is_empty() {
                            one["shortNames"] = json!(r.short_names);
                        }
                        if !r.categories.is_empty() {
                            one["categories"] = json!(r.categories);
                        }
                        if !subs.is_empty() {
                            one["subresources"] = J::Array(subs);
                        }
                        one
                    })
                    .collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        items.push(json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": vs}));
    }
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    });
    Reply {
        code: 200,
        content_type: DISCOVERY_V2,
        body: Body::Full(serde_json::to_vec(&body).unwrap_or_default()),
        warnings: Vec::new(),
    }
}

// ---------------------------------------------------------------- reads

/// What a list or watch selects, parsed from the query.
struct Selection {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
    table: Option<Include>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Include {
    None,
    Metadata,
    Object,
}

fn selection(req: &Request<'_>, res: &ApiResource) -> Result<Selection, Reply> {
    let labels = match req.query.get("labelSelector").filter(|s| !s.is_empty()) {
        Some(s) => Some(
            LabelSelector::parse(s)
                .map_err(|e| bad_request(&format!("unable to parse requirement: {e}")))?,
        ),
        None => None,
    };
    let fields = match req.query.get("fieldSelector").filter(|s| !s.is_empty()) {
        Some(s) => {
            Some(FieldSelector::parse(s, &res.kind).map_err(|e| bad_request(&e.to_string()))?)
        }
        None => None,
    };
    let table = if req.accept.contains("as=Table") {
        Some(match req.query.get("includeObject").map(String::as_str) {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        })
    } else {
        None
    };
    Ok(Selection {
        labels,
        fields,
        table,
    })
}

impl Selection {
    fn needs_object(&self, redact: bool) -> bool {
        redact || self.labels.is_some() || self.fields.is_some() || self.table.is_some()
    }

    fn keeps(&self, obj: &J) -> bool {
        self.labels.as_ref().is_none_or(|l| l.matches(obj))
            && self.fields.as_ref().is_none_or(|f| f.matches(obj))
    }
}

pub(super) fn printer(res: &ApiResource) -> Printer {
    print::printer_for(&res.group, &res.kind, res.printer_columns.as_deref())
}

fn columns_json(p: &Printer) -> J {
    serde_json::to_value(&p.columns).unwrap_or_default()
}

fn table_row(p: &Printer, obj: &J, now: i64, inc: Include) -> J {
    let mut row = json!({"cells": p.row(obj, now)});
    match inc {
        Include::None => {}
        Include::Object => row["object"] = obj.clone(),
        Include::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata").cloned().unwrap_or(J::Null),
            })
        }
    }
    row
}

/// Decodes one record for output, redacted when the server says so.
fn object(state: &State, rec: Record<'_>) -> Result<J, super::ServeError> {
    let it = Item::new(rec, state.keys);
    it.object_redacted(&state.redaction)
        .map_err(|source| super::ServeError::Object {
            key: it.key_str().into_owned(),
            source,
        })
}

fn parse_rev(s: &str) -> Result<i64, Reply> {
    s.parse::<i64>()
        .ok()
        .filter(|r| *r >= 0)
        .ok_or_else(|| bad_request(&format!("invalid resource version: {s:?}")))
}

fn gone(asked: i64, compacted: i64) -> Reply {
    status(
        410,
        "Expired",
        &format!("The resourceVersion for the provided list is too old: {asked} was compacted (the oldest held is {compacted})."),
        None,
    )
}

fn too_new(asked: i64, current: i64) -> Reply {
    status(
        504,
        "Timeout",
        &format!("Too large resource version: {asked}, current: {current}"),
        Some(
            json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1}),
        ),
    )
}

/// The entries of `res` at `rev` (the served revision reads the index).
fn entries_at(
    state: &State,
    res: &ApiResource,
    ns: Option<&str>,
    rev: i64,
) -> Result<Vec<Entry<'static>>, Reply> {
    if rev == state.rev {
        return Ok(state.index.select(&res.group, &res.plural, ns));
    }
    if let Some(c) = state.store.compacted {
        if rev < c {
            return Err(gone(rev, c));
        }
    }
    if rev > state.rev {
        return Err(too_new(rev, state.rev));
    }
    let plural = res.plural.as_str();
    let live = state
        .store
        .state_at(Some(rev), |k| {
            crate::kube::key::parse(k).is_some_and(|sk| sk.resource == plural)
        })
        .map_err(|e| status(500, "InternalError", &e.to_string(), None))?;
    let idx = Index::build(&live);
    Ok(idx.select(&res.group, plural, ns))
}

/// Which revision a list reads: `resourceVersion` with
/// `resourceVersionMatch=Exact` (or a continue token) is that revision;
/// anything else is the served revision.
fn list_rev(state: &State, req: &Request<'_>) -> Result<i64, Reply> {
    let rv = req.query.get("resourceVersion").filter(|s| !s.is_empty());
    let exact = req.query.get("resourceVersionMatch").map(String::as_str);
    match (rv, exact) {
        (Some(r), Some("Exact")) => parse_rev(r),
        (Some(r), Some("NotOlderThan") | None) => {
            let r = parse_rev(r)?;
            if r > state.rev {
                return Err(too_new(r, state.rev));
            }
            Ok(state.rev)
        }
        (None, Some(m)) => Err(bad_request(&format!(
            "resourceVersionMatch: {m:?} is forbidden without resourceVersion"
        ))),
        (_, Some(m)) => Err(bad_request(&format!(
            "resourceVersionMatch: unsupported value {m:?}"
        ))),
        (None, None) => Ok(state.rev),
    }
}

fn get_one(
    state: &Arc<State>,
    req: &Request<'_>,
    res: &ApiResource,
    ns: Option<&str>,
    name: &str,
    scale: bool,
) -> Reply {
    let sel = match selection(req, res) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let rev = match list_rev(state, req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let found = if rev == state.rev {
        state.index.get(&res.group, &res.plural, ns, name)
    } else {
        match entries_at(state, res, ns, rev) {
            Ok(v) => v.into_iter().find(|e| e.name == name),
            Err(r) => return r,
        }
    };
    let Some(e) = found else {
        let what = if res.group.is_empty() {
            res.plural.clone()
        } else {
            format!("{}.{}", res.plural, res.group)
        };
        return status(
            404,
            "NotFound",
            &format!("{what} \"{name}\" not found"),
            Some(json!({"name": name, "group": res.group, "kind": res.plural})),
        );
    };
    if !sel.needs_object(state.redaction.may_change(e.record.kv.key)) && !scale {
        let it = Item::new(e.record, state.keys);
        let mut buf = Vec::with_capacity(it.plain.len() * 2);
        return match it.write_json(&mut buf, Style::COMPACT) {
            Ok(()) => Reply {
                code: 200,
                content_type: JSON,
                body: Body::Full(buf),
                warnings: Vec::new(),
            },
            Err(err) => status(
                500,
                "InternalError",
                &format!("{}: {err}", it.key_str()),
                None,
            ),
        };
    }
    let obj = match object(state, e.record) {
        Ok(o) => o,
        Err(err) => return status(500, "InternalError", &err.to_string(), None),
    };
    let obj = if scale { scale_of(&obj) } else { obj };
    if let Some(inc) = sel.table {
        let p = printer(res);
        let t = json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": e.record.kv.mod_revision.to_string()},
            "columnDefinitions": columns_json(&p),
            "rows": [table_row(&p, &obj, state.now, inc)],
        });
        return Reply::json(200, &t);
    }
    Reply::json(200, &obj)
}

/// The autoscaling/v1 Scale of a workload.
fn scale_of(o: &J) -> J {
    let sel = o.pointer("/spec/selector");
    let selector = match sel
        .and_then(|s| s.get("matchLabels"))
        .and_then(J::as_object)
    {
        Some(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
        None => match sel.and_then(J::as_object) {
            Some(m) => m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(","),
            None => String::new(),
        },
    };
    let md = o.get("metadata").cloned().unwrap_or(J::Null);
    let mut meta = json!({});
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = md.get(k) {
            meta[k] = v.clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta,
        "spec": {"replicas": o.pointer("/spec/replicas").and_then(J::as_i64).unwrap_or(1)},
        "status": {"replicas": o.pointer("/status/replicas").and_then(J::as_i64).unwrap_or(0), "selector": selector},
    })
}

/// A continue token: the revision and the last (namespace, name) served.
fn encode_continue(rev: i64, last: &Entry<'_>) -> String {
    let start = format!("{}/{}", last.namespace.unwrap_or(""), last.name);
    let t = json!({"v": "meta.k8s.io/v1", "rv": rev, "start": start});
    base64::engine::general_purpose::URL_SAFE.encode(t.to_string())
}

fn decode_continue(tok: &str) -> Option<(i64, String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(tok)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(tok))
        .ok()?;
    let v: J = serde_json::from_slice(&raw).ok()?;
    let rev = v.get("rv")?.as_i64()?;
    let start = v.get("start")?.as_str()?;
    let (ns, name) = start.split_once('/')?;
    Some((rev, ns.to_string(), name.to_string()))
}

fn list_kind(res: &ApiResource) -> String {
    format!("{}List", res.kind)
}

fn list(state: &Arc<State>, req: &Request<'_>, res: &ApiResource, ns: Option<&str>) -> Reply {
    let sel = match selection(req, res) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let limit = match req.query.get("limit").filter(|s| !s.is_empty()) {
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n >= 0 => n as usize,
            _ => return bad_request(&format!("invalid limit: {l:?}")),
        },
        None => 0,
    };
    let (rev, after) = match req.query.get("continue").filter(|s| !s.is_empty()) {
        Some(tok) => match decode_continue(tok) {
            Some((rev, ns, name)) => (rev, Some((ns, name))),
            None => return bad_request("continue key is not valid"),
        },
        None => match list_rev(state, req) {
            Ok(r) => (r, None),
            Err(r) => return r,
        },
    };
    let mut entries = match entries_at(state, res, ns, rev) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some((ans, aname)) = &after {
        let at = entries.partition_point(|e| {
            (e.namespace.unwrap_or(""), e.name) <= (ans.as_str(), aname.as_str())
        });
        entries.drain(..at);
    }
    let warnings = undecryptable(state, &entries);
    let state = Arc::clone(state);
    let res = res.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    tokio::task::spawn_blocking(move || write_list(&state, &res, &sel, &entries, rev, limit, &tx));
    Reply {
        code: 200,
        content_type: JSON,
        body: Body::Stream(rx),
        warnings,
    }
}

/// A warning naming the encrypted values no loaded key opens (they are
/// left out of the list, as kubectl users must be told).
fn undecryptable(state: &State, entries: &[Entry<'_>]) -> Vec<String> {
    let bad: Vec<String> = entries
        .iter()
        .filter(|e| {
            matches!(
                crate::kube::detect(e.record.kv.value),
                crate::kube::Encoding::Encrypted(_)
            )
        })
        .filter_map(|e| {
            let it = Item::new(e.record, state.keys);
            it.still_encrypted()
                .map(|why| format!("{} ({why})", it.key_str()))
        })
        .collect();
    if bad.is_empty() {
        return Vec::new();
    }
    let shown: Vec<&str> = bad.iter().take(3).map(String::as_str).collect();
    vec![format!(
        "etcdsnap: {} object{} left out, not decryptable with the keys given: {}{}",
        bad.len(),
        if bad.len() == 1 { "" } else { "s" },
        shown.join("; "),
        if bad.len() > 3 { "; ..." } else { "" }
    )]
}

/// How long a producer waits for a client that reads nothing before it
/// gives up on the reply (the connection then ends).
const STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends one chunk from a blocking producer; false when the client left or
/// has not read for [`STALL`], so a slow client cannot pin a thread.
fn send(tx: &tokio::sync::mpsc::Sender<Vec<u8>>, chunk: Vec<u8>) -> bool {
    // Producers run on tokio's blocking pool, where blocking on a future
    // is allowed: the send wakes as soon as the client has read.
    match tokio::runtime::Handle::try_current() {
        Ok(h) => matches!(
            h.block_on(tokio::time::timeout(STALL, tx.send(chunk))),
            Ok(Ok(()))
        ),
        Err(_) => tx.blocking_send(chunk).is_ok(),
    }
}

/// Output is sent in chunks of about this size; the channel holds a few,
/// so a slow client holds the producer back instead of filling memory.
const CHUNK: usize = 256 << 10;

fn write_list(
    state: &State,
    res: &ApiResource,
    sel: &Selection,
    entries: &[Entry<'_>],
    rev: i64,
    limit: usize,
    tx: &tokio::sync::mpsc::Sender<Vec<u8>>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let flush = |buf: &mut Vec<u8>, force: bool| -> bool {
        if buf.len() >= CHUNK || (force && !buf.is_empty()) {
            let chunk = std::mem::replace(buf, Vec::with_capacity(CHUNK + 4096));
            return send(tx, chunk);
        }
        true
    };
    let p = sel.table.map(|_| printer(res));
    if let Some(p) = &p {
        buf.extend_from_slice(
            b"{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"columnDefinitions\":",
        );
        buf.extend_from_slice(columns_json(p).to_string().as_bytes());
        buf.extend_from_slice(b",\"rows\":[");
    } else {
        buf.extend_from_slice(
            format!(
                "{{\"kind\":{},\"apiVersion\":{},\"items\":[",
                J::String(list_kind(res)),
                J::String(res.group_version())
            )
            .as_bytes(),
        );
    }
    let mut shown = 0usize;
    let mut failed: Vec<String> = Vec::new();
    let mut next: Option<String> = None;
    let fast = !sel.needs_object(state.redaction.secrets);
    for (i, e) in entries.iter().enumerate() {
        if limit > 0 && shown == limit {
            if let Some(prev) = i.checked_sub(1).and_then(|j| entries.get(j)) {
                next = Some(encode_continue(rev, prev));
            }
            break;
        }
        let at = buf.len();
        if shown > 0 {
            buf.push(b',');
        }
        if fast && !state.redaction.may_change(e.record.kv.key) {
            let it = Item::new(e.record, state.keys);
            if let Err(err) = it.write_json(&mut buf, Style::COMPACT) {
                buf.truncate(at);
                failed.push(format!("{}: {err}", it.key_str()));
                continue;
            }
        } else {
            let obj = match object(state, e.record) {
                Ok(o) => o,
                Err(err) => {
                    buf.truncate(at);
                    failed.push(err.to_string());
                    continue;
                }
            };
            if !sel.keeps(&obj) {
                buf.truncate(at);
                continue;
            }
            match (&p, sel.table) {
                (Some(p), Some(inc)) => {
                    buf.extend_from_slice(table_row(p, &obj, state.now, inc).to_string().as_bytes())
                }
                _ => {
                    if serde_json::to_writer(&mut buf, &obj).is_err() {
                        buf.truncate(at);
                        continue;
                    }
                }
            }
        }
        shown += 1;
        if !flush(&mut buf, false) {
            return;
        }
    }
    buf.extend_from_slice(b"],\"metadata\":{\"resourceVersion\":");
    buf.extend_from_slice(J::String(rev.to_string()).to_string().as_bytes());
    if let Some(n) = &next {
        buf.extend_from_slice(b",\"continue\":");
        buf.extend_from_slice(J::String(n.clone()).to_string().as_bytes());
    }
    buf.extend_from_slice(b"}");
    if !failed.is_empty() {
        // Not decodable (no key for it, or damaged): named in the list's
        // metadata-free tail so a client sees why items are missing.
        buf.extend_from_slice(b",\"etcdsnapSkipped\":");
        buf.extend_from_slice(json!(failed).to_string().as_bytes());
    }
    buf.extend_from_slice(b"}\n");
    flush(&mut buf, true);
}

// ---------------------------------------------------------------- watch

fn watch(state: &Arc<State>, req: &Request<'_>, res: &ApiResource, ns: Option<&str>) -> Reply {
    let sel = match selection(req, res) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let from = match req.query.get("resourceVersion").filter(|s| !s.is_empty()) {
        Some(r) => match parse_rev(r) {
            Ok(r) => r,
            Err(e) => return e,
        },
        None => 0,
    };
    if from > 0 {
        if let Some(c) = state.store.compacted {
            if from < c {
                return status(
                    410,
                    "Expired",
                    &format!("too old resource version: {from} ({c})"),
                    None,
                );
            }
        }
        if from > state.rev {
            return too_new(from, state.rev);
        }
    }
    let bookmarks = req
        .query
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true" || b == "1");
    let timeout = req
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok());
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let st = Arc::clone(state);
    let res = res.clone();
    let ns = ns.map(str::to_string);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        replay(&st, &res, ns.as_deref(), &sel, from, &tx);
        let every = std::time::Duration::from_secs(st.bookmark_every.max(1));
        let bookmark = if bookmarks {
            let b = json!({"type": "BOOKMARK", "object": {"kind": res.kind, "apiVersion": res.group_version(),
                "metadata": {"resourceVersion": st.rev.to_string()}}});
            Some(format!("{b}\n").into_bytes())
        } else {
            None
        };
        handle.spawn(async move {
            let deadline =
                timeout.map(|t| tokio::time::Instant::now() + std::time::Duration::from_secs(t));
            loop {
                let mut wake = tokio::time::Instant::now() + every;
                if let Some(d) = deadline {
                    wake = wake.min(d);
                }
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => {}
                    _ = tx.closed() => return,
                }
                if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                    return;
                }
                if let Some(b) = &bookmark {
                    if tx.send(b.clone()).await.is_err() {
                        return;
                    }
                }
            }
        });
    });
    Reply {
        code: 200,
        content_type: JSON,
        body: Body::Stream(rx),
        warnings: Vec::new(),
    }
}

/// Sends the events after `from` (or ADDED for every object when `from`
/// is 0), up to the served revision.
fn replay(
    state: &State,
    res: &ApiResource,
    ns: Option<&str>,
    sel: &Selection,
    from: i64,
    tx: &tokio::sync::mpsc::Sender<Vec<u8>>,
) {
    let p = sel.table.map(|_| printer(res));
    let event = |kind: &str, obj: &J| -> Vec<u8> {
        let o = match (&p, sel.table) {
            (Some(p), Some(inc)) => json!({
                "kind": "Table", "apiVersion": "meta.k8s.io/v1",
                "metadata": {"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(J::Null)},
                "columnDefinitions": columns_json(p),
                "rows": [table_row(p, obj, state.now, inc)],
            }),
            _ => obj.clone(),
        };
        format!("{}\n", json!({"type": kind, "object": o})).into_bytes()
    };
    if from == 0 {
        for e in state.index.select(&res.group, &res.plural, ns) {
            if let Ok(o) = object(state, e.record) {
                if sel.keeps(&o) && !send(tx, event("ADDED", &o)) {
                    return;
                }
            }
        }
        return;
    }
    let matches = |k: &[u8]| {
        crate::kube::key::parse(k).is_some_and(|sk| {
            sk.resource == res.plural
                && sk.group.is_none_or(|g| g == res.group)
                && (ns.is_none() || sk.namespace == ns)
        })
    };
    let mut last: HashMap<&[u8], Record<'_>> = HashMap::new();
    for r in state.store.records() {
        if r.rev.main > state.rev {
            break;
        }
        if r.kv.key.is_empty() || !matches(r.kv.key) {
            continue;
        }
        if r.rev.main <= from {
            last.insert(r.kv.key, *r);
            continue;
        }
        let (kind, obj) = if r.is_delete() {
            let Some(prev) = last.remove(r.kv.key) else {
                continue;
            };
            match object(state, prev) {
                Ok(mut o) => {
                    crate::kube::set_resource_version(&mut o, r.rev.main);
                    ("DELETED", o)
                }
                Err(_) => continue,
            }
        } else {
            last.insert(r.kv.key, *r);
            let kind = if r.kv.create_revision == r.kv.mod_revision {
                "ADDED"
            } else {
                "MODIFIED"
            };
            match object(state, *r) {
                Ok(o) => (kind, o),
                Err(_) => continue,
            }
        };
        if sel.keeps(&obj) && !send(tx, event(kind, &obj)) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Arc<State> {
        state_of("fixtures/openshift-backup")
    }

    /// The server state over a fixture (path relative to the repo).
    fn state_of(rel: &str) -> Arc<State> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let session = crate::session::Session::open_path(&path, &[]).unwrap();
        let opts = crate::serve::Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow_remote: false,
            redact: false,
            show_key_material: false,
            rev: None,
            kubeconfig_out: None,
            bookmark_every: 1,
            tls: false,
        };
        Arc::new(crate::serve::state(session, &opts).unwrap())
    }

    fn ask(st: &Arc<State>, method: &str, target: &str) -> (u16, J) {
        let (path, q) = target.split_once('?').unwrap_or((target, ""));
        let r = handle(
            st,
            &Request {
                method,
                path,
                query: parse_query(q),
                accept: "application/json",
            },
        );
        let body = match r.body {
            Body::Full(b) => serde_json::from_slice(&b).unwrap_or(J::Null),
            Body::Stream(_) => J::Null,
        };
        (r.code, body)
    }

    /// An object the server cannot read is a `Status` naming the key and
    /// why, on the fast path and on the decoded (table) path alike.
    #[test]
    fn an_encrypted_object_is_a_status_naming_the_key() {
        let st = state_of("fixtures/encrypted/snapshot_2026-11-21_101500.db");
        let want = "/kubernetes.io/secrets/default/db-password: encrypted with aescbc key 3 (give --keys to read it)";
        for accept in [
            "application/json",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        ] {
            let r = handle(
                &st,
                &Request {
                    method: "GET",
                    path: "/api/v1/namespaces/default/secrets/db-password",
                    query: parse_query(""),
                    accept,
                },
            );
            let Body::Full(b) = r.body else {
                panic!("{accept}: a streamed answer")
            };
            let v: J = serde_json::from_slice(&b).unwrap();
            assert_eq!(r.code, 500, "{accept}: {v}");
            assert_eq!(
                (v["kind"].as_str(), v["message"].as_str()),
                (Some("Status"), Some(want)),
                "{accept}"
            );
        }
    }

    #[test]
    fn answers_like_an_apiserver() {
        let st = state();
        let (c, v) = ask(
            &st,
            "GET",
            "/api/v1/namespaces/openshift-app-0/configmaps/cm-3",
        );
        assert_eq!((c, v["metadata"]["name"].as_str()), (200, Some("cm-3")));
        let (c, v) = ask(
            &st,
            "GET",
            "/api/v1/namespaces/openshift-app-0/configmaps/nope",
        );
        assert_eq!((c, v["reason"].as_str()), (404, Some("NotFound")));
        assert_eq!(v["message"], "configmaps \"nope\" not found");
        for (m, p) in [
            (
                "DELETE",
                "/api/v1/namespaces/openshift-app-0/configmaps/cm-3",
            ),
            ("POST", "/api/v1/namespaces/openshift-app-0/configmaps"),
            (
                "PATCH",
                "/apis/route.openshift.io/v1/namespaces/openshift-app-0/routes/route-0",
            ),
            ("GET", "/api/v1/namespaces/openshift-app-0/pods/p/log"),
            ("GET", "/api/v1/namespaces/openshift-app-0/pods/p/exec"),
        ] {
            let (c, v) = ask(&st, m, p);
            assert_eq!(
                (c, v["reason"].as_str()),
                (405, Some("MethodNotAllowed")),
                "{m} {p}"
            );
            assert!(v["message"]
                .as_str()
                .unwrap()
                .contains("read-only snapshot"));
        }
        for p in [
            "/nonsense",
            "/apis/nope.example/v1",
            "/api/v1/widgets",
            "/api/v1/namespaces/x/nodes",
        ] {
            assert_eq!(ask(&st, "GET", p).0, 404, "{p}");
        }
        for p in [
            "/api/v1/configmaps?fieldSelector=spec.nope%3D1",
            "/api/v1/configmaps?labelSelector=a%20b%3Dc",
            "/api/v1/configmaps?resourceVersion=abc&resourceVersionMatch=Exact",
            "/api/v1/configmaps?limit=-1",
            "/api/v1/configmaps?continue=%21%21",
            "/api/v1/configmaps?resourceVersionMatch=Exact",
        ] {
            let (c, v) = ask(&st, "GET", p);
            assert_eq!((c, v["kind"].as_str()), (400, Some("Status")), "{p}");
        }
        let (c, v) = ask(
            &st,
            "GET",
            "/api/v1/configmaps?resourceVersion=999999&resourceVersionMatch=Exact",
        );
        assert_eq!((c, v["reason"].as_str()), (504, Some("Timeout")));
        let (c, v) = ask(&st, "GET", "/apis/route.openshift.io/v1");
        assert_eq!(c, 200);
        assert!(v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "routes"));
        assert_eq!(ask(&st, "GET", "/version").0, 200);
    }

    #[test]
    fn query_decoding() {
        let q = parse_query("labelSelector=app%3Dweb%2Ctier%21%3Ddb&limit=5&x=%zz&y=a+b");
        assert_eq!(q["labelSelector"], "app=web,tier!=db");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["x"], "%zz");
        assert_eq!(q["y"], "a b");
        assert_eq!(pct_decode("%4"), "%4");
    }

    #[test]
    fn continue_tokens_round_trip() {
        let rec = Record {
            rev: crate::etcd::Revision {
                main: 1,
                sub: 0,
                tombstone: false,
            },
            kv: crate::etcd::KeyValue::default(),
        };
        let e = Entry {
            group: None,
            namespace: Some("ns"),
            name: "a",
            record: rec,
        };
        let t = encode_continue(42, &e);
        assert_eq!(decode_continue(&t), Some((42, "ns".into(), "a".into())));
        assert_eq!(decode_continue("!!"), None);
    }
}
