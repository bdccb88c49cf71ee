// The response pane under the request editor: what one Send brought back
// (POST /api/docs/{id}/send, send_api.rs): the status in colour and words,
// the time with where it went (on hover or keyboard focus), the size, tabs
// for the body (indented JSON, XML and HTML, or as it came), headers,
// cookies, tests and the scripts' console, every warning in view, and Save
// as example. Values are set with textContent only.

import { call } from "./api.js";
import { el } from "./page_dom.js";
import { bodyBox, prettyHtml } from "./response_view.js";
import { nameDialog, confirmDialog } from "./workspaces.js";

// What the web version says wherever it would send: the server never sends
// a request a page asks for (that would let any page reach the server's own
// network).
export const WEB_NOTE = "Sending happens on your device: open the desktop app (apisync app), or use apisync send in a terminal.";

export const sendApi = {
  send: (id, options = {}) => call("POST", `/api/docs/${encodeURIComponent(id)}/send`, options),
  saveExample: (history, name) => call("POST", `/api/history/${encodeURIComponent(history)}/save-response`, { name }),
  cookies: () => call("GET", "/api/cookies"),
  clearCookies: (domain) => call("DELETE", `/api/cookies${domain ? `?domain=${encodeURIComponent(domain)}` : ""}`),
};

// "1.2 KB": a size as a person reads it (bytes, as the server counted them).
export function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// The status's family, for its colour; the words say it too.
export function statusClass(code) {
  if (code >= 500) return "st-5xx";
  if (code >= 400) return "st-4xx";
  if (code >= 300) return "st-3xx";
  if (code >= 200) return "st-2xx";
  return "st-1xx";
}

const TIMING_NAMES = { dns: "DNS lookup", connect: "Connect", tls: "TLS handshake", first_byte: "Waiting (first byte)", download: "Download", total: "Total" };

function ms(v) {
  return `${Number(v).toFixed(v < 10 ? 1 : 0)} ms`;
}

// ARIA tabs (arrow keys, Home, End), one tab stop; `panels` is [[key, label, node]].
function tabs(prefix, panels, label) {
  const list = el("div", { class: "sp-tabs", role: "tablist", "aria-label": label });
  const buttons = [];
  const boxes = [];
  const show = (i, focus) => {
    buttons.forEach((b, j) => { b.setAttribute("aria-selected", String(i === j)); b.tabIndex = i === j ? 0 : -1; boxes[j].hidden = i !== j; });
    if (focus) buttons[i].focus();
  };
  panels.forEach(([key, text, node], i) => {
    const b = el("button", { type: "button", role: "tab", id: `${prefix}-tab-${key}`, "aria-controls": `${prefix}-panel-${key}`, class: "sp-tab", text });
    b.addEventListener("click", () => show(i, false));
    b.addEventListener("keydown", (e) => {
      const n = panels.length;
      const j = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
      if (j === undefined) return;
      e.preventDefault();
      show(j, true);
    });
    buttons.push(b);
    list.append(b);
    boxes.push(el("div", { role: "tabpanel", id: `${prefix}-panel-${key}`, "aria-labelledby": b.id, class: "sp-panel", tabIndex: 0 }, node));
  });
  show(0, false);
  return [list, ...boxes];
}

function table(label, columns, rows) {
  return el("table", { class: "sp-table", "aria-label": label },
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { text: String(c ?? "") }))))));
}

function cookieRows(list) {
  return list.map((c) => [c.name, c.value, c.domain, c.path, c.expires || "session", [c.secure && "Secure", c.http_only && "HttpOnly"].filter(Boolean).join(", ")]);
}

const COOKIE_COLUMNS = ["Name", "Value", "Domain", "Path", "Expires", "Flags"];

