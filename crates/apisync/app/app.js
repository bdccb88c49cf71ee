// The app's page: the sync icon, the workspace switcher, the sidebar tree and
// the selected document. Everything shown comes from the app API; the live
// channel says when to look again.

import { api, live, ApiError } from "./api.js";
import { renderSync, renderLost } from "./sync_icon.js";
import { createTree, title } from "./tree.js";
import { initWorkspaces, showWorkspace } from "./workspaces.js";
import { initAccount, renderAccount, openSignIn } from "./account.js";
import { initConflicts, updateConflicts } from "./conflicts.js";
import { openEditor, editorFor, editorDirty, closeEditor } from "./editor.js";
import { initPages, refreshPages } from "./pages.js";
import { initTransfer, exportDoc } from "./transfer.js";
import { initScratchPad, updateScratchPad } from "./scratchpad.js";
import { initAccountPages } from "./account_pages.js";
import { showResponse } from "./response_view.js";
import { openRunner } from "./runner_panel.js";
import { initMirrors, updateMirrors } from "./mirrors.js";

const $ = (id) => document.getElementById(id);
const state = { workspace: null, selected: null, docs: [], list: [], signedIn: false, readOnly: false, web: false };
let tree = null;
const OFF_TREE = new Set(["workspace", "history", "run"]);

function showError(e) {
  const box = $("error");
  box.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : String(e && e.message || e);
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 8000);
}

async function loadWorkspaces() {
  const list = await api.workspaces();
  const sel = $("workspace");
  const keep = state.workspace && list.some((w) => w.id === state.workspace) ? state.workspace : null;
  const first = keep || (list.find((w) => w.personal) || list.find((w) => w.local_only) || list[0] || {}).id || null;
  sel.replaceChildren(...list.map((w) => {
    const o = document.createElement("option");
    o.value = w.id;
    o.textContent = w.local_only ? `${w.name} (local only)` : w.role ? `${w.name} (${w.role})` : w.name;
    return o;
  }));
  if (first) sel.value = first;
  state.workspace = first;
  state.list = list;
  updateScratchPad({ list });
  const ws = list.find((w) => w.id === first);
  state.readOnly = showWorkspace(ws);
  tree.setReadOnly(state.readOnly);
  // Shown once a workspace is loaded: a collection made before would land
  // in a workspace the tree is not showing yet.
  $("tree-new").hidden = state.readOnly || !state.workspace;
  $("workspace-note").textContent = ws && ws.local_only ? "Scratch Pad: kept on this device only" : "";
  // Shown whole on hover when the header has no room for it.
  $("workspace-note").title = $("workspace-note").textContent;
  updateMirrors();
}

// `fetched`: the workspace's documents when the caller already has them.
async function loadTree(fetched) {
  if (!state.workspace) { tree.setDocs([], null); $("tree-empty").hidden = false; return; }
  state.docs = fetched || await api.docs(state.workspace);
  // History entries and runs have pages of their own; in the tree every
  // send would add a row.
  const shown = state.docs.filter((d) => !OFF_TREE.has(d.kind));
  tree.setDocs(shown, state.workspace);
  showCount();
  $("tree-empty").hidden = shown.length > 0;
}

// The Runs page, where a finished run shows (its list is live).
function showRuns() {
  const tab = document.querySelector('#side-tabs [data-page="runs"]');
  if (tab) { tab.click(); tab.focus(); }
}

function showCount() {
  const q = $("tree-filter").value.trim();
  $("tree-count").textContent = q ? `${tree.rows()} shown for “${q}”` : "";
}

function field(label, value) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return [dt, dd];
}

// A request opens in the editor (editor.js), unless the workspace is
// read-only for this person; every other document shows its fields read-only.
function renderDetail(doc) {
  const box = $("detail");
  if (doc.kind === "request" && !state.readOnly) {
    openEditor(box, doc, { onSaved: () => loadTree().catch(showError), onError: showError });
    return;
  }
  closeEditor();
  if (doc.kind === "response") { showResponse(box, doc, title(doc)); return; }
  const h = document.createElement("h2");
  h.textContent = title(doc);
  const dl = document.createElement("dl");
  dl.className = "fields";
  dl.setAttribute("aria-label", "Fields");
  for (const [k, v] of Object.entries(doc.fields || {})) dl.append(...field(k, v));
  box.replaceChildren(h, dl);
}

async function select(doc) {
  // Unsaved edits are only dropped when the person says so.
  if (doc.id !== state.selected && editorDirty() && !window.confirm("Discard the unsaved changes to this request?")) return;
  state.selected = doc.id;
  try {
    renderDetail(await api.doc(doc.id));
    tree.setSelected(doc.id);
    tree.focus(doc.id);
  } catch (e) { showError(e); }
}

// Bumped by every refresh: only the newest one draws the tree.
let refreshes = 0;

