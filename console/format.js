// Presentation of task fields: labels, and due dates in the user's own
// time zone (the API speaks UTC RFC 3339).

export const STATUS_LABEL = {
  pending: "Pending",
  in_progress: "In progress",
  completed: "Completed",
};
export const PRIORITY_LABEL = { low: "Low", medium: "Medium", high: "High" };

// The one-click step of each status: [next status, button text].
export const NEXT_STATUS = {
  pending: ["in_progress", "Start"],
  in_progress: ["completed", "Complete"],
  completed: ["pending", "Reopen"],
};

const when = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
}

export function formatDue(iso) {
  return when.format(new Date(iso));
}

export function isOverdue(task, now = Date.now()) {
  return !!task.due_date && task.status !== "completed" &&
    Date.parse(task.due_date) < now;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

// An RFC 3339 UTC time as a datetime-local value in the user's zone.
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A datetime-local value (user's zone) as RFC 3339 UTC; null when empty,
// undefined when not a time.
export function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

// A date input's day (user's zone): its start, or the start of the next
// day (so "due until" includes the whole day), as RFC 3339 UTC.
export function dayStart(v, plusDays = 0) {
  const [y, m, d] = v.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}
