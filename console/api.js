// The console's HTTP client: same-origin fetch of the taskapi JSON API with
// the session's bearer token, silent refresh (one refresh at a time, shared
// by every caller and, through localStorage, by every tab), and one error
// shape for everything that can go wrong (ApiError, NetworkError,
// SessionEnded).

import * as session from "./session.js";

// An answer of the API other than 2xx/304: its JSON error body, parsed.
export class ApiError extends Error {
  constructor(status, body, headers) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.error = (body && body.error) || "";
    this.details = Array.isArray(body && body.details) ? body.details : [];
    this.retryAfter = parseRetryAfter(headers.get("Retry-After"));
    this.etag = headers.get("ETag");
  }
}

// The request never got an answer (offline, server down, connection cut).
export class NetworkError extends Error {
  constructor() {
    super("The server cannot be reached. Check the connection and try " +
      "again: nothing you typed was lost.");
  }
}

// The session is over (expired, revoked or logged out elsewhere); the
// console has already gone back to the login screen.
export class SessionEnded extends Error {}

function parseRetryAfter(v) {
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

// A key for Idempotency-Key: a retried create is then done once.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

let onEnded = () => {};

// Sets what runs when the session ends (message: why, for the login screen).
export function setSessionEndedHandler(fn) {
  onEnded = fn;
}

async function send(method, path, { body, headers = {}, token, type } = {}) {
  const h = { Accept: "application/json", ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const init = { method, headers: h, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    h["Content-Type"] = type || "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new NetworkError();
  }
  let data = null;
  if (res.status !== 204 && res.status !== 304) {
    const text = await res.text().catch(() => "");
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
  }
  return { status: res.status, ok: res.ok, data, headers: res.headers };
}

let refreshing = null;

// Spends the refresh token once for every concurrent caller. Resolves
// true when a fresh access token is stored, false when the session ended.
function refresh() {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh() {
  const before = session.current();
  // Another tab may have refreshed already: its token is the live one.
  const s = session.load();
  if (!s) return false;
  if (before && s.refresh_token !== before.refresh_token && !session.isStale(s))
    return true;
  if (!s.refresh_token) return false;
  const r = await send("POST", "/auth/refresh", {
    body: { refresh_token: s.refresh_token },
  });
  if (r.ok && r.data && r.data.token) {
    session.save({
      ...s,
      token: r.data.token,
      refresh_token: r.data.refresh_token || s.refresh_token,
      expires_at: Date.now() + 1000 * (r.data.expires_in || 3600),
    });
    return true;
  }
  if (r.status === 429 || r.status >= 500)
    throw new ApiError(r.status, r.data, r.headers);
  return false;
}

function end(reason) {
  session.clear();
  onEnded(reason);
  throw new SessionEnded(reason);
}

// Calls the API as the logged-in user. Resolves {status, data, headers}
// for 2xx and 304; throws ApiError, NetworkError or SessionEnded.
export async function call(method, path, opts = {}) {
  let s = session.load();
  if (!s) end("Please log in.");
  if (session.isStale(s) && s.refresh_token) {
    if (!(await refresh())) end("Your session has expired. Please log in again.");
    s = session.load();
  }
  let r = await send(method, path, { ...opts, token: s.token });
  if (r.status === 401 && s.refresh_token) {
    if (await refresh()) {
      s = session.load();
      r = await send(method, path, { ...opts, token: s.token });
    }
  }
  if (r.status === 401) {
    const why = r.data && r.data.message === "Token has expired"
      ? "Your session has expired. Please log in again."
      : "Your session has ended. Please log in again.";
    end(why);
  }
  if (!r.ok && r.status !== 304) throw new ApiError(r.status, r.data, r.headers);
  return r;
}

// Calls an API route that needs no session (register, login).
export async function callPublic(method, path, body) {
  const r = await send(method, path, { body });
  if (!r.ok) throw new ApiError(r.status, r.data, r.headers);
  return r;
}
