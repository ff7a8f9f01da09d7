// The parts of the console flow about sessions and pages: silent refresh
// and a session ended elsewhere, a refused token, failed logins (401, 429),
// and paging through next_cursor. Used by console_flow.mjs.

import assert from "node:assert/strict";
import { MouseActor } from "./actors.mjs";
import { BASE, api, axeScan, done, expectList, listTitles, newUser, token,
  watch } from "./harness.mjs";

// API v1.1 sessions: a refused access token is replaced silently through
// the refresh token; once every session of the user is ended elsewhere,
// the refresh fails and the console goes back to the login screen.
export async function refreshes(page, w, user) {
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
  await logIn(page, user);
}

async function logIn(page, user) {
  await page.getByLabel("Username", { exact: true }).fill(user.username);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.getByText(`Signed in as ${user.username}`).waitFor();
}

// Twelve more tasks through the API: page 1 has ten, page 2 the rest.
export async function pages(page, a) {
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

// A session the server refuses goes back to the login screen, saying so.
export async function revoked(browser) {
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
