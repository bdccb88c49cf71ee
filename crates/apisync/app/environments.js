// The Environments and Globals pages and the active environment picker.
// A variable shows its initial value (synced to everyone in the workspace)
// beside this device's current value (never synced), with its enabled flag
// and description. A secret's values come
// masked from the API; Reveal asks for one variable's real values
// (`GET /api/variables/{id}?reveal=true`) and Hide drops them again. Edits
// are saved when committed (Enter, or leaving the field) through the
// ordinary document endpoints, so they queue and sync like the CLI's.
// The web version (`ctx.web()`) keeps no current values and no active
// environment: that column shows as not applicable and Set active is not offered.

import { api, call } from "./api.js";
import { el, text, setInput, reconcile, onCommit, sideList } from "./page_dom.js";
import { nameDialog, confirmDialog } from "./workspaces.js";

const enc = encodeURIComponent;
export const envApi = {
  list: (ws) => call("GET", `/api/workspaces/${enc(ws)}/environments`),
  reveal: (id) => call("GET", `/api/variables/${enc(id)}?reveal=true`),
  setActive: (ws, environment) => call("PUT", `/api/workspaces/${enc(ws)}/active-environment`, { environment }),
};

const MASK = "••••••";

// ---- the variables table ------------------------------------------------------

// A table of variables (an environment's, or the globals): On (Postman's
// `enabled`: a disabled variable is kept but not used), Variable, Initial
// value, Current value, Description, Secret, and per row Reveal/Hide and Delete;
// a last row adds one. `create(fields)` makes a new variable. Rows are kept
// by id across updates, so a live refresh never moves the focus.
function varTable({ label, readOnly, create, ctx }) {
  const web = !!(ctx.web && ctx.web());
  const revealed = new Map(); // id -> the variable as revealed
  const rows = new Map(); // id -> <tr>
  let vars = [];
  const tbody = el("tbody");
  const head = el("tr", {},
    el("th", { scope: "col", className: "vt-on", text: "On" }),
    el("th", { scope: "col", text: "Variable" }),
    el("th", { scope: "col", text: "Initial value" }),
    el("th", { scope: "col", text: "Current value" }),
    el("th", { scope: "col", text: "Description" }),
    el("th", { scope: "col", className: "vt-narrow", text: "Secret" }),
    el("th", { scope: "col", className: "vt-actions" }, el("span", { className: "sr-only", text: "Actions" })));
  const table = el("table", { className: "vt", "aria-label": label }, el("thead", {}, head), tbody);

  async function commit(v, input, field) {
    if (input.readOnly || input.value === input.dataset.saved) return;
    const value = input.value;
    if (field === "key" && !value.trim()) {
      ctx.showError(new Error("A variable needs a name."));
      input.value = input.dataset.saved;
      return;
    }
    const before = input.dataset.saved;
    input.dataset.saved = value; // a second commit (Enter, then blur) sends nothing
    try {
      await api.set(v.id, { [field]: field === "description" ? descriptionField(v.description, value) : value });
      const r = revealed.get(v.id);
      if (r) r[field] = value;
      ctx.reload();
    } catch (e) {
      input.dataset.saved = before;
      ctx.showError(e);
    }
  }

  function build(v) {
    const input = (field) => {
      const i = el("input", { type: "text", autocomplete: "off", spellcheck: "false", className: `vt-${field}`, dataset: { field } });
      onCommit(i, () => commit(vars.find((x) => x.id === v.id) || v, i, field));
      return i;
    };
    const key = input("key");
    const value = input("value");
    const current = input("current");
    const description = input("description");
    const enabled = el("input", { type: "checkbox", className: "vt-enabled" });
    enabled.addEventListener("change", async () => {
      try {
        await api.set(v.id, { enabled: enabled.checked });
        ctx.reload();
      } catch (e) { enabled.checked = !enabled.checked; ctx.showError(e); }
    });
    const secret = el("input", { type: "checkbox", className: "vt-secret" });
    secret.addEventListener("change", async () => {
      try {
        if (secret.checked) revealed.delete(v.id);
        await api.set(v.id, { type: secret.checked ? "secret" : "default" });
        ctx.reload();
      } catch (e) { secret.checked = !secret.checked; ctx.showError(e); }
    });
    const reveal = el("button", { type: "button", className: "vt-reveal" });
    reveal.addEventListener("click", async () => {
      try {
        if (revealed.has(v.id)) revealed.delete(v.id);
        else revealed.set(v.id, await envApi.reveal(v.id));
        const now = vars.find((x) => x.id === v.id);
        if (now) fill(tr, now);
      } catch (e) { ctx.showError(e); }
    });
    const del = el("button", { type: "button", className: "vt-delete", text: "Delete", hidden: readOnly });
    del.addEventListener("click", async () => {
      try {
        await api.remove(v.id);
        ctx.reload();
      } catch (e) { ctx.showError(e); }
    });
    const tr = el("tr", { dataset: { id: v.id } },
      el("td", { className: "vt-on" }, enabled),
      el("td", {}, key), el("td", {}, value), el("td", {}, current), el("td", {}, description),
      el("td", { className: "vt-narrow" }, secret),
      el("td", { className: "vt-actions" }, reveal, del));
    tr.parts = { key, value, current, description, enabled, secret, reveal, del };
    return tr;
  }

  // Shows `v` in its row: masked values stay read-only until revealed.
  function fill(tr, v) {
    const p = tr.parts;
    const shown = revealed.get(v.id);
    const masked = v.masked && !shown;
    const name = text(v.key) || "(unnamed)";
    setInput(p.key, text(v.key));
    setInput(p.value, masked ? MASK : text((shown || v).value));
    p.key.readOnly = readOnly;
    p.value.readOnly = readOnly || masked;
    p.key.setAttribute("aria-label", `Variable name ${name}`);
    p.value.setAttribute("aria-label", `Initial value of ${name}${masked ? " (hidden)" : ""}`);
    p.value.classList.toggle("vt-masked", masked);
    if (web) {
      notApplicable(p.current, `Current value of ${name}: kept only by the desktop app`);
    } else {
      setInput(p.current, masked ? MASK : text((shown || v).current));
      p.current.readOnly = masked;
      p.current.classList.toggle("vt-masked", masked);
      p.current.setAttribute("aria-label", `Current value of ${name}${masked ? " (hidden)" : ""}`);
    }
    setInput(p.description, descriptionText(v.description));
    p.description.readOnly = readOnly;
    p.description.setAttribute("aria-label", `Description of ${name}`);
    p.enabled.checked = v.enabled !== false;
    p.enabled.disabled = readOnly;
    p.enabled.setAttribute("aria-label", `${name} is enabled`);
    tr.classList.toggle("vt-off", v.enabled === false);
    p.secret.checked = !!v.secret;
    p.secret.disabled = readOnly;
    p.secret.setAttribute("aria-label", `${name} is secret`);
    p.reveal.hidden = !v.secret;
    p.reveal.textContent = masked ? "Reveal" : "Hide";
    p.reveal.setAttribute("aria-pressed", String(!masked));
    p.reveal.setAttribute("aria-label", `${masked ? "Reveal" : "Hide"} the values of ${name}`);
    p.del.setAttribute("aria-label", `Delete variable ${name}`);
  }

  // The row that adds a variable: Enter in any of its fields, or Add.
  const add = {
    enabled: el("input", { type: "checkbox", checked: true, "aria-label": "New variable is enabled" }),
    key: el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Add a variable", "aria-label": "New variable name" }),
    value: el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Initial value", "aria-label": "New variable initial value" }),
    current: el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Current value", "aria-label": "New variable current value" }),
    description: el("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "Description", "aria-label": "New variable description" }),
    secret: el("input", { type: "checkbox", "aria-label": "New variable is secret" }),
    button: el("button", { type: "button", className: "vt-add", text: "Add" }),
  };
  const addNew = async () => {
    const key = add.key.value.trim();
    if (!key) { add.key.focus(); ctx.showError(new Error("Type the new variable's name first.")); return; }
    const fields = { key, value: add.value.value, type: add.secret.checked ? "secret" : "default" };
    if (add.current.value !== "") fields.current = add.current.value;
    if (add.description.value !== "") fields.description = add.description.value;
    // Postman writes `enabled` on every variable; absent reads as enabled.
    fields.enabled = add.enabled.checked;
    try {
      await create(fields);
      for (const i of [add.key, add.value, add.current, add.description]) i.value = "";
      add.secret.checked = false;
      add.enabled.checked = true;
      add.key.focus();
      ctx.reload();
    } catch (e) { ctx.showError(e); }
  };
  if (web) notApplicable(add.current, "New variable current value: kept only by the desktop app");
  for (const i of [add.key, add.value, add.current, add.description]) i.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addNew(); } });
  add.button.addEventListener("click", addNew);
  if (!readOnly) {
    table.append(el("tfoot", {}, el("tr", { className: "vt-new" },
      el("td", { className: "vt-on" }, add.enabled),
      el("td", {}, add.key), el("td", {}, add.value), el("td", {}, add.current), el("td", {}, add.description),
      el("td", { className: "vt-narrow" }, add.secret), el("td", { className: "vt-actions" }, add.button))));
  }
  const empty = el("p", { className: "note", text: "No variables yet." });

  return {
    el: el("div", { className: "vt-wrap" }, table, empty),
    update(list) {
      vars = list;
      for (const id of [...rows.keys()]) if (!list.some((v) => v.id === id)) { rows.delete(id); revealed.delete(id); }
      const trs = list.map((v) => {
        let tr = rows.get(v.id);
        if (!tr) { tr = build(v); rows.set(v.id, tr); }
        if (!v.secret) revealed.delete(v.id);
        fill(tr, v);
        return tr;
      });
      reconcile(tbody, trs);
      empty.hidden = list.length > 0;
      // A revealed row follows edits made elsewhere: ask for it again.
      for (const id of revealed.keys()) {
        envApi.reveal(id).then((r) => {
          if (!revealed.has(id)) return;
          revealed.set(id, r);
          const v = vars.find((x) => x.id === id);
          const tr = rows.get(id);
          if (v && tr) fill(tr, v);
        }, () => {});
      }
    },
  };
}

