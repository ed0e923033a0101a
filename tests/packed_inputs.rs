//! Compressed and archived inputs (gzip, zstd, zip, tar, tar.gz of a backup
//! dir), made by the real Debian tools: the same `status` JSON and `verify`
//! verdict as the plain files; truncated archives fail cleanly, naming the
//! member; the temp files are gone afterwards.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn tool(args: &[&str], dir: &Path) {
    let o = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run scripts/install-deps.sh (installs Debian's zstd, zip, gzip, tar)",
                args[0]
            )
        });
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

/// Runs etcdsnap with TMPDIR set to `tmp`.
fn run_in(tmp: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

fn leftovers(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("etcdsnap-")
        })
        .collect()
}

fn verdict(out: &str) -> String {
    out.lines()
        .filter(|l| l.starts_with("verdict:") || l.starts_with("restore:") || l.starts_with('['))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The packed forms of one file: gzip, zstd, zip.
fn packed_forms(src: &Path, dir: &Path) -> Vec<PathBuf> {
    let name = src.file_name().unwrap().to_str().unwrap();
    std::fs::copy(src, dir.join(name)).unwrap();
    tool(&["gzip", "-k", "-f", name], dir);
    tool(
        &["zstd", "-q", "-f", name, "-o", &format!("{name}.zst")],
        dir,
    );
    tool(&["zip", "-q", &format!("{name}.zip"), name], dir);
    // Names that do not give the format away: detection is by magic bytes.
    let mut out = Vec::new();
    for (from, to) in [("gz", "a"), ("zst", "b"), ("zip", "c")] {
        let f = dir.join(format!("{name}.{from}"));
        let t = dir.join(format!("{name}.{to}"));
        std::fs::rename(&f, &t).unwrap();
        out.push(t);
    }
    out
}

#[test]
fn packed_files_read_as_the_plain_ones() {
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    for rel in ["etcd-3.4/small.db", "etcd-3.5/deep.db"] {
        let plain = fixture(rel);
        let d = t.path().join(rel.replace('/', "_"));
        std::fs::create_dir(&d).unwrap();
        let want_status = run_in(&tmp, &["status", "-o", "json", plain.to_str().unwrap()]);
        assert_eq!(want_status.status.code(), Some(0));
        let want_verify = run_in(&tmp, &["verify", plain.to_str().unwrap()]);
        for p in packed_forms(&plain, &d) {
            let o = run_in(&tmp, &["status", "-o", "json", p.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
            assert_eq!(stdout(&o), stdout(&want_status), "{}", p.display());
            assert!(
                stderr(&o).contains("unpacked into a private temp dir"),
                "{}",
                stderr(&o)
            );
            let o = run_in(&tmp, &["verify", p.to_str().unwrap()]);
            assert_eq!(o.status.code(), want_verify.status.code());
            assert_eq!(verdict(&stdout(&o)), verdict(&stdout(&want_verify)));
        }
    }
    assert!(leftovers(&tmp).is_empty(), "{:?}", leftovers(&tmp));
}

#[test]
fn a_tar_of_a_backup_dir_reads_as_the_dir() {
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let dir = fixture("openshift-backup");
    let parent = dir.parent().unwrap().to_str().unwrap().to_string();
    let tar = t.path().join("backup.tar");
    let tgz = t.path().join("backup.tgz");
    tool(
        &[
            "tar",
            "cf",
            tar.to_str().unwrap(),
            "-C",
            &parent,
            "openshift-backup",
        ],
        t.path(),
    );
    tool(
        &[
            "tar",
            "czf",
            tgz.to_str().unwrap(),
            "-C",
            &parent,
            "openshift-backup",
        ],
        t.path(),
    );
    let want = run_in(&tmp, &["status", "-o", "json", dir.to_str().unwrap()]);
    let want_v = run_in(&tmp, &["verify", dir.to_str().unwrap()]);
    for p in [&tar, &tgz] {
        let o = run_in(&tmp, &["status", "-o", "json", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&want));
        assert!(
            stderr(&o).contains("paired with static_kuberesources_"),
            "{}",
            stderr(&o)
        );
        let o = run_in(&tmp, &["verify", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), want_v.status.code());
        assert_eq!(verdict(&stdout(&o)), verdict(&stdout(&want_v)));
    }
    assert!(leftovers(&tmp).is_empty());
}

#[test]
fn truncated_archives_fail_cleanly_naming_the_member() {
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let plain = fixture("etcd-3.4/deep.db");
    let forms = packed_forms(&plain, t.path());
    let parent = fixture("openshift-backup");
    let tgz = t.path().join("backup.tgz");
    tool(
        &[
            "tar",
            "czf",
            tgz.to_str().unwrap(),
            "-C",
            parent.parent().unwrap().to_str().unwrap(),
            "openshift-backup",
        ],
        t.path(),
    );
    for p in forms.iter().chain([&tgz]) {
        let b = std::fs::read(p).unwrap();
        for cut in [b.len() / 2, b.len() - 3] {
            let c = t.path().join("cut");
            std::fs::write(&c, &b[..cut]).unwrap();
            let o = run_in(&tmp, &["status", c.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(2), "{} cut at {cut}", p.display());
            let e = stderr(&o);
            assert!(
                e.contains("truncated or corrupt") && e.contains("member"),
                "{} cut at {cut}: {e}",
                p.display()
            );
            assert!(!e.contains("panicked"), "{e}");
        }
    }
    assert!(leftovers(&tmp).is_empty(), "{:?}", leftovers(&tmp));
}

#[test]
fn an_interrupted_unpack_leaves_no_temp_file() {
    // 256 MiB of zeros gzip to ~250 KiB: unpacking takes a moment, and a
    // SIGINT during it (or after it) must leave nothing behind.
    let t = tempfile::tempdir().unwrap();
    let tmp = t.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let gz = t.path().join("zeros.gz");
    {
        use std::io::Write;
        let f = std::fs::File::create(&gz).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            e.write_all(&zeros).unwrap();
        }
        e.finish().unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(["status", gz.to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the temp dir exists (or the process is done), then signal.
    for _ in 0..500 {
        if !leftovers(&tmp).is_empty() || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signals our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait().unwrap();
    assert!(leftovers(&tmp).is_empty(), "{:?}", leftovers(&tmp));
}
