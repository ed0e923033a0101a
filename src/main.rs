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
    #[cfg(unix)]
    input_changed::catch_sigbus();
    std::process::exit(cli::run());
}

/// A mapped input that shrinks while we read it (truncated by another
/// process, or its storage failed) raises SIGBUS on the next access to a
/// page past its new end. Instead of dying with "Bus error" and exit 135,
/// say what happened and exit 2.
#[cfg(unix)]
mod input_changed {
    const MSG: &[u8] = b"\netcdsnap: error: input changed while reading (the file shrank or its storage failed while mapped); any output written is incomplete\n";

    extern "C" fn on_sigbus(_: libc::c_int) {
        // SAFETY: write(2) and _exit(2) are async-signal-safe; MSG is a
        // static buffer.
        unsafe {
            libc::write(2, MSG.as_ptr().cast(), MSG.len());
            libc::_exit(2);
        }
    }

    pub fn catch_sigbus() {
        // SAFETY: installs a handler for one signal at start-up, before any
        // other thread exists; the handler only calls async-signal-safe
        // functions.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
        }
    }
}
