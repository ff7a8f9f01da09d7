// The console in headless Chromium (Debian's, driven by playwright-core),
// against the three real processes test_console.py started: the whole
// flow with the mouse at 1280 px, the same flow with the keyboard alone at
// 360 px in the dark scheme, an axe-core scan of every screen, and
// screenshots. Any console error, page error or failed request that a step
// did not announce fails the run. Environment: TA_CONSOLE_URL (the edge),
// TA_BROWSER_TOOLS (tools/browser, with node_modules), TA_SHOT_DIR (where
// screenshots and axe.json go), TA_CHROMIUM (default /usr/bin/chromium).
// Exits 0 when every check passed.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { MouseActor, KeyboardActor } from "./actors.mjs";

const require = createRequire(path.join(process.env.TA_BROWSER_TOOLS, "package.json"));
const { chromium } = require("playwright-core");
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BASE = process.env.TA_CONSOLE_URL;
const SHOTS = process.env.TA_SHOT_DIR;
const TZ = "America/New_York";
const axeLog = [];
const shots = [];

const NAMES = {
  auth: [["textbox", "Username"], ["textbox", "Email"], ["button", "Log in"],
    ["button", "Create account"]],
  tasks: [["textbox", "Title"], ["textbox", "Description"], ["combobox", "Status"],
    ["combobox", "Priority"], ["searchbox", "Search"], ["button", "Add task"],
    ["button", "Log out"]],
};

