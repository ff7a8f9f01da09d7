// The task list: filters (status, priority, due range), search and sort as
// GET /tasks parameters, pages through next_cursor (a stack of cursors for
// "Previous page"), a count per status, and each task's one-click status
// change and delete with undo.

import { call, ApiError, SessionEnded } from "./api.js";
import * as errors from "./errors.js";
import * as fmt from "./format.js";
import { notify } from "./notice.js";

const PAGE_SIZE = 10;
// Counting walks whole pages; this many at most (100,000 tasks).
const COUNT_PAGE = 1000;
const COUNT_PAGES_MAX = 100;
const DEFAULT_SORT = "-created_at";

const $ = (id) => document.getElementById(id);
let cursors = [null]; // cursors[i]: the cursor of page i
let page = 0;
let generation = 0; // a newer load makes older answers stale
let countGeneration = 0;
let hooks = { edit: () => {} };

// The list's GET /tasks parameters from the filter form.
function query(withStatus) {
  const f = $("filters");
  const p = new URLSearchParams();
  const q = f.elements.q.value.trim();
  if (q) p.set("q", q);
  const pick = (name) =>
    [...f.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  const st = pick("status");
  if (withStatus && st.length) p.set("status", st.join(","));
  const pr = pick("priority");
  if (pr.length) p.set("priority", pr.join(","));
  if (f.elements.due_after.value)
    p.set("due_after", fmt.dayStart(f.elements.due_after.value));
  if (f.elements.due_before.value)
    p.set("due_before", fmt.dayStart(f.elements.due_before.value, 1));
  const sort = f.elements.sort.value;
  if (sort && sort !== DEFAULT_SORT) p.set("sort", sort);
  return p;
}

// Where a GET /tasks error naming a parameter is shown.
function filterField(name) {
  const map = {
    q: ["f-q", "f-q-error"],
    status: ["f-status", "f-status-error"],
    priority: ["f-priority", "f-priority-error"],
    due_after: ["f-due-after", "f-due-after-error"],
    due_before: ["f-due-before", "f-due-before-error"],
    sort: ["f-sort", "f-sort-error"],
  };
  const m = map[name];
  return m ? { input: $(m[0]), out: $(m[1]) } : null;
}

function showError(err) {
  if (err instanceof SessionEnded) return;
  errors.show(err, $("filters"), $("filters-error"), filterField);
}

function render(tasks, hasNext) {
  const ul = $("task-list");
  ul.replaceChildren(...tasks.map(item));
  const n = tasks.length;
  $("list-summary").textContent = n
    ? `Showing ${n} task${n === 1 ? "" : "s"} on page ${page + 1}.`
    : page ? "No more tasks." : "No tasks match.";
  $("prev-page").disabled = page === 0;
  $("next-page").disabled = !hasNext;
  $("page-label").textContent = `Page ${page + 1}`;
}

function item(t) {
  const li = $("task-item").content.firstElementChild.cloneNode(true);
  const titleId = `task-${t.id}-title`;
  li.dataset.id = t.id;
  const h = li.querySelector(".task-title");
  h.id = titleId;
  h.textContent = t.title;
  const st = li.querySelector(".status");
  st.textContent = fmt.STATUS_LABEL[t.status] || t.status;
  st.dataset.status = t.status;
  const pr = li.querySelector(".priority");
  pr.textContent = `${fmt.PRIORITY_LABEL[t.priority] || t.priority} priority`;
  pr.dataset.priority = t.priority;
  li.querySelector(".task-desc").textContent = t.description || "";
  li.querySelector(".task-desc").hidden = !t.description;
  const due = li.querySelector(".task-due");
  due.textContent = t.due_date ? `Due ${fmt.formatDue(t.due_date)}` : "No due date";
  if (fmt.isOverdue(t)) {
    li.classList.add("is-overdue");
    li.querySelector(".overdue").hidden = false;
  }
  const err = li.querySelector(".task-error");
  err.id = `task-${t.id}-error`;
  const [next, verb] = fmt.NEXT_STATUS[t.status] || ["pending", "Reopen"];
  const adv = li.querySelector(".advance");
  adv.textContent = verb;
  for (const b of li.querySelectorAll("button"))
    b.setAttribute("aria-describedby", `${titleId} ${err.id}`);
  adv.addEventListener("click", () => advance(t, next, li));
  li.querySelector(".edit").addEventListener("click", () => hooks.edit(t.id));
  li.querySelector(".delete").addEventListener("click", () => remove(t, li));
  return li;
}

// Loads the current page. keepFocus: a task id whose button to refocus.
export async function reload(keepFocus) {
  const g = ++generation;
  const p = query(true);
  p.set("limit", String(PAGE_SIZE));
  if (cursors[page]) p.set("cursor", cursors[page]);
  try {
    const r = await call("GET", `/tasks?${p}`);
    if (g !== generation) return;
    errors.clear($("filters"), $("filters-error"));
    const next = r.data.next_cursor || null;
    cursors[page + 1] = next;
    render(r.data.tasks || [], !!next);
    if (keepFocus) refocus(keepFocus);
  } catch (err) {
    if (g !== generation || err instanceof SessionEnded) return;
    // A cursor of another list (filters changed, key rotated): start over.
    if (err instanceof ApiError && err.status === 400 && page &&
        err.details.some((d) => d.field === "cursor")) {
      first();
      return;
    }
    showError(err);
  }
  counts();
}

function refocus([id, cls]) {
  const li = $("task-list").querySelector(`li[data-id="${id}"]`);
  const b = li && li.querySelector(`.${cls}`);
  (b || $("tasks-title")).focus();
}

// Back to page 1 (filters changed).
export function first() {
  cursors = [null];
  page = 0;
  return reload();
}

// The count per status of the tasks that match every filter but status:
// count is per page, so walk every page of the list without a status
// filter and tally (one walk for the three counts).
async function counts() {
  const g = ++countGeneration;
  const tally = { pending: 0, in_progress: 0, completed: 0 };
  const p = query(false);
  p.set("limit", String(COUNT_PAGE));
  let cursor = null;
  try {
    for (let i = 0; i < COUNT_PAGES_MAX; i++) {
      if (cursor) p.set("cursor", cursor);
      const r = await call("GET", `/tasks?${p}`);
      if (g !== countGeneration) return;
      for (const t of r.data.tasks || []) if (t.status in tally) tally[t.status]++;
      cursor = r.data.next_cursor;
      if (!cursor) break;
    }
  } catch {
    return; // the list shows the error; the counts keep their last values
  }
  for (const [k, n] of Object.entries(tally)) {
    const el = document.querySelector(`[data-count="${k}"]`);
    if (el) el.textContent = `(${n})`;
  }
}

async function advance(t, next, li) {
  const out = li.querySelector(".task-error");
  out.textContent = "";
  try {
    await call("PATCH", `/tasks/${t.id}`, {
      body: { status: next },
      type: "application/merge-patch+json",
    });
    notify(`“${t.title}” is now ${fmt.STATUS_LABEL[next].toLowerCase()}.`);
    await reload([t.id, "advance"]);
  } catch (err) {
    if (!(err instanceof SessionEnded)) out.textContent = errors.describe(err);
  }
}

async function remove(t, li) {
  const out = li.querySelector(".task-error");
  out.textContent = "";
  try {
    await call("DELETE", `/tasks/${t.id}`);
  } catch (err) {
    if (!(err instanceof SessionEnded)) out.textContent = errors.describe(err);
    return;
  }
  notify(`Deleted “${t.title}”.`, { label: "Undo", run: () => undo(t) });
  await reload();
}

// Creates the deleted task again (a new id) with every field it had.
async function undo(t) {
  const body = { title: t.title, status: t.status, priority: t.priority };
  if (t.description) body.description = t.description;
  if (t.due_date) body.due_date = t.due_date;
  try {
    await call("POST", "/tasks", { body });
    notify(`Restored “${t.title}”.`);
    await reload();
  } catch (err) {
    if (!(err instanceof SessionEnded)) notify(errors.describe(err));
  }
}

let searchTimer = 0;

// Wires the filter form and the pager; onEdit(id) opens a task's editor.
export function init({ edit }) {
  hooks.edit = edit;
  const f = $("filters");
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    first();
  });
  f.addEventListener("change", (e) => {
    if (e.target.name !== "q") first();
  });
  f.elements.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(first, 300);
  });
  $("next-page").addEventListener("click", () => {
    if (!cursors[page + 1]) return;
    page++;
    reload().then(() => $("tasks-title").focus());
  });
  $("prev-page").addEventListener("click", () => {
    if (!page) return;
    page--;
    reload().then(() => $("tasks-title").focus());
  });
}
