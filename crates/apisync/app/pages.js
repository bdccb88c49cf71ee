// The sidebar's pages: a tab strip (ARIA tabs: arrow keys, Home and End
// move between them, Tab leaves) switching between the collection tree and
// the workspace's other documents (Environments, Globals, Header presets,
// History, Runs). The tree and the request editor are only hidden while
// another page shows, so an unsaved edit waits there untouched. The chosen
// page is kept in the address's #fragment. The header's active environment
// picker is filled here too, on every refresh.

import { el } from "./page_dom.js";
import { envApi, renderPicker, environmentsPage, globalsPage } from "./environments.js";
import { presetsPage } from "./presets.js";
import { historyPage, runsPage } from "./records.js";

const PAGES = [
  { id: "collections", label: "Collections" },
  { id: "environments", label: "Environments", page: environmentsPage(), env: true },
  { id: "globals", label: "Globals", page: globalsPage(), env: true },
  { id: "header-presets", label: "Header presets", page: presetsPage() },
  { id: "history", label: "History", page: historyPage() },
  { id: "runs", label: "Runs", page: runsPage() },
];

const $ = (id) => document.getElementById(id);
let hooks = null;
let current = PAGES[0];
let shownWorkspace = null;
let envData = null;
// Bumped by every look at the environments.
let fetches = 0;
// Bumped by every render, so a slower earlier one never draws over a later one.
let generation = 0;

// The context a page renders with; `current()` turns false once a newer render started.
function context(gen) {
  return {
    workspace: hooks.workspace,
    readOnly: hooks.readOnly,
    showError: hooks.showError,
    // The web version: no current values, no active environment.
    web: () => !!(hooks.web && hooks.web()),
    reload: () => refreshPages(),
    rerender: () => draw(),
    current: () => gen === generation,
  };
}

function tabs() {
  return [...$("side-tabs").querySelectorAll('[role="tab"]')];
}

// Shows page `p` (an entry of PAGES); `focus` moves focus to its tab.
function choose(p, focus) {
  const changed = p !== current;
  current = p;
  for (const t of tabs()) {
    const on = t.dataset.page === p.id;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    if (on && focus) t.focus();
  }
  const tree = !p.page;
  $("side-collections").hidden = !tree;
  $("detail").hidden = !tree;
  $("side-page").hidden = tree;
  $("page").hidden = tree;
  $("side-page").setAttribute("aria-labelledby", `tab-${p.id}`);
  if (changed) history.replaceState(null, "", tree ? location.pathname : `#${p.id}`);
  if (!tree && changed) {
    $("side-page").replaceChildren();
    $("page").replaceChildren(el("p", { className: "note", text: "Loading…" }));
    draw();
  }
}

// Draws the current page from what was last loaded (the environments) or
// by asking for its list.
async function draw() {
  const p = current;
  const gen = ++generation;
  if (!p.page || !hooks.workspace()) return;
  try {
    if (p.env) {
      if (envData) p.page.render($("side-page"), $("page"), context(gen), envData);
    } else {
      await p.page.render($("side-page"), $("page"), context(gen));
    }
  } catch (e) { hooks.showError(e); }
}

// Wires the tab strip. `workspace()` is the shown workspace's id,
// `readOnly()` whether the person may only view it, `showError(e)` shows a failure.
export function initPages(h) {
  hooks = h;
  const strip = $("side-tabs");
  for (const p of PAGES) {
    const t = el("button", { type: "button", role: "tab", id: `tab-${p.id}`, className: "side-tab", dataset: { page: p.id },
      "aria-controls": p.page ? "side-page" : "side-collections", "aria-selected": "false", text: p.label });
    t.tabIndex = -1;
    t.addEventListener("click", () => choose(p, false));
    strip.append(t);
  }
  strip.addEventListener("keydown", (e) => {
    const all = tabs();
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const to = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: all.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    choose(PAGES[(to + all.length) % all.length], true);
  });
  $("side-collections").setAttribute("aria-labelledby", "tab-collections");
  const start = PAGES.find((p) => `#${p.id}` === location.hash) || PAGES[0];
  choose(start, false);
}

// Looks again at the workspace: the picker always, the shown page when it
// is not the tree. A new workspace starts every page afresh.
export async function refreshPages() {
  const ws = hooks.workspace();
  if (ws !== shownWorkspace) {
    shownWorkspace = ws;
    envData = null;
    for (const p of PAGES) if (p.page) p.page.reset();
  }
  const picker = $("active-env");
  if (!ws) { renderPicker(picker, null, context(generation)); return; }
  // Only the newest look is drawn: an older answer arriving late would show
  // the list as it was before an edit (and lose a just-created environment).
  const seq = ++fetches;
  try {
    const data = await envApi.list(ws);
    if (hooks.workspace() !== ws || seq !== fetches) return;
    envData = data;
    renderPicker(picker, data, context(generation));
  } catch (e) { hooks.showError(e); }
  await draw();
}
