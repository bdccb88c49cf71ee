#!/usr/bin/env node
/*
 * Accessibility of `apisync app` in Debian's headless Chromium (playwright-core): axe-core on
 * every state of the pages, and a keyboard-only pass.
 *
 *   node app_a11y.js --mode local --url URL_WITH_SECRET --shots DIR
 *     Signed out, on a Scratch Pad holding a collection "Orders API" with a folder "Archive",
 *     a request "List orders" and its saved response "200 OK". axe (no serious or critical
 *     violation) on: the page; the request editor open, each of its tabs; the saved response
 *     shown; the tree's actions menu; the Move to… and Delete dialogs; the sign-in and the
 *     create-account dialogs. Then, reloaded, the keyboard alone (Tab, arrows, Enter, Escape,
 *     F2, Shift+F10 for the row's actions, Ctrl+S): a collection and a request in it are
 *     created and named, the request is opened, its URL typed and saved; at every step the
 *     focused element shows an outline, and a full round of Tab visits each stop once and
 *     comes back to the first (focus never trapped). Screenshots: a11y-*.png in DIR.
 *
 *   node app_a11y.js --mode signed-in --url URL_WITH_SECRET --shots DIR
 *     Signed in, with one conflict waiting: axe on the page, the conflicts dialog, and the
 *     New workspace, Rename and Delete workspace dialogs (a workspace "A11y" is made and kept).
 *
 * axe-core is injected as a script tag, so the browser context bypasses the page's CSP
 * (`bypassCSP: true`); the CSP itself is checked by app_browser.js. Exits non-zero on a failure.
 */
"use strict";

const path = require("path");
const { arg, launch, finish, checkA11y } = require("./app_common");

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const row = (page, name) => page.locator('#tree [role="treeitem"]', { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });

async function axe(page, name, options) {
  failures.push(...(await checkA11y(page, name, options)));
}

async function shot(page, dir, name) {
  await page.screenshot({ path: path.join(dir, `a11y-${name}.png`) });
}

// What has focus, for messages.
const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "body";
  const label = e.getAttribute("aria-label") || e.id || e.className || "";
  return `${e.tagName.toLowerCase()}${label ? `[${String(label).slice(0, 40)}]` : ""} "${(e.value || e.textContent || "").trim().slice(0, 30)}"`;
});

// Whether the focused element shows a focus ring a person can see: it matches :focus-visible,
// has an outline (style and width) or a drawn ring, and is on screen, not hidden behind
// something else. `null` when nothing is focused (the page itself, between rounds of Tab).
const focusShown = (page) => page.evaluate(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const cs = getComputedStyle(e);
  const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || /inset|rgb/.test(cs.boxShadow) && cs.boxShadow !== "none";
  const r = e.getBoundingClientRect();
  const cx = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const cy = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const hit = document.elementFromPoint(cx, cy);
  const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
  return { visible: e.matches(":focus-visible"), ring, onScreen, uncovered: !!hit && (e.contains(hit) || hit.contains(e)) };
});

async function assertFocusShown(page, when) {
  const f = await focusShown(page);
  if (f === null) { failures.push(`${when}: nothing has focus`); return; }
  const ok = f.visible && f.ring && f.onScreen && f.uncovered;
  check(ok, `${when}: the focus on ${await focused(page)} is not visible (${JSON.stringify(f)})`);
}

// Presses `key`, then checks the focus ring.
async function press(page, key, when) {
  await page.keyboard.press(key);
  await assertFocusShown(page, `${when} (after ${key})`);
}

// Tab until `test(el)` holds for the focused element; every stop on the way must show its focus.
async function tabTo(page, test, what, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(test)) { await assertFocusShown(page, `Tab to ${what}`); return true; }
    if ((await focusShown(page)) !== null) await assertFocusShown(page, `Tab towards ${what}`);
  }
  failures.push(`Tab never reached ${what} (on ${await focused(page)})`);
  return false;
}

// One full round of Tab from the page: each stop is visited once, then focus comes back to the first.
async function tabRound(page) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const seen = [];
  let first = null;
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press("Tab");
    const id = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      if (!e.dataset.a11yStop) e.dataset.a11yStop = String(Math.random()).slice(2);
      return e.dataset.a11yStop;
    });
    if (id === null) continue; // past the last stop, the browser's own UI (headless: the page)
    if (id === first) return seen.length;
    if (first === null) first = id;
    if (seen.includes(id)) { failures.push(`focus came back to ${await focused(page)} before the end of the round: trapped`); return seen.length; }
    seen.push(id);
    await assertFocusShown(page, `Tab round, stop ${seen.length}`);
  }
  failures.push(`200 presses of Tab never came back to the first stop: trapped (on ${await focused(page)})`);
  return seen.length;
}