async function refresh() {
  const seq = ++refreshes;
  try {
    // The three reads go out together, so a change from elsewhere shows after
    // one round trip rather than three; what was read for a workspace or a
    // document no longer shown is dropped and read again.
    const ws = state.workspace;
    const sel = state.selected;
    const docs = ws ? api.docs(ws).catch(() => null) : Promise.resolve(null);
    const open = sel ? api.doc(sel).catch(() => null) : Promise.resolve(null);
    await loadWorkspaces();
    const fetched = await docs;
    // A newer refresh started meanwhile (a live change): an older answer
    // drawn after it would hide that change until the next one.
    if (seq !== refreshes) return;
    await loadTree(state.workspace === ws && fetched ? fetched : undefined);
    await refreshPages();
    // An open editor merges the new version field by field (keeping what the
    // person typed); a plain view follows the store.
    if (state.selected && state.docs.some((d) => d.id === state.selected)) {
      const early = state.selected === sel ? await open : null;
      const doc = early || await api.doc(state.selected);
      const ed = editorFor(state.selected);
      if (ed && doc.kind === "request" && !state.readOnly) ed.remote(doc);
      else renderDetail(doc);
    }
  } catch (e) { showError(e); }
}

function showBanner(status) {
  // Signed out, the web version has nothing to show but the sign-in.
  document.body.classList.toggle("web-signed-out", !!(status.web && status.scratch_pad));
  state.status = status;
  updateScratchPad({ status });
}

// The web version has no Scratch Pad: signed out, it asks to sign in.
function offerSignIn(status) {
  const open = document.getElementById("account-dialog");
  if (status.web && status.scratch_pad && !(open && open.open)) openSignIn("login");
}

async function main() {
  tree = createTree($("tree-viewport"), $("tree"), { onSelect: select, reload: () => loadTree().catch(showError), showError,
    extraActions: (d) => [
      ...(d.kind === "collection" || d.kind === "folder" ? [["Run…", () => openRunner(d, { web: () => state.web, showRuns })]] : []),
      ...(d.kind === "collection" || d.kind === "environment" ? [["Export (Postman file)", () => exportDoc(d)]] : []),
    ] });
  const wsName = () => (state.list.find((w) => w.id === state.workspace) || {}).name || "";
  const show = async (id) => { state.workspace = id; state.selected = null; closeEditor(); $("detail").replaceChildren(); await refresh(); };
  initTransfer({ workspace: () => state.workspace, workspaceName: wsName, docs: () => state.docs, imported: show, showError, web: () => state.web });
  initScratchPad(show, showError);
  initAccountPages({ user: () => state.status && state.status.user, server: () => state.status && state.status.server, web: () => state.web,
    workspaces: () => state.list, changed: () => { state.workspace = null; refresh(); } });
  $("tree-filter").addEventListener("input", (e) => { tree.setFilter(e.target.value); showCount(); });
  $("tree-new").addEventListener("click", () => tree.createCollection());
  initWorkspaces({
    current: () => state.list.find((w) => w.id === state.workspace),
    signedIn: () => state.signedIn,
    changed: async (id) => { state.workspace = id; state.selected = null; closeEditor(); $("detail").replaceChildren(); await refresh(); },
    showError,
  });
  // After a sign-in or sign-out, start over on the account's default
  // workspace (or the Scratch Pad).
  // The web version starts over with the new session's cookie (and a live
  // channel that belongs to it).
  initAccount(() => { if (state.web) { location.reload(); return; } state.workspace = null; state.selected = null; closeEditor(); $("detail").replaceChildren(); refresh(); });
  initConflicts($("conflicts-open"), refresh);
  initPages({ workspace: () => state.workspace, readOnly: () => state.readOnly, web: () => state.web, showError });
  initMirrors({ workspace: () => state.workspace, workspaceName: wsName, readOnly: () => state.readOnly, web: () => state.web, showError });
  $("workspace").addEventListener("change", (e) => {
    state.workspace = e.target.value;
    state.selected = null;
    closeEditor();
    $("detail").replaceChildren();
    state.readOnly = showWorkspace(state.list.find((w) => w.id === state.workspace));
    tree.setReadOnly(state.readOnly);
    $("tree-new").hidden = state.readOnly || !state.workspace;
    updateMirrors();
    loadTree().catch(showError);
    refreshPages();
  });
  try {
    const s = await api.status();
    state.signedIn = !s.scratch_pad;
    state.web = !!s.web;
    document.body.classList.toggle("web", state.web);
    renderSync($("sync"), s);
    showBanner(s);
    renderAccount(s);
    updateConflicts($("conflicts-open"), s);
    updateMirrors(s);
    offerSignIn(s);
  } catch (e) { renderLost($("sync"), state.web); showError(e); }
  // The live channel opens first: a change made while the first look is
  // still being drawn is then heard, never lost in between.
  live((s) => { state.signedIn = !s.scratch_pad; renderSync($("sync"), s); showBanner(s); renderAccount(s); updateConflicts($("conflicts-open"), s); updateMirrors(s); }, refresh, () => renderLost($("sync"), state.web));
  await refresh();
}

main();
