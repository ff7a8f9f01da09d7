// The console's entry point: the login/register screen, the task screen,
// and the moves between them (login, logout, a session ended by expiry,
// revocation or another tab).

import { call, callPublic, setSessionEndedHandler, SessionEnded } from "./api.js";
import * as session from "./session.js";
import * as errors from "./errors.js";
import * as list from "./list.js";
import * as editor from "./editor.js";
import { notify, initNotice } from "./notice.js";

const $ = (id) => document.getElementById(id);
const AUTH_FIELDS = {
  username: ["auth-username", "auth-username-error"],
  email: ["auth-email", "auth-email-error"],
  password: ["auth-password", "auth-password-error"],
};

function authField(name) {
  const m = AUTH_FIELDS[name];
  return m ? { input: $(m[0]), out: $(m[1]) } : null;
}

function showAuth(message) {
  $("task-screen").hidden = true;
  $("who").hidden = true;
  $("auth-screen").hidden = false;
  notify(message || "");
  $("auth-username").focus();
}

function showTasks() {
  const s = session.load();
  $("auth-screen").hidden = true;
  $("task-screen").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = s && s.user ? `Signed in as ${s.user.username}` : "";
  list.first();
}

async function authAction(kind) {
  const form = $("auth-form");
  const f = form.elements;
  const buttons = form.querySelectorAll("button");
  errors.clear(form, $("auth-form-error"));
  const creds = { username: f.username.value, password: f.password.value };
  for (const b of buttons) b.disabled = true;
  try {
    if (kind === "register")
      await callPublic("POST", "/auth/register", { ...creds, email: f.email.value });
    const r = await callPublic("POST", "/auth/login", creds);
    session.save(session.fromLogin(r.data));
    f.password.value = "";
    notify(kind === "register" ? "Account created; you are logged in." : "");
    showTasks();
    $("task-title").focus();
  } catch (err) {
    const bad = errors.show(err, form, $("auth-form-error"), authField);
    if (bad) bad.focus();
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

async function logout() {
  const s = session.load();
  let msg = "You have logged out.";
  // The server ends the session too (API v1.1: a login without a
  // refresh token has nothing to end there).
  if (s && s.refresh_token) {
    try {
      await call("POST", "/auth/logout", {
        body: { refresh_token: s.refresh_token },
      });
    } catch (err) {
      if (err instanceof SessionEnded) return;
      msg = "You have logged out here; the server could not be told (" +
          errors.describe(err) + ").";
    }
  }
  session.clear();
  editor.forget();
  showAuth(msg);
}

function init() {
  initNotice();
  setSessionEndedHandler((why) => showAuth(why));
  session.onOtherTab((s) => {
    if (!s && !$("task-screen").hidden) showAuth("You logged out in another tab.");
    else if (s && $("task-screen").hidden) showTasks();
  });
  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    authAction("login");
  });
  $("register").addEventListener("click", () => authAction("register"));
  $("logout").addEventListener("click", logout);
  list.init({ edit: (id) => editor.edit(id) });
  editor.init({ saved: (focus) => list.reload(focus) });
  if (session.load()) showTasks();
  else showAuth();
}

init();
