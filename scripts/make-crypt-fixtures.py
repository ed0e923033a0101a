#!/usr/bin/env python3
"""Build the encrypted-at-rest fixtures under fixtures/encrypted*/ with REAL etcd.

    scripts/install-deps.sh && scripts/make-crypt-fixtures.py [--out fixtures] [--only 3.4|3.5]

Encryption is done here with Python `cryptography` (AES-CBC, AES-GCM) and
PyNaCl (secretbox), independently of the Rust crate, so that a bug shared by
writer and reader cannot hide.  The layout follows docs/encryption.md and docs/openshift.md.

For V = 3.5 -> fixtures/encrypted/, V = 3.4 -> fixtures/encrypted-3.4/:

  snapshot_2026-11-21_101500.db              etcdctl snapshot save of the dataset
  static_kuberesources_2026-11-21_101500.tar.gz
                                             cluster-backup.sh layout; holds
                                             kube-apiserver-pod-6 and -7, each with
                                             secrets/encryption-config/encryption-config
  upstream-encryption-config.yaml            a legacy `v1 EncryptionConfig` (YAML) for
                                             the /registry/... values
  manifest.json                              every value (key + revision): sha256 and
                                             length of its plaintext, the key that
                                             encrypted it, or the error to expect

Keys (names as OpenShift makes them: the bare key ID):
  kube-apiserver      1 identity (aesgcm placeholder of 16 zero bytes), 2 aescbc, 3 aescbc (write)
  openshift-apiserver 1 identity (placeholder), 2 aescbc, 3 aesgcm (write)
  oauth-apiserver     1 aesgcm, 2 secretbox (write)
  upstream yaml       aesgcm "key:with:colons", secretbox "sb"
kube-apiserver's keys come from the tarball; the other components' keys are
Secrets in openshift-config-managed (encrypted with kube-apiserver's key), plus
openshift-apiserver's encryption-config Secrets; oauth-apiserver has only its
key Secrets (no config Secret), so both second-stage paths are exercised.
Key "2" exists for kube-apiserver and openshift-apiserver, both aescbc, with
different bytes: a reader must pick by component, not by name alone.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import etcdlab  # noqa: E402
from etcdlab import Etcd  # noqa: E402

try:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    import nacl.secret
except ImportError as e:  # pragma: no cover
    sys.exit("make-crypt-fixtures.py: %s: run scripts/install-deps.sh (pip: cryptography, pynacl)" % e)

REPO = etcdlab.REPO
TS = "2026-11-21_101500"
MTIME = 1795255700  # 2026-11-21 10:15:00 UTC
CLIENT_PORT = 32479
PEER_PORT = 32480
KEY_DATA = "encryption.apiserver.operator.openshift.io-key"
ANN = "encryption.apiserver.operator.openshift.io/"
ZERO16 = bytes(16)


# ------------------------------------------------------------------ protobuf (k8s storage envelope)
from etcdlab import _fld, _fvar, _varint  # noqa: E402,F401  (protobuf wire helpers)


def _map(num, items):
    return b"".join(_fld(num, _fld(1, k) + _fld(2, v)) for k, v in sorted(items.items()))


def object_meta(name, ns=None, uid="", labels=None, annotations=None, finalizers=()):
    b = _fld(1, name)
    if ns:
        b += _fld(3, ns)
    b += _fld(5, uid)
    b += _fld(8, _fvar(1, MTIME - 86400))
    b += _map(11, labels or {})
    b += _map(12, annotations or {})
    for f in finalizers:
        b += _fld(14, f)
    return b


def envelope(api_version, kind, raw):
    tm = _fld(1, api_version) + _fld(2, kind)
    return b"k8s\x00" + _fld(1, tm) + _fld(2, raw) + _fld(3, b"") + _fld(4, b"")


def secret(ns, name, data, typ="Opaque", labels=None, annotations=None, finalizers=(), uid=""):
    raw = _fld(1, object_meta(name, ns, uid, labels, annotations, finalizers))
    raw += _map(2, data)
    raw += _fld(3, typ)
    return envelope("v1", "Secret", raw)


def configmap(ns, name, data, uid=""):
    return envelope("v1", "ConfigMap", _fld(1, object_meta(name, ns, uid)) + _map(2, data))


def namespace(name, uid=""):
    return envelope("v1", "Namespace", _fld(1, object_meta(name, None, uid)))


def route(ns, name, host, key_pem=None, uid=""):
    spec = _fld(1, host) + _fld(3, _fld(1, "Service") + _fld(2, name))
    if key_pem:
        spec += _fld(6, _fld(1, "edge") + _fld(2, PEM_CERT) + _fld(3, key_pem))
    raw = _fld(1, object_meta(name, ns, uid)) + _fld(2, spec) + _fld(3, b"")
    return envelope("route.openshift.io/v1", "Route", raw)


def access_token(name, client, user, uid=""):
    raw = (_fld(1, object_meta(name, None, uid)) + _fld(2, client) + _fvar(3, 86400)
           + _fld(4, "user:full") + _fld(5, "https://oauth.example/cb") + _fld(6, user) + _fld(7, uid))
    return envelope("oauth.openshift.io/v1", "OAuthAccessToken", raw)


def authorize_token(name, client, user, uid=""):
    raw = _fld(1, object_meta(name, None, uid)) + _fld(2, client) + _fvar(3, 300) + _fld(7, user)
    return envelope("oauth.openshift.io/v1", "OAuthAuthorizeToken", raw)


def user(name, uid=""):
    return envelope("user.openshift.io/v1", "User", _fld(1, object_meta(name, None, uid)) + _fld(2, name.title()))


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode() + b"\n"


PEM_CERT = ("-----BEGIN CERTIFICATE-----\nMIIBfixtureCERTIFICATEnotREALdataAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
            "-----END CERTIFICATE-----\n")


def pem_key(rng):
    body = base64.b64encode(rng.randbytes(96)).decode()
    return "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % body


# ------------------------------------------------------------------ the transformers (docs/encryption.md)
def enc_aescbc(name, key, plain):
    iv = os.urandom(16)
    p = padding.PKCS7(128).padder()
    padded = p.update(plain) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b"k8s:enc:aescbc:v1:" + name.encode() + b":" + iv + e.update(padded) + e.finalize()


def enc_aesgcm(name, key, plain, etcd_key):
    nonce = os.urandom(12)
    return b"k8s:enc:aesgcm:v1:" + name.encode() + b":" + nonce + AESGCM(key).encrypt(nonce, plain, etcd_key)


def enc_secretbox(name, key, plain):
    nonce = os.urandom(24)
    box = nacl.secret.SecretBox(key).encrypt(plain, nonce)  # nonce || tag(16) || ciphertext
    assert bytes(box[:24]) == nonce and len(box) == 24 + 16 + len(plain)
    return b"k8s:enc:secretbox:v1:" + name.encode() + b":" + bytes(box)


class Key:
    def __init__(self, component, name, mode, secret):
        self.component, self.name, self.mode, self.secret = component, name, mode, secret

    def encrypt(self, plain, etcd_key):
        if self.mode == "aescbc":
            return enc_aescbc(self.name, self.secret, plain)
        if self.mode == "aesgcm":
            return enc_aesgcm(self.name, self.secret, plain, etcd_key)
        if self.mode == "secretbox":
            return enc_secretbox(self.name, self.secret, plain)
        raise ValueError(self.mode)


def make_keys():
    rng = random.Random(0xC4F7)
    k = {}
    for comp, specs in (("kube-apiserver", (("1", "identity"), ("2", "aescbc"), ("3", "aescbc"))),
                        ("openshift-apiserver", (("1", "identity"), ("2", "aescbc"), ("3", "aesgcm"))),
                        ("oauth-apiserver", (("1", "aesgcm"), ("2", "secretbox"))),
                        ("upstream", (("key:with:colons", "aesgcm"), ("sb", "secretbox"))),
                        ("nowhere", (("9", "aescbc"),))):
        for name, mode in specs:
            k[(comp, name)] = Key(comp, name, mode, ZERO16 if mode == "identity" else rng.randbytes(32))
    return k


def b64(b):
    return base64.b64encode(b).decode()


def openshift_config(resources, keys):
    """EncryptionConfiguration as library-go's encryptiondata/config.go writes it (docs/openshift.md):
    one entry per resource, write key first, other read keys newest first,
    then identity, then aesgcm placeholders naming the identity keys."""
    real = [k for k in keys if k.mode != "identity"]
    real.sort(key=lambda k: -int(k.name))
    provs = [{k.mode: {"keys": [{"name": k.name, "secret": b64(k.secret)}]}} for k in real]
    provs.append({"identity": {}})
    for k in keys:
        if k.mode == "identity":
            provs.append({"aesgcm": {"keys": [{"name": k.name, "secret": b64(ZERO16)}]}})
    return {"kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1",
            "resources": [{"resources": [r], "providers": provs} for r in sorted(resources)]}


def config_json(cfg):
    return json.dumps(cfg, separators=(",", ":")).encode()


# ------------------------------------------------------------------ tarball (cluster-backup.sh layout)
def static_resources_tar(path, kas_configs):
    files = []
    files.append(("static-pod-resources", None))
    for rev, cfg in sorted(kas_configs.items()):
        base = "static-pod-resources/kube-apiserver-pod-%d" % rev
        files += [(base, None), (base + "/configmaps", None), (base + "/configmaps/config", None),
                  (base + "/configmaps/config/config.yaml",
                   b"apiVersion: kubecontrolplane.config.openshift.io/v1\nkind: KubeAPIServerConfig\n"
                   b"apiServerArguments:\n  encryption-provider-config:\n"
                   b"  - /etc/kubernetes/static-pod-resources/secrets/encryption-config/encryption-config\n"
                   b"storageConfig:\n  urls:\n  - https://localhost:2379\n"),
                  (base + "/secrets", None), (base + "/secrets/encryption-config", None),
                  (base + "/secrets/encryption-config/encryption-config", config_json(cfg)),
                  (base + "/secrets/etcd-client", None),
                  (base + "/secrets/etcd-client/tls.crt", PEM_CERT.encode()),
                  (base + "/kube-apiserver-pod.yaml",
                   ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: "
                    "openshift-kube-apiserver\n  labels:\n    revision: \"%d\"\n" % rev).encode())]
    files += [("static-pod-resources/etcd-pod-4", None),
              ("static-pod-resources/etcd-pod-4/etcd-pod.yaml", b"apiVersion: v1\nkind: Pod\n")]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in files:
            ti = tarfile.TarInfo(name + ("/" if data is None else ""))
            ti.mtime = MTIME
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            else:
                ti.mode = 0o600 if "/secrets/" in name else 0o644
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=MTIME, compresslevel=9) as gz:
            gz.write(buf.getvalue())
    os.chmod(path, 0o600)


def upstream_yaml(keys):
    g, s = keys[("upstream", "key:with:colons")], keys[("upstream", "sb")]
    return ("# legacy form, still accepted by the API server\n"
            "kind: EncryptionConfig\napiVersion: v1\nresources:\n"
            "  - resources:\n      - secrets\n      - configmaps\n    providers:\n"
            "      - aesgcm:\n          keys:\n            - name: \"key:with:colons\"\n"
            "              secret: %s\n"
            "      - secretbox:\n          keys:\n            - name: sb\n              secret: %s\n"
            "      - identity: {}\n" % (b64(g.secret), b64(s.secret))).encode()


# ------------------------------------------------------------------ the dataset
def build(version, outdir):
    outdir.mkdir(parents=True, exist_ok=True)
    keys = make_keys()
    rng = random.Random(20261121)
    uid = lambda: "%08x-0000-4000-8000-%012x" % (rng.getrandbits(32), rng.getrandbits(48))  # noqa: E731
    K = lambda c, n: keys[(c, n)]  # noqa: E731
    kas, oas, oauth = "kube-apiserver", "openshift-apiserver", "oauth-apiserver"
    manifest = []

    with Etcd(version, client_port=CLIENT_PORT, peer_port=PEER_PORT, token="etcdsnap-crypt") as e:
        def put(etcd_key, plain, key=None, stage="tarball", expect=None, store=None):
            ek = etcd_key.encode()
            value = store if store is not None else (key.encrypt(plain, ek) if key else plain)
            r = e.put(ek, value)
            rev = int(r["header"]["revision"])
            entry = {"key": etcd_key, "revision": rev, "value_len": len(value)}
            if expect:
                entry["expect_error"] = expect
                if key:
                    entry["key_name"] = key.name
                    entry["component"] = key.component
            else:
                entry.update({"sha256": hashlib.sha256(plain).hexdigest(), "plaintext_len": len(plain),
                              "encrypted": key is not None, "stage": stage if key else "none"})
                if key:
                    entry.update({"provider": key.mode, "key_name": key.name, "component": key.component})
            manifest.append(entry)
            return value

        # Before encryption was turned on: plain values.
        put("/kubernetes.io/namespaces/default", namespace("default", uid()))
        put("/kubernetes.io/namespaces/openshift-config-managed", namespace("openshift-config-managed", uid()))
        db_pw = "/kubernetes.io/secrets/default/db-password"
        put(db_pw, secret("default", "db-password", {"password": b"hunter2"}, uid=uid()))
        put("/kubernetes.io/secrets/default/plain", secret("default", "plain", {"k": b"v"}, uid=uid()))
        put("/kubernetes.io/configmaps/default/plain-cm", configmap("default", "plain-cm", {"a": "b"}, uid()))
        put("/openshift.io/routes/default/plain-route", route("default", "plain-route", "plain.apps.example", uid=uid()))
        put("/openshift.io/users/alice", user("alice", uid()))

        # Key secrets in openshift-config-managed (docs/openshift.md).  Each is encrypted with
        # kube-apiserver's write key of its time.
        def key_secret(comp_ns, comp, name, writer):
            k = K(comp, name)
            ann = {ANN + "mode": k.mode if k.mode != "identity" else "identity",
                   ANN + "migrated-timestamp": "2026-11-20T10:00:00Z",
                   ANN + "internal-reason": "fixture"}
            res = {kas: [("", "secrets"), ("", "configmaps")], oas: [("route.openshift.io", "routes")],
                   oauth: [("oauth.openshift.io", "oauthaccesstokens"),
                           ("oauth.openshift.io", "oauthauthorizetokens")]}[comp]
            ann[ANN + "migrated-resources"] = json.dumps(
                {"resources": [{"group": g, "resource": r} for g, r in res]}, separators=(",", ":"))
            sname = "encryption-key-%s-%s" % (comp_ns, name)
            plain = secret("openshift-config-managed", sname, {KEY_DATA: k.secret},
                           labels={ANN + "component": comp_ns}, annotations=ann,
                           finalizers=[ANN + "deletion-protection"], uid=uid())
            put("/kubernetes.io/secrets/openshift-config-managed/" + sname, plain,
                key=writer, stage="tarball")

        key_secret("openshift-kube-apiserver", kas, "1", None)
        key_secret("openshift-kube-apiserver", kas, "2", K(kas, "2"))
        # Values written while kube-apiserver key 2 was the write key.
        put(db_pw, secret("default", "db-password", {"password": b"hunter3"}, uid=uid()), K(kas, "2"))
        put("/kubernetes.io/secrets/kube-system/old-token",
            secret("kube-system", "old-token", {"token": b"eyJhbGciOi.old"}, "kubernetes.io/service-account-token", uid=uid()),
            K(kas, "2"))
        put("/kubernetes.io/configmaps/openshift-config/old-cm", configmap("openshift-config", "old-cm", {"x": "1"}, uid()),
            K(kas, "2"))
        key_secret("openshift-apiserver", oas, "1", K(kas, "2"))
        key_secret("openshift-apiserver", oas, "2", K(kas, "2"))
        put("/openshift.io/routes/default/legacy-route",
            route("default", "legacy-route", "legacy.apps.example", pem_key(rng), uid()), K(oas, "2"), stage="snapshot")

        # kube-apiserver key 3 becomes the write key.
        key_secret("openshift-kube-apiserver", kas, "3", K(kas, "3"))
        put(db_pw, secret("default", "db-password", {"password": b"correct horse battery staple"}, uid=uid()),
            K(kas, "3"))
        put("/kubernetes.io/secrets/openshift-ingress/router-certs",
            secret("openshift-ingress", "router-certs", {"tls.key": pem_key(rng).encode(), "tls.crt": PEM_CERT.encode()},
                   "kubernetes.io/tls", uid=uid()), K(kas, "3"))
        put("/kubernetes.io/configmaps/default/app-config",
            configmap("default", "app-config", {"app.properties": "mode=prod\n" * 40}, uid()), K(kas, "3"))
        key_secret("openshift-apiserver", oas, "3", K(kas, "3"))
        key_secret("openshift-oauth-apiserver", oauth, "1", K(kas, "3"))
        key_secret("openshift-oauth-apiserver", oauth, "2", K(kas, "3"))

        # openshift-apiserver's config Secrets (docs/openshift.md): JSON EncryptionConfiguration.
        oas_cfg = config_json(openshift_config(["routes.route.openshift.io"],
                                               [K(oas, "1"), K(oas, "2"), K(oas, "3")]))
        for ns, name in (("openshift-config-managed", "encryption-config-openshift-apiserver"),
                         ("openshift-apiserver", "encryption-config"),
                         ("openshift-apiserver", "encryption-config-4")):
            put("/kubernetes.io/secrets/%s/%s" % (ns, name),
                secret(ns, name, {"encryption-config": oas_cfg}, uid=uid()), K(kas, "3"))

        # Routes and OAuth tokens with the component keys (second stage).
        console = "/openshift.io/routes/openshift-console/console"
        console_v = put(console, route("openshift-console", "console", "console.apps.example", pem_key(rng), uid()),
                        K(oas, "3"), stage="snapshot")
        put("/openshift.io/oauth/accesstokens/sha256~Zm9vYmFyYmF6", access_token("sha256~Zm9vYmFyYmF6", "console", "alice", uid()),
            K(oauth, "2"), stage="snapshot")
        put("/openshift.io/oauth/authorizetokens/sha256~cXV1eA", authorize_token("sha256~cXV1eA", "console", "alice", uid()),
            K(oauth, "1"), stage="snapshot")
        put("/openshift.io/oauth/accesstokens/sha256~b2xkdG9rZW4", access_token("sha256~b2xkdG9rZW4", "cli", "bob", uid()),
            K(oauth, "1"), stage="snapshot")

        # Upstream-style keys (/registry prefix), from upstream-encryption-config.yaml.
        put("/registry/secrets/default/upstream", secret("default", "upstream", {"a": b"b"}, uid=uid()),
            K("upstream", "key:with:colons"), stage="upstream-config")
        put("/registry/configmaps/default/json-cm",
            jdump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json-cm", "namespace": "default"},
                   "data": {"k": "v"}}), K("upstream", "sb"), stage="upstream-config")

        # Values that must fail, each with a clear error.
        put("/kubernetes.io/secrets/default/lost-key", secret("default", "lost-key", {"x": b"y"}, uid=uid()),
            K("nowhere", "9"), expect="missing-key")
        eo = _fld(1, os.urandom(64)) + _fld(2, "kms-key-42") + _fld(3, os.urandom(32))
        put("/kubernetes.io/secrets/default/kms-v2", b"", K(kas, "3"), expect="kms",
            store=b"k8s:enc:kms:v2:1_secrets:" + eo)
        manifest[-1]["key_name"], manifest[-1]["component"], manifest[-1]["kms_key_id"] = "1_secrets", kas, "kms-key-42"
        tampered = bytearray(console_v)
        tampered[-20] ^= 0x01
        put("/openshift.io/routes/default/tampered", b"", K(oas, "3"), expect="tag-mismatch", store=bytes(tampered))
        # The same ciphertext under another etcd key: GCM's AAD (the key) no longer matches.
        put("/openshift.io/routes/default/moved", b"", K(oas, "3"), expect="tag-mismatch", store=console_v)

        # A deleted secret (tombstone: nothing to decrypt).
        put("/kubernetes.io/secrets/default/deleted", secret("default", "deleted", {"x": b"y"}, uid=uid()), K(kas, "3"))
        r = e.delete(b"/kubernetes.io/secrets/default/deleted")
        deleted_rev = int(r["header"]["revision"])

        snap = outdir / ("snapshot_%s.db" % TS)
        e.snapshot_save(snap)
        etcd_version = e.full_version

    kas6 = openshift_config(["secrets", "configmaps"], [K(kas, "1"), K(kas, "2")])
    kas7 = openshift_config(["secrets", "configmaps"], [K(kas, "1"), K(kas, "2"), K(kas, "3")])
    tar = outdir / ("static_kuberesources_%s.tar.gz" % TS)
    static_resources_tar(tar, {6: kas6, 7: kas7})
    (outdir / "upstream-encryption-config.yaml").write_bytes(upstream_yaml(keys))

    doc = {
        "generator": "scripts/make-crypt-fixtures.py",
        "etcd_version": etcd_version,
        "snapshot": snap.name,
        "tarball": tar.name,
        "tarball_revisions": [6, 7],
        "upstream_config": "upstream-encryption-config.yaml",
        "deleted": {"key": "/kubernetes.io/secrets/default/deleted", "revision": deleted_rev},
        "stages": {"none": "not encrypted", "tarball": "kube-apiserver keys from the tarball",
                   "snapshot": "component keys from Secrets in the snapshot (second stage)",
                   "upstream-config": "keys from upstream-encryption-config.yaml"},
        "values": manifest,
    }
    (outdir / "manifest.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    for p in (snap, tar):
        print("%s: %d bytes" % (p, p.stat().st_size))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "fixtures"))
    ap.add_argument("--only", choices=["3.4", "3.5"])
    a = ap.parse_args()
    out = Path(a.out)
    for v, d in (("3.5", "encrypted"), ("3.4", "encrypted-3.4")):
        if a.only and a.only != v:
            continue
        build(v, out / d)


if __name__ == "__main__":
    main()
