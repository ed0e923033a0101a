//! `etcdsnap completions SHELL` and `etcdsnap man --out DIR`: shell
//! completion scripts and man pages, both generated from the clap
//! definitions so they never drift from the flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// The directory to write `etcdsnap.1` and one `etcdsnap-CMD.1` per
    /// command into (created when missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Prints the completion script for one shell to stdout.
pub fn completions(a: CompletionsArgs) -> anyhow::Result<i32> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "etcdsnap", &mut std::io::stdout());
    Ok(0)
}

/// Writes the man pages and names each file on stderr.
pub fn man(a: ManArgs) -> anyhow::Result<i32> {
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let cmd = super::Cli::command();
    let pages = pages(cmd)?;
    for (name, bytes) in pages {
        let path = a.out.join(&name);
        std::fs::write(&path, bytes).with_context(|| path.display().to_string())?;
        eprintln!("etcdsnap: wrote {}", path.display());
    }
    Ok(0)
}

/// `(file name, roff)` for the top command and every subcommand.
fn pages(mut cmd: clap::Command) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    cmd.build();
    let mut out = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    out.push(("etcdsnap.1".to_string(), top));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("etcdsnap-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        out.push((format!("{name}.1"), page));
    }
    Ok(out)
}
