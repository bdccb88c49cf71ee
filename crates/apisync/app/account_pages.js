// The account pages: one dialog opened from the header's account area, with
// tabs for the account's devices (sign another one out), the password, the
// teams (create, invite, members and roles, leave, share a workspace and
// stop sharing it, the invitations waiting) and deleting the account; and, signed out, the
// recovery dialog (forgot password, reset with the mailed token, username
// recovery). Every form posts to the app API; passwords only go in POST
// bodies and are cleared from the form once sent.

import { call } from "./api.js";
import { el } from "./page_dom.js";
import { confirmDialog } from "./workspaces.js";

const $ = (id) => document.getElementById(id);
let ctx = { user: () => null, server: () => "", workspaces: () => [], changed: () => {} };

function field(label, name, type, extra = {}) {
  return el("label", {}, el("span", { text: label }), el("input", { name, type, ...extra }));
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "never";
}

// A line under a form saying what happened: a success, or the refusal.
function outcome() {
  return el("p", { class: "ap-outcome", role: "status", "aria-live": "polite" });
}

function say(box, text, bad) {
  box.textContent = text;
  box.classList.toggle("ap-bad", !!bad);
}

// Wires a form: `send(data)` returns the success text; the refusal's
// message is shown as it came. Password inputs are emptied afterwards.
function form(children, primary, send, danger) {
  const out = outcome();
  const submit = el("button", { type: "submit", class: danger ? "danger" : "primary", text: primary });
  const f = el("form", { class: "account-form" }, ...children, el("div", { class: "account-actions" }, submit), out);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    say(out, "…");
    try {
      say(out, await send(Object.fromEntries(new FormData(f))));
    } catch (err) {
      say(out, err.message, true);
    } finally {
      submit.disabled = false;
      for (const p of f.querySelectorAll("input[type=password]")) p.value = "";
    }
  });
  return f;
}

// ---- devices ----------------------------------------------------------------

// Lists the account's devices; `notice` is what the last action did.
async function devicesPanel(panel, notice) {
  const list = el("ul", { class: "account-devices ap-devices", "aria-label": "Devices signed in" });
  const out = outcome();
  panel.replaceChildren(el("p", { class: "note", text: "The devices signed in to this account (three at most). Signing one out frees its slot; it keeps its unsynced changes until it signs in again." }), list, out);
  let data;
  try { data = await call("GET", "/api/account/devices"); } catch (e) { say(out, e.message, true); return; }
  for (const d of data.devices) {
    const li = el("li", {}, el("span", { class: "device-name", text: d.current ? `${d.name} (this device)` : d.name }),
      el("span", { class: "device-seen", text: `signed in ${when(d.signed_in_at)}, last seen ${when(d.last_seen_at)}` }));
    if (!d.current) {
      li.append(el("button", { type: "button", text: "Sign out this device", "aria-label": `Sign out this device: ${d.name}`, onclick: async (e) => {
        if (!window.confirm(`Sign out “${d.name}”? It must sign in again to sync.`)) return;
        e.target.disabled = true;
        try {
          await call("POST", `/api/account/devices/${encodeURIComponent(d.id)}/sign-out`, {});
          await devicesPanel(panel, `“${d.name}” is signed out; it keeps its unsynced changes until it signs in again.`);
        } catch (err) { e.target.disabled = false; say(out, err.message, true); }
      } }));
    }
    list.append(li);
  }
  if (notice) say(out, notice);
}

// ---- password ---------------------------------------------------------------

function passwordPanel(panel) {
  panel.replaceChildren(
    el("p", { class: "note", text: "Changing the password signs the account's other devices out; they sign in again with the new one." }),
    form([
      field("Current password", "current", "password", { required: true, autocomplete: "current-password" }),
      field("New password", "new", "password", { required: true, autocomplete: "new-password" }),
      field("Repeat the new password", "repeat", "password", { required: true, autocomplete: "new-password" }),
    ], "Change password", async (d) => {
      if (d.new !== d.repeat) throw new Error("The two new passwords differ; nothing was changed.");
      await call("POST", "/api/account/password", { current: d.current, new: d.new });
      return "Password changed. Your other devices must sign in again.";
    }));
}

// ---- teams ------------------------------------------------------------------

const ROLES = ["viewer", "editor", "admin"];

function roleSelect(name, value) {
  return el("select", { name, "aria-label": "Role" }, ...ROLES.map((r) => el("option", { value: r, text: r, selected: r === value })));
}

