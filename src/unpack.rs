//! Compressed and archived inputs: a snapshot that arrives gzipped, as
//! zstd, inside a zip (RKE2's `etcd-snapshot-*.zip`), or a `.tar`/`.tar.gz`
//! of a whole OpenShift backup dir or etcd data dir.
//!
//! The format is told by magic bytes, never by name. The content is
//! streamed (never held in memory) into a private temp dir (0700, files
//! 0600) that [`TempArea`] removes when dropped. On SIGINT, SIGTERM and
//! SIGHUP a signal handler unlinks the registered files and dirs (only
//! async-signal-safe `unlink`/`rmdir` calls) and then dies of the signal as
//! it would have; a SIGKILL leaves the temp dir behind (its name starts
//! with `etcdsnap-`).

use std::ffi::CString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use thiserror::Error;

/// How an input is packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Packing {
    Gzip,
    Zstd,
    Zip,
    Tar,
}

impl Packing {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Packing::Gzip => "gzip",
            Packing::Zstd => "zstd",
            Packing::Zip => "zip",
            Packing::Tar => "tar",
        }
    }

    /// Recognises the first bytes of a file (512 are enough for tar).
    pub(crate) fn sniff(head: &[u8]) -> Option<Packing> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Packing::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Packing::Zstd)
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(Packing::Zip)
        } else if head.get(257..262) == Some(b"ustar") {
            Some(Packing::Tar)
        } else {
            None
        }
    }
}

#[derive(Debug, Error)]
pub enum UnpackError {
    #[error("{path}: {packing} member {member}: {what} (the archive is truncated or corrupt)")]
    Corrupt {
        path: String,
        packing: &'static str,
        member: String,
        what: String,
    },
    #[error("{path}: {what}")]
    Other { path: String, what: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Creates directories readable by their owner alone (0700 on unix).
fn private_dir_builder() -> fs::DirBuilder {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b
}

/// A private temp dir holding what was unpacked; removed on drop.
#[derive(Debug)]
pub struct TempArea {
    pub dir: PathBuf,
    slots: Vec<usize>,
}

impl TempArea {
    /// A new private dir (0700) under the temp dir, named `etcdsnap-*`.
    pub fn new() -> io::Result<TempArea> {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let dir = base.join(format!(
                "etcdsnap-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let b = private_dir_builder();
            // Registered before it exists, so a signal in between finds it.
            let slot = register(&dir, true);
            match b.create(&dir) {
                Ok(()) => {
                    return Ok(TempArea {
                        dir,
                        slots: slot.into_iter().collect(),
                    });
                }
                Err(e) => {
                    slot.into_iter().for_each(unregister);
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(e);
                    }
                }
            }
        }
        Err(io::Error::other("cannot create a private temp dir"))
    }

    /// Creates `rel` (0600, parents 0700) inside the area; the signal
    /// handler removes it on Ctrl-C.
    pub fn create(&mut self, rel: &Path) -> io::Result<(PathBuf, fs::File)> {
        let path = self.dir.join(rel);
        let mut dirs = Vec::new();
        let mut p = path.parent();
        while let Some(d) = p {
            if d == self.dir || d.exists() {
                break;
            }
            dirs.push(d.to_path_buf());
            p = d.parent();
        }
        for d in dirs.into_iter().rev() {
            let b = private_dir_builder();
            self.slots.extend(register(&d, true));
            b.create(&d)?;
        }
        let mut o = fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        self.slots.extend(register(&path, false));
        let f = o.open(&path)?;
        Ok((path, f))
    }
}

impl Drop for TempArea {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
        for &s in &self.slots {
            unregister(s);
        }
    }
}

// ---- removal on a signal -------------------------------------------------

const SLOTS: usize = 64;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
static PATHS: [AtomicPtr<libc::c_char>; SLOTS] = [EMPTY; SLOTS];

/// Records a path for the signal handler; `None` when every slot is taken
/// (the path is then still removed on a normal exit). The stored string is
/// `d` or `f` followed by the path, so one atomic store publishes both.
fn register(path: &Path, is_dir: bool) -> Option<usize> {
    install_handler();
    let mut bytes = vec![if is_dir { b'd' } else { b'f' }];
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        bytes.extend_from_slice(path.as_os_str().as_bytes());
    }
    #[cfg(not(unix))]
    bytes.extend_from_slice(path.to_string_lossy().as_bytes());
    let raw = CString::new(bytes).ok()?.into_raw();
    for (i, slot) in PATHS.iter().enumerate() {
        if slot
            .compare_exchange(
                std::ptr::null_mut(),
                raw,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            return Some(i);
        }
    }
    // SAFETY: `raw` came from `CString::into_raw` above and was not stored.
    drop(unsafe { CString::from_raw(raw) });
    None
}

