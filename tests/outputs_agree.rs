//! Every output of `get` describes the same objects (issue #10's check): for
//! every object in every committed snapshot fixture, `-o yaml`, `-o json`
//! and `-o table` agree; `-l` selects, and `--redact` redacts, exactly what
//! filtering (or `redact::redact_all` on) the plain JSON afterwards gives,
//! in every output form that shows object fields (json, yaml, jsonpath,
//! `--sort-by`) and leaving tables as they are.

mod common;

use std::collections::BTreeSet;

use common::{etcdsnap, stderr, stdout};
use serde_json::Value as J;

/// What `kubectl get -A -o yaml` prints for these objects: a List printed by
/// kubectl itself, offline (`patch --local` with an empty patch prints its
/// input unchanged). kubectl flattens a real List, so the items go under
/// `itemz` of a `Wrap`, whose text has the List's layout, and the two words
/// are put back.
fn kubectl_yaml_list(items: &[J]) -> String {
    let kubectl = common::kubectl();
    let dir = std::env::temp_dir().join(format!("etcdsnap-outputs-agree-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("wrap-{}.json", items.len()));
    let wrap = serde_json::json!({
        "apiVersion": "v1", "kind": "Wrap", "itemz": items,
        "metadata": {"resourceVersion": ""},
    });
    std::fs::write(&file, serde_json::to_vec(&wrap).unwrap()).unwrap();
    let o = std::process::Command::new(&kubectl)
        .args(["patch", "--local", "--type", "merge", "-p", "{}"])
        .args(["-o", "yaml", "--show-managed-fields", "-f"])
        .arg(&file)
        .env("KUBECONFIG", dir.join("none"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "kubectl: {}", stderr(&o));
    stdout(&o).replacen("\nitemz:\n", "\nitems:\n", 1).replacen(
        "\nkind: Wrap\n",
        "\nkind: List\n",
        1,
    )
}

fn get(input: &str, extra: &[String], args: &[&str]) -> (String, String) {
    let mut all: Vec<&str> = vec!["get", input, "-A"];
    all.extend(extra.iter().map(String::as_str));
    all.extend_from_slice(args);
    let o = etcdsnap(&all);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{all:?}: {}",
        stderr(&o)
    );
    (stdout(&o), stderr(&o))
}

fn items(list: &J) -> Vec<J> {
    assert_eq!(list["kind"], "List", "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn json_items(input: &str, extra: &[String], args: &[&str]) -> Vec<J> {
    let mut a = args.to_vec();
    a.extend_from_slice(&["-o", "json"]);
    let (out, err) = get(input, extra, &a);
    let v: J = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{input} {a:?}: {e}\n{err}"));
    items(&v)
}

fn yaml_items(input: &str, extra: &[String], args: &[&str]) -> Vec<J> {
    let mut a = args.to_vec();
    a.extend_from_slice(&["-o", "yaml"]);
    let (out, err) = get(input, extra, &a);
    let v: J = serde_saphyr::from_str(&out).unwrap_or_else(|e| panic!("{input} {a:?}: {e}\n{err}"));
    items(&v)
}

fn label_matches(o: &J, k: &str, v: &str, eq: bool) -> bool {
    let got = o
        .pointer("/metadata/labels")
        .and_then(|l| l.get(k))
        .and_then(J::as_str);
    if eq {
        got == Some(v)
    } else {
        got != Some(v)
    }
}

/// The table's columns, cut at the header's offsets.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    let cols = [
        "NAMESPACE",
        "NAME",
        "KIND",
        "CREATED",
        "REVISION",
        "ENCODING",
    ];
    let at: Vec<usize> = cols
        .iter()
        .map(|c| {
            head.find(&format!("{c} "))
                .or_else(|| head.find(c))
                .unwrap()
        })
        .collect();
    lines
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            (0..cols.len())
                .map(|i| {
                    let end = at
                        .get(i + 1)
                        .copied()
                        .unwrap_or(chars.len())
                        .min(chars.len());
                    let st = at[i].min(end);
                    chars[st..end].iter().collect::<String>().trim().to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn yaml_json_table_and_filters_describe_the_same_objects() {
    let mut objects = 0;
    let mut secrets = 0;
    let mut selectors = 0;
    for (input, extra) in common::object_fixtures() {
        let json = json_items(&input, &extra, &[]);
        assert!(!json.is_empty(), "{input}: no objects");
        objects += json.len();

        // YAML and JSON: the same objects, in the same order.
        let yaml = yaml_items(&input, &extra, &[]);
        assert_eq!(yaml.len(), json.len(), "{input}: YAML and JSON counts");
        for (y, j) in yaml.iter().zip(&json) {
            assert_eq!(y, j, "{input}: YAML and JSON differ");
        }

        // Byte for byte, the YAML list is what kubectl's own printer
        // (sigs.k8s.io/yaml) writes for the same objects in a list.
        let want = kubectl_yaml_list(&json);
        let (text, _) = get(&input, &extra, &["-o", "yaml"]);
        assert!(
            text == want,
            "{input}: YAML text differs:\n{text}\n--- want ---\n{want}"
        );

        // Table: one row per object, with its kind, creation time, revision
        // and name (rows that could not be decrypted show `?`).
        let (table, _) = get(&input, &extra, &["-o", "etcd"]);
        let rows: Vec<Vec<String>> = table_rows(&table)
            .into_iter()
            .filter(|r| r[2] != "?")
            .collect();
        assert_eq!(rows.len(), json.len(), "{input}: table rows\n{table}");
        for (r, j) in rows.iter().zip(&json) {
            let s = |p: &str| j.pointer(p).and_then(J::as_str).unwrap_or("").to_string();
            assert_eq!(r[2], s("/kind"), "{input}: kind of {r:?}");
            assert_eq!(r[3], s("/metadata/creationTimestamp"), "{input}: {r:?}");
            // Objects stored without metadata show no resourceVersion.
            if j.get("metadata").is_some() {
                assert_eq!(r[4], s("/metadata/resourceVersion"), "{input}: {r:?}");
            }
            let name = s("/metadata/name");
            if !name.is_empty() {
                assert_eq!(r[1], name, "{input}: name of {r:?}");
                assert_eq!(r[0], s("/metadata/namespace"), "{input}: {r:?}");
            }
        }

        // kubectl's table (the default): one row per decoded object, a
        // header per kind, kinds apart by a blank line.
        let (table, _) = get(&input, &extra, &[]);
        let blank = table.lines().filter(|l| l.is_empty()).count();
        let lines = table.lines().count();
        assert_eq!(
            lines - blank - (blank + 1),
            json.len(),
            "{input}: default table rows\n{table}"
        );

        // -l: the same objects as filtering the JSON, for a few selectors
        // taken from the data (equality and inequality).
        let labels: BTreeSet<(String, String)> = json
            .iter()
            .filter_map(|o| o.pointer("/metadata/labels").and_then(J::as_object))
            .flat_map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            })
            .collect();
        let shown = json_items(&input, &extra, &["--show-key-material"]);
        for (k, v) in labels.iter().take(3) {
            for eq in [true, false] {
                let sel = format!("{k}{}{v}", if eq { "=" } else { "!=" });
                let want: Vec<J> = json
                    .iter()
                    .filter(|o| label_matches(o, k, v, eq))
                    .cloned()
                    .collect();
                let got = json_items(&input, &extra, &["-l", &sel]);
                assert_eq!(got, want, "{input}: -l {sel} -o json");
                let got = yaml_items(&input, &extra, &["-l", &sel]);
                assert_eq!(got, want, "{input}: -l {sel} -o yaml");
                // Both: the selection, redacted (from the JSON with key
                // material shown, so nothing is digested twice).
                let mut want: Vec<J> = shown
                    .iter()
                    .filter(|o| label_matches(o, k, v, eq))
                    .cloned()
                    .collect();
                want.iter_mut().for_each(etcdsnap::redact::redact_all);
                let got = json_items(&input, &extra, &["-l", &sel, "--redact"]);
                assert_eq!(got, want, "{input}: -l {sel} --redact -o json");
                selectors += 1;
            }
        }

        // --redact: the JSON (with key material shown, so nothing is
        // digested twice) with every Secret redacted afterwards.
        secrets += json.iter().filter(|o| o["kind"] == "Secret").count();
        let mut want = json_items(&input, &extra, &["--show-key-material"]);
        want.iter_mut().for_each(etcdsnap::redact::redact_all);
        let got = json_items(&input, &extra, &["--redact"]);
        assert_eq!(got, want, "{input}: --redact -o json");
        let got = yaml_items(&input, &extra, &["--redact"]);
        assert_eq!(got, want, "{input}: --redact -o yaml");
        // The forms that print from a tree: the same redacted objects.
        let (text, err) = get(&input, &extra, &["--redact", "-o", "jsonpath={.items}"]);
        let got: J = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{input}: {e}\n{err}"));
        assert_eq!(got, J::Array(want.clone()), "{input}: --redact -o jsonpath");
        let (text, _) = get(
            &input,
            &extra,
            &["--redact", "-o", "json", "--sort-by", "{.kind}"],
        );
        let mut got = items(&serde_json::from_str(&text).expect("json"));
        let mut sorted = want.clone();
        for v in [&mut got, &mut sorted] {
            v.sort_by_key(|o| o.to_string());
        }
        assert_eq!(got, sorted, "{input}: --redact --sort-by");
        // Tables show no Secret values: the same with and without.
        for form in [&[][..], &["-o", "wide"]] {
            let mut a = form.to_vec();
            a.push("--show-key-material");
            let (plain, _) = get(&input, &extra, &a);
            a.pop();
            a.push("--redact");
            let (red, _) = get(&input, &extra, &a);
            assert_eq!(red, plain, "{input}: --redact {form:?}");
        }
    }
    assert!(objects > 50, "only {objects} objects in the fixtures");
    assert!(secrets > 0, "no Secret in the fixtures: --redact untested");
    assert!(selectors > 0, "no labels in the fixtures: -l untested");
}
