// The status board in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core) against a `caspurd dev` node, with every request not to the node blocked:
// the page loads without console errors, its charts hold points from the chain, a circuit
// break made during the test appears on the open page within 2 s without a reload, as do a
// reported incident with its timeline and a governance upgrade plan with its readiness bar,
// and screenshots at desktop and phone widths are saved in tests/board/screenshots/. Then, with
// governance turning on the dCERT's heartbeats and ratification, the member's heartbeat and an
// accountable break (its incident and pending ratification) appear on the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const CASPURD = process.env.CASPURD ?? join(here, "../../target/debug/caspurd");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// The dev mnemonic the other suites use too.
const MNEMONIC = "economy stock theory fatal elder harbor betray wasp final emotion task crumble " +
  "siren bottom lizard educate guess current outdoor pair theory focus wife stone";
const SEND = "/cosmos.bank.v1beta1.MsgSend";
const SHOTS = join(here, "screenshots");

// Ports below the ephemeral range, random per run.
const base = 20000 + Math.floor(Math.random() * 11000);
const [rpc, p2p, metrics] = [base, base + 1, base + 2];
const origin = `http://127.0.0.1:${metrics}`;
const dir = mkdtempSync(join(tmpdir(), "caspur-board-"));
const home = join(dir, "home");
let node;
let browser;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cli(...args) {
  const out = execFileSync(CASPURD, [...args, "--home", home, "--node", `tcp://127.0.0.1:${rpc}`, "-o", "json"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return out.trim() ? JSON.parse(out) : null;
}

function tx(...args) {
  const r = cli("tx", ...args, "--from", "dev", "--keyring-backend", "test");
  assert.equal(r.code, 0, JSON.stringify(r));
  return r;
}

async function boardState() {
  const r = await fetch(`${origin}/board/state.json`);
  return r.json();
}

async function until(what, check, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

before(async () => {
  node = spawn(CASPURD, ["dev", "--home", home, "--dev-mnemonic", MNEMONIC, "--block-time-ms", "200",
    "--voting-period-secs", "4",
    "--rpc-laddr", `127.0.0.1:${rpc}`, "--p2p-laddr", `127.0.0.1:${p2p}`, "--grpc-laddr", "",
    "--prometheus-laddr", `127.0.0.1:${metrics}`], { stdio: "ignore" });
  await until("the node's board", async () => (await boardState()).height >= 5);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  node?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function open(viewport) {
  const context = await browser.newContext({ viewport });
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/")) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(origin + "/");
  await page.waitForFunction(() => Number(document.body.dataset.height) > 0);
  await page.waitForFunction(() => document.getElementById("live").classList.contains("on"));
  return { context, page, errors, blocked };
}

test("the board draws the chain, follows it live and shows a circuit break within 2 s", async () => {
  mkdirSync(SHOTS, { recursive: true });
  const { context, page, errors, blocked } = await open({ width: 1280, height: 900 });

  // Four charts, each with points from the chain.
  assert.equal(await page.locator(".uplot").count(), 4);
  const points = await page.evaluate(() =>
    Object.fromEntries(Object.entries(window.boardCharts).map(([k, c]) => [k, c.data[0].length])));
  for (const [k, n] of Object.entries(points)) assert.ok(n >= 2, `${k} has ${n} points`);
  const blank = await page.evaluate(() => {
    const c = document.querySelector(".uplot canvas");
    const empty = document.createElement("canvas");
    empty.width = c.width; empty.height = c.height;
    return c.toDataURL() === empty.toDataURL();
  });
  assert.equal(blank, false, "the interval chart is blank");
  // It follows the chain over the WebSocket: the height moves without a reload.
  const h0 = Number(await page.evaluate(() => document.body.dataset.height));
  await page.waitForFunction((h) => Number(document.body.dataset.height) > h, h0);
  assert.equal(await page.locator("#validators tr").count(), 1);

  // A dev chain starts with the dev account seated in the dCERT and circuit breaking on.
  assert.equal(cli("query", "dcert", "params").params.circuit_break_enabled, true);
  await page.waitForFunction(() => document.querySelectorAll("#members tr").length === 1);
  const authority = cli("query", "gov", "authority").authority;
  assert.equal(await page.locator("#routes li").count(), 0);

  // The break: on the open page within 2 s of its block.
  tx("dcert", "circuit-break", "--routes", SEND, "--reason", "board drill");
  const committed = Date.now();
  await page.waitForFunction((route) =>
    [...document.querySelectorAll("#routes li b")].some((b) => b.textContent === route), SEND,
    { timeout: 2000 });
  const shownAfter = Date.now() - committed;
  console.log(`circuit break shown ${shownAfter} ms after its tx was committed`);
  await page.waitForFunction(() => [...document.querySelectorAll("#alerts li b")]
    .some((b) => b.textContent.startsWith("circuit_break")));
  assert.match(await page.locator("#status").textContent(), /alert/);

  await incidentAndPlan(page, authority);
  await page.screenshot({ path: join(SHOTS, "board-desktop.png"), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, []);
  await context.close();
});

// A report sealed to the member and a governance upgrade plan, each on the open page; the
// member's readiness signal fills the plan's bar.
async function incidentAndPlan(page, authority) {
  const report = join(dir, "report.md");
  writeFileSync(report, "# Drain\nMsgSend lets anyone drain the community pool.\n");
  tx("incident", "report", "--file", report, "--severity", "high", "--title", "bank drain");
  await page.waitForFunction(() => [...document.querySelectorAll("#incidents .incident b")]
    .some((b) => b.textContent === "#1 bank drain"));
  // The reporter's severity is sealed with the report: none shows until triage.
  assert.doesNotMatch(await page.locator("#incidents .incident div").first().textContent(),
    /high|unspecified/);
  assert.match(await page.locator("#incidents .incident ol").first().textContent(), /reported/);
  assert.equal(await page.locator("#incidents-none").isHidden(), true);
  assert.doesNotMatch(await page.locator("#incidents").textContent(), /community pool/,
    "the sealed report stays sealed");

  const height = (await boardState()).height + 2000;
  const platform = `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
  const sha256 = createHash("sha256").update(readFileSync(CASPURD)).digest("hex");
  const info = JSON.stringify({ binaries: { [platform]: { url: `file://${CASPURD}`, sha256 } } });
  const proposal = join(dir, "upgrade.json");
  writeFileSync(proposal, JSON.stringify({
    messages: [{ "@type": "/caspur.upgrade.v1.MsgSoftwareUpgrade", authority,
      plan: { name: "v2", height, info, routes_to_reopen: [] } }],
    deposit: "10000000ucsp", title: "Upgrade to v2", summary: "board test",
  }));
  tx("gov", "submit-proposal", proposal);
  tx("gov", "vote", "1", "yes");
  await page.waitForFunction((h) => document.querySelector("#plan p")?.textContent
    .startsWith(`v2 (governance) at height ${h}`), height, { timeout: 30000 });
  assert.match(await page.locator("#plan").textContent(), /ready: 0(\.0)? ?% of bonded power/);
  tx("upgrade", "signal-ready", "v2", "--binary", CASPURD);
  await page.waitForFunction(() => document.querySelector("#plan .bar div")?.style.width === "100%");
}

test("the board fits a phone's width", async () => {
  const { context, page, errors, blocked } = await open({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await page.screenshot({ path: join(SHOTS, "board-phone.png"), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, []);
  await context.close();
});

test("the board shows dCERT heartbeats and an accountable break's ratification", async () => {
  const { context, page, errors, blocked } = await open({ width: 1280, height: 900 });
  const authority = cli("query", "gov", "authority").authority;
  const params = cli("query", "dcert", "params").params;
  params.heartbeat_misses = 2;
  params.break_ratification_period_secs = "600";
  params.unratified_break_slash = "0.1";
  const proposal = join(dir, "accountability.json");
  writeFileSync(proposal, JSON.stringify({
    messages: [{ "@type": "/caspur.dcert.v1.MsgUpdateParams", authority, params }],
    deposit: "10000000ucsp", title: "dCERT accountability", summary: "board test",
  }));
  tx("gov", "submit-proposal", proposal);
  tx("gov", "vote", "2", "yes");
  await until("the accountability parameters", async () =>
    Number(cli("query", "dcert", "params").params.heartbeat_misses) === 2, 30000);
  // Heartbeats required: the member's row says whether it sent one.
  tx("dcert", "heartbeat");
  await page.waitForFunction(() => document.querySelector("#members tr td:last-child")?.textContent === "live",
    null, { timeout: 10000 });
  // A break naming incident 1 opens its ratification proposal; the route shows both.
  const route = "/cosmos.staking.v1beta1.MsgDelegate";
  tx("dcert", "circuit-break", "--routes", route, "--reason", "board drill", "--incident", "1");
  await page.waitForFunction((r) => [...document.querySelectorAll("#routes li")]
    .some((li) => li.textContent.includes(r) && /break \d+ for incident 1; ratification pending \(proposal 3\)/.test(li.textContent)),
    route, { timeout: 10000 });
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, []);
  await context.close();
});
