// The sidebar tree of a workspace's documents.
//
// It must stay fast with 10,000 requests, so it never builds a node per
// document: the documents (which come in tree order, each after its parent)
// are flattened once into the list of rows a person could see (a collapsed
// folder hides its subtree, a filter keeps matches and their ancestors), and
// only the rows inside the scrolled viewport (plus a few) exist in the DOM.
// Rows have one fixed height, so a row's place is its index times ROW_H.
//
// Titles are set with textContent only, so a name such as
// `<img src=x onerror=alert(1)>` shows as text.
//
// Editing (create, inline rename, duplicate, delete, reorder, move) goes
// through the app API and then asks the page to reload the list; the live
// channel brings edits from elsewhere the same way.

import { api as base, call } from "./api.js";
import { confirmDialog, chooseDialog } from "./workspaces.js";

// The app API calls the tree makes: the shared ones plus its own two.
const api = {
  ...base,
  duplicate: (id) => call("POST", `/api/docs/${encodeURIComponent(id)}/duplicate`),
  move: (id, body) => call("POST", `/api/docs/${encodeURIComponent(id)}/move`, body),
};

const ROW_H = 28;
const OVERSCAN = 8;

const KIND_LABEL = {
  collection: "Collection", folder: "Folder", request: "Request", response: "Response",
  environment: "Environment", variable: "Variable", globals: "Globals",
};

// Which kinds may hold which (the model's `Kind::parents`, for the tree's kinds).
const PARENTS = { folder: ["collection", "folder"], request: ["collection", "folder"], response: ["request"] };
const CONTAINERS = new Set(["collection", "folder", "request"]);

export function title(doc) {
  const f = doc.fields || {};
  for (const k of ["name", "key", "url"]) {
    if (typeof f[k] === "string" && f[k] !== "") return f[k];
  }
  return "(untitled)";
}

// Whether a document of kind `kind` may sit under `parent` (null: the top).
function fits(kind, parent) {
  const allowed = PARENTS[kind];
  if (!parent) return !allowed;
  return !!allowed && allowed.includes(parent.kind);
}

