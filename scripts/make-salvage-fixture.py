#!/usr/bin/env python3
"""Build fixtures/salvage/compacted.db with a REAL etcd 3.5.1: a ConfigMap put
twice and deleted, many other writes, then compacted (physically) and saved
at once, so the free pages still hold older copies of the leaves with its
revisions. What the live server returned for each of those revisions before
the compaction is recorded in fixtures/salvage/compacted.json; the test
checks that `history --salvage` gives it back.

    scripts/install-deps.sh && scripts/make-salvage-fixture.py [--out fixtures/salvage]
"""

import argparse
import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from etcdlab import Etcd  # noqa: E402

KEY = b"/registry/configmaps/default/victim"


def cm(marker):
    return json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "victim", "namespace": "default"},
        "data": {"marker": marker},
    }, separators=(",", ":")).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "fixtures" / "salvage"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "compacted.db"
    with Etcd("3.5") as e:
        for i in range(50):
            e.put(b"/registry/configmaps/default/before-%03d" % i, cm("before-%d" % i))
        recorded = []
        for marker in ("salvage-marker-first-put", "salvage-marker-second-put"):
            e.put(KEY, cm(marker))
            rev = e.revision()
            got = json.loads(e.ctl("get", KEY.decode(), "--rev", str(rev), "-w", "json").stdout)
            kv = got["kvs"][0]
            recorded.append({
                "revision": rev,
                "create_revision": int(kv["create_revision"]),
                "mod_revision": int(kv["mod_revision"]),
                "version": int(kv["version"]),
                "value_base64": kv["value"],
                "marker": marker,
            })
        e.delete(KEY)
        deleted_at = e.revision()
        for i in range(300):
            e.put(b"/registry/configmaps/default/after-%03d" % i, cm("after-%d" % i))
        current = e.revision()
        e.compact(current, physical=True)
        e.snapshot_save(db)
    data = db.read_bytes()
    for r in recorded:
        if base64.b64decode(r["value_base64"]) not in data:
            raise SystemExit("the pages holding revision %d were reused before the save; run again" % r["revision"])
    (out / "compacted.json").write_text(json.dumps({
        "key": KEY.decode(),
        "revisions": recorded,
        "deleted_at": deleted_at,
        "compacted": current,
        "etcd": "3.5.1",
    }, indent=1) + "\n")
    print("wrote %s (%d bytes) and compacted.json" % (db, len(data)))


if __name__ == "__main__":
    main()