fn unregister(slot: usize) {
    let p = PATHS[slot].swap(std::ptr::null_mut(), Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: every stored pointer came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(p) });
    }
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    // Files before dirs, newest first: only unlink/rmdir, which are
    // async-signal-safe.
    for want_dir in [false, true] {
        for slot in PATHS.iter().rev() {
            let p = slot.load(Ordering::SeqCst);
            if p.is_null() {
                continue;
            }
            // SAFETY: a NUL-terminated `d`/`f` + path that stays allocated
            // while registered.
            unsafe {
                let is_dir = *p == b'd' as libc::c_char;
                if is_dir == want_dir {
                    if is_dir {
                        libc::rmdir(p.add(1));
                    } else {
                        libc::unlink(p.add(1));
                    }
                }
            }
        }
    }
    // SAFETY: restore the default action and re-raise: the process ends as
    // the signal intended.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn install_handler() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: installs a handler that only calls
                // async-signal-safe functions.
                unsafe {
                    let mut sa: libc::sigaction = std::mem::zeroed();
                    sa.sa_sigaction = on_signal as *const () as usize;
                    libc::sigemptyset(&mut sa.sa_mask);
                    libc::sigaction(sig, &sa, std::ptr::null_mut());
                }
            }
        });
    }
}

// ---- unpacking -------------------------------------------------------------

/// What was unpacked: the temp area and the path inside it to read (a file,
/// a backup dir or a data dir).
#[derive(Debug)]
pub(crate) struct Unpacked {
    pub area: TempArea,
    pub path: PathBuf,
    pub note: String,
}

/// Unpacks `path` when its first bytes say it is compressed or archived;
/// `None` for a plain file.
pub(crate) fn unpack_if_packed(path: &Path) -> Result<Option<Unpacked>, UnpackError> {
    let io_err = |source| UnpackError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = fs::File::open(path).map_err(io_err)?;
    let mut head = Vec::with_capacity(512);
    (&mut f).take(512).read_to_end(&mut head).map_err(io_err)?;
    let Some(packing) = Packing::sniff(&head) else {
        return Ok(None);
    };
    drop(f);
    let shown = path.display().to_string();
    let mut area = TempArea::new().map_err(io_err)?;
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    let (inner, what) = match packing {
        Packing::Gzip | Packing::Zstd => {
            let f = fs::File::open(path).map_err(io_err)?;
            let reader: Box<dyn Read> = if packing == Packing::Gzip {
                Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(f)))
            } else {
                Box::new(zstd::stream::read::Decoder::new(f).map_err(io_err)?)
            };
            let member = strip_ext(&base);
            let (head, reader) =
                peek(reader, 512).map_err(|e| corrupt(&shown, packing, &member, e))?;
            if Packing::sniff(&head) == Some(Packing::Tar) {
                let p = untar(&mut area, &shown, packing, reader)?;
                (p, format!("{}-compressed tar", packing.name()))
            } else {
                let rel = PathBuf::from(safe_name(&member));
                let (p, mut out) = area.create(&rel).map_err(io_err)?;
                copy(reader, &mut out).map_err(|e| corrupt(&shown, packing, &member, e))?;
                out.sync_all().map_err(io_err)?;
                (p, format!("{}-compressed", packing.name()))
            }
        }
        Packing::Tar => {
            let f = fs::File::open(path).map_err(io_err)?;
            (
                untar(&mut area, &shown, Packing::Tar, Box::new(f))?,
                "tar".into(),
            )
        }
        Packing::Zip => (unzip(&mut area, path)?, "zip".into()),
    };
    let note = format!(
        "{shown} is {what}: unpacked into a private temp dir {} (0600, removed on exit)",
        area.dir.display()
    );
    Ok(Some(Unpacked {
        area,
        path: inner,
        note,
    }))
}

fn corrupt(path: &str, p: Packing, member: &str, e: io::Error) -> UnpackError {
    UnpackError::Corrupt {
        path: path.to_string(),
        packing: p.name(),
        member: member.to_string(),
        what: e.to_string(),
    }
}

/// Reads up to `n` bytes and gives them back with a reader that yields them
/// again before the rest.
fn peek(mut r: Box<dyn Read>, n: usize) -> io::Result<(Vec<u8>, Box<dyn Read>)> {
    let mut head = Vec::with_capacity(n);
    (&mut r).take(n as u64).read_to_end(&mut head)?;
    let again = io::Cursor::new(head.clone()).chain(r);
    Ok((head, Box::new(again)))
}