async function local(browser, url, dir) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await row(page, "Orders API").waitFor({ timeout: 15000 });
  await axe(page, "the Scratch Pad with the tree");

  // The request editor, every tab of it.
  await row(page, "List orders").click();
  await page.locator(".ed").waitFor({ timeout: 10000 });
  for (const tab of ["Params", "Authorization", "Headers", "Body", "Scripts", "Description"]) {
    await page.locator(".ed-tab", { hasText: tab }).click();
    await axe(page, `the request editor, ${tab}`);
  }
  await page.locator(".ed-tab", { hasText: "Params" }).click();
  await shot(page, dir, "editor");

  // A saved response, read-only.
  await row(page, "200 OK").click();
  await page.locator("#detail .resp").waitFor({ timeout: 10000 });
  await axe(page, "a saved response");
  await shot(page, dir, "response");

  // The tree's actions menu, the Move to… and Delete dialogs.
  await row(page, "List orders").focus();
  await page.keyboard.press("Shift+F10");
  await page.locator(".tree-menu").waitFor({ timeout: 5000 });
  await axe(page, "the tree's actions menu");
  await shot(page, dir, "menu");
  await page.keyboard.press("Escape");
  await row(page, "List orders").focus();
  await page.keyboard.press("m");
  await page.locator("dialog.small-dialog").waitFor({ timeout: 5000 });
  await axe(page, "the Move to… dialog");
  await page.keyboard.press("Escape");
  await page.locator("dialog.small-dialog").waitFor({ state: "detached", timeout: 5000 });
  await row(page, "List orders").focus();
  await page.keyboard.press("Delete");
  await page.locator("dialog.small-dialog").waitFor({ timeout: 5000 });
  await axe(page, "the Delete dialog");
  await shot(page, dir, "delete-dialog");
  await page.keyboard.press("Escape");
  await page.locator("dialog.small-dialog").waitFor({ state: "detached", timeout: 5000 });

  // Sign in and create an account.
  await page.locator("#sign-in").click();
  await page.locator("#account-dialog").waitFor({ timeout: 5000 });
  await axe(page, "the sign-in dialog");
  await shot(page, dir, "sign-in");
  await page.locator("#account-dialog button", { hasText: "Create an account instead" }).click();
  await page.locator('#account-dialog [name="email"]').waitFor({ timeout: 5000 });
  await axe(page, "the create-account dialog");
  await page.keyboard.press("Escape");
  await page.locator("#account-dialog").waitFor({ state: "hidden", timeout: 5000 });

  // The keyboard alone, from a fresh load.
  await page.goto(url);
  await row(page, "Orders API").waitFor({ timeout: 15000 });
  const stops = await tabRound(page);
  check(stops >= 6, `only ${stops} tab stops in a round`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  if (!(await tabTo(page, () => document.activeElement?.id === "tree-new", "New collection"))) return finishPage(page, errors);
  await press(page, "Enter", "New collection");
  const rename = page.locator("#tree input.rename");
  await rename.waitFor({ timeout: 10000 });
  await assertFocusShown(page, "the new collection's name");
  await page.keyboard.type("Keyboard API");
  await press(page, "Enter", "naming the collection");
  await row(page, "Keyboard API").waitFor({ timeout: 10000 });
  await page.waitForFunction(() => document.activeElement?.querySelector?.(".name")?.textContent === "Keyboard API", null, { timeout: 5000 })
    .catch(() => failures.push("focus is not on the new collection's row after naming it"));
  await assertFocusShown(page, "the new collection's row");

  // Its actions: Escape closes the menu and focus goes back to the row.
  await press(page, "Shift+F10", "the row's actions");
  await press(page, "Escape", "closing the actions");
  check(await page.evaluate(() => document.activeElement?.querySelector?.(".name")?.textContent === "Keyboard API"), `Escape left focus on ${await focused(page)}`);
  await press(page, "Shift+F10", "the row's actions");
  for (let i = 0; i < 5 && !(await page.evaluate(() => document.activeElement?.textContent === "New request")); i++) await press(page, "ArrowDown", "the actions menu");
  check(await page.evaluate(() => document.activeElement?.textContent === "New request"), "the arrows never reached New request");
  await press(page, "Enter", "New request");
  await rename.waitFor({ timeout: 10000 });
  await page.keyboard.type("Keyboard request");
  await press(page, "Enter", "naming the request");
  await row(page, "Keyboard request").waitFor({ timeout: 10000 });
  await page.waitForFunction(() => document.activeElement?.querySelector?.(".name")?.textContent === "Keyboard request", null, { timeout: 5000 })
    .catch(() => failures.push("focus is not on the new request's row after naming it"));

  // F2 renames too; Escape keeps the name.
  await press(page, "F2", "renaming the request");
  await page.keyboard.type("Not kept");
  await press(page, "Escape", "cancelling the rename");
  await row(page, "Keyboard request").waitFor({ timeout: 5000 });

  // Enter opens it in the editor; Tab reaches the URL; Ctrl+S saves.
  await press(page, "Enter", "opening the request");
  await page.locator(".ed .ed-title", { hasText: "Keyboard request" }).waitFor({ timeout: 10000 });
  if (!(await tabTo(page, () => document.activeElement?.classList.contains("ed-url"), "the URL field"))) return finishPage(page, errors);
  await page.keyboard.type("https://example.com/keyboard?x=1");
  await page.locator(".ed-unsaved").waitFor({ state: "visible", timeout: 5000 });
  await press(page, "Control+s", "saving");
  await page.locator(".ed-unsaved").waitFor({ state: "hidden", timeout: 10000 })
    .catch(() => failures.push("Ctrl+S did not save (still Unsaved)"));
  const id = await page.locator(".ed").getAttribute("data-doc");
  const saved = await page.evaluate(async (i) => (await (await fetch(`/api/docs/${i}`)).json()).fields, id);
  const raw = saved && saved.url && (typeof saved.url === "string" ? saved.url : saved.url.raw);
  check(raw === "https://example.com/keyboard?x=1", `the saved URL is ${JSON.stringify(saved && saved.url)}`);
  await shot(page, dir, "keyboard");
  // Focus is not trapped in the editor either: another full round comes back to the start.
  const after = await tabRound(page);
  check(after > stops, `the round with the editor open has ${after} stops, not more than the ${stops} before`);
  return finishPage(page, errors);
}

