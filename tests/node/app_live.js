#!/usr/bin/env node
/*
 * Two devices live in Debian's headless Chromium (playwright-core): one browser, two contexts,
 * each on its own `apisync app` (two profiles signed in to one account on one server).
 *
 *   node app_live.js --url-a URL_A --url-b URL_B --request NAME --url-value NEW_URL --name-value NEW_NAME --shots DIR
 *
 * Both pages open the request NAME in the editor. A sets its URL to NEW_URL and saves (Ctrl+S):
 * B's editor shows NEW_URL without a reload. Then B renames it NEW_NAME and saves: A's tree and
 * editor show NEW_NAME. A page that reloaded fails the check (a marker set on each page before
 * the edits must still be there). Prints how long each edit took to appear; writes
 * live-two-devices-a.png and live-two-devices-b.png. Exits non-zero on a failure.
 */
"use strict";

const path = require("path");
const { arg, launch, finish } = require("./app_common");

const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const row = (page, name) => page.locator('#tree [role="treeitem"]', { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });

async function open(browser, url, request) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator("#sign-out").waitFor({ timeout: 15000 });
  await row(page, request).waitFor({ timeout: 30000 });
  await row(page, request).click();
  await page.locator(".ed .ed-url").waitFor({ timeout: 10000 });
  // Gone after a reload: proof that what changes later came through the live channel.
  await page.evaluate(() => { window.__notReloaded = true; });
  return { page, errors };
}

async function main() {
  const request = arg("--request");
  const newUrl = arg("--url-value");
  const newName = arg("--name-value");
  const dir = arg("--shots");
  const browser = await launch();
  const out = {};
  try {
    const a = await open(browser, arg("--url-a"), request);
    const b = await open(browser, arg("--url-b"), request);

    // A edits the URL and saves; B's open editor takes it.
    const t0 = Date.now();
    await a.page.locator(".ed .ed-url").fill(newUrl);
    await a.page.keyboard.press("Control+s");
    await a.page.locator(".ed-unsaved").waitFor({ state: "hidden", timeout: 10000 });
    const seen = await b.page.waitForFunction((v) => document.querySelector(".ed .ed-url")?.value === v, newUrl, { timeout: 20000 })
      .then(() => true, () => false);
    out.url_appeared_ms = Date.now() - t0;
    check(seen, `B's editor never showed ${newUrl} (it shows ${await b.page.locator(".ed .ed-url").inputValue()})`);
    check(await b.page.locator(".ed-unsaved").isHidden(), "B marks the other device's edit as its own unsaved change");

    // B renames it; A's tree and editor follow.
    const t1 = Date.now();
    await b.page.locator(".ed .ed-name").fill(newName);
    await b.page.keyboard.press("Control+s");
    await b.page.locator(".ed-unsaved").waitFor({ state: "hidden", timeout: 10000 });
    const renamed = await row(a.page, newName).waitFor({ timeout: 20000 }).then(() => true, () => false);
    out.name_appeared_ms = Date.now() - t1;
    check(renamed, "A's tree never showed the new name");
    // The tree is redrawn first, then the open request fetched again for the editor.
    const named = await a.page.waitForFunction((v) => document.querySelector(".ed .ed-name")?.value === v, newName, { timeout: 10000 })
      .then(() => true, () => false);
    check(named, "A's editor kept the old name");
    check((await a.page.locator(".ed .ed-url").inputValue()) === newUrl, "A's editor lost its URL");

    for (const [who, p] of [["A", a], ["B", b]]) {
      check(await p.page.evaluate(() => window.__notReloaded === true), `page ${who} reloaded`);
      check(p.errors.length === 0, `page ${who} errors: ${p.errors.join("; ")}`);
    }
    await a.page.screenshot({ path: path.join(dir, "live-two-devices-a.png") });
    await b.page.screenshot({ path: path.join(dir, "live-two-devices-b.png") });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