// Records every 4xx/5xx answer and failed request against what the steps
// announced (expect); anything else is a problem.
function watch(page, label) {
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

function done(w) {
  for (const e of w.expected)
    w.problems.push(`${w.label}: announced ${e.status} on ${e.method} ${e.re} never came`);
  assert.deepEqual(w.problems, [], w.problems.join("\n"));
}

async function axeScan(page, screen) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
  }));
  axeLog.push({ screen, violations: r.violations.length, passes: r.passes.length,
    details: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`) });
  assert.equal(r.violations.length, 0,
    `axe on ${screen}: ${JSON.stringify(r.violations.map((v) => [v.id, v.nodes.map((n) => n.html)]))}`);
}

async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

async function names(page, which) {
  for (const [role, name] of NAMES[which])
    assert.equal(await page.getByRole(role, { name, exact: true }).count(), 1,
      `one ${role} named "${name}"`);
}

async function token(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("taskapi.session")).token);
}

async function api(page, method, p, body, headers = {}) {
  const t = await token(page);
  const r = await fetch(BASE + p, {
    method, headers: { Authorization: `Bearer ${t}`, "Content-Type": "application/json", ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, etag: r.headers.get("ETag"), data: text ? JSON.parse(text) : null };
}

async function listTitles(page) {
  await page.waitForFunction(() => !document.querySelector("#task-list[aria-busy=true]"));
  return page.locator("#task-list .task-title").allInnerTexts();
}

// Waits until the visible list is exactly titles (any order unless ordered).
async function expectList(page, titles, ordered = false) {
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

async function flow(browser, a, tag, user) {
  const { page, w } = a;
  await page.goto(BASE + "/");
  await page.getByRole("textbox", { name: "Username", exact: true }).waitFor();
  await names(page, "auth");
  await axeScan(page, `${tag} login`);
  await shot(page, `${tag}-login`);

  // Per-field details beside the fields.
  w.expected.push({ method: "POST", re: /^\/auth\/register$/, status: 400 });
  await a.fill("Username", user.username);
  await a.press("Create account");
  await page.locator("#auth-email-error:not(:empty), #auth-password-error:not(:empty)").first().waitFor();
  assert.equal(await page.getByLabel("Username", { exact: true }).inputValue(), user.username,
    "what the user typed stays");
  await axeScan(page, `${tag} login with errors`);
  await shot(page, `${tag}-login-errors`);

  await a.fill("Email", user.email);
  await a.fill("Password", user.password);
  await a.press("Create account");
  await page.getByText(`Signed in as ${user.username}`).waitFor();
  await names(page, "tasks");
  await page.reload(); // a reload keeps the session
  await page.getByText(`Signed in as ${user.username}`).waitFor();
  await a.press("Log out");
  await page.getByText("You have logged out.").waitFor();
  await a.fill("Username", user.username);
  await a.fill("Password", user.password);
  await a.press("Log in");
  await page.getByText(`Signed in as ${user.username}`).waitFor();
  await expectList(page, []);

  // Validation error from the worker, beside Title.
  w.expected.push({ method: "POST", re: /^\/tasks$/, status: 400 });
  await a.fill("Title", "   ");
  await a.press("Add task");
  await page.locator("#task-title-error:not(:empty)").waitFor();
  assert.equal(await page.getByLabel("Title", { exact: true }).getAttribute("aria-invalid"), "true");
  await axeScan(page, `${tag} task form with errors`);

  const tasks = [
    { title: "Write report", priority: "high", due: "2025-01-15T09:30" },
    { title: "Buy milk", description: "2 litres", priority: "low" },
    { title: "Plan trip", status: "in_progress", due: "2030-06-01T12:00" },
  ];
  for (const t of tasks) await a.createTask(t);
  await expectList(page, tasks.map((t) => t.title));

  // A network failure keeps what was typed; the retry creates once.
  await page.context().setOffline(true);
  w.expected.push({ method: "POST", re: /^\/tasks$/, status: "failed" });
  await a.fill("Title", "Call bank");
  await a.press("Add task");
  await page.getByText("The server cannot be reached", { exact: false }).waitFor();
  assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), "Call bank");
  await page.context().setOffline(false);
  await a.press("Add task");
  await expectList(page, ["Write report", "Buy milk", "Plan trip", "Call bank"]);

  // Due dates in the user's zone; overdue marked.
  const all = (await api(page, "GET", "/tasks")).data.tasks;
  const report = all.find((t) => t.title === "Write report");
  assert.equal(Date.parse(report.due_date), Date.parse("2025-01-15T14:30:00Z"),
    "09:30 in New York is 14:30 UTC");
  const li = page.locator("li.task", { hasText: "Write report" });
  assert.match(await li.locator(".task-due").innerText(), /Jan 15, 2025, 9:30\sAM/);
  assert.ok(await li.locator(".overdue").isVisible(), "overdue marked");
  assert.ok(!(await page.locator("li.task", { hasText: "Plan trip" }).locator(".overdue").isVisible()));

  // Counts per status (every page walked).
  await page.locator('[data-count="pending"]', { hasText: "(3)" }).waitFor();
  await page.locator('[data-count="in_progress"]', { hasText: "(1)" }).waitFor();
  await axeScan(page, `${tag} task list`);
  await shot(page, `${tag}-tasks`);

  await a.toggle("In progress");
  await expectList(page, ["Plan trip"]);
  await a.toggle("In progress");
  await a.toggle("High");
  await expectList(page, ["Write report"]);
  await a.toggle("High");
  await a.fill("Search", "milk");
  await expectList(page, ["Buy milk"]);
  await a.fill("Search", "");
  await a.select("Sort", "title");
  await expectList(page, ["Buy milk", "Call bank", "Plan trip", "Write report"], true);
  await a.select("Sort", "-created_at");
  await a.fill("Due until", "2025-12-31");
  await expectList(page, ["Write report"]);
  await a.fill("Due until", "");
  await a.fill("Due from", "2026-01-01");
  await expectList(page, ["Plan trip"]);
  await a.fill("Due from", "");
  await expectList(page, ["Write report", "Buy milk", "Plan trip", "Call bank"]);

  // One-click status change.
  await a.press("Start", "Buy milk");
  await page.locator("li.task", { hasText: "Buy milk" }).locator(".status", { hasText: "In progress" }).waitFor();

  // Edit, and a conflict made by a second session meanwhile.
  await a.press("Edit", "Buy milk");
  await page.getByRole("button", { name: "Save", exact: true }).waitFor();
  await a.fill("Description", "3 litres");
  await secondSession(browser, user, "Buy milk", "Buy oat milk");
  w.expected.push({ method: "PATCH", re: /^\/tasks\/\d+$/, status: 412 });
  await a.press("Save");
  await page.locator("#conflict").waitFor();
  await page.locator("#conflict-theirs", { hasText: "Buy oat milk" }).waitFor();
  await axeScan(page, `${tag} conflict`);
  await shot(page, `${tag}-conflict`);
  if (tag === "mouse") {
    await a.press("Keep mine");
    await expectList(page, ["Write report", "Buy milk", "Plan trip", "Call bank"]);
    const mine = (await api(page, "GET", "/tasks")).data.tasks.find((t) => t.title === "Buy milk");
    assert.equal(mine.description, "3 litres");
  } else {
    await a.press("Take the newer one");
    assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), "Buy oat milk");
    assert.equal(await page.getByLabel("Description", { exact: true }).inputValue(), "2 litres");
    await a.fill("Description", "");
    await a.press("Save"); // an emptied description is cleared (null)
    await expectList(page, ["Write report", "Buy oat milk", "Plan trip", "Call bank"]);
    const t = (await api(page, "GET", "/tasks")).data.tasks.find((x) => x.title === "Buy oat milk");
    assert.equal(t.description, null);
  }

  // Delete with undo, then for good.
  await a.press("Delete", "Call bank");
  await expectList(page, await listWithout(page, "Call bank"));
  await a.press("Undo");
  await page.locator("li.task", { hasText: "Call bank" }).waitFor();
  await a.press("Delete", "Call bank");
  await page.getByText("Deleted “Call bank”.").waitFor();
  await page.locator("li.task", { hasText: "Call bank" }).waitFor({ state: "detached" });

  await pages(page, a);
  if (tag === "mouse") await refreshes(page, w, user);

  await a.press("Log out");
  await page.getByText("You have logged out.").waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Log in", exact: true }).waitFor();
  assert.ok(await page.locator("#task-screen").isHidden(), "a reload stays logged out");
}

// API v1.1 sessions: a refused access token is replaced silently through
// the refresh token; once every session of the user is ended elsewhere,
// the refresh fails and the console goes back to the login screen.
async function refreshes(page, w, user) {
  const spoil = () => page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("taskapi.session"));
    localStorage.setItem("taskapi.session", JSON.stringify({ ...s, token: "spoiled" }));
  });
  // Near its expiry the token is refreshed before use: no 401 at all.
  const before = await token(page);
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("taskapi.session"));
    localStorage.setItem("taskapi.session", JSON.stringify({ ...s, expires_at: Date.now() }));
  });
  const refreshed = page.waitForResponse((r) => r.url().endsWith("/auth/refresh"));
  await page.reload();
  assert.equal((await refreshed).status(), 200);
  await expectList(page, ["Write report", "Buy milk", "Plan trip"]);
  assert.notEqual(await token(page), before);
  await spoil();
  w.expected.push({ method: "GET", re: /^\/tasks$/, status: 401 });
  await page.reload();
  await page.getByText(`Signed in as ${user.username}`).waitFor();
  await expectList(page, ["Write report", "Buy milk", "Plan trip"]);
  const fresh = await token(page);
  assert.notEqual(fresh, "spoiled", "a new access token was stored");
  assert.equal((await api(page, "POST", "/auth/logout", { all: true })).status, 204);
  await spoil();
  w.expected.push({ method: "GET", re: /^\/tasks$/, status: 401 });
  w.expected.push({ method: "POST", re: /^\/auth\/refresh$/, status: 401 });
  await page.reload();
  await page.getByText("Your session has ended. Please log in again.").waitFor();
  await a_login(page, user);
}

async function a_login(page, user) {
  await page.getByLabel("Username", { exact: true }).fill(user.username);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.getByText(`Signed in as ${user.username}`).waitFor();
}

async function listWithout(page, title) {
  return (await listTitles(page)).filter((t) => t !== title);
}

// Twelve more tasks through the API: page 1 has ten, page 2 the rest.
async function pages(page, a) {
  for (let i = 1; i <= 12; i++) await api(page, "POST", "/tasks", { title: `Bulk ${i}` });
  await page.reload();
  await page.locator("#task-list li").nth(9).waitFor();
  assert.equal(await page.locator("#task-list li").count(), 10);
  await a.press("Next page");
  await page.getByText("Page 2", { exact: true }).waitFor();
  const second = await listTitles(page);
  assert.equal(second.length, 5, second.join());
  await a.press("Previous page");
  await page.getByText("Page 1", { exact: true }).waitFor();
  for (const t of (await api(page, "GET", "/tasks")).data.tasks)
    if (t.title.startsWith("Bulk ")) await api(page, "DELETE", `/tasks/${t.id}`);
}

// Another browser session of the same user renames the task.
async function secondSession(browser, user, from, to) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: TZ });
  const page = await ctx.newPage();
  const w = watch(page, "second session");
  const a = new MouseActor(page, w);
  await page.goto(BASE + "/");
  await a.fill("Username", user.username);
  await a.fill("Password", user.password);
  await a.press("Log in");
  await a.press("Edit", from);
  await page.getByRole("button", { name: "Save", exact: true }).waitFor();
  await a.fill("Title", to);
  await a.press("Save");
  await page.locator("li.task", { hasText: to }).waitFor();
  done(w);
  await ctx.close();
}

// A session the server refuses goes back to the login screen, saying so.
async function revoked(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const w = watch(page, "revoked");
  await page.goto(BASE + "/");
  await page.evaluate(() => localStorage.setItem("taskapi.session", JSON.stringify({
    token: "not.a.token", refresh_token: null, expires_at: Date.now() + 3600e3,
    user: { username: "ghost" } })));
  w.expected.push({ method: "GET", re: /^\/tasks$/, status: 401 });
  await page.reload();
  await page.getByText("Your session has ended. Please log in again.").waitFor();
  await page.getByRole("button", { name: "Log in", exact: true }).waitFor();
  await page.waitForTimeout(300); // nothing else may follow
  assert.equal(await page.evaluate(() => localStorage.getItem("taskapi.session")), null);

  // Failed logins: 401 in words, then 429 with the wait (auth-svc runs
  // with LOGIN_FAILURE_LIMIT=2 and a 60 s first lockout here); what was
  // typed stays.
  const a = new MouseActor(page, w);
  await a.fill("Username", newUser("nobody").username);
  await a.fill("Password", "wrong password 1");
  for (let i = 0; i < 2; i++) {
    w.expected.push({ method: "POST", re: /^\/auth\/login$/, status: 401 });
    await a.press("Log in");
    await page.locator("#auth-form-error", { hasText: "Invalid username or password" }).waitFor();
    await page.locator("#auth-form-error").evaluate((el) => { el.textContent = ""; });
  }
  w.expected.push({ method: "POST", re: /^\/auth\/login$/, status: 429 });
  await a.press("Log in");
  await page.locator("#auth-form-error", { hasText: /Too many requests\. Try again in \d+ seconds?\./ }).waitFor();
  assert.equal(await page.getByLabel("Password", { exact: true }).inputValue(), "wrong password 1");
  await axeScan(page, "login refused (429)");
  done(w);
  await ctx.close();
}

function newUser(tag) {
  const n = `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  return { username: n, email: `${n}@example.com`, password: "correct horse battery 9" };
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const probe = await fetch(BASE + "/auth/login", { method: "POST", body: "{}",
    headers: { "Content-Type": "application/json" } });
  await probe.text();
  const browser = await chromium.launch({
    executablePath: process.env.TA_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    // The API v1.1 parts the console uses (sessions, GET /tasks pages).
    const u = newUser("probe");
    await fetch(BASE + "/auth/register", { method: "POST", body: JSON.stringify(u),
      headers: { "Content-Type": "application/json" } }).then((r) => r.text());
    const login = await (await fetch(BASE + "/auth/login", { method: "POST",
      body: JSON.stringify(u), headers: { "Content-Type": "application/json" } })).json();
    assert.equal(typeof login.refresh_token, "string", "API v1.1 sessions");
    const list = await (await fetch(BASE + "/tasks", {
      headers: { Authorization: `Bearer ${login.token}` } })).json();
    assert.ok("next_cursor" in list, "API v1.1 list pages");

    for (const [tag, Kind, opts] of [
      ["mouse", MouseActor, { viewport: { width: 1280, height: 900 } }],
      ["keyboard", KeyboardActor, { viewport: { width: 360, height: 740 }, colorScheme: "dark" }],
    ]) {
      const t0 = Date.now();
      const ctx = await browser.newContext({ ...opts, timezoneId: TZ, locale: "en-US" });
      ctx.setDefaultTimeout(10000);
      const page = await ctx.newPage();
      const w = watch(page, tag);
      await flow(browser, new Kind(page, w), tag, newUser(tag));
      done(w);
      await ctx.close();
      console.log(`ok - ${tag} flow (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    await revoked(browser);
    console.log("ok - a refused session goes back to the login screen; failed logins say 401, then 429 with the wait");
  } finally {
    fs.writeFileSync(path.join(SHOTS, "axe.json"), JSON.stringify(axeLog, null, 2));
    await browser.close();
  }
  for (const s of axeLog) console.log(`axe ${s.screen}: ${s.violations} violations, ${s.passes} rules passed`);
  for (const s of shots) console.log(`screenshot ${s}`);
}

main().then(() => console.log("console flow: all checks passed"), (e) => {
  console.error(e.stack || e);
  process.exitCode = 1;
});
