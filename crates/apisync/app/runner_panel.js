// The Runner: a collection or folder run from the tree's Run… action, as
// `apisync run` runs it (POST /api/run, send_api.rs): iterations, a delay,
// stop at the first failure, an optional data file (CSV or JSON), the
// active environment. The answer streams one line per request as it ends,
// so the table fills as the run goes and Stop ends it before its next
// request; the summary comes last. The run is kept as a run document (also
// when stopped), so the Runs page shows it too. Values are set with
// textContent only.

import { ApiError } from "./api.js";
import { el } from "./page_dom.js";
import { WEB_NOTE, statusClass } from "./send_pane.js";

// The largest data file the Runner reads (send_api::RUN_DATA_BYTES).
const DATA_LIMIT = 1024 * 1024;

function number(label, name, value, min, max) {
  const input = el("input", { type: "number", name, value: String(value), min: String(min), max: String(max), step: "1", class: "rn-number" });
  return [el("label", { class: "rn-field" }, el("span", { text: label }), input), input];
}

function resultRow(e, i) {
  const r = e.response;
  const tests = e.tests || [];
  const passed = tests.filter((t) => t.passed).length;
  const ok = !e.error && !(e.script_errors || []).length && passed === tests.length;
  const fails = [e.error, ...tests.filter((t) => !t.passed).map((t) => `${t.name}: ${t.error || "failed"}`), ...(e.script_errors || [])].filter(Boolean);
  return el("tr", { class: ok ? "rn-ok" : "rn-bad" },
    el("td", { text: String(i + 1) }),
    el("th", { scope: "row", text: [...(e.item.path || []), e.item.name].join(" / ") }),
    el("td", { text: String(e.iteration + 1) }),
    el("td", {}, r ? el("span", { class: `sp-status ${statusClass(r.code)}`, text: `${r.code} ${r.status}` }) : el("span", { class: "rn-error", text: "No answer" })),
    el("td", { text: r ? `${Math.round(r.time_ms)} ms` : "" }),
    el("td", { text: tests.length ? `${passed}/${tests.length} passed` : "no tests" }),
    el("td", {}, el("span", { class: "rn-verdict", text: ok ? "Passed" : "Failed" }),
      fails.length ? el("ul", { class: "rn-fails" }, ...fails.map((f) => el("li", { text: f }))) : null));
}

// The results table; its body gets a row per request as each ends.
function resultsTable() {
  const body = el("tbody", {});
  const table = el("table", { class: "sp-table rn-results", "aria-label": "Run results" },
    el("thead", {}, el("tr", {}, ...["#", "Request", "Iteration", "Status", "Time", "Tests", "Result"].map((c) => el("th", { scope: "col", text: c })))),
    body);
  return { table, add: (e) => body.append(resultRow(e, body.rows.length)) };
}

// POST /api/run, calling `onLine` with each line of the answer as it comes.
async function runStream(body, signal, onLine) {
  const res = await fetch("/api/run", {
    method: "POST", credentials: "same-origin", signal,
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!res.ok) {
    let e = {};
    try { e = (await res.json()).error || {}; } catch { /* not JSON */ }
    throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    pending += decoder.decode(value || new Uint8Array(), { stream: !done });
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (text.trim()) onLine(JSON.parse(text));
    }
    if (done) return;
  }
}

function summary(report) {
  const s = report.stats;
  const parts = [
    `${s.requests.total} request(s), ${s.requests.failed} failed`,
    `${s.tests.total} test(s), ${s.tests.failed} failed`,
    `${Math.round(report.duration_ms)} ms`,
  ];
  return el("p", { class: `rn-summary ${report.passed ? "rn-passed" : "rn-failed"}`, role: "status" },
    el("strong", { text: report.passed ? "Passed: " : "Failed: " }), el("span", { text: parts.join("; ") }),
    report.stopped ? el("span", { text: ` — stopped early: ${report.stopped}` }) : null);
}

