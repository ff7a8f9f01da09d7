// Shared by the browser tests (console_flow.mjs, sessions.mjs): the
// watcher that turns every unannounced console error, page error and failed
// request into a problem, the axe-core scan, screenshots, and small API
// helpers. Environment as console_flow.mjs says.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

export const require = createRequire(path.join(process.env.TA_BROWSER_TOOLS, "package.json"));
export const { chromium } = require("playwright-core");
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
export const BASE = process.env.TA_CONSOLE_URL;
export const SHOTS = process.env.TA_SHOT_DIR;
export const TZ = "America/New_York";
export const axeLog = [];
export const shots = [];
const NAMES = {
  auth: [["textbox", "Username"], ["textbox", "Email"], ["button", "Log in"],
    ["button", "Create account"]],
  tasks: [["textbox", "Title"], ["textbox", "Description"], ["combobox", "Status"],
    ["combobox", "Priority"], ["searchbox", "Search"], ["button", "Add task"],
    ["button", "Log out"]],
};

// Records every 4xx/5xx answer and failed request against what the steps
// announced (expect); anything else is a problem.
export function watch(page, label) {
  const w = { label, expected: [], problems: [] };
  const consume = (method, url, status) => {
    const p = new URL(url).pathname;
    const i = w.expected.findIndex((e) => e.method === method && e.re.test(p) &&
      e.status === status);
    if (i >= 0) w.expected.splice(i, 1);
    else w.problems.push(`${label}: unexpected ${status} on ${method} ${p}`);
  };
  page.on("console", (m) => {
    // Chromium logs each 4xx/5xx fetch so; those are checked as responses.
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text()))
      w.problems.push(`${label}: console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.problems.push(`${label}: page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) consume(r.request().method(), r.url(), r.status());
  });
  page.on("requestfailed", (r) => {
    // A reload cancels what the old page was still loading (its icon).
    if (r.failure()?.errorText === "net::ERR_ABORTED" && r.method() === "GET") return;
    consume(r.method(), r.url(), "failed");
  });
  return w;
}

export function done(w) {
  for (const e of w.expected)
    w.problems.push(`${w.label}: announced ${e.status} on ${e.method} ${e.re} never came`);
  assert.deepEqual(w.problems, [], w.problems.join("\n"));
}

export async function axeScan(page, screen) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  axeLog.push({ screen, violations: r.violations.length, passes: r.passes.length,
    details: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`) });
  assert.equal(r.violations.length, 0,
    `axe on ${screen}: ${JSON.stringify(r.violations.map((v) => [v.id, v.nodes.map((n) => n.html)]))}`);
}

export async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

export async function names(page, which) {
  for (const [role, name] of NAMES[which])
    assert.equal(await page.getByRole(role, { name, exact: true }).count(), 1,
      `one ${role} named "${name}"`);
}

export async function token(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("taskapi.session")).token);
}

export async function api(page, method, p, body, headers = {}) {
  const t = await token(page);
  const r = await fetch(BASE + p, {
    method, headers: { Authorization: `Bearer ${t}`, "Content-Type": "application/json", ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, etag: r.headers.get("ETag"), data: text ? JSON.parse(text) : null };
}

export async function listTitles(page) {
  await page.waitForFunction(() => !document.querySelector("#task-list[aria-busy=true]"));
  return page.locator("#task-list .task-title").allInnerTexts();
}

// Waits until the visible list is exactly titles (any order unless ordered).
export async function expectList(page, titles, ordered = false) {
  const want = ordered ? titles : [...titles].sort();
  let got = [];
  for (let i = 0; i < 50; i++) {
    got = await listTitles(page);
    if (!ordered) got.sort();
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, want);
}

export function newUser(tag) {
  const n = `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  return { username: n, email: `${n}@example.com`, password: "correct horse battery 9" };
}
