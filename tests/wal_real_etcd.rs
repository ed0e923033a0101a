//! Data dirs as a restarted etcd serves them, against real etcd 3.4.23 and
//! 3.5.1: writes left in the WAL only (a one-hour backend batch interval),
//! the server killed with SIGKILL, the data dir copied twice; real etcd
//! restarted on one copy must serve exactly what etcdsnap reads from the
//! other (keys, values, revisions, versions, leases, hashkv), and a restore
//! of that copy boots with the same keys. Damaged WALs: a torn tail is
//! accepted as etcd accepts it; a CRC break and a missing segment are
//! errors naming the segment and offset in every command that reads a
//! data dir, and with `--salvage` give the state a real etcd serves from
//! the WAL cut at the damage (the rest reported lost), which `restore
//! --salvage` boots.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// key, value, create_revision, mod_revision, version, lease.
fn real_get(e: &Etcd, rev: Option<i64>) -> (i64, Vec<Kv>) {
    e.get_all(rev)
}

/// The same through the library: the data dir's db with its WAL replayed.
fn ours(dir: &Path, rev: Option<i64>) -> (i64, Vec<Kv>, usize) {
    let input = etcdsnap::input::resolve(dir).unwrap();
    let snap = etcdsnap::etcd::Snapshot::open(&input.db).unwrap();
    let mut store = etcdsnap::mvcc::Store::open(&snap).unwrap();
    let wal = etcdsnap::wal::open::wal_dir_of(&input).expect("a WAL dir");
    let mut slot = None;
    let (ov, _torn) = etcdsnap::wal::open::replay_wal(&mut store, &wal, &mut slot).unwrap();
    let replayed = ov.replayed;
    let kvs = store_kvs(&store, rev);
    (store.current.max(1), kvs, replayed)
}

fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

/// A burst of every kind of write a Kubernetes apiserver (and an admin)
/// sends: puts, updates, deletes, a prefix delete, leases (granted,
/// attached, revoked) and txns taking either branch.
fn burst(e: &Etcd) {
    // A compaction makes etcd commit its backend at once, so it comes
    // first: the db then has a compaction revision the replay must keep.
    for i in 0..6 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/leases/kube-system/l{}", i % 2),
            "x",
        ]);
    }
    e.ctl_ok(&["compact", "5"]);
    for i in 0..20 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/configmaps/ns{}/cm-{i}", i % 3),
            &format!("v{i}-{}", "x".repeat(i * 13)),
        ]);
    }
    for i in 0..5 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/configmaps/ns{}/cm-{i}", i % 3),
            "updated",
        ]);
    }
    e.ctl_ok(&["del", "/registry/configmaps/ns1/cm-1"]);
    e.ctl_ok(&["del", "/registry/configmaps/ns2/", "--prefix"]);
    let grant = |ttl: &str| {
        e.ctl_ok(&["lease", "grant", ttl])
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let keep = grant("3600");
    let gone = grant("3600");
    e.ctl_ok(&[
        "put",
        "--lease",
        &keep,
        "/registry/events/default/ev-1",
        "e1",
    ]);
    e.ctl_ok(&[
        "put",
        "--lease",
        &gone,
        "/registry/events/default/ev-2",
        "e2",
    ]);
    e.ctl_ok(&[
        "put",
        "--lease",
        &gone,
        "/registry/events/default/ev-3",
        "e3",
    ]);
    e.ctl_ok(&["lease", "revoke", &gone]);
    // A txn whose compare holds, then one whose compare fails.
    for (cmp, tag) in [("> \"0\"", "yes"), ("= \"1\"", "no")] {
        let script = format!(
            "mod(\"/registry/configmaps/ns0/cm-0\") {cmp}\n\nput /registry/pods/default/p-{tag} ok\nput /registry/pods/default/q-{tag} ok\n\nput /registry/pods/default/else-{tag} else\n\n"
        );
        let mut c = Command::new(bin_path(e.version, "etcdctl"))
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &e.endpoint, "txn"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(c.wait().unwrap().success());
    }
    for i in 0..5 {
        e.ctl_ok(&[
            "put",
            &format!("/registry/secrets/default/s-{i}"),
            &format!("s{i}"),
        ]);
    }
    e.ctl_ok(&["put", "/registry/configmaps/ns0/cm-0", "after compaction"]);
}

