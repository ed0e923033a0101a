//! Server-side printing: the columns `kubectl get` shows for each kind, as
//! kube-apiserver's and openshift-apiserver's table printers define them
//! (names, types, `-o wide` priority), computed from a decoded object.
//!
//! A CRD's `additionalPrinterColumns` (simple JSONPath) are printed with
//! [`crd_columns`]; any other kind gets NAME and AGE. Ages are measured from
//! a reference time (the snapshot's), never the clock of the reader.

use serde::Serialize;
use serde_json::{json, Value as J};

use super::timefmt::parse_rfc3339;

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub description: String,
    /// 0 = default output; 1 = `-o wide` only.
    pub priority: i32,
}

fn col(name: &str, kind: &str, priority: i32) -> Column {
    Column {
        name: name.to_string(),
        kind: kind.to_string(),
        format: if name == "Name" {
            "name".into()
        } else {
            String::new()
        },
        description: String::new(),
        priority,
    }
}

/// How one kind prints: its columns, and each object's cells.
pub struct Printer {
    pub columns: Vec<Column>,
    cells: Cells,
}

/// (name, type, priority) of a column.
type ColumnSpec = (&'static str, &'static str, i32);
/// An object and the reference time → its cells.
type RowFn = fn(&J, i64) -> Vec<J>;

enum Cells {
    Builtin(RowFn),
    /// (JSONPath, type) per column after NAME; AGE last when `age`.
    Crd(Vec<(String, String)>, bool),
}

impl Printer {
    /// The cells of one object's row; `now` is the reference time (Unix s).
    pub fn row(&self, obj: &J, now: i64) -> Vec<J> {
        match &self.cells {
            Cells::Builtin(f) => f(obj, now),
            Cells::Crd(paths, age_last) => {
                let mut out = vec![J::String(name(obj))];
                for (p, t) in paths {
                    let v = json_path(obj, p);
                    out.push(crd_cell(v, t, now));
                }
                if *age_last {
                    out.push(J::String(age(obj, now)));
                }
                out
            }
        }
    }
}

