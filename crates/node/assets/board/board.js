// The status board: draws /board/state.json, then follows /board/ws. Every text from the
// chain goes in with textContent (never as HTML).
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

function short(addr) {
  return addr.length > 20 ? addr.slice(0, 12) + "…" + addr.slice(-6) : addr;
}

// RFC 3339 without the fraction of a second.
function when(t) {
  return (t || "").replace(/\.\d+Z$/, "Z").replace("T", " ");
}

function pct(x) {
  return (x * 100).toFixed(1) + " %";
}

function duration(secs) {
  if (secs == null) return "unknown";
  if (secs < 90) return Math.round(secs) + " s";
  if (secs < 5400) return Math.round(secs / 60) + " min";
  return (secs / 3600).toFixed(1) + " h";
}

// Exposed for the board's browser test (it checks that the charts hold real points).
const charts = (window.boardCharts = {});
const CHARTS = [
  ["interval", "chart-interval", "#58a6ff"],
  ["tps", "chart-tps", "#3fb950"],
  ["participation", "chart-participation", "#d29922"],
  ["bonded", "chart-bonded", "#a371f7"],
];

const RATIOS = new Set(["participation", "bonded"]);

function pctAxis(v) {
  const p = v * 100;
  return (Math.abs(p) >= 1 || p === 0 ? p.toFixed(0) : p.toExponential(0)) + "%";
}

// Every chart starts at zero, so that millisecond jitter does not read as a swing;
// participation is a share and spans 0-100 %.
function yRange(key) {
  if (key === "participation") return [0, 1];
  return (u, min, max) => [0, max > 0 ? max * 1.25 : 1];
}

function chartWidth(box) {
  return Math.max(200, box.clientWidth);
}

function drawCharts(chart) {
  for (const [key, id, color] of CHARTS) {
    const data = [chart.t, chart[key]];
    if (!charts[key]) {
      const box = $(id);
      charts[key] = new uPlot({
        width: chartWidth(box), height: 160,
        legend: { show: false },
        scales: { x: { time: true }, y: { range: yRange(key) } },
        axes: [
          { stroke: "#8b98a5", grid: { stroke: "#2b3640" } },
          { stroke: "#8b98a5", grid: { stroke: "#2b3640" }, size: 76,
            values: RATIOS.has(key) ? (u, vals) => vals.map((v) => pctAxis(v)) : undefined },
        ],
        series: [{}, { stroke: color, width: 2, spanGaps: true }],
      }, data, box);
    } else {
      charts[key].setData(data);
    }
  }
}

window.addEventListener("resize", () => {
  for (const [key, id] of CHARTS) {
    if (charts[key]) charts[key].setSize({ width: chartWidth($(id)), height: 160 });
  }
});

function drawAlerts(alerts) {
  const list = $("alerts");
  list.replaceChildren(...alerts.map((a) =>
    el("li", { className: "firing" },
      el("b", { textContent: a.rule + (a.key ? " · " + a.key : "") }),
      el("span", { textContent: a.summary + " — since " + when(a.since) })
    )));
  if (!alerts.length) list.replaceChildren(el("li", { textContent: "Nothing is firing." }));
  const status = $("status");
  status.textContent = alerts.length ? alerts.length + " alert" + (alerts.length > 1 ? "s" : "") : "healthy";
  status.className = "pill " + (alerts.length ? "bad" : "ok");
}

// A member's heartbeats: "live", or how many periods it missed ("—" when not required).
function liveness(m) {
  if (m.live === undefined || m.live === null) return "—";
  if (m.live) return "live";
  let t = m.misses + " missed";
  if (m.suspension_vote_open) t += ", suspension vote open";
  return t;
}

// An accountable break's standing: its incident, its ratification and its lifetime.
function breakText(b) {
  if (!b) return "";
  let t = " — break " + b.id;
  if (b.tripwire) t += " by tripwire " + b.tripwire;
  if (b.incident) t += " for incident " + b.incident;
  if (b.answer === "awaiting") t += "; awaiting a member's confirmation or release";
  else if (b.answer === "confirmed") t += "; confirmed by " + short(b.member);
  if (b.ratification === "pending") t += "; ratification pending (proposal " + b.proposal + ") until " + when(b.ratify_by);
  else if (b.ratification === "ratified") t += "; ratified by governance";
  if (b.expires_height && b.ratification !== "ratified") t += "; lapses at height " + b.expires_height;
  return t;
}

