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
    pub(crate) fn row(&self, obj: &J, now: i64) -> Vec<J> {
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
pub(crate) fn builtin(group: &str, kind: &str) -> Option<Printer> {
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
        ("", "ServiceAccount") => (
            &[
                ("Name", "string", 0),
                ("Secrets", "string", 0),
                ("Age", "string", 0),
            ],
            service_account,
        ),
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
        ("apiregistration.k8s.io", "APIService") => (
            &[
                ("Name", "string", 0),
                ("Service", "string", 0),
                ("Available", "string", 0),
                ("Age", "string", 0),
            ],
            api_service,
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
pub(crate) fn default_printer() -> Printer {
    Printer {
        columns: vec![col("Name", "string", 0), col("Age", "date", 0)],
        cells: Cells::Builtin(name_age),
    }
}

/// The printer of a custom resource from its CRD version's
/// `additionalPrinterColumns` (NAME first, AGE last when none is given,
/// as the apiextensions-apiserver does).
pub(crate) fn crd_columns(additional: &[J]) -> Printer {
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
pub(crate) fn json_path<'v>(obj: &'v J, path: &str) -> Vec<&'v J> {
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

/// A custom resource's cell as the apiextensions-apiserver makes it: the
/// first value the path finds; `string` columns print any value (objects
/// and lists as JSON); other types keep a value of their type only
/// (integers truncated from numbers), else the cell is empty; `date` is
/// the age of an RFC 3339 time (`<invalid>` when it does not parse).
fn crd_cell(v: Vec<&J>, kind: &str, now: i64) -> J {
    let Some(&x) = v.first() else {
        return J::Null;
    };
    match (kind, x) {
        (_, J::Null) => J::Null,
        ("string", J::String(s)) => J::String(s.clone()),
        ("string", other) => J::String(other.to_string()),
        ("integer", J::Number(n)) => match n.as_i64() {
            Some(i) => json!(i),
            None => json!(n.as_f64().unwrap_or(0.0) as i64),
        },
        ("number", J::Number(n)) => json!(n.as_f64().unwrap_or(0.0)),
        ("boolean", J::Bool(b)) => json!(b),
        ("date", J::String(s)) => match parse_rfc3339(s) {
            Some((t, _)) => J::String(human_duration(now - t)),
            None => J::String("<invalid>".into()),
        },
        _ => J::Null,
    }
}

/// kubectl's human duration (`duration.HumanDuration`) for `seconds`.
pub(crate) fn human_duration(seconds: i64) -> String {
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

/// The generic table (CRDs): the creation time in RFC 3339, UTC.
fn crd_row(o: &J, _now: i64) -> Vec<J> {
    let t = match parse_rfc3339(s(o, "/metadata/creationTimestamp")) {
        Some((secs, _)) => super::timefmt::rfc3339(secs, None),
        // Go's zero time.
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    vec![json!(name(o)), json!(t)]
}

fn service_account(o: &J, now: i64) -> Vec<J> {
    vec![
        json!(name(o)),
        json!(arr(o, "/secrets").len()),
        json!(age(o, now)),
    ]
}

/// kube-aggregator's table: the backing Service (`Local` without one) and
/// the Available condition (`False (Reason)` when not true and a reason
/// is given; `Unknown` without the condition).
fn api_service(o: &J, now: i64) -> Vec<J> {
    let service = match o.pointer("/spec/service") {
        Some(svc) if !svc.is_null() => format!("{}/{}", s(svc, "/namespace"), s(svc, "/name")),
        _ => "Local".to_string(),
    };
    let available = match arr(o, "/status/conditions")
        .iter()
        .find(|c| s(c, "/type") == "Available")
    {
        None => "Unknown".to_string(),
        Some(c) if s(c, "/status") == "True" => "True".to_string(),
        Some(c) if !s(c, "/reason").is_empty() => {
            format!("{} ({})", s(c, "/status"), s(c, "/reason"))
        }
        Some(c) => s(c, "/status").to_string(),
    };
    vec![
        json!(name(o)),
        json!(service),
        json!(available),
        json!(age(o, now)),
    ]
}

/// A label selector (`matchLabels` + `matchExpressions`) as the apiserver
/// writes it: requirements sorted by key, `k=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k` (values sorted); `<none>` when empty.
fn selector(sel: Option<&J>) -> String {
    none_if_empty(selector_string(sel))
}

/// The selector's string, empty when it selects everything. A plain map
/// (a Service's, a ReplicationController's) reads as `matchLabels`.
fn selector_string(sel: Option<&J>) -> String {
    let Some(sel) = sel else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    let plain = sel.get("matchLabels").is_none() && sel.get("matchExpressions").is_none();
    let labels = if plain {
        sel.as_object()
    } else {
        sel.get("matchLabels").and_then(J::as_object)
    };
    for (k, v) in labels.into_iter().flatten() {
        reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
    }
    for e in sel
        .get("matchExpressions")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(J::as_str).unwrap_or("");
        let mut vals: Vec<&str> = e
            .get("values")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
            .collect();
        vals.sort_unstable();
        let text = match e.get("operator").and_then(J::as_str).unwrap_or("") {
            "In" => format!("{key} in ({})", vals.join(",")),
            "NotIn" => format!("{key} notin ({})", vals.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// A string→string map as `k=v,…` sorted by key; `<none>` when empty.
fn label_map(m: Option<&J>) -> String {
    let mut kv: Vec<(&String, &str)> = m
        .and_then(J::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.as_str().unwrap_or("")))
        .collect();
    kv.sort();
    none_if_empty(
        kv.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
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

/// Whether an init container is a sidecar (`restartPolicy: Always`).
fn restartable(o: &J, name: &str) -> bool {
    arr(o, "/spec/initContainers")
        .iter()
        .any(|c| s(c, "/name") == name && s(c, "/restartPolicy") == "Always")
}

fn pod(o: &J, now: i64) -> Vec<J> {
    let mut total = arr(o, "/spec/containers").len();
    let mut ready = 0;
    let mut reason = s(o, "/status/phase").to_string();
    if !s(o, "/status/reason").is_empty() {
        reason = s(o, "/status/reason").to_string();
    }
    let conditions = arr(o, "/status/conditions");
    if conditions
        .iter()
        .any(|c| s(c, "/type") == "PodScheduled" && s(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let init_specs = arr(o, "/spec/initContainers");
    total += init_specs
        .iter()
        .filter(|c| s(c, "/restartPolicy") == "Always")
        .count();
    // Last restart: the newest lastState.terminated.finishedAt (RFC 3339
    // strings of one format compare as times).
    let newer = |cur: &mut Option<String>, c: &J| {
        if let Some(t) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(J::as_str)
        {
            if cur.as_deref().is_none_or(|l| t > l) {
                *cur = Some(t.to_string());
            }
        }
    };
    let mut restarts = 0;
    let mut last_restart: Option<String> = None;
    let mut sidecar_restarts = 0;
    let mut sidecar_last: Option<String> = None;
    let mut initializing = false;
    for (n, c) in arr(o, "/status/initContainerStatuses").iter().enumerate() {
        restarts += i(c, "/restartCount");
        newer(&mut last_restart, c);
        let sidecar = restartable(o, s(c, "/name"));
        if sidecar {
            sidecar_restarts += i(c, "/restartCount");
            newer(&mut sidecar_last, c);
        }
        let terminated = c.pointer("/state/terminated");
        if terminated.is_some_and(|t| i(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && c.get("started").and_then(J::as_bool) == Some(true) {
            if c.get("ready").and_then(J::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = s(t, "/reason");
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if i(t, "/signal") != 0 {
                format!("Init:Signal:{}", i(t, "/signal"))
            } else {
                format!("Init:ExitCode:{}", i(t, "/exitCode"))
            };
        } else if !s(c, "/state/waiting/reason").is_empty()
            && s(c, "/state/waiting/reason") != "PodInitializing"
        {
            reason = format!("Init:{}", s(c, "/state/waiting/reason"));
        } else {
            reason = format!("Init:{n}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .find(|c| s(c, "/type") == "Initialized")
        .is_some_and(|c| s(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = sidecar_last;
        let mut has_running = false;
        for c in arr(o, "/status/containerStatuses").iter().rev() {
            restarts += i(c, "/restartCount");
            newer(&mut last_restart, c);
            let waiting = s(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated");
            if c.pointer("/state/waiting").is_some() && !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                let r = s(t, "/reason");
                reason = if !r.is_empty() {
                    r.to_string()
                } else if i(t, "/signal") != 0 {
                    format!("Signal:{}", i(t, "/signal"))
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
            reason = if conditions
                .iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
            {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let deleting = o.pointer("/metadata/deletionTimestamp").is_some();
    let phase = s(o, "/status/phase");
    if deleting && s(o, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts_cell = match &last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(t, now)),
        _ => restarts.to_string(),
    };
    // The first pod IP; the v1 `podIP` wins when both are given (as the
    // apiserver converts them).
    let ip = match s(o, "/status/podIP") {
        "" => arr(o, "/status/podIPs")
            .first()
            .map(|p| s(p, "/ip").to_string())
            .unwrap_or_default(),
        ip => ip.to_string(),
    };
    let node = none_if_empty(s(o, "/spec/nodeName").to_string());
    let nominated = none_if_empty(s(o, "/status/nominatedNodeName").to_string());
    let gates = arr(o, "/spec/readinessGates");
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        // Each gate's condition: the first of its type.
        let ok = gates
            .iter()
            .filter(|g| {
                let t = s(g, "/conditionType");
                conditions
                    .iter()
                    .find(|c| s(c, "/type") == t)
                    .is_some_and(|c| s(c, "/status") == "True")
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
        json!(none_if_empty(ip)),
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
        json!(selector_string(o.pointer("/spec/selector"))),
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
    vec![
        json!(name(o)),
        json!(i(o, "/status/desiredNumberScheduled")),
        json!(i(o, "/status/currentNumberScheduled")),
        json!(i(o, "/status/numberReady")),
        json!(i(o, "/status/updatedNumberScheduled")),
        json!(i(o, "/status/numberAvailable")),
        json!(label_map(o.pointer("/spec/template/spec/nodeSelector"))),
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
    // A condition counts by its first entry of that type.
    let cond = |t: &str| {
        arr(o, "/status/conditions")
            .iter()
            .find(|c| s(c, "/type") == t)
            .is_some_and(|c| s(c, "/status") == "True")
    };
    let status = if cond("Complete") {
        "Complete"
    } else if cond("Failed") {
        "Failed"
    } else if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if cond("Suspended") {
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
        json!(match o.pointer("/spec/suspend").and_then(J::as_bool) {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        }),
        json!(arr(o, "/status/active").len()),
        json!(last),
        json!(age(o, now)),
        json!(c),
        json!(im),
        json!(selector(o.pointer("/spec/jobTemplate/spec/selector"))),
    ]
}

/// Load-balancer ingress points: IPs, else host names, sorted and
/// without duplicates.
fn lb_points(o: &J) -> Vec<String> {
    let mut v: Vec<String> = arr(o, "/status/loadBalancer/ingress")
        .iter()
        .filter_map(|x| {
            let ip = s(x, "/ip");
            let host = s(x, "/hostname");
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !host.is_empty() {
                Some(host.to_string())
            } else {
                None
            }
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn service(o: &J, now: i64) -> Vec<J> {
    let t = s(o, "/spec/type");
    // The first cluster IP (`clusterIP` wins over `clusterIPs`, as the
    // apiserver converts them).
    let cip = match s(o, "/spec/clusterIP") {
        "" => arr(o, "/spec/clusterIPs")
            .first()
            .and_then(J::as_str)
            .unwrap_or("<none>")
            .to_string(),
        ip => ip.to_string(),
    };
    let ext: Vec<String> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(J::as_str)
        .map(str::to_string)
        .collect();
    let external = match t {
        "ClusterIP" | "NodePort" => none_if_empty(ext.join(",")),
        "LoadBalancer" => {
            let mut all = lb_points(o);
            all.extend(ext);
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => s(o, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let port = i(p, "/port");
            let proto = s(p, "/protocol");
            match i(p, "/nodePort") {
                np if np > 0 => format!("{port}:{np}/{proto}"),
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
        json!(label_map(o.pointer("/spec/selector"))),
    ]
}

fn node(o: &J, now: i64) -> Vec<J> {
    // The Ready condition (the last entry of that type counts).
    let mut status: Vec<String> = Vec::new();
    if let Some(c) = arr(o, "/status/conditions")
        .iter()
        .rfind(|c| s(c, "/type") == "Ready")
    {
        status.push(if s(c, "/status") == "True" {
            "Ready".into()
        } else {
            "NotReady".into()
        });
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
    let unknown = |p: &str| match s(o, p) {
        "" => "<unknown>".to_string(),
        v => v.to_string(),
    };
    vec![
        json!(name(o)),
        json!(status.join(",")),
        json!(none_if_empty(roles.join(","))),
        json!(age(o, now)),
        json!(s(o, "/status/nodeInfo/kubeletVersion")),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(unknown("/status/nodeInfo/osImage")),
        json!(unknown("/status/nodeInfo/kernelVersion")),
        json!(unknown("/status/nodeInfo/containerRuntimeVersion")),
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
        json!(count(o, "data")),
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
    let subsets = arr(o, "/subsets");
    if subsets.is_empty() {
        return vec![json!(name(o)), json!("<none>"), json!(age(o, now))];
    }
    // At most 3 entries; ports outer, addresses inner; `+ N more...`
    // counts every address (per port) past the third.
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut count = 0;
    let mut more = false;
    for ss in subsets {
        let addrs = arr(ss, "/addresses");
        let ports = arr(ss, "/ports");
        if ports.is_empty() {
            count += addrs.len();
            for a in addrs {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(s(a, "/ip").to_string());
            }
            continue;
        }
        for p in ports {
            count += addrs.len();
            for a in addrs {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                let ip = s(a, "/ip");
                let port = i(p, "/port");
                list.push(if ip.contains(':') {
                    format!("[{ip}]:{port}")
                } else {
                    format!("{ip}:{port}")
                });
            }
        }
    }
    let mut e = list.join(",");
    if more {
        e = format!("{e} + {} more...", count - MAX);
    }
    vec![json!(name(o)), json!(e), json!(age(o, now))]
}

fn event(o: &J, now: i64) -> Vec<J> {
    let when = |ptr: &str| match o.pointer(ptr).and_then(J::as_str) {
        Some(t) if !t.is_empty() => Some(since(t, now)),
        _ => None,
    };
    let first = when("/firstTimestamp")
        .or_else(|| when("/eventTime"))
        .unwrap_or_else(|| "<unknown>".into());
    let mut last = when("/lastTimestamp").unwrap_or_else(|| first.clone());
    let mut count = i(o, "/count");
    if o.get("series").is_some_and(|x| !x.is_null()) {
        last = when("/series/lastObservedTime").unwrap_or_else(|| "<unknown>".into());
        count = i(o, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = s(o, "/involvedObject/kind").to_lowercase();
    let target = match s(o, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let or = |a: &str, b: &str| {
        let a = s(o, a);
        if a.is_empty() {
            s(o, b).to_string()
        } else {
            a.to_string()
        }
    };
    let component = or("/source/component", "/reportingComponent");
    let instance = or("/source/host", "/reportingInstance");
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(s(o, "/type")),
        json!(s(o, "/reason")),
        json!(target),
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
    // Capacity and access modes once bound to a volume; modes in the
    // apiserver's fixed order, each once.
    let bound = !s(o, "/spec/volumeName").is_empty();
    let (capacity, modes) = if bound {
        let have: Vec<&str> = arr(o, "/status/accessModes")
            .iter()
            .filter_map(J::as_str)
            .collect();
        let modes: Vec<&str> = [
            ("ReadWriteOnce", "RWO"),
            ("ReadOnlyMany", "ROX"),
            ("ReadWriteMany", "RWX"),
            ("ReadWriteOncePod", "RWOP"),
        ]
        .iter()
        .filter(|(m, _)| have.contains(m))
        .map(|(_, short)| *short)
        .collect();
        (
            s(o, "/status/capacity/storage").to_string(),
            modes.join(","),
        )
    } else {
        (String::new(), String::new())
    };
    let class = match o
        .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(J::as_str)
    {
        Some(c) => c,
        None => s(o, "/spec/storageClassName"),
    };
    let vac = o
        .pointer("/spec/volumeAttributesClassName")
        .and_then(J::as_str)
        .unwrap_or("<unset>");
    let vm = s(o, "/spec/volumeMode");
    vec![
        json!(name(o)),
        json!(phase),
        json!(s(o, "/spec/volumeName")),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(vac),
        json!(age(o, now)),
        json!(if vm.is_empty() { "<unset>" } else { vm }),
    ]
}

fn ingress(o: &J, now: i64) -> Vec<J> {
    // At most 3 hosts, `+ N more...` counting every rule past them.
    let rules = arr(o, "/spec/rules");
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for r in rules {
        if hosts.len() == 3 {
            more = true;
        }
        if !more && !s(r, "/host").is_empty() {
            hosts.push(s(r, "/host"));
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - 3)
    } else {
        hosts.join(",")
    };
    let ports = if arr(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    let class = o
        .pointer("/spec/ingressClassName")
        .and_then(J::as_str)
        .unwrap_or("<none>");
    vec![
        json!(name(o)),
        json!(class),
        json!(hosts),
        json!(lb_points(o).join(",")),
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
    let spec_host = s(o, "/spec/host");
    let mut host = spec_host.to_string();
    let (mut admitted, mut errors) = (0, 0);
    let mut matched = false;
    let mut reason = String::new();
    let ingress = arr(o, "/status/ingress");
    for ing in ingress {
        // The first Admitted condition of each router.
        let c = arr(ing, "/conditions")
            .iter()
            .find(|c| s(c, "/type") == "Admitted");
        match c.map(|c| s(c, "/status")) {
            Some("True") => {
                admitted += 1;
                if !matched {
                    matched = s(ing, "/host") == spec_host;
                    host = s(ing, "/host").to_string();
                }
            }
            Some("False") => {
                reason = c.map(|c| s(c, "/reason")).unwrap_or("").to_string();
                errors += 1;
            }
            _ => {}
        }
    }
    // No ingress at all (as protobuf stores an empty list): the spec's host.
    if !ingress.is_empty() {
        if admitted == 0 && errors > 0 {
            host = reason;
        } else if errors > 0 {
            host = format!("{host} ... {errors} rejected");
        } else if admitted == 0 {
            host = "Pending".into();
        } else if admitted > 1 {
            host = format!("{host} ... {} more", admitted - 1);
        }
    }
    let term = s(o, "/spec/tls/termination");
    let insecure = s(o, "/spec/tls/insecureEdgeTerminationPolicy");
    let policy = match (term.is_empty(), insecure.is_empty()) {
        (false, false) => format!("{term}/{insecure}"),
        (false, true) => term.to_string(),
        (true, false) => format!("default/{insecure}"),
        (true, true) => String::new(),
    };
    let mut backends: Vec<&J> = o.pointer("/spec/to").into_iter().collect();
    backends.extend(arr(o, "/spec/alternateBackends"));
    let weight = |b: &J| b.get("weight").and_then(J::as_i64);
    let total: i64 = backends.iter().filter_map(|b| weight(b)).sum();
    let services: Vec<String> = backends
        .iter()
        .map(|b| {
            let n = s(b, "/name");
            match weight(b) {
                None => n.to_string(),
                Some(_) if backends.len() == 1 && total != 0 => n.to_string(),
                Some(_) if total == 0 => format!("{n}(0%)"),
                Some(w) => format!("{n}({}%)", w * 100 / total),
            }
        })
        .collect();
    let port = match o.pointer("/spec/port/targetPort") {
        Some(J::String(p)) => p.clone(),
        Some(J::Number(n)) => n.to_string(),
        _ if o.pointer("/spec/port").is_some_and(|p| !p.is_null()) => "0".into(),
        _ => "<all>".into(),
    };
    vec![
        json!(name(o)),
        json!(host),
        json!(s(o, "/spec/path")),
        json!(services.join(",")),
        json!(port),
        json!(policy),
        json!(s(o, "/spec/wildcardPolicy")),
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
    fn rows_follow_the_apiservers_printers() {
        let row = |g: &str, k: &str, o: J| builtin(g, k).unwrap().row(&o, 1_000_000);
        // Selector: requirements sorted by key, values sorted.
        let sel = json!({"matchLabels": {"b": "2"},
            "matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]},
                                 {"key": "c", "operator": "DoesNotExist"}]});
        assert_eq!(selector(Some(&sel)), "a in (x,y),b=2,!c");
        assert_eq!(selector(Some(&json!({}))), "<none>");
        // Service: LoadBalancer points sorted, then external IPs; node ports.
        let svc = row(
            "",
            "Service",
            json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1",
            "externalIPs": ["9.9.9.9"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "5.5.5.5"}, {"hostname": "a.example"}]}}}),
        );
        assert_eq!(svc[3], json!("5.5.5.5,a.example,9.9.9.9"));
        assert_eq!(svc[4], json!("80:30080/TCP"));
        // Endpoints: three shown, the rest counted.
        let ep = row(
            "",
            "Endpoints",
            json!({"subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}],
            "ports": [{"port": 80}, {"port": 443}]}]}),
        );
        assert_eq!(
            ep[1],
            json!("1.1.1.1:80,1.1.1.2:80,1.1.1.1:443 + 1 more...")
        );
        // CronJob suspend as the printer writes a *bool.
        assert_eq!(
            row("batch", "CronJob", json!({"spec": {"suspend": true}}))[3],
            json!("True")
        );
        assert_eq!(
            row("batch", "CronJob", json!({"spec": {}}))[3],
            json!("<unset>")
        );
        // PVC: capacity and modes only once bound.
        let pvc = row(
            "",
            "PersistentVolumeClaim",
            json!({"spec": {"storageClassName": "gp3"},
            "status": {"phase": "Pending", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}}),
        );
        assert_eq!(
            pvc[3..7],
            [json!(""), json!(""), json!("gp3"), json!("<unset>")]
        );
        // Route: admitted by two routers, weighted backends.
        let r = row(
            "route.openshift.io",
            "Route",
            json!({"spec": {"host": "h", "to": {"name": "a", "weight": 3},
            "alternateBackends": [{"name": "b", "weight": 1}], "wildcardPolicy": "None"},
            "status": {"ingress": [
                {"host": "h", "conditions": [{"type": "Admitted", "status": "True"}]},
                {"host": "h", "conditions": [{"type": "Admitted", "status": "True"}]}]}}),
        );
        assert_eq!(
            r[1..5],
            [
                json!("h ... 1 more"),
                json!(""),
                json!("a(75%),b(25%)"),
                json!("<all>")
            ]
        );
        let r = row(
            "route.openshift.io",
            "Route",
            json!({"spec": {"host": "h", "to": {"name": "a"}},
            "status": {"ingress": [{"conditions": [{"type": "Admitted", "status": "False", "reason": "HostAlreadyClaimed"}]}]}}),
        );
        assert_eq!(r[1], json!("HostAlreadyClaimed"));
        // Event with a series: its count and last observation.
        let e = row(
            "",
            "Event",
            json!({"involvedObject": {"kind": "Pod"}, "count": 0,
            "series": {"count": 4, "lastObservedTime": "1970-01-12T13:46:00Z"},
            "reportingComponent": "kubelet", "reportingInstance": "n1"}),
        );
        assert_eq!(
            (&e[0], &e[3], &e[5], &e[8]),
            (
                &json!("40s"),
                &json!("pod"),
                &json!("kubelet, n1"),
                &json!(4)
            )
        );
        // Node: OS fields unknown, not none.
        assert_eq!(row("", "Node", json!({}))[7], json!("<unknown>"));
        // APIService: local, and unavailable with its reason.
        let a = row(
            "apiregistration.k8s.io",
            "APIService",
            json!({"spec": {},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}}),
        );
        assert_eq!(a[1..3], [json!("Local"), json!("False (MissingEndpoints)")]);
        // CRD cells: the first value only; wrong types empty; bad dates.
        assert_eq!(
            crd_cell(vec![&json!("a"), &json!("b")], "string", 0),
            json!("a")
        );
        assert_eq!(crd_cell(vec![&json!("x")], "integer", 0), J::Null);
        assert_eq!(crd_cell(vec![&json!(2.7)], "integer", 0), json!(2));
        assert_eq!(
            crd_cell(vec![&json!("soon")], "date", 0),
            json!("<invalid>")
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