// Opens the Runner for `doc` (a collection or folder). `hooks.showRuns()`
// shows the Runs page; `hooks.web()` says whether this is the web version.
export function openRunner(doc, hooks) {
  const web = hooks.web();
  const name = (doc.fields && doc.fields.name) || "(untitled)";
  const d = el("dialog", { class: "small-dialog rn-dialog", "aria-labelledby": "rn-title" });
  const [iterField, iterations] = number("Iterations", "iterations", 1, 1, 1000);
  const [delayField, delay] = number("Delay between requests (ms)", "delay", 0, 0, 60000);
  const bail = el("input", { type: "checkbox", name: "bail" });
  const data = el("input", { type: "file", name: "data", accept: ".csv,.json,text/csv,application/json" });
  const envSelect = document.getElementById("active-env");
  const envName = envSelect && envSelect.selectedIndex >= 0 && envSelect.value ? envSelect.options[envSelect.selectedIndex].textContent : null;
  const run = el("button", { type: "submit", class: "primary", text: "Run" });
  const stop = el("button", { type: "button", class: "danger", text: "Stop", hidden: true });
  const close = el("button", { type: "button", text: "Close" });
  let controller = null;
  const out = el("div", { class: "rn-out", "aria-live": "polite" });
  const note = el("p", { class: "note", id: "rn-web-note", text: WEB_NOTE, hidden: !web });
  if (web) { run.disabled = true; run.setAttribute("aria-describedby", "rn-web-note"); }
  const form = el("form", { method: "dialog", class: "rn-form" },
    el("h2", { id: "rn-title", text: `Run “${name}”` }),
    el("p", { class: "note", text: `Environment: ${envName || "none"} (the active one, chosen in the header).` }),
    el("div", { class: "rn-fields" }, iterField, delayField,
      el("label", { class: "rn-check" }, bail, el("span", { text: "Stop at the first failure" })),
      el("label", { class: "rn-field" }, el("span", { text: "Data file (CSV or JSON, optional)" }), data)),
    note, out,
    el("div", { class: "dlg-actions" }, close, stop, run));
  d.append(form);
  close.addEventListener("click", () => d.close());
  stop.addEventListener("click", () => { if (controller) controller.abort(); });
  // Closing the panel mid-run stops the run too: nobody would see the rest.
  d.addEventListener("close", () => { if (controller) controller.abort(); d.remove(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (web || run.disabled) return;
    const body = { target: doc.id, iterations: Number(iterations.value) || 1, delay_ms: Number(delay.value) || 0, bail: bail.checked };
    const file = data.files && data.files[0];
    if (file) {
      if (file.size > DATA_LIMIT) {
        out.replaceChildren(el("p", { class: "sp-failed", role: "alert", text: `${file.name} is over 1 MiB: use \`apisync run --data ${file.name}\`.` }));
        return;
      }
      body.data = await file.text();
    }
    run.disabled = true;
    stop.hidden = false;
    form.setAttribute("aria-busy", "true");
    const progress = el("p", { class: "sp-waiting", role: "status", text: `Running “${name}”…` });
    const results = resultsTable();
    out.replaceChildren(progress, results.table);
    controller = new AbortController();
    let seen = 0;
    let report = null;
    try {
      await runStream(body, controller.signal, (line) => {
        if (line.execution) {
          results.add(line.execution);
          seen += 1;
          progress.textContent = `Running “${name}”: ${seen} request(s) done…`;
        } else if (line.report) {
          report = line.report;
        } else if (line.error) {
          throw new ApiError(500, line.error.code, line.error.message);
        }
      });
      const runs = el("button", { type: "button", text: "Open in Runs" });
      runs.addEventListener("click", () => { d.close(); hooks.showRuns(); });
      if (!report) throw new Error("the run ended without its summary; the Runs page has what was kept");
      out.replaceChildren(...[summary(report), results.table,
        ...(report.notes || []).map((n) => el("p", { class: "note", text: n })),
        report.unsupported && report.unsupported.length ? el("p", { class: "sp-warnings", text: `Not supported by apisync, used by the scripts: ${report.unsupported.join(", ")}` }) : null,
        runs].filter(Boolean));
    } catch (err) {
      if (err && err.name === "AbortError") {
        const runs = el("button", { type: "button", text: "Open in Runs" });
        runs.addEventListener("click", () => { d.close(); hooks.showRuns(); });
        out.replaceChildren(el("p", { class: "rn-summary rn-failed", role: "status" },
          el("strong", { text: "Stopped: " }), el("span", { text: `${seen} request(s) ran; the run so far is kept in Runs.` })), results.table, runs);
      } else {
        out.replaceChildren(el("p", { class: "sp-failed", role: "alert" }, el("strong", { text: seen ? "The run failed: " : "The run did not start: " }), el("span", { text: String(err && err.message || err) })), ...(seen ? [results.table] : []));
      }
    } finally {
      controller = null;
      run.disabled = false;
      stop.hidden = true;
      form.removeAttribute("aria-busy");
    }
  });
  document.body.append(d);
  d.showModal();
  (web ? close : iterations).focus();
}
