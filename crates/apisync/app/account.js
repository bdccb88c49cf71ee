// The account in the app: the header's account area (who is signed in, Sign
// in, Sign out, Export), the sign-in / sign-up dialog with the device-limit
// refusal and its way out, and the refused sign-out offering an export.
// Passwords go only in POST bodies; nothing here stores them.

import { openAccountPages, openRecovery } from "./account_pages.js";
import { el } from "./page_dom.js";

const $ = (id) => document.getElementById(id);
let onChange = () => {};
let last = null; // the latest status, to prefill the server and user
let mode = "login"; // or "signup"

// A POST to the app API; the error's whole body is kept (the device list,
// the export path) because the page acts on more than the message.
async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || { code: "http_" + res.status, message: res.statusText };
    throw Object.assign(new Error(e.message || res.statusText), { info: e, status: res.status });
  }
  return data;
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

function exportLink(text) {
  return el("a", { href: "/api/export", download: "", class: "account-export", text });
}

// ---- the dialog -----------------------------------------------------------

function dialog() {
  let d = $("account-dialog");
  if (!d) {
    d = el("dialog", { id: "account-dialog", class: "account-dialog", "aria-labelledby": "account-dialog-title" });
    document.body.appendChild(d);
  }
  return d;
}

function field(label, name, type, value, extra = {}) {
  return el("label", {}, el("span", { text: label }), el("input", { name, type, value: value || "", ...extra }));
}

function problemBox() {
  return el("div", { class: "account-problem", role: "alert", hidden: true });
}

function showProblem(box, message, ...more) {
  box.replaceChildren(el("p", { text: message }), ...more);
  box.hidden = false;
}

// The device-limit refusal: the devices holding the slots, each with a way
// to free its slot and sign in here (the CLI's `login --replace ID`).
function deviceList(devices, retry) {
  const list = el("ul", { class: "account-devices", "aria-label": "Devices signed in" });
  for (const dev of devices) {
    const btn = el("button", { type: "button", text: `Sign out “${dev.name}” and sign in here`, onclick: () => retry(dev.id) });
    list.append(el("li", {}, el("span", { class: "device-name", text: dev.name }),
      el("span", { class: "device-seen", text: `last seen ${ago(dev.last_seen_at)}` }), btn));
  }
  return list;
}

export function openSignIn(which) {
  mode = which || "login";
  const d = dialog();
  const signup = mode === "signup";
  const problem = problemBox();
  // The web version is served by the server itself: no server to name.
  const web = !!(last && last.web);
  const server = web ? "" : (last && last.server) || localStorage.getItem("apisync.server") || "";
  const user = (last && last.user) || "";
  const submit = el("button", { type: "submit", class: "primary", text: signup ? "Create account" : "Sign in" });
  const busy = el("p", { class: "account-busy", "aria-live": "polite" });
  const form = el("form", { class: "account-form" },
    ...(web ? [] : [field("Server URL", "server", "url", server, { required: true, placeholder: "https://sync.example.com", autocomplete: "url" })]),
    ...(signup
      ? [field("Email", "email", "email", "", { required: true, autocomplete: "email" }),
         field("Username", "username", "text", "", { required: true, autocomplete: "username" })]
      : [field("Email or username", "user", "text", user, { required: true, autocomplete: "username" })]),
    field("Password", "password", "password", "", { required: true, autocomplete: signup ? "new-password" : "current-password" }),
    field("Device name (optional)", "device_name", "text", "", { placeholder: "this computer's name", autocomplete: "off" }),
    problem, busy,
    el("div", { class: "account-actions" },
      submit,
      el("button", { type: "button", text: "Cancel", onclick: () => d.close() }),
      el("button", { type: "button", class: "link", text: signup ? "I have an account: sign in" : "Create an account instead",
        onclick: () => openSignIn(signup ? "login" : "signup") }),
      el("button", { type: "button", class: "link", id: "forgot-open", text: "Forgot password or username?", onclick: () => { d.close(); openRecovery(); } })));

  const send = async (replace) => {
    const data = Object.fromEntries(new FormData(form));
    const body = signup
      ? { email: data.email, username: data.username, password: data.password }
      : { user: data.user, password: data.password };
    if (!web) body.server = data.server;
    if (data.device_name) body.device_name = data.device_name;
    if (replace) body.replace = replace;
    submit.disabled = true;
    problem.hidden = true;
    busy.textContent = signup ? "Creating the account…" : "Signing in and restoring your workspaces…";
    try {
      await post(signup ? "/api/account/signup" : "/api/account/login", body);
      if (!web) localStorage.setItem("apisync.server", data.server);
      d.close();
      onChange({ signedIn: true });
    } catch (e) {
      const info = e.info || {};
      // The desktop app puts the list in the error, the web version (the
      // server's own refusal) in its details.
      const devices = info.devices || (info.details && info.details.devices);
      if (info.code === "device_limit" && Array.isArray(devices)) {
        showProblem(problem, e.message, deviceList(devices, (id) => send(id)));
        // The list is below the form: bring it, and its first choice, into view.
        problem.scrollIntoView({ block: "end" });
        const choice = problem.querySelector("button");
        if (choice) choice.focus();
      } else {
        showProblem(problem, e.message);
      }
    } finally {
      submit.disabled = false;
      busy.textContent = "";
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); send(null); });
  d.replaceChildren(
    el("h2", { id: "account-dialog-title", text: signup ? "Create an account" : "Sign in" }),
    el("p", { class: "note", text: web
      ? (signup ? "Your account lives on this apisync server; this browser becomes one of its devices (three at most)."
        : "Sign in to this apisync server. This browser becomes one of your devices (three at most) until you sign out.")
      : signup
        ? "Your account lives on your apisync server; this app becomes one of its devices (three at most)."
        : "Sign in to your apisync server; your workspaces come to this device and stay in sync." }),
    form);
  if (!d.open) d.showModal();
  const first = form.querySelector(server || web ? (signup ? "[name=email]" : user ? "[name=password]" : "[name=user]") : "[name=server]");
  if (first) first.focus();
}

