//! History beyond compaction: `fixtures/salvage/compacted.db` (real etcd
//! 3.5.1, `scripts/make-salvage-fixture.py`) holds a ConfigMap put twice,
//! deleted and compacted away. `history --salvage` and `get --salvage --rev`
//! give back its revisions from free pages, equal to what the live server
//! returned for them before the compaction; the latest state does not
//! revive it.

mod common;

use base64::Engine;
use common::*;

fn recorded() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixture("salvage/compacted.json")).unwrap()).unwrap()
}

#[test]
fn history_salvage_shows_revisions_from_before_the_compaction() {
    let rec = recorded();
    let db = fixture("salvage/compacted.db");
    let key = rec["key"].as_str().unwrap();
    let compacted = rec["compacted"].as_i64().unwrap();
    // Without --salvage: compacted away.
    let o = etcdsnap(&["history", db.to_str().unwrap(), key]);
    assert_eq!(o.status.code(), Some(1));
    let o = etcdsnap(&[
        "history",
        "--salvage",
        "-o",
        "json",
        db.to_str().unwrap(),
        key,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let revs = v["revisions"].as_array().unwrap();
    for want in rec["revisions"].as_array().unwrap() {
        let r = want["revision"].as_i64().unwrap();
        assert!(r < compacted);
        let got = revs
            .iter()
            .find(|x| x["revision"].as_i64() == Some(r))
            .unwrap_or_else(|| panic!("revision {r} not salvaged: {v}"));
        assert_eq!(got["source"], "free-page", "{got}");
        assert_eq!(got["op"], "put");
        for f in ["create_revision", "mod_revision", "version"] {
            assert_eq!(got[f], want[f], "{f}: {got}");
        }
        let value = base64::engine::general_purpose::STANDARD
            .decode(want["value_base64"].as_str().unwrap())
            .unwrap();
        let live: serde_json::Value = serde_json::from_slice(&value).unwrap();
        assert_eq!(got["object"]["data"], live["data"], "{got}");
        // get --rev gives the object as it was.
        let o = etcdsnap(&[
            "get",
            "--salvage",
            "--rev",
            &r.to_string(),
            "-o",
            "json",
            db.to_str().unwrap(),
            "configmaps",
            "victim",
            "-n",
            "default",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let obj: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(obj["data"], live["data"]);
        assert!(stderr(&o).contains("source: free-page"), "{}", stderr(&o));
    }
    let t = stdout(&etcdsnap(&[
        "history",
        "--salvage",
        db.to_str().unwrap(),
        key,
    ]));
    assert!(t.contains("free-page"), "{t}");
    // The latest state: still deleted.
    let o = etcdsnap(&["ls", "--salvage", "-o", "json", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains(key));
}
