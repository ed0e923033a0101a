//! verify = restorability: over every fixture and a set of damaged copies,
//! `verify` passes (exit 0) only what `restore` accepts, and the report's
//! `restore.restorable` says exactly what `restore` then does.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn all_fixture_dbs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![repo().join("fixtures")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "db") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "{out:?}");
    out
}

/// Damaged copies of a real etcd 3.4 snapshot, each named for its damage.
fn damaged_copies(dir: &Path) -> Vec<PathBuf> {
    let b = std::fs::read(fixture("etcd-3.4/deep.db")).unwrap();
    let body = &b[..b.len() - 32];
    let with_trailer = |bytes: &[u8]| {
        let mut v = bytes.to_vec();
        v.extend_from_slice(&etcdsnap::etcd::snapshot::sha256(bytes));
        v
    };
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("snapshot_no_trailer.db", body.to_vec()));
    cases.push(("cut_mid_trailer.db", b[..b.len() - 10].to_vec()));
    let mut m = body.to_vec();
    m[16 + 30] ^= 0xff;
    cases.push(("one_meta_rehashed.db", with_trailer(&m)));
    let mut m = b.clone();
    m[4096 + 16 + 30] ^= 0xff;
    cases.push(("one_meta_stale_hash.db", m));
    let mut m = body.to_vec();
    let last_page = m.len() / 4096 - 1;
    m[last_page * 4096..last_page * 4096 + 8].copy_from_slice(&7u64.to_le_bytes());
    cases.push(("page_id_rehashed.db", with_trailer(&m)));
    cases.push(("cut_middle.db", b[..b.len() / 2].to_vec()));
    let mut m = body.to_vec();
    m[16 + 30] ^= 0xff;
    m[4096 + 16 + 30] ^= 0xff;
    cases.push(("both_metas.db", with_trailer(&m)));
    cases
        .into_iter()
        .map(|(n, bytes)| {
            let p = dir.join(n);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

fn check(input: &Path, work: &Path, n: usize) {
    let shown = input.display().to_string();
    let o = etcdsnap(&["verify", "-o", "json", input.to_str().unwrap()]);
    let code = o.status.code().unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{shown}: {e}: {}", stdout(&o)));
    let restorable = v["restore"]["restorable"].as_bool().unwrap();
    let needs_skip = v["restore"]["needs_skip_hash_check"].as_bool().unwrap();
    let data = work.join(format!("r{n}"));
    let r = etcdsnap(&[
        "restore",
        input.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let restored_plain = r.status.code() == Some(0);
    if code == 0 {
        assert!(
            restored_plain || needs_skip,
            "{shown}: verify passed but restore refused: {}",
            stderr(&r)
        );
    }
    let restored = if needs_skip {
        assert!(!restored_plain, "{shown}: restore took it without a hash");
        let data = work.join(format!("s{n}"));
        let r = etcdsnap(&[
            "restore",
            "--skip-hash-check",
            input.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        r.status.code() == Some(0)
    } else {
        restored_plain
    };
    assert_eq!(
        restorable,
        restored,
        "{shown}: verify says restorable={restorable} ({}), restore exit {:?}: {}",
        v["restore"]["reason"],
        r.status.code(),
        stderr(&r)
    );
}

#[test]
fn verify_passes_only_what_restore_accepts() {
    let t = tempfile::tempdir().unwrap();
    let mut inputs = all_fixture_dbs();
    inputs.extend(damaged_copies(t.path()));
    for (n, input) in inputs.iter().enumerate() {
        check(input, t.path(), n);
    }
}

#[test]
fn a_snapshot_without_its_trailer_is_damaged_unless_raw_or_skipped() {
    let t = tempfile::tempdir().unwrap();
    let b = std::fs::read(fixture("etcd-3.4/small.db")).unwrap();
    let body = &b[..b.len() - 32];
    let named = t.path().join("snapshot_2026-11-19_101500.db");
    std::fs::write(&named, body).unwrap();
    let o = etcdsnap(&["verify", named.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("--skip-hash-check"), "{}", stdout(&o));
    let o = etcdsnap(&["verify", "--skip-hash-check", named.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // The same bytes as an etcd data dir's db: no trailer expected.
    let dd = t.path().join("data");
    std::fs::create_dir_all(dd.join("member/snap")).unwrap();
    std::fs::write(dd.join("member/snap/db"), body).unwrap();
    for p in [dd.clone(), dd.join("member/snap/db")] {
        let o = etcdsnap(&["verify", "-o", "json", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["restore"]["restorable"], true);
        assert_eq!(v["restore"]["needs_skip_hash_check"], true);
        check(&p, t.path(), if p == dd { 100 } else { 101 });
    }
    // One broken meta page with a matching hash: damaged, but restorable.
    let mut m = body.to_vec();
    m[16 + 30] ^= 0xff;
    m.extend_from_slice(&etcdsnap::etcd::snapshot::sha256(&m.clone()));
    let p = t.path().join("one_meta.db");
    std::fs::write(&p, &m).unwrap();
    let o = etcdsnap(&["verify", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("restore: restore succeeds despite a broken meta page"),
        "{}",
        stdout(&o)
    );
}