fn boot_on(v: Version, data: &Path) -> Etcd {
    let peer = peer_url();
    Etcd::boot_member(v, "t", data, &peer, "etcdsnap-test")
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn check(v: Version) {
    let mut e = Etcd::start_with(
        v,
        &[
            "--backend-batch-interval=1h",
            "--backend-batch-limit=1000000",
        ],
    );
    burst(&e);
    let (live_rev, live) = real_get(&e, None);
    e.sigkill();
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a");
    let b = work.path().join("b");
    copy_dir(&e.data_dir(), &a);
    copy_dir(&e.data_dir(), &b);

    // The db alone lacks the burst; the WAL brings it back.
    let (rev, kvs, replayed) = ours(&a, None);
    assert!(replayed > 20, "{v:?}: only {replayed} entries replayed");
    assert_eq!(
        (rev, &kvs),
        (live_rev, &live),
        "{v:?}: replay vs the live server"
    );
    let no_wal = etcdsnap(&["ls", path_str(&a), "--no-wal", "-o", "json"]);
    let with_wal = etcdsnap(&["ls", path_str(&a), "-o", "json"]);
    assert!(with_wal.status.success(), "{}", stderr(&with_wal));
    assert!(
        stderr(&with_wal).contains("WAL: replayed"),
        "{}",
        stderr(&with_wal)
    );
    let count = |o: &std::process::Output| {
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .ok()
            .and_then(|v| v["keys"].as_array().map(|a| a.len()))
            .unwrap_or(0)
    };
    assert!(
        count(&no_wal) < count(&with_wal),
        "{v:?}: --no-wal should miss the burst"
    );
    assert_eq!(count(&with_wal), live.len());

    // `wal` lists the burst in order, decoded.
    let w = etcdsnap(&["wal", path_str(&a), "-o", "json"]);
    assert!(w.status.success(), "{}", stderr(&w));
    let wj: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
    // Real entries (puts, txns, leases, compaction) match docs/json/wal.schema.json,
    // and so does verify's report with its WAL layer.
    let doc = a.with_extension("wal.json");
    std::fs::write(&doc, &w.stdout).unwrap();
    let vdoc = a.with_extension("verify.json");
    std::fs::write(
        &vdoc,
        etcdsnap(&["verify", path_str(&a), "-o", "json"]).stdout,
    )
    .unwrap();
    let bad = common::schema_violations(&[doc, vdoc]);
    assert!(bad.is_empty(), "{v:?}: {bad:?}");
    let entries = wj["entries"].as_array().unwrap();
    let idx: Vec<u64> = entries
        .iter()
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "entries in index order"
    );
    let ops: Vec<&str> = entries.iter().map(|x| x["op"].as_str().unwrap()).collect();
    for want in [
        "put",
        "delete",
        "lease-grant",
        "lease-revoke",
        "txn",
        "compaction",
    ] {
        assert!(ops.contains(&want), "{v:?}: no {want} entry in {ops:?}");
    }
    let first_put = entries
        .iter()
        .find(|x| x["op"] == "put" && x["state"] == "replay")
        .unwrap();
    assert_eq!(first_put["keys"][0]["key"], "/registry/configmaps/ns0/cm-0");
    assert_eq!(first_put["keys"][0]["resource"], "configmaps");
    assert_eq!(first_put["keys"][0]["kind"], "ConfigMap");
    assert_eq!(first_put["keys"][0]["namespace"], "ns0");
    assert_eq!(first_put["keys"][0]["name"], "cm-0");
    let pods = etcdsnap(&["wal", path_str(&a), "pods", "-o", "json"]);
    let pj: serde_json::Value = serde_json::from_slice(&pods.stdout).unwrap();
    assert_eq!(
        pj["entries"].as_array().unwrap().len(),
        2,
        "the two txns touch pods"
    );

    // Real etcd restarted on the other copy serves the same.
    let e2 = boot_on(v, &b);
    let (rev2, kvs2) = real_get(&e2, None);
    assert_eq!(rev2, live_rev);
    assert_eq!(kvs, kvs2, "{v:?}: restarted etcd vs etcdsnap");
    // Older revisions above the compaction too.
    for r in [6, 12, live_rev - 3] {
        assert_eq!(
            ours(&a, Some(r)).1,
            real_get(&e2, Some(r)).1,
            "{v:?} --rev {r}"
        );
    }
    // And hashkv.
    let hk = e2.ctl_ok(&["endpoint", "hashkv", "-w", "json"]);
    let hk: serde_json::Value = serde_json::from_str(&hk).unwrap();
    let o = etcdsnap(&["hashkv", path_str(&a), "-o", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mine: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(mine["hash"], hk[0]["HashKV"]["hash"], "{v:?} hashkv");
    assert_eq!(
        mine["compact_revision"],
        hk[0]["HashKV"]["compact_revision"]
    );
    // `history` shows the replayed revisions of a key.
    let h = etcdsnap(&[
        "history",
        path_str(&a),
        "/registry/configmaps/ns0/cm-0",
        "-o",
        "json",
    ]);
    assert!(h.status.success(), "{}", stderr(&h));
    let hj: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let last = hj["revisions"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["revision"].as_i64(), Some(live_rev), "{hj}");
    // `defrag` writes the db with the replay in it: the restarted server's
    // hashkv and revision, read back from the new file alone.
    let out = work.path().join("defragged.db");
    let d = etcdsnap(&["defrag", path_str(&a), "--out", path_str(&out)]);
    assert!(d.status.success(), "defrag: {}", stderr(&d));
    let o = etcdsnap(&["hashkv", path_str(&out), "-o", "json"]);
    let theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        theirs["hash"], hk[0]["HashKV"]["hash"],
        "{v:?} defragged hashkv"
    );
    let st = etcdsnap(&["status", path_str(&out), "-o", "json"]);
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["revision"].as_i64(), Some(live_rev), "{st}");
    drop(e2);

    // Restore of the copy boots with the same keys.
    let restored: PathBuf = work.path().join("restored");
    let peer = peer_url();
    let r = restore_member(
        "t",
        &a,
        &restored,
        &peer,
        &[
            "--skip-hash-check",
            "--initial-cluster-token",
            "etcdsnap-test",
        ],
    );
    assert!(r.status.success(), "restore: {}", stderr(&r));
    let e3 = Etcd::boot_member(v, "t", &restored, &peer, "etcdsnap-test");
    let (_, kvs3) = real_get(&e3, None);
    // Leases included: the replayed grants are in the restored lease
    // bucket, so etcd keeps their keys.
    assert_eq!(kvs3, kvs, "{v:?}: restored etcd vs etcdsnap");
    drop(e3);

    damaged(v, &a, work.path());
}

