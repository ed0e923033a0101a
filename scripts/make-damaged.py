#!/usr/bin/env python3
"""Make damaged copies of a real-etcd snapshot, for the salvage tests.

    python3 scripts/make-damaged.py fixtures/etcd-3.4/deep.db OUTDIR

Writes OUTDIR/<kind>.db for every kind below and OUTDIR/damaged.json:
{kind: {"file": ..., "pages": [page ids destroyed], "cut_at_page": N|null}}.
Records on other pages must survive a salvage. The trailer is kept as it was
(so the SHA-256 no longer matches), except for the truncations.

Kinds: the verify corpus (a page type byte changed, a branch pointer out of
range, an element offset past the page end, a page id mismatch, a truncated
tail) plus one leaf zeroed, a run of pages zeroed, a branch page zeroed, the
key bucket's root destroyed, both metas destroyed, a cut in the middle.
"""
import json
import os
import struct
import sys

HDR = 16


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


class Bolt:
    def __init__(self, data):
        self.d = data
        self.ps = u32(data, HDR + 8)
        metas = []
        for i in (0, 1):
            off = i * self.ps + HDR
            metas.append((u64(data, off + 48), u64(data, off + 16)))  # txid, root
        self.root = max(metas)[1]

    def page(self, pid):
        o = pid * self.ps
        return u64(self.d, o), u16(self.d, o + 8), u16(self.d, o + 10), u32(self.d, o + 12)

    def leaf_elems(self, pid):
        o = pid * self.ps
        _, _, count, _ = self.page(pid)
        for i in range(count):
            e = o + HDR + i * 16
            flags, pos, ks, vs = struct.unpack_from("<IIII", self.d, e)
            k = self.d[e + pos:e + pos + ks]
            v = self.d[e + pos + ks:e + pos + ks + vs]
            yield flags, k, v

    def branch_children(self, pid):
        o = pid * self.ps
        _, _, count, _ = self.page(pid)
        return [u64(self.d, o + HDR + i * 16 + 8) for i in range(count)]

    def bucket_root(self, name):
        for flags, k, v in self.leaf_elems(self.root):
            if k == name and flags & 1:
                return u64(v, 0)
        raise SystemExit("no bucket %r in the root leaf" % name)

    def tree(self, pid):
        """(branches, leaves) of a subtree, in key order."""
        _, flags, _, _ = self.page(pid)
        if flags == 0x02:
            return [], [pid]
        branches, leaves = [pid], []
        for c in self.branch_children(pid):
            b, l = self.tree(c)
            branches += b
            leaves += l
        return branches, leaves


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    raw = open(src, "rb").read()
    trailer = len(raw) % 512 == 32
    body = raw[:-32] if trailer else raw
    b = Bolt(body)
    ps = b.ps
    root = b.bucket_root(b"key")
    branches, leaves = b.tree(root)
    if len(leaves) < 8 or not branches:
        raise SystemExit("%s: the key bucket needs a branch root and 8+ leaves" % src)
    n_pages = len(body) // ps
    leaf = leaves[len(leaves) // 2]
    inner = [x for x in branches if x != root]
    cases = {}

    def put(kind, data, pages, cut=None):
        p = os.path.join(out, kind + ".db")
        with open(p, "wb") as f:
            f.write(data)
        cases[kind] = {"file": p, "pages": sorted(set(pages)), "cut_at_page": cut}

    def with_trailer(d):
        return bytes(d) + (raw[-32:] if trailer else b"")

    def zero(pages):
        d = bytearray(body)
        for p in pages:
            d[p * ps:(p + 1) * ps] = bytes(ps)
        return d

    d = bytearray(body)
    d[leaf * ps + 8] = 0x20  # page type byte: no such type
    put("page-type", with_trailer(d), [leaf])

    d = bytearray(body)
    struct.pack_into("<Q", d, root * ps + HDR + 8, 999_999)  # root's first child pointer
    put("branch-pointer-out-of-range", with_trailer(d), [])

    d = bytearray(body)
    _, _, count, _ = b.page(leaf)
    struct.pack_into("<I", d, leaf * ps + HDR + (count // 2) * 16 + 4, 10 * ps)  # an element's pos
    put("element-past-page-end", with_trailer(d), [leaf])

    d = bytearray(body)
    struct.pack_into("<Q", d, leaf * ps, 12345)  # the header's page id
    put("page-id-mismatch", with_trailer(d), [leaf])

    cut = n_pages - 3
    put("truncated-tail", body[:cut * ps], [], cut)

    put("leaf-zeroed", with_trailer(zero([leaf])), [leaf])

    run = leaves[2:6]
    put("run-zeroed", with_trailer(zero(range(min(run), max(run) + 1))),
        list(range(min(run), max(run) + 1)))

    br = inner[0] if inner else root
    put("branch-zeroed", with_trailer(zero([br])), [br])

    put("key-root-destroyed", with_trailer(zero([root])), [root])

    put("both-metas-destroyed", with_trailer(zero([0, 1])), [0, 1])

    mid = n_pages // 2
    put("cut-middle", body[:mid * ps], [], mid)

    with open(os.path.join(out, "damaged.json"), "w") as f:
        json.dump({"source": src, "page_size": ps, "key_root": root, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
