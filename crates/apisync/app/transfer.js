// Import and export in the app: the header's Import button (a file picker)
// and Postman files dropped onto the page go to POST /api/import, the
// importer `apisync import` uses, into the workspace shown; its report (what
// was converted, what was dropped) is shown in a dialog. Export offers
// downloads: everything, the workspace's globals, each collection and
// environment (also from a tree row's actions menu). Exports only read, so
// they stay available while conflicts wait.

import { el } from "./page_dom.js";

const $ = (id) => document.getElementById(id);
let ctx = null; // { workspace(), workspaceName(), docs(), imported(ws), showError, web() }

// One modal dialog for the import report and the export choices.
function dialog(heading, ...body) {
  let d = $("transfer-dialog");
  if (!d) {
    d = el("dialog", { id: "transfer-dialog", class: "account-dialog transfer-dialog", "aria-labelledby": "transfer-dialog-title" });
    document.body.appendChild(d);
  }
  const close = el("button", { type: "button", class: "primary", text: "Close", onclick: () => d.close() });
  d.replaceChildren(el("h2", { id: "transfer-dialog-title", text: heading }), ...body, el("div", { class: "account-actions" }, close));
  if (!d.open) d.showModal();
  close.focus();
  return d;
}

// Sends one file's bytes; resolves the report or throws with the server's message.
async function importOne(file, workspace) {
  const q = new URLSearchParams({ name: file.name });
  if (workspace) q.set("workspace", workspace);
  const res = await fetch(`/api/import?${q}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/octet-stream" },
    body: file,
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new Error(e.message || `${file.name}: ${res.status} ${res.statusText}`);
  }
  return data;
}

// Imports the files one by one (each all of it or nothing: a file the
// importer refuses writes nothing) and shows what each became, with the importer's notes.
export async function importFiles(files) {
  const list = Array.from(files || []);
  if (!list.length || !ctx) return;
  const ws = ctx.workspace();
  const items = el("ul", { class: "import-report", "aria-label": "Imported files" });
  const busy = el("p", { class: "account-busy", "aria-live": "polite", text: `Importing ${list.length} file(s)…` });
  dialog("Import", busy, items);
  let any = false;
  for (const f of list) {
    try {
      const r = await importOne(f, ws);
      any = true;
      for (const file of r.files || []) {
        const notes = el("ul", { class: "import-notes", "aria-label": `Notes for ${f.name}` },
          ...(file.notes || []).map((n) => el("li", { text: n })));
        items.append(el("li", { class: "import-ok" },
          el("strong", { text: f.name }),
          el("span", { text: ` (${file.format}): ${file.summary || "nothing"} into “${r.workspace_name}”` }),
          (file.notes || []).length ? notes : el("p", { class: "note", text: "Everything was converted." })));
      }
    } catch (e) {
      // The alert is inside the item: a list holds only list items.
      items.append(el("li", { class: "import-bad account-problem" }, el("p", { role: "alert", text: e.message })));
    }
  }
  busy.textContent = "";
  if (any) ctx.imported(ws);
}

function downloadLink(href, text) {
  return el("a", { href, download: "", class: "transfer-download", text });
}

// The export choices for the workspace shown.
export function openExport() {
  if (!ctx) return;
  const ws = ctx.workspace();
  const docs = ctx.docs().filter((d) => d.kind === "collection" || d.kind === "environment");
  // The web version has no device to back up: its backup is the account's
  // workspaces as the server has them (the same data dump).
  const web = !!(ctx.web && ctx.web());
  const rows = [el("li", {}, downloadLink("/api/export", web ? "Everything in your account" : "Everything on this device"), el("span", { class: "note", text: " (a Postman data dump: your backup)" }))];
  if (ws) {
    rows.push(el("li", {}, downloadLink(`/api/export/globals/${encodeURIComponent(ws)}`, `Globals of “${ctx.workspaceName()}”`)));
  }
  for (const d of docs) {
    const name = (d.fields && d.fields.name) || d.id;
    const what = d.kind === "collection" ? "collection, Postman v2.1.0" : "environment";
    rows.push(el("li", {}, downloadLink(exportPath(d), name), el("span", { class: "note", text: ` (${what})` })));
  }
  dialog("Export", el("p", { class: "note", text: "Each link downloads a Postman file." }),
    el("ul", { class: "export-list", "aria-label": "Downloads" }, ...rows));
}

// The download address of a collection or environment.
export function exportPath(doc) {
  return `/api/export/doc/${encodeURIComponent(doc.id)}`;
}

// Starts the download of a collection or environment (the tree's menu).
export function exportDoc(doc) {
  const a = downloadLink(exportPath(doc), "");
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// Files dragged from outside (not the tree's own rows) show the drop zone.
function hasFiles(e) {
  return e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
}

export function initTransfer(context) {
  ctx = context;
  const root = $("transfer");
  if (!root) return;
  const input = el("input", { type: "file", id: "import-file", multiple: true, accept: ".json,application/json", hidden: true,
    "aria-label": "Postman files to import" });
  input.addEventListener("change", () => { const f = Array.from(input.files); input.value = ""; importFiles(f); });
  root.replaceChildren(
    el("button", { type: "button", id: "import-open", text: "Import…", title: "Import Postman files (or drop them onto the page)",
      onclick: () => input.click() }),
    el("button", { type: "button", id: "export-open", text: "Export…", onclick: openExport }),
    input);
  const zone = el("div", { id: "drop-zone", class: "drop-zone", hidden: true }, el("p", { text: "Drop Postman files to import them" }));
  document.body.appendChild(zone);
  let depth = 0;
  // The web version imports too (POST /api/import, written as pushes).
  document.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; zone.hidden = false; } });
  document.addEventListener("dragleave", (e) => { if (hasFiles(e) && --depth <= 0) { depth = 0; zone.hidden = true; } });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.hidden = true;
    importFiles(e.dataTransfer.files);
  });
}
