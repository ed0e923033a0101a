// etcdsnap web console: vanilla JS, no build step, nothing loaded from
// elsewhere. State lives in the URL hash (#/page?param=value), so every
// view is a shareable link. Text from the snapshot is only ever set as
// textContent, never parsed as HTML.
"use strict";

const ROW = 28;        // list row height (px), as in app.css
const PAGE = 200;      // rows per list request

const $ = (sel, root) => (root || document).querySelector(sel);

// h("tag.class#id", {attr: v, onclick: f}, children...)
function h(spec, attrs, ...kids) {
  const m = spec.match(/^([a-z0-9]+)?((?:[.#][^.#]+)*)$/i);
  const el = document.createElement((m && m[1]) || "div");
  for (const part of ((m && m[2]) || "").match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

// ---------------------------------------------------------------- routing

function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [page, qs] = raw.split("?", 2);
  const params = Object.fromEntries(new URLSearchParams(qs || ""));
  return { page: page || "overview", params };
}

// A hash link to `page`; keeps the revision being viewed unless `params`
// says otherwise.
function link(page, params) {
  const cur = route().params;
  const p = Object.assign({}, cur.rev ? { rev: cur.rev } : {}, params || {});
  for (const k of Object.keys(p)) if (p[k] === "" || p[k] === undefined || p[k] === null) delete p[k];
  const qs = new URLSearchParams(p).toString();
  return "#/" + page + (qs ? "?" + qs : "");
}

function go(page, params) { location.hash = link(page, params); }

// ---------------------------------------------------------------- data

async function api(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") qs.set(k, v);
  const r = await fetch("api/" + path + (qs.toString() ? "?" + qs : ""), { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (r.status >= 400) throw new Error(body.message || ("HTTP " + r.status));
  return { status: r.status, body };
}

const summaries = new Map();
async function summary(rev) {
  const k = rev || "";
  if (!summaries.has(k)) summaries.set(k, api("summary", { rev }).then(r => r.body));
  try { return await summaries.get(k); } catch (e) { summaries.delete(k); throw e; }
}

function bytes(n) {
  if (n === null || n === undefined) return "";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0; let x = n;
  while (x >= 1024 && i < u.length - 1) { x /= 1024; i++; }
  return (i ? x.toFixed(x < 10 ? 1 : 0) : String(x)) + " " + u[i];
}

const num = n => (n === null || n === undefined) ? "—" : Number(n).toLocaleString("en-US");

function verdictClass(v) {
  v = String(v || "").toLowerCase();
  if (v === "ok" || v === "none") return "v-ok";
  if (v === "damaged" || v === "missing") return "v-bad";
  if (v === "skipped") return "v-skip";
  return "v-warn";
}

function banner(text, isError) {
  const b = $("#banner");
  b.textContent = text || "";
  b.classList.toggle("error", !!isError);
}

// ---------------------------------------------------------------- shell

let renderSeq = 0;

// When each view became usable (ms since the page opened and since the
// view was asked for): read by scripts/bench-console.py --browser.
window.etcdsnapTimings = [];
function timing(what, t0) {
  window.etcdsnapTimings.push({ what, ms: performance.now() - t0, sinceOpen: performance.now() });
}

async function render() {
  const seq = ++renderSeq;
  const t0 = performance.now();
  const { page, params } = route();
  for (const n of ["overview", "browse", "diff"]) {
    const a = $("#nav-" + n);
    a.classList.toggle("active", n === page || (n === "browse" && page === "object"));
    a.href = link(n === "browse" && page === "browse" ? "browse" : n, {});
  }
  banner("");
  const main = $("#main");
  let s;
  try {
    s = await summary(params.rev);
  } catch (e) {
    if (seq !== renderSeq) return;
    banner(e.message, true);
    main.replaceChildren(h("p", { text: "Cannot show revision " + params.rev + ": " + e.message }),
      h("p", {}, h("a", { href: "#/overview", text: "Back to the latest revision" })));
    return;
  }
  if (seq !== renderSeq) return;
  $("#rev").value = params.rev || "";
  $("#rev").placeholder = String(s.served_revision);
  $("#rev").max = s.current_revision;
  $("#rev-range").textContent = "held " + (s.compacted_revision || s.oldest_revision || 1) + "–" + s.current_revision;
  $("#file").textContent = s.file;
  $("#file").title = s.file;
  if (params.rev && Number(params.rev) !== s.served_revision) {
    banner("Viewing revision " + params.rev + " (the snapshot's latest is " + s.current_revision + ").");
  }
  const pages = { overview, browse, object: objectPage, diff: diffPage };
  const view = pages[page] || overview;
  try {
    await view(main, s, params, seq, t0);
    if (seq === renderSeq) timing(page, t0);
  } catch (e) {
    if (seq !== renderSeq) return;
    banner(e.message, true);
  }
}

// ---------------------------------------------------------------- overview

async function overview(main, s, params, seq, t0) {
  const total = s.resources.reduce((a, r) => a + r.count, 0);
  const quick = h("div.cards", {},
    card("Revision", num(s.revision), s.revision === s.current_revision ? "latest" : "of " + num(s.current_revision)),
    card("Held revisions", (s.compacted_revision || s.oldest_revision || 1) + "–" + s.current_revision,
      s.compacted_revision ? "compacted at " + s.compacted_revision : "not compacted"),
    card("Objects", num(total), s.resources.length + " resources"),
    card("Namespaces", num(s.namespaces.length), ""),
    card("Secrets", s.redact ? "redacted" : "revealable on click", s.redact ? "--redact: never sent" : ""));
  const verdict = h("span#verdict.badge.v-skip", { text: "checking…" });
  const body = h("div#overview-body", {}, h("p.muted", { text: "Verifying every layer and reading every value (once)…" }));
  main.replaceChildren(
    h("h1", {}, "Overview ", verdict),
    quick,
    s.notes.length ? h("details", {}, h("summary", { text: s.notes.length + " notes from opening the input" }),
      h("ul", {}, s.notes.map(n => h("li.mono", { text: n })))) : null,
    body);
  timing("overview-interactive", t0);
  let o = null;
  for (let i = 0; ; i++) {
    const r = await api("overview");
    if (seq !== renderSeq) return;
    if (r.status === 200) { o = r.body; break; }
    await new Promise(res => setTimeout(res, Math.min(200 + i * 100, 1000)));
    if (seq !== renderSeq) return;
  }
  verdict.textContent = o.verdict;
  verdict.className = "badge " + verdictClass(o.verdict);
  const layers = h("table.layers", {},
    h("tr", {}, h("th", { text: "Layer" }), h("th", { text: "Verdict" }), h("th", { text: "What was found" })),
    o.layers.map(l => h("tr", {},
      h("td", { text: l.name }),
      h("td", {}, h("span.badge." + verdictClass(l.verdict), { text: l.verdict })),
      h("td", {}, l.summary, l.problems.length ? h("ul", {}, l.problems.map(p => h("li.mono", { text: p }))) : null))));
  const enc = [];
  const provs = Object.entries(o.encrypted);
  enc.push(h("p", { text: provs.length ? "Values of every held revision, by provider and key:" : "No value is encrypted at rest." }));
  if (provs.length) {
    enc.push(h("table", {}, h("tr", {}, h("th", { text: "Provider" }), h("th", { text: "Key" }), h("th.num", { text: "Values" })),
      provs.flatMap(([p, keys]) => Object.entries(keys).map(([k, n]) => h("tr", {}, h("td", { text: p }), h("td.mono", { text: k }), h("td.num", { text: num(n) }))))));
  }
  enc.push(h("p", { text: o.keys.length ? o.keys.length + " keys loaded:" : "No key loaded (give --keys, or serve a backup dir with its tarball)." }));
  if (o.keys.length) {
    enc.push(h("table#keys", {}, h("tr", {}, h("th", { text: "Component" }), h("th", { text: "Provider" }), h("th", { text: "Key" }), h("th", { text: "From" })),
      o.keys.map(k => h("tr", {}, h("td", { text: k.component }), h("td", { text: k.provider }), h("td.mono", { text: k.name }),
        h("td.mono", { text: (k.sources || [])[0] || "" })))));
  }
  const und = h("div#undecryptable", {},
    h("p", {}, h("strong", { text: num(o.undecryptable_count) }), " values do not decrypt" + (o.keys.length ? "" : " (no key given)") + "."),
    o.undecryptable.length ? h("ul", {}, o.undecryptable.map(u => h("li.mono", { text: u }))) : null);
  const res = o.resources.filter(r => r.history_bytes > 0).slice(0, 25);
  const max = Math.max(1, ...res.map(r => r.history_bytes));
  const chart = h("div.bars#bytes-chart", { role: "img", "aria-label": "Bytes per resource (dark: live, light: history)" },
    res.flatMap(r => [
      h("span.mono", { text: r.resource, title: r.resource }),
      h("div.bar", { title: bytes(r.bytes) + " live, " + bytes(r.history_bytes) + " with history" },
        h("span.hist", { style: "width:" + (100 * r.history_bytes / max).toFixed(2) + "%" }),
        h("span", { style: "width:" + (100 * r.bytes / max).toFixed(2) + "%" })),
      h("span.num", { text: bytes(r.history_bytes) })]));
  const largest = h("table#largest", {}, h("tr", {}, h("th", { text: "Key" }), h("th.num", { text: "Bytes" }), h("th.num", { text: "Mod rev" })),
    o.largest.map(x => h("tr", {}, h("td.mono", {}, h("a", { href: link("object", { key: x.key }), text: x.key })),
      h("td.num", { text: bytes(x.bytes) }), h("td.num", { text: x.mod_revision }))));
  const nss = h("table#namespaces", {}, h("tr", {}, h("th", { text: "Namespace" }), h("th.num", { text: "Objects" }), h("th.num", { text: "Bytes" })),
    o.namespaces.slice(0, 30).map(n => h("tr", {}, h("td", {}, h("a", { href: link("browse", { ns: n.namespace }), text: n.namespace })),
      h("td.num", { text: num(n.objects) }), h("td.num", { text: bytes(n.bytes) }))));
  const body2 = h("div", {},
    h("div.cards", {},
      card("File", bytes(o.file_size), o.file),
      card("Live objects", num(o.live_objects), num(o.revisions) + " revisions held")),
    h("h2", { text: "Verify" }), layers,
    h("div.grid2", {},
      h("section", {}, h("h2", { text: "Encryption" }), enc, und),
      h("section", {}, h("h2", { text: "Bytes per resource" }), chart)),
    h("div.grid2", {},
      h("section", {}, h("h2", { text: "Largest objects" }), largest),
      h("section", {}, h("h2", { text: "Namespaces" }), nss)));
  $("#overview-body").replaceChildren(body2);
}

function card(title, value, sub) {
  return h("div.card", {}, h("div.muted", { text: title }), h("div.n", { text: value }), sub ? h("div.muted.mono", { text: sub }) : null);
}

// ---------------------------------------------------------------- browse

function kindLabel(r) { return r.group ? r.group : "core"; }

async function browse(main, s, params, seq, t0) {
  const res = s.resources;
  let cur = res.find(r => r.plural === params.r && r.group === (params.g || ""));
  if (!cur) cur = res.find(r => r.plural === "pods" && r.group === "") || res[0];
  if (!cur) { main.replaceChildren(h("p", { text: "No object at this revision." })); return; }
  const groups = new Map();
  for (const r of res) {
    if (!groups.has(kindLabel(r))) groups.set(kindLabel(r), []);
    groups.get(kindLabel(r)).push(r);
  }
  const side = h("nav.kinds", { "aria-label": "Kinds" },
    [...groups.entries()].map(([g, rs]) => [h("h3", { text: g }),
      rs.map(r => h("a", {
        href: link("browse", { g: r.group, r: r.plural, ns: params.ns }),
        class: r === cur ? "active" : null, "data-kind": r.kind,
      }, h("span", { text: r.kind }), h("span.muted", { text: r.count })))]));
  const nsSel = h("select#ns", { name: "ns", disabled: cur.namespaced ? null : true },
    h("option", { value: "", text: "all namespaces" }),
    s.namespaces.map(n => h("option", { value: n, text: n, selected: n === params.ns ? true : null })));
  const nameIn = h("input#q-name", { name: "name", value: params.name || "", placeholder: "substring", size: 16 });
  const labelIn = h("input#q-labels", { name: "labels", value: params.labels || "", placeholder: "app=web,tier!=db", size: 18 });
  const prefixIn = h("input#q-prefix", { name: "prefix", value: params.prefix || "", placeholder: "/registry/pods/shop/", size: 22 });
  const apply = () => go("browse", { g: cur.group, r: cur.plural, ns: cur.namespaced ? nsSel.value : "", name: nameIn.value.trim(), labels: labelIn.value.trim(), prefix: prefixIn.value.trim() });
  nsSel.addEventListener("change", apply);
  const form = h("form.filters", { onsubmit: e => { e.preventDefault(); apply(); } },
    h("label", {}, "Namespace", nsSel),
    h("label", {}, "Name", nameIn),
    h("label", {}, "Label selector", labelIn),
    h("label", {}, "Key prefix", prefixIn),
    h("button", { type: "submit", text: "Search" }));
  const count = h("p#count.muted", { text: "…" });
  const list = h("div.list#list");
  main.replaceChildren(h("div.browse", {}, side,
    h("section", {}, h("h1", {}, cur.kind, " ", h("span.muted", { text: cur.group ? cur.group + "/" + cur.version : cur.version })),
      form, count, list)));
  const q = { group: cur.group, plural: cur.plural, ns: cur.namespaced ? params.ns : "", name: params.name, labels: params.labels, prefix: params.prefix, rev: params.rev };
  const first = await api("list", Object.assign({ offset: 0, limit: PAGE }, q));
  if (seq !== renderSeq) return;
  const page0 = first.body.page;
  const allNs = cur.namespaced && !q.ns;
  const cols = page0.columns.map((c, i) => ({ c, i })).filter(x => x.c.priority === 0);
  const template = (allNs ? "minmax(8em, 1fr) " : "") + cols.map(x => x.c.name === "Name" ? "minmax(12em, 2.5fr)" : "minmax(4em, 1fr)").join(" ");
  count.textContent = num(page0.total) + " " + cur.plural + (q.ns ? " in " + q.ns : "") + " at revision " + first.body.revision;
  const head = h("div.head", { style: "grid-template-columns:" + template, role: "row" },
    allNs ? h("span", { text: "NAMESPACE" }) : null, cols.map(x => h("span", { text: x.c.name.toUpperCase() })));
  const viewport = h("div.viewport", { role: "rowgroup" });
  const spacer = h("div", { style: "height:" + (page0.total * ROW) + "px" });
  viewport.append(spacer);
  list.replaceChildren(head, viewport);
  const pages = new Map([[0, page0.rows]]);
  const loading = new Set();
  const drawn = new Map();
  function rowEl(i, r) {
    const cells = r.error ? [h("span", { text: r.name }), h("span", { text: "cannot read: " + r.error, title: r.error, style: "grid-column:" + (allNs ? 3 : 2) + " / -1" })]
      : cols.map(x => h("span", { text: r.cells[x.i] === undefined ? "" : String(r.cells[x.i]) }));
    return h("a.row" + (r.error ? ".err" : ""), {
      href: link("object", { key: r.key }), style: "top:" + (i * ROW) + "px;grid-template-columns:" + template,
      "data-name": r.name, "data-i": i, role: "row",
    }, allNs ? h("span", { text: r.namespace }) : null, cells);
  }
  function draw() {
    if (seq !== renderSeq) return;
    const from = Math.max(0, Math.floor(viewport.scrollTop / ROW) - 10);
    const to = Math.min(page0.total, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW) + 10);
    for (const [i, el] of drawn) if (i < from || i >= to) { if (!el.contains(document.activeElement)) { el.remove(); drawn.delete(i); } }
    for (let i = from; i < to; i++) {
      if (drawn.has(i)) continue;
      const p = Math.floor(i / PAGE);
      const rows = pages.get(p);
      if (!rows) { fetchPage(p); continue; }
      const r = rows[i - p * PAGE];
      if (!r) continue;
      const el = rowEl(i, r);
      drawn.set(i, el);
      viewport.append(el);
    }
  }
  function fetchPage(p) {
    if (loading.has(p)) return;
    loading.add(p);
    api("list", Object.assign({ offset: p * PAGE, limit: PAGE }, q)).then(r => {
      pages.set(p, r.body.page.rows);
      draw();
    }).catch(e => banner(e.message, true));
  }
  viewport.addEventListener("scroll", () => requestAnimationFrame(draw), { passive: true });
  draw();
  timing("list-first-screen", t0);
}

// ---------------------------------------------------------------- object

const YAML_LINE = /^(\s*)(- )?((?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s:#'"][^:#]*?)):(?=\s|$)(.*)$/;

function yamlValue(text) {
  const t = text.trim();
  if (!t) return document.createTextNode(text);
  let cls = "y-str";
  if (/^(true|false|null|~)$/.test(t)) cls = "y-kw";
  else if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) cls = "y-num";
  else if (/^sha256:[0-9a-f]+$/.test(t) || /^"sha256:[0-9a-f]+"$/.test(t)) cls = "y-hidden";
  else if (/^[|>][-+]?$/.test(t)) cls = "y-kw";
  return h("span." + cls, { text: text });
}

// YAML as highlighted spans (text nodes only).
function highlight(yaml) {
  const pre = h("pre.yaml#yaml", { tabindex: 0 });
  for (const line of yaml.split("\n")) {
    const m = line.match(YAML_LINE);
    if (/^\s*#/.test(line)) pre.append(h("span.y-com", { text: line }));
    else if (m) {
      pre.append(m[1], m[2] || "", h("span.y-key", { text: m[3] }), ":");
      if (m[4]) pre.append(yamlValue(m[4]));
    } else {
      const li = line.match(/^(\s*- )(.*)$/);
      if (li) pre.append(li[1], yamlValue(li[2])); else pre.append(yamlValue(line));
    }
    pre.append("\n");
  }
  return pre;
}

function changeList(changes) {
  return h("ul.chg", {}, changes.map(c => {
    const sign = c.old === undefined ? "+" : c.new === undefined ? "-" : "~";
    const cls = sign === "+" ? "s-add" : sign === "-" ? "s-del" : "s-chg";
    const v = x => x === undefined ? "" : JSON.stringify(x);
    const text = sign + " " + c.path + (sign === "~" ? ": " + v(c.old) + " → " + v(c.new) : sign === "+" ? ": " + v(c.new) : ": " + v(c.old));
    return h("li." + cls, { text, "data-path": c.path });
  }));
}

async function objectPage(main, s, params, seq, t0, reveal) {
  const r = await api("object", { key: params.key, rev: params.rev, reveal: reveal ? 1 : "" });
  if (seq !== renderSeq) return;
  const { object: o, history, revealable } = r.body;
  const title = (o.resource || "") + (o.namespace ? " · " + o.namespace : "") + " · " + o.name;
  const facts = h("table.facts#facts", {},
    [["etcd key", o.key], ["Revision viewed", o.at], ["Create revision", o.create_revision], ["Mod revision", o.mod_revision],
      ["Version", o.version], ["Lease", o.lease ? o.lease : "none"], ["Stored bytes", o.deleted ? "" : bytes(o.size)],
      ["Stored as", o.deleted ? "deleted at " + o.revision : (o.encryption ? o.encryption.provider + " key " + o.encryption.key + " → " + o.encoding : o.provider + " → " + o.encoding)]]
      .map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td.mono", { text: String(v) }))));
  const parts = [h("h1", { text: title }), facts];
  if (o.deleted) parts.push(h("p.secret-note#deleted-note", { text: "Deleted at revision " + o.revision + ": no object at revision " + o.at + "." }));
  if (o.error) parts.push(h("p.secret-note#object-error", { text: o.error }));
  if (o.secret) {
    if (o.hidden) {
      parts.push(h("div.secret-note#secret-note", {},
        revealable ? "Secret data is hidden (shown as SHA-256 digests). " : "Secret data is redacted: this server runs with --redact and never sends it. ",
        revealable ? h("button#reveal", { type: "button", text: "Reveal Secret data", onclick: () => objectPage(main, s, params, seq, 0, true).catch(e => banner(e.message, true)) }) : null));
    } else {
      parts.push(h("div.secret-note#secret-note", {}, "Secret data is shown in clear. ",
        h("button#hide", { type: "button", text: "Hide", onclick: () => objectPage(main, s, params, seq, 0, false).catch(e => banner(e.message, true)) })));
    }
  }
  if (o.yaml) parts.push(highlight(o.yaml));
  const at = Number(o.at);
  const rows = history.map((st, i) => {
    const marks = [st.created ? h("span.badge.v-ok", { text: "created" }) : null, st.deleted ? h("span.badge.v-bad", { text: "deleted" }) : null,
      st.recreated ? h("span.badge.v-warn", { text: "recreated" }) : null];
    const live = st.revision <= at && (i + 1 >= history.length || history[i + 1].revision > at);
    return h("tr" + (live ? ".current" : ""), { "data-rev": st.revision },
      h("td.num", {}, h("a.rev-link", { href: link("object", { key: o.key, rev: st.revision }), title: "View the console at revision " + st.revision, text: st.revision })),
      h("td", {}, st.op, " ", marks),
      h("td", {}, st.error ? h("span.v-bad", { text: st.error }) :
        st.changes.length ? h("details.changes", {}, h("summary", { text: st.changes.length + " field" + (st.changes.length === 1 ? "" : "s") + " changed" }), changeList(st.changes))
          : h("span.muted", { text: st.deleted || st.created ? "" : "no field changed" })),
      h("td.mono", { text: st.encryption ? st.encryption.provider + " " + st.encryption.key : "" }),
      h("td.num", {}, i > 0 ? h("a", { href: link("diff", { from: history[i - 1].revision, to: st.revision }), text: "diff " + history[i - 1].revision + "→" + st.revision }) : null));
  });
  parts.push(h("h2", { text: "History (" + history.length + " revisions held)" }),
    h("table.hist#history", {}, h("tr", {}, h("th", { text: "Revision" }), h("th", { text: "Op" }), h("th", { text: "Field changes" }), h("th", { text: "Encryption" }), h("th", { text: "Snapshot diff" })), rows));
  main.replaceChildren(...parts);
}

// ---------------------------------------------------------------- diff

const LIST_CAP = 500; // names shown per list of a group
const capped = xs => xs.slice(0, LIST_CAP);
const more = xs => xs.length > LIST_CAP ? h("div.muted", { text: "… and " + num(xs.length - LIST_CAP) + " more (narrow the revisions to see them)" }) : null;

async function diffPage(main, s, params, seq) {
  const two = params.snapshots === "1";
  const from = params.from || String(two ? s.revision : (s.compacted_revision || s.oldest_revision || 1));
  const to = params.to || String(s.revision);
  const fromIn = h("input#d-from", { type: "number", value: from, min: 0, max: s.current_revision });
  const toIn = h("input#d-to", { type: "number", value: to, min: 0, max: s.current_revision, disabled: two ? true : null });
  const form = h("form.filters#diffform", { onsubmit: e => { e.preventDefault(); go("diff", { from: fromIn.value, to: toIn.value, snapshots: two ? "1" : "" }); } },
    h("label", {}, two ? "Revision of A" : "From revision", fromIn),
    h("label", {}, "To revision", toIn),
    h("button", { type: "submit", text: "Compare" }));
  const modes = h("p", {},
    h("a#mode-revs", { href: link("diff", {}), class: two ? null : "active", text: "Two revisions of this snapshot" }),
    s.compare ? [" · ", h("a#mode-snapshots", { href: link("diff", { snapshots: "1" }), text: "This snapshot against " + s.compare.file })] :
      h("span.muted", { text: " · start `etcdsnap serve A B` to compare two snapshots" }));
  const out = h("div#diff-out", {}, h("p.muted", { text: "Comparing…" }));
  main.replaceChildren(h("h1", { text: two ? "Diff: A (revision " + from + ") → B (" + s.compare.file + ")" : "Diff: revision " + from + " → " + to }), modes, form, out);
  if (!two && !params.from && !params.to) {
    out.replaceChildren(h("p.muted", { text: "Pick two revisions and Compare (a history's \u201cdiff\u201d links fill them in)." }));
    return;
  }
  const r = await api("diff", { from, to: two ? "" : to, snapshots: two ? "1" : "" });
  if (seq !== renderSeq) return;
  const d = r.body.diff;
  const sum = h("p#diff-summary", {}, h("strong", { text: num(d.added) }), " added · ", h("strong", { text: num(d.removed) }), " removed · ",
    h("strong", { text: num(d.changed) }), " changed · " + num(d.unchanged) + " unchanged" + (d.truncated ? " (" + num(d.truncated) + " changed objects not detailed)" : ""));
  const groups = d.groups.map(g => h("details.group", { "data-resource": g.resource, "data-namespace": g.namespace, open: d.groups.length <= 12 ? true : null },
    h("summary", {}, g.resource + (g.namespace ? " · " + g.namespace : "") + " ",
      h("span.s-add", { text: "+" + g.added.length }), " ", h("span.s-del", { text: "−" + g.removed.length }), " ", h("span.s-chg", { text: "~" + g.changed.length })),
    capped(g.added).map(x => h("div.s-add", {}, "+ ", h("a", { href: two ? null : link("object", { key: x.key, rev: to }), text: x.name }))),
    more(g.added),
    capped(g.removed).map(x => h("div.s-del", {}, "− ", h("a", { href: link("object", { key: x.key, rev: from }), text: x.name }))),
    more(g.removed),
    more(g.changed),
    capped(g.changed).map(c => h("details.item", { "data-name": c.name },
      h("summary.s-chg", {}, "~ " + c.name + " (" + c.changes.length + " fields" + (c.recreated ? ", recreated" : "") + ")"),
      c.error ? h("p.v-bad", { text: c.error }) : changeList(c.changes),
      two ? null : h("a", { href: link("object", { key: c.key, rev: to }), text: "history of " + c.name })))));
  out.replaceChildren(sum, ...(groups.length ? groups : [h("p", { text: "No difference." })]));
}

// ---------------------------------------------------------------- keys and start

$("#revform").addEventListener("submit", e => {
  e.preventDefault();
  const { page, params } = route();
  const v = $("#rev").value.trim();
  const p = Object.assign({}, params);
  if (v) p.rev = v; else delete p.rev;
  location.hash = "#/" + page + "?" + new URLSearchParams(p);
});
$("#rev-latest").addEventListener("click", () => {
  const { page, params } = route();
  delete params.rev;
  location.hash = "#/" + page + "?" + new URLSearchParams(params);
});

document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  const typing = t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  if (typing) { if (e.key === "Escape") t.blur(); return; }
  const rows = () => [...document.querySelectorAll(".list .row")].sort((a, b) => a.dataset.i - b.dataset.i);
  switch (e.key) {
    case "o": go("overview", {}); break;
    case "b": go("browse", {}); break;
    case "d": go("diff", {}); break;
    case "r": $("#rev").focus(); break;
    case "/": { const q = $("#q-name") || $("#d-from"); if (q) { e.preventDefault(); q.focus(); } break; }
    case "j": case "k": {
      const rs = rows(); if (!rs.length) return;
      const i = rs.indexOf(document.activeElement);
      const next = e.key === "j" ? rs[Math.min(rs.length - 1, i + 1)] : rs[Math.max(0, i - 1)];
      next.focus(); next.scrollIntoView({ block: "nearest" });
      break;
    }
    default: return;
  }
});

window.addEventListener("hashchange", () => { render().then(() => $("#main").focus({ preventScroll: true })); });
render();
