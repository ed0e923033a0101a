//! `/ui/`: the web console. Serves the embedded page (vanilla JS and CSS
//! from `assets/ui/`, no build step, nothing fetched from elsewhere) and
//! the JSON it reads; the values come from [`crate::console`], this file
//! only parses queries and serialises.
//!
//! What is costly is computed once: the overview (it reads every value)
//! on a background thread started by the first request for it (after the
//! page's summary, so the page is interactive first), the
//! resource counts and namespaces of the served revision at start-up (on a
//! thread of their own), and
//! the index of the one other revision last asked for.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value as J};

use super::api::{printer, status, Body, Reply, State};
use super::catalog::Index;
use crate::console::{browse, compare, overview};
use crate::query::LabelSelector;
use crate::redact::Redaction;
use crate::session::Session;

const INDEX_HTML: &str = include_str!("../../assets/ui/index.html");
const APP_JS: &str = include_str!("../../assets/ui/app.js");
const APP_CSS: &str = include_str!("../../assets/ui/app.css");

/// Changed objects whose field paths one diff page decodes.
const MAX_DETAILED: usize = 2000;
/// Rows one list request returns at most.
const MAX_PAGE: usize = 1000;

/// The second snapshot of `serve A B`.
pub(crate) struct Compare {
    pub session: &'static Session<'static>,
}

/// The console's caches (and the second snapshot, if any).
pub(crate) struct Console {
    db: PathBuf,
    notes: Vec<String>,
    overview: Arc<OnceLock<J>>,
    started: std::sync::Once,
    served: OnceLock<Arc<AtRev>>,
    other: Mutex<Option<Arc<AtRev>>>,
    pub compare: Option<Compare>,
}

/// What the console shows of one revision: the index (`None` for the
/// served revision, whose index the API already holds), resource counts,
/// namespaces.
struct AtRev {
    rev: i64,
    index: Option<Index<'static>>,
    resources: Vec<J>,
    namespaces: Vec<String>,
}

impl Console {
    pub(crate) fn new(session: &Session<'_>) -> Console {
        Console {
            db: session.input.db.clone(),
            notes: session.notes.iter().map(|n| n.to_string()).collect(),
            overview: Arc::new(OnceLock::new()),
            started: std::sync::Once::new(),
            served: OnceLock::new(),
            other: Mutex::new(None),
            compare: None,
        }
    }
}

fn reply(code: u16, content_type: &'static str, body: Vec<u8>) -> Reply {
    Reply {
        code,
        content_type,
        body: Body::Full(body),
        warnings: Vec::new(),
    }
}

fn json_reply<T: serde::Serialize>(v: &T) -> Reply {
    match serde_json::to_vec(v) {
        Ok(b) => reply(200, "application/json", b),
        Err(e) => status(500, "InternalError", &e.to_string(), None),
    }
}

fn bad(msg: &str) -> Reply {
    status(400, "BadRequest", msg, None)
}

