// The conflicts dialog, as Postman's "Resolve sync conflicts": a tab per
// collection (and one for environments and globals), a row per conflicting
// field with the base, local and server values side by side, a choice per row,
// "Use all local", "Use all server", Reset, and Resolve, which applies the
// tab's choices through the app API (the same resolve as `apisync resolve`).
// Values are set with textContent only. Closing the dialog applies nothing:
// the conflicts keep waiting and the badge keeps their count.

import { call, ApiError } from "./api.js";

// Rows start on the server's value: keeping it changes nothing on other
// devices, so an unconsidered Resolve is the harmless one.
const DEFAULT = "theirs";

const state = {
  list: [],            // the inbox, as GET /api/conflicts gives it
  tab: null,           // the group key of the tab shown
  choices: new Map(),  // conflict id -> Map(field -> "mine" | "theirs"), kept while the page lives
  count: 0,            // the status's conflicts count
  onResolved: () => {},
};
let ui = null;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("aria-") || k === "role" || k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

// A value as text: strings as they are, other JSON indented, an absent one named.
function valueCell(v) {
  const td = el("td", { class: "cf-value" });
  if (v === null || v === undefined) td.append(el("span", { class: "cf-none", text: "(none)" }));
  else td.append(el("span", { class: "cf-text", text: typeof v === "string" ? v : JSON.stringify(v, null, 2) }));
  return td;
}

function groups() {
  const out = new Map();
  for (const c of state.list) {
    const g = c.group || { key: "other", name: "Other documents" };
    if (!out.has(g.key)) out.set(g.key, { key: g.key, name: g.name, conflicts: [] });
    out.get(g.key).conflicts.push(c);
  }
  return [...out.values()];
}

function choice(c, field) {
  return (state.choices.get(c.id) && state.choices.get(c.id).get(field)) || DEFAULT;
}

function setChoice(c, field, side) {
  if (!state.choices.has(c.id)) state.choices.set(c.id, new Map());
  state.choices.get(c.id).set(field, side);
}

// A change the server refused cannot be sent again as it was (the CLI says
// the same): only the server's side can be kept.
const rejected = (c) => typeof c.reason === "string" && c.reason.startsWith("rejected:");

function build() {
  const dialog = el("dialog", { id: "conflicts-dialog", class: "cf-dialog", "aria-labelledby": "cf-title", "aria-describedby": "cf-help" });
  const title = el("h2", { id: "cf-title", text: "Resolve sync conflicts" });
  const help = el("p", { id: "cf-help", class: "note", text:
    "Each row starts on the server's value; choose Local to keep yours instead. Resolve applies this tab's choices as ordinary edits. Closing changes nothing: the conflicts keep waiting." });
  const tabs = el("div", { class: "cf-tabs", role: "tablist", "aria-label": "Collections with conflicts" });
  const panel = el("div", { id: "cf-panel", class: "cf-panel", role: "tabpanel", tabIndex: 0 });
  const message = el("p", { class: "cf-message", role: "status", "aria-live": "polite" });
  const allMine = el("button", { type: "button", text: "Use all local" });
  const allTheirs = el("button", { type: "button", text: "Use all server" });
  const reset = el("button", { type: "button", text: "Reset" });
  const close = el("button", { type: "button", class: "cf-close", text: "Close" });
  const apply = el("button", { type: "button", class: "cf-primary", text: "Resolve" });
  const actions = el("div", { class: "cf-actions" }, allMine, allTheirs, reset, el("span", { class: "cf-spacer" }), close, apply);
  dialog.append(title, help, tabs, panel, message, actions);
  document.body.append(dialog);

  allMine.addEventListener("click", () => setAll("mine"));
  allTheirs.addEventListener("click", () => setAll("theirs"));
  reset.addEventListener("click", () => {
    for (const c of current()) state.choices.delete(c.id);
    renderPanel();
    say("Back to the defaults: every row keeps the server's value.");
  });
  close.addEventListener("click", () => dialog.close());
  apply.addEventListener("click", () => resolveTab());
  tabs.addEventListener("keydown", (e) => {
    const all = [...tabs.querySelectorAll('[role="tab"]')];
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    let next = null;
    if (e.key === "ArrowRight") next = all[(i + 1) % all.length];
    else if (e.key === "ArrowLeft") next = all[(i - 1 + all.length) % all.length];
    else if (e.key === "Home") next = all[0];
    else if (e.key === "End") next = all[all.length - 1];
    if (next) { e.preventDefault(); selectTab(next.dataset.key, true); }
  });
  // Focus goes back to what opened the dialog, whichever way it closed (Escape too).
  dialog.addEventListener("close", () => { if (ui.opener) ui.opener.focus(); });
  return { dialog, tabs, panel, message, apply, allMine, opener: null };
}

