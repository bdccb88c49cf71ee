// The app API, as the page calls it: JSON in and out, errors thrown with the
// server's message so the page can show what to do.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Exported for the page's other modules (conflicts.js) that have their own endpoints.
export async function call(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || "http_" + res.status, e.message || res.statusText);
  }
  return data;
}

export const api = {
  status: () => call("GET", "/api/status"),
  workspaces: () => call("GET", "/api/workspaces"),
  docs: (ws) => call("GET", `/api/workspaces/${encodeURIComponent(ws)}/docs`),
  doc: (id) => call("GET", `/api/docs/${encodeURIComponent(id)}`),
  create: (kind, fields, parent, workspace) => call("POST", "/api/docs", { kind, fields, parent, workspace }),
  set: (id, fields) => call("PATCH", `/api/docs/${encodeURIComponent(id)}`, { fields }),
  remove: (id) => call("DELETE", `/api/docs/${encodeURIComponent(id)}`),
};

// Opens the live channel: `onStatus` hears every status, `onChanged` every
// change of documents. EventSource reconnects by itself after a drop.
export function live(onStatus, onChanged, onLost) {
  const es = new EventSource("/api/events");
  es.addEventListener("status", (e) => {
    try { onStatus(JSON.parse(e.data)); } catch { /* a malformed event is skipped */ }
  });
  es.addEventListener("changed", () => onChanged());
  es.onerror = () => onLost();
  return es;
}
