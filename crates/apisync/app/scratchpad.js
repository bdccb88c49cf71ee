// The Scratch Pad's banner. Signed out it says the Scratch Pad is kept on
// this device only and offers its export; signed in, while the Scratch Pad
// still holds documents, it offers to move them into a workspace of the
// account (POST /api/scratchpad/move, the CLI's `scratchpad move`).

import { api, call } from "./api.js";
import { chooseDialog } from "./workspaces.js";
import { el } from "./page_dom.js";

let seen = { status: null, list: [] };
let moved = () => {};
let showError = () => {};
let asked = 0; // each render's number: a slow count never overwrites a newer banner

async function move() {
  const targets = seen.list.filter((w) => !w.local_only && w.role !== "viewer");
  if (!targets.length) { showError(new Error("Your account has no workspace to move into: create one first.")); return; }
  const choice = await chooseDialog("Move the Scratch Pad into…",
    targets.map((w) => ({ value: w.id, label: w.personal ? `${w.name} (personal)` : w.name })), "Move");
  if (!choice) return;
  try {
    const r = await call("POST", "/api/scratchpad/move", { workspace: choice });
    moved(r.workspace, r.moved);
  } catch (e) { showError(e); }
}

async function render() {
  const b = document.getElementById("banner");
  const { status, list } = seen;
  if (!b || !status) return;
  const mine = ++asked;
  // The web version has no Scratch Pad: signed out, it asks to sign in.
  if (status.web) {
    b.hidden = !status.scratch_pad;
    b.textContent = status.scratch_pad ? "Signed out: sign in or create an account to work on your workspaces in this browser." : "";
    return;
  }
  if (status.scratch_pad) {
    b.replaceChildren(
      el("span", { text: "Signed out: you are in the Scratch Pad. It is kept on this device only and never synced. " }),
      el("a", { href: "/api/export", download: "", id: "scratch-export", text: "Export it" }),
      el("span", { text: " to keep a copy; after you sign in it can move into a workspace." }));
    b.hidden = false;
    return;
  }
  const pad = list.find((w) => w.local_only);
  let count = 0;
  if (pad) {
    try { count = (await api.docs(pad.id)).filter((d) => d.kind !== "workspace").length; } catch { count = 0; }
  }
  if (mine !== asked) return;
  if (!count) { b.hidden = true; b.replaceChildren(); return; }
  b.replaceChildren(
    el("span", { text: `Your Scratch Pad still holds ${count} document(s) kept only on this device. ` }),
    el("button", { type: "button", id: "scratch-move", class: "banner-action", text: "Move into a workspace…", onclick: move }),
    el("span", { text: " " }),
    el("a", { href: "/api/export", download: "", text: "Export" }));
  b.hidden = false;
}

// Called with each status and each workspace list the page loads.
export function updateScratchPad({ status, list }) {
  const before = JSON.stringify([seen.status && seen.status.scratch_pad, seen.list.map((w) => w.id)]);
  if (status) seen.status = status;
  if (list) seen.list = list;
  const after = JSON.stringify([seen.status && seen.status.scratch_pad, seen.list.map((w) => w.id)]);
  // A status arrives on every change; the banner changes only with the
  // account or the workspaces (or after a reload of the list, below).
  if (before !== after || list) render();
}

// `onMoved(workspaceId, count)` shows the workspace the documents went to.
export function initScratchPad(onMoved, onError) {
  moved = onMoved;
  showError = onError;
}