fn copy(mut r: impl Read, w: &mut fs::File) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// `snapshot.db.gz` → `snapshot.db`.
fn strip_ext(name: &str) -> String {
    for ext in [".gz", ".gzip", ".zst", ".zstd", ".tgz"] {
        if let Some(s) = name.strip_suffix(ext) {
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    format!("{name}.unpacked")
}

/// A member's last path component, made safe as a file name.
fn safe_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.is_empty() || last == "." || last == ".." {
        "member".into()
    } else {
        last.to_string()
    }
}

/// Where a member of an archive goes, if it is one we use: `snapshot_*.db`
/// and `static_kuberesources_*.tar.gz` flat (a backup dir), `…/member/snap/db`
/// as `member/snap/db` (a data dir); any other regular file is a candidate
/// for a single-file archive.
enum Wanted {
    Backup(String),
    DataDb,
    Other(String),
}

fn classify(name: &str) -> Wanted {
    let n = name.trim_end_matches('/');
    if n == "member/snap/db" || n.ends_with("/member/snap/db") {
        return Wanted::DataDb;
    }
    let last = safe_name(n);
    if (last.starts_with("snapshot_") && last.ends_with(".db"))
        || (last.starts_with("static_kuberesources_") && last.ends_with(".tar.gz"))
    {
        Wanted::Backup(last)
    } else {
        Wanted::Other(last)
    }
}

/// Collects the members we use, then says which path to read. The tar
/// and the zip reader both place their members through it.
#[derive(Default)]
struct Picked {
    backup: usize,
    data_db: bool,
    others: Vec<String>,
}

impl Picked {
    /// Creates the file member `name` goes to in `area` (see [`classify`]);
    /// `None` for a later member whose file name an earlier one took (the
    /// first is kept).
    fn place(&mut self, area: &mut TempArea, name: &str) -> Result<Option<fs::File>, UnpackError> {
        let rel = match classify(name) {
            Wanted::DataDb => {
                self.data_db = true;
                PathBuf::from("member/snap/db")
            }
            Wanted::Backup(n) => {
                self.backup += 1;
                PathBuf::from(n)
            }
            Wanted::Other(n) => {
                let rel = format!("other/{n}");
                if self.others.contains(&rel) {
                    return Ok(None);
                }
                self.others.push(rel.clone());
                PathBuf::from(rel)
            }
        };
        let (_, out) = area.create(&rel).map_err(|source| UnpackError::Io {
            path: area.dir.join(&rel).display().to_string(),
            source,
        })?;
        Ok(Some(out))
    }

    fn path(&self, area: &TempArea, shown: &str, what: &str) -> Result<PathBuf, UnpackError> {
        if self.data_db {
            return Ok(area.dir.clone());
        }
        if self.backup > 0 {
            return Ok(area.dir.clone());
        }
        match self.others.as_slice() {
            [one] => Ok(area.dir.join(one)),
            [] => Err(UnpackError::Other {
                path: shown.into(),
                what: format!("the {what} archive holds no file"),
            }),
            many => Err(UnpackError::Other {
                path: shown.into(),
                what: format!(
                    "the {what} archive holds {} files but no snapshot_*.db or member/snap/db: {}",
                    many.len(),
                    many.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }
}

fn untar(
    area: &mut TempArea,
    shown: &str,
    packing: Packing,
    r: Box<dyn Read>,
) -> Result<PathBuf, UnpackError> {
    let mut ar = tar::Archive::new(r);
    let entries = ar
        .entries()
        .map_err(|e| corrupt(shown, packing, "(tar header)", e))?;
    let mut picked = Picked::default();
    let mut last = "(first tar header)".to_string();
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(shown, packing, &format!("after {last}"), e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last = name.clone();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Some(mut out) = picked.place(area, &name)? else {
            continue;
        };
        copy(&mut entry, &mut out).map_err(|e| corrupt(shown, packing, &name, e))?;
    }
    // Read the compressed stream to its end: its own trailer (gzip's CRC
    // and length) comes after the tar's end marker.
    io::copy(&mut ar.into_inner(), &mut io::sink())
        .map_err(|e| corrupt(shown, packing, &format!("after {last}"), e))?;
    picked.path(area, shown, "tar")
}

fn unzip(area: &mut TempArea, path: &Path) -> Result<PathBuf, UnpackError> {
    let shown = path.display().to_string();
    let f = fs::File::open(path).map_err(|source| UnpackError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut z = zip::ZipArchive::new(io::BufReader::new(f)).map_err(|e| UnpackError::Corrupt {
        path: shown.clone(),
        packing: "zip",
        member: "(central directory)".into(),
        what: e.to_string(),
    })?;
    let mut picked = Picked::default();
    for i in 0..z.len() {
        let mut entry = z.by_index(i).map_err(|e| UnpackError::Corrupt {
            path: shown.clone(),
            packing: "zip",
            member: format!("#{i}"),
            what: e.to_string(),
        })?;
        if !entry.is_file() {
            continue;
        }
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let Some(mut out) = picked.place(area, &name)? else {
            continue;
        };
        copy(&mut entry, &mut out).map_err(|e| corrupt(&shown, Packing::Zip, &name, e))?;
    }
    picked.path(area, &shown, "zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(Packing::sniff(&[0x1f, 0x8b, 8]), Some(Packing::Gzip));
        assert_eq!(
            Packing::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Some(Packing::Zstd)
        );
        assert_eq!(Packing::sniff(b"PK\x03\x04rest"), Some(Packing::Zip));
        let mut t = vec![0u8; 512];
        t[257..262].copy_from_slice(b"ustar");
        assert_eq!(Packing::sniff(&t), Some(Packing::Tar));
        assert_eq!(Packing::sniff(&[0u8; 512]), None);
    }

    #[test]
    fn temp_area_is_private_and_removed() {
        let mut a = TempArea::new().unwrap();
        let (p, mut f) = a.create(Path::new("member/snap/db")).unwrap();
        f.write_all(b"x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(&a.dir), 0o700);
        }
        let dir = a.dir.clone();
        drop(a);
        assert!(!dir.exists());
    }
}
