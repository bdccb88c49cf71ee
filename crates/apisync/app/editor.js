// The request editor: method, URL with a params table kept in step with it,
// headers, body in each Postman mode, auth, pre-request and test scripts,
// description. Fields stay in Postman v2.1 shape (the shape the importer
// stores and `apisync show` prints); the editor only ever rewrites the keys
// it shows, so anything else in a field (a body mode's data while another
// mode is chosen, an unknown auth type, a script's id) is kept as it came.
//
// Two copies of the fields: `base` (as last read from the profile) and
// `draft` (what the person sees). A field is edited when the two differ; Save
// sends ONE PATCH with just those. When the document changes elsewhere (the
// CLI, another device), a field the person has not touched takes the new
// value; a touched one keeps theirs on screen and gets a notice with the
// other value and "Keep mine" / "Take theirs", so nothing is lost silently.
// Every value reaches the page through textContent or an input's value.

import { api } from "./api.js";
import { sendApi, renderSending, renderOutcome, renderSendError, WEB_NOTE } from "./send_pane.js";

// The fields the editor shows and may send, in the order a save names them.
const FIELDS = ["name", "method", "url", "header", "body", "auth", "event", "description"];
const FIELD_LABEL = {
  name: "Name", method: "Method", url: "URL", header: "Headers", body: "Body",
  auth: "Authorization", event: "Scripts", description: "Description",
};
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const LANGUAGES = [["text", "Text"], ["json", "JSON"], ["javascript", "JavaScript"], ["html", "HTML"], ["xml", "XML"]];
const MODES = [["none", "none"], ["raw", "raw"], ["urlencoded", "x-www-form-urlencoded"], ["formdata", "form-data"], ["file", "binary"], ["graphql", "GraphQL"]];
const AUTH_TYPES = [
  ["inherit", "Inherit auth from parent"], ["noauth", "No auth"], ["basic", "Basic auth"],
  ["bearer", "Bearer token"], ["apikey", "API key"], ["digest", "Digest auth"], ["oauth1", "OAuth 1.0"],
  ["oauth2", "OAuth 2.0"], ["hawk", "Hawk"], ["awsv4", "AWS Signature"], ["ntlm", "NTLM"],
  ["akamai", "Akamai EdgeGrid"], ["edgegrid", "EdgeGrid"], ["jwt", "JWT bearer"], ["asap", "ASAP (Atlassian)"],
];

let current = null; // the open editor, if any

// ---- small helpers ----------------------------------------------------------

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("aria-") || k === "role" || k.startsWith("data-") || k === "for" || k === "list") e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

// A label wrapping its control, so every input has a visible name.
function labelled(text, control, cls = "ed-field") {
  return el("label", { class: cls }, el("span", { class: "ed-label", text }), control);
}

// Key order does not matter to the store (it may hand keys back sorted), and
// an absent field equals null; so values are compared in a canonical form.
function canon(v) {
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v && typeof v === "object") return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  return JSON.stringify(v === undefined ? null : v);
}
const same = (a, b) => canon(a) === canon(b);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const text = (v) => (v == null ? "" : typeof v === "string" ? v : JSON.stringify(v));
const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);

// A value for a notice: the URL's text, a string as is, anything else as JSON.
function shown(field, v) {
  if (v == null) return "(none)";
  const s = field === "url" ? urlRaw(v) : field === "description" && isObj(v) ? text(v.content) : text(v);
  return s.length > 300 ? s.slice(0, 299) + "…" : s;
}

// ---- URL and params ---------------------------------------------------------

function urlRaw(u) {
  if (typeof u === "string") return u;
  if (!isObj(u)) return "";
  if (typeof u.raw === "string") return u.raw;
  // An object without `raw` (hand-written files): rebuild the text from its parts.
  const host = Array.isArray(u.host) ? u.host.join(".") : text(u.host);
  const path = Array.isArray(u.path) ? u.path.map(text).join("/") : text(u.path);
  const q = Array.isArray(u.query) ? u.query.filter((p) => !p.disabled).map(param).join("&") : "";
  return (u.protocol ? u.protocol + "://" : "") + host + (u.port ? ":" + u.port : "") + (path ? "/" + path.replace(/^\//, "") : "") + (q ? "?" + q : "");
}

const param = (p) => (p.value == null ? text(p.key) : text(p.key) + "=" + text(p.value));

// Splits a URL's text into what comes before the query, the query, and the hash.
function splitUrl(raw) {
  const h = raw.indexOf("#");
  const hash = h >= 0 ? raw.slice(h) : "";
  const rest = h >= 0 ? raw.slice(0, h) : raw;
  const q = rest.indexOf("?");
  return q >= 0 ? { head: rest.slice(0, q), query: rest.slice(q + 1), hash } : { head: rest, query: null, hash };
}

// The query as Postman keeps it: text as typed (no decoding), `value` null
// for a bare key, so the URL can be written back exactly.
function parseQuery(raw) {
  const { query } = splitUrl(raw);
  if (query === null) return [];
  return query.split("&").filter((s) => s !== "").map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? { key: p, value: null } : { key: p.slice(0, i), value: p.slice(i + 1) };
  });
}