function say(text) { ui.message.textContent = text; }

function current() {
  const g = groups().find((x) => x.key === state.tab);
  return g ? g.conflicts : [];
}

function setAll(side) {
  for (const c of current()) {
    for (const f of c.fields) setChoice(c, f.field, side === "mine" && rejected(c) ? "theirs" : side);
  }
  renderPanel();
  say(side === "mine" ? "Every row of this tab keeps the local value." : "Every row of this tab keeps the server's value.");
}

function selectTab(key, focus) {
  state.tab = key;
  renderTabs();
  renderPanel();
  if (focus) {
    const t = ui.tabs.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (t) t.focus();
  }
}

function renderTabs() {
  const gs = groups();
  if (!gs.some((g) => g.key === state.tab)) state.tab = gs.length ? gs[0].key : null;
  ui.tabs.replaceChildren(...gs.map((g) => {
    const selected = g.key === state.tab;
    const t = el("button", {
      type: "button", role: "tab", id: `cf-tab-${g.key}`, "data-key": g.key,
      "aria-selected": selected ? "true" : "false", "aria-controls": "cf-panel", tabIndex: selected ? 0 : -1,
    });
    t.append(el("span", { class: "cf-tab-name", text: g.name }), el("span", { class: "cf-tab-count", text: String(g.conflicts.length) }));
    t.addEventListener("click", () => selectTab(g.key, true));
    return t;
  }));
  if (state.tab) ui.panel.setAttribute("aria-labelledby", `cf-tab-${state.tab}`);
}

function radio(c, f, side, label) {
  const name = `cf-${c.id}-${f.field}`;
  const input = el("input", { type: "radio", name, value: side, checked: choice(c, f.field) === side });
  input.setAttribute("aria-label", `${label} for ${f.field}`);
  if (side === "mine" && rejected(c)) input.disabled = true;
  input.addEventListener("change", () => { setChoice(c, f.field, side); markRow(input.closest("tr"), side); });
  return el("label", { class: "cf-pick" }, input, el("span", { text: label }));
}

function markRow(tr, side) {
  tr.dataset.keep = side;
}

function renderConflict(c) {
  const kind = c.kind ? c.kind[0].toUpperCase() + c.kind.slice(1) : "Document";
  const head = el("h3", { class: "cf-doc" },
    el("span", { class: "cf-kind", text: kind }),
    el("span", { class: "cf-title", text: c.title || "(untitled)" }),
    el("span", { class: "cf-reason", text: c.reason || "" }));
  const table = el("table", { class: "cf-table" });
  table.append(el("caption", { class: "cf-sr", text: `Fields in conflict in ${c.title || "this document"}` }));
  const hr = el("tr");
  for (const h of ["Field", "Base", "Local (mine)", "Server (theirs)", "Keep"]) hr.append(el("th", { scope: "col", text: h }));
  table.append(el("thead", {}, hr));
  const body = el("tbody");
  for (const f of c.fields) {
    const tr = el("tr", { "data-field": f.field, "data-conflict": String(c.id) });
    markRow(tr, choice(c, f.field));
    const keep = el("td", { class: "cf-keep" },
      el("div", { class: "cf-radios", role: "radiogroup", "aria-label": `Keep for ${f.field}` },
        radio(c, f, "mine", "Local"), radio(c, f, "theirs", "Server")));
    const mine = valueCell(f.mine);
    mine.classList.add("cf-mine");
    const theirs = valueCell(f.theirs);
    theirs.classList.add("cf-theirs");
    tr.append(el("th", { scope: "row", class: "cf-field", text: f.field }), valueCell(f.base), mine, theirs, keep);
    body.append(tr);
  }
  table.append(body);
  const parts = [head, table];
  if (rejected(c)) parts.push(el("p", { class: "note", text: "The server refused this change, so only its value can be kept; make the change again afterwards if it is still wanted." }));
  return el("section", { class: "cf-conflict", "data-conflict": String(c.id) }, ...parts);
}

