//! Progress on stderr for long work: a bar for countable steps, a spinner
//! with elapsed time for opaque ones. Shown only when stderr is a terminal
//! and the input is large (100 MiB, or `ETCDSNAP_PROGRESS_MIN_BYTES`), so
//! pipes, logs and tests see nothing.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

const DEFAULT_MIN_BYTES: u64 = 100 << 20;

/// A bar or spinner, or nothing.
pub struct Progress(Option<ProgressBar>);

fn wanted(input_bytes: u64) -> bool {
    let min = std::env::var("ETCDSNAP_PROGRESS_MIN_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MIN_BYTES);
    input_bytes >= min && std::io::stderr().is_terminal()
}

/// The size of an input file (0 when unknown).
pub fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

impl Progress {
    /// A bar of `len` steps named `what`.
    pub fn bar(what: &str, len: u64, input_bytes: u64) -> Progress {
        if !wanted(input_bytes) {
            return Progress(None);
        }
        let b = ProgressBar::new(len);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_message(what.to_string());
        Progress(Some(b))
    }

    /// A spinner named `what` for work that cannot be counted.
    pub fn spinner(what: &str, input_bytes: u64) -> Progress {
        if !wanted(input_bytes) {
            return Progress(None);
        }
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_message(what.to_string());
        b.tick();
        b.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(b))
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    pub fn set_message(&self, what: &str) {
        if let Some(b) = &self.0 {
            b.set_message(what.to_string());
        }
    }

    /// Removes the bar, leaving stderr as it was.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
