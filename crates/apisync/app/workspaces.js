// The workspace switcher's actions (create, rename, delete) and the small
// modal dialogs the tree shares (confirm, choose, name). Dialogs are native
// modal <dialog>s: focus stays inside, Escape cancels, and every text is set
// with textContent.

import { call } from "./api.js";

export const workspacesApi = {
  create: (name) => call("POST", "/api/workspaces", { name }),
  rename: (id, name) => call("PATCH", `/api/workspaces/${encodeURIComponent(id)}`, { name }),
  remove: (id) => call("DELETE", `/api/workspaces/${encodeURIComponent(id)}`),
};

// Builds a modal dialog; `body(dialog)` adds its controls and returns the
// value read when the primary button is pressed. Resolves to that value, or
// null when cancelled (button or Escape). The dialog is removed afterwards.
function modal(heading, note, primary, body, danger) {
  return new Promise((resolve) => {
    const d = document.createElement("dialog");
    d.className = "small-dialog";
    const form = document.createElement("form");
    form.method = "dialog";
    const h = document.createElement("h2");
    h.textContent = heading;
    h.id = `dlg-${Math.random().toString(36).slice(2)}`;
    d.setAttribute("aria-labelledby", h.id);
    form.appendChild(h);
    if (note) {
      const p = document.createElement("p");
      p.className = "note";
      p.textContent = note;
      form.appendChild(p);
    }
    const read = body(form);
    const actions = document.createElement("div");
    actions.className = "dlg-actions";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    const ok = document.createElement("button");
    ok.type = "submit";
    ok.className = danger ? "danger" : "primary";
    ok.textContent = primary;
    actions.append(cancel, ok);
    form.appendChild(actions);
    d.appendChild(form);
    let value = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      value = read();
      if (value === undefined) return; // not ready (an empty name): stay open
      d.close();
    });
    cancel.addEventListener("click", () => d.close());
    d.addEventListener("close", () => { d.remove(); resolve(value); });
    document.body.appendChild(d);
    d.showModal();
    // The safe choice has the focus for a destructive question.
    const first = form.querySelector("input, select");
    (first || (danger ? cancel : ok)).focus();
  });
}

// Asks "yes or no"; resolves true only when `primary` is pressed.
export async function confirmDialog(question, note, primary) {
  return (await modal(question, note, primary, () => () => true, true)) === true;
}

// Asks for one of `options` ({value, label}); resolves its value or null.
export function chooseDialog(heading, options, primary) {
  return modal(heading, null, primary, (form) => {
    const label = document.createElement("label");
    label.textContent = "Destination";
    const sel = document.createElement("select");
    sel.size = Math.min(10, Math.max(2, options.length));
    for (const o of options) {
      const opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = o.label;
      sel.appendChild(opt);
    }
    sel.selectedIndex = 0;
    label.appendChild(sel);
    form.appendChild(label);
    return () => sel.value || undefined;
  });
}

// Asks for a name; resolves the trimmed name or null.
export function nameDialog(heading, initial, primary) {
  return modal(heading, null, primary, (form) => {
    const label = document.createElement("label");
    label.textContent = "Name";
    const input = document.createElement("input");
    input.value = initial || "";
    input.autocomplete = "off";
    input.required = true;
    label.appendChild(input);
    form.appendChild(label);
    return () => input.value.trim() || undefined;
  });
}

// Wires the switcher's buttons. `current()` is the selected workspace
// object (from GET /api/workspaces), `signedIn()` whether an account is
// signed in; `changed(id)` reloads and selects `id`; `showError(e)` shows a
// refusal (the server's message when it refused, e.g. "only the owner").
export function initWorkspaces({ current, signedIn, changed, showError }) {
  const $ = (id) => document.getElementById(id);
  $("ws-new").addEventListener("click", async () => {
    if (!signedIn()) {
      showError(new Error("Signed out, this device has only the Scratch Pad: sign in to create workspaces."));
      return;
    }
    const name = await nameDialog("New workspace", "", "Create");
    if (!name) return;
    try {
      const made = await workspacesApi.create(name);
      await changed(made.id);
    } catch (e) { showError(e); }
  });
  $("ws-rename").addEventListener("click", async () => {
    const ws = current();
    if (!ws) return;
    const name = await nameDialog(`Rename “${ws.name}”`, ws.name, "Rename");
    if (!name || name === ws.name) return;
    try {
      await workspacesApi.rename(ws.id, name);
      await changed(ws.id);
    } catch (e) { showError(e); }
  });
  $("ws-delete").addEventListener("click", async () => {
    const ws = current();
    if (!ws) return;
    const ok = await confirmDialog(
      `Delete the workspace “${ws.name}”?`,
      "Everything in it is deleted on the server, for every member and every device. Only its owner may do this.",
      "Delete workspace",
    );
    if (!ok) return;
    try {
      await workspacesApi.remove(ws.id);
      await changed(null);
    } catch (e) { showError(e); }
  });
}

// Shows the selected workspace's role and which actions apply to it.
// Returns whether the person may only view it.
export function showWorkspace(ws) {
  const $ = (id) => document.getElementById(id);
  const role = $("ws-role");
  const readOnly = !!ws && ws.role === "viewer";
  // Every workspace but the personal one and the Scratch Pad (which has no
  // role) names the person's role in it; a viewer is told why nothing can be changed.
  const shown = ws && !ws.local_only && !ws.personal && ws.role;
  role.hidden = !shown;
  role.textContent = shown ? (readOnly ? "Viewer: read-only" : `Role: ${ws.role}`) : "";
  role.dataset.role = shown ? ws.role : "";
  // The keys a viewer has: moving and opening, none of the editing ones.
  $("tree-keys").textContent = readOnly
    ? "Keys: arrows move, Left/Right fold, Enter opens."
    : "Keys: arrows move, Enter opens, F2 renames, Alt+↑/↓ reorders, M moves to…, Ctrl+D duplicates, Del deletes, Shift+F10 all actions.";
  const scratch = !ws || ws.local_only;
  $("ws-rename").hidden = scratch || readOnly;
  $("ws-delete").hidden = scratch;
  return readOnly;
}