function drawChain(c) {
  const routes = c ? c.broken_routes : [];
  $("routes-none").hidden = routes.length > 0;
  $("routes").replaceChildren(...routes.map((r) =>
    el("li", { className: "broken" },
      el("b", { textContent: r.route }),
      el("span", { textContent: "broken by " + short(r.by) + " at height " + r.height + " (" + when(r.time) + "): " + r.reason + breakText(r.break) })
    )));
  const plan = $("plan");
  if (c && c.plan) {
    const p = c.plan;
    const threshold = parseFloat(p.threshold);
    const bar = el("div", { className: "bar" }, el("div"), el("i"));
    bar.firstChild.style.width = Math.min(100, p.ready * 100) + "%";
    bar.lastChild.style.left = Math.min(100, threshold * 100) + "%";
    plan.replaceChildren(
      el("p", { textContent: p.name + " (" + p.source + ") at height " + p.height + " — " + p.blocks_left + " blocks, about " + duration(p.eta_seconds) }),
      bar,
      el("p", { className: "muted", textContent: "ready: " + pct(p.ready) + " of bonded power (needs " + pct(threshold) + ")" })
    );
  } else {
    plan.replaceChildren(el("p", { className: "muted", textContent: "No upgrade is scheduled." }));
  }
  const d = c ? c.dcert : { seats: 0, members: [], challenger: null, stabilization_queue: 0, suspended: 0 };
  $("dcert-summary").textContent = d.members.length + " of " + d.seats + " seats filled · " +
    d.stabilization_queue + " in the stabilization queue · " + d.suspended + " suspended";
  $("members").replaceChildren(...d.members.map((m) =>
    el("tr", {}, el("td", { className: "addr", textContent: short(m.address) }), el("td", { className: "num", textContent: m.tally }),
      el("td", { className: m.live === false ? "broken" : "", textContent: liveness(m) }))));
  $("challenger").textContent = d.challenger ? "Strongest challenger: " + short(d.challenger.address) + " with " + d.challenger.tally : "No challenger.";
}

function drawValidators(rows, windowSize) {
  $("window").textContent = windowSize;
  $("validators").replaceChildren(...rows.map((v) =>
    el("tr", {},
      el("td", { className: "addr", textContent: short(v.address) }),
      el("td", { className: "num", textContent: v.power }),
      el("td", { className: "num", textContent: v.missed }))));
}

function drawIncidents(incidents) {
  $("incidents-none").hidden = incidents.length > 0;
  $("incidents").replaceChildren(...incidents.map((i) => {
    const steps = (i.timeline || []).map((s) =>
      el("li", { textContent: when(s.time) + " · " + s.action + (s.text ? ": " + s.text : "") }));
    return el("div", { className: "incident" },
      el("b", { textContent: "#" + i.id + " " + (i.title || "(sealed report)") }),
      el("div", { className: "muted", textContent: i.state +
        (i.severity && i.severity !== "unspecified" ? " · " + i.severity : "") +
        (i.overdue ? " · past its " + i.overdue : "") }),
      el("ol", {}, ...steps));
  }));
}

function draw(s) {
  $("chain").textContent = s.chain_id;
  $("height").textContent = s.height;
  $("time").textContent = when(s.time);
  drawAlerts(s.alerts || []);
  drawCharts(s.chart);
  drawChain(s.chain);
  drawValidators(s.validators || [], s.window);
  drawIncidents(s.incidents || []);
  document.body.dataset.height = s.height;
}

function follow(delay) {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/board/ws");
  ws.onopen = () => { $("live").classList.add("on"); delay = 500; };
  ws.onmessage = (m) => draw(JSON.parse(m.data));
  ws.onclose = () => {
    $("live").classList.remove("on");
    setTimeout(() => follow(Math.min(delay * 2, 10000)), delay);
  };
}

fetch("/board/state.json").then((r) => r.json()).then(draw).finally(() => follow(500));
