// The session as the browser keeps it: the access token, the refresh token,
// when the access token expires and the user, in localStorage (so a reload
// or a second tab stays logged in). Nothing else of the user's is stored
// there; a draft of the task being written lives in sessionStorage
// (drafts.js).

const KEY = "taskapi.session";
// Refresh this long before the access token expires.
const MARGIN_MS = 30 * 1000;

let last = null;

export function load() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null");
    last = s && typeof s.token === "string" ? s : null;
  } catch {
    last = null;
  }
  return last;
}

// The session as last loaded or saved in this tab.
export function current() {
  return last;
}

export function save(s) {
  last = s;
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function clear() {
  last = null;
  localStorage.removeItem(KEY);
}

// Whether the access token is about to expire (or has).
export function isStale(s) {
  return !s.expires_at || s.expires_at - Date.now() < MARGIN_MS;
}

// The session of a login answer (API v1.0 answers lack refresh_token and
// expires_in: the token then lives its default hour and is not refreshed).
export function fromLogin(data) {
  return {
    token: data.token,
    refresh_token: data.refresh_token || null,
    expires_at: Date.now() + 1000 * (data.expires_in || 3600),
    user: data.user,
  };
}

// Runs fn(session or null) when another tab logs in, refreshes or out.
export function onOtherTab(fn) {
  addEventListener("storage", (e) => {
    if (e.key === KEY || e.key === null) fn(load());
  });
}
