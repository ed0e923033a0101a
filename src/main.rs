//! The `etcdsnap` binary: parses flags and hands off to `cli`.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
