//! Where a restore's output goes, all or nothing: each target path (the
//! data dir, a separate WAL dir) is resolved to its canonical form before
//! anything is touched; its content is built in a temp dir on the target's
//! own filesystem (inside the target when it is an existing empty dir, else
//! in its nearest existing ancestor); only when every part is built are
//! missing parent dirs created and the parts moved into place. A failure at
//! any step removes everything this run created — temp dirs, parent dirs,
//! moved entries — and says what, if anything, could not be removed.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::datadir::RestoreError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A target path, resolved before anything is written.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// As the user typed it (for messages).
    pub given: PathBuf,
    /// Canonical: symlinks and `.`/`..` resolved in the existing part.
    pub path: PathBuf,
    /// The target exists (as an empty dir).
    pub exists: bool,
    /// The nearest existing dir: the target itself when it exists.
    pub anchor: PathBuf,
    /// Dirs between `anchor` and the target to create, outermost first.
    pub missing: Vec<PathBuf>,
}

/// Resolves `given` as a restore target: it must be missing or an empty
/// directory, and its nearest existing ancestor a directory.
pub(crate) fn resolve(given: &Path) -> Result<Target, RestoreError> {
    if given.as_os_str().is_empty() {
        return Err(RestoreError::Usage("an empty path is not a target".into()));
    }
    match fs::symlink_metadata(given) {
        Ok(_) => {
            let md = fs::metadata(given).map_err(|e| RestoreError::Usage(format!(
                "{}: exists but cannot be followed ({e}); restore only into a missing or empty directory",
                given.display()
            )))?;
            if !md.is_dir() {
                return Err(RestoreError::NotEmpty {
                    path: given.display().to_string(),
                });
            }
            let path = fs::canonicalize(given).map_err(io(given))?;
            if fs::read_dir(&path).map_err(io(given))?.next().is_some() {
                return Err(RestoreError::NotEmpty {
                    path: given.display().to_string(),
                });
            }
            Ok(Target {
                given: given.to_path_buf(),
                anchor: path.clone(),
                path,
                exists: true,
                missing: Vec::new(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // The nearest ancestor that exists.
            let mut tail: Vec<Component<'_>> = Vec::new();
            let mut anchor_given: Option<&Path> = None;
            for a in given.ancestors().skip(1) {
                if let Some(c) = given
                    .strip_prefix(a)
                    .ok()
                    .and_then(|rest| rest.components().next())
                {
                    tail.push(c);
                }
                let probe = if a.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    a
                };
                match fs::symlink_metadata(probe) {
                    Ok(_) => {
                        anchor_given = Some(probe);
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(probe)(e)),
                }
            }
            let anchor_given = anchor_given.unwrap_or(Path::new("."));
            let md = fs::metadata(anchor_given).map_err(|e| {
                RestoreError::Usage(format!(
                    "{}: cannot create {} under it: {e}",
                    anchor_given.display(),
                    given.display()
                ))
            })?;
            if !md.is_dir() {
                return Err(RestoreError::Usage(format!(
                    "{}: not a directory, so {} cannot be created",
                    anchor_given.display(),
                    given.display()
                )));
            }
            let anchor = fs::canonicalize(anchor_given).map_err(io(anchor_given))?;
            // Tail components, innermost first in `tail`: apply outermost
            // first, lexically.
            let mut path = anchor.clone();
            let mut missing = Vec::new();
            for c in tail.iter().rev() {
                match c {
                    Component::Normal(n) => {
                        path.push(n);
                        missing.push(path.clone());
                    }
                    Component::ParentDir => {
                        if missing.pop().is_some() {
                            path.pop();
                        } else {
                            return Err(RestoreError::Usage(format!(
                                "{}: `..` above an existing dir in a path to create",
                                given.display()
                            )));
                        }
                    }
                    _ => {}
                }
            }
            // The last one is the target itself.
            if missing.pop().is_none() {
                return Err(RestoreError::Usage(format!(
                    "{}: does not name a directory to create",
                    given.display()
                )));
            }
            Ok(Target {
                given: given.to_path_buf(),
                path,
                exists: false,
                anchor,
                missing,
            })
        }
        Err(e) => Err(io(given)(e)),
    }
}

pub use crate::private_files::{mkdir_0700, mkdir_all_0700};

/// Makes a directory's entries durable (fsync of the directory). Only
/// unix can open a directory for that; elsewhere the entries are as
/// durable as the file system makes them and this does nothing.
pub(crate) fn fsync_dir(p: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(p)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        Ok(())
    }
}

/// A target's content being built in a temp dir on its filesystem.
#[derive(Debug)]
pub(crate) struct Stage {
    pub target: Target,
    /// The temp dir: build the target's content here.
    pub tmp: PathBuf,
    done: bool,
}

impl Stage {
    /// Makes the temp dir: inside the target when it exists, else in its
    /// nearest existing ancestor. Creates no other dir.
    pub(crate) fn new(target: Target) -> Result<Stage, RestoreError> {
        let base = target
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "restore".into());
        let tmp = target
            .anchor
            .join(format!(".{base}.etcdsnap-tmp-{}", std::process::id()));
        mkdir_0700(&tmp).map_err(io(&tmp))?;
        Ok(Stage {
            target,
            tmp,
            done: false,
        })
    }

    /// Removes the temp dir; what could not be removed, if anything.
    pub(crate) fn discard(mut self) -> Option<String> {
        self.done = true;
        match fs::remove_dir_all(&self.tmp) {
            Ok(()) => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(format!("{} ({e})", self.tmp.display())),
        }
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// One thing placement did, to undo on failure.
enum Done {
    CreatedDir(PathBuf),
    /// A renamed temp dir or an entry moved into an existing target.
    Placed(PathBuf),
}

/// Checks again that every target is as it was resolved (missing, or an
/// empty dir holding only the temp dir), then creates missing parents and
/// moves each stage into place, in order. On failure undoes everything
/// and returns the error, wrapped in `RestoreError::Incomplete` naming
/// what could not be removed.
pub(crate) fn place_all(stages: Vec<Stage>) -> Result<(), RestoreError> {
    for s in &stages {
        recheck(s)?;
    }
    let mut done = Vec::new();
    let mut stages = stages;
    let mut result = Ok(());
    for s in &mut stages {
        if let Err(e) = place(s, &mut done) {
            result = Err(e);
            break;
        }
    }
    match result {
        Ok(()) => {
            for s in &mut stages {
                s.done = true;
            }
            Ok(())
        }
        Err(e) => {
            let mut left = undo(done);
            for s in stages {
                left.extend(s.discard());
            }
            if left.is_empty() {
                Err(e)
            } else {
                Err(RestoreError::Incomplete {
                    cause: Box::new(e),
                    left,
                })
            }
        }
    }
}

fn recheck(s: &Stage) -> Result<(), RestoreError> {
    let t = &s.target;
    if t.exists {
        let tmp_name = s.tmp.file_name();
        for e in fs::read_dir(&t.path).map_err(io(&t.path))? {
            let e = e.map_err(io(&t.path))?;
            if Some(e.file_name().as_os_str()) != tmp_name {
                return Err(RestoreError::NotEmpty {
                    path: t.given.display().to_string(),
                });
            }
        }
    } else {
        match fs::symlink_metadata(&t.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => {
                return Err(RestoreError::NotEmpty {
                    path: t.given.display().to_string(),
                })
            }
        }
    }
    Ok(())
}

fn place(s: &mut Stage, done: &mut Vec<Done>) -> Result<(), RestoreError> {
    let t = &s.target;
    for d in &t.missing {
        match mkdir_0700(d) {
            Ok(()) => done.push(Done::CreatedDir(d.clone())),
            // Made meanwhile by the other target (the WAL dir's parents
            // may be the data dir's) or someone else: not ours to remove.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(io(d)(e)),
        }
    }
    if t.exists {
        let entries: Vec<_> = fs::read_dir(&s.tmp)
            .map_err(io(&s.tmp))?
            .collect::<Result<_, _>>()
            .map_err(io(&s.tmp))?;
        for e in entries {
            let to = t.path.join(e.file_name());
            fs::rename(e.path(), &to).map_err(io(&to))?;
            done.push(Done::Placed(to));
        }
        fs::remove_dir(&s.tmp).map_err(io(&s.tmp))?;
        fsync_dir(&t.path).map_err(io(&t.path))?;
    } else {
        fs::rename(&s.tmp, &t.path).map_err(io(&t.given))?;
        done.push(Done::Placed(t.path.clone()));
    }
    if let Some(p) = t.path.parent() {
        fsync_dir(p).map_err(io(p))?;
    }
    Ok(())
}

/// Undoes placement steps, newest first; what could not be removed.
fn undo(done: Vec<Done>) -> Vec<String> {
    let mut left = Vec::new();
    for d in done.into_iter().rev() {
        let (p, r) = match d {
            Done::CreatedDir(p) => {
                let r = fs::remove_dir(&p);
                (p, r)
            }
            Done::Placed(p) => {
                let r = match fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => fs::remove_dir_all(&p),
                    Ok(_) => fs::remove_file(&p),
                    Err(e) => Err(e),
                };
                (p, r)
            }
        };
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => left.push(format!("{} ({e})", p.display())),
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(d: &Path) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
            if let Ok(rd) = fs::read_dir(d) {
                for e in rd.flatten() {
                    let p = e.path();
                    out.push(p.strip_prefix(root).unwrap_or(&p).display().to_string());
                    if p.is_dir() {
                        walk(root, &p, out);
                    }
                }
            }
        }
        walk(d, d, &mut out);
        out.sort();
        out
    }

    #[test]
    fn resolve_canonicalises_and_lists_missing_parents() {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap();
        fs::create_dir(root.join("d2")).unwrap();
        let r = resolve(&root.join("x/../d2/member/wal")).unwrap();
        assert_eq!(r.path, root.join("d2/member/wal"));
        let r = resolve(&root.join("d2/./member/wal")).unwrap();
        assert_eq!(r.path, root.join("d2/member/wal"));
        assert_eq!(r.missing, vec![root.join("d2/member")]);
        assert!(!r.exists);
        std::os::unix::fs::symlink(root.join("d2"), root.join("link")).unwrap();
        let r = resolve(&root.join("link/member/wal")).unwrap();
        assert_eq!(r.path, root.join("d2/member/wal"));
        let r = resolve(&root.join("link")).unwrap();
        assert!(r.exists);
        assert_eq!(r.path, root.join("d2"));
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("dangling")).unwrap();
        assert!(resolve(&root.join("dangling")).is_err());
        assert!(resolve(&root.join("dangling/x")).is_err());
        fs::write(root.join("f"), b"x").unwrap();
        assert!(resolve(&root.join("f")).is_err());
        assert!(resolve(&root.join("f/x/y")).is_err());
    }

    /// The second of two placements fails after the first is in place:
    /// everything — the first target, the parents made for it, both temp
    /// dirs — is removed.
    #[test]
    fn failed_placement_removes_everything_it_made() {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap();
        fs::create_dir(root.join("existing")).unwrap();
        let before = tree(&root);
        let wal = Stage::new(resolve(&root.join("a/b/wal")).unwrap()).unwrap();
        fs::write(wal.tmp.join("w.wal"), b"wal").unwrap();
        let data = Stage::new(resolve(&root.join("existing")).unwrap()).unwrap();
        fs::create_dir(data.tmp.join("member")).unwrap();
        // The second move fails after the first is in place: its temp dir
        // vanished.
        fs::remove_dir_all(&data.tmp).unwrap();
        let e = place_all(vec![wal, data]).unwrap_err();
        assert!(!matches!(e, RestoreError::Incomplete { .. }), "{e}");
        assert_eq!(tree(&root), before);
    }

    #[test]
    fn placement_into_missing_and_existing_targets() {
        let t = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(t.path()).unwrap();
        fs::create_dir(root.join("existing")).unwrap();
        let wal = Stage::new(resolve(&root.join("a/b/wal")).unwrap()).unwrap();
        fs::write(wal.tmp.join("w.wal"), b"wal").unwrap();
        let data = Stage::new(resolve(&root.join("existing")).unwrap()).unwrap();
        fs::write(data.tmp.join("db"), b"db").unwrap();
        place_all(vec![wal, data]).unwrap();
        assert_eq!(
            tree(&root),
            vec![
                "a",
                "a/b",
                "a/b/wal",
                "a/b/wal/w.wal",
                "existing",
                "existing/db"
            ]
        );
    }
}