/// The first segment of a data dir's WAL.
fn segment(dir: &Path) -> PathBuf {
    let wal = dir.join("member/wal");
    let mut segs: Vec<PathBuf> = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    segs.sort();
    segs.remove(0)
}

/// (offset, frame length) of every record in a segment.
fn frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 8 <= bytes.len() {
        let f = u64::from_le_bytes(bytes[off..off + 8].try_into().unwrap());
        if f == 0 {
            break;
        }
        let (len, pad) = etcdsnap::wal::record::decode_frame_size(f);
        let n = 8 + (len + pad) as usize;
        out.push((off, n));
        off += n;
    }
    out
}

fn damaged(v: Version, good: &Path, work: &Path) {
    let base = ours(good, None);
    // Torn tail: the last record's bytes zeroed (its length field kept),
    // as a crash mid-write leaves them. etcd drops it; so do we.
    let torn = work.join("torn");
    copy_dir(good, &torn);
    let seg = segment(&torn);
    let mut bytes = std::fs::read(&seg).unwrap();
    let fr = frames(&bytes);
    let (off, n) = *fr.last().unwrap();
    bytes[off + 8..off + n].fill(0);
    std::fs::write(&seg, &bytes).unwrap();
    let o = etcdsnap(&["ls", path_str(&torn), "-o", "json"]);
    assert!(o.status.success(), "torn tail: {}", stderr(&o));
    assert!(stderr(&o).contains("torn last record"), "{}", stderr(&o));
    // etcd itself accepts it and serves what we read.
    let (_, kvs_torn, _) = ours(&torn, None);
    let e = boot_on(v, &torn.clone());
    assert_eq!(
        real_get(&e, None).1,
        kvs_torn,
        "{v:?}: torn tail vs restarted etcd"
    );
    drop(e);
    assert!(kvs_torn.len() <= base.1.len());

    // A CRC break mid-segment: one byte of a middle record's data flipped.
    let crc = work.join("crc");
    copy_dir(good, &crc);
    let seg = segment(&crc);
    let mut bytes = std::fs::read(&seg).unwrap();
    let fr = frames(&bytes);
    let (off, n) = fr[fr.len() / 2];
    bytes[off + n - 9] ^= 0x55;
    bytes[off + 8 + 6] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    let name = seg.file_name().unwrap().to_str().unwrap().to_string();
    let o = etcdsnap(&["get", path_str(&crc)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&name) && err.contains("offset"), "{err}");
    // --no-wal still reads the db.
    assert!(etcdsnap(&["ls", path_str(&crc), "--no-wal"]).status.code() != Some(2));
    let vo = etcdsnap(&["verify", path_str(&crc)]);
    assert!(stdout(&vo).contains(&name), "{}", stdout(&vo));
    assert_eq!(vo.status.code(), Some(1));

    // A missing segment: the next-but-one sequence number present.
    let gap = work.join("gap");
    copy_dir(good, &gap);
    let seg = segment(&gap);
    std::fs::copy(
        &seg,
        seg.with_file_name("0000000000000002-00000000000000ff.wal"),
    )
    .unwrap();
    let o = etcdsnap(&["ls", path_str(&gap)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("0000000000000001-*.wal is missing"),
        "{}",
        stderr(&o)
    );

    salvaged(v, good, work);
}

/// The state with `--salvage` through the library: the db plus the WAL's
/// entries before any damage.
fn ours_salvage(dir: &Path) -> (Vec<Kv>, Option<etcdsnap::wal::salvage::WalLoss>) {
    let input = etcdsnap::input::resolve(dir).unwrap();
    let snap = etcdsnap::etcd::Snapshot::open(&input.db).unwrap();
    let mut store = etcdsnap::mvcc::Store::open(&snap).unwrap();
    let ci = etcdsnap::wal::open::consistent_index(&store);
    let wal = etcdsnap::wal::open::wal_dir_of(&input).expect("a WAL dir");
    let mut slot = None;
    let r = etcdsnap::wal::open::replay_wal_salvage(&mut store, &wal, ci, &mut slot).unwrap();
    let loss = r.loss.clone();
    let kvs = store_kvs(&store, None);
    (kvs, loss)
}

/// The WAL segments of a data dir, in order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir.join("member/wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    segs.sort();
    segs
}

