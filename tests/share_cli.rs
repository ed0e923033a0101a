//! Completions, man pages and `--version` (issue #14, the CLI's comforts):
//! real bash sources the completion script, real `man -l` renders the pages.

mod common;

use std::process::Command;

use common::*;

#[test]
fn version_names_the_commit() {
    let o = etcdsnap(&["--version"]);
    assert!(o.status.success());
    let v = stdout(&o);
    assert!(v.starts_with("etcdsnap 0."), "{v}");
    let commit = v
        .split("(commit ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no commit in {v:?}"));
    // A git checkout names its HEAD; a tarball build says "unknown".
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) if std::env::var_os("ETCDSNAP_BUILD_COMMIT").is_none() => {
            let short = commit.trim_end_matches("+dirty");
            assert!(h.starts_with(short) && short.len() >= 7, "{commit} vs {h}");
        }
        _ => assert!(!commit.is_empty()),
    }
}

#[test]
fn bash_completion_sources_and_registers() {
    let bin = env!("CARGO_BIN_EXE_etcdsnap");
    let script = format!("source <('{bin}' completions bash) && complete -p etcdsnap");
    let o = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("etcdsnap"), "{}", stdout(&o));
    // The script completes subcommands: ask it as bash would.
    let script = format!(
        "source <('{bin}' completions bash) && COMP_WORDS=(etcdsnap ge) COMP_CWORD=1 COMP_LINE='etcdsnap ge' COMP_POINT=11 && _etcdsnap etcdsnap ge etcdsnap && printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let o = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).lines().any(|l| l == "get"), "{}", stdout(&o));
}

#[test]
fn other_shells_get_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef etcdsnap"),
        ("fish", "complete -c etcdsnap"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = etcdsnap(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains(marker), "{shell}");
    }
    let o = etcdsnap(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_pages_render() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let o = etcdsnap(&["man", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in ["etcdsnap.1", "etcdsnap-get.1", "etcdsnap-restore.1"] {
        let p = out.join(page);
        let r = Command::new("man")
            .arg("-l")
            .arg(&p)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man -l (install man-db: scripts/install-deps.sh)");
        assert!(r.status.success(), "man -l {page}: {}", stderr(&r));
        let text = stdout(&r);
        assert!(text.contains("NAME"), "{page}: {text}");
        assert!(text.contains("SYNOPSIS"), "{page}");
    }
    let get = Command::new("man")
        .arg("-l")
        .arg(out.join("etcdsnap-get.1"))
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    assert!(stdout(&get).contains("--namespace"));
}

/// Runs etcdsnap under a pseudo-terminal (util-linux `script`), so its
/// stderr is a terminal; returns what the terminal showed.
fn on_a_terminal(args: &str, min_bytes: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_etcdsnap");
    let o = Command::new("script")
        .args(["-qec", &format!("'{bin}' {args}"), "/dev/null"])
        .env("ETCDSNAP_PROGRESS_MIN_BYTES", min_bytes)
        .output()
        .expect("run script(1) (util-linux)");
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn progress_only_on_a_terminal_and_large_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let backup = fixture("openshift-backup");
    let b = backup.to_str().unwrap();
    let out = |n: &str| dir.path().join(n).display().to_string();
    // A terminal and an input over the threshold: a bar, then cleared.
    let tty = on_a_terminal(&format!("export {b} --out {}", out("a")), "0");
    assert!(tty.contains("exporting ["), "{tty}");
    assert!(tty.contains("/73"), "{tty}");
    assert!(tty.contains("wrote 73 objects"));
    // Below the threshold (the default 100 MiB): none.
    let small = on_a_terminal(&format!("export {b} --out {}", out("b")), "104857600");
    assert!(!small.contains("exporting ["), "{small}");
    // stderr a pipe: none, even over the threshold.
    let o = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(["export", b, "--out", &out("c")])
        .env("ETCDSNAP_PROGRESS_MIN_BYTES", "0")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("exporting ["), "{}", stderr(&o));
    // A spinner for opaque work (stats), gone before the report.
    let tty = on_a_terminal(&format!("stats {b}"), "0");
    assert!(tty.contains("reading every revision"), "{tty}");
}
