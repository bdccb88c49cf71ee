// Small DOM helpers of the app's pages and dialogs (the sidebar pages, the
// account area and pages, the Scratch Pad banner, import and export). Values are only ever set through textContent,
// value and attributes, never as markup.

// Properties set as properties (their attributes mean something else, or nothing).
const PROPS = new Set(["value", "checked", "readOnly", "disabled", "hidden", "tabIndex"]);

// Builds an element: `text` sets textContent, `on…` adds a listener,
// `dataset` fills data-*, anything else is an attribute; null/false are skipped.
export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "className") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) e[k] = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  e.append(...kids.filter((k) => k != null && k !== false));
  return e;
}

// A value as one line of text: strings as they are, other JSON as JSON.
export const text = (v) => (v == null ? "" : typeof v === "string" ? v : JSON.stringify(v));

// Unix ms as the person's local date and time.
export const when = (ms) => (ms ? new Date(ms).toLocaleString() : "");

// Sets an input's value unless the person is typing in it; `saved` is what
// the store holds, which a commit compares against.
export function setInput(input, value) {
  input.dataset.saved = value;
  if (document.activeElement !== input) input.value = value;
}

// Puts `rows` (elements) into `parent` in order, moving only those out of
// place and removing the rest, so a focused input inside keeps its focus.
export function reconcile(parent, rows) {
  const keep = new Set(rows);
  for (const c of [...parent.children]) if (!keep.has(c)) c.remove();
  rows.forEach((r, i) => {
    if (parent.children[i] !== r) parent.insertBefore(r, parent.children[i] || null);
  });
}

// Runs `commit` when an input's value is committed: on change (blur) and on Enter.
export function onCommit(input, commit) {
  input.addEventListener("change", () => commit());
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); commit(); }
  });
}

// Fills a page's sidebar: its New button, then a list of the page's
// documents (`item(doc)` gives each button's contents; the `current` one is
// marked) or the `empty` note. Clicking one calls `pick(doc)`. The button
// (or New) that had the focus keeps it across the redraw.
export function sideList(side, newBtn, { label, docs, current, item, pick, empty }) {
  const list = el("ul", { className: "side-list", "aria-label": label }, ...docs.map((d) => {
    const b = el("button", { type: "button", dataset: { id: d.id }, "aria-current": d === current ? "true" : null }, ...item(d));
    b.addEventListener("click", () => pick(d));
    return el("li", {}, b);
  }));
  const hadFocus = side.contains(document.activeElement) ? document.activeElement.dataset.id || "new" : null;
  side.replaceChildren(el("div", { className: "side-tools" }, newBtn), docs.length ? list : el("p", { className: "note", text: empty }));
  if (hadFocus) (side.querySelector(`[data-id="${CSS.escape(hadFocus)}"]`) || newBtn).focus();
}
