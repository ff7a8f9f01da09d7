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
import { MouseActor, KeyboardActor } from "./actors.mjs";
import { BASE, SHOTS, TZ, api, axeLog, axeScan, chromium, done, expectList,
  listTitles, names, newUser, shot, shots, token, watch } from "./harness.mjs";
import { pages, refreshes, revoked } from "./sessions.mjs";

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

async function listWithout(page, title) {
  return (await listTitles(page)).filter((t) => t !== title);
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