// The Manage cookies dialog: the device's whole jar, cleared per domain or all.
export async function manageCookies(showError) {
  const d = el("dialog", { class: "small-dialog sp-cookies-dialog", "aria-labelledby": "sp-cookies-title" });
  const body = el("div", { class: "sp-cookies-list" });
  const close = el("button", { type: "button", text: "Close" });
  close.addEventListener("click", () => d.close());
  d.append(el("h2", { id: "sp-cookies-title", text: "Cookies on this device" }),
    el("p", { class: "note", text: "Servers set these; every send and run from this device carries them, as Postman's jar does (`apisync cookies`)." }),
    body, el("div", { class: "dlg-actions" }, close));
  const draw = async () => {
    let list = [];
    try { list = (await sendApi.cookies()).cookies || []; } catch (e) { showError(e); }
    if (!list.length) { body.replaceChildren(el("p", { text: "No cookies." })); return; }
    const domains = [...new Set(list.map((c) => c.domain))];
    const clearAll = el("button", { type: "button", class: "danger", text: "Clear all cookies" });
    clearAll.addEventListener("click", async () => {
      if (!(await confirmDialog("Clear all cookies?", `${list.length} cookie(s) of ${domains.length} domain(s) go from this device.`, "Clear all"))) return;
      try { await sendApi.clearCookies(); } catch (e) { showError(e); }
      await draw();
      close.focus();
    });
    const perDomain = domains.map((dom) => {
      const b = el("button", { type: "button", text: `Clear ${dom}` });
      b.addEventListener("click", async () => {
        try { await sendApi.clearCookies(dom); } catch (e) { showError(e); }
        await draw();
        close.focus();
      });
      return b;
    });
    body.replaceChildren(table("All cookies", COOKIE_COLUMNS, cookieRows(list)), el("div", { class: "sp-cookie-actions" }, ...perDomain, clearAll));
  };
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  await draw();
  d.showModal();
  close.focus();
}

// The warnings of one send, each in words, none hidden.
function warningItems(o) {
  const items = [];
  // The sender's own warnings name unresolved variables already; this line says what to do when they do not.
  const named = (n) => (o.warnings || []).some((w) => w.includes(`{{${n}}}`));
  if (o.unresolved && o.unresolved.length && !o.unresolved.every(named)) {
    items.push(`Nothing defines ${o.unresolved.map((n) => `{{${n}}}`).join(", ")}: sent as written (set them in the environment, globals or collection variables).`);
  }
  for (const w of o.warnings || []) items.push(w);
  for (const u of o.unsupported || []) items.push(`Not supported by apisync, used by a script: ${u}`);
  for (const s of o.script_errors || []) items.push(`Script error: ${s}`);
  if (o.body_kept_on_device_only) items.push("The body is kept on this device only (large or not text): the synced history entry says so.");
  return items;
}

function bodyPanel(r, historyId) {
  const box = el("div", { class: "sp-body" });
  if (r.body === null || r.body === undefined) {
    box.append(el("p", { class: "note", text: r.body_note || "No body." }));
    return box;
  }
  if (!r.body) { box.append(el("p", { class: "note", text: "The response has no body." })); return box; }
  const pretty = r.pretty || (r.language === "html" && !r.body_note ? prettyHtml(r.body) : null);
  const area = el("div");
  let mode = pretty ? "pretty" : "raw";
  const modes = el("div", { class: "sp-modes", role: "group", "aria-label": "Body view" });
  const draw = () => {
    const [note, pre, more] = bodyBox(mode === "pretty" ? pretty : r.body, `sp-body-${historyId}`, `Response body (${mode === "pretty" ? "pretty" : "raw"} ${r.language})`);
    area.replaceChildren(note, pre, more);
    for (const b of modes.children) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  };
  if (pretty) {
    for (const [m, text] of [["pretty", "Pretty"], ["raw", "Raw"]]) {
      const b = el("button", { type: "button", class: "sp-mode", text, dataset: { mode: m } });
      b.addEventListener("click", () => { mode = m; draw(); });
      modes.append(b);
    }
    box.append(modes);
  }
  box.append(el("span", { class: "note sp-lang", text: `Language: ${r.language}` }));
  if (r.body_note) box.append(el("p", { class: "note sp-cut", text: r.body_note }));
  box.append(area);
  draw();
  return box;
}

function testsPanel(o) {
  const tests = o.tests || [];
  const errors = o.script_errors || [];
  if (!tests.length && !errors.length) return el("p", { class: "note", text: "No tests ran (the request's test script sets none)." });
  const passed = tests.filter((t) => t.passed && !t.skipped).length;
  const failed = tests.filter((t) => !t.passed).length;
  const list = el("ul", { class: "sp-tests", "aria-label": "Test results" },
    ...tests.map((t) => el("li", { class: t.skipped ? "t-skip" : t.passed ? "t-pass" : "t-fail" },
      el("span", { class: "t-mark", text: t.skipped ? "Skipped" : t.passed ? "Passed" : "Failed" }),
      el("span", { class: "t-name", text: t.name }),
      t.error ? el("span", { class: "t-error", text: t.error }) : null)),
    ...errors.map((s) => el("li", { class: "t-fail" }, el("span", { class: "t-mark", text: "Error" }), el("span", { class: "t-name", text: s }))));
  return el("div", {}, el("p", { class: "sp-test-summary", text: `${passed} passed, ${failed} failed of ${tests.length}` }), list);
}

