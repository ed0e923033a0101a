//! The web console (`/ui/`) in a real headless Chromium (Debian `chromium`
//! and `chromium-driver`, driven over WebDriver with fantoccini).
//!
//! Two snapshots are written by a real etcd 3.5: the encrypted fixture's
//! revisions replayed key by key (its values stay encrypted as stored),
//! plus a Deployment changed twice (snapshot A), then changed once more,
//! one ConfigMap deleted and one created (snapshot B). `serve A B` with the
//! fixture's key tarball is walked through: overview, a namespace, a Secret
//! (hidden, then revealed), a Deployment's history and its diff, an older
//! revision, the diff of the two snapshots. A second server with
//! `--redact` never reveals the Secret. The browser's console must log no
//! error. Servers and chromedriver listen on 127.0.0.1 on ports the test
//! picks and are stopped by pid.
//!
//! With `ETCDSNAP_SCREENSHOTS=DIR` the main pages are saved there as PNG
//! (how `docs/console-*.png` are made).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const INSTALL: &str =
    "run scripts/install-deps.sh (installs Debian's chromium and chromium-driver)";
/// db-password's data as stored (base64), from the encrypted fixture.
const PLAINTEXT: &str = "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
const SECRET_KEY: &str = "/kubernetes.io/secrets/default/db-password";
const DEPLOYMENT_KEY: &str = "/registry/deployments/shop/web";

fn tool(names: &[&str]) -> PathBuf {
    for n in names {
        for dir in ["/usr/bin", "/usr/lib/chromium"] {
            let p = Path::new(dir).join(n);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{} not found: {INSTALL}", names.join(" or "));
}

/// A child process killed by pid when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `etcdsnap serve` on a port of its own; the URL of its console.
fn serve(args: &[&str]) -> (Serve, String) {
    let s = Serve::start(args);
    let ui = format!("{}/ui/", s.url);
    (s, ui)
}

/// One plain HTTP request over a fresh connection; (status, body).
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Read the head, then exactly the body it announces (a WebDriver
    // server may keep the connection open).
    let mut r = BufReader::new(c);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok());
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body).expect("read body");
        }
        None if lower.contains("transfer-encoding: chunked") => loop {
            let mut size = String::new();
            r.read_line(&mut size).expect("chunk size");
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).expect("chunk");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        },
        None => {
            let _ = r.read_to_end(&mut body);
        }
    }
    (code, String::from_utf8_lossy(&body).into_owned())
}

struct Snaps {
    _dir: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    tarball: PathBuf,
    /// The Deployment's revisions in A: created, image changed, scaled.
    dep_revs: [i64; 3],
}

fn deployment(image: &str, replicas: i64) -> Vec<u8> {
    let mut d: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(fixture("manifests/04-deployment.yaml")).unwrap(),
    )
    .unwrap();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image.into();
    d["spec"]["replicas"] = replicas.into();
    encoded(&d)
}

fn encoded(obj: &Value) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("obj.json");
    std::fs::write(&p, obj.to_string()).unwrap();
    let o = etcdsnap(&["encode", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "encode: {}", stderr(&o));
    o.stdout
}