function paramsOf(u) {
  if (isObj(u) && Array.isArray(u.query)) return u.query.filter(isObj);
  return parseQuery(urlRaw(u));
}

// The URL's text with the enabled params as its query; rows with neither key
// nor value (a row just added) are left out until something is typed.
function withQuery(raw, params) {
  const { head, hash } = splitUrl(raw);
  const qs = params.filter((p) => !p.disabled && (text(p.key) !== "" || text(p.value) !== "")).map(param).join("&");
  return head + (qs ? "?" + qs : "") + hash;
}

// The params after the URL's text changed: the enabled rows follow the text
// in order; disabled rows (not in the text) stay where they were.
function mergeParams(old, parsed) {
  const out = [];
  let i = 0;
  for (const p of old) {
    if (p.disabled) { out.push(p); continue; }
    if (i < parsed.length) out.push({ ...p, key: parsed[i].key, value: parsed[i].value });
    i += 1;
  }
  while (i < parsed.length) out.push(parsed[i++]);
  return out;
}

// ---- path variables -------------------------------------------------------------

// The names of the URL's path variables, in order, each once: a whole path
// segment `:name`, as Postman reads them (the scheme's and port's colons are
// not in a segment of the path).
function pathNames(raw) {
  const { head } = splitUrl(raw);
  const m = head.match(/^(?:[A-Za-z][\w+.-]*:\/\/)?[^/]*(.*)$/);
  const names = [];
  for (const seg of (m ? m[1] : "").split("/")) {
    if (seg.length > 1 && seg.startsWith(":") && !names.includes(seg.slice(1))) names.push(seg.slice(1));
  }
  return names;
}

// The variable rows for `names`: each keeps its stored row (value,
// description, any other key); a name not stored takes the row of a stored
// name that left the URL at the same place (a renamed segment keeps its value),
// else a blank row. Rows whose name is no longer in the URL go, as in Postman.
function mergeVars(stored, names) {
  const gone = stored.filter((v) => !names.includes(v.key));
  return names.map((name, i) => {
    const kept = stored.find((v) => v.key === name);
    if (kept) return kept;
    const renamed = gone.find((v) => stored.indexOf(v) === i);
    return renamed ? { ...renamed, key: name } : { key: name, value: "" };
  });
}

// The path variables of a URL as shown: its stored `variable` rows in step
// with the `:name` segments of its text.
function varsOf(u) {
  const stored = isObj(u) && Array.isArray(u.variable) ? u.variable.filter(isObj) : [];
  return mergeVars(stored, pathNames(urlRaw(u)));
}

// A description as text; v2.1 also allows `{content, type}`.
const descText = (d) => (isObj(d) ? text(d.content) : text(d));

// The URL in Postman v2.1 object shape, keeping the old object's other keys
// (descriptions of params), with `vars` as its `variable`.
function urlObject(raw, params, old, vars) {
  const o = isObj(old) ? { ...old } : {};
  for (const k of ["raw", "protocol", "host", "port", "path", "query", "hash", "variable"]) delete o[k];
  o.raw = raw;
  const { head, hash } = splitUrl(raw);
  const m = head.match(/^(?:([A-Za-z][\w+.-]*):\/\/)?([^/]*)(.*)$/);
  if (m) {
    if (m[1]) o.protocol = m[1];
    let host = m[2];
    const port = host.match(/:(\d+|\{\{[^}]*\}\})$/);
    if (port) { o.port = port[1]; host = host.slice(0, -port[0].length); }
    if (host) o.host = host.split(".");
    if (m[3]) o.path = m[3].replace(/^\//, "").split("/");
  }
  if (params.length) o.query = params;
  if (hash.length > 1) o.hash = hash.slice(1);
  if (vars.length) o.variable = vars;
  return o;
}

// ---- tables -----------------------------------------------------------------