/// Re-cuts a data dir's single WAL segment into three, before two entry
/// records, as etcd cuts a segment when it fills: each new segment starts
/// with a crc record holding the running CRC, the metadata and the last
/// hard state, and is named after the index of its first entry. Returns
/// the segment paths.
fn recut(dir: &Path) -> Vec<PathBuf> {
    use etcdsnap::restore::wal::{decode, WalEncoder, ENTRY_TYPE, METADATA_TYPE, STATE_TYPE};
    let segs = segments(dir);
    assert_eq!(segs.len(), 1, "one segment to re-cut: {segs:?}");
    let bytes = std::fs::read(&segs[0]).unwrap();
    let recs = decode(&bytes).unwrap();
    let entries: Vec<usize> = (0..recs.len())
        .filter(|&i| recs[i].typ == ENTRY_TYPE)
        .collect();
    let cuts = [entries[entries.len() / 3], entries[2 * entries.len() / 3]];
    let index_of = |i: usize| etcdsnap::wal::log::entry_index(&recs[i].data).unwrap();
    let meta = recs
        .iter()
        .find(|r| r.typ == METADATA_TYPE)
        .unwrap()
        .data
        .clone();
    std::fs::remove_file(&segs[0]).unwrap();
    let wal = dir.join("member/wal");
    let mut out = Vec::new();
    // Segment 0: the original bytes up to the first cut.
    let first = wal.join(etcdsnap::wal::record::segment_name(0, 0));
    std::fs::write(&first, &bytes[..recs[cuts[0]].offset]).unwrap();
    out.push(first);
    let bounds = [cuts[0], cuts[1], recs.len()];
    // The running CRC at the first cut is the stored CRC of the record
    // before it; then the chain of the segments written here.
    let mut prev = recs[cuts[0] - 1].crc;
    for k in 0..2 {
        let (from, to) = (bounds[k], bounds[k + 1]);
        // The hard state is the last one before the cut.
        let mut w = WalEncoder::new(prev);
        w.metadata(meta.clone());
        if let Some(hs) = recs[..from].iter().rev().find(|r| r.typ == STATE_TYPE) {
            w.record(STATE_TYPE, hs.data.clone());
        }
        for r in &recs[from..to] {
            w.record(r.typ, r.data.clone());
        }
        prev = w.crc();
        let path = wal.join(etcdsnap::wal::record::segment_name(
            k as u64 + 1,
            index_of(from),
        ));
        std::fs::write(&path, w.bytes()).unwrap();
        out.push(path);
    }
    out
}

