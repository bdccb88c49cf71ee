#!/usr/bin/env node
/*
 * The sidebar tree of `apisync app` in Debian's headless Chromium (driven by playwright-core,
 * never a downloaded browser), as a person would use it.
 *
 *   node app_tree.js --mode edit --url URL_WITH_SECRET --screenshot OUT.png
 *     On an empty Scratch Pad: creates a collection "Orders API" from the tree's button and,
 *     from its actions menu, requests "List orders" and "Create order" and a folder "Archive",
 *     each named inline; renames "List orders" to "List all orders" with F2 + Enter (and
 *     checks Escape keeps a name); moves "Create order" up with Alt+ArrowUp; drags "List all
 *     orders" into "Archive"; filters by "create"; deletes "Create order" through the
 *     confirmation dialog. Prints JSON; crates/apisync/tests/app_tree.rs then checks the
 *     profile with `apisync ls --json`.
 *
 *   node app_tree.js --mode workspaces --url URL_WITH_SECRET --screenshot OUT.png
 *     Signed in as the owner: creates "Ops" with New workspace, renames it "Ops Team", deletes
 *     it after Cancel then Delete in the confirmation dialog.
 *
 *   node app_tree.js --mode viewer --url URL_WITH_SECRET --workspace NAME --screenshot OUT.png
 *     Signed in as a team viewer of NAME: the role shows "Viewer: read-only", there is no New
 *     collection, no row actions, no dragging, F2 renames nothing; Delete shows the server's
 *     refusal.
 *
 *   node app_tree.js --mode big --url URL_WITH_SECRET --expect N --screenshot OUT.png
 *     On a workspace of N requests: the tree opens with far fewer rows in the DOM than N,
 *     scrolling to the end shows the last rows, a filter finds one request. Prints (never
 *     asserts) how long opening and one filter keystroke took.
 */
"use strict";

const { arg, launch, finish } = require("./app_common");

const row = (page, name) => page.locator('#tree [role="treeitem"]', { has: page.locator(".name", { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }) });

// The names of the rows in the DOM, top to bottom, with their levels.
async function shown(page) {
  return page.$$eval('#tree [role="treeitem"]', (els) => els
    .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
    .map((e) => `${"  ".repeat(Number(e.getAttribute("aria-level")) - 1)}${e.querySelector(".name, .rename")?.textContent || e.querySelector(".rename")?.value}`));
}

async function nameInline(page, name) {
  const input = page.locator("#tree input.rename");
  await input.waitFor({ timeout: 10000 });
  await input.fill(name);
  await input.press("Enter");
  await row(page, name).waitFor({ timeout: 10000 });
}

async function menu(page, name, item) {
  await row(page, name).focus();
  await page.keyboard.press("Shift+F10");
  await page.locator('.tree-menu [role="menuitem"]', { hasText: item }).click();
}

