//! The `etcdsnap` binary: parses flags and hands off to `cli`.

mod cli;

fn main() {
    // Die quietly like other Unix tools when the reader of our output goes
    // away (`etcdsnap get … | head`), instead of panicking on EPIPE.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::run());
}
