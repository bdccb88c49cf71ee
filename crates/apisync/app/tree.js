// The sidebar tree of a workspace's documents. Titles are set with
// textContent only, so a name such as `<img src=x onerror=alert(1)>` shows as
// text. The list comes in tree order (each document after its parent).

const KIND_LABEL = {
  collection: "Collection", folder: "Folder", request: "Request", response: "Response",
  environment: "Environment", variable: "Variable", globals: "Globals",
};

export function title(doc) {
  const f = doc.fields || {};
  for (const k of ["name", "key", "url"]) {
    if (typeof f[k] === "string" && f[k] !== "") return f[k];
  }
  return "(untitled)";
}

// Renders `docs` into `ul`; `onSelect(doc)` runs on click or Enter. Arrow
// keys move the focus between items (one tab stop for the whole tree).
export function renderTree(ul, docs, selectedId, onSelect) {
  const depth = new Map();
  const items = [];
  for (const d of docs) {
    const n = d.parent_id && depth.has(d.parent_id) ? depth.get(d.parent_id) + 1 : 0;
    depth.set(d.id, n);
    const li = document.createElement("li");
    li.setAttribute("role", "treeitem");
    li.setAttribute("aria-level", String(n + 1));
    li.setAttribute("aria-selected", d.id === selectedId ? "true" : "false");
    li.tabIndex = d.id === selectedId || (selectedId == null && items.length === 0) ? 0 : -1;
    li.dataset.id = d.id;
    li.dataset.kind = d.kind;
    li.style.setProperty("--depth", String(n));
    const kind = document.createElement("span");
    kind.className = "kind";
    const method = d.kind === "request" && typeof d.fields?.method === "string" ? d.fields.method : null;
    kind.textContent = method || KIND_LABEL[d.kind] || d.kind;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = title(d);
    li.append(kind, name);
    li.addEventListener("click", () => onSelect(d));
    li.addEventListener("keydown", (e) => {
      const i = items.indexOf(li);
      let next = null;
      if (e.key === "ArrowDown") next = items[i + 1];
      else if (e.key === "ArrowUp") next = items[i - 1];
      else if (e.key === "Home") next = items[0];
      else if (e.key === "End") next = items[items.length - 1];
      else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onSelect(d); return; }
      if (next) {
        e.preventDefault();
        li.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
    });
    items.push(li);
  }
  ul.replaceChildren(...items);
  return items;
}
