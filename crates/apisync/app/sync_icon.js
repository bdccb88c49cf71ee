// The sync icon: five states, each with its own shape and a text label (never
// colour alone), the pending count, a conflicts badge, a badge for a mirrored
// folder that stopped on a file, and a tooltip on hover or keyboard focus
// with the reason, what stops each mirror and the last sync time.

const STATES = {
  offline: { label: "Offline", shape: "cross" },
  connecting: { label: "Connecting", shape: "dots" },
  syncing: { label: "Syncing", shape: "arrows" },
  in_sync: { label: "In sync", shape: "check" },
  error: { label: "Error", shape: "bang" },
};

// Inline SVG per state, built with DOM calls (no markup strings).
const SVG_NS = "http://www.w3.org/2000/svg";
const PATHS = {
  cross: ["M6 17h11a4 4 0 0 0 0-8 6 6 0 0 0-11.3 1.5A3.5 3.5 0 0 0 6 17z", "M4 4l16 16"],
  dots: ["M6 17h11a4 4 0 0 0 0-8 6 6 0 0 0-11.3 1.5A3.5 3.5 0 0 0 6 17z", "M9 13h.01M12 13h.01M15 13h.01"],
  arrows: ["M6 17h11a4 4 0 0 0 0-8 6 6 0 0 0-11.3 1.5A3.5 3.5 0 0 0 6 17z", "M10 11l2-2 2 2M14 14l-2 2-2-2"],
  check: ["M6 17h11a4 4 0 0 0 0-8 6 6 0 0 0-11.3 1.5A3.5 3.5 0 0 0 6 17z", "M9 13l2 2 4-4"],
  bang: ["M6 17h11a4 4 0 0 0 0-8 6 6 0 0 0-11.3 1.5A3.5 3.5 0 0 0 6 17z", "M12 9v3M12 14.5v.01"],
};

function icon(shape) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("focusable", "false");
  for (const d of PATHS[shape]) {
    const p = document.createElementNS(SVG_NS, "path");
    p.setAttribute("d", d);
    svg.appendChild(p);
  }
  return svg;
}

function when(ms) {
  if (!ms) return "never";
  return new Date(ms).toLocaleString();
}

// The last sync time seen, still true while the app or server is away.
let lastSynced = null;

// Renders `status` (as GET /api/status returns it) into the #sync element.
export function renderSync(root, status) {
  if (status.last_synced_at) lastSynced = status.last_synced_at;
  const st = STATES[status.state] || STATES.offline;
  root.dataset.state = status.state;
  root.querySelector(".sync-icon").replaceChildren(icon(st.shape));
  root.querySelector(".sync-label").textContent = st.label;
  const pending = root.querySelector(".sync-pending");
  pending.textContent = status.pending > 0 ? `${status.pending} pending` : "";
  const badge = root.querySelector(".sync-conflicts");
  badge.hidden = !(status.conflicts > 0);
  badge.textContent = `${status.conflicts} conflict${status.conflicts === 1 ? "" : "s"}`;
  // Mirrors that cannot go on (a file with merge-conflict markers), as `apisync status` lists them.
  const stopped = (status.mirrors || []).filter((m) => m.error);
  const mirrorBadge = root.querySelector(".sync-mirrors");
  mirrorBadge.hidden = stopped.length === 0;
  mirrorBadge.textContent = stopped.length === 1 ? "Mirror stopped" : `${stopped.length} mirrors stopped`;

  const lines = [];
  if (status.reason) lines.push(status.reason);
  else if (status.state === "in_sync") lines.push("Everything is sent and received.");
  else if (status.state === "syncing") lines.push("Exchanging changes with the server.");
  else if (status.state === "connecting") lines.push("Reaching the server.");
  // Signed out, the reason already says so; signed in, say as whom.
  if (status.scratch_pad && !status.reason) lines.push("Signed out: edits stay in the Scratch Pad on this device.");
  else if (!status.scratch_pad && status.user) lines.push(`Signed in as ${status.user} on ${status.server || "the server"}.`);
  if (status.pending > 0) lines.push(`${status.pending} change(s) wait to be sent.`);
  if (status.conflicts > 0) lines.push(`${status.conflicts} conflict(s) wait: \`apisync conflicts\` lists them.`);
  for (const m of stopped) lines.push(`Mirror ${m.dir} stopped: ${m.error}`);
  lines.push(`Last synced: ${when(status.last_synced_at)}.`);
  const detail = root.querySelector(".sync-detail");
  detail.replaceChildren(...lines.map((l) => {
    const p = document.createElement("p");
    p.textContent = l;
    return p;
  }));
  root.setAttribute("aria-label", `Sync: ${st.label}${stopped.length ? `; ${mirrorBadge.textContent}` : ""}`);
}

// Shown while the app itself cannot be reached: the `apisync app` process
// stopped, or (the web version) the browser lost the server.
export function renderLost(root, web) {
  const reason = web
    ? "Lost the server: this page reconnects by itself when it answers again."
    : "The app stopped answering: is `apisync app` still running?";
  renderSync(root, { state: web ? "connecting" : "offline", reason, pending: 0, conflicts: 0, last_synced_at: lastSynced });
}