/// The keys real etcd serves from a data dir (booted on a copy).
fn real_state(v: Version, dir: &Path, work: &Path, tag: &str) -> Vec<Kv> {
    let copy = work.join(format!("real-{tag}"));
    copy_dir(dir, &copy);
    let e = boot_on(v, &copy);
    let kvs = real_get(&e, None).1;
    drop(e);
    kvs
}

/// The kvs that `ls --salvage -o json` lists, with its exit code and
/// stderr.
fn ls_salvage(dir: &Path) -> (usize, Option<i32>, String) {
    let o = etcdsnap(&["ls", path_str(dir), "--salvage", "-o", "json"]);
    let n = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .and_then(|v| v["keys"].as_array().map(|a| a.len()))
        .unwrap_or(usize::MAX);
    (n, o.status.code(), stderr(&o))
}

/// Every command that reads a data dir refuses a damaged WAL without
/// --salvage, naming the segment (and offset, when there is one).
fn refused_everywhere(dir: &Path, work: &Path, names: &[&str]) {
    let d = path_str(dir);
    let out = work.join("refused-out");
    let o = path_str(&out);
    let key = "/registry/configmaps/ns0/cm-0";
    let cmds: Vec<Vec<&str>> = vec![
        vec!["ls", d],
        vec!["get", d, "configmaps"],
        vec!["history", d, key],
        vec!["export", d, "--out", o],
        vec!["stats", d],
        vec!["diff", d, d],
        vec!["hashkv", d],
        vec!["defrag", d, "--out", o],
        vec!["restore", d, "--data-dir", o, "--skip-hash-check"],
        vec!["verify", d],
    ];
    for c in cmds {
        let r = etcdsnap(&c);
        let text = format!("{}{}", stdout(&r), stderr(&r));
        let want = if c[0] == "verify" { 1 } else { 2 };
        assert_eq!(r.status.code(), Some(want), "{c:?}: {text}");
        for n in names {
            assert!(text.contains(n), "{c:?} should name {n}: {text}");
        }
        assert!(!out.exists(), "{c:?} wrote {}", out.display());
    }
}

/// Restores a data dir with `--salvage` and returns what real etcd serves
/// from the restore (and the exit code and loss report file).
fn restore_salvage(
    v: Version,
    dir: &Path,
    work: &Path,
    tag: &str,
) -> (Vec<Kv>, Option<i32>, serde_json::Value) {
    let restored = work.join(format!("restored-{tag}"));
    let peer = peer_url();
    let r = restore_member(
        "t",
        dir,
        &restored,
        &peer,
        &["--salvage", "--initial-cluster-token", "etcdsnap-test"],
    );
    assert!(restored.exists(), "restore --salvage: {}", stderr(&r));
    let report_path = PathBuf::from(format!("{}.salvage-report.json", restored.display()));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let e = Etcd::boot_member(v, "t", &restored, &peer, "etcdsnap-test");
    let kvs = real_get(&e, None).1;
    drop(e);
    (kvs, r.status.code(), report)
}