function renderPanel() {
  const list = current();
  if (!list.length) {
    ui.panel.replaceChildren(el("p", { class: "note", text: "No conflicts wait." }));
    ui.apply.disabled = true;
    return;
  }
  ui.panel.replaceChildren(...list.map(renderConflict));
  ui.apply.disabled = false;
  ui.apply.textContent = list.length === 1 ? "Resolve" : `Resolve ${list.length} conflicts`;
}

async function load() {
  state.list = await call("GET", "/api/conflicts");
  // Choices of conflicts that are gone (resolved elsewhere) are dropped.
  const ids = new Set(state.list.map((c) => c.id));
  for (const id of [...state.choices.keys()]) if (!ids.has(id)) state.choices.delete(id);
  renderTabs();
  renderPanel();
}

async function resolveTab() {
  const list = current();
  ui.apply.disabled = true;
  const failed = [];
  let done = 0;
  for (const c of list) {
    const fields = {};
    for (const f of c.fields) fields[f.field] = choice(c, f.field);
    try {
      await call("POST", `/api/conflicts/${encodeURIComponent(c.id)}/resolve`, { fields });
      state.choices.delete(c.id);
      done += 1;
    } catch (e) {
      failed.push(`${c.title || "#" + c.id}: ${e instanceof ApiError ? e.message : String(e)}`);
    }
  }
  try { await load(); } catch (e) { failed.push(String(e && e.message || e)); }
  state.onResolved();
  if (failed.length) {
    say(`Resolved ${done}; not resolved: ${failed.join("; ")}`);
  } else if (!state.list.length) {
    ui.dialog.close();
  } else {
    say(`Resolved ${done}. Other tabs still have conflicts.`);
    const t = ui.tabs.querySelector('[aria-selected="true"]');
    if (t) t.focus();
  }
}

// Opens the dialog on the first tab with the inbox as it is now.
export async function openConflicts() {
  if (!ui) ui = build();
  ui.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  say("");
  await load();
  if (!ui.dialog.open) ui.dialog.showModal();
  const t = ui.tabs.querySelector('[aria-selected="true"]');
  (t || ui.apply).focus();
}

// Wires the prompt button; `onResolved` runs after each Resolve (to refresh the page).
export function initConflicts(button, onResolved) {
  state.onResolved = onResolved || (() => {});
  button.addEventListener("click", () => { openConflicts().catch((e) => say(String(e && e.message || e))); });
}

// Follows the status: the prompt shows while conflicts wait; an open dialog
// picks up conflicts that arrive or go meanwhile.
export function updateConflicts(button, status) {
  const n = status.conflicts || 0;
  button.hidden = !(n > 0);
  button.textContent = `Resolve ${n} conflict${n === 1 ? "" : "s"}`;
  if (n !== state.count && ui && ui.dialog.open) load().catch(() => {});
  // More conflicts than before (a sync brought them): say so, without
  // taking focus from what the person is typing; the badge keeps the count.
  if (n > (state.count || 0) && !(ui && ui.dialog.open)) prompt(button, n);
  if (n === 0) closePrompt();
  state.count = n;
}

function closePrompt() {
  const p = document.getElementById("conflicts-prompt");
  if (p) p.remove();
}

// The prompt: a note under the header with Resolve now and Later.
function prompt(button, n) {
  closePrompt();
  const box = document.createElement("div");
  box.id = "conflicts-prompt";
  box.className = "conflicts-prompt";
  box.setAttribute("role", "status");
  const text = document.createElement("span");
  text.textContent = `${n} conflict${n === 1 ? "" : "s"} to resolve: another device changed what you changed. Nothing is lost while they wait.`;
  const now = document.createElement("button");
  now.type = "button";
  now.textContent = "Resolve now";
  now.addEventListener("click", () => { closePrompt(); button.click(); });
  const later = document.createElement("button");
  later.type = "button";
  later.textContent = "Later";
  later.addEventListener("click", closePrompt);
  box.append(text, now, later);
  const banner = document.getElementById("banner");
  (banner && banner.parentNode ? banner.parentNode : document.body).insertBefore(box, banner ? banner.nextSibling : null);
}