// Renders a team's members, invitations and forms into `box`; `notice`
// is what the last action did, shown under them.
async function teamDetail(box, team, reload, notice) {
  const out = outcome();
  box.replaceChildren(el("p", { class: "note", text: "Loading…" }));
  let m;
  try { m = await call("GET", `/api/teams/${encodeURIComponent(team.id)}/members`); } catch (e) { box.replaceChildren(out); say(out, e.message, true); return; }
  const admin = team.role === "admin";
  const me = ctx.user();
  const members = el("ul", { class: "ap-members", "aria-label": `Members of ${team.name}` });
  for (const p of m.members) {
    const li = el("li", {}, el("span", { class: "ap-member", text: `${p.user.username} <${p.user.email}>` }));
    if (admin && p.user.username !== me) {
      const sel = roleSelect("role", p.role);
      sel.setAttribute("aria-label", `Role of ${p.user.username}`);
      sel.addEventListener("change", async () => {
        try { await call("POST", `/api/teams/${encodeURIComponent(team.id)}/role`, { user: p.user.username, role: sel.value }); say(out, `${p.user.username} is now ${sel.value}.`); }
        catch (e) { say(out, e.message, true); }
      });
      li.append(sel, el("button", { type: "button", text: "Remove", "aria-label": `Remove ${p.user.username}`, onclick: async () => {
        if (!window.confirm(`Take ${p.user.username} out of ${team.name}?`)) return;
        try { await call("POST", `/api/teams/${encodeURIComponent(team.id)}/remove`, { user: p.user.username }); await teamDetail(box, team, reload); }
        catch (e) { say(out, e.message, true); }
      } }));
    } else {
      li.append(el("span", { class: "ap-role", text: p.role }));
    }
    members.append(li);
  }
  const parts = [out, el("h4", { text: "Members" }), members];
  if ((m.invitations || []).length) {
    parts.push(el("h4", { text: "Invitations not yet answered" }), el("ul", { class: "ap-members", "aria-label": "Invitations" },
      ...m.invitations.map((i) => el("li", {}, el("span", { text: `${i.login || i.id} as ${i.role}` }),
        el("button", { type: "button", text: "Cancel", onclick: async () => {
          try { await call("POST", `/api/teams/${encodeURIComponent(team.id)}/cancel-invitation`, { user: i.id }); await teamDetail(box, team, reload); }
          catch (e) { say(out, e.message, true); }
        } })))));
  }
  if (admin) {
    parts.push(el("h4", { text: "Invite someone" }), form([
      field("Username or email", "user", "text", { required: true, autocomplete: "off" }),
      el("label", {}, el("span", { text: "Role" }), roleSelect("role", "editor")),
    ], "Invite", async (d) => {
      const r = await call("POST", `/api/teams/${encodeURIComponent(team.id)}/invite`, { user: d.user, role: d.role });
      const text = r.message || `Invitation sent to ${d.user}.`;
      await reload(team.id, text);
      return text;
    }));
  }
  // Only the owner shares, and never the personal workspace (the server says so).
  const own = ctx.workspaces().filter((w) => !w.local_only && !w.personal && w.role === "owner");
  if (!own.length) {
    parts.push(el("h4", { text: "Share a workspace with this team" }),
      el("p", { class: "note", text: "You own no workspace to share: make one with New workspace (your personal one is never shared)." }));
  } else {
    const sel = el("select", { name: "workspace", "aria-label": "Workspace to share" },
      ...own.map((w) => el("option", { value: w.id, text: w.name })));
    parts.push(el("h4", { text: "Share a workspace with this team" }), form([el("label", {}, el("span", { text: "Workspace" }), sel)], "Share", async (d) => {
      const r = await call("POST", `/api/workspaces/${encodeURIComponent(d.workspace)}/share`, { team: team.id });
      const text = `“${r.workspace.name}” is shared with ${team.name}.`;
      await reload(team.id, text);
      return text;
    }));
  }
  parts.push(el("div", { class: "account-actions" }, el("button", { type: "button", class: "danger", text: `Leave ${team.name}`, onclick: async () => {
    if (!window.confirm(`Leave ${team.name}? Its shared workspaces leave this device.`)) return;
    try { await call("POST", `/api/teams/${encodeURIComponent(team.id)}/leave`, {}); reload(); ctx.changed(); }
    catch (e) { say(out, e.message, true); }
  } })));
  box.replaceChildren(...parts);
  if (notice) say(out, notice);
}

