// ordo console: polls /status and redraws the page from it. Plain script,
// no dependencies; docs/console.md describes the document and the DOM
// attributes tests rely on.
"use strict";

const POLL_MS = 1000;
const HISTORY = 120; // throughput points kept (about two minutes)
const SVG = "http://www.w3.org/2000/svg";
// Node colours; none is the green, amber or red of liveness and health.
const PALETTE = ["#3461c1", "#8a4fc0", "#1b9aaa", "#b5527e", "#5b6b2e", "#2f4858", "#c06c2b", "#6d7fd1"];

const samples = []; // {t: unix ms, requests}
const rates = [];   // {t, opsPerSec}
let polls = 0;

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, String(v));
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function nodeColor(id) { return PALETTE[(id - 1 + PALETTE.length) % PALETTE.length]; }

function bytes(n) {
  if (n < 1024) return n + " B";
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return n.toFixed(1) + " " + u[i];
}

function replaceChildren(parent, children) { parent.replaceChildren(...children); }

function renderNodes(st) {
  replaceChildren($("nodes"), st.nodes.map(n => {
    const card = el("div", {
      class: "node", id: "node-" + n.node_id, "data-node-id": n.node_id,
      "data-liveness": n.liveness, "data-decommissioning": n.decommissioning,
    },
      el("span", { class: "liveness" }, n.liveness || "unknown"),
      el("div", { class: "title" }, "n" + n.node_id),
      el("div", { class: "detail mono" }, n.address),
      el("div", { class: "detail" },
        n.ranges < 0 ? "unreachable" : `${n.ranges} replicas · ${n.leases} leases · ${n.requests} requests`),
    );
    card.style.borderLeftColor = "";
    card.querySelector(".title").style.color = nodeColor(n.node_id);
    if (n.decommissioning) card.append(el("div", { class: "decom" }, "decommissioning"));
    return card;
  }));
}

function replicaChip(r, leaseholder) {
  const lh = r.node_id === leaseholder;
  const chip = el("span", {
    class: "replica", "data-node-id": r.node_id, "data-replica-id": r.replica_id, "data-leaseholder": lh,
    title: `replica ${r.replica_id} on node ${r.node_id}` + (lh ? " (leaseholder)" : ""),
  }, "n" + r.node_id);
  chip.style.color = nodeColor(r.node_id);
  if (lh) chip.style.background = nodeColor(r.node_id);
  return chip;
}

function health(r) {
  if (r.unavailable) return "unavailable";
  if (r.under_replicated) return "under-replicated";
  return "ok";
}

function renderRanges(st) {
  const ranges = [...st.ranges].sort((a, b) => (a.start_key_hex < b.start_key_hex ? -1 : 1));
  replaceChildren($("keyspace"), ranges.map(r => el("div", {
    class: "range-bar", id: "range-" + r.range_id, "data-range-id": r.range_id,
    "data-leaseholder": r.leaseholder, "data-start-key": r.start_key, "data-end-key": r.end_key,
    "data-under-replicated": r.under_replicated, "data-unavailable": r.unavailable,
    title: `r${r.range_id} [${r.start_key}, ${r.end_key}) leaseholder n${r.leaseholder}`,
  },
    el("span", { class: "rid" }, "r" + r.range_id),
    el("span", { class: "span mono" }, r.start_key + " – " + r.end_key),
    el("div", { class: "replicas" }, ...r.replicas.map(rep => replicaChip(rep, r.leaseholder))),
  )));
  replaceChildren($("ranges"), ranges.map(r => el("tr", { class: "range-row", "data-range-id": r.range_id, "data-leaseholder": r.leaseholder },
    el("td", {}, "r" + r.range_id),
    el("td", { class: "mono" }, `[${r.start_key}, ${r.end_key})`),
    el("td", {}, r.replicas.map(x => "n" + x.node_id).join(" ")),
    el("td", {}, r.leaseholder ? "n" + r.leaseholder : "none"),
    el("td", {}, bytes(r.size_bytes)),
    el("td", {}, r.key_count),
    el("td", {}, r.applied_index),
    el("td", {}, r.locks_held),
    el("td", {}, health(r)),
  )));
}

function recordThroughput(st) {
  const s = { t: st.time_unix_ms, requests: st.throughput.requests };
  const prev = samples[samples.length - 1];
  samples.push(s);
  if (samples.length > HISTORY) samples.shift();
  if (!prev || s.t <= prev.t) return;
  const ops = Math.max(0, s.requests - prev.requests) / ((s.t - prev.t) / 1000);
  rates.push({ t: s.t, opsPerSec: ops });
  if (rates.length > HISTORY) rates.shift();
}

function renderThroughput() {
  const now = rates.length ? rates[rates.length - 1].opsPerSec : 0;
  const label = $("throughput-now");
  label.textContent = now.toFixed(0) + " ops/s";
  label.setAttribute("data-ops-per-sec", now.toFixed(1));
  const chart = $("throughput-chart");
  const W = Math.max(200, Math.round(chart.clientWidth || 600)), H = 160, top = 10;
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const max = Math.max(10, ...rates.map(r => r.opsPerSec)) * 1.1;
  const grid = $("throughput-grid");
  const lines = [];
  for (const f of [0.25, 0.5, 0.75]) {
    const y = H - f * (H - top);
    lines.push(svg("line", { x1: 0, x2: W, y1: y, y2: y }));
    const t = svg("text", { x: 4, y: y - 3 });
    t.textContent = (f * max).toFixed(0);
    lines.push(t);
  }
  grid.replaceChildren(...lines);
  const step = W / (HISTORY - 1);
  const x0 = W - step * (rates.length - 1);
  const pts = rates.map((r, i) => `${(x0 + i * step).toFixed(1)},${(H - (r.opsPerSec / max) * (H - top)).toFixed(1)}`);
  $("throughput-line").setAttribute("points", pts.join(" "));
  const last = pts[pts.length - 1];
  if (last) {
    const [x, y] = last.split(",");
    grid.append(svg("circle", { cx: x, cy: y, r: 3, class: "last" }));
  }
  chart.setAttribute("data-points", rates.length);
}

