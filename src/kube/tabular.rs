//! kubectl's human-readable table, client side: the printer rows of
//! [`super::print`] decorated as `kubectl get` decorates a server's Table
//! (a NAMESPACE column across namespaces, `kind.group/` before names when
//! several kinds are shown, `-L` label columns and `--show-labels`, wide
//! columns only with `-o wide`) and laid out as kubectl's tab writer lays
//! it out (each column as wide as its widest cell plus 3 spaces, at least
//! 6; the last column unpadded; kinds separated by a blank line).
//!
//! One definition for `etcdsnap get` and for anything else that prints a
//! table as text; `serve` sends the same rows to kubectl as `meta/v1 Table`.

use serde_json::Value as J;

use super::print::Printer;

/// How a table is decorated (kubectl's print flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-o wide`: columns of priority > 0 too.
    pub wide: bool,
    pub no_headers: bool,
    /// `-L KEY`: a column per label key (header: the key's last `/` part,
    /// upper-cased).
    pub label_columns: Vec<String>,
    /// `--show-labels`: a LABELS column, `k=v,…` sorted, `<none>` if none.
    pub show_labels: bool,
}

/// One kind's objects, as one table.
pub struct Section<'a> {
    pub printer: &'a Printer,
    /// `kind.group` in lower case (`pod`, `deployment.apps`) when names
    /// are prefixed with it.
    pub kind_prefix: Option<String>,
    /// A NAMESPACE column first (across namespaces, namespaced kinds).
    pub with_namespace: bool,
    pub objects: Vec<&'a J>,
}