/// The printer of a built-in or OpenShift kind (by API group and kind);
/// `None` when the apiservers print it with the default NAME/AGE.
pub fn builtin(group: &str, kind: &str) -> Option<Printer> {
    let (names, f): (&[ColumnSpec], RowFn) = match (group, kind) {
        ("", "Pod") => (
            &[
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Status", "string", 0),
                ("Restarts", "string", 0),
                ("Age", "string", 0),
                ("IP", "string", 1),
                ("Node", "string", 1),
                ("Nominated Node", "string", 1),
                ("Readiness Gates", "string", 1),
            ],
            pod,
        ),
        ("apps" | "extensions", "Deployment") => (
            &[
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Up-to-date", "string", 0),
                ("Available", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            deployment,
        ),
        ("apps" | "extensions", "ReplicaSet") | ("", "ReplicationController") => (
            &[
                ("Name", "string", 0),
                ("Desired", "integer", 0),
                ("Current", "integer", 0),
                ("Ready", "integer", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            replicaset,
        ),
        ("apps", "StatefulSet") => (
            &[
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
            ],
            statefulset,
        ),
        ("apps" | "extensions", "DaemonSet") => (
            &[
                ("Name", "string", 0),
                ("Desired", "integer", 0),
                ("Current", "integer", 0),
                ("Ready", "integer", 0),
                ("Up-to-date", "integer", 0),
                ("Available", "integer", 0),
                ("Node Selector", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            daemonset,
        ),
        ("batch", "Job") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Completions", "string", 0),
                ("Duration", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            job,
        ),
        ("batch", "CronJob") => (
            &[
                ("Name", "string", 0),
                ("Schedule", "string", 0),
                ("Timezone", "string", 0),
                ("Suspend", "boolean", 0),
                ("Active", "integer", 0),
                ("Last Schedule", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1),
            ],
            cronjob,
        ),
        ("", "Service") => (
            &[
                ("Name", "string", 0),
                ("Type", "string", 0),
                ("Cluster-IP", "string", 0),
                ("External-IP", "string", 0),
                ("Port(s)", "string", 0),
                ("Age", "string", 0),
                ("Selector", "string", 1),
            ],
            service,
        ),
        ("", "Node") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Roles", "string", 0),
                ("Age", "string", 0),
                ("Version", "string", 0),
                ("Internal-IP", "string", 1),
                ("External-IP", "string", 1),
                ("OS-Image", "string", 1),
                ("Kernel-Version", "string", 1),
                ("Container-Runtime", "string", 1),
            ],
            node,
        ),
        ("", "Namespace") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Age", "string", 0),
            ],
            namespace,
        ),
        ("project.openshift.io", "Project") => (
            &[
                ("Name", "string", 0),
                ("Display Name", "string", 0),
                ("Status", "string", 0),
            ],
            project,
        ),
        ("", "Secret") => (
            &[
                ("Name", "string", 0),
                ("Type", "string", 0),
                ("Data", "string", 0),
                ("Age", "string", 0),
            ],
            secret,
        ),
        ("", "ConfigMap") => (
            &[
                ("Name", "string", 0),
                ("Data", "string", 0),
                ("Age", "string", 0),
            ],
            configmap,
        ),
        ("", "ServiceAccount") => (&[("Name", "string", 0), ("Age", "string", 0)], name_age),
        ("", "Endpoints") => (
            &[
                ("Name", "string", 0),
                ("Endpoints", "string", 0),
                ("Age", "string", 0),
            ],
            endpoints,
        ),
        ("", "Event") => (
            &[
                ("Last Seen", "string", 0),
                ("Type", "string", 0),
                ("Reason", "string", 0),
                ("Object", "string", 0),
                ("Subobject", "string", 1),
                ("Source", "string", 1),
                ("Message", "string", 0),
                ("First Seen", "string", 1),
                ("Count", "string", 1),
                ("Name", "string", 1),
            ],
            event,
        ),
        ("", "PersistentVolumeClaim") => (
            &[
                ("Name", "string", 0),
                ("Status", "string", 0),
                ("Volume", "string", 0),
                ("Capacity", "string", 0),
                ("Access Modes", "string", 0),
                ("StorageClass", "string", 0),
                ("VolumeAttributesClass", "string", 0),
                ("Age", "string", 0),
                ("VolumeMode", "string", 1),
            ],
            pvc,
        ),
        ("networking.k8s.io" | "extensions", "Ingress") => (
            &[
                ("Name", "string", 0),
                ("Class", "string", 0),
                ("Hosts", "string", 0),
                ("Address", "string", 0),
                ("Ports", "string", 0),
                ("Age", "string", 0),
            ],
            ingress,
        ),
        ("coordination.k8s.io", "Lease") => (
            &[
                ("Name", "string", 0),
                ("Holder", "string", 0),
                ("Age", "string", 0),
            ],
            lease,
        ),
        ("route.openshift.io", "Route") => (
            &[
                ("Name", "string", 0),
                ("Host/Port", "string", 0),
                ("Path", "string", 0),
                ("Services", "string", 0),
                ("Port", "string", 0),
                ("Termination", "string", 0),
                ("Wildcard", "string", 0),
            ],
            route,
        ),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            (&[("Name", "string", 0), ("Created At", "date", 0)], crd_row)
        }
        _ => return None,
    };
    Some(Printer {
        columns: names.iter().map(|(n, t, p)| col(n, t, *p)).collect(),
        cells: Cells::Builtin(f),
    })
}

/// The printer the apiservers use for a resource: its CRD's
/// `additionalPrinterColumns` when a CRD defines it (`crd`), else the
/// built-in printer of (group, kind), else NAME and AGE.
pub fn printer_for(group: &str, kind: &str, crd: Option<&[J]>) -> Printer {
    match crd {
        Some(cols) => crd_columns(cols),
        None => builtin(group, kind).unwrap_or_else(default_printer),
    }
}

/// NAME and AGE: what the apiserver prints for a kind without a printer.
pub fn default_printer() -> Printer {
    Printer {
        columns: vec![col("Name", "string", 0), col("Age", "date", 0)],
        cells: Cells::Builtin(name_age),
    }
}

/// The printer of a custom resource from its CRD version's
/// `additionalPrinterColumns` (NAME first, AGE last when none is given,
/// as the apiextensions-apiserver does).
pub fn crd_columns(additional: &[J]) -> Printer {
    let mut columns = vec![col("Name", "string", 0)];
    let mut paths = Vec::new();
    for c in additional {
        let s = |k: &str| c.get(k).and_then(J::as_str).unwrap_or("").to_string();
        columns.push(Column {
            name: s("name"),
            kind: s("type"),
            format: s("format"),
            description: s("description"),
            priority: c.get("priority").and_then(J::as_i64).unwrap_or(0) as i32,
        });
        paths.push((s("jsonPath"), s("type")));
    }
    let age_last = additional.is_empty();
    if age_last {
        columns.push(col("Age", "date", 0));
    }
    Printer {
        columns,
        cells: Cells::Crd(paths, age_last),
    }
}

/// Evaluates a simple JSONPath (`.a.b`, `.a[0].b`, `.a[*].b`) as the
/// apiextensions printer does for a single value (arrays joined by `,`).
pub fn json_path<'v>(obj: &'v J, path: &str) -> Vec<&'v J> {
    let mut cur: Vec<&J> = vec![obj];
    let p = path.trim().trim_start_matches('{').trim_end_matches('}');
    for seg in p.split('.').filter(|s| !s.is_empty()) {
        let (field, index) = match seg.split_once('[') {
            Some((f, rest)) => (f, Some(rest.trim_end_matches(']'))),
            None => (seg, None),
        };
        let mut next = Vec::new();
        for v in cur {
            let v = if field.is_empty() {
                Some(v)
            } else {
                v.get(field)
            };
            let Some(v) = v else { continue };
            match index {
                None => next.push(v),
                Some("*") => next.extend(v.as_array().into_iter().flatten()),
                Some(i) => {
                    if let (Some(a), Ok(i)) = (v.as_array(), i.parse::<i64>()) {
                        let at = if i < 0 { a.len() as i64 + i } else { i };
                        if let Some(x) = usize::try_from(at).ok().and_then(|at| a.get(at)) {
                            next.push(x);
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn crd_cell(v: Vec<&J>, kind: &str, now: i64) -> J {
    if v.is_empty() {
        return J::Null;
    }
    if v.len() == 1 {
        let x = v[0];
        return match (kind, x) {
            ("date", J::String(s)) => J::String(since(s, now)),
            ("integer", J::Number(_)) | ("number", J::Number(_)) | ("boolean", J::Bool(_)) => {
                x.clone()
            }
            (_, J::String(s)) => J::String(s.clone()),
            (_, other) => J::String(other.to_string()),
        };
    }
    J::String(
        v.iter()
            .map(|x| match x {
                J::String(s) => s.clone(),
                o => o.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// kubectl's human duration (`duration.HumanDuration`) for `seconds`.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds;
    if s < -1 {
        return "<invalid>".into();
    }
    if s < 0 {
        return "0s".into();
    }
    if s < 60 * 2 {
        return format!("{s}s");
    }
    let m = s / 60;
    if m < 10 {
        let r = s % 60;
        return if r == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{r}s")
        };
    }
    if m < 60 * 3 {
        return format!("{m}m");
    }
    let h = s / 3600;
    if h < 8 {
        let r = m % 60;
        return if r == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{r}m")
        };
    }
    if h < 48 {
        return format!("{h}h");
    }
    if h < 24 * 8 {
        let r = h % 24;
        return if r == 0 {
            format!("{}d", h / 24)
        } else {
            format!("{}d{r}h", h / 24)
        };
    }
    if h < 24 * 365 * 2 {
        return format!("{}d", h / 24);
    }
    if h < 24 * 365 * 8 {
        let dy = (h / 24) % 365;
        return if dy == 0 {
            format!("{}y", h / 24 / 365)
        } else {
            format!("{}y{dy}d", h / 24 / 365)
        };
    }
    format!("{}y", h / 24 / 365)
}

/// The time since an RFC 3339 timestamp, or `<unknown>`.
fn since(ts: &str, now: i64) -> String {
    match parse_rfc3339(ts) {
        Some((t, _)) => human_duration(now - t),
        None => "<unknown>".into(),
    }
}

fn s<'v>(o: &'v J, ptr: &str) -> &'v str {
    o.pointer(ptr).and_then(J::as_str).unwrap_or("")
}

fn i(o: &J, ptr: &str) -> i64 {
    o.pointer(ptr).and_then(J::as_i64).unwrap_or(0)
}

fn arr<'v>(o: &'v J, ptr: &str) -> &'v [J] {
    o.pointer(ptr)
        .and_then(J::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn name(o: &J) -> String {
    s(o, "/metadata/name").to_string()
}

fn age(o: &J, now: i64) -> String {
    match o.pointer("/metadata/creationTimestamp").and_then(J::as_str) {
        Some(t) => since(t, now),
        None => "<unknown>".into(),
    }
}

fn none_if_empty(v: String) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v
    }
}

fn name_age(o: &J, now: i64) -> Vec<J> {
    vec![json!(name(o)), json!(age(o, now))]
}

fn crd_row(o: &J, _now: i64) -> Vec<J> {
    vec![json!(name(o)), json!(s(o, "/metadata/creationTimestamp"))]
}

/// `matchLabels` + `matchExpressions` as a selector string.
fn selector(sel: Option<&J>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(J::as_object) {
        let mut kv: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        kv.sort();
        parts.extend(kv);
    }
    for e in sel
        .get("matchExpressions")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(J::as_str).unwrap_or("");
        let vals: Vec<&str> = e
            .get("values")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
            .collect();
        match e.get("operator").and_then(J::as_str).unwrap_or("") {
            "In" => parts.push(format!("{key} in ({})", vals.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", vals.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    // A plain map (Service, ReplicationController).
    if sel.get("matchLabels").is_none() && sel.get("matchExpressions").is_none() {
        if let Some(m) = sel.as_object() {
            let mut kv: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            kv.sort();
            parts.extend(kv);
        }
    }
    none_if_empty(parts.join(","))
}

fn containers_images(o: &J, spec: &str) -> (String, String) {
    let cs = arr(o, &format!("{spec}/containers"));
    let names: Vec<&str> = cs
        .iter()
        .map(|c| c.get("name").and_then(J::as_str).unwrap_or(""))
        .collect();
    let images: Vec<&str> = cs
        .iter()
        .map(|c| c.get("image").and_then(J::as_str).unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

fn pod(o: &J, now: i64) -> Vec<J> {
    let statuses = arr(o, "/status/containerStatuses");
    let total = arr(o, "/spec/containers").len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut reason = s(o, "/status/phase").to_string();
    if !s(o, "/status/reason").is_empty() {
        reason = s(o, "/status/reason").to_string();
    }
    let mut last_restart: Option<String> = None;
    // Init containers first, as the printer does.
    let inits = arr(o, "/status/initContainerStatuses");
    let init_total = arr(o, "/spec/initContainers").len();
    let mut initializing = false;
    for (n, c) in inits.iter().enumerate() {
        restarts += i(c, "/restartCount");
        if let Some(t) = c.pointer("/state/terminated") {
            if t.get("exitCode").and_then(J::as_i64) == Some(0) {
                continue;
            }
            let r = t.get("reason").and_then(J::as_str).unwrap_or("");
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if let Some(sig) = t.get("signal").and_then(J::as_i64).filter(|s| *s != 0) {
                format!("Init:Signal:{sig}")
            } else {
                format!("Init:ExitCode:{}", i(t, "/exitCode"))
            };
            initializing = true;
        } else if let Some(w) = c.pointer("/state/waiting") {
            let r = w.get("reason").and_then(J::as_str).unwrap_or("");
            if !r.is_empty() && r != "PodInitializing" {
                reason = format!("Init:{r}");
            } else {
                reason = format!("Init:{n}/{init_total}");
            }
            initializing = true;
        } else if c.get("ready").and_then(J::as_bool) != Some(true) {
            reason = format!("Init:{n}/{init_total}");
            initializing = true;
        }
        if initializing {
            break;
        }
    }
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in statuses.iter().rev() {
            restarts += i(c, "/restartCount");
            if let Some(t) = c
                .pointer("/lastState/terminated/finishedAt")
                .and_then(J::as_str)
            {
                if last_restart.as_deref().is_none_or(|l| t > l) {
                    last_restart = Some(t.to_string());
                }
            }
            if let Some(w) = c.pointer("/state/waiting") {
                if let Some(r) = w
                    .get("reason")
                    .and_then(J::as_str)
                    .filter(|r| !r.is_empty())
                {
                    reason = r.to_string();
                }
            } else if let Some(t) = c.pointer("/state/terminated") {
                let r = t.get("reason").and_then(J::as_str).unwrap_or("");
                reason = if !r.is_empty() {
                    r.to_string()
                } else if let Some(sig) = t.get("signal").and_then(J::as_i64).filter(|s| *s != 0) {
                    format!("Signal:{sig}")
                } else {
                    format!("ExitCode:{}", i(t, "/exitCode"))
                };
            } else if c.get("ready").and_then(J::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if arr(o, "/status/conditions")
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
            {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(o, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts_cell = match &last_restart {
        Some(t) if restarts > 0 => format!("{restarts} ({} ago)", since(t, now)),
        _ => restarts.to_string(),
    };
    let ip = none_if_empty(s(o, "/status/podIP").to_string());
    let node = none_if_empty(s(o, "/spec/nodeName").to_string());
    let nominated = none_if_empty(s(o, "/status/nominatedNodeName").to_string());
    let gates = arr(o, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let ok = gates
            .iter()
            .filter(|g| {
                let t = s(g, "/conditionType");
                arr(o, "/status/conditions")
                    .iter()
                    .any(|c| s(c, "/type") == t && s(c, "/status") == "True")
            })
            .count();
        format!("{ok}/{}", gates.len())
    };
    vec![
        json!(name(o)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_cell),
        json!(age(o, now)),
        json!(ip),
        json!(node),
        json!(nominated),
        json!(gates_cell),
    ]
}

fn deployment(o: &J, now: i64) -> Vec<J> {
    let desired = o.pointer("/spec/replicas").and_then(J::as_i64).unwrap_or(1);
    let (c, im) = containers_images(o, "/spec/template/spec");
    vec![
        json!(name(o)),
        json!(format!("{}/{desired}", i(o, "/status/readyReplicas"))),
        json!(i(o, "/status/updatedReplicas")),
        json!(i(o, "/status/availableReplicas")),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/selector"))),
    ]
}

fn replicaset(o: &J, now: i64) -> Vec<J> {
    let (c, im) = containers_images(o, "/spec/template/spec");
    vec![
        json!(name(o)),
        json!(o.pointer("/spec/replicas").and_then(J::as_i64).unwrap_or(1)),
        json!(i(o, "/status/replicas")),
        json!(i(o, "/status/readyReplicas")),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/selector"))),
    ]
}

fn statefulset(o: &J, now: i64) -> Vec<J> {
    let (c, im) = containers_images(o, "/spec/template/spec");
    let desired = o.pointer("/spec/replicas").and_then(J::as_i64).unwrap_or(1);
    vec![
        json!(name(o)),
        json!(format!("{}/{desired}", i(o, "/status/readyReplicas"))),
        json!(age(o, now)),
        json!(c),
        json!(im),
    ]
}

fn daemonset(o: &J, now: i64) -> Vec<J> {
    let (c, im) = containers_images(o, "/spec/template/spec");
    let ns = o
        .pointer("/spec/template/spec/nodeSelector")
        .and_then(J::as_object)
        .map(|m| {
            let mut kv: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            kv.sort();
            kv.join(",")
        })
        .unwrap_or_default();
    vec![
        json!(name(o)),
        json!(i(o, "/status/desiredNumberScheduled")),
        json!(i(o, "/status/currentNumberScheduled")),
        json!(i(o, "/status/numberReady")),
        json!(i(o, "/status/updatedNumberScheduled")),
        json!(i(o, "/status/numberAvailable")),
        json!(none_if_empty(ns)),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/selector"))),
    ]
}

fn job(o: &J, now: i64) -> Vec<J> {
    let (c, im) = containers_images(o, "/spec/template/spec");
    let succeeded = i(o, "/status/succeeded");
    let completions = match o.pointer("/spec/completions").and_then(J::as_i64) {
        Some(n) => format!("{succeeded}/{n}"),
        None => {
            let p = o
                .pointer("/spec/parallelism")
                .and_then(J::as_i64)
                .unwrap_or(0);
            if p > 1 {
                format!("{succeeded}/1 of {p}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let cond = |t: &str| {
        arr(o, "/status/conditions")
            .iter()
            .any(|c| s(c, "/type") == t && s(c, "/status") == "True")
    };
    let status = if cond("Complete") {
        "Complete"
    } else if cond("Failed") {
        "Failed"
    } else if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if cond("SuspendingJob") || cond("Suspended") {
        "Suspended"
    } else if cond("FailureTarget") {
        "FailureTarget"
    } else if cond("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let start = o
        .pointer("/status/startTime")
        .and_then(J::as_str)
        .and_then(parse_rfc3339);
    let end = o
        .pointer("/status/completionTime")
        .and_then(J::as_str)
        .and_then(parse_rfc3339);
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some((a, _)), None) => human_duration(now - a),
        (Some((a, _)), Some((b, _))) => human_duration(b - a),
    };
    vec![
        json!(name(o)),
        json!(status),
        json!(completions),
        json!(duration),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/selector"))),
    ]
}

fn cronjob(o: &J, now: i64) -> Vec<J> {
    let (c, im) = containers_images(o, "/spec/jobTemplate/spec/template/spec");
    let last = match o.pointer("/status/lastScheduleTime").and_then(J::as_str) {
        Some(t) => since(t, now),
        None => "<none>".into(),
    };
    vec![
        json!(name(o)),
        json!(s(o, "/spec/schedule")),
        json!(none_if_empty(s(o, "/spec/timeZone").to_string())),
        json!(o
            .pointer("/spec/suspend")
            .and_then(J::as_bool)
            .unwrap_or(false)),
        json!(arr(o, "/status/active").len()),
        json!(last),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/jobTemplate/spec/selector"))),
    ]
}

fn service(o: &J, now: i64) -> Vec<J> {
    let t = s(o, "/spec/type");
    let t = if t.is_empty() { "ClusterIP" } else { t };
    let cip = none_if_empty(s(o, "/spec/clusterIP").to_string());
    let ext: Vec<String> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(J::as_str)
        .map(str::to_string)
        .collect();
    let lb: Vec<String> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|x| {
            let ip = s(x, "/ip");
            if ip.is_empty() {
                s(x, "/hostname").to_string()
            } else {
                ip.to_string()
            }
        })
        .collect();
    let external = match t {
        "ExternalName" => s(o, "/spec/externalName").to_string(),
        "LoadBalancer" => {
            let mut all = lb.clone();
            all.extend(ext.clone());
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        _ => none_if_empty(ext.join(",")),
    };
    let ports: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let port = i(p, "/port");
            let proto = s(p, "/protocol");
            let proto = if proto.is_empty() { "TCP" } else { proto };
            match p.get("nodePort").and_then(J::as_i64) {
                Some(np) if np != 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect();
    vec![
        json!(name(o)),
        json!(t),
        json!(cip),
        json!(external),
        json!(none_if_empty(ports.join(","))),
        json!(age(o, now)),
        json!(selector(o.pointer("/spec/selector"))),
    ]
}

fn node(o: &J, now: i64) -> Vec<J> {
    let mut status: Vec<String> = Vec::new();
    for c in arr(o, "/status/conditions") {
        if s(c, "/type") == "Ready" {
            status.push(if s(c, "/status") == "True" {
                "Ready".into()
            } else {
                "NotReady".into()
            });
        }
    }
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if o.pointer("/spec/unschedulable").and_then(J::as_bool) == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(J::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                (!r.is_empty()).then(|| r.to_string())
            } else if k == "kubernetes.io/role" {
                v.as_str().filter(|r| !r.is_empty()).map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let addr = |t: &str| {
        arr(o, "/status/addresses")
            .iter()
            .find(|a| s(a, "/type") == t)
            .map(|a| s(a, "/address").to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    vec![
        json!(name(o)),
        json!(status.join(",")),
        json!(none_if_empty(roles.join(","))),
        json!(age(o, now)),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(none_if_empty(s(o, "/status/nodeInfo/osImage").to_string())),
        json!(none_if_empty(
            s(o, "/status/nodeInfo/kernelVersion").to_string()
        )),
        json!(none_if_empty(
            s(o, "/status/nodeInfo/containerRuntimeVersion").to_string()
        )),
    ]
}

fn namespace(o: &J, now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(s(o, "/status/phase")),
        json!(age(o, now)),
    ]
}

fn project(o: &J, _now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(s(o, "/metadata/annotations/openshift.io~1display-name")),
        json!(s(o, "/status/phase")),
    ]
}

fn count(o: &J, field: &str) -> usize {
    o.get(field).and_then(J::as_object).map_or(0, |m| m.len())
}

fn secret(o: &J, now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(s(o, "/type")),
        json!(count(o, "data") + count(o, "stringData")),
        json!(age(o, now)),
    ]
}

fn configmap(o: &J, now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(count(o, "data") + count(o, "binaryData")),
        json!(age(o, now)),
    ]
}

fn endpoints(o: &J, now: i64) -> Vec<J> {
    let mut list: Vec<String> = Vec::new();
    let mut more = 0;
    for ss in arr(o, "/subsets") {
        for a in arr(ss, "/addresses") {
            for p in arr(ss, "/ports") {
                if list.len() < 3 {
                    list.push(format!("{}:{}", s(a, "/ip"), i(p, "/port")));
                } else {
                    more += 1;
                }
            }
            if arr(ss, "/ports").is_empty() {
                if list.len() < 3 {
                    list.push(s(a, "/ip").to_string());
                } else {
                    more += 1;
                }
            }
        }
    }
    let mut e = list.join(",");
    if more > 0 {
        e.push_str(&format!(" + {more} more..."));
    }
    vec![json!(name(o)), json!(none_if_empty(e)), json!(age(o, now))]
}

fn event(o: &J, now: i64) -> Vec<J> {
    let when = |ptr: &str| match o.pointer(ptr).and_then(J::as_str) {
        Some(t) if !t.is_empty() => Some(since(t, now)),
        _ => None,
    };
    let first = when("/firstTimestamp")
        .or_else(|| when("/eventTime"))
        .unwrap_or_else(|| "<unknown>".into());
    let last = when("/series/lastObservedTime")
        .or_else(|| when("/lastTimestamp"))
        .or_else(|| when("/eventTime"))
        .unwrap_or_else(|| first.clone());
    let count = o
        .pointer("/series/count")
        .and_then(J::as_i64)
        .or_else(|| o.get("count").and_then(J::as_i64))
        .unwrap_or(1);
    let last = if count > 1 {
        format!("{last} (x{count} over {first})")
    } else {
        last
    };
    let kind = s(o, "/involvedObject/kind").to_ascii_lowercase();
    let object = format!("{kind}/{}", s(o, "/involvedObject/name"));
    let mut source = s(o, "/source/component").to_string();
    if source.is_empty() {
        source = s(o, "/reportingComponent").to_string();
    }
    if !s(o, "/source/host").is_empty() {
        source = format!("{source}, {}", s(o, "/source/host"));
    }
    vec![
        json!(last),
        json!(s(o, "/type")),
        json!(s(o, "/reason")),
        json!(object),
        json!(s(o, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(o, "/message").trim()),
        json!(first),
        json!(count),
        json!(name(o)),
    ]
}

fn pvc(o: &J, now: i64) -> Vec<J> {
    let phase = if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else {
        s(o, "/status/phase")
    };
    let modes: Vec<String> = arr(o, "/status/accessModes")
        .iter()
        .filter_map(J::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO".to_string(),
            "ReadOnlyMany" => "ROX".to_string(),
            "ReadWriteMany" => "RWX".to_string(),
            "ReadWriteOncePod" => "RWOP".to_string(),
            other => other.to_string(),
        })
        .collect();
    let vm = s(o, "/spec/volumeMode");
    vec![
        json!(name(o)),
        json!(phase),
        json!(s(o, "/spec/volumeName")),
        json!(s(o, "/status/capacity/storage")),
        json!(modes.join(",")),
        json!(s(o, "/spec/storageClassName")),
        json!(none_if_empty(
            s(o, "/spec/volumeAttributesClassName").to_string()
        )),
        json!(age(o, now)),
        json!(if vm.is_empty() { "<unset>" } else { vm }),
    ]
}

fn ingress(o: &J, now: i64) -> Vec<J> {
    let hosts: Vec<&str> = arr(o, "/spec/rules")
        .iter()
        .map(|r| s(r, "/host"))
        .filter(|h| !h.is_empty())
        .collect();
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else {
        hosts.join(",")
    };
    let addr: Vec<String> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|x| {
            let ip = s(x, "/ip");
            if ip.is_empty() {
                s(x, "/hostname").to_string()
            } else {
                ip.to_string()
            }
        })
        .collect();
    let ports = if arr(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(o)),
        json!(none_if_empty(s(o, "/spec/ingressClassName").to_string())),
        json!(hosts),
        json!(addr.join(",")),
        json!(ports),
        json!(age(o, now)),
    ]
}

fn lease(o: &J, now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(s(o, "/spec/holderIdentity")),
        json!(age(o, now)),
    ]
}

fn route(o: &J, _now: i64) -> Vec<J> {
    let mut host = s(o, "/spec/host").to_string();
    let admitted = arr(o, "/status/ingress").iter().any(|ing| {
        arr(ing, "/conditions")
            .iter()
            .any(|c| s(c, "/type") == "Admitted" && s(c, "/status") == "True")
    });
    if !admitted && !arr(o, "/status/ingress").is_empty() {
        host.push_str(" ... 1 rejected");
    }
    let mut services = Vec::new();
    let to = o.pointer("/spec/to");
    let mut backends: Vec<&J> = to.into_iter().collect();
    backends.extend(arr(o, "/spec/alternateBackends"));
    let total: i64 = backends
        .iter()
        .map(|b| b.get("weight").and_then(J::as_i64).unwrap_or(100))
        .sum();
    for b in &backends {
        let n = s(b, "/name");
        if backends.len() > 1 && total > 0 {
            let w = b.get("weight").and_then(J::as_i64).unwrap_or(100);
            services.push(format!("{n}({}%)", w * 100 / total));
        } else {
            services.push(n.to_string());
        }
    }
    let port = o
        .pointer("/spec/port/targetPort")
        .map(|p| match p {
            J::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "<all>".into());
    let tls = match s(o, "/spec/tls/termination") {
        "" => String::new(),
        t => {
            let insecure = s(o, "/spec/tls/insecureEdgeTerminationPolicy");
            if insecure.is_empty() {
                t.to_string()
            } else {
                format!("{t}/{insecure}")
            }
        }
    };
    let wildcard = s(o, "/spec/wildcardPolicy");
    vec![
        json!(name(o)),
        json!(host),
        json!(s(o, "/spec/path")),
        json!(services.join(",")),
        json!(port),
        json!(tls),
        json!(if wildcard.is_empty() {
            "None"
        } else {
            wildcard
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_as_kubectl() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (3 * 86400 + 3600, "3d1h"),
            (30 * 86400, "30d"),
            (800 * 86400, "2y70d"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn pod_and_deployment_rows() {
        let now = parse_rfc3339("2026-11-21T10:15:00Z").unwrap().0;
        let pod_obj = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2026-11-21T10:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
                {"ready": true, "restartCount": 2, "state": {"running": {}}},
                {"ready": false, "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
            ]}
        });
        let p = builtin("", "Pod").unwrap();
        let row = p.row(&pod_obj, now);
        assert_eq!(row.len(), p.columns.len());
        assert_eq!(
            row[..5],
            [
                json!("web-1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("2"),
                json!("15m")
            ]
        );
        assert_eq!(row[5..7], [json!("10.0.0.5"), json!("n1")]);
        let d = json!({"metadata": {"name": "web", "creationTimestamp": "2026-11-20T10:15:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let row = builtin("apps", "Deployment").unwrap().row(&d, now);
        assert_eq!(
            row,
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("24h"),
                json!("nginx"),
                json!("nginx:1.27"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn crd_columns_follow_json_paths() {
        let p = crd_columns(&[
            json!({"name": "Color", "type": "string", "jsonPath": ".spec.color"}),
            json!({"name": "Size", "type": "integer", "jsonPath": ".spec.size"}),
        ]);
        let o = json!({"metadata": {"name": "blue"}, "spec": {"color": "blue", "size": 3}});
        assert_eq!(p.row(&o, 0), [json!("blue"), json!("blue"), json!(3)]);
        let p = crd_columns(&[]);
        assert_eq!(p.columns.last().unwrap().name, "Age");
        assert_eq!(
            json_path(&json!({"a": [{"b": 1}, {"b": 2}]}), ".a[*].b").len(),
            2
        );
    }
}