/// Damaged WALs with --salvage: the state up to the last good entry, as a
/// real etcd serves it from the same WAL cut at the damage.
fn salvaged(v: Version, good: &Path, work: &Path) {
    let (_, full, _) = ours(good, None);

    // A CRC break mid-segment.
    let crc = work.join("s-crc");
    copy_dir(good, &crc);
    let seg = segment(&crc);
    let name = seg.file_name().unwrap().to_str().unwrap().to_string();
    let mut bytes = std::fs::read(&seg).unwrap();
    let fr = frames(&bytes);
    // The middle entry record (an entry, so the loss is an entry).
    let recs = etcdsnap::restore::wal::decode(&bytes).unwrap();
    let entry_offs: Vec<usize> = recs
        .iter()
        .filter(|r| r.typ == etcdsnap::restore::wal::ENTRY_TYPE)
        .map(|r| r.offset)
        .collect();
    let off = entry_offs[entry_offs.len() * 2 / 3];
    let n = fr.iter().find(|f| f.0 == off).unwrap().1;
    bytes[off + n - 9] ^= 0x55;
    std::fs::write(&seg, &bytes).unwrap();
    refused_everywhere(&crc, work, &[&name, &format!("offset {off}")]);
    // Real etcd on the WAL cut just before the damaged record.
    let cut = work.join("s-crc-cut");
    copy_dir(good, &cut);
    let cseg = segment(&cut);
    let mut cb = std::fs::read(&cseg).unwrap();
    cb.truncate(off);
    std::fs::write(&cseg, &cb).unwrap();
    let want = real_state(v, &cut, work, "crc");
    assert_ne!(want, full, "{v:?}: the damage must cost writes");
    let (kvs, loss) = ours_salvage(&crc);
    assert_eq!(
        kvs, want,
        "{v:?}: salvaged state vs real etcd on the cut WAL"
    );
    let loss = loss.expect("a loss report");
    assert_eq!(loss.segment, name);
    assert_eq!(loss.offset, Some(off as u64));
    assert!(
        loss.last_good_index > loss.consistent_index,
        "{loss:?}: entries before the damage are replayed"
    );
    assert!(loss.may_be_lost);
    assert!(
        loss.lost_to_index.unwrap() > loss.lost_from_index,
        "{loss:?}: the entries after the damage are seen"
    );
    let (n_ls, code, err) = ls_salvage(&crc);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(n_ls, want.len(), "{err}");
    assert!(
        err.contains(&name)
            && err.contains(&format!("offset {off}"))
            && err.contains(&format!(
                "entries from index {} on are lost",
                loss.lost_from_index
            )),
        "{err}"
    );
    // verify --salvage -o json carries the WAL loss.
    let vo = etcdsnap(&["verify", path_str(&crc), "--salvage", "-o", "json"]);
    assert_eq!(vo.status.code(), Some(1), "{}", stderr(&vo));
    let vj: serde_json::Value = serde_json::from_slice(&vo.stdout).unwrap();
    assert_eq!(vj["wal_salvage"]["segment"], name.as_str(), "{vj}");
    assert_eq!(vj["wal_salvage"]["offset"].as_u64(), Some(off as u64));
    assert_eq!(
        vj["wal_salvage"]["lost_from_index"].as_u64(),
        Some(loss.lost_from_index)
    );
    // restore --salvage boots real etcd with the salvaged keys.
    let (restored, code, report) = restore_salvage(v, &crc, work, "crc");
    assert_eq!(code, Some(1));
    assert_eq!(
        restored, want,
        "{v:?}: restore --salvage vs the salvaged state"
    );
    assert_eq!(report["wal_salvage"]["segment"], name.as_str());

    // A missing middle segment: the WAL re-cut into three segments (real
    // etcd serves the re-cut WAL as the original), the middle one removed.
    let three = work.join("s-three");
    copy_dir(good, &three);
    let segs = recut(&three);
    assert_eq!(
        ours(&three, None).1,
        full,
        "{v:?}: the re-cut WAL reads as the original"
    );
    assert_eq!(
        real_state(v, &three, work, "three"),
        full,
        "{v:?}: real etcd on the re-cut WAL"
    );
    let gap = work.join("s-gap");
    copy_dir(&three, &gap);
    let mid = segments(&gap)[1].clone();
    std::fs::remove_file(&mid).unwrap();
    refused_everywhere(&gap, work, &["0000000000000001-*.wal is missing"]);
    // Real etcd on the first segment alone.
    let first = work.join("s-first");
    copy_dir(&three, &first);
    for s in &segments(&first)[1..] {
        std::fs::remove_file(s).unwrap();
    }
    let want = real_state(v, &first, work, "first");
    assert_ne!(want, full, "{v:?}: the missing segment must cost writes");
    let (kvs, loss) = ours_salvage(&gap);
    assert_eq!(
        kvs, want,
        "{v:?}: salvaged state vs real etcd on segment 0 alone"
    );
    let loss = loss.expect("a loss report");
    assert_eq!(loss.segment, "0000000000000001-*.wal");
    assert_eq!(loss.offset, None);
    assert!(
        loss.last_good_index > loss.consistent_index,
        "{loss:?}: entries of segment 0 are replayed"
    );
    let last_name = segs[2].file_name().unwrap().to_str().unwrap();
    assert_eq!(loss.segments_not_read, vec![last_name.to_string()]);
    let (n_ls, code, err) = ls_salvage(&gap);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(n_ls, want.len(), "{err}");
    assert!(
        err.contains("0000000000000001-*.wal is missing") && err.contains(last_name),
        "{err}"
    );
    let (restored, code, _) = restore_salvage(v, &gap, work, "gap");
    assert_eq!(code, Some(1));
    assert_eq!(restored, want, "{v:?}: restore --salvage of the gap");

    // A torn tail needs no --salvage, and --salvage reports no loss.
    let torn = work.join("s-torn");
    copy_dir(good, &torn);
    let seg = segment(&torn);
    let mut bytes = std::fs::read(&seg).unwrap();
    let (off, n) = *frames(&bytes).last().unwrap();
    bytes[off + 8..off + n].fill(0);
    std::fs::write(&seg, &bytes).unwrap();
    let (n_ls, code, err) = ls_salvage(&torn);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("WAL salvage"), "{err}");
    assert_eq!(n_ls, ours(&torn, None).1.len());
}