// The tree widget over `viewport` (the scrolling box) and `ul` (the
// role="tree" list inside it). `hooks`: onSelect(doc), reload() → Promise
// (fetch the documents again and call setDocs), showError(e).
export function createTree(viewport, ul, hooks) {
  const t = {
    docs: [], byId: new Map(), children: new Map(), depth: new Map(),
    rows: [], // the flattened visible rows: docs
    collapsed: new Set(),
    filter: "",
    selected: null,
    focus: null, // the id of the row holding the one tab stop
    readOnly: false,
    editing: null, // the id being renamed: rendering leaves its row alone
    drag: null,
    workspace: null,
  };

  // Index the documents: parent → children in order, depth of each.
  function index(docs) {
    t.docs = docs;
    t.byId = new Map(docs.map((d) => [d.id, d]));
    t.children = new Map();
    t.depth = new Map();
    for (const d of docs) {
      const p = d.parent_id && t.byId.has(d.parent_id) ? d.parent_id : null;
      if (!t.children.has(p)) t.children.set(p, []);
      t.children.get(p).push(d);
      t.depth.set(d.id, p ? t.depth.get(p) + 1 : 0);
    }
  }

  // The rows a person sees, in order. With a filter, a document shows when
  // its title matches or one below it does (its ancestors stay as context),
  // and collapsing is ignored so every match is in view.
  function flatten() {
    const out = [];
    const q = t.filter.trim().toLowerCase();
    if (!q) {
      const walk = (p) => {
        for (const d of t.children.get(p) || []) {
          out.push(d);
          if (!t.collapsed.has(d.id)) walk(d.id);
        }
      };
      walk(null);
    } else {
      const keep = new Set();
      for (const d of t.docs) {
        if (title(d).toLowerCase().includes(q)) {
          for (let x = d; x && !keep.has(x.id); x = x.parent_id ? t.byId.get(x.parent_id) : null) keep.add(x.id);
        }
      }
      for (const d of t.docs) if (keep.has(d.id)) out.push(d);
    }
    t.rows = out;
  }

  function makeRow(d, i) {
    const li = document.createElement("li");
    li.setAttribute("role", "treeitem");
    li.setAttribute("aria-level", String(t.depth.get(d.id) + 1));
    li.setAttribute("aria-selected", d.id === t.selected ? "true" : "false");
    // A virtualised list tells assistive technology where each row is.
    li.setAttribute("aria-setsize", String(t.rows.length));
    li.setAttribute("aria-posinset", String(i + 1));
    const kids = t.children.get(d.id);
    if (kids && kids.length) li.setAttribute("aria-expanded", t.collapsed.has(d.id) && !t.filter ? "false" : "true");
    li.tabIndex = d.id === t.focus ? 0 : -1;
    li.dataset.id = d.id;
    li.dataset.kind = d.kind;
    li.style.top = `${i * ROW_H}px`;
    li.style.setProperty("--depth", String(t.depth.get(d.id)));
    li.draggable = !t.readOnly && d.id !== t.editing;

    const twisty = document.createElement("span");
    twisty.className = "twisty";
    twisty.setAttribute("aria-hidden", "true");
    if (kids && kids.length) twisty.textContent = li.getAttribute("aria-expanded") === "true" ? "▾" : "▸";
    const kind = document.createElement("span");
    kind.className = "kind";
    const method = d.kind === "request" && typeof d.fields?.method === "string" ? d.fields.method : null;
    kind.textContent = method || KIND_LABEL[d.kind] || d.kind;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = title(d);
    li.append(twisty, kind, name);
    if (!t.readOnly) {
      const more = document.createElement("button");
      more.type = "button";
      more.className = "row-menu";
      more.tabIndex = -1;
      more.setAttribute("aria-label", `Actions for ${title(d)}`);
      more.textContent = "⋯";
      li.appendChild(more);
    }
    return li;
  }

  // Builds the rows in view. The row being renamed is kept as it is (the
  // input must not lose what is being typed), and focus stays on its row.
  // During a drag the rows stay too (replacing the dragged row would cancel
  // the drop, and the live channel re-renders on every change): the render
  // waits for the drag to end.
  function render() {
    if (t.editing) return;
    if (t.drag) { t.stale = true; return; }
    const hadFocus = ul.contains(document.activeElement);
    const top = viewport.scrollTop - ul.offsetTop;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(t.rows.length, Math.ceil((top + viewport.clientHeight) / ROW_H) + OVERSCAN);
    if (t.focus == null || !t.byId.has(t.focus)) t.focus = t.rows[0] ? t.rows[0].id : null;
    const items = [];
    for (let i = first; i < last; i++) items.push(makeRow(t.rows[i], i));
    ul.replaceChildren(...items);
    ul.style.height = `${t.rows.length * ROW_H}px`;
    if (hadFocus) {
      const el = rowEl(t.focus);
      if (el) el.focus({ preventScroll: true });
    }
  }

  const rowEl = (id) => (id ? ul.querySelector(`[data-id="${CSS.escape(id)}"]`) : null);

  // Puts the tab stop on `id`, scrolls it into view and focuses it.
  function focusRow(id) {
    const i = t.rows.findIndex((d) => d.id === id);
    if (i < 0) return;
    t.focus = id;
    const y = ul.offsetTop + i * ROW_H;
    if (y < viewport.scrollTop) viewport.scrollTop = y;
    else if (y + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = y + ROW_H - viewport.clientHeight;
    render();
    const el = rowEl(id);
    if (el) el.focus({ preventScroll: true });
  }

  function toggle(id, open) {
    const d = t.byId.get(id);
    if (!d || !(t.children.get(id) || []).length) return false;
    const isOpen = !t.collapsed.has(id);
    if (open === isOpen) return false;
    if (isOpen) t.collapsed.add(id); else t.collapsed.delete(id);
    flatten();
    render();
    return true;
  }

  async function run(f) {
    try { return await f(); } catch (e) { hooks.showError(e); return null; }
  }

  // --- editing ---------------------------------------------------------

  const NEW_NAME = { collection: "New Collection", folder: "New Folder", request: "New Request", response: "New Response" };

  async function create(kind, parent) {
    if (t.readOnly) return;
    const fields = { name: NEW_NAME[kind] };
    if (kind === "request") { fields.method = "GET"; fields.url = ""; }
    const made = await run(() => api.create(kind, fields, parent ? parent.id : undefined, parent ? undefined : t.workspace));
    if (!made) return;
    if (parent) t.collapsed.delete(parent.id);
    await hooks.reload();
    rename(made.id);
  }

  // Inline rename: the name becomes an input; Enter or leaving it saves,
  // Escape puts the old name back.
  function rename(id) {
    if (t.readOnly || t.editing) return;
    const d = t.byId.get(id);
    if (!d) return;
    if (t.filter && !t.rows.some((r) => r.id === id)) t.filter = "";
    flatten();
    focusRow(id);
    const li = rowEl(id);
    if (!li) return;
    t.editing = id;
    li.draggable = false;
    const name = li.querySelector(".name");
    const input = document.createElement("input");
    input.className = "rename";
    input.value = title(d);
    input.setAttribute("aria-label", `New name for ${title(d)}`);
    name.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const value = input.value.trim();
      t.editing = null;
      if (save && value && value !== title(d)) {
        await run(() => api.set(id, { name: value }));
        await hooks.reload();
      } else {
        render();
      }
      focusRow(id);
    };
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") { e.preventDefault(); finish(true); }
      else if (e.key === "Escape") { e.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
    // Clicks inside the input must not select or drag the row.
    input.addEventListener("click", (e) => e.stopPropagation());
    input.addEventListener("mousedown", (e) => e.stopPropagation());
  }

  async function duplicate(d) {
    const made = await run(() => api.duplicate(d.id));
    if (!made) return;
    await hooks.reload();
    focusRow(made.id);
  }

  async function remove(d) {
    const n = countBelow(d.id);
    const what = n ? `“${title(d)}” and the ${n} document${n === 1 ? "" : "s"} inside it` : `“${title(d)}”`;
    const ok = await confirmDialog(`Delete ${what}?`, "It is deleted on every device of the workspace when it syncs.", "Delete");
    if (!ok) { focusRow(d.id); return; }
    const i = t.rows.findIndex((r) => r.id === d.id);
    if (!(await run(() => api.remove(d.id)))) return;
    if (t.selected === d.id) t.selected = null;
    await hooks.reload();
    const next = t.rows[Math.min(i, t.rows.length - 1)];
    if (next) focusRow(next.id);
  }

  function countBelow(id) {
    let n = 0;
    const todo = [id];
    while (todo.length) for (const c of t.children.get(todo.pop()) || []) { n++; todo.push(c.id); }
    return n;
  }

  function siblings(d) {
    return t.children.get(d.parent_id && t.byId.has(d.parent_id) ? d.parent_id : null) || [];
  }

  // Alt+Up/Down: one place up or down among its siblings.
  async function reorder(d, step) {
    const sib = siblings(d);
    const i = sib.findIndex((s) => s.id === d.id);
    const other = sib[i + step];
    if (!other) return;
    const body = step < 0 ? { before: other.id } : { after: other.id };
    if (!(await run(() => api.move(d.id, body)))) return;
    await hooks.reload();
    focusRow(d.id);
  }

  async function moveTo(d, parent, where) {
    if (!(await run(() => api.move(d.id, { parent: parent ? parent.id : undefined, ...where })))) return;
    if (parent) t.collapsed.delete(parent.id);
    await hooks.reload();
    focusRow(d.id);
  }

  // "Move to…": a list of every place the document may go (not inside itself).
  async function moveDialog(d) {
    const inside = new Set([d.id]);
    for (const x of t.docs) if (x.parent_id && inside.has(x.parent_id)) inside.add(x.id);
    const places = t.docs.filter((p) => !inside.has(p.id) && fits(d.kind, p) && p.id !== d.parent_id);
    if (!places.length) { hooks.showError(new Error(`There is nowhere else a ${d.kind} can go in this workspace.`)); return; }
    const choice = await chooseDialog(
      `Move “${title(d)}” to…`,
      places.map((p) => ({ value: p.id, label: `${"  ".repeat(t.depth.get(p.id))}${title(p)} (${KIND_LABEL[p.kind]})` })),
      "Move",
    );
    if (!choice) { focusRow(d.id); return; }
    await moveTo(d, t.byId.get(choice), {});
  }

  // --- the actions menu ------------------------------------------------

  let menu = null;
  function closeMenu(refocus) {
    if (!menu) return;
    // Cleared first: removing it moves focus, whose focusout closes again.
    const m = menu;
    menu = null;
    m.remove();
    if (refocus) focusRow(refocus);
  }

  function openMenu(d, anchor) {
    closeMenu();
    const items = [];
    if (d.kind === "collection" || d.kind === "folder") {
      items.push(["New folder", () => create("folder", d)], ["New request", () => create("request", d)]);
    }
    if (d.kind === "request") items.push(["New saved response", () => create("response", d)]);
    items.push(
      ["Rename (F2)", () => rename(d.id)],
      ["Duplicate (Ctrl+D)", () => duplicate(d)],
      ["Move up (Alt+↑)", () => reorder(d, -1)],
      ["Move down (Alt+↓)", () => reorder(d, 1)],
    );
    if (d.kind !== "collection") items.push(["Move to… (M)", () => moveDialog(d)]);
    if (hooks.extraActions) items.push(...hooks.extraActions(d));
    items.push(["Delete (Del)", () => remove(d)]);
    menu = document.createElement("div");
    menu.className = "tree-menu";
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", `Actions for ${title(d)}`);
    const buttons = items.map(([label, act]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "menuitem");
      b.tabIndex = -1;
      b.textContent = label;
      // Focus goes back to the row first, so it is never lost to the page
      // while the action waits on the app API.
      b.addEventListener("click", () => { closeMenu(d.id); act(); });
      return b;
    });
    menu.append(...buttons);
    menu.addEventListener("keydown", (e) => {
      const i = buttons.indexOf(document.activeElement);
      if (e.key === "ArrowDown") { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
      else if (e.key === "ArrowUp") { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
      else if (e.key === "Escape" || e.key === "Tab") { e.preventDefault(); closeMenu(d.id); }
    });
    menu.addEventListener("focusout", (e) => { if (menu && !menu.contains(e.relatedTarget)) closeMenu(); });
    document.body.appendChild(menu);
    // Opened from the keyboard or a right-click, it still hangs from the
    // row's ⋯ button, where a mouse user finds it.
    const button = rowEl(d.id)?.querySelector(".row-menu");
    const r = (button || anchor).getBoundingClientRect();
    menu.style.left = `${Math.min(r.left, window.innerWidth - 220)}px`;
    menu.style.top = `${Math.min(r.bottom, window.innerHeight - menu.offsetHeight - 8)}px`;
    buttons[0].focus();
  }

  // --- events (delegated: the rows come and go as the list scrolls) -----

  const rowOf = (e) => e.target.closest('[role="treeitem"]');
  const docOf = (li) => (li ? t.byId.get(li.dataset.id) : null);

  viewport.addEventListener("scroll", () => { if (!t.editing) render(); }, { passive: true });
  new ResizeObserver(() => render()).observe(viewport);

  ul.addEventListener("click", (e) => {
    const li = rowOf(e);
    const d = docOf(li);
    if (!d || t.editing === d.id) return;
    if (e.target.closest(".row-menu")) { t.focus = d.id; openMenu(d, e.target); return; }
    if (e.target.closest(".twisty") && toggle(d.id)) { focusRow(d.id); return; }
    t.focus = d.id;
    hooks.onSelect(d);
  });
  // Whichever row takes focus (Tab, a click, a screen reader) becomes the tab
  // stop, so a re-render from a live change puts focus back on that row.
  ul.addEventListener("focusin", (e) => {
    const d = docOf(rowOf(e));
    if (d) t.focus = d.id;
  });
  ul.addEventListener("dblclick", (e) => {
    const d = docOf(rowOf(e));
    if (d && !e.target.closest(".row-menu")) rename(d.id);
  });
  ul.addEventListener("contextmenu", (e) => {
    const li = rowOf(e);
    const d = docOf(li);
    if (!d || t.readOnly) return;
    e.preventDefault();
    t.focus = d.id;
    openMenu(d, li);
  });

  ul.addEventListener("keydown", (e) => {
    const li = rowOf(e);
    const d = docOf(li);
    if (!d || e.target !== li) return;
    const i = t.rows.findIndex((r) => r.id === d.id);
    const go = (x) => { if (x) { e.preventDefault(); focusRow(x.id); } };
    const edit = !t.readOnly;
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      if (edit) reorder(d, e.key === "ArrowUp" ? -1 : 1);
    } else if (e.key === "ArrowDown") go(t.rows[i + 1]);
    else if (e.key === "ArrowUp") go(t.rows[i - 1]);
    else if (e.key === "Home") go(t.rows[0]);
    else if (e.key === "End") go(t.rows[t.rows.length - 1]);
    else if (e.key === "PageDown") go(t.rows[Math.min(t.rows.length - 1, i + Math.floor(viewport.clientHeight / ROW_H))]);
    else if (e.key === "PageUp") go(t.rows[Math.max(0, i - Math.floor(viewport.clientHeight / ROW_H))]);
    else if (e.key === "ArrowRight") {
      e.preventDefault();
      if (!toggle(d.id, true) && (t.children.get(d.id) || []).length) go(t.rows[i + 1]);
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      if (!toggle(d.id, false) && d.parent_id && t.byId.has(d.parent_id)) go(t.byId.get(d.parent_id));
      else focusRow(d.id);
    } else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); hooks.onSelect(d); }
    else if (!edit) return;
    else if (e.key === "F2") { e.preventDefault(); rename(d.id); }
    else if (e.key === "Delete") { e.preventDefault(); remove(d); }
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "d") { e.preventDefault(); duplicate(d); }
    else if (e.key === "m" && !e.ctrlKey && !e.metaKey && !e.altKey && d.kind !== "collection") { e.preventDefault(); moveDialog(d); }
    else if (e.key === "ContextMenu" || (e.shiftKey && e.key === "F10")) { e.preventDefault(); openMenu(d, li); }
  });

  // Drag and drop: the upper quarter of a row drops before it, the lower
  // quarter after it, the middle inside it (when it can hold the document).
  function dropPlace(e, target) {
    const d = t.drag && t.byId.get(t.drag);
    if (!d || !target || target.id === d.id) return null;
    for (let x = target; x; x = x.parent_id ? t.byId.get(x.parent_id) : null) if (x.id === d.id) return null;
    const li = rowEl(target.id);
    const r = li.getBoundingClientRect();
    const y = (e.clientY - r.top) / r.height;
    const parent = target.parent_id ? t.byId.get(target.parent_id) : null;
    const besideOk = fits(d.kind, parent);
    if (CONTAINERS.has(target.kind) && fits(d.kind, target) && (!besideOk || (y > 0.25 && y < 0.75))) return { where: "inside", target };
    if (besideOk) return { where: y < 0.5 ? "before" : "after", target };
    return null;
  }

  function clearMark() {
    for (const el of ul.querySelectorAll("[data-drop]")) el.removeAttribute("data-drop");
  }

  ul.addEventListener("dragstart", (e) => {
    const d = docOf(rowOf(e));
    if (!d || t.readOnly) { e.preventDefault(); return; }
    t.drag = d.id;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", title(d));
  });
  ul.addEventListener("dragover", (e) => {
    const place = dropPlace(e, docOf(rowOf(e)));
    clearMark();
    if (!place) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    rowEl(place.target.id).dataset.drop = place.where;
  });
  ul.addEventListener("dragleave", (e) => { if (!ul.contains(e.relatedTarget)) clearMark(); });
  // After a drag, the render it held back.
  function dragDone() {
    t.drag = null;
    clearMark();
    if (t.stale) { t.stale = false; render(); }
  }
  ul.addEventListener("dragend", dragDone);
  ul.addEventListener("drop", async (e) => {
    const place = dropPlace(e, docOf(rowOf(e)));
    const d = t.drag && t.byId.get(t.drag);
    dragDone();
    if (!place || !d) return;
    e.preventDefault();
    const parent = place.target.parent_id ? t.byId.get(place.target.parent_id) : null;
    if (place.where === "inside") await moveTo(d, place.target, {});
    else await moveTo(d, parent, { [place.where]: place.target.id });
  });

  return {
    // New documents (the list in tree order); keeps scroll, focus, collapsed folders.
    setDocs(docs, workspace) {
      if (workspace !== t.workspace) { t.collapsed.clear(); t.focus = null; viewport.scrollTop = 0; }
      t.workspace = workspace;
      index(docs);
      flatten();
      render();
    },
    setSelected(id) {
      t.selected = id;
      if (id) t.focus = id;
      render();
    },
    focus(id) { focusRow(id); },
    setFilter(q) {
      t.filter = q;
      flatten();
      viewport.scrollTop = 0;
      render();
      return t.rows.length;
    },
    setReadOnly(ro) { t.readOnly = ro; render(); },
    createCollection() { return create("collection", null); },
    rows() { return t.rows.length; },
  };
}
