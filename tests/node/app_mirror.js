#!/usr/bin/env node
/*
 * Mirroring a workspace to a folder from `apisync app`, in Debian's headless Chromium, as a person
 * would: "Mirror to a folder…" (under Import/Export) opens a dialog (axe-core finds nothing serious in it; a relative
 * path is refused in it, in the error style); Start with the full path writes the folder, and the
 * sidebar lists the mirror "In step". A request file edited on disk changes the request in the
 * open editor and its name in the tree; merge-conflict markers written into the file stop the
 * mirror: the list says so with the file's path and line, and the status bar shows "Mirror
 * stopped" (axe-core again); the file fixed, the list says "In step" and the change arrives. Stop
 * ends it: the list says "Not running" and a file edited then changes nothing. Screenshots:
 * mirror-dialog.png, mirror-in-step.png, mirror-error.png. Run by crates/apisync/tests/app_mirror.rs.
 *
 *   node app_mirror.js --url URL_WITH_SECRET --bin APISYNC --profile DIR --id REQUEST_ID --dir FOLDER --shots DIR
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { arg, launch, finish, checkA11y } = require("./app_common");

// The first request file under `root` (the v3 layout names it after the request).
function requestFile(root) {
  const walk = (dir) => {
    let entries = [];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return null; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { const f = walk(p); if (f) return f; }
      else if (e.name.endsWith(".request.yaml")) return p;
    }
    return null;
  };
  return walk(path.join(root, "collections"));
}

async function main() {
  const url = arg("--url");
  const bin = arg("--bin");
  const profile = arg("--profile");
  const id = arg("--id");
  const dir = arg("--dir");
  const shots = arg("--shots");
  const env = { ...process.env };
  delete env.APISYNC_HOME;
  delete env.APISYNC_OFFLINE;
  // The request's URL as the CLI shows it (a string, or v2.1's object with `raw`).
  const savedUrl = () => {
    const u = JSON.parse(execFileSync(bin, ["--profile", profile, "--offline", "show", id, "--json"], { encoding: "utf8", env })).fields.url;
    return typeof u === "string" ? u : u && u.raw;
  };

  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const eventually = async (f, what, ms = 10000) => {
    const end = Date.now() + ms;
    for (;;) {
      try { if (await f()) return true; } catch { /* not there yet */ }
      if (Date.now() > end) { failures.push(what); return false; }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const timings = {};
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    const item = page.locator(`#tree [data-id="${id}"]`);
    await item.waitFor({ timeout: 15000 });
    await item.click();
    const urlBox = page.getByLabel("URL", { exact: true });
    await urlBox.waitFor({ timeout: 5000 });
    check((await page.locator("#mirrors .mirror").count()) === 0, "a mirror is listed before any mirror");

    // The dialog: axe-core, a relative path refused inside it.
    const open = page.getByRole("button", { name: "Mirror to a folder…" });
    check(await open.isVisible(), "no Mirror to a folder… in the sidebar");
    await open.click();
    const dlg = page.getByRole("dialog", { name: /Mirror .* to a folder/ });
    await dlg.waitFor({ timeout: 5000 });
    const input = dlg.getByLabel("Folder (full path)");
    check(await input.evaluate((e) => e === document.activeElement), "the folder field does not have the focus");
    for (const v of await checkA11y(page, "the mirror dialog", { include: "#mirror-dialog" })) failures.push(v);
    await input.fill("shop-api/postman");
    await dlg.getByRole("button", { name: "Start" }).click();
    const refusal = dlg.getByRole("alert");
    await eventually(async () => (await refusal.textContent()).includes("not an absolute path"), "a relative path was not refused in the dialog");
    check(await dlg.isVisible(), "the dialog closed on a refusal");
    for (const v of await checkA11y(page, "the mirror dialog with a refusal", { include: "#mirror-dialog" })) failures.push(v);
    await input.fill(dir);
    check(await refusal.isHidden(), "the refusal stays after the path changed");
    await page.screenshot({ path: path.join(shots, "mirror-dialog.png") });

    // Start: the folder is written, the list says In step.
    let t = Date.now();
    await dlg.getByRole("button", { name: "Start" }).click();
    await eventually(async () => !(await dlg.isVisible()), "the dialog did not close after Start");
    const row = page.locator(`#mirrors .mirror[data-dir="${dir}"]`);
    await eventually(async () => /^In step · (just now|\d+ s ago)$/.test((await row.locator(".mirror-state").textContent()).trim()), "the list does not say In step");
    await eventually(async () => requestFile(dir) !== null, "the request file did not appear");
    timings.start_to_files_ms = Date.now() - t;
    check(await row.getByRole("button", { name: `Stop mirroring to ${dir}` }).isVisible(), "no Stop on the mirror");

    // A file edited and renamed on disk (its name is the request's): the editor and the tree follow.
    let file = requestFile(dir);
    const first = fs.readFileSync(file, "utf8");
    check(path.basename(file) === "List orders.request.yaml" && first.includes("url: https://api.example.com/orders\n"), `the request file ${file}: ${first}`);
    t = Date.now();
    const renamed = path.join(path.dirname(file), "List all orders.request.yaml");
    // As an editor or git would: a rename, then the new text through a hidden file renamed over it.
    fs.renameSync(file, renamed);
    const hidden = path.join(path.dirname(file), ".edit.tmp");
    fs.writeFileSync(hidden, first.replace("https://api.example.com/orders", "https://api.example.com/orders?page=2"));
    fs.renameSync(hidden, renamed);
    await eventually(async () => (await urlBox.inputValue()) === "https://api.example.com/orders?page=2", "the editor did not take the URL from the file");
    await eventually(async () => (await item.locator(".name").textContent()).includes("List all orders"), "the tree did not take the name from the file");
    timings.file_to_editor_ms = Date.now() - t;
    await eventually(async () => /^Last change (just now|\d+ s ago): 1 edit from the files/.test(await row.locator(".mirror-change").textContent()), "the list does not tell the last change");
    await page.screenshot({ path: path.join(shots, "mirror-in-step.png") });

    // Merge-conflict markers: the mirror stops, saying where; the status bar shows it.
    file = renamed;
    const clean = fs.readFileSync(file, "utf8");
    const rel = path.relative(dir, file).split(path.sep).join("/");
    t = Date.now();
    fs.writeFileSync(file, `<<<<<<< HEAD\n${clean}=======\n${clean.replace("page=2", "page=9")}>>>>>>> theirs\n`);
    await eventually(async () => (await row.getAttribute("data-state")) === "stopped", "the list does not show the mirror stopped");
    timings.markers_to_error_ms = Date.now() - t;
    const said = (await row.locator(".mirror-state").textContent()).trim();
    check(said.startsWith(`Stopped: ${rel}, line 1:`) && said.includes("merge-conflict marker"), `the stop's words: ${said}`);
    check(await row.locator(".account-problem").isVisible(), "the stop is not in the error style");
    const badge = page.locator("#sync .sync-mirrors");
    await eventually(async () => (await badge.isVisible()) && (await badge.textContent()) === "Mirror stopped", "the status bar does not show the stopped mirror");
    check((await page.locator("#sync").getAttribute("aria-label")).includes("Mirror stopped"), "the status's label does not say the mirror stopped");
    await page.locator("#sync").focus();
    const tip = (await page.locator("#sync-detail").textContent()) || "";
    check(tip.includes(`Mirror ${dir} stopped: ${rel}, line 1`), `the status tooltip: ${tip}`);
    for (const v of await checkA11y(page, "the page with a stopped mirror")) failures.push(v);
    await page.screenshot({ path: path.join(shots, "mirror-error.png") });
    await page.locator("#tree-filter").focus();
    check(savedUrl() === "https://api.example.com/orders?page=2", `a file with markers was applied: ${savedUrl()}`);

    // Fixed: In step again, and the fix arrives.
    t = Date.now();
    fs.writeFileSync(file, clean.replace("page=2", "page=3"));
    await eventually(async () => (await row.getAttribute("data-state")) === "in-step", "the list does not say In step after the fix");
    await eventually(async () => (await urlBox.inputValue()) === "https://api.example.com/orders?page=3", "the fixed file's URL did not reach the editor");
    timings.fix_to_in_step_ms = Date.now() - t;
    await eventually(async () => !(await badge.isVisible()), "the status bar still shows the stopped mirror");

    // Stop: not running; a file edited afterwards changes nothing.
    await row.getByRole("button", { name: `Stop mirroring to ${dir}` }).click();
    await eventually(async () => (await row.locator(".mirror-state").textContent()).startsWith("Not running"), "the list does not say Not running after Stop");
    check(await row.getByRole("button", { name: `Start mirroring to ${dir}` }).isVisible(), "no Start on a stopped mirror");
    fs.writeFileSync(file, clean.replace("page=2", "page=4"));
    await new Promise((r) => setTimeout(r, 1500));
    const after = savedUrl();
    check(after === "https://api.example.com/orders?page=3", `a stopped mirror took a file: ${after}`);
    check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(timings));
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
