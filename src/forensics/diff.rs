//! Differences between two states of the key space, and field-level
//! differences between two decoded objects.
//!
//! Key level: a merge-join of two key-sorted lists of live records gives the
//! keys added, removed and changed (value bytes differ). Object level: a
//! walk of two JSON values gives paths such as
//! `spec.template.spec.containers[0].image`.

use serde::Serialize;
use serde_json::Value;

use crate::mvcc::Record;

/// The uids of an object that was deleted and created again under the
/// same key: `Some((old, new))` when both carry a uid and they differ.
pub(crate) fn recreated(old: &Value, new: &Value) -> Option<(String, String)> {
    let uid = |v: &Value| {
        v.pointer("/metadata/uid")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match (uid(old), uid(new)) {
        (Some(a), Some(b)) if a != b => Some((a, b)),
        _ => None,
    }
}

/// One `metadata.managedFields` entry: who wrote, how, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldManager {
    pub manager: String,
    pub operation: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub time: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

fn managers(v: &Value) -> Vec<FieldManager> {
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    v.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| FieldManager {
                    manager: s(e, "manager"),
                    operation: s(e, "operation"),
                    time: s(e, "time"),
                    subresource: s(e, "subresource"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The managedFields entries of `new` that `old` lacks or held with other
/// fields or another time: who changed the object between the two.
pub(crate) fn changed_by(old: &Value, new: &Value) -> Vec<FieldManager> {
    let before = managers(old);
    let (mut out, after): (Vec<_>, Vec<_>) = (Vec::new(), managers(new));
    let fields = |v: &Value, m: &FieldManager| {
        v.pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter().find(|e| {
                    e.get("manager").and_then(Value::as_str) == Some(m.manager.as_str())
                        && e.get("operation").and_then(Value::as_str) == Some(m.operation.as_str())
                })
            })
            .and_then(|e| e.get("fieldsV1").cloned())
    };
    for m in after {
        let same = before.contains(&m) && fields(old, &m) == fields(new, &m);
        if !same {
            out.push(m);
        }
    }
    out
}

/// The keys that differ between two key-sorted states.
#[derive(Debug, Default)]
pub struct KeyDiff<'a, 'b> {
    pub added: Vec<Record<'b>>,
    pub removed: Vec<Record<'a>>,
    /// (old, new) where the stored value bytes differ.
    pub changed: Vec<(Record<'a>, Record<'b>)>,
    /// Keys present and byte-identical on both sides.
    pub unchanged: usize,
}

impl KeyDiff<'_, '_> {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Merge-joins two states, each sorted by key (as `Store::state_at` returns
/// them).
pub fn diff_states<'a, 'b>(old: &[Record<'a>], new: &[Record<'b>]) -> KeyDiff<'a, 'b> {
    let mut d = KeyDiff::default();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => match a.kv.key.cmp(b.kv.key) {
                std::cmp::Ordering::Less => {
                    d.removed.push(*a);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    d.added.push(*b);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a.kv.value != b.kv.value {
                        d.changed.push((*a, *b));
                    } else {
                        d.unchanged += 1;
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                d.removed.push(*a);
                i += 1;
            }
            (None, Some(b)) => {
                d.added.push(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    d
}

/// One field-level change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl FieldChange {
    /// `+` added, `-` removed, `~` changed.
    pub fn sign(&self) -> char {
        match (&self.old, &self.new) {
            (None, Some(_)) => '+',
            (Some(_), None) => '-',
            _ => '~',
        }
    }
}

/// A path pattern for `--ignore`: dotted segments where `*` matches one
/// segment and `[*]` (or `[]`) any list index; a pattern matches a path and
/// everything below it. `metadata.managedFields` hides all managed fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(Vec<String>);

impl PathPattern {
    pub fn parse(s: &str) -> PathPattern {
        PathPattern(split_path(s))
    }

    fn matches(&self, path: &[String]) -> bool {
        if self.0.len() > path.len() {
            return false;
        }
        self.0
            .iter()
            .zip(path)
            .all(|(p, s)| p == s || p == "*" || ((p == "[*]" || p == "[]") && s.starts_with('[')))
    }
}

/// Paths hidden unless asked for: they change on every write.
pub const DEFAULT_IGNORES: &[&str] = &["metadata.resourceVersion", "metadata.managedFields"];

fn split_path(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in s.split('.') {
        let mut rest = part;
        while let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(rest[..i].to_string());
            }
            let end = rest[i..].find(']').map(|e| i + e + 1).unwrap_or(rest.len());
            out.push(rest[i..end].to_string());
            rest = &rest[end..];
        }
        if !rest.is_empty() {
            out.push(rest.to_string());
        }
    }
    out
}

fn join_path(segs: &[String]) -> String {
    let mut s = String::new();
    for seg in segs {
        if seg.starts_with('[') {
            s.push_str(seg);
        } else if seg.contains('.') {
            // Keys with dots (annotations, labels) are quoted, as JSONPath
            // needs them.
            s.push_str(&format!("[{seg:?}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

/// Field-level differences of two objects, skipping `ignore`d paths.
pub(crate) fn json_diff(old: &Value, new: &Value, ignore: &[PathPattern]) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(old, new, &mut path, ignore, &mut out);
    out
}

/// A member (map key or list index) present on one side or both.
fn member(
    a: Option<&Value>,
    b: Option<&Value>,
    path: &mut Vec<String>,
    ignore: &[PathPattern],
    out: &mut Vec<FieldChange>,
) {
    match (a, b) {
        (Some(va), Some(vb)) => walk(va, vb, path, ignore, out),
        (va, vb) => {
            if !ignore.iter().any(|p| p.matches(path)) {
                out.push(FieldChange {
                    path: join_path(path),
                    old: va.cloned(),
                    new: vb.cloned(),
                })
            }
        }
    }
}

fn walk(
    a: &Value,
    b: &Value,
    path: &mut Vec<String>,
    ignore: &[PathPattern],
    out: &mut Vec<FieldChange>,
) {
    if ignore.iter().any(|p| p.matches(path)) {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x
                .keys()
                .chain(y.keys().filter(|k| !x.contains_key(*k)))
                .collect();
            keys.sort();
            for k in keys {
                path.push(k.clone());
                member(x.get(k), y.get(k), path, ignore, out);
                path.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                path.push(format!("[{i}]"));
                member(x.get(i), y.get(i), path, ignore, out);
                path.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(FieldChange {
            path: join_path(path),
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Vec<PathPattern> {
        DEFAULT_IGNORES
            .iter()
            .map(|p| PathPattern::parse(p))
            .collect()
    }

    #[test]
    fn image_change_and_label_added() {
        let a = json!({"metadata": {"name": "web", "resourceVersion": "5", "labels": {"app": "web"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}});
        let b = json!({"metadata": {"name": "web", "resourceVersion": "9", "labels": {"app": "web", "tier": "front"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}});
        let d = json_diff(&a, &b, &defaults());
        let got: Vec<(char, &str)> = d.iter().map(|c| (c.sign(), c.path.as_str())).collect();
        assert_eq!(
            got,
            [
                ('+', "metadata.labels.tier"),
                ('~', "spec.template.spec.containers[0].image")
            ]
        );
        assert_eq!(d[1].new, Some(json!("nginx:1.27")));
        // Without the default ignores the resourceVersion shows too.
        assert_eq!(json_diff(&a, &b, &[]).len(), 3);
    }

    #[test]
    fn patterns_and_dotted_keys() {
        let a = json!({"metadata": {"annotations": {"a.b/c": "1"}}, "items": [1, 2]});
        let b = json!({"metadata": {"annotations": {"a.b/c": "2"}}, "items": [1]});
        let d = json_diff(&a, &b, &[]);
        assert_eq!(d[0].path, "items[1]");
        assert_eq!(d[0].sign(), '-');
        assert_eq!(d[1].path, "metadata.annotations[\"a.b/c\"]");
        let d = json_diff(&a, &b, &[PathPattern::parse("items[*]")]);
        assert_eq!(d.len(), 1);
        let d = json_diff(&a, &b, &[PathPattern::parse("metadata.*")]);
        assert_eq!(d.len(), 1);
    }
}
