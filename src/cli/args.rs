//! Command-line spellings clap does not take natively, rewritten before
//! clap parses: `--flag=true|false` for every boolean flag, as cobra
//! (etcdctl, etcdutl, kubectl, oc) accepts it.
//!
//! The boolean flags are found by asking clap's own command tree which
//! arguments are `SetTrue`, so flags added later are covered without
//! per-flag attributes.

use std::ffi::OsString;

use clap::{ArgAction, Command};

/// Rewrites `--name=true` to `--name` and drops `--name=false` for every
/// `SetTrue` flag of the subcommand being run (and the global ones).
/// Values as Go's `strconv.ParseBool` reads them: 1 t T TRUE true True,
/// 0 f F FALSE false False. Everything after `--` is left alone.
pub fn cobra_bools(cmd: &Command, args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    // The command whose flags apply: descends as subcommand names appear.
    let mut current = cmd;
    let mut rest = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || rest {
            out.push(a);
            continue;
        }
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        if s == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        if !s.starts_with('-') {
            if let Some(sub) = current.find_subcommand(s) {
                current = sub;
            }
            out.push(a);
            continue;
        }
        // `-x=true`, as pflag takes a boolean shorthand.
        if let Some((c, value)) = short_with_value(s) {
            match parse_bool(value).filter(|_| is_set_true_short(cmd, current, c)) {
                Some(true) => out.push(OsString::from(format!("-{c}"))),
                Some(false) => {}
                None => out.push(a),
            }
            continue;
        }
        let Some((name, value)) = s.strip_prefix("--").and_then(|n| n.split_once('=')) else {
            out.push(a);
            continue;
        };
        if !is_set_true(cmd, current, name) {
            out.push(a);
            continue;
        }
        match parse_bool(value) {
            Some(true) => out.push(OsString::from(format!("--{name}"))),
            Some(false) => {}
            None => out.push(a),
        }
    }
    out
}

fn is_set_true(root: &Command, current: &Command, name: &str) -> bool {
    let matches = |c: &Command| {
        c.get_arguments().any(|arg| {
            matches!(arg.get_action(), ArgAction::SetTrue)
                && (arg.get_long() == Some(name)
                    || arg.get_all_aliases().is_some_and(|v| v.contains(&name)))
        })
    };
    matches(current) || matches(root)
}

/// `-x=value` → (`x`, `value`).
fn short_with_value(s: &str) -> Option<(char, &str)> {
    let rest = s.strip_prefix('-').filter(|r| !r.starts_with('-'))?;
    let mut chars = rest.chars();
    let c = chars.next()?;
    chars.as_str().strip_prefix('=').map(|v| (c, v))
}

fn is_set_true_short(root: &Command, current: &Command, c: char) -> bool {
    let matches = |cmd: &Command| {
        cmd.get_arguments().any(|arg| {
            matches!(arg.get_action(), ArgAction::SetTrue)
                && (arg.get_short() == Some(c)
                    || arg.get_all_short_aliases().is_some_and(|v| v.contains(&c)))
        })
    };
    matches(current) || matches(root)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn cmd() -> Command {
        Command::new("t")
            .arg(
                Arg::new("quiet")
                    .short('q')
                    .long("quiet")
                    .global(true)
                    .action(ArgAction::SetTrue),
            )
            .subcommand(
                Command::new("restore")
                    .arg(Arg::new("input"))
                    .arg(
                        Arg::new("skip")
                            .long("skip-hash-check")
                            .action(ArgAction::SetTrue),
                    )
                    .arg(Arg::new("name").long("name")),
            )
    }

    fn run(a: &[&str]) -> Vec<String> {
        cobra_bools(&cmd(), a.iter().map(OsString::from).collect())
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn booleans_take_cobra_values() {
        assert_eq!(
            run(&["t", "restore", "x", "--skip-hash-check=true"]),
            ["t", "restore", "x", "--skip-hash-check"]
        );
        assert_eq!(
            run(&["t", "restore", "x", "--skip-hash-check=false"]),
            ["t", "restore", "x"]
        );
        assert_eq!(
            run(&["t", "restore", "--quiet=T", "x"]),
            ["t", "restore", "--quiet", "x"]
        );
        assert_eq!(run(&["t", "-q=1", "restore"]), ["t", "-q", "restore"]);
        assert_eq!(run(&["t", "restore", "-q=false"]), ["t", "restore"]);
        // Not a boolean, a bad value, after `--`: untouched.
        assert_eq!(
            run(&["t", "restore", "--name=true", "--skip-hash-check=yes"]),
            ["t", "restore", "--name=true", "--skip-hash-check=yes"]
        );
        assert_eq!(
            run(&["t", "restore", "--", "--skip-hash-check=true"]),
            ["t", "restore", "--", "--skip-hash-check=true"]
        );
    }
}
