//! The Kubernetes values layer against upstream API testdata
//! (kubernetes/api `testdata/HEAD`: `<group>.<version>.<Kind>.{pb,json,yaml}`,
//! 193 objects), read from `../shared/testdata/kube-api/HEAD` beside the
//! repository or from `$KUBE_TESTDATA`. The data cannot be committed; see
//! `docs/kubernetes.md` ("Checking against upstream testdata").
//!
//! For every `.pb`: the decoder's JSON (the `Value` and JSON text sinks of the
//! one traversal) must equal the `.json` byte for byte, its YAML sink must
//! equal the `.yaml` byte for byte, and the encoder must turn the
//! `.json` and the `.yaml` back into the `.pb` bytes exactly.
//! `examples/kube_check.rs` runs the same comparison by hand with a report.

use std::path::PathBuf;

use serde_json::Value as J;

fn testdata_dir() -> PathBuf {
    let dir = std::env::var_os("KUBE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/kube-api/HEAD")
        });
    assert!(
        dir.is_dir(),
        "kube API testdata not found at {}: put kubernetes/api's testdata/HEAD \
         (193 <group>.<version>.<Kind>.{{pb,json,yaml}} objects) there, beside the \
         repository as ../shared/testdata/kube-api/HEAD, or set KUBE_TESTDATA=DIR",
        dir.display()
    );
    dir
}

/// `<group>.<version>.<Kind>` → (apiVersion, kind), the hint for the few
/// objects whose envelope leaves the type empty.
fn type_hint(stem: &str) -> (String, String) {
    let (gv, kind) = stem.rsplit_once('.').unwrap_or(("", stem));
    let (group, version) = gv.rsplit_once('.').unwrap_or(("", gv));
    let api_version = if group == "core" {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    (api_version, kind.to_string())
}

#[test]
fn upstream_api_testdata_round_trips_byte_exact() {
    let dir = testdata_dir();
    let mut pbs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pb"))
        .collect();
    pbs.sort();
    assert_eq!(
        pbs.len(),
        193,
        "{}: expected the 193 .pb objects of kubernetes/api testdata/HEAD",
        dir.display()
    );

    let mut failures: Vec<String> = Vec::new();
    for pb in &pbs {
        let stem = pb.file_stem().unwrap().to_string_lossy().to_string();
        let (av, kind) = type_hint(&stem);
        let hint = Some((av.as_str(), kind.as_str()));
        let bytes = std::fs::read(pb).unwrap();
        let want_text = std::fs::read_to_string(pb.with_extension("json"))
            .unwrap_or_else(|e| panic!("{stem}.json: {e}"));
        let want_text = want_text.trim_end_matches('\n');
        let want: J = serde_json::from_str(want_text).unwrap();

        match etcdsnap::kube::proto::decode_with_hint(&bytes, hint) {
            Ok(got) => {
                let text = serde_json::to_string_pretty(&got).unwrap();
                if text != want_text {
                    failures.push(format!("{stem}: decoded JSON (Value path) differs"));
                }
            }
            Err(e) => failures.push(format!("{stem}: decode: {e}")),
        }

        let mut out = Vec::new();
        match etcdsnap::kube::render::write_protobuf(
            &bytes,
            hint,
            &mut out,
            etcdsnap::kube::render::Style::PRETTY,
        ) {
            Ok(()) if out == want_text.as_bytes() => {}
            Ok(()) => failures.push(format!("{stem}: streamed JSON differs")),
            Err(e) => failures.push(format!("{stem}: stream: {e}")),
        }

        // YAML: the sink's text is the apiserver's own `.yaml` byte for byte
        // (sigs.k8s.io/yaml, as kubectl prints it).
        let want_yaml = std::fs::read_to_string(pb.with_extension("yaml"))
            .unwrap_or_else(|e| panic!("{stem}.yaml: {e}"));
        let mut y = Vec::new();
        let written = {
            let mut sink = etcdsnap::kube::sink_yaml::YamlEmitter::new(&mut y);
            etcdsnap::kube::decode::protobuf(&bytes, hint, None, &mut sink)
        };
        match written {
            Ok(()) if y == want_yaml.as_bytes() => {}
            Ok(()) => failures.push(format!(
                "{stem}: YAML differs:\n{}\n--- want ---\n{want_yaml}",
                String::from_utf8_lossy(&y)
            )),
            Err(e) => failures.push(format!("{stem}: yaml: {e}")),
        }

        match etcdsnap::kube::encode::encode_object_as(&want, hint) {
            Ok(b) if b == bytes => {}
            Ok(_) => failures.push(format!("{stem}: encoding the .json differs from the .pb")),
            Err(e) => failures.push(format!("{stem}: encode .json: {e}")),
        }

        let yaml = std::fs::read_to_string(pb.with_extension("yaml"))
            .unwrap_or_else(|e| panic!("{stem}.yaml: {e}"));
        let yv: J = serde_saphyr::from_str(&yaml)
            .unwrap_or_else(|e| panic!("{stem}.yaml does not parse: {e}"));
        match etcdsnap::kube::encode::encode_object_as(&yv, hint) {
            Ok(b) if b == bytes => {}
            Ok(_) => failures.push(format!("{stem}: encoding the .yaml differs from the .pb")),
            Err(e) => failures.push(format!("{stem}: encode .yaml: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed ({} objects × decode, stream, YAML, encode .json, encode .yaml):\n{}",
        failures.len(),
        pbs.len() * 5,
        pbs.len(),
        failures.join("\n")
    );
}