fn build() -> Snaps {
    let dir = tempfile::tempdir().unwrap();
    let e = Etcd::start(Version::V35);
    // The encrypted fixture's history, revision by revision.
    let src = fixture("encrypted/snapshot_2026-11-21_101500.db");
    let snap = etcdsnap::etcd::Snapshot::open(&src).unwrap();
    let store = etcdsnap::mvcc::Store::open(&snap).unwrap();
    for r in store.records() {
        let key = std::str::from_utf8(r.kv.key).unwrap();
        if r.is_delete() {
            e.ctl_ok(&["del", key]);
        } else {
            e.put_bytes(key, r.kv.value);
        }
    }
    let rev = |e: &Etcd| e.status()["header"]["revision"].as_i64().unwrap();
    let mut dep_revs = [0; 3];
    for (i, (image, n)) in [("nginx:1.27", 3), ("nginx:1.28", 3), ("nginx:1.28", 5)]
        .iter()
        .enumerate()
    {
        e.put_bytes(DEPLOYMENT_KEY, &deployment(image, *n));
        dep_revs[i] = rev(&e);
    }
    let a = dir.path().join("a.db");
    e.save(&a);
    e.put_bytes(DEPLOYMENT_KEY, &deployment("nginx:1.29", 5));
    e.ctl_ok(&["del", "/kubernetes.io/configmaps/default/plain-cm"]);
    e.put_bytes(
        "/kubernetes.io/configmaps/default/new-cm",
        &encoded(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "new-cm", "namespace": "default", "uid": "0d6c1f3e-1111-4222-8333-444455556666",
                "creationTimestamp": "2026-11-21T10:00:00Z"},
            "data": {"k": "v"}})),
    );
    let b = dir.path().join("b.db");
    e.save(&b);
    Snaps {
        _dir: dir,
        a,
        b,
        tarball: fixture("encrypted/static_kuberesources_2026-11-21_101500.tar.gz"),
        dep_revs,
    }
}

/// chromedriver on a port of its own, and a headless session.
async fn browser() -> (Proc, Client, String) {
    let chromium = tool(&["chromium"]);
    let driver = tool(&["chromedriver"]);
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}: {INSTALL}", driver.display()));
    let proc = Proc(child);
    let addr = format!("127.0.0.1:{port}");
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "chromedriver did not listen on {addr} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,800", "--no-first-run", "--disable-extensions"],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let conn = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = tokio::time::timeout(
        Duration::from_secs(60),
        ClientBuilder::new(conn)
            .capabilities(caps)
            .connect(&format!("http://{addr}")),
    )
    .await
    .expect("chromium did not start within 60 s")
    .unwrap_or_else(|e| panic!("WebDriver session: {e}: {INSTALL}"));
    (proc, client, addr)
}

