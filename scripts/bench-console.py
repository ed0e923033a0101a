#!/usr/bin/env python3
"""Time the web console's requests on a large snapshot (BENCHMARKS.md).

    cargo build --release
    scripts/bench-console.py bench-data/kube.db --keys bench-data/kube.keys.yaml [--b bench-data/kube-b.db]

Starts `etcdsnap serve` on 127.0.0.1 (a free port), stopped by pid at the end,
and times over plain HTTP what each page fetches:

  open      the page (/ui/, app.js, app.css) and the summary it renders first
            (revision range, kinds and counts, namespaces): when the overview is
            interactive; then how long until the full overview (verify, key use,
            bytes per resource) is ready, computed once in the background
  list      the largest resource across namespaces: the first page of 200 rows
            (what the virtualised list shows) and every page in turn (a scroll
            to the bottom)
  object    one object with its whole history (the object page's one request),
            for the key with the most revisions among the largest resource
  diff      with --b: the two snapshots compared (the Diff page)

With --browser, a fresh server is opened in headless Chromium (chromedriver)
and the page's own timings are read (window.etcdsnapTimings: when each view
was usable, rendering included).

Each request is timed `--runs` times (median printed) after the first, except
the ones that only happen once.  The machine's load is printed beside.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("ETCDSNAP", REPO / "target" / "release" / "etcdsnap"))


def get(base, path, **q):
    url = base + path + ("?" + urllib.parse.urlencode(q) if q else "")
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
        code = r.status
    return time.perf_counter() - t0, code, body


def ms(s):
    return "%.0f ms" % (s * 1000)


def wd(driver, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(driver + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())["value"]


def browser_times(url, key, plural, group):
    """The page's own timings (window.etcdsnapTimings) in headless Chromium:
    overview interactive after opening, the list's first screen, the object
    page with its history."""
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    d = subprocess.Popen(["/usr/bin/chromedriver", "--port=%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = "http://127.0.0.1:%d" % port
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(driver + "/status", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800"]}}}}
        sid = wd(driver, "POST", "/session", caps)["sessionId"]
        ui = url + "/ui/"

        def run(frag, what):
            wd(driver, "POST", "/session/%s/url" % sid, {"url": ui + "#" + frag})
            for _ in range(1200):
                t = wd(driver, "POST", "/session/%s/execute/sync" % sid,
                       {"script": "return window.etcdsnapTimings || []", "args": []})
                hit = [x for x in t if x["what"] == what]
                if hit:
                    return hit[-1]
                time.sleep(0.05)
            raise SystemExit("%s never became ready" % what)
        o = run("/overview", "overview-interactive")
        print("browser: overview interactive %s after opening the page" % ms(o["sinceOpen"] / 1000))
        o = run("/overview", "overview")
        print("browser: overview complete %s after opening" % ms(o["sinceOpen"] / 1000))
        q = urllib.parse.urlencode({"g": group, "r": plural}) if group else "r=" + plural
        li = run("/browse?" + q, "list-first-screen")
        print("browser: %s list, first screen %s after asking" % (plural, ms(li["ms"] / 1000)))
        ob = run("/object?" + urllib.parse.urlencode({"key": key}), "object")
        print("browser: object with history %s after asking" % ms(ob["ms"] / 1000))
        wd(driver, "DELETE", "/session/%s" % sid)
    finally:
        d.kill()
        d.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--keys")
    ap.add_argument("--b", help="a second snapshot: time the Diff page of `serve A B`")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--browser", action="store_true",
                    help="also read the page's own timings in headless Chromium (a fresh server)")
    a = ap.parse_args()
    cmd = [str(BIN), "serve", a.input] + ([a.b] if a.b else []) + ["--listen", "127.0.0.1:0"]
    if a.keys:
        cmd += ["--keys", a.keys]
    print("load average before:", os.getloadavg())
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline()
        started = time.perf_counter() - t0
        url = next(w for w in line.split() if w.startswith("http://"))
        print("server ready (start-up, not part of the page):", ms(started), "-", line.strip())
        # Opening the console: the page, its script and style, the summary.
        t_open = time.perf_counter()
        for path in ["/ui/", "/ui/app.js", "/ui/app.css"]:
            get(url, path)
        dt, _, body = get(url, "/ui/api/summary")
        opened = time.perf_counter() - t_open
        s = json.loads(body)
        print("open: page + summary (interactive):", ms(opened),
              "(summary alone %s; %d kinds, %d namespaces)" % (ms(dt), len(s["resources"]), len(s["namespaces"])))
        while True:
            dt, code, body = get(url, "/ui/api/overview")
            if code == 200:
                break
            time.sleep(0.05)
        ready = time.perf_counter() - t_open
        o = json.loads(body)
        print("open: full overview ready after:", ms(ready), "(verdict %s, %d revisions, %d live objects)"
              % (o["verdict"], o["revisions"], o["live_objects"]))
        runs = [get(url, "/ui/api/overview")[0] for _ in range(a.runs)]
        print("overview again (cached): median", ms(statistics.median(runs)))
        runs = [get(url, "/ui/api/summary")[0] for _ in range(a.runs)]
        print("summary again: median", ms(statistics.median(runs)))
        # The largest resource's list.
        big = max(s["resources"], key=lambda r: r["count"])
        q = dict(group=big["group"], plural=big["plural"], limit=200)
        first = []
        for _ in range(a.runs):
            dt, _, body = get(url, "/ui/api/list", offset=0, **q)
            first.append(dt)
        page = json.loads(body)["page"]
        total = page["total"]
        print("list %s (all namespaces, %d rows): first 200 rows median %s" % (big["plural"], total, ms(statistics.median(first))))
        t = time.perf_counter()
        keys = []
        for off in range(0, total, 200):
            _, _, body = get(url, "/ui/api/list", offset=off, **q)
            keys += [r["key"] for r in json.loads(body)["page"]["rows"]]
        print("list %s: all %d rows, page by page: %s" % (big["plural"], len(keys), ms(time.perf_counter() - t)))
        dt, _, _ = get(url, "/ui/api/list", offset=0, name="zz-no-such", **q)
        print("list %s: name search over %d rows: %s" % (big["plural"], total, ms(dt)))
        # One object with its history: the most-revised of the first 200.
        best, best_n = None, -1
        for k in keys[:200]:
            _, _, body = get(url, "/ui/api/object", key=k)
            n = len(json.loads(body)["history"])
            if n > best_n:
                best, best_n = k, n
        runs = [get(url, "/ui/api/object", key=best)[0] for _ in range(a.runs)]
        print("object + history (%s, %d revisions): median %s, max %s"
              % (best, best_n, ms(statistics.median(runs)), ms(max(runs))))
        if a.b:
            dt, _, body = get(url, "/ui/api/diff", snapshots=1)
            d = json.loads(body)["diff"]
            print("diff A B: %s (%d added, %d removed, %d changed, %d not detailed)"
                  % (ms(dt), d["added"], d["removed"], d["changed"], d["truncated"]))
        print("load average after:", os.getloadavg())
    finally:
        p.kill()
        p.wait()
    if a.browser:
        # A fresh server: the overview is computed for this page alone.
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = p.stdout.readline()
            url = next(w for w in line.split() if w.startswith("http://"))
            browser_times(url, best, big["plural"], big["group"])
            print("load average after:", os.getloadavg())
        finally:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