function consolePanel(o) {
  const lines = o.console || [];
  if (!lines.length) return el("p", { class: "note", text: "The scripts logged nothing." });
  return el("pre", { class: "resp-body sp-console", tabindex: "0", "aria-label": "Console output" },
    lines.map((c) => `${c.level === "log" ? "" : `[${c.level}] `}${c.text}`).join("\n"));
}

// Shows "Sending…" in `pane`.
export function renderSending(pane) {
  pane.setAttribute("aria-busy", "true");
  pane.replaceChildren(el("h2", { id: "sp-title", class: "sp-title", text: "Response" }), el("p", { class: "sp-waiting", role: "status", text: "Sending…" }));
}

// Shows a send that brought no answer: the sender's words, which say what to do.
export function renderSendError(pane, e) {
  pane.removeAttribute("aria-busy");
  pane.replaceChildren(el("h2", { id: "sp-title", class: "sp-title", text: "Response" }),
    el("p", { class: "sp-failed", role: "alert" }, el("strong", { text: "Could not send: " }), el("span", { text: String(e && e.message || e) })));
}

// Shows outcome `o` in `pane`; `note` is said above it (e.g. that edits were saved first).
export function renderOutcome(pane, o, { note, showError }) {
  pane.removeAttribute("aria-busy");
  const r = o.response;
  const timings = Object.entries(r.timings || {}).map(([k, v]) => el("li", {}, el("span", { text: TIMING_NAMES[k] || k }), el("span", { text: ms(v) })));
  const time = el("span", { class: "sp-time", tabindex: "0", "aria-describedby": "sp-timings" },
    el("span", { class: "sp-key", text: "Time " }), el("span", { text: ms(r.time_ms) }),
    el("div", { id: "sp-timings", class: "sp-timings", role: "tooltip" },
      timings.length ? el("ul", {}, ...timings) : el("span", { text: "No breakdown measured." })));
  const save = el("button", { type: "button", class: "sp-save-example", text: "Save as example" });
  const saved = el("span", { class: "sp-saved", role: "status" });
  if (!o.can_save_example) {
    save.disabled = true;
    save.title = "Only a text body of at most 512 KiB can be saved as an example";
  }
  save.addEventListener("click", async () => {
    const name = await nameDialog("Save as example", `${r.code} ${r.status}`.trim(), "Save");
    save.focus();
    if (!name) return;
    try {
      await sendApi.saveExample(o.history_id, name);
      saved.textContent = `Saved as example “${name}”`;
    } catch (e) { showError(e); }
  });
  const head = el("div", { class: "sp-head" },
    el("span", { class: `sp-status ${statusClass(r.code)}`, text: `${r.code} ${r.status}` }),
    time,
    el("span", { class: "sp-size" }, el("span", { class: "sp-key", text: "Size " }), el("span", { text: size(r.size) })),
    el("span", { class: "sp-version note", text: r.http_version }),
    el("span", { class: "ed-spacer" }), saved, save);
  const warnings = warningItems(o);
  const cookies = o.cookies || [];
  const manage = el("button", { type: "button", class: "sp-manage", text: "Manage cookies" });
  manage.addEventListener("click", () => manageCookies(showError).then(() => manage.focus()));
  const tests = o.tests || [];
  const passed = tests.filter((t) => t.passed).length;
  const panels = [
    ["body", "Body", bodyPanel(r, o.history_id)],
    ["headers", `Headers (${r.headers.length})`, table("Response headers", ["Header", "Value"], r.headers.map((h) => [h.key, h.value]))],
    ["cookies", `Cookies (${cookies.length})`, el("div", {},
      cookies.length ? table("Cookies for this host", COOKIE_COLUMNS, cookieRows(cookies)) : el("p", { class: "note", text: "No cookies for this host." }), manage)],
    ["tests", tests.length ? `Tests (${passed}/${tests.length} passed)` : "Tests", testsPanel(o)],
    ["console", `Console (${(o.console || []).length})`, consolePanel(o)],
  ];
  pane.replaceChildren(...[
    el("h2", { id: "sp-title", class: "sp-title", text: "Response" }),
    note ? el("p", { class: "note sp-note", text: note }) : null,
    head,
    warnings.length ? el("ul", { class: "sp-warnings", "aria-label": "Warnings" }, ...warnings.map((w) => el("li", { text: w }))) : null,
    ...tabs("sp", panels, "Response parts"),
    el("p", { class: "note sp-history", text: `${o.environment ? `Environment: ${o.environment}. ` : "No environment. "}Kept in History.` }),
  ].filter(Boolean));
}
