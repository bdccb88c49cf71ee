// The Header presets page: the workspace's named sets of headers. The
// sidebar lists them (New preset makes one); the page edits the selected
// one's headers as a Key/Value table. Each committed edit (Enter, or
// leaving the field) saves the whole `headers` list in one PATCH, keeping
// any other keys of each header (description, disabled) as they were.

import { api, call } from "./api.js";
import { el, text, setInput, reconcile, onCommit, sideList } from "./page_dom.js";
import { nameDialog, confirmDialog } from "./workspaces.js";

const list = (ws) => call("GET", `/api/workspaces/${encodeURIComponent(ws)}/header-presets`);
const headersOf = (doc) => (Array.isArray(doc.fields.headers) ? doc.fields.headers.filter((h) => h && typeof h === "object") : []);

export function presetsPage() {
  let selected = null;
  let shownId = null;
  let view = null;

  // The editor of one preset; `update(doc)` refreshes it in place.
  function editor(ctx, readOnly) {
    let doc = null;
    const rows = [];
    const tbody = el("tbody");
    const save = async (headers) => {
      try { await api.set(doc.id, { headers }); ctx.reload(); } catch (e) { ctx.showError(e); ctx.reload(); }
    };
    const row = () => {
      const key = el("input", { type: "text", autocomplete: "off", spellcheck: "false", className: "hp-key" });
      const value = el("input", { type: "text", autocomplete: "off", spellcheck: "false", className: "hp-value" });
      const del = el("button", { type: "button", className: "vt-delete", text: "Delete", hidden: readOnly });
      const tr = el("tr", {}, el("td", {}, key), el("td", {}, value), el("td", { className: "vt-actions" }, del));
      const commit = (input, field) => {
        if (input.readOnly || input.value === input.dataset.saved) return;
        const i = rows.indexOf(tr);
        const headers = headersOf(doc).map((h) => ({ ...h }));
        if (!headers[i]) return;
        headers[i][field] = input.value;
        input.dataset.saved = input.value;
        save(headers);
      };
      onCommit(key, () => commit(key, "key"));
      onCommit(value, () => commit(value, "value"));
      del.addEventListener("click", () => {
        const headers = headersOf(doc).filter((_, j) => j !== rows.indexOf(tr));
        save(headers);
      });
      tr.parts = { key, value, del };
      return tr;
    };
    const addKey = el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Add a header", "aria-label": "New header name" });
    const addValue = el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Value", "aria-label": "New header value" });
    const addBtn = el("button", { type: "button", className: "vt-add", text: "Add" });
    const addNew = async () => {
      const key = addKey.value.trim();
      if (!key) { addKey.focus(); ctx.showError(new Error("Type the new header's name first.")); return; }
      try {
        await api.set(doc.id, { headers: [...headersOf(doc), { key, value: addValue.value }] });
        addKey.value = ""; addValue.value = "";
        addKey.focus();
        ctx.reload();
      } catch (e) { ctx.showError(e); }
    };
    for (const i of [addKey, addValue]) i.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addNew(); } });
    addBtn.addEventListener("click", addNew);
    const head = el("tr", {}, el("th", { scope: "col", text: "Key" }), el("th", { scope: "col", text: "Value" }),
      el("th", { scope: "col", className: "vt-actions" }, el("span", { className: "sr-only", text: "Actions" })));
    const table = el("table", { className: "vt hp" }, el("thead", {}, head), tbody,
      readOnly ? null : el("tfoot", {}, el("tr", { className: "vt-new" }, el("td", {}, addKey), el("td", {}, addValue), el("td", { className: "vt-actions" }, addBtn))));
    const empty = el("p", { className: "note", text: "No headers in this preset yet." });
    return {
      el: el("div", { className: "vt-wrap" }, table, empty),
      update(d) {
        doc = d;
        table.setAttribute("aria-label", `Headers of ${text(d.fields.name)}`);
        const headers = headersOf(d);
        while (rows.length < headers.length) rows.push(row());
        rows.length = headers.length;
        headers.forEach((h, i) => {
          const p = rows[i].parts;
          const n = text(h.key) || `header ${i + 1}`;
          setInput(p.key, text(h.key));
          setInput(p.value, text(h.value));
          p.key.readOnly = p.value.readOnly = readOnly;
          p.key.setAttribute("aria-label", `Header ${i + 1} name`);
          p.value.setAttribute("aria-label", `Value of ${n}`);
          p.del.setAttribute("aria-label", `Delete header ${n}`);
        });
        reconcile(tbody, rows);
        empty.hidden = headers.length > 0;
      },
    };
  }

  return {
    async render(side, main, ctx) {
      const presets = await list(ctx.workspace());
      if (!ctx.current()) return; // another page or workspace was chosen meanwhile
      // `selected` is what the person chose (or just made); until it is listed the first is shown.
      const doc = presets.find((p) => p.id === selected) || presets[0] || null;
      const newBtn = el("button", { type: "button", className: "side-new", text: "New preset", hidden: ctx.readOnly() });
      newBtn.addEventListener("click", async () => {
        const name = await nameDialog("New header preset", "", "Create");
        if (!name) return;
        try {
          const made = await api.create("header-preset", { name, headers: [] }, undefined, ctx.workspace());
          selected = made.id;
          ctx.reload();
        } catch (e) { ctx.showError(e); }
      });
      sideList(side, newBtn, {
        label: "Header presets", docs: presets, current: doc, empty: "No header presets in this workspace yet.",
        item: (p) => {
          const n = headersOf(p).length;
          return [el("span", { className: "side-name", text: text(p.fields.name) || "(unnamed)" }),
            el("span", { className: "side-meta", text: n === 1 ? "1 header" : `${n} headers` })];
        },
        pick: (p) => { selected = p.id; ctx.rerender(); },
      });

      if (!doc) {
        view = null; shownId = null;
        main.replaceChildren(el("h2", { id: "page-title", text: "Header presets" }),
          el("p", { className: "note", text: "A header preset is a named set of headers to add to requests. New preset in the sidebar makes one." }));
        return;
      }
      if (shownId !== doc.id || !view || !main.contains(view.el)) {
        shownId = doc.id;
        view = editor(ctx, ctx.readOnly());
        const title = el("h2", { id: "page-title", className: "page-name" });
        const rename = el("button", { type: "button", text: "Rename", hidden: ctx.readOnly() });
        rename.addEventListener("click", async () => {
          const now = title.textContent;
          const name = await nameDialog(`Rename “${now}”`, now, "Rename");
          if (!name || name === now) return;
          try { await api.set(shownId, { name }); ctx.reload(); } catch (e) { ctx.showError(e); }
        });
        const del = el("button", { type: "button", className: "danger", text: "Delete", hidden: ctx.readOnly() });
        del.addEventListener("click", async () => {
          const ok = await confirmDialog(`Delete the header preset “${title.textContent}”?`, "It is deleted for everyone in the workspace.", "Delete preset");
          if (!ok) return;
          try { await api.remove(shownId); selected = null; ctx.reload(); } catch (e) { ctx.showError(e); }
        });
        main.replaceChildren(el("div", { className: "page-head" }, title, el("span", { className: "page-spacer" }), rename, del),
          el("p", { className: "note", text: "Changes are saved when you press Enter or leave the field." }), view.el);
        main.parts = { title };
      }
      main.parts.title.textContent = text(doc.fields.name) || "(unnamed)";
      view.update(doc);
    },
    reset() { selected = null; shownId = null; view = null; },
  };
}