// Lists the teams; `open` (a team id) is shown opened, with `notice`.
async function teamsPanel(panel, open, notice) {
  const out = outcome();
  const reload = (id, text) => teamsPanel(panel, id, text);
  let data;
  try { data = await call("GET", "/api/teams"); } catch (e) { panel.replaceChildren(out); say(out, e.message, true); return; }
  const parts = [out];
  if (data.invitations.length) {
    parts.push(el("h3", { text: "Invitations for you" }), el("ul", { class: "ap-members", "aria-label": "Invitations for you" },
      ...data.invitations.map((i) => el("li", {}, el("span", { text: `${i.team_name} (as ${i.role}, from ${i.invited_by})` }),
        el("button", { type: "button", class: "primary", text: "Accept", onclick: async () => {
          try { await call("POST", `/api/invitations/${encodeURIComponent(i.id)}/accept`, {}); reload(); ctx.changed(); } catch (e) { say(out, e.message, true); }
        } }),
        el("button", { type: "button", text: "Decline", onclick: async () => {
          try { await call("POST", `/api/invitations/${encodeURIComponent(i.id)}/decline`, {}); reload(); } catch (e) { say(out, e.message, true); }
        } })))));
  }
  parts.push(el("h3", { text: "Your teams" }));
  if (!data.teams.length) parts.push(el("p", { class: "note", text: "You are in no team yet." }));
  const teams = el("ul", { class: "ap-teams", "aria-label": "Your teams" });
  for (const t of data.teams) {
    const detail = el("div", { class: "ap-team-detail", hidden: true });
    const head = el("button", { type: "button", class: "link", text: `${t.name}`, "aria-expanded": "false", onclick: () => {
      const show = detail.hidden;
      detail.hidden = !show;
      head.setAttribute("aria-expanded", String(show));
      if (show) teamDetail(detail, t, reload);
    } });
    if (t.id === open) {
      detail.hidden = false;
      head.setAttribute("aria-expanded", "true");
      teamDetail(detail, t, reload, notice);
    }
    teams.append(el("li", {}, el("div", { class: "ap-team-head" }, head,
      el("span", { class: "note", text: `${t.role} · ${t.members} member(s) · ${t.workspaces.length} shared workspace(s)` })), detail));
  }
  parts.push(teams, ...(await sharedPart(reload, out)), el("h3", { text: "Create a team" }), form([field("Team name", "name", "text", { required: true, autocomplete: "off" })], "Create team", async (d) => {
    const t = await call("POST", "/api/teams", { name: d.name });
    const text = `Team “${t.name}” created; you are its admin.`;
    await reload(t.id, text);
    return text;
  }));
  panel.replaceChildren(...parts);
  // A notice about no one team (unsharing) goes at the top.
  if (notice && !open) say(out, notice);
}

// The workspaces this account owns that are shared, each with its teams and
// a Stop sharing button (asked first). Only the owner may list or unshare,
// so only owned workspaces are asked about.
async function sharedPart(reload, out) {
  const own = ctx.workspaces().filter((w) => !w.local_only && !w.personal && w.role === "owner");
  if (!own.length) return [];
  const answers = await Promise.all(own.map((w) => call("GET", `/api/workspaces/${encodeURIComponent(w.id)}/shares`).then((r) => ({ w, r }), (e) => ({ w, e }))));
  const list = el("ul", { class: "ap-teams ap-shared", "aria-label": "Workspaces you share" });
  for (const { w, r, e } of answers) {
    // A workspace not on the server yet has no shares: nothing to show.
    if (e && e.status === 404) continue;
    if (e) { list.append(el("li", {}, el("span", { class: "ap-member", text: `${w.name}: ${e.message}` }))); continue; }
    if (!r.shares.length) continue;
    const teams = el("ul", { class: "ap-members", "aria-label": `Teams ${w.name} is shared with` }, ...r.shares.map((s) => el("li", {},
      el("span", { class: "ap-member", text: `${s.name} (${s.members} member${s.members === 1 ? "" : "s"})` }),
      el("button", { type: "button", text: "Stop sharing", "aria-label": `Stop sharing ${w.name} with ${s.name}`, onclick: async () => {
        const ok = await confirmDialog(`Stop sharing “${w.name}” with ${s.name}?`, `Its members lose the workspace at their next sync; what they changed in it stays in it. You keep it.`, "Stop sharing");
        if (!ok) return;
        try {
          await call("POST", `/api/workspaces/${encodeURIComponent(w.id)}/unshare`, { team: s.team_id });
          await reload(null, `“${w.name}” is no longer shared with ${s.name}.`);
          // The button pressed is gone with the redraw: the keyboard goes on from the next one.
          const next = document.querySelector("#account-pages .ap-shared button") || $("ap-tab-teams");
          if (next) next.focus();
          ctx.changed();
        } catch (err) { say(out, err.message, true); }
      } }))));
    list.append(el("li", {}, el("div", { class: "ap-shared-head" }, el("span", { class: "ap-shared-name", text: w.name }), el("span", { class: "note", text: "shared with" })), teams));
  }
  if (!list.children.length) return [el("h3", { text: "Workspaces you share" }), el("p", { class: "note", text: "None of your workspaces is shared with a team." })];
  return [el("h3", { text: "Workspaces you share" }), list];
}

