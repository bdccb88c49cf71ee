// The History and Runs pages: read-only, newest first. History is a table
// of sent requests (time, method, URL, status, duration); each run is a
// disclosure (its summary says how many requests and tests failed) holding
// a table of its requests with each test's outcome. Pass and fail are said
// in words as well as colour. The lists come from lists_api.rs.

import { call } from "./api.js";
import { el, text, when } from "./page_dom.js";

const enc = encodeURIComponent;
// The most rows one page builds; the rest are counted, not drawn.
const LIMIT = 500;

const status = (code, words) => [code, words].filter((x) => x != null && x !== "").join(" ");
const ms = (t) => (t == null || t === "" ? "" : `${t} ms`);
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
// The nodes that are there (replaceChildren would write a null as the text "null").
const present = (...nodes) => nodes.filter((n) => n != null);

// A status cell: its class says success or failure for the colour, the text says it anyway.
function statusCell(code, words) {
  const cls = typeof code === "number" ? (code >= 400 ? "bad" : code >= 200 && code < 400 ? "ok" : "") : "";
  return el("td", { className: `rec-status ${cls}` }, status(code, words) || "—");
}

export function historyPage() {
  return {
    async render(side, main, ctx) {
      const list = await call("GET", `/api/workspaces/${enc(ctx.workspace())}/history`);
      if (!ctx.current()) return;
      side.replaceChildren(el("p", { className: "note" }, list.length
        ? `${plural(list.length, "request", "requests")} sent, newest first. A newman report imported with apisync import adds one per request it sent.`
        : "No history yet. Importing a newman report (apisync import report.json) adds the requests it sent."));
      const rows = list.slice(0, LIMIT).map((h) => el("tr", { dataset: { id: h.id } },
        el("td", { className: "rec-time" }, when(h.at_ms)),
        el("td", { className: "rec-method" }, text(h.method)),
        el("td", { className: "rec-url" }, el("span", { text: text(h.url), title: text(h.url) }), h.name ? el("span", { className: "rec-name", text: text(h.name) }) : null),
        statusCell(h.code, h.status),
        el("td", { className: "rec-num" }, ms(h.response_time))));
      const head = el("tr", {}, ...["Time", "Method", "URL", "Status", "Duration"].map((t) => el("th", { scope: "col", text: t })));
      main.replaceChildren(...present(
        el("div", { className: "page-head" }, el("h2", { id: "page-title", text: "History" })),
        list.length
          ? el("table", { className: "rec", "aria-label": "History, newest first" }, el("thead", {}, head), el("tbody", {}, ...rows))
          : el("p", { className: "note", text: "No requests in the history of this workspace." }),
        list.length > LIMIT ? el("p", { className: "note", text: `Showing the newest ${LIMIT} of ${list.length}.` }) : null));
    },
    reset() {},
  };
}

export function runsPage() {
  // Which runs the person opened or closed, so a live refresh keeps them so.
  const open = new Map();
  return {
    async render(side, main, ctx) {
      const runs = await call("GET", `/api/workspaces/${enc(ctx.workspace())}/runs`);
      if (!ctx.current()) return;
      side.replaceChildren(el("p", { className: "note" }, runs.length
        ? `${plural(runs.length, "collection run", "collection runs")}, newest first. Open one to see each request and its tests.`
        : "No collection runs yet. Importing a newman report (apisync import report.json) adds one."));
      const focused = main.contains(document.activeElement) ? document.activeElement.closest("[data-id]")?.dataset.id : null;
      const items = runs.slice(0, LIMIT).map((r, i) => {
        const failed = r.failed_requests > 0 || r.tests_failed > 0;
        const summary = el("summary", {},
          el("span", { className: `tag ${failed ? "bad" : "ok"}`, text: failed ? "Failed" : "Passed" }),
          el("span", { className: "run-name", text: r.name || "(unnamed run)" }),
          el("span", { className: "run-when", text: when(r.at_ms) }),
          el("span", { className: "run-counts", text: `${plural(r.requests, "request", "requests")}, ${r.failed_requests} failed · ${plural(r.tests_passed, "test", "tests")} passed, ${r.tests_failed} failed` }));
        const head = el("tr", {}, ...["Request", "Status", "Duration", "Tests", "Result"].map((t) => el("th", { scope: "col", text: t })));
        const rows = r.results.map((x) => el("tr", { className: x.passed ? "" : "rec-failed" },
          el("td", {}, el("span", { text: x.name }), x.url ? el("span", { className: "rec-name", text: `${text(x.method)} ${text(x.url)}`.trim() }) : null),
          statusCell(x.code, x.status),
          el("td", { className: "rec-num" }, ms(x.response_time)),
          el("td", {}, x.tests.length
            ? el("ul", { className: "rec-tests" }, ...x.tests.map((t) => el("li", { className: t.skipped ? "" : t.passed ? "ok" : "bad" },
              el("span", { className: "rec-verdict", text: t.skipped ? "Skipped" : t.passed ? "✓ Pass" : "✗ Fail" }), ` ${t.name}`,
              t.error ? el("span", { className: "rec-error", text: text(t.error) }) : null)))
            : el("span", { className: "note", text: "no tests" }),
          x.error ? el("span", { className: "rec-error", text: text(x.error) }) : null),
          el("td", { className: x.passed ? "ok" : "bad" }, x.passed ? "Passed" : "Failed")));
        const body = r.results.length
          ? el("table", { className: "rec", "aria-label": `Requests of ${r.name}` }, el("thead", {}, head), el("tbody", {}, ...rows))
          : el("p", { className: "note", text: "This run has no per-request results." });
        const d = el("details", { className: "run", dataset: { id: r.id } }, summary, body);
        d.open = open.has(r.id) ? open.get(r.id) : i === 0;
        d.addEventListener("toggle", () => open.set(r.id, d.open));
        return d;
      });
      main.replaceChildren(...present(el("div", { className: "page-head" }, el("h2", { id: "page-title", text: "Runs" })),
        ...(runs.length ? items : [el("p", { className: "note", text: "No collection runs in this workspace." })]),
        runs.length > LIMIT ? el("p", { className: "note", text: `Showing the newest ${LIMIT} of ${runs.length}.` }) : null));
      if (focused) main.querySelector(`[data-id="${CSS.escape(focused)}"] summary`)?.focus();
    },
    reset() { open.clear(); },
  };
}
