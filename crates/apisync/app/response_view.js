// A saved response (a `response` document, Postman v2.1's example) shown
// read-only in the detail pane: its status, headers and body.
//
// Bodies can be megabytes. Laying out a 10 MB <pre> would hold the page for
// seconds, so only the first CHUNK characters are put in the page, with a
// note of the length and a button that shows CHUNK more each press. Values are
// set with textContent only.

// Characters of the body put in the page at a time.
const CHUNK = 64 * 1024;

function el(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") n.textContent = v;
    else n.setAttribute(k, v);
  }
  n.append(...children);
  return n;
}

// "12,345 characters": a count as a person reads it. A body's size is told
// in characters, which the string knows, not in bytes, which would take a
// pass over megabytes to count.
function chars(n) {
  return `${n.toLocaleString("en")} character${n === 1 ? "" : "s"}`;
}

// The body as text: Postman stores a string; anything else is shown as JSON.
function bodyText(body) {
  if (body === undefined || body === null) return "";
  return typeof body === "string" ? body : JSON.stringify(body, null, 2);
}

// A body shown a CHUNK at a time: the note of its length (id `${id}-size`),
// the scrolling <pre> (focusable, so the keyboard scrolls it) and the "Show
// more" button. `label` names the <pre> for screen readers.
export function bodyBox(text, id, label = "Response body") {
  const note = el("p", { class: "note resp-size", "aria-live": "polite" });
  note.id = `${id}-size`;
  const pre = el("pre", { class: "resp-body", tabindex: "0", "aria-label": label, "aria-describedby": note.id });
  const more = el("button", { type: "button", class: "resp-more" });
  let shown = 0;
  const showMore = () => {
    const next = text.slice(shown, shown + CHUNK);
    shown += next.length;
    pre.append(document.createTextNode(next));
    const left = text.length - shown;
    note.textContent = left > 0
      ? `${chars(text.length)}; showing the first ${shown.toLocaleString("en")}.`
      : `${chars(text.length)}.`;
    more.hidden = left <= 0;
    more.textContent = `Show ${Math.min(CHUNK, left).toLocaleString("en")} more characters`;
  };
  more.addEventListener("click", showMore);
  showMore();
  return [note, pre, more];
}

// Elements HTML never closes: they open no level of indentation.
const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);

// HTML with one tag per line, indented by depth; the text of <script>,
// <style> and <pre> is kept as it came. One pass over the text, so a large
// page costs what reading it costs.
export function prettyHtml(html) {
  const out = [];
  const lower = html.toLowerCase();
  let depth = 0;
  const re = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][\w:-]*)[^>]*>|<![^>]*>|[^<]+|</g;
  let m;
  while ((m = re.exec(html)) !== null) {
    const tok = m[0];
    if (m[2]) {
      const name = m[2].toLowerCase();
      if (m[1]) { depth = Math.max(0, depth - 1); out.push("  ".repeat(depth) + tok); continue; }
      out.push("  ".repeat(depth) + tok);
      if (VOID.has(name) || tok.endsWith("/>")) continue;
      if (name === "script" || name === "style" || name === "pre" || name === "textarea") {
        const end = lower.indexOf(`</${name}`, re.lastIndex);
        const stop = end < 0 ? html.length : end;
        const inner = html.slice(re.lastIndex, stop);
        if (inner.trim()) out.push(inner.replace(/^\n+|\s+$/g, ""));
        re.lastIndex = stop;
      }
      depth += 1;
    } else if (tok.trim()) out.push("  ".repeat(depth) + tok.trim());
  }
  return out.join("\n");
}

// Renders the response `doc` into `box`, replacing what was there.
export function showResponse(box, doc, heading) {
  const f = doc.fields || {};
  const h = el("h2", { text: heading, id: "resp-title" });
  const status = [f.code, f.status].filter((x) => x !== undefined && x !== null && x !== "").join(" ");
  const parts = [h];
  if (status) parts.push(el("p", { class: "resp-status", text: `Status: ${status}` }));

  const headers = Array.isArray(f.header) ? f.header.filter((x) => x && typeof x === "object") : [];
  if (headers.length) {
    const body = el("tbody", {}, ...headers.map((x) => el("tr", {}, el("td", { text: String(x.key ?? "") }), el("td", { text: String(x.value ?? "") }))));
    parts.push(el("table", { class: "resp-headers", "aria-label": "Response headers" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Header" }), el("th", { scope: "col", text: "Value" }))), body));
  }

  const text = bodyText(f.body);
  const [note, pre, more] = bodyBox(text, "resp");
  if (!text) { note.textContent = "No body saved."; pre.hidden = true; }
  parts.push(el("h3", { text: "Body" }), note, pre, more);

  const section = el("section", { class: "resp", "aria-labelledby": "resp-title" }, ...parts);
  box.replaceChildren(section);
}