/// A cell's text as kubectl prints it: strings cut at the first line
/// break (`\n`, `\r`, form feed) with `...` after; null empty; numbers
/// and booleans as Go prints them.
pub(crate) fn cell_text(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::String(s) => match s.find(['\n', '\r', '\x0c']) {
            Some(at) => format!("{}...", &s[..at]),
            None => s.clone(),
        },
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The header and rows of one section (cells as text, before escaping).
pub fn rows(section: &Section<'_>, now: i64, opts: &Options) -> (Vec<String>, Vec<Vec<String>>) {
    let body = section
        .objects
        .iter()
        .map(|obj| {
            let (mut row, name_at) = row(section.printer, section.with_namespace, obj, now, opts);
            if let (Some(k), Some(at)) = (&section.kind_prefix, name_at) {
                row[at] = format!("{k}/{}", row[at]);
            }
            row
        })
        .collect();
    (head(section.printer, section.with_namespace, opts), body)
}

/// The cells `-L KEY` (one per key: its value, or empty) and
/// `--show-labels` (`k=v,…` sorted, `<none>` if none) add to a row.
pub fn label_cells(obj: &J, label_columns: &[String], show_labels: bool) -> Vec<String> {
    let labels = obj.pointer("/metadata/labels").and_then(J::as_object);
    let mut cells: Vec<String> = label_columns
        .iter()
        .map(|k| {
            labels
                .and_then(|m| m.get(k))
                .and_then(J::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    if show_labels {
        let mut pairs: Vec<String> = labels
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        pairs.sort();
        cells.push(if pairs.is_empty() {
            "<none>".into()
        } else {
            pairs.join(",")
        });
    }
    cells
}

/// The columns [`row`] fills: those of priority 0, all with `-o wide`.
fn shown(printer: &Printer, opts: &Options) -> Vec<usize> {
    (0..printer.columns.len())
        .filter(|&i| opts.wide || printer.columns[i].priority == 0)
        .collect()
}

/// A section's header (see [`Section`] for `with_namespace`).
pub fn head(printer: &Printer, with_namespace: bool, opts: &Options) -> Vec<String> {
    let cols = &printer.columns;
    let mut head = Vec::new();
    if with_namespace {
        head.push("NAMESPACE".to_string());
    }
    head.extend(
        shown(printer, opts)
            .iter()
            .map(|&i| cols[i].name.to_uppercase()),
    );
    head.extend(
        opts.label_columns
            .iter()
            .map(|l| l.rsplit('/').next().unwrap_or(l).to_uppercase()),
    );
    if opts.show_labels {
        head.push("LABELS".into());
    }
    head
}

/// One object's row (cells as text, before escaping), and where in it
/// the name is, for the `kind.group/` prefix [`rows`] puts before it when
/// several kinds are shown.
pub fn row(
    printer: &Printer,
    with_namespace: bool,
    obj: &J,
    now: i64,
    opts: &Options,
) -> (Vec<String>, Option<usize>) {
    let cols = &printer.columns;
    let shown = shown(printer, opts);
    let name_col = cols
        .iter()
        .position(|c| c.format == "name" && c.kind == "string");
    let cells = printer.row(obj, now);
    let mut row = Vec::with_capacity(usize::from(with_namespace) + shown.len() + 1);
    if with_namespace {
        row.push(
            obj.pointer("/metadata/namespace")
                .and_then(J::as_str)
                .unwrap_or("")
                .to_string(),
        );
    }
    let mut name_at = None;
    for &i in &shown {
        if name_col == Some(i) {
            name_at = Some(row.len());
        }
        row.push(cells.get(i).map(cell_text).unwrap_or_default());
    }
    row.extend(label_cells(obj, &opts.label_columns, opts.show_labels));
    (row, name_at)
}

/// Lays rows out as kubectl's tab writer does: every column but the last
/// padded to its widest cell (counted in characters) plus 3 spaces, and
/// at least 6 wide. Each line ends with `\n`.
pub fn layout(lines: &[Vec<String>]) -> String {
    let n = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = vec![0usize; n];
    for l in lines {
        for (i, c) in l.iter().enumerate() {
            w[i] = w[i].max(c.chars().count() + 3).max(6);
        }
    }
    let mut s = String::new();
    for l in lines {
        for (i, c) in l.iter().enumerate() {
            s.push_str(c);
            if i + 1 < l.len() {
                let pad = w[i] - c.chars().count();
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.push('\n');
    }
    s
}

/// `lowercase(kind.group)`, as kubectl prefixes names with it.
pub fn kind_prefix(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_ascii_lowercase()
    } else {
        format!("{kind}.{group}").to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::print;
    use serde_json::json;

    #[test]
    fn lays_out_as_kubectl_tabwriter() {
        let t = layout(&[
            vec!["NAME".into(), "AGE".into()],
            vec!["a".into(), "5d".into()],
        ]);
        assert_eq!(t, "NAME   AGE\na      5d\n");
        let t = layout(&[vec!["N".into(), "X".into()], vec!["b".into(), "".into()]]);
        assert_eq!(t, "N     X\nb     \n", "minimum width 6");
    }

    #[test]
    fn decorates_namespace_kind_and_labels() {
        let p = print::default_printer();
        let o = json!({"metadata": {"name": "x", "namespace": "ns",
            "labels": {"b": "2", "a": "1"}, "creationTimestamp": "2026-01-01T00:00:00Z"}});
        let s = Section {
            printer: &p,
            kind_prefix: Some(kind_prefix("apps", "Deployment")),
            with_namespace: true,
            objects: vec![&o],
        };
        let opts = Options {
            show_labels: true,
            label_columns: vec!["example.com/a".into()],
            ..Options::default()
        };
        let now = crate::kube::timefmt::parse_rfc3339("2026-01-03T00:00:00Z")
            .unwrap()
            .0;
        let (head, rows) = rows(&s, now, &opts);
        assert_eq!(head, ["NAMESPACE", "NAME", "AGE", "A", "LABELS"]);
        assert_eq!(rows[0], ["ns", "deployment.apps/x", "2d", "", "a=1,b=2"]);
        assert_eq!(cell_text(&json!("one\ntwo")), "one...");
        assert_eq!(cell_text(&J::Null), "");
    }
}