async function edit(page, shot, check) {
  await page.locator("#tree-new").click();
  await nameInline(page, "Orders API");
  await menu(page, "Orders API", "New request");
  await nameInline(page, "List orders");
  await menu(page, "Orders API", "New request");
  await nameInline(page, "Create order");
  await menu(page, "Orders API", "New folder");
  await nameInline(page, "Archive");
  check(JSON.stringify(await shown(page)) === JSON.stringify(["Orders API", "  List orders", "  Create order", "  Archive"]), `after create: ${await shown(page)}`);

  // Inline rename: Escape keeps the name, Enter saves the new one.
  await row(page, "List orders").focus();
  await page.keyboard.press("F2");
  await page.locator("#tree input.rename").fill("Nope");
  await page.keyboard.press("Escape");
  await row(page, "List orders").waitFor({ timeout: 5000 });
  // The rows may be rebuilt once more by a live refresh of the earlier edits; focus must end on the row.
  const back = await page.waitForFunction(() => document.activeElement?.querySelector?.(".name")?.textContent === "List orders", null, { timeout: 5000 }).then(() => true, () => false);
  check(back, `focus left the row after Escape (on ${await page.evaluate(() => document.activeElement?.outerHTML?.slice(0, 120))})`);
  await page.keyboard.press("F2");
  await page.locator("#tree input.rename").fill("List all orders");
  await page.keyboard.press("Enter");
  await row(page, "List all orders").waitFor({ timeout: 10000 });

  // Keyboard reorder: Alt+ArrowUp puts "Create order" first; focus stays on it.
  await row(page, "Create order").focus();
  await page.keyboard.press("Alt+ArrowUp");
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('#tree [role="treeitem"]')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((e) => e.querySelector(".name")?.textContent);
    return names[1] === "Create order";
  }, null, { timeout: 10000 });
  const stayed = await page.waitForFunction(() => document.activeElement?.querySelector?.(".name")?.textContent === "Create order", null, { timeout: 5000 }).then(() => true, () => false);
  check(stayed, "focus left the reordered row");

  // Drag and drop: "List all orders" into the middle of "Archive".
  await row(page, "List all orders").dragTo(row(page, "Archive"));
  await page.waitForFunction(() => [...document.querySelectorAll('#tree [role="treeitem"]')]
    .some((e) => e.querySelector(".name")?.textContent === "List all orders" && e.getAttribute("aria-level") === "3"), null, { timeout: 10000 });
  check(JSON.stringify(await shown(page)) === JSON.stringify(["Orders API", "  Create order", "  Archive", "    List all orders"]), `after drop: ${await shown(page)}`);

  // Filter as you type: a match keeps its ancestors.
  await page.locator("#tree-filter").fill("create");
  await page.waitForFunction(() => document.querySelectorAll('#tree [role="treeitem"]').length === 2, null, { timeout: 5000 });
  check(JSON.stringify(await shown(page)) === JSON.stringify(["Orders API", "  Create order"]), `filtered: ${await shown(page)}`);
  await page.locator("#tree-filter").fill("");
  await page.waitForFunction(() => document.querySelectorAll('#tree [role="treeitem"]').length === 4, null, { timeout: 5000 });

  // Delete, confirmed in a dialog (Cancel first: nothing happens).
  await row(page, "Create order").focus();
  await page.keyboard.press("Delete");
  const dialog = page.locator("dialog.small-dialog[open]");
  await dialog.waitFor({ timeout: 5000 });
  check((await dialog.textContent()).includes("Create order"), "the dialog does not name the document");
  await dialog.locator("button", { hasText: "Cancel" }).click();
  check((await row(page, "Create order").count()) === 1, "Cancel deleted it");
  await row(page, "Create order").focus();
  await page.keyboard.press("Delete");
  await page.locator("dialog.small-dialog[open] button", { hasText: "Delete" }).click();
  await row(page, "Create order").waitFor({ state: "detached", timeout: 10000 });

  // Select the request and show its actions menu for the screenshot.
  await row(page, "List all orders").click();
  // The click opens the request in the editor; focus the row once that is done.
  await page.locator(".ed .ed-name").waitFor({ timeout: 10000 });
  await row(page, "List all orders").focus();
  await page.keyboard.press("Shift+F10");
  await page.locator(".tree-menu").waitFor({ timeout: 5000 });
  await page.screenshot({ path: shot });
  await page.keyboard.press("Escape");
  return { rows: await shown(page) };
}

async function pickWorkspace(page, name) {
  const value = await page.locator("#workspace option", { hasText: name }).first().getAttribute("value");
  await page.locator("#workspace").selectOption(value);
}

async function workspaces(page, shot, check) {
  await page.locator("#ws-new").click();
  const dialog = page.locator("dialog.small-dialog[open]");
  await dialog.locator("input").fill("Ops");
  await dialog.locator("button", { hasText: "Create" }).click();
  await page.locator("#workspace option", { hasText: "Ops" }).waitFor({ state: "attached", timeout: 10000 });
  check((await page.locator("#workspace option:checked").textContent()).startsWith("Ops"), "the new workspace is not selected");
  await page.locator("#ws-rename").click();
  await dialog.locator("input").fill("Ops Team");
  await dialog.locator("button", { hasText: "Rename" }).click();
  await page.locator("#workspace option", { hasText: "Ops Team" }).waitFor({ state: "attached", timeout: 10000 });
  await page.locator("#ws-delete").click();
  check((await dialog.textContent()).includes("Ops Team"), "the delete dialog does not name the workspace");
  await page.screenshot({ path: shot });
  await dialog.locator("button", { hasText: "Cancel" }).click();
  check((await page.locator("#workspace option", { hasText: "Ops Team" }).count()) === 1, "Cancel deleted it");
  await page.locator("#ws-delete").click();
  await dialog.locator("button", { hasText: "Delete workspace" }).click();
  await page.locator("#workspace option", { hasText: "Ops Team" }).waitFor({ state: "detached", timeout: 15000 });
  return { workspaces: await page.locator("#workspace option").allTextContents() };
}