// A key/value table over `rows` (edited in place): an enabled checkbox
// (Postman's `disabled`), a column per `columns` entry, a Remove button per
// row and an Add button. `onChange(structural)` runs after every edit.
function kvTable({ label, rows, columns, onChange, blank = () => ({ key: "", value: "" }) }) {
  const wrap = el("div", { class: "ed-table-wrap" });
  const noun = label.toLowerCase();
  const build = (focusLast) => {
    const head = el("tr", {}, el("th", { class: "ed-on", text: "On" }), ...columns.map((c) => el("th", { text: c.label })), el("th", { class: "ed-x" }, el("span", { class: "ed-sr", text: "Remove" })));
    const body = el("tbody");
    rows.forEach((row, i) => {
      const n = i + 1;
      const on = el("input", { type: "checkbox", checked: !row.disabled, "aria-label": `${label} ${n} enabled` });
      on.addEventListener("change", () => {
        if (on.checked) delete row.disabled; else row.disabled = true;
        onChange(false);
      });
      const cells = columns.map((c) => {
        let input;
        if (c.options) {
          input = el("select", { "aria-label": `${label} ${n} ${c.label.toLowerCase()}` }, ...c.options.map(([v, t]) => el("option", { value: v, text: t })));
          input.value = c.get ? c.get(row) : text(row[c.key]);
          input.addEventListener("change", () => { c.set(row, input.value); onChange(false); build(false); });
        } else {
          input = el("input", { type: "text", autocomplete: "off", spellcheck: false, "aria-label": `${label} ${n} ${c.label.toLowerCase()}`, "data-col": c.key });
          input.value = c.get ? c.get(row) : text(row[c.key]);
          input.addEventListener("input", () => {
            if (c.set) c.set(row, input.value); else row[c.key] = input.value;
            onChange(false);
          });
        }
        return el("td", {}, input);
      });
      const rm = el("button", { type: "button", class: "ed-remove", text: "×", title: `Remove ${noun} ${n}`, "aria-label": `Remove ${noun} ${n}` });
      rm.addEventListener("click", () => { rows.splice(i, 1); onChange(true); build(false); });
      body.append(el("tr", {}, el("td", { class: "ed-on" }, on), ...cells, el("td", { class: "ed-x" }, rm)));
    });
    const add = el("button", { type: "button", class: "ed-add", text: `Add ${noun}` });
    add.addEventListener("click", () => { rows.push(blank()); onChange(true); build(true); });
    const table = el("table", { class: "ed-table", "aria-label": label }, el("thead", {}, head), body);
    wrap.replaceChildren(...(rows.length ? [table] : [el("p", { class: "note", text: `No ${noun}s.` })]), add);
    if (focusLast) {
      const inputs = body.querySelectorAll("tr:last-child input[type=text]");
      if (inputs.length) inputs[0].focus();
    }
  };
  build(false);
  return wrap;
}