/// Whether a request path is the console's.
pub(crate) fn is_ui(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// Answers one console request.
pub(crate) fn handle(
    state: &Arc<State>,
    method: &str,
    path: &str,
    q: &HashMap<String, String>,
) -> Reply {
    if !matches!(method, "GET" | "HEAD") {
        return status(
            405,
            "MethodNotAllowed",
            &format!("read-only snapshot: {method} is not allowed"),
            None,
        );
    }
    match path {
        "/ui" | "/ui/" | "/ui/index.html" => {
            reply(200, "text/html; charset=utf-8", INDEX_HTML.into())
        }
        "/ui/app.js" => reply(200, "text/javascript; charset=utf-8", APP_JS.into()),
        "/ui/app.css" => reply(200, "text/css; charset=utf-8", APP_CSS.into()),
        "/ui/api/summary" => summary(state, q),
        "/ui/api/overview" => match state.console.overview.get().or_else(|| {
            start_overview(state);
            None
        }) {
            Some(v) => json_reply(v),
            None => reply(202, "application/json", b"{\"pending\":true}".to_vec()),
        },
        "/ui/api/list" => list(state, q),
        "/ui/api/object" => object(state, q),
        "/ui/api/diff" => diff(state, q),
        _ => status(
            404,
            "NotFound",
            &format!("the console has no page {path:?}"),
            None,
        ),
    }
}

/// Counts the served revision's kinds and namespaces on a thread of its
/// own, so the console's first page does not wait for them.
pub(crate) fn warm(state: &Arc<State>) {
    let st = Arc::clone(state);
    std::thread::spawn(move || {
        let _ = at_rev(&st, st.rev);
    });
}

/// Starts computing the overview on a thread of its own (once).
fn start_overview(state: &Arc<State>) {
    let c = &state.console;
    c.started.call_once(|| {
        let cell = Arc::clone(&c.overview);
        let store = state.store;
        let keys = state.keys;
        let db = c.db.clone();
        std::thread::spawn(move || {
            let o = overview::compute(&db, store, keys);
            let _ = cell.set(serde_json::to_value(o).unwrap_or(J::Null));
        });
    });
}

/// The revision a request names (`rev`), default the served one.
fn rev_of(state: &State, q: &HashMap<String, String>, name: &str) -> Result<i64, Reply> {
    let Some(s) = q.get(name).filter(|s| !s.is_empty()) else {
        return Ok(state.rev);
    };
    let r: i64 = s
        .parse()
        .map_err(|_| bad(&format!("{name}={s:?}: not a revision")))?;
    state
        .store
        .check_rev(r)
        .map_err(|e| status(410, "Expired", &format!("{name}={r}: {e}"), None))?;
    Ok(r)
}

fn facts(state: &State, rev: i64, index: Option<Index<'static>>) -> AtRev {
    let idx = index.as_ref().unwrap_or(&state.index);
    let resources = state
        .catalog
        .resources
        .values()
        .filter_map(|r| {
            let n = idx
                .by_plural
                .get(r.plural.as_str())
                .map(|v| {
                    v.iter()
                        .filter(|e| e.group.is_none_or(|g| g == r.group))
                        .count()
                })
                .unwrap_or(0);
            (n > 0).then(|| {
                json!({"group": r.group, "version": r.version, "kind": r.kind,
                "plural": r.plural, "namespaced": r.namespaced, "count": n})
            })
        })
        .collect();
    let namespaces: BTreeSet<&str> = idx
        .by_plural
        .values()
        .flatten()
        .filter_map(|e| e.namespace)
        .collect();
    AtRev {
        rev,
        resources,
        namespaces: namespaces.into_iter().map(str::to_string).collect(),
        index,
    }
}

/// The console's view of `rev`, built once per revision asked for.
fn at_rev(state: &State, rev: i64) -> Result<Arc<AtRev>, Reply> {
    if rev == state.rev {
        return Ok(Arc::clone(
            state
                .console
                .served
                .get_or_init(|| Arc::new(facts(state, rev, None))),
        ));
    }
    let mut other = state
        .console
        .other
        .lock()
        .map_err(|_| status(500, "InternalError", "console cache poisoned", None))?;
    if let Some(a) = other.as_ref().filter(|a| a.rev == rev) {
        return Ok(Arc::clone(a));
    }
    let live = state
        .store
        .state_at(Some(rev), |_| true)
        .map_err(|e| status(410, "Expired", &e.to_string(), None))?;
    let a = Arc::new(facts(state, rev, Some(Index::build(&live))));
    *other = Some(Arc::clone(&a));
    Ok(a)
}

fn summary(state: &State, q: &HashMap<String, String>) -> Reply {
    let rev = match rev_of(state, q, "rev") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let at = match at_rev(state, rev) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let store = state.store;
    let compare = state.console.compare.as_ref().map(|c| {
        json!({"file": c.session.input.db.display().to_string(),
            "current_revision": c.session.store.current,
            "compacted_revision": c.session.store.compacted})
    });
    json_reply(&json!({
        "file": state.console.db.display().to_string(),
        "revision": rev,
        "served_revision": state.rev,
        "current_revision": store.current,
        "compacted_revision": store.compacted,
        "oldest_revision": store.records().first().map(|r| r.rev.main),
        "redact": state.redaction.secrets,
        "encrypted_keys_loaded": state.keys.map(|k| k.len()).unwrap_or(0),
        "notes": state.console.notes,
        "resources": at.resources,
        "namespaces": at.namespaces,
        "compare": compare,
    }))
}

fn list(state: &State, q: &HashMap<String, String>) -> Reply {
    let rev = match rev_of(state, q, "rev") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let Some(res) = state.catalog.find(get("group"), get("plural")) else {
        return status(
            404,
            "NotFound",
            &format!(
                "no resource {:?} in group {:?}",
                get("plural"),
                get("group")
            ),
            None,
        );
    };
    let labels = match q.get("labels").filter(|s| !s.is_empty()) {
        Some(s) => match LabelSelector::parse(s) {
            Ok(l) => Some(l),
            Err(e) => return bad(&format!("labels {s:?}: {e}")),
        },
        None => None,
    };
    let num = |k: &str, d: usize| get(k).parse::<usize>().unwrap_or(d);
    let query = browse::ListQuery {
        name: get("name").to_string(),
        labels,
        key_prefix: get("prefix").to_string(),
        offset: num("offset", 0),
        limit: num("limit", 200).min(MAX_PAGE),
    };
    let at = match at_rev(state, rev) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let idx = at.index.as_ref().unwrap_or(&state.index);
    let ns = q.get("ns").map(String::as_str).filter(|s| !s.is_empty());
    let entries = idx.select(&res.group, &res.plural, ns);
    let hide = Redaction {
        secrets: true,
        ..state.redaction
    };
    let records: Vec<_> = entries.iter().map(|e| e.record).collect();
    let page = browse::list(&records, &printer(res), state.keys, state.now, &query, hide);
    json_reply(
        &json!({"revision": rev, "kind": res.kind, "namespaced": res.namespaced, "page": page}),
    )
}

/// What a request may see: Secret data only when it asks to reveal and
/// the server was not started with `--redact`.
fn redaction_for(state: &State, q: &HashMap<String, String>) -> Redaction {
    let reveal = q.get("reveal").is_some_and(|v| v == "1" || v == "true");
    if reveal && !state.redaction.secrets {
        state.redaction
    } else {
        Redaction {
            secrets: true,
            ..state.redaction
        }
    }
}

fn object(state: &State, q: &HashMap<String, String>) -> Reply {
    let rev = match rev_of(state, q, "rev") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(key) = q.get("key").filter(|k| !k.is_empty()) else {
        return bad("object needs key=<etcd key>");
    };
    let red = redaction_for(state, q);
    let Some(view) = browse::object(state.store, state.keys, key.as_bytes(), rev, red) else {
        return status(
            404,
            "NotFound",
            &format!("no revision of {key:?} at or before {rev} is held"),
            None,
        );
    };
    let history = browse::history(state.store, state.keys, key.as_bytes(), red);
    json_reply(&json!({
        "object": view,
        "history": history,
        "revealable": !state.redaction.secrets,
    }))
}

fn diff(state: &State, q: &HashMap<String, String>) -> Reply {
    let red = redaction_for(state, q);
    let two = q.get("snapshots").is_some_and(|v| v == "1");
    let from = match rev_of(state, q, "from") {
        Ok(r) => r,
        Err(r) => return r,
    };
    let a = compare::Side {
        store: state.store,
        keys: state.keys,
        rev: Some(from),
    };
    let view = if two {
        let Some(c) = &state.console.compare else {
            return bad("one snapshot is served: start `etcdsnap serve A B` to compare two");
        };
        let b = compare::Side {
            store: &c.session.store,
            keys: c.session.keys.as_ref(),
            rev: None,
        };
        compare::diff(&a, &b, red, MAX_DETAILED)
    } else {
        let to = match rev_of(state, q, "to") {
            Ok(r) => r,
            Err(r) => return r,
        };
        let b = compare::Side {
            store: state.store,
            keys: state.keys,
            rev: Some(to),
        };
        compare::diff(&a, &b, red, MAX_DETAILED)
    };
    match view {
        Ok(v) => json_reply(&json!({"two_snapshots": two, "diff": v})),
        Err(e) => status(410, "Expired", &e.to_string(), None),
    }
}