async function viewer(page, shot, check, name) {
  await page.locator("#workspace option", { hasText: name }).first().waitFor({ state: "attached", timeout: 15000 });
  await pickWorkspace(page, name);
  const role = page.locator("#ws-role");
  await role.waitFor({ timeout: 5000 });
  check((await role.textContent()) === "Viewer: read-only", `role: ${await role.textContent()}`);
  await page.locator('#tree [role="treeitem"]').first().waitFor({ timeout: 10000 });
  check(await page.locator("#tree-new").isHidden(), "a viewer sees New collection");
  check(await page.locator("#ws-rename").isHidden(), "a viewer sees Rename");
  check((await page.locator("#tree .row-menu").count()) === 0, "a viewer sees row actions");
  check((await page.locator('#tree [draggable="true"]').count()) === 0, "a viewer can drag");
  await page.locator('#tree [role="treeitem"]').first().focus();
  await page.keyboard.press("F2");
  check((await page.locator("#tree input.rename").count()) === 0, "F2 renames for a viewer");
  await page.locator("#ws-delete").click();
  await page.locator("dialog.small-dialog[open] button", { hasText: "Delete workspace" }).click();
  const error = page.locator("#error");
  await error.waitFor({ timeout: 10000 });
  const text = await error.textContent();
  await page.screenshot({ path: shot });
  return { role: await role.textContent(), refusal: text };
}

async function big(page, shot, expect, check, started) {
  await page.locator('#tree [role="treeitem"]').first().waitFor({ timeout: 60000 });
  const openMs = Date.now() - started;
  const inDom = await page.locator('#tree [role="treeitem"]').count();
  check(inDom > 0 && inDom < 200, `${inDom} rows in the DOM for ${expect} requests`);
  const setsize = Number(await page.locator('#tree [role="treeitem"]').first().getAttribute("aria-setsize"));
  check(setsize >= expect, `aria-setsize ${setsize} < ${expect}`);

  // Scroll to the end: the last rows are built, still only a few.
  await page.locator("#tree-viewport").evaluate((v) => { v.scrollTop = v.scrollHeight; });
  await page.waitForTimeout(100);
  const lastNames = await shown(page);
  check(lastNames.some((n) => n.includes(`Request ${expect}`)), `the end does not show Request ${expect}: ${lastNames.slice(-3)}`);
  check((await page.locator('#tree [role="treeitem"]').count()) < 200, "scrolling built too many rows");
  await page.locator("#tree-viewport").evaluate((v) => { v.scrollTop = 0; });

  // One filter keystroke: from the input event to the rows laid out and painted.
  const filterMs = await page.evaluate(async (last) => {
    const input = document.getElementById("tree-filter");
    input.focus();
    input.value = `Request ${last}`;
    const t0 = performance.now();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    void document.getElementById("tree").offsetHeight;
    await new Promise((r) => requestAnimationFrame(() => r()));
    return performance.now() - t0;
  }, expect);
  const found = await shown(page);
  check(found.some((n) => n.trim() === `Request ${expect}`), `the filter did not find Request ${expect}: ${found}`);
  // A second keystroke through the real keyboard, for the same figure as a person meets it.
  const t1 = Date.now();
  await page.locator("#tree-filter").press("Backspace");
  await page.waitForFunction(() => document.querySelectorAll('#tree [role="treeitem"]').length > 2, null, { timeout: 5000 });
  const keyMs = Date.now() - t1;
  await page.locator("#tree-filter").fill("");
  await page.waitForTimeout(100);
  await page.screenshot({ path: shot });
  return { requests: expect, rows_in_dom: inDom, open_ms: openMs, filter_keystroke_ms: Number(filterMs.toFixed(1)), filter_keypress_roundtrip_ms: keyMs };
}

async function main() {
  const mode = arg("--mode");
  const url = arg("--url");
  const shot = arg("--screenshot");
  const browser = await launch();
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  let out;
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
    let alerts = 0;
    page.on("dialog", (d) => { alerts += 1; d.dismiss(); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const started = Date.now();
    await page.goto(url);
    if (mode === "edit") out = await edit(page, shot, check);
    else if (mode === "workspaces") out = await workspaces(page, shot, check);
    else if (mode === "viewer") out = await viewer(page, shot, check, arg("--workspace"));
    else out = await big(page, shot, Number(arg("--expect")), check, started);
    check(alerts === 0, "a browser dialog opened");
    check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