// Sign-out refused: say why, offer the export, and (after a confirmation)
// signing out anyway.
function refusedSignOut(message) {
  const d = dialog();
  const force = el("button", { type: "button", class: "danger", text: "Sign out anyway and lose them", onclick: async () => {
    if (!window.confirm("Sign out and discard the changes and conflicts that have not reached the server?")) return;
    try { await post("/api/account/logout", { force: true }); d.close(); onChange({ signedIn: false }); }
    catch (e) { showProblem(problem, e.message); }
  } });
  const problem = problemBox();
  d.replaceChildren(
    el("h2", { id: "account-dialog-title", text: "Not signed out" }),
    el("p", { class: "account-refusal", text: message }),
    el("p", {}, exportLink("Export everything (a JSON file)")),
    problem,
    el("div", { class: "account-actions" },
      el("button", { type: "button", class: "primary", text: "Keep working", onclick: () => d.close() }), force));
  if (!d.open) d.showModal();
  d.querySelector(".account-export").focus();
}

async function signOut(button) {
  button.disabled = true;
  try {
    await post("/api/account/logout", {});
    onChange({ signedIn: false });
  } catch (e) {
    const code = e.info && e.info.code;
    if (code === "unsynced_changes" || code === "unresolved_conflicts") refusedSignOut(e.message);
    else window.alert(e.message);
  } finally {
    button.disabled = false;
  }
}

// ---- the header's account area ---------------------------------------------

// Whether the error is a session that ended (signed out elsewhere, password
// changed or reset, expired): signing in again is then the way on, not for
// a server fault. The device library's reasons all say so in these words.
function sessionEnded(status) {
  return status.state === "error" && /signed out|sign in again|apisync login/i.test(status.reason || "");
}

// Renders the account area for `status` (as GET /api/status returns it).
export function renderAccount(status) {
  last = status;
  const root = $("account");
  if (!root) return;
  const key = `${status.scratch_pad}|${status.user}|${sessionEnded(status)}`;
  if (root.dataset.key === key) return; // unchanged: keep focus where it is
  root.dataset.key = key;
  if (status.scratch_pad) {
    root.replaceChildren(
      el("button", { type: "button", class: "primary", id: "sign-in", text: "Sign in", onclick: () => openSignIn("login") }),
      el("button", { type: "button", class: "link", id: "sign-up", text: "Create account", onclick: () => openSignIn("signup") }),
      ...(status.web ? [] : [exportLink("Export")]));
    return;
  }
  const parts = [el("span", { class: "account-user", title: status.server || "", text: status.user || "" })];
  // An ended session (signed out elsewhere, password changed) keeps its
  // work: signing in again delivers it.
  if (sessionEnded(status)) {
    parts.push(el("button", { type: "button", class: "primary", id: "sign-in-again", text: "Sign in again", onclick: () => openSignIn("login") }));
  }
  const out = el("button", { type: "button", id: "sign-out", text: "Sign out" });
  out.addEventListener("click", () => signOut(out));
  // The web version's account pages are devices and password; it has no export.
  parts.push(el("button", { type: "button", id: "account-pages-open", text: "Account", onclick: () => openAccountPages() }));
  parts.push(out);
  if (!status.web) parts.push(exportLink("Export"));
  root.replaceChildren(...parts);
}

// `changed({signedIn})` runs after a sign-in, sign-up or sign-out, so the
// page can show the account's workspaces or the Scratch Pad.
export function initAccount(changed) {
  onChange = changed;
}