/// The browser's console messages since the last call (chromedriver's
/// log endpoint).
async fn console_log(c: &Client, driver: &str) -> Vec<Value> {
    let id = c.session_id().await.unwrap().unwrap();
    let (code, body) = http(
        driver,
        "POST",
        &format!("/session/{id}/se/log"),
        r#"{"type":"browser"}"#,
    );
    assert_eq!(code, 200, "browser log: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["value"].as_array().cloned().unwrap_or_default()
}

async fn no_errors(c: &Client, driver: &str) {
    let errors: Vec<Value> = console_log(c, driver)
        .await
        .into_iter()
        .filter(|m| m["level"] == "SEVERE")
        .collect();
    assert!(
        errors.is_empty(),
        "the browser console logged errors: {errors:#?}"
    );
}

/// Waits (10 s at most) until the element `css` exists and its text holds
/// `want`; its text.
async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    let t0 = Instant::now();
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(want) {
                    return t;
                }
                last = t;
            }
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let banner = match c.find(Locator::Css("#banner")).await {
                Ok(b) => b.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            panic!("{url}: {css:?} never held {want:?}; last text {last:?}; banner {banner:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(c: &Client, css: &str) {
    wait_text(c, css, "").await;
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn shot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("ETCDSNAP_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join(format!("console-{name}.png")), png).unwrap();
    }
}

async fn hash(c: &Client) -> String {
    c.current_url()
        .await
        .unwrap()
        .fragment()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_walk_in_headless_chromium() {
    let s = build();
    let tarball = s.tarball.to_str().unwrap();
    let (_server, url) = serve(&[
        s.a.to_str().unwrap(),
        s.b.to_str().unwrap(),
        "--keys",
        tarball,
    ]);
    let (_driver, c, driver) = browser().await;

    // Overview: the verdict, the keys, what does not decrypt, the chart.
    c.goto(&format!("{url}#/overview")).await.unwrap();
    // The log is read for real: a probe error shows up in it (and is
    // consumed, so later checks see only the console's own messages).
    c.execute("console.error('etcdsnap-probe')", vec![])
        .await
        .unwrap();
    let probe = console_log(&c, &driver).await;
    assert!(
        probe
            .iter()
            .any(|m| m["level"] == "SEVERE" && m["message"].to_string().contains("etcdsnap-probe")),
        "the browser log did not show the probe: {probe:?}"
    );
    let other: Vec<&Value> = probe
        .iter()
        .filter(|m| m["level"] == "SEVERE" && !m["message"].to_string().contains("etcdsnap-probe"))
        .collect();
    assert!(
        other.is_empty(),
        "the browser console logged errors: {other:#?}"
    );
    let verdict = wait_text(&c, "#verdict", "").await;
    let t0 = Instant::now();
    let mut verdict = verdict;
    while verdict.contains("checking") && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        verdict = wait_text(&c, "#verdict", "").await;
    }
    // The fixture holds values encrypted with a lost key and tampered ones.
    assert_eq!(verdict, "DAMAGED");
    let und = wait_text(&c, "#undecryptable", "values do not decrypt").await;
    assert!(und.contains("lost-key") && und.contains("kms-v2"), "{und}");
    wait_text(&c, "#keys", "aescbc").await;
    wait_text(&c, "#bytes-chart", "secrets").await;
    wait_text(&c, "#largest", "/kubernetes.io/secrets/").await;
    shot(&c, "overview").await;

    // Browse: Secrets, then the default namespace.
    click(&c, "#nav-browse").await;
    click(&c, "a[data-kind='Secret']").await;
    wait_text(&c, "#count", "secrets at revision").await;
    c.find(Locator::Css("#ns"))
        .await
        .unwrap()
        .select_by_value("default")
        .await
        .unwrap();
    wait_text(&c, "#count", "in default").await;
    assert!(hash(&c).await.contains("ns=default"), "{}", hash(&c).await);
    let row = wait_text(&c, ".row[data-name='db-password']", "Opaque").await;
    assert!(row.contains("db-password"), "{row}");
    // kubectl's columns for Secrets.
    let head = wait_text(&c, ".list .head", "TYPE").await;
    assert!(
        head.contains("NAME") && head.contains("DATA") && head.contains("AGE"),
        "{head}"
    );
    shot(&c, "browse").await;

    // The Secret: hidden, then revealed.
    click(&c, ".row[data-name='db-password']").await;
    wait_text(&c, "#secret-note", "hidden").await;
    let facts = wait_text(&c, "#facts", SECRET_KEY).await;
    assert!(facts.contains("aescbc key 3"), "{facts}");
    let yaml = wait_text(&c, "#yaml", "sha256:").await;
    assert!(!yaml.contains(PLAINTEXT), "{yaml}");
    assert!(!c.source().await.unwrap().contains(PLAINTEXT));
    click(&c, "#reveal").await;
    wait_text(&c, "#yaml", PLAINTEXT).await;
    wait_text(&c, "#secret-note", "in clear").await;

    // The Deployment: three revisions in A, each step's field diff.
    c.goto(&format!("{url}#/browse?r=deployments&g=apps&ns=shop"))
        .await
        .unwrap();
    wait_text(&c, "#count", "1 deployments in shop").await;
    // Search by label selector: none, then the one.
    for (sel, want) in [("app=nope", "0 deployments"), ("app=web", "1 deployments")] {
        let input = c.find(Locator::Css("#q-labels")).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(&format!("{sel}\u{E007}")).await.unwrap();
        wait_text(&c, "#count", want).await;
        assert!(
            hash(&c)
                .await
                .contains(&format!("labels={}", sel.replace('=', "%3D"))),
            "{}",
            hash(&c).await
        );
    }
    // Keyboard: j focuses the first row, Enter opens it.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("j")
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("data-name").await.unwrap().as_deref(),
        Some("web")
    );
    focused.send_keys("\u{E007}").await.unwrap();
    let hist = wait_text(&c, "#history", "created").await;
    for r in s.dep_revs {
        assert!(hist.contains(&r.to_string()), "{r}: {hist}");
    }
    let rows = c
        .find_all(Locator::Css("#history tr[data-rev]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    click(
        &c,
        &format!("#history tr[data-rev='{}'] summary", s.dep_revs[1]),
    )
    .await;
    let change = wait_text(
        &c,
        &format!("#history tr[data-rev='{}'] .chg", s.dep_revs[1]),
        "spec.template.spec.containers[0].image",
    )
    .await;
    assert!(
        change.contains("\"nginx:1.27\" → \"nginx:1.28\""),
        "{change}"
    );
    let scaled = wait_text(
        &c,
        &format!("#history tr[data-rev='{}']", s.dep_revs[2]),
        "1 field changed",
    )
    .await;
    assert!(scaled.contains("diff"), "{scaled}");
    shot(&c, "object").await;

    // Its diff: the snapshot between two of its revisions.
    click(
        &c,
        &format!("#history tr[data-rev='{}'] td:last-child a", s.dep_revs[1]),
    )
    .await;
    wait_text(&c, "#diff-summary", "1 changed").await;
    let group = wait_text(
        &c,
        "details.group[data-resource='apps/deployments']",
        "shop",
    )
    .await;
    assert!(group.contains("web"), "{group}");
    click(&c, "details.item[data-name='web'] summary").await;
    wait_text(
        &c,
        "details.item[data-name='web'] .chg",
        "spec.template.spec.containers[0].image",
    )
    .await;

    // Time travel: the console at the Deployment's first revision.
    c.goto(&format!(
        "{url}#/object?key={}",
        DEPLOYMENT_KEY.replace('/', "%2F")
    ))
    .await
    .unwrap();
    click(
        &c,
        &format!("#history tr[data-rev='{}'] a.rev-link", s.dep_revs[0]),
    )
    .await;
    let first = s.dep_revs[0].to_string();
    wait_text(&c, "#banner", &format!("Viewing revision {first}")).await;
    let yaml = wait_text(&c, "#yaml", "nginx:1.27").await;
    assert!(!yaml.contains("nginx:1.28"), "{yaml}");
    let rev_in = c.find(Locator::Css("#rev")).await.unwrap();
    assert_eq!(
        rev_in.prop("value").await.unwrap().as_deref(),
        Some(first.as_str())
    );
    click(&c, "#nav-browse").await;
    wait_text(&c, "#count", &format!("at revision {first}")).await;

    // Two snapshots: A (latest) against B.
    click(&c, "#rev-latest").await;
    click(&c, "#nav-diff").await;
    click(&c, "#mode-snapshots").await;
    let sum = wait_text(&c, "#diff-summary", "added").await;
    assert!(sum.starts_with("1 added · 1 removed · 1 changed"), "{sum}");
    let cms = wait_text(&c, "details.group[data-resource='configmaps']", "default").await;
    assert!(
        cms.contains("+ new-cm") && cms.contains("plain-cm"),
        "{cms}"
    );
    click(&c, "details.item[data-name='web'] summary").await;
    wait_text(&c, "details.item[data-name='web'] .chg", "\"nginx:1.29\"").await;
    shot(&c, "diff").await;
    no_errors(&c, &driver).await;

    // --redact: the Secret is never revealed, and never sent.
    let (_redacted, url2) = serve(&[s.a.to_str().unwrap(), "--keys", tarball, "--redact"]);
    c.goto(&format!(
        "{url2}#/object?key={}",
        SECRET_KEY.replace('/', "%2F")
    ))
    .await
    .unwrap();
    wait_text(&c, "#secret-note", "--redact").await;
    wait_text(&c, "#yaml", "sha256:").await;
    assert!(c.find(Locator::Css("#reveal")).await.is_err());
    assert!(!c.source().await.unwrap().contains(PLAINTEXT));
    let addr = url2
        .trim_start_matches("http://")
        .trim_end_matches("/ui/")
        .to_string();
    let (code, body) = http(
        &addr,
        "GET",
        &format!("/ui/api/object?key={SECRET_KEY}&reveal=1"),
        "",
    );
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("sha256:") && !body.contains(PLAINTEXT),
        "{body}"
    );
    no_errors(&c, &driver).await;
    c.close().await.unwrap();
}