// A header field given as one string ("Key: value" lines, which v2.1 allows).
function headerRows(h) {
  if (Array.isArray(h)) return h.filter(isObj);
  if (typeof h !== "string") return [];
  return h.split(/\r?\n/).filter((l) => l.trim() !== "").map((l) => {
    const i = l.indexOf(":");
    return i < 0 ? { key: l.trim(), value: "" } : { key: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
  });
}

// ---- auth helpers -------------------------------------------------------------

function authParams(auth, type) {
  if (!Array.isArray(auth[type])) auth[type] = [];
  return auth[type];
}
function authGet(auth, type, key) {
  const p = Array.isArray(auth[type]) ? auth[type].find((x) => isObj(x) && x.key === key) : null;
  return p ? text(p.value) : "";
}
function authSet(auth, type, key, value) {
  const list = authParams(auth, type);
  const p = list.find((x) => isObj(x) && x.key === key);
  if (p) p.value = value; else list.push({ key, value, type: "string" });
}

// ---- the editor ---------------------------------------------------------------

class Editor {
  constructor(box, doc, hooks) {
    this.id = doc.id;
    this.hooks = hooks;
    this.base = {};
    for (const f of FIELDS) this.base[f] = clone((doc.fields || {})[f]);
    this.draft = clone(this.base);
    this.notices = new Map(); // field -> the value another device saved
    this.saving = false;
    this.sending = false;
    this.tab = "params";
    this.build(box);
  }

  dirtyFields() {
    return FIELDS.filter((f) => !same(this.draft[f], this.base[f]));
  }

  isDirty() {
    return this.dirtyFields().length > 0;
  }

  // After every edit: the unsaved marker (heading, page title, tree item,
  // tabs) and the Save button.
  changed() {
    const dirty = this.dirtyFields();
    // "Saved" speaks of the last save only; a later edit makes it stale.
    if (dirty.length && !this.saving && this.ui.status.textContent === "Saved") this.ui.status.textContent = "";
    this.ui.unsaved.hidden = dirty.length === 0;
    this.ui.save.disabled = dirty.length === 0 || this.saving;
    this.ui.title.textContent = text(this.draft.name) || "(untitled)";
    document.title = (dirty.length ? "● " : "") + (text(this.draft.name) || "(untitled)") + " — apisync";
    for (const t of this.ui.tabs) {
      const mark = t.fields.some((f) => dirty.includes(f));
      t.button.querySelector(".ed-tab-dot").hidden = !mark;
    }
    markTree();
  }

  build(box) {
    const ui = (this.ui = {});
    ui.title = el("h2", { class: "ed-title", id: "ed-title" });
    ui.unsaved = el("span", { class: "ed-unsaved", text: "Unsaved", title: "Changes not saved yet (Ctrl+S or Cmd+S saves)" });
    ui.save = el("button", { type: "button", class: "ed-save", text: "Save", "aria-keyshortcuts": "Control+S Meta+S" });
    ui.save.addEventListener("click", () => this.save());
    // The web version never sends (the server would reach whatever a page
    // names): the button stays in view, disabled, with the reason beside it.
    const web = document.body.classList.contains("web");
    ui.send = el("button", { type: "button", class: "ed-send", text: "Send", "aria-keyshortcuts": "Control+Enter Meta+Enter",
      title: "Send the request (Ctrl+Enter or Cmd+Enter); unsaved edits are saved first" });
    ui.send.addEventListener("click", () => this.send());
    ui.sendNote = el("p", { class: "note ed-send-note", id: "ed-send-note", text: WEB_NOTE, hidden: !web });
    if (web) { ui.send.disabled = true; ui.send.setAttribute("aria-describedby", "ed-send-note"); }
    ui.pane = el("section", { class: "sp", "aria-labelledby": "sp-title", "aria-live": "polite", hidden: true });
    ui.status = el("span", { class: "ed-status", role: "status" });
    ui.notices = el("div", { class: "ed-notices", "aria-live": "polite" });

    ui.name = el("input", { type: "text", autocomplete: "off", class: "ed-name" });
    ui.name.addEventListener("input", () => { this.draft.name = ui.name.value; this.changed(); });
    const methods = el("datalist", { id: "ed-methods" }, ...METHODS.map((m) => el("option", { value: m })));
    ui.method = el("input", { type: "text", autocomplete: "off", spellcheck: false, list: "ed-methods", class: "ed-method" });
    ui.method.addEventListener("input", () => { this.draft.method = ui.method.value.toUpperCase(); this.changed(); });
    ui.url = el("input", { type: "text", autocomplete: "off", spellcheck: false, class: "ed-url", placeholder: "https://example.com/path?key=value" });
    ui.url.addEventListener("input", () => this.urlTyped());

    const tabs = [
      ["params", "Params", ["url"]], ["auth", "Authorization", ["auth"]], ["headers", "Headers", ["header"]],
      ["body", "Body", ["body"]], ["scripts", "Scripts", ["event"]], ["docs", "Description", ["description"]],
    ];
    const list = el("div", { class: "ed-tabs", role: "tablist", "aria-label": "Request parts" });
    ui.tabs = [];
    ui.panels = {};
    for (const [key, label, fields] of tabs) {
      const button = el("button", { type: "button", role: "tab", id: `ed-tab-${key}`, "aria-controls": `ed-panel-${key}`, class: "ed-tab" },
        el("span", { text: label }), el("span", { class: "ed-tab-dot", text: "•", title: "unsaved", hidden: true }, el("span", { class: "ed-sr", text: " (unsaved)" })));
      button.addEventListener("click", () => this.showTab(key));
      button.addEventListener("keydown", (e) => this.tabKey(e, key));
      list.append(button);
      ui.tabs.push({ key, button, fields });
      ui.panels[key] = el("div", { role: "tabpanel", id: `ed-panel-${key}`, "aria-labelledby": `ed-tab-${key}`, class: "ed-panel", tabIndex: 0 });
    }

    const form = el("section", { class: "ed", "aria-labelledby": "ed-title", "data-doc": this.id },
      el("div", { class: "ed-head" }, ui.title, ui.unsaved, el("span", { class: "ed-spacer" }), ui.status, ui.save, ui.send),
      ui.sendNote,
      ui.notices,
      labelled("Name", ui.name, "ed-field ed-name-field"),
      el("div", { class: "ed-line" }, labelled("Method", ui.method, "ed-field ed-method-field"), methods, labelled("URL", ui.url, "ed-field ed-url-field")),
      list, ...Object.values(ui.panels));
    box.replaceChildren(form, ui.pane);
    for (const f of FIELDS) this.render(f);
    this.showTab(this.tab);
    this.changed();
  }

  showTab(key) {
    this.tab = key;
    for (const t of this.ui.tabs) {
      const on = t.key === key;
      t.button.setAttribute("aria-selected", on ? "true" : "false");
      t.button.tabIndex = on ? 0 : -1;
      this.ui.panels[t.key].hidden = !on;
    }
  }

  // Arrow keys, Home and End move between tabs (one tab stop for the list).
  tabKey(e, key) {
    const keys = this.ui.tabs.map((t) => t.key);
    const i = keys.indexOf(key);
    let j = null;
    if (e.key === "ArrowRight") j = (i + 1) % keys.length;
    else if (e.key === "ArrowLeft") j = (i - 1 + keys.length) % keys.length;
    else if (e.key === "Home") j = 0;
    else if (e.key === "End") j = keys.length - 1;
    if (j === null) return;
    e.preventDefault();
    this.showTab(keys[j]);
    this.ui.tabs[j].button.focus();
  }

  // Shows one field's draft value in its part of the form.
  render(field) {
    const d = this.draft;
    if (field === "name") this.ui.name.value = text(d.name);
    else if (field === "method") this.ui.method.value = text(d.method);
    else if (field === "url") { this.ui.url.value = urlRaw(d.url); this.renderParams(); }
    else if (field === "header") this.renderHeaders();
    else if (field === "body") this.renderBody();
    else if (field === "auth") this.renderAuth();
    else if (field === "event") this.renderScripts();
    else if (field === "description") this.renderDescription();
  }

  // The URL's text changed: the params and path variables tables follow.
  urlTyped() {
    const raw = this.ui.url.value;
    const params = mergeParams(paramsOf(this.draft.url), parseQuery(raw));
    const vars = mergeVars(varsOf(this.draft.url), pathNames(raw));
    this.setUrl(raw, params, vars);
    this.renderParams();
  }

  setUrl(raw, params, vars) {
    const base = this.base.url;
    // Typed back to what was saved: keep the saved value (a plain string stays a string).
    if (urlRaw(base) === raw && same(paramsOf(base), params) && same(varsOf(base), vars)) this.draft.url = clone(base);
    else this.draft.url = urlObject(raw, params, this.draft.url, vars);
    this.changed();
  }

  renderParams() {
    const vars = this.pathVarsTable();
    // With two tables on the tab, each gets a visible heading.
    this.ui.panels.params.replaceChildren(el("h3", { class: vars.length ? "ed-subhead" : "ed-sr", text: "Query params" }), this.queryTable(), ...vars);
  }

  // The path variables table: one row per `:name` of the URL, its name as the
  // row's header (the URL's text is where a variable is added, renamed or
  // removed), value and description editable. Shown only when there are any.
  pathVarsTable() {
    const rows = clone(varsOf(this.draft.url));
    if (!rows.length) return [];
    const put = () => this.setUrl(this.ui.url.value, clone(paramsOf(this.draft.url)), clone(rows));
    const body = el("tbody");
    for (const row of rows) {
      const value = el("input", { type: "text", autocomplete: "off", spellcheck: false, "aria-label": `Path variable ${row.key} value`, "data-col": "value" });
      value.value = text(row.value);
      value.addEventListener("input", () => { row.value = value.value; put(); });
      const desc = el("input", { type: "text", autocomplete: "off", "aria-label": `Path variable ${row.key} description`, "data-col": "description" });
      desc.value = descText(row.description);
      // A description object ({content, type}) keeps its type; an emptied plain one goes.
      desc.addEventListener("input", () => {
        if (isObj(row.description)) row.description = { ...row.description, content: desc.value };
        else if (desc.value === "") delete row.description;
        else row.description = desc.value;
        put();
      });
      body.append(el("tr", {}, el("th", { scope: "row", class: "ed-var-key" }, el("code", { text: `:${row.key}` })), el("td", {}, value), el("td", {}, desc)));
    }
    const head = el("tr", {}, el("th", { scope: "col", text: "Key" }), el("th", { scope: "col", text: "Value" }), el("th", { scope: "col", text: "Description" }));
    return [
      el("h3", { class: "ed-subhead", id: "ed-path-vars", text: "Path variables" }),
      el("table", { class: "ed-table ed-vars", "aria-labelledby": "ed-path-vars" }, el("thead", {}, head), body),
    ];
  }

  queryTable() {
    const rows = clone(paramsOf(this.draft.url));
    return kvTable({
      label: "Query param", rows,
      columns: [{ key: "key", label: "Key" }, { key: "value", label: "Value" }],
      // A param edited: the URL's text follows (the table is not redrawn, so focus stays).
      onChange: () => {
        const raw = withQuery(this.ui.url.value, rows);
        this.ui.url.value = raw;
        this.setUrl(raw, clone(rows), varsOf(this.draft.url));
      },
    });
  }

  renderHeaders() {
    const rows = clone(headerRows(this.draft.header));
    const table = kvTable({
      label: "Header", rows,
      columns: [{ key: "key", label: "Key" }, { key: "value", label: "Value" }],
      onChange: () => { this.draft.header = clone(rows); this.changed(); },
    });
    this.ui.panels.headers.replaceChildren(table);
  }

  // The body object to edit, made when the request had none.
  bodyObj() {
    if (!isObj(this.draft.body)) this.draft.body = {};
    return this.draft.body;
  }

  renderBody() {
    const b = isObj(this.draft.body) ? this.draft.body : {};
    const mode = typeof b.mode === "string" && b.mode !== "" ? b.mode : "none";
    const modes = MODES.some(([m]) => m === mode) ? MODES : [...MODES, [mode, mode]];
    const select = el("select", { class: "ed-mode" }, ...modes.map(([v, t]) => el("option", { value: v, text: t })));
    select.value = mode;
    // Another mode keeps every other mode's data: only `mode` changes, as in Postman.
    select.addEventListener("change", () => {
      if (select.value === "none") {
        if (isObj(this.draft.body)) {
          delete this.draft.body.mode;
          if (Object.keys(this.draft.body).length === 0) this.draft.body = null;
        }
      } else this.bodyObj().mode = select.value;
      this.changed();
      this.renderBody();
      const again = this.ui.panels.body.querySelector(".ed-mode");
      if (again) again.focus();
    });
    const parts = [el("div", { class: "ed-row" }, labelled("Body mode", select))];
    if (mode === "raw") {
      const lang = el("select", { class: "ed-lang" }, ...LANGUAGES.map(([v, t]) => el("option", { value: v, text: t })));
      const cur = isObj(b.options) && isObj(b.options.raw) && typeof b.options.raw.language === "string" ? b.options.raw.language : "text";
      if (!LANGUAGES.some(([v]) => v === cur)) lang.append(el("option", { value: cur, text: cur }));
      lang.value = cur;
      lang.addEventListener("change", () => {
        const body = this.bodyObj();
        const options = isObj(body.options) ? body.options : (body.options = {});
        options.raw = { ...(isObj(options.raw) ? options.raw : {}), language: lang.value };
        this.changed();
      });
      const area = el("textarea", { class: "ed-code", rows: 10, spellcheck: false });
      area.value = text(b.raw);
      area.addEventListener("input", () => { this.bodyObj().raw = area.value; this.changed(); });
      parts[0].append(labelled("Language", lang));
      parts.push(labelled("Raw body", area, "ed-field ed-wide"));
    } else if (mode === "urlencoded" || mode === "formdata") {
      const rows = clone(Array.isArray(b[mode]) ? b[mode].filter(isObj) : []);
      const columns = [{ key: "key", label: "Key" }];
      if (mode === "formdata") {
        columns.push({ key: "type", label: "Type", options: [["text", "Text"], ["file", "File"]], get: (r) => (r.type === "file" ? "file" : "text"), set: (r, v) => { r.type = v; } });
        // A file part names its file (`src`); the file itself is not synced.
        columns.push({ key: "value", label: "Value", get: (r) => (r.type === "file" ? (Array.isArray(r.src) ? r.src.join(", ") : text(r.src)) : text(r.value)), set: (r, v) => { if (r.type === "file") r.src = v; else r.value = v; } });
      } else columns.push({ key: "value", label: "Value" });
      parts.push(kvTable({
        label: mode === "formdata" ? "Form field" : "Form param", rows, columns,
        blank: () => (mode === "formdata" ? { key: "", value: "", type: "text" } : { key: "", value: "" }),
        onChange: () => { this.bodyObj()[mode] = clone(rows); this.changed(); },
      }));
    } else if (mode === "file") {
      const src = el("input", { type: "text", autocomplete: "off", spellcheck: false });
      src.value = isObj(b.file) ? text(b.file.src) : "";
      src.addEventListener("input", () => {
        const body = this.bodyObj();
        body.file = { ...(isObj(body.file) ? body.file : {}), src: src.value };
        this.changed();
      });
      parts.push(labelled("File name", src, "ed-field ed-wide"), el("p", { class: "note", text: "Only the file's name is kept; the file itself stays on the device that sends the request." }));
    } else if (mode === "graphql") {
      const g = isObj(b.graphql) ? b.graphql : {};
      const query = el("textarea", { class: "ed-code", rows: 8, spellcheck: false });
      query.value = text(g.query);
      const vars = el("textarea", { class: "ed-code", rows: 4, spellcheck: false });
      vars.value = text(g.variables);
      const put = (k, v) => {
        const body = this.bodyObj();
        body.graphql = { ...(isObj(body.graphql) ? body.graphql : {}), [k]: v };
        this.changed();
      };
      query.addEventListener("input", () => put("query", query.value));
      vars.addEventListener("input", () => put("variables", vars.value));
      parts.push(labelled("GraphQL query", query, "ed-field ed-wide"), labelled("GraphQL variables (JSON)", vars, "ed-field ed-wide"));
    } else if (mode === "none") {
      parts.push(el("p", { class: "note", text: "This request has no body." }));
    } else {
      parts.push(el("p", { class: "note", text: `The body mode "${mode}" is kept as it is.` }));
    }
    this.ui.panels.body.replaceChildren(...parts);
  }

  // The auth object to edit (a copy made when the request inherits).
  authObj() {
    if (!isObj(this.draft.auth)) this.draft.auth = {};
    return this.draft.auth;
  }

  renderAuth() {
    const a = isObj(this.draft.auth) ? this.draft.auth : null;
    const type = a ? (typeof a.type === "string" ? a.type : "noauth") : "inherit";
    const types = AUTH_TYPES.some(([t]) => t === type) ? AUTH_TYPES : [...AUTH_TYPES, [type, type]];
    const select = el("select", { class: "ed-auth-type" }, ...types.map(([v, t]) => el("option", { value: v, text: t })));
    select.value = type;
    // Switching keeps the other types' parameters in the object, as Postman does;
    // only "inherit" drops the object (that is how Postman says inherit).
    select.addEventListener("change", () => {
      if (select.value === "inherit") this.draft.auth = null;
      else this.authObj().type = select.value;
      this.changed();
      this.renderAuth();
      const again = this.ui.panels.auth.querySelector(".ed-auth-type");
      if (again) again.focus();
    });
    const parts = [labelled("Auth type", select)];
    const input = (label, key, secret = false) => {
      const i = el("input", { type: secret ? "password" : "text", autocomplete: "off", spellcheck: false });
      i.value = authGet(a || {}, type, key);
      i.addEventListener("input", () => { authSet(this.authObj(), type, key, i.value); this.changed(); });
      return labelled(label, i, "ed-field ed-wide");
    };
    if (type === "inherit") parts.push(el("p", { class: "note", text: "The request uses the auth of its folder or collection." }));
    else if (type === "noauth") parts.push(el("p", { class: "note", text: "No auth is sent with this request." }));
    else if (type === "basic") {
      const pw = input("Password", "password", true);
      const show = el("input", { type: "checkbox" });
      show.addEventListener("change", () => { pw.querySelector("input").type = show.checked ? "text" : "password"; });
      parts.push(input("Username", "username"), pw, labelled("Show password", show, "ed-check"));
    } else if (type === "bearer") parts.push(input("Token", "token"));
    else if (type === "apikey") {
      const where = el("select", {}, el("option", { value: "header", text: "Header" }), el("option", { value: "query", text: "Query params" }));
      where.value = authGet(a || {}, type, "in") === "query" ? "query" : "header";
      where.addEventListener("change", () => { authSet(this.authObj(), type, "in", where.value); this.changed(); });
      parts.push(input("Key", "key"), input("Value", "value"), labelled("Add to", where));
    } else {
      // Any other type: its parameters as key/value rows, values that are not
      // text (booleans, objects) edited as JSON and kept as JSON when they parse.
      const rows = clone(Array.isArray(a[type]) ? a[type].filter(isObj) : []);
      parts.push(el("p", { class: "note", text: `${type} parameters, as Postman stores them:` }), kvTable({
        label: "Auth parameter", rows,
        columns: [{ key: "key", label: "Key" }, {
          key: "value", label: "Value", get: (r) => text(r.value),
          set: (r, v) => {
            if (r.value != null && typeof r.value !== "string") { try { r.value = JSON.parse(v); return; } catch { /* not JSON: kept as text */ } }
            r.value = v;
          },
        }],
        blank: () => ({ key: "", value: "", type: "string" }),
        onChange: () => { this.authObj()[type] = clone(rows); this.changed(); },
      }));
    }
    this.ui.panels.auth.replaceChildren(...parts);
  }

  renderScripts() {
    const parts = [];
    for (const [listen, label] of [["prerequest", "Pre-request script"], ["test", "Test script"]]) {
      const ev = Array.isArray(this.draft.event) ? this.draft.event.find((e) => isObj(e) && e.listen === listen) : null;
      const exec = ev && isObj(ev.script) ? ev.script.exec : null;
      const area = el("textarea", { class: "ed-code", rows: 8, spellcheck: false, "data-listen": listen });
      area.value = Array.isArray(exec) ? exec.map(text).join("\n") : text(exec);
      area.addEventListener("input", () => { this.setScript(listen, area.value); this.changed(); });
      parts.push(labelled(label, area, "ed-field ed-wide"));
    }
    this.ui.panels.scripts.replaceChildren(...parts);
  }

  // Writes a script's lines into its `event` entry, keeping the entry's other
  // keys (script id, type, src); an entry this editor made and then emptied
  // goes away again, so it does not count as an edit.
  setScript(listen, value) {
    const events = Array.isArray(this.draft.event) ? this.draft.event : (this.draft.event = []);
    let ev = events.find((e) => isObj(e) && e.listen === listen);
    const hadIt = Array.isArray(this.base.event) && this.base.event.some((e) => isObj(e) && e.listen === listen);
    if (!ev) {
      ev = { listen, script: { type: "text/javascript", exec: [] } };
      events.push(ev);
    }
    if (!isObj(ev.script)) ev.script = { type: "text/javascript" };
    ev.script.exec = value === "" ? [] : value.split("\n");
    if (value === "" && !hadIt) events.splice(events.indexOf(ev), 1);
    if (events.length === 0 && this.base.event === undefined) this.draft.event = undefined;
  }

  renderDescription() {
    const d = this.draft.description;
    const area = el("textarea", { class: "ed-text", rows: 8 });
    area.value = isObj(d) ? text(d.content) : text(d);
    // A description object ({content, type}) keeps its type.
    area.addEventListener("input", () => {
      this.draft.description = isObj(this.draft.description) ? { ...this.draft.description, content: area.value } : area.value;
      this.changed();
    });
    this.ui.panels.docs.replaceChildren(labelled("Description", area, "ed-field ed-wide"));
  }

  // ONE PATCH with the edited fields only; `base` moves to what was sent.
  async save() {
    const fields = this.dirtyFields();
    if (this.saving || fields.length === 0) return;
    const sent = {};
    for (const f of fields) sent[f] = this.draft[f] === undefined ? null : clone(this.draft[f]);
    this.saving = true;
    this.ui.save.disabled = true;
    this.ui.status.textContent = "Saving…";
    try {
      await api.set(this.id, sent);
      for (const f of fields) { this.base[f] = clone(sent[f]); this.notices.delete(f); }
      this.ui.status.textContent = "Saved";
      this.renderNotices();
      this.hooks.onSaved();
    } catch (e) {
      this.ui.status.textContent = "Not saved";
      this.hooks.onError(e);
    } finally {
      this.saving = false;
      this.changed();
    }
  }

  // Sends the request as saved: edits not saved yet are saved first (one
  // PATCH, as Save), so what goes out is what the editor shows and what
  // History then records; a save that fails sends nothing.
  async send() {
    if (this.sending || document.body.classList.contains("web")) return;
    let note = null;
    if (this.isDirty()) {
      await this.save();
      if (this.isDirty()) return;
      note = "Your edits were saved first, then the request was sent.";
    }
    this.sending = true;
    this.ui.send.disabled = true;
    this.ui.pane.hidden = false;
    renderSending(this.ui.pane);
    try {
      const o = await sendApi.send(this.id);
      if (current !== this) return;
      renderOutcome(this.ui.pane, o, { note, showError: this.hooks.onError });
    } catch (e) {
      renderSendError(this.ui.pane, e);
    } finally {
      this.sending = false;
      this.ui.send.disabled = false;
    }
  }

  // The document as the profile has it now (after a `changed` event).
  remote(doc) {
    const fresh = doc.fields || {};
    for (const f of FIELDS) {
      const theirs = fresh[f];
      if (same(theirs, this.base[f])) { this.notices.delete(f); continue; }
      if (same(this.draft[f], this.base[f])) {
        // Not touched here: simply follow.
        this.base[f] = clone(theirs);
        this.draft[f] = clone(theirs);
        this.render(f);
        this.notices.delete(f);
      } else if (same(this.draft[f], theirs)) {
        // Both made the same change: nothing left to save for it.
        this.base[f] = clone(theirs);
        this.notices.delete(f);
      } else this.notices.set(f, clone(theirs));
    }
    this.renderNotices();
    this.changed();
  }

  renderNotices() {
    const items = [];
    for (const [f, theirs] of this.notices) {
      const keep = el("button", { type: "button", text: "Keep mine" });
      const take = el("button", { type: "button", text: "Take theirs" });
      // Keep mine: theirs becomes the base, so the field stays edited and the next save sends it.
      keep.addEventListener("click", () => { this.base[f] = clone(theirs); this.notices.delete(f); this.renderNotices(); this.changed(); });
      take.addEventListener("click", () => {
        this.base[f] = clone(theirs);
        this.draft[f] = clone(theirs);
        this.notices.delete(f);
        this.render(f);
        this.renderNotices();
        this.changed();
      });
      items.push(el("div", { class: "ed-notice", role: "group", "data-field": f, "aria-label": `${FIELD_LABEL[f]} changed on another device` },
        el("span", { class: "ed-notice-what", text: `${FIELD_LABEL[f]} changed on another device: ` }),
        el("code", { class: "ed-notice-value", text: shown(f, theirs) }),
        el("span", { text: " — " }), keep, take));
    }
    this.ui.notices.replaceChildren(...items);
  }
}

// ---- the page's side ------------------------------------------------------------

// The unsaved marker on the open request's tree item. The tree redraws its
// items on every refresh, so the marker is put back whenever the list changes.
function markTree() {
  const tree = document.getElementById("tree");
  if (!tree) return;
  for (const old of tree.querySelectorAll(".ed-tree-unsaved")) old.remove();
  if (!current || !current.isDirty()) return;
  const item = tree.querySelector(`[data-id="${CSS.escape(current.id)}"]`);
  if (item) item.append(el("span", { class: "ed-tree-unsaved", text: "unsaved" }));
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  const tree = document.getElementById("tree");
  if (tree) new MutationObserver(markTree).observe(tree, { childList: true });
  // Ctrl+S / Cmd+S saves wherever focus is, instead of the browser's "save page".
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "s") {
      if (!current) return;
      e.preventDefault();
      current.save();
    }
    // Ctrl+Enter / Cmd+Enter sends the open request, wherever focus is in the page.
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key === "Enter") {
      if (!current || document.querySelector("dialog[open]")) return;
      e.preventDefault();
      current.send();
    }
  });
  // Leaving the page with unsaved edits asks first.
  window.addEventListener("beforeunload", (e) => {
    if (current && current.isDirty()) e.preventDefault();
  });
}

// Opens the editor for `doc` (a request) in `box`. `hooks.onSaved()` runs
// after a save, `hooks.onError(e)` on a failed one.
export function openEditor(box, doc, hooks) {
  wire();
  current = new Editor(box, doc, hooks);
  return current;
}

// The open editor when it shows document `id`, else null.
export function editorFor(id) {
  return current && current.id === id ? current : null;
}

// Whether leaving the open editor would lose edits.
export function editorDirty() {
  return Boolean(current && current.isDirty());
}

export function closeEditor() {
  current = null;
  document.title = "apisync";
  markTree();
}
