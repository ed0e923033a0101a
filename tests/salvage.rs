//! `--salvage` on damaged copies of real-etcd snapshots made by
//! `scripts/make-damaged.py`: every record salvaged equals the intact
//! file's record of that revision byte for byte, every record whose leaf
//! page survived is there, `ls --salvage -o json` shows only rows of the
//! intact file, and without `--salvage` the error names the page and
//! suggests it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use etcdsnap::etcd::Snapshot;
use etcdsnap::mvcc::Store;
use etcdsnap::salvage::{Salvage, Source};

/// A revision's record as bytes: (key, value, create, mod, version, lease).
type Rec = Kv;
/// (main, sub, tombstone)
type Rev = (i64, i64, bool);

struct Intact {
    /// revision (main, sub, tombstone) → record
    records: BTreeMap<Rev, Rec>,
    /// leaf page → revisions on it (with the page's overflow span)
    pages: Vec<(u64, u64, Vec<Rev>)>,
}

fn intact(path: &Path) -> Intact {
    let snap = Snapshot::open(path).unwrap();
    let store = Store::open(&snap).unwrap();
    let records = store
        .records()
        .iter()
        .map(|r| ((r.rev.main, r.rev.sub, r.rev.tombstone), kv_of(r)))
        .collect();
    let kb = snap.db.bucket(b"key").unwrap();
    let mut pages = Vec::new();
    for leaf in snap.db.leaves(&kb).unwrap() {
        let revs = leaf
            .elems()
            .map(|e| {
                let r = etcdsnap::etcd::Revision::parse(e.unwrap().key).unwrap();
                (r.main, r.sub, r.tombstone)
            })
            .collect();
        pages.push((
            leaf.page.id().expect("a file page").get(),
            u64::from(leaf.page.overflow) + 1,
            revs,
        ));
    }
    Intact { records, pages }
}

fn make_damaged(src: &Path, out: &Path) -> serde_json::Value {
    let o = std::process::Command::new("python3")
        .arg(repo().join("scripts/make-damaged.py"))
        .arg(src)
        .arg(out)
        .output()
        .expect("python3 (scripts/install-deps.sh installs it)");
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&std::fs::read(out.join("damaged.json")).unwrap()).unwrap()
}

fn check_fixture(rel: &str) {
    let src = fixture(rel);
    let want = intact(&src);
    let t = tempfile::tempdir().unwrap();
    let cases = make_damaged(&src, t.path());
    let cases = cases["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 11);
    // Intact: nothing lost, exit 0.
    let o = etcdsnap(&["ls", "--salvage", "-o", "json", src.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (kind, c) in cases {
        let file = PathBuf::from(c["file"].as_str().unwrap());
        let destroyed: BTreeSet<u64> = c["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        let cut = c["cut_at_page"].as_u64();
        let snap = Snapshot::open_salvage(&file).unwrap();
        let s = Salvage::run(&snap);
        let got: BTreeMap<Rev, Rec> = s
            .records(true)
            .iter()
            .map(|r| ((r.rev.main, r.rev.sub, r.rev.tombstone), kv_of(r)))
            .collect();
        // Byte-equal where the intact file has the revision; the others
        // can only be older copies from free pages.
        for (rev, r) in &got {
            match want.records.get(rev) {
                Some(w) => assert_eq!(r, w, "{rel} {kind}: revision {rev:?} differs"),
                None => {
                    let rr = s
                        .records(true)
                        .into_iter()
                        .find(|x| (x.rev.main, x.rev.sub, x.rev.tombstone) == *rev)
                        .unwrap();
                    assert_ne!(s.source(&rr), Source::Tree, "{rel} {kind}: {rev:?}");
                }
            }
        }
        // Every record on a surviving leaf page is there.
        let mut expected = 0;
        for (page, span, revs) in &want.pages {
            let hit = (*page..page + span).any(|p| destroyed.contains(&p))
                || cut.is_some_and(|c| page + span > c);
            if hit {
                continue;
            }
            for rev in revs {
                if want.records.contains_key(rev) {
                    expected += 1;
                    assert!(
                        got.contains_key(rev),
                        "{rel} {kind}: revision {rev:?} on intact page {page} is missing"
                    );
                }
            }
        }
        assert!(expected > 0, "{rel} {kind}");
        assert!(s.report.may_be_lost, "{rel} {kind}: nothing reported lost");

        // The CLI: ls --salvage -o json rows are rows of the intact file.
        let o = etcdsnap(&["ls", "--salvage", "-o", "json", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{rel} {kind}: {}", stderr(&o));
        assert!(stderr(&o).contains("salvage:"), "{}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(doc["format"], "etcdsnap.ls", "{rel} {kind}");
        let rows = doc["keys"].as_array().unwrap();
        assert!(!rows.is_empty(), "{rel} {kind}");
        let by_mod: BTreeMap<(Vec<u8>, i64), &Rec> = want
            .records
            .iter()
            .filter(|(k, _)| !k.2)
            .map(|(_, r)| ((r.0.clone(), r.3), r))
            .collect();
        for row in rows {
            let key = row["key"].as_str().unwrap().as_bytes().to_vec();
            let m = row["mod_revision"].as_i64().unwrap();
            let w = by_mod
                .get(&(key, m))
                .unwrap_or_else(|| panic!("{rel} {kind}: row not in the intact file: {row}"));
            assert_eq!(row["create_revision"].as_i64(), Some(w.2), "{row}");
            assert_eq!(row["version"].as_i64(), Some(w.4), "{row}");
            assert_eq!(row["lease"].as_i64(), Some(w.5), "{row}");
            assert_eq!(row["size"].as_u64(), Some(w.1.len() as u64), "{row}");
            assert!(row["source"].is_string(), "{row}");
        }
        // verify --salvage -o json carries the loss report.
        let o = etcdsnap(&["verify", "--salvage", "-o", "json", file.to_str().unwrap()]);
        assert_ne!(o.status.code(), Some(0), "{rel} {kind}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["salvage"]["may_be_lost"], true, "{rel} {kind}");
    }
}

#[test]
fn salvage_of_damaged_etcd_34_copies() {
    check_fixture("etcd-3.4/deep.db");
}

#[test]
fn salvage_of_damaged_etcd_35_copies() {
    check_fixture("etcd-3.5/deep.db");
}

#[test]
fn without_salvage_the_error_names_the_page_and_suggests_it() {
    let t = tempfile::tempdir().unwrap();
    let cases = make_damaged(&fixture("etcd-3.4/deep.db"), t.path());
    for kind in ["leaf-zeroed", "key-root-destroyed", "both-metas-destroyed"] {
        let c = &cases["cases"][kind];
        let file = c["file"].as_str().unwrap();
        for cmd in ["ls", "get", "history", "stats"] {
            let mut args = vec![cmd, file];
            if cmd == "history" {
                args.push("/registry/configmaps/default/x");
            }
            let o = etcdsnap(&args);
            assert_eq!(o.status.code(), Some(2), "{kind} {cmd}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(e.contains("--salvage"), "{kind} {cmd}: {e}");
            if kind != "both-metas-destroyed" {
                let page = c["pages"][0].as_u64().unwrap();
                assert!(e.contains(&format!("page {page}")), "{kind} {cmd}: {e}");
            }
        }
    }
}
