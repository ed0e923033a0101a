//! Damaged inputs: a clear error naming what is wrong, never a panic; the
//! exit code says unreadable (2) or damaged (1).

mod common;

use common::*;
use etcdsnap::bolt::{BucketRoot, Db, PAGE_HEADER_SIZE};
use etcdsnap::etcd::{status, Snapshot};
use etcdsnap::verify::{verify_bytes, Report, Verdict};

fn deep() -> Vec<u8> {
    std::fs::read(fixture("etcd-3.4/deep.db")).unwrap()
}

fn layer<'a>(r: &'a Report, name: &str) -> &'a etcdsnap::verify::Layer {
    r.layers.iter().find(|l| l.name == name).unwrap()
}

fn all_problems(r: &Report) -> String {
    r.layers
        .iter()
        .flat_map(|l| l.problems.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes bytes to a temp file and runs a command on it.
fn run_on(bytes: &[u8], args: &[&str]) -> std::process::Output {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("damaged.db");
    std::fs::write(&p, bytes).unwrap();
    let mut a: Vec<&str> = args.to_vec();
    a.push(p.to_str().unwrap());
    etcdsnap(&a)
}

/// Offsets of the key bucket's root branch page and one of its child
/// branches, and a leaf, in `bytes`.
struct Layout {
    page_size: usize,
    root: u64,
    child_branch: u64,
    leaf: u64,
}

fn layout(bytes: &[u8]) -> Layout {
    let db = Db::from_bytes(bytes[..bytes.len() - 32].to_vec()).unwrap();
    let key = db.bucket(b"key").unwrap();
    let BucketRoot::Page(root) = key.root else {
        panic!("key bucket inline")
    };
    let p = db.page(root).unwrap();
    let (_, child) = p.branch_elem(0).unwrap();
    let c = db.page(child).unwrap();
    let (_, leaf) = c.branch_elem(0).unwrap();
    Layout {
        page_size: db.page_size() as usize,
        root: root.get(),
        child_branch: child.get(),
        leaf: leaf.get(),
    }
}

fn branch_child_offset(l: &Layout, page: u64, elem: usize) -> usize {
    page as usize * l.page_size + PAGE_HEADER_SIZE + elem * 16 + 8
}

#[test]
fn empty_file_is_unreadable() {
    let r = verify_bytes("empty", &[]);
    assert!(r.unreadable);
    assert_eq!(r.exit_code(), 2);
    assert!(
        all_problems(&r).contains("too small"),
        "{}",
        all_problems(&r)
    );
    let o = run_on(&[], &["verify"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_on(&[], &["status"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("too small"), "{}", stderr(&o));
}

#[test]
fn one_page_is_unreadable() {
    let b = deep();
    let r = verify_bytes("one page", &b[..4096]);
    assert_eq!(r.exit_code(), 2, "{}", all_problems(&r));
    let o = run_on(&b[..4096], &["status", "-o", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("damaged.db"),
        "names the file: {}",
        stderr(&o)
    );
}

#[test]
fn truncated_at_several_points() {
    let b = deep();
    for cut in [
        8192 + 100,
        3 * 4096,
        b.len() / 2,
        b.len() - 4096,
        b.len() - 33,
        b.len() - 1,
    ] {
        let r = verify_bytes("truncated", &b[..cut]);
        assert_ne!(r.exit_code(), 0, "cut at {cut} passed");
        let text = all_problems(&r);
        if !r.unreadable {
            assert!(
                text.contains("truncated") || text.contains("out of range"),
                "cut at {cut}: {text}"
            );
        }
        // status (like etcdctl's) reads only the bbolt bytes: a cut inside
        // the trailer leaves them whole; a cut inside them is unreadable.
        let o = run_on(&b[..cut], &["status"]);
        let want = if cut >= b.len() - 32 { 0 } else { 2 };
        assert_eq!(o.status.code(), Some(want), "status on a cut at {cut}");
    }
}

#[test]
fn random_bytes_are_unreadable() {
    // A fixed xorshift stream: deterministic, no dependency.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let r = verify_bytes("random", &bytes);
    assert_eq!(r.exit_code(), 2);
    assert!(
        all_problems(&r).contains("invalid magic"),
        "{}",
        all_problems(&r)
    );
}

#[test]
fn wrong_and_byte_swapped_magic() {
    let mut b = deep();
    for page in [0usize, 4096] {
        b[page + 16..page + 20].copy_from_slice(&0xDEADBEEFu32.to_le_bytes());
    }
    let r = verify_bytes("wrong magic", &b);
    assert_eq!(r.exit_code(), 2);
    assert!(all_problems(&r).contains("invalid magic"));

    let mut b = deep();
    for page in [0usize, 4096] {
        b[page + 16..page + 20].copy_from_slice(&0xED0CDAEDu32.to_be_bytes());
    }
    let r = verify_bytes("swapped", &b);
    assert_eq!(r.exit_code(), 2);
    assert!(
        all_problems(&r).contains("byte-swapped"),
        "{}",
        all_problems(&r)
    );
}

#[test]
fn one_meta_broken_still_opens_via_the_other() {
    for broken in [0usize, 1] {
        let mut b = deep();
        b[broken * 4096 + 16 + 30] ^= 0xFF; // inside the checksummed struct
        let snap = Snapshot::from_bytes("one meta", b.clone()).unwrap();
        assert_eq!(snap.db.active_meta() as usize, 1 - broken);
        // The other meta describes the same tree: status is unchanged.
        let want: etcdsnap::etcd::Status = serde_json::from_slice(
            &std::fs::read(fixture("etcd-3.4/deep.etcdctl-status.json")).unwrap(),
        )
        .unwrap();
        let got = status::status(&snap).unwrap();
        assert_eq!(
            (got.hash, got.revision, got.total_key),
            (want.hash, want.revision, want.total_key)
        );
        let r = verify_bytes("one meta", &b);
        assert_eq!(r.exit_code(), 1);
        let meta = layer(&r, "meta");
        assert_eq!(meta.verdict, Verdict::Damaged);
        assert!(
            meta.problems[0].contains(&format!("meta page {broken}")),
            "{:?}",
            meta.problems
        );
        assert!(meta.problems[0].contains("checksum"), "{:?}", meta.problems);
        assert_eq!(layer(&r, "structure").verdict, Verdict::Ok);
    }
}

#[test]
fn both_metas_broken_is_unreadable() {
    let mut b = deep();
    b[16 + 30] ^= 0xFF;
    b[4096 + 16 + 30] ^= 0xFF;
    let r = verify_bytes("both", &b);
    assert_eq!(r.exit_code(), 2);
    let t = all_problems(&r);
    assert!(t.contains("meta 0") && t.contains("meta 1"), "{t}");
    let o = run_on(&b, &["verify"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("UNREADABLE"));
}

#[test]
fn flipped_byte_in_a_leaf_is_a_trailer_mismatch() {
    let mut b = deep();
    let l = layout(&b);
    // The last byte of the leaf's data area: the tail of a value's payload.
    let db = Db::from_bytes(b[..b.len() - 32].to_vec()).unwrap();
    let page = db.page(l.leaf).unwrap();
    let e = page.leaf_elem(0).unwrap();
    let kv = etcdsnap::etcd::KeyValue::decode(e.value).unwrap();
    let off = kv.value.as_ptr() as usize - db.data().as_ptr() as usize;
    drop(db);
    b[off] ^= 0x01;
    let r = verify_bytes("flipped", &b);
    assert_eq!(r.exit_code(), 1);
    let t = layer(&r, "trailer");
    assert_eq!(t.verdict, Verdict::Damaged);
    assert!(t.problems[0].contains("SHA-256 mismatch"));
    assert_eq!(layer(&r, "structure").verdict, Verdict::Ok);
    let o = run_on(&b, &["verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("DAMAGED"));
}

#[test]
fn branch_pointer_out_of_range() {
    let mut b = deep();
    let l = layout(&b);
    let off = branch_child_offset(&l, l.root, 0);
    b[off..off + 8].copy_from_slice(&999_999u64.to_le_bytes());
    let r = verify_bytes("oor", &b);
    assert_eq!(r.exit_code(), 1);
    let s = layer(&r, "structure");
    assert_eq!(s.verdict, Verdict::Damaged);
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("page 999999") && p.contains("out of range")),
        "{:?}",
        s.problems
    );
    let o = run_on(&b, &["status"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("999999"), "{}", stderr(&o));
}

#[test]
fn page_id_mismatch() {
    let mut b = deep();
    let l = layout(&b);
    let off = l.leaf as usize * l.page_size;
    b[off..off + 8].copy_from_slice(&12345u64.to_le_bytes());
    let r = verify_bytes("pgid", &b);
    assert_eq!(r.exit_code(), 1);
    let s = layer(&r, "structure");
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains(&format!("page {}", l.leaf)) && p.contains("12345")),
        "{:?}",
        s.problems
    );
}

#[test]
fn branch_pointing_back_at_an_ancestor_is_an_error_not_a_hang() {
    let mut b = deep();
    let l = layout(&b);
    let off = branch_child_offset(&l, l.child_branch, 1);
    b[off..off + 8].copy_from_slice(&l.root.to_le_bytes());
    let r = verify_bytes("cycle", &b);
    assert_eq!(r.exit_code(), 1);
    let s = layer(&r, "structure");
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains(&format!("page {}", l.root)) && p.contains("more than once")),
        "{:?}",
        s.problems
    );
    let o = run_on(&b, &["status"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn keys_out_of_order_are_found() {
    // Swap the first two leaf elements' key bytes in the first leaf: bbolt
    // itself would accept this; we do not.
    let mut b = deep();
    let l = layout(&b);
    let db = Db::from_bytes(b[..b.len() - 32].to_vec()).unwrap();
    let page = db.page(l.leaf).unwrap();
    let k0 = page.leaf_elem(0).unwrap().key;
    let k1 = page.leaf_elem(1).unwrap().key;
    let base = db.data().as_ptr() as usize;
    let (o0, o1) = (k0.as_ptr() as usize - base, k1.as_ptr() as usize - base);
    let (v0, v1) = (k0.to_vec(), k1.to_vec());
    drop(db);
    b[o0..o0 + v1.len()].copy_from_slice(&v1);
    b[o1..o1 + v0.len()].copy_from_slice(&v0);
    let r = verify_bytes("order", &b);
    assert_eq!(r.exit_code(), 1);
    let s = layer(&r, "structure");
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("not greater than the previous key")),
        "{:?}",
        s.problems
    );
    // The schema layer sees the mod_revision disagree with the swapped keys.
    assert_eq!(layer(&r, "etcd schema").verdict, Verdict::Damaged);
}

#[test]
fn a_value_that_is_not_a_keyvalue_is_named() {
    let mut b = deep();
    let l = layout(&b);
    let db = Db::from_bytes(b[..b.len() - 32].to_vec()).unwrap();
    let page = db.page(l.leaf).unwrap();
    let e = page.leaf_elem(3).unwrap();
    let off = e.value.as_ptr() as usize - db.data().as_ptr() as usize;
    let rev = etcdsnap::etcd::Revision::parse(e.key).unwrap();
    drop(db);
    b[off] = 0x0b; // field 1, wire type 3 (group): not valid here
    let r = verify_bytes("kv", &b);
    assert_eq!(r.exit_code(), 1);
    let s = layer(&r, "etcd schema");
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains(&format!("revision {rev}")) && p.contains("KeyValue")),
        "{:?}",
        s.problems
    );
}