function renderLockWaits(st) {
  const items = [];
  for (const w of st.lock_waits) {
    for (const h of (w.waiting_on.length ? w.waiting_on : [0])) {
      items.push(el("li", {
        class: "lock-wait", "data-range-id": w.range_id, "data-waiter-txn": w.txn_id,
        "data-holder-txn": h, "data-key": w.key, "data-mode": w.mode,
      },
        el("span", { class: "txn mono" }, "txn " + w.txn_id),
        el("span", { class: "arrow" }, "→ waits for →"),
        el("span", { class: "txn mono" }, h ? "txn " + h : "(queue)"),
        ` on ${w.key}${w.end_key ? " – " + w.end_key : ""} (${w.mode}) in r${w.range_id}, ${(w.waiting_ms / 1000).toFixed(1)} s`,
      ));
    }
  }
  replaceChildren($("lock-waits"), items);
  renderWaitGraph(st);
  replaceChildren($("locks"), st.locks.map(l => el("tr", {
    class: "lock", "data-range-id": l.range_id, "data-holder-txn": l.txn_id, "data-key": l.key,
    "data-waiters": l.waiters.join(","),
  },
    el("td", {}, "r" + l.range_id),
    el("td", { class: "mono" }, l.key + (l.end_key ? " – " + l.end_key : "")),
    el("td", {}, l.mode),
    el("td", { class: "mono" }, "txn " + l.txn_id),
    el("td", { class: "mono" }, l.waiters.map(x => "txn " + x).join(", ") || "—"),
  )));
}

// renderWaitGraph draws the waits-for graph: waiters on the left, the
// transactions they wait for on the right, an arrow per edge.
function renderWaitGraph(st) {
  const g = $("wait-graph");
  const edges = [];
  for (const w of st.lock_waits) for (const h of w.waiting_on) edges.push([w.txn_id, h]);
  g.setAttribute("data-edges", edges.length);
  const waiters = [...new Set(edges.map(e => e[0]))];
  const holders = [...new Set(edges.map(e => e[1]))];
  const pos = new Map();
  const place = (ids, x) => ids.forEach((id, i) => { if (!pos.has(id)) pos.set(id, { x, y: 140 * (i + 1) / (ids.length + 1) }); });
  place(holders, 450);
  place(waiters, 150);
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 28, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#c8423b" }));
  defs.append(marker);
  const parts = [defs];
  for (const [a, b] of edges) {
    const p = pos.get(a), q = pos.get(b);
    parts.push(svg("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, "marker-end": "url(#arrow)", "data-waiter-txn": a, "data-holder-txn": b }));
  }
  for (const [id, p] of pos) {
    const isHolder = holders.includes(id) && !waiters.includes(id);
    parts.push(svg("circle", { cx: p.x, cy: p.y, r: 18, class: isHolder ? "holder" : "", "data-txn-id": id }));
    const t = svg("text", { x: p.x, y: p.y });
    t.textContent = String(id).slice(-5);
    parts.push(t);
  }
  g.replaceChildren(...parts);
}

function renderInDoubt(st) {
  replaceChildren($("in-doubt"), st.in_doubt.map(d => el("li", { class: "in-doubt", "data-txn-id": d.txn_id, "data-range-id": d.range_id },
    el("span", { class: "txn mono" }, "txn " + d.txn_id),
    ` prepared in r${d.range_id} for ${(d.prepared_ms / 1000).toFixed(1)} s, ${d.writes} writes, anchor ${d.anchor_key}`,
  )));
}

function renderSettings(st) {
  replaceChildren($("settings"), st.settings.map(s => el("tr", { class: "setting", "data-name": s.name, "data-set": s.set },
    el("td", { class: "mono" }, s.name),
    el("td", { class: "mono" }, s.value + (s.set ? "" : " (default)")),
    el("td", {}, s.type),
    el("td", {}, s.description),
  )));
}

function render(st) {
  $("answering-node").textContent = "answered by n" + st.node_id;
  $("updated").textContent = "updated " + new Date(st.time_unix_ms).toLocaleTimeString();
  const err = $("poll-error");
  err.hidden = st.errors.length === 0;
  err.textContent = st.errors.join("; ");
  renderNodes(st);
  renderRanges(st);
  recordThroughput(st);
  renderThroughput();
  renderLockWaits(st);
  renderInDoubt(st);
  renderSettings(st);
  document.body.setAttribute("data-state", "ready");
}

async function poll() {
  try {
    const resp = await fetch("/status", { cache: "no-store" });
    if (!resp.ok) throw new Error(`/status: ${resp.status} ${(await resp.text()).trim()}`);
    render(await resp.json());
  } catch (e) {
    const err = $("poll-error");
    err.hidden = false;
    err.textContent = String(e.message || e);
    if (document.body.getAttribute("data-state") === "loading") document.body.setAttribute("data-state", "error");
  }
  polls++;
  document.body.setAttribute("data-polls", polls);
  setTimeout(poll, POLL_MS);
}

poll();