// A description as text; Postman also allows `{content, type}`.
const descriptionText = (d) => (d && typeof d === "object" ? text(d.content) : text(d));

// The description field to save for `typed`: an object keeps its type, and
// an emptied plain description is removed rather than kept as "".
function descriptionField(old, typed) {
  if (old && typeof old === "object" && !Array.isArray(old)) return { ...old, content: typed };
  return typed === "" ? null : typed;
}

// The web version's Current value cell: empty, disabled, saying why.
function notApplicable(input, label) {
  setInput(input, "");
  input.disabled = true;
  input.classList.add("vt-na");
  input.placeholder = "n/a on the web";
  input.title = "Current values stay on a device; the web version keeps none (use the desktop app for them).";
  input.setAttribute("aria-label", label);
}

const WEB_NOTE = "Initial values are synced to everyone in the workspace. Current values stay on a device: the web version keeps none, and has no active environment (use the desktop app for both). Secret values are hidden until you reveal them; a variable whose On box is cleared is kept but not used. Changes are saved when you press Enter or leave the field.";

const NOTE = "Initial values are synced to everyone in the workspace; current values stay on this device. Secret values are hidden until you reveal them; a variable whose On box is cleared is kept but not used. Changes are saved when you press Enter or leave the field.";

const note = (ctx) => (ctx.web && ctx.web() ? WEB_NOTE : NOTE);