function finishPage(page, errors) {
  if (errors.length) failures.push(`page errors: ${errors.join("; ")}`);
  return page.context().close();
}

async function signedIn(browser, url, dir) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator("#sign-out").waitFor({ timeout: 15000 });
  await page.locator("#conflicts-open").waitFor({ state: "visible", timeout: 15000 });
  await axe(page, "the page signed in, a conflict waiting");
  await shot(page, dir, "signed-in");

  await page.locator("#conflicts-open").click();
  await page.locator("#conflicts-dialog").waitFor({ state: "visible", timeout: 5000 });
  await axe(page, "the conflicts dialog");
  await shot(page, dir, "conflicts");
  await page.keyboard.press("Escape");
  await page.locator("#conflicts-dialog").waitFor({ state: "hidden", timeout: 5000 });

  const dlg = page.locator("dialog.small-dialog");
  await page.locator("#ws-new").click();
  await dlg.waitFor({ timeout: 5000 });
  await axe(page, "the New workspace dialog");
  await page.keyboard.type("A11y");
  await page.keyboard.press("Enter");
  await dlg.waitFor({ state: "detached", timeout: 15000 });
  await page.locator("#ws-rename").waitFor({ state: "visible", timeout: 15000 });
  await axe(page, "a shared-able workspace with its role");
  await page.locator("#ws-rename").click();
  await dlg.waitFor({ timeout: 5000 });
  await axe(page, "the Rename workspace dialog");
  await page.keyboard.press("Escape");
  await dlg.waitFor({ state: "detached", timeout: 5000 });
  await page.locator("#ws-delete").click();
  await dlg.waitFor({ timeout: 5000 });
  await axe(page, "the Delete workspace dialog");
  await shot(page, dir, "delete-workspace");
  await page.keyboard.press("Escape");
  await dlg.waitFor({ state: "detached", timeout: 5000 });
  return finishPage(page, errors);
}

async function main() {
  const mode = arg("--mode");
  const url = arg("--url");
  const dir = arg("--shots");
  const browser = await launch();
  try {
    if (mode === "local") await local(browser, url, dir);
    else if (mode === "signed-in") await signedIn(browser, url, dir);
    else throw new Error(`unknown --mode ${mode}`);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ mode, failures: failures.length }));
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
