//! Files and directories that may hold secrets: files are created new with
//! mode 0600 and directories with mode 0700. Modes exist on unix only;
//! elsewhere (Windows) the same calls create them with the platform's
//! default access (the user's profile ACLs), so the crate builds and runs
//! there too.
//!
//! The one place for these modes: the bbolt writer, restore, export and
//! the CLI's `--out` files all create through here.

use std::fs::{DirBuilder, File, OpenOptions};
use std::path::Path;

/// Creates a new file (failing if it exists) for reading and writing,
/// mode 0600 on unix.
pub fn create_new_0600(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).read(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

fn dir_builder_0700(recursive: bool) -> DirBuilder {
    let mut b = DirBuilder::new();
    b.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b
}

/// Creates `p` (one level; fails if it exists) with mode 0700 on unix.
pub fn mkdir_0700(p: &Path) -> std::io::Result<()> {
    dir_builder_0700(false).create(p)
}

/// Creates `p` and its missing parents with mode 0700 on unix.
pub fn mkdir_all_0700(p: &Path) -> std::io::Result<()> {
    dir_builder_0700(true).create(p)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn modes() {
        let t = std::env::temp_dir().join(format!("etcdsnap-pf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        mkdir_all_0700(&t.join("a/b")).unwrap();
        mkdir_0700(&t.join("c")).unwrap();
        assert!(mkdir_0700(&t.join("c")).is_err());
        create_new_0600(&t.join("c/f")).unwrap();
        assert!(create_new_0600(&t.join("c/f")).is_err());
        let mode = |p: &str| std::fs::metadata(t.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (mode("a"), mode("a/b"), mode("c"), mode("c/f")),
            (0o700, 0o700, 0o700, 0o600)
        );
        std::fs::remove_dir_all(&t).unwrap();
    }
}
