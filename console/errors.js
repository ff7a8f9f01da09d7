// Shows API errors beside what caused them: a detail naming a field goes
// under that field (aria-invalid, its message in the field's described-by
// paragraph), the rest in the form's alert line. 429 says how long to
// wait; network failures say so.

import { ApiError, NetworkError } from "./api.js";

// The sentence for an error that belongs to no field.
export function describe(err) {
  if (err instanceof NetworkError) return err.message;
  if (err instanceof ApiError) {
    if (err.status === 429) {
      const wait = err.retryAfter != null
        ? `Try again in ${err.retryAfter} second${err.retryAfter === 1 ? "" : "s"}.`
        : "Try again later.";
      return `Too many requests. ${wait}`;
    }
    if (err.status === 503 || err.status === 504)
      return `The service is busy or unavailable (${err.status}). ` +
        (err.retryAfter != null ? `Try again in ${err.retryAfter} s.` : "Try again.");
    return err.message;
  }
  return "Something went wrong: " + (err && err.message ? err.message : err);
}

// Clears every error shown in form (its fields and its alert line).
export function clear(form, alertEl) {
  for (const el of form.querySelectorAll("[aria-invalid]"))
    el.removeAttribute("aria-invalid");
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  if (alertEl) alertEl.textContent = "";
}

// Shows err in form. fieldFor(name) maps a detail's field to
// {input, out} or null. Returns the first invalid input (for focus).
export function show(err, form, alertEl, fieldFor) {
  clear(form, alertEl);
  let first = null;
  const rest = [];
  const details = err instanceof ApiError ? err.details : [];
  for (const d of details) {
    const f = d && d.field ? fieldFor(d.field) : null;
    if (!f) {
      rest.push(d && d.message ? d.message : "");
      continue;
    }
    if (f.input) f.input.setAttribute("aria-invalid", "true");
    f.out.textContent = f.out.textContent
      ? `${f.out.textContent} ${d.message}` : d.message;
    first = first || f.input;
  }
  const main = describe(err);
  const extra = rest.filter(Boolean).join(" ");
  alertEl.textContent = extra ? `${main} ${extra}` : main;
  return first;
}