// ---- the active environment picker (header bar) --------------------------

// Fills the header's picker from the environments list; choosing one is
// kept on this device only.
export function renderPicker(select, data, ctx) {
  if (!select.dataset.wired) {
    select.dataset.wired = "1";
    select.addEventListener("change", async () => {
      try {
        await envApi.setActive(ctx.workspace(), select.value || null);
        ctx.reload();
      } catch (e) { ctx.showError(e); ctx.reload(); }
    });
  }
  const options = [el("option", { value: "", text: "No environment" }),
    ...(data ? data.environments : []).map((e) => el("option", { value: e.id, text: e.name || "(unnamed)" }))];
  select.replaceChildren(...options);
  select.value = (data && data.active) || "";
  select.disabled = !data;
}

// ---- the Environments page -------------------------------------------------

export function environmentsPage() {
  let selected = null;
  let shownId = null;
  let table = null;

  return {
    render(side, main, ctx, data) {
      const envs = data.environments;
      // `selected` is what the person chose (or just made); until it is in
      // the list, the active environment, else the first, is shown.
      const env = envs.find((e) => e.id === selected) || envs.find((e) => e.id === data.active) || envs[0] || null;
      // The sidebar: New environment and the list.
      const newBtn = el("button", { type: "button", className: "side-new", text: "New environment", hidden: ctx.readOnly() });
      newBtn.addEventListener("click", async () => {
        const name = await nameDialog("New environment", "", "Create");
        if (!name) return;
        try {
          const made = await api.create("environment", { name }, undefined, ctx.workspace());
          selected = made.id;
          ctx.reload();
        } catch (e) { ctx.showError(e); }
      });
      sideList(side, newBtn, {
        label: "Environments", docs: envs, current: env, empty: "No environments in this workspace yet.",
        item: (e) => [el("span", { className: "side-name", text: e.name || "(unnamed)" }),
          e.id === data.active ? el("span", { className: "tag", text: "Active" }) : null],
        pick: (e) => { selected = e.id; ctx.rerender(); },
      });

      // The page: the shown environment's table.
      if (!env) {
        table = null; shownId = null;
        main.replaceChildren(el("h2", { id: "page-title", text: "Environments" }),
          el("p", { className: "note", text: ctx.readOnly() ? "This workspace has no environments." : "No environments yet: New environment in the sidebar makes one." }));
        return;
      }
      if (shownId !== env.id || !table || !main.contains(table.el)) {
        shownId = env.id;
        table = varTable({ label: `Variables of ${env.name}`, readOnly: ctx.readOnly(), ctx,
          create: (fields) => api.create("variable", fields, env.id) });
        const title = el("h2", { id: "page-title", className: "page-name" });
        const tag = el("span", { className: "tag", text: "Active" });
        const setActive = el("button", { type: "button", text: "Set active" });
        setActive.addEventListener("click", async () => {
          try { await envApi.setActive(ctx.workspace(), shownId); ctx.reload(); } catch (e) { ctx.showError(e); }
        });
        const rename = el("button", { type: "button", text: "Rename", hidden: ctx.readOnly() });
        rename.addEventListener("click", async () => {
          const now = title.textContent;
          const name = await nameDialog(`Rename “${now}”`, now, "Rename");
          if (!name || name === now) return;
          try { await api.set(shownId, { name }); ctx.reload(); } catch (e) { ctx.showError(e); }
        });
        const del = el("button", { type: "button", className: "danger", text: "Delete", hidden: ctx.readOnly() });
        del.addEventListener("click", async () => {
          const ok = await confirmDialog(`Delete the environment “${title.textContent}”?`, "Its variables are deleted too, for everyone in the workspace.", "Delete environment");
          if (!ok) return;
          try { await api.remove(shownId); selected = null; ctx.reload(); } catch (e) { ctx.showError(e); }
        });
        main.replaceChildren(
          el("div", { className: "page-head" }, title, tag, el("span", { className: "page-spacer" }), setActive, rename, del),
          el("p", { className: "note", text: note(ctx) }), table.el);
        main.parts = { title, tag, setActive };
      }
      main.parts.title.textContent = env.name || "(unnamed)";
      main.parts.tag.hidden = env.id !== data.active;
      main.parts.setActive.hidden = env.id === data.active || note(ctx) === WEB_NOTE;
      table.update(env.variables);
    },
    reset() { selected = null; shownId = null; table = null; },
  };
}

// ---- the Globals page --------------------------------------------------------

export function globalsPage() {
  let table = null;
  return {
    render(side, main, ctx, data) {
      if (!side.querySelector(".globals-note")) {
        side.replaceChildren(el("p", { className: "note globals-note", text: "Globals are the workspace's variables that apply whichever environment is active." }));
      }
      if (!table || !main.contains(table.el)) {
        table = varTable({ label: "Globals", readOnly: ctx.readOnly(), ctx,
          create: (fields) => api.create("global", fields, undefined, ctx.workspace()) });
        main.replaceChildren(el("div", { className: "page-head" }, el("h2", { id: "page-title", text: "Globals" })),
          el("p", { className: "note", text: note(ctx) }), table.el);
      }
      table.update(data.globals);
    },
    reset() { table = null; },
  };
}