/// With frequent raft snapshots, the WAL's snapshot marks name the
/// `member/snap/*.snap` files etcd wrote.
fn snap_marks(v: Version) {
    let mut e = Etcd::start_with(v, &["--snapshot-count=10"]);
    for i in 0..35 {
        e.ctl_ok(&["put", &format!("/k{i}"), "v"]);
    }
    e.sigkill();
    let w = etcdsnap(&["wal", path_str(&e.data_dir()), "-o", "json"]);
    assert!(w.status.success(), "{}", stderr(&w));
    let wj: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
    let marks = wj["snapshots"].as_array().unwrap();
    let with_file = marks.iter().filter(|m| m["snap_file"].is_string()).count();
    assert!(marks.len() >= 3, "{v:?}: {marks:?}");
    assert!(with_file >= 2, "{v:?}: {marks:?}");
    let vo = etcdsnap(&["verify", path_str(&e.data_dir())]);
    let text = stdout(&vo);
    let line = text
        .lines()
        .find(|l| l.contains("] wal"))
        .unwrap_or_default();
    assert!(line.contains("[ok"), "{text}");
    assert!(line.contains("with a .snap file"), "{line}");
}

#[test]
fn snapshot_marks_match_snap_files() {
    snap_marks(Version::V34);
    snap_marks(Version::V35);
}

#[test]
fn wal_replay_matches_restarted_etcd_34() {
    check(Version::V34);
}

#[test]
fn wal_replay_matches_restarted_etcd_35() {
    check(Version::V35);
}
