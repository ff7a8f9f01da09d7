// The console's one status line (a polite live region) with an optional
// action button beside it, e.g. "Undo" after a delete.

let action = null;
let timer = 0;

// Shows text; act {label, run} adds a button for 15 seconds.
export function notify(text, act) {
  const p = document.getElementById("notice");
  const b = document.getElementById("notice-action");
  p.textContent = text;
  clearTimeout(timer);
  action = act || null;
  b.hidden = !action;
  if (action) {
    b.textContent = action.label;
    timer = setTimeout(() => {
      b.hidden = true;
      action = null;
    }, 15000);
  }
}

export function initNotice() {
  const b = document.getElementById("notice-action");
  b.addEventListener("click", () => {
    const a = action;
    b.hidden = true;
    action = null;
    if (a) a.run();
  });
}
