#!/usr/bin/env python3
"""Build fixtures/certs/ (for `etcdsnap certs`) with REAL etcd 3.5.

    scripts/install-deps.sh && scripts/make-cert-fixtures.py [--out fixtures/certs]

Certificates are made here with Python `cryptography`, with fixed dates, and
written into Secrets and a ConfigMap through a real etcd (`etcdctl put` via
scripts/etcdlab.py), then saved with `etcdctl snapshot save`; a paired
static_kuberesources tarball holds two more. The snapshot is named for
2026-11-21 10:15:00, so at `--at snapshot`:

  CN                 where                                         not after    status
  fixture-ca         every bundle (ConfigMap, Secrets, kubeconfig,  2036-01-01   valid
                     tarball)
  old.example.com    Secret certs-demo/old-tls tls.crt             2026-11-01   expired
  web.shop.svc       Secret certs-demo/web-tls tls.crt (+ CA)      2027-11-01   valid
                     (not valid before 2026-11-01)
  system:admin       kubeconfig in Secret certs-demo/admin-        2026-12-01   expiring
                     kubeconfig (client-certificate-data)
  api.example.com    tarball .../kube-apiserver-pod-3/secrets/     2026-12-20   expiring
                     serving-cert/tls.crt (not before 2026-11-15)

manifest.json lists every certificate with its serial and dates.
"""

import argparse
import base64
import datetime as dt
import gzip
import importlib.util
import io
import ipaddress
import json
import os
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import etcdlab  # noqa: E402
from etcdlab import Etcd  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError as e:  # pragma: no cover
    sys.exit("make-cert-fixtures.py: %s: run scripts/install-deps.sh (pip: cryptography)" % e)

# The protobuf writers of the encrypted fixtures (Secret, ConfigMap, Namespace).
_spec = importlib.util.spec_from_file_location("crypt_fixtures", Path(__file__).with_name("make-crypt-fixtures.py"))
cf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cf)

TS = "2026-11-21_101500"
MTIME = 1795255700  # 2026-11-21 10:15:00 UTC
NS = "certs-demo"


def utc(y, m, d):
    return dt.datetime(y, m, d, tzinfo=dt.timezone.utc)


def cert(cn, not_before, not_after, serial, issuer=None, sans=(), ca=False, client=False):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] +
                        ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")] if client else []))
    signer_key, signer_name = (key, subject) if issuer is None else (issuer[1], issuer[0].subject)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(signer_name)
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        names = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    c = b.sign(signer_key, hashes.SHA256())
    return c, key


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def key_pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def tarball(path, files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        dirs = set()
        for name, _ in files:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for d in sorted(dirs):
            ti = tarfile.TarInfo(d + "/")
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tf.addfile(ti)
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), MTIME
            ti.mode = 0o600 if "/secrets/" in name else 0o644
            tf.addfile(ti, io.BytesIO(data))
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=MTIME, compresslevel=9) as gz:
            gz.write(buf.getvalue())
    os.chmod(path, 0o600)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(etcdlab.REPO / "fixtures" / "certs"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    ca = cert("fixture-ca", utc(2026, 1, 1), utc(2036, 1, 1), 0x1001, ca=True)
    old = cert("old.example.com", utc(2025, 11, 1), utc(2026, 11, 1), 0x2002, ca, sans=["old.example.com"])
    web = cert("web.shop.svc", utc(2026, 11, 1), utc(2027, 11, 1), 0x3003, ca,
               sans=["web.shop.svc", "web.shop.svc.cluster.local", "10.0.0.1"])
    admin = cert("system:admin", utc(2026, 6, 1), utc(2026, 12, 1), 0x4004, ca, client=True)
    api = cert("api.example.com", utc(2026, 11, 15), utc(2026, 12, 20), 0x5005, ca, sans=["api.example.com"])

    kubeconfig = (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fixture\n  cluster:\n"
        "    server: https://api.example.com:6443\n    certificate-authority-data: %s\n"
        "users:\n- name: admin\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
        "contexts:\n- name: admin\n  context:\n    cluster: fixture\n    user: admin\ncurrent-context: admin\n"
    ) % (base64.b64encode(pem(ca[0])).decode(), base64.b64encode(pem(admin[0])).decode(),
         base64.b64encode(key_pem(admin[1])).decode())

    with Etcd("3.5", token="etcdsnap-certs") as e:
        e.put(b"/registry/namespaces/" + NS.encode(), cf.namespace(NS, uid="c0000000-0000-4000-8000-000000000001"))
        e.put(("/registry/secrets/%s/web-tls" % NS).encode(),
              cf.secret(NS, "web-tls", {"tls.crt": pem(web[0]) + pem(ca[0]), "tls.key": key_pem(web[1])},
                        typ="kubernetes.io/tls"))
        e.put(("/registry/secrets/%s/old-tls" % NS).encode(),
              cf.secret(NS, "old-tls", {"tls.crt": pem(old[0]), "tls.key": key_pem(old[1]), "ca.crt": pem(ca[0])},
                        typ="kubernetes.io/tls"))
        e.put(("/registry/secrets/%s/admin-kubeconfig" % NS).encode(),
              cf.secret(NS, "admin-kubeconfig", {"kubeconfig": kubeconfig.encode()}))
        e.put(("/registry/configmaps/%s/ca-bundle" % NS).encode(),
              cf.configmap(NS, "ca-bundle", {"ca-bundle.crt": pem(ca[0]).decode()}))
        e.put(("/registry/configmaps/%s/plain" % NS).encode(),
              cf.configmap(NS, "plain", {"k": "no certificate here"}))
        snap = out / ("snapshot_%s.db" % TS)
        e.snapshot_save(snap)

    base = "static-pod-resources/kube-apiserver-pod-3"
    tar = out / ("static_kuberesources_%s.tar.gz" % TS)
    tarball(tar, [
        (base + "/secrets/serving-cert/tls.crt", pem(api[0])),
        (base + "/secrets/serving-cert/tls.key", key_pem(api[1])),
        (base + "/configmaps/client-ca/ca-bundle.crt", pem(ca[0])),
        (base + "/kube-apiserver-pod.yaml", b"apiVersion: v1\nkind: Pod\n"),
    ])

    def info(c):
        return {"subject_cn": c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
                "serial": "%x" % c.serial_number,
                "not_before": c.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "not_after": c.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")}

    doc = {"generator": "scripts/make-cert-fixtures.py", "snapshot": snap.name, "tarball": tar.name,
           "snapshot_time": "2026-11-21T10:15:00Z",
           "certificates": [info(c[0]) for c in (ca, old, web, admin, api)]}
    (out / "manifest.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    for p in (snap, tar):
        print("%s: %d bytes" % (p, p.stat().st_size))


if __name__ == "__main__":
    main()