// ---- delete -----------------------------------------------------------------

function deletePanel(panel) {
  const user = ctx.user() || "";
  // The web version keeps nothing in the browser: no Scratch Pad stays.
  const web = !!(ctx.web && ctx.web());
  panel.replaceChildren(
    el("p", { text: `Deleting the account removes all its data on the server and on every device, for good.${web ? "" : " The Scratch Pad on this device stays."} An account still in a team cannot be deleted: leave the teams first.` }),
    form([field(`Type the username “${user}” to confirm`, "confirm", "text", { required: true, autocomplete: "off" })], "Delete my account", async (d) => {
      await call("POST", "/api/account/delete", { confirm: d.confirm });
      setTimeout(() => { $("account-pages").close(); ctx.changed(); }, 1200);
      return "The account is deleted.";
    }, true));
}

// ---- the dialog ---------------------------------------------------------------

// The web version serves every one of them too (`crates/server/src/web/`).
const TABS = [["devices", "Devices", devicesPanel], ["password", "Password", passwordPanel], ["teams", "Teams", teamsPanel], ["delete", "Delete account", deletePanel]];

export function openAccountPages(which) {
  let d = $("account-pages");
  if (!d) {
    d = el("dialog", { id: "account-pages", class: "account-dialog account-pages", "aria-labelledby": "account-pages-title" });
    document.body.appendChild(d);
  }
  const panel = el("div", { class: "ap-panel", role: "tabpanel", id: "ap-panel" });
  const tabs = el("div", { class: "ap-tabs", role: "tablist", "aria-label": "Account pages" });
    const show = (key) => {
    for (const b of tabs.children) b.setAttribute("aria-selected", String(b.dataset.tab === key));
    const [, , render] = TABS.find(([k]) => k === key) || TABS[0];
    panel.setAttribute("aria-label", key);
    render(panel);
  };
  for (const [key, label] of TABS) {
    tabs.append(el("button", { type: "button", role: "tab", "data-tab": key, id: `ap-tab-${key}`, "aria-controls": "ap-panel", text: label, onclick: () => show(key) }));
  }
  d.replaceChildren(
    el("h2", { id: "account-pages-title", text: `Account: ${ctx.user() || ""}` }),
    el("p", { class: "note", text: ctx.server() }),
    tabs, panel,
    el("div", { class: "account-actions" }, el("button", { type: "button", text: "Close", onclick: () => d.close() })));
  if (!d.open) d.showModal();
  show(TABS.some(([k]) => k === which) ? which : "devices");
  tabs.querySelector("[aria-selected=true]").focus();
}

// ---- signed out: recovery ---------------------------------------------------

export function openRecovery() {
  let d = $("account-recovery");
  if (!d) {
    d = el("dialog", { id: "account-recovery", class: "account-dialog", "aria-labelledby": "account-recovery-title" });
    document.body.appendChild(d);
  }
  // The web version is the server: no server to name.
  const web = !!(ctx.web && ctx.web());
  const server = ctx.server() || localStorage.getItem("apisync.server") || "";
  const serverField = () => (web ? "" : field("Server URL", "server", "url", { required: true, value: server, placeholder: "https://sync.example.com" }));
  d.replaceChildren(
    el("h2", { id: "account-recovery-title", text: "Forgot your password or username?" }),
    el("h3", { text: "1. Get a reset token by mail" }),
    form([serverField(), field("Email or username", "user", "text", { required: true, autocomplete: "username" })], "Mail me a token",
      async (f) => (await call("POST", "/api/account/forgot-password", { server: f.server, user: f.user })).message),
    el("h3", { text: "2. Set a new password with the token" }),
    form([serverField(), field("Token from the mail", "token", "text", { required: true, autocomplete: "off" }),
      field("New password", "password", "password", { required: true, autocomplete: "new-password" })], "Set the password", async (f) => {
      await call("POST", "/api/account/reset-password", { server: f.server, token: f.token, password: f.password });
      return "Password reset. Sign in with the new one on each of your devices.";
    }),
    el("h3", { text: "Forgot the username?" }),
    form([serverField(), field("Email", "email", "email", { required: true, autocomplete: "email" })], "Mail me my username",
      async (f) => (await call("POST", "/api/account/recover-username", { server: f.server, email: f.email })).message),
    el("div", { class: "account-actions" }, el("button", { type: "button", text: "Close", onclick: () => d.close() })));
  if (!d.open) d.showModal();
  d.querySelector("input").focus();
}

// `user()` / `server()` from the latest status, `workspaces()` the list,
// `changed()` reloads the page's account and workspaces.
export function initAccountPages(context) {
  ctx = { ...ctx, ...context };
}
