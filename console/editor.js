// The task editor: creates (POST /tasks with an Idempotency-Key, so a
// retry after a network failure creates once) and edits (PATCH as a JSON
// merge patch of the changed fields, with If-Match: the ETag of the
// version loaded). On 412 it shows the newer version beside the user's and
// lets the user keep theirs or take the newer one. What the user typed is
// kept in sessionStorage until it is saved, across errors and re-logins.

import { call, newKey, ApiError, SessionEnded } from "./api.js";
import * as errors from "./errors.js";
import * as fmt from "./format.js";
import { notify } from "./notice.js";

const DRAFT = "taskapi.draft";
const $ = (id) => document.getElementById(id);
const FIELDS = {
  title: ["task-title", "task-title-error"],
  description: ["task-description", "task-description-error"],
  status: ["task-status", "task-status-error"],
  priority: ["task-priority", "task-priority-error"],
  due_date: ["task-due", "task-due-error"],
};

// editing: {id, etag, base} (base: the version the edit started from).
let editing = null;
let idem = { key: null, body: "" };
let newer = null; // the newer version on a conflict: {task, etag}
let hooks = { saved: () => {} };

function field(name) {
  const m = FIELDS[name];
  return m ? { input: $(m[0]), out: $(m[1]) } : null;
}

function values() {
  const f = $("task-form").elements;
  return {
    title: f.title.value,
    description: f.description.value,
    status: f.status.value,
    priority: f.priority.value,
    due_date: f.due_date.value, // datetime-local, user's zone
  };
}

function fill(v) {
  const f = $("task-form").elements;
  f.title.value = v.title || "";
  f.description.value = v.description || "";
  f.status.value = v.status || "pending";
  f.priority.value = v.priority || "medium";
  f.due_date.value = v.due_date || "";
}

function taskValues(t) {
  return { ...t, description: t.description || "", due_date: fmt.toLocalInput(t.due_date) };
}

function saveDraft() {
  sessionStorage.setItem(DRAFT, JSON.stringify({ editing, values: values() }));
}

function dropDraft() {
  sessionStorage.removeItem(DRAFT);
}

function setMode(e) {
  editing = e;
  $("editor-title").textContent = e ? "Edit task" : "New task";
  $("task-submit").textContent = e ? "Save" : "Add task";
  $("task-cancel").hidden = !e;
}

function reset() {
  setMode(null);
  fill({});
  hideConflict();
  errors.clear($("task-form"), $("task-form-error"));
  dropDraft();
}

// The body of a create; a bad due date is the caller's to report.
function createBody(v) {
  const b = { title: v.title, status: v.status, priority: v.priority };
  if (v.description) b.description = v.description;
  if (v.due_date) b.due_date = fmt.fromLocalInput(v.due_date);
  return b;
}

// The merge patch from base to the form's values: changed fields only;
// an emptied description or due date is null (cleared).
function patchBody(v, base) {
  const b = {};
  const bv = taskValues(base);
  for (const k of ["title", "status", "priority"]) if (v[k] !== bv[k]) b[k] = v[k];
  if (v.description !== bv.description) b.description = v.description || null;
  if (v.due_date !== bv.due_date) b.due_date = fmt.fromLocalInput(v.due_date);
  return b;
}

async function submit(e) {
  if (e) e.preventDefault();
  const form = $("task-form");
  const v = values();
  errors.clear(form, $("task-form-error"));
  if (v.due_date && fmt.fromLocalInput(v.due_date) === undefined) {
    const f = field("due_date");
    f.input.setAttribute("aria-invalid", "true");
    f.out.textContent = "Enter a date and time.";
    f.input.focus();
    return;
  }
  const btn = $("task-submit");
  btn.disabled = true;
  try {
    if (editing) await save(v);
    else await create(v);
  } catch (err) {
    if (err instanceof SessionEnded) return; // the draft waits for the login
    if (err instanceof ApiError && err.status === 412 && editing) {
      await conflict();
      return;
    }
    if (err instanceof ApiError && err.status === 404 && editing) {
      setMode(null);
      saveDraft();
      $("task-form-error").textContent = "This task was deleted elsewhere. " +
        "Your text is still here: Add task creates it again.";
      return;
    }
    const bad = errors.show(err, form, $("task-form-error"), field);
    (bad || $("task-form-error")).focus?.();
  } finally {
    btn.disabled = false;
  }
}

