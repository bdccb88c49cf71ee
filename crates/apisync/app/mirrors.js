// Mirroring the shown workspace to a folder (desktop app only): "Mirror to
// a folder…" under Import/Export (beside the list it fills; the header has
// no room left) opens a small dialog (the folder's full path, Start); below
// it the sidebar lists the workspace's mirrors with their state in words ("In step · 2 s ago", or what stops one, in the error style) and
// Stop or Start. The list comes with every status (the live channel), so a
// file edited on disk, a merge-conflict marker or its fix shows by itself.
// The web version shows none of it: its server never writes to a typed path.

import { call } from "./api.js";
import { el } from "./page_dom.js";

const $ = (id) => document.getElementById(id);
let ctx = null; // { workspace(), workspaceName(), readOnly(), web(), showError }
let mirrors = []; // every mirror of the profile, as the last status gave them

// How long ago `ms` was, in the words of the list ("2 s ago").
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// What the last pass that changed something did, in words.
function changeWords(c) {
  const parts = [];
  if (c.applied) parts.push(plural(c.applied, "edit from the files", "edits from the files"));
  if (c.written) parts.push(plural(c.written, "file written", "files written"));
  if (c.removed) parts.push(plural(c.removed, "file removed", "files removed"));
  return `Last change ${ago(c.at)}: ${parts.join(", ") || "nothing"}`;
}

// One mirror's row: its folder, its state, what its last change did, and Stop (or Start).
function row(m) {
  const state = !m.running ? "idle" : m.error ? "stopped" : "in-step";
  const words = [];
  if (m.running && !m.error) {
    words.push(el("p", { class: "mirror-state", text: m.last ? `In step · ${ago(m.last)}` : "Starting…" }));
  } else if (m.running) {
    words.push(el("div", { class: "mirror-problem account-problem" },
      el("p", { class: "mirror-state" }, el("strong", { text: "Stopped:" }), ` ${m.error}`),
      el("p", { class: "note", text: "Fix the file: the mirror goes on by itself once the folder reads cleanly." })));
  } else {
    words.push(el("p", { class: "mirror-state", text: m.last ? `Not running · last pass ${ago(m.last)}` : "Not running" }));
    if (m.error) words.push(el("div", { class: "mirror-problem account-problem" }, el("p", { text: m.error })));
  }
  if (m.last_change) words.push(el("p", { class: "note mirror-change", text: changeWords(m.last_change) }));
  const action = m.running
    ? el("button", { type: "button", dataset: { dir: m.dir, act: "stop" }, "aria-label": `Stop mirroring to ${m.dir}`, text: "Stop", onclick: () => stop(m.dir) })
    : ctx.readOnly()
      ? null
      : el("button", { type: "button", dataset: { dir: m.dir, act: "start" }, "aria-label": `Start mirroring to ${m.dir}`, text: "Start", onclick: () => start(m.dir) });
  return el("li", { class: "mirror", dataset: { state, dir: m.dir } },
    el("div", { class: "mirror-head" }, el("span", { class: "mirror-dir", title: m.dir, text: m.dir }), action),
    ...words);
}

// Draws the action and the shown workspace's mirrors (nothing on the web).
function draw() {
  const section = $("mirrors");
  const box = $("mirror-body");
  if (!section || !box || !ctx) return;
  const ws = ctx.workspace();
  const mine = ctx.web() || !ws ? [] : mirrors.filter((m) => m.workspace === ws);
  // A viewer may not edit, and a mirror edits: no new mirror, but those running are shown.
  $("mirror-open").hidden = ctx.web() || !ws || ctx.readOnly();
  section.hidden = $("mirror-open").hidden && mine.length === 0;
  if (!mine.length) { box.replaceChildren(); return; }
  // A redraw (every status, every few seconds for the times) keeps the focus on the button it was on.
  const had = box.contains(document.activeElement) ? document.activeElement.dataset : null;
  box.replaceChildren(
    el("h2", { class: "pane-title", id: "mirrors-title", text: "Mirrored to folders" }),
    el("ul", { class: "mirror-list", "aria-labelledby": "mirrors-title" }, ...mine.map(row)));
  if (had && had.dir) {
    const again = [...box.querySelectorAll("button")].find((b) => b.dataset.dir === had.dir);
    if (again) again.focus();
  }
}

// Takes the mirrors of a status (or a list the API gave) and draws them.
export function updateMirrors(status) {
  if (status && Array.isArray(status.mirrors)) mirrors = status.mirrors;
  draw();
}

async function reload() {
  try { mirrors = await call("GET", "/api/mirrors"); } catch (e) { ctx.showError(e); }
  draw();
}

async function stop(dir) {
  try { await call("POST", "/api/mirrors/stop", { dir }); } catch (e) { ctx.showError(e); }
  await reload();
  const again = document.querySelector(`#mirrors button[data-act="start"]`);
  if (again && again.dataset.dir === dir) again.focus();
}

async function start(dir) {
  try { await call("POST", "/api/mirrors", { workspace: ctx.workspace(), dir }); } catch (e) { ctx.showError(e); }
  await reload();
}

// The dialog: the folder's full path and Start. A refusal (not absolute, a
// file, a folder mirroring another workspace) stays in the dialog, in the
// error style, until the path is changed and Start pressed again.
function openDialog() {
  const ws = ctx.workspace();
  if (!ws) return;
  const d = el("dialog", { class: "small-dialog mirror-dialog", id: "mirror-dialog", "aria-labelledby": "mirror-dialog-title" });
  const input = el("input", { id: "mirror-dir", name: "dir", type: "text", autocomplete: "off", spellcheck: "false", required: true,
    placeholder: "/home/you/shop-api/postman", "aria-describedby": "mirror-dir-note" });
  const problem = el("div", { class: "account-problem", role: "alert", hidden: true });
  const ok = el("button", { type: "submit", class: "primary", text: "Start" });
  const cancel = el("button", { type: "button", text: "Cancel", onclick: () => d.close() });
  const form = el("form", { method: "dialog" },
    el("h2", { id: "mirror-dialog-title", text: `Mirror “${ctx.workspaceName()}” to a folder` }),
    el("p", { class: "note", id: "mirror-dir-note",
      text: "While the app runs, the folder and the workspace stay the same both ways: a change here is written to its file, and a file you edit (or git checks out) becomes an edit here. It is a Postman v3 postman/ folder (collections/, environments/, globals/); a missing folder is created." }),
    el("label", {}, el("span", { text: "Folder (full path)" }), input),
    problem,
    el("div", { class: "dlg-actions" }, cancel, ok));
  // A refusal answers the path it was given: a new path clears it.
  input.addEventListener("input", () => { problem.hidden = true; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const dir = input.value.trim();
    if (!dir) { input.focus(); return; }
    ok.disabled = true;
    problem.hidden = true;
    try {
      await call("POST", "/api/mirrors", { workspace: ws, dir });
      d.close();
      await reload();
    } catch (err) {
      problem.replaceChildren(el("p", { text: err.message }));
      problem.hidden = false;
      input.focus();
    } finally { ok.disabled = false; }
  });
  d.addEventListener("close", () => d.remove());
  d.append(form);
  document.body.append(d);
  d.showModal();
  input.focus();
}

// Wires the header's action and the clock that keeps "2 s ago" true.
export function initMirrors(context) {
  ctx = context;
  $("mirror-open").addEventListener("click", openDialog);
  setInterval(() => { if ($("mirror-body").childElementCount) draw(); }, 5000);
}