async function create(v) {
  const body = createBody(v);
  const text = JSON.stringify(body);
  // The same body re-sent (after a failure) keeps its key: created once.
  if (idem.body !== text) idem = { key: newKey(), body: text };
  await call("POST", "/tasks", { body, headers: { "Idempotency-Key": idem.key } });
  idem = { key: null, body: "" };
  reset();
  notify(`Added “${body.title}”.`);
  $("task-title").focus();
  await hooks.saved();
}

async function save(v, all = false) {
  const body = all ? fullPatch(v) : patchBody(v, editing.base);
  const id = editing.id;
  if (Object.keys(body).length) {
    await call("PATCH", `/tasks/${id}`, {
      body,
      type: "application/merge-patch+json",
      headers: { "If-Match": editing.etag },
    });
    notify(`Saved “${v.title}”.`);
  } else {
    notify("Nothing changed.");
  }
  reset();
  await hooks.saved([id, "edit"]);
}

// Every field of the form: the user's version wins whole.
function fullPatch(v) {
  return {
    title: v.title,
    description: v.description || null,
    status: v.status,
    priority: v.priority,
    due_date: fmt.fromLocalInput(v.due_date),
  };
}

function describeTask(dl, v) {
  const rows = [
    ["Title", v.title],
    ["Description", v.description || "—"],
    ["Status", fmt.STATUS_LABEL[v.status] || v.status],
    ["Priority", fmt.PRIORITY_LABEL[v.priority] || v.priority],
    ["Due", v.due_date ? fmt.formatDue(fmt.fromLocalInput(v.due_date)) : "—"],
  ];
  dl.replaceChildren(...rows.flatMap(([k, val]) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = val;
    return [dt, dd];
  }));
}

// A 412: fetch the newer version and show it beside the user's.
async function conflict() {
  try {
    const r = await call("GET", `/tasks/${editing.id}`);
    newer = { task: r.data.task, etag: r.headers.get("ETag") };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      setMode(null);
      $("task-form-error").textContent = "This task was deleted elsewhere. " +
        "Your text is still here: Add task creates it again.";
    } else if (!(err instanceof SessionEnded)) {
      $("task-form-error").textContent = errors.describe(err);
    }
    return;
  }
  describeTask($("conflict-theirs"), taskValues(newer.task));
  describeTask($("conflict-mine"), values());
  $("conflict").hidden = false;
  $("task-submit").disabled = true;
  $("conflict").focus();
}

function hideConflict() {
  newer = null;
  $("conflict").hidden = true;
  $("task-submit").disabled = false;
}

async function keepMine() {
  editing = { ...editing, etag: newer.etag, base: newer.task };
  hideConflict();
  try {
    await save(values(), true);
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) await conflict();
    else if (!(err instanceof SessionEnded))
      errors.show(err, $("task-form"), $("task-form-error"), field);
  }
}

function takeTheirs() {
  editing = { ...editing, etag: newer.etag, base: newer.task };
  fill(taskValues(newer.task));
  hideConflict();
  saveDraft();
  notify("Loaded the newer version; your changes were set aside.");
  $("task-title").focus();
}

// Opens task id in the editor, with the ETag of the version loaded.
export async function edit(id) {
  try {
    const r = await call("GET", `/tasks/${id}`);
    hideConflict();
    errors.clear($("task-form"), $("task-form-error"));
    setMode({ id, etag: r.headers.get("ETag"), base: r.data.task });
    fill(taskValues(r.data.task));
    saveDraft();
    $("task-title").focus();
  } catch (err) {
    if (!(err instanceof SessionEnded)) notify(errors.describe(err));
  }
}

// Puts back what the user was writing before a reload or a re-login.
function restore() {
  let d = null;
  try {
    d = JSON.parse(sessionStorage.getItem(DRAFT) || "null");
  } catch {
    d = null;
  }
  if (!d || !d.values) return;
  setMode(d.editing && d.editing.id ? d.editing : null);
  fill(d.values);
}

export function init({ saved }) {
  hooks.saved = saved;
  $("task-due-hint").textContent = `In your time zone (${fmt.timeZone()}).`;
  $("task-form").addEventListener("submit", submit);
  $("task-form").addEventListener("input", saveDraft);
  $("task-form").addEventListener("change", saveDraft);
  $("task-cancel").addEventListener("click", () => {
    const id = editing && editing.id;
    reset();
    const b = document.querySelector(`li[data-id="${id}"] .edit`);
    (b || $("task-title")).focus();
  });
  $("keep-mine").addEventListener("click", keepMine);
  $("take-theirs").addEventListener("click", takeTheirs);
  restore();
}

// Forgets the draft (logout: the next user must not see it).
export function forget() {
  reset();
}
