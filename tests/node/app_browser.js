#!/usr/bin/env node
/*
 * Opens `apisync app` in Debian's headless Chromium (driven by playwright-core, never a
 * downloaded browser) and checks what a person sees.
 *
 *   node app_browser.js --url URL_WITH_SECRET --expect-title TITLE --screenshot OUT.png
 *
 * Checks: the secret exchange leaves an address without the secret; the sync icon shows a
 * text label of one of the five states and its tooltip appears on keyboard focus; the tree
 * shows TITLE as text (no element was made from it, no dialog opened); selecting the
 * document shows it. Writes a screenshot with the tooltip open. Exits non-zero on a failure.
 * Run by crates/apisync/tests/app.rs.
 */
"use strict";

const { arg, launch, finish } = require("./app_common");

const LABELS = ["Offline", "Connecting", "Syncing", "In sync", "Error"];

async function main() {
  const url = arg("--url");
  const expectTitle = arg("--expect-title");
  const shot = arg("--screenshot");
  const browser = await launch();
  const failures = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    let dialogs = 0;
    page.on("dialog", (d) => { dialogs += 1; d.dismiss(); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    if (page.url().includes("secret=")) failures.push(`the address still holds the secret: ${page.url()}`);

    const label = page.locator("#sync .sync-label");
    await page.waitForFunction(() => document.querySelector("#sync")?.dataset.state);
    const text = (await label.textContent()).trim();
    if (!LABELS.includes(text)) failures.push(`sync label '${text}' is none of ${LABELS.join(", ")}`);
    const aria = await page.locator("#sync").getAttribute("aria-label");
    if (!aria || !aria.includes(text)) failures.push(`sync aria-label '${aria}' does not name '${text}'`);

    const item = page.locator('#tree [role="treeitem"] .name', { hasText: expectTitle });
    await item.first().waitFor({ timeout: 10000 });
    if ((await item.first().textContent()) !== expectTitle) failures.push("the title was not shown as text");
    if ((await page.locator("#tree img").count()) > 0) failures.push("an <img> was made from a title");
    await item.first().click();
    await page.locator("#detail h2", { hasText: expectTitle }).waitFor({ timeout: 10000 });

    // Keyboard focus on the icon shows the detail with the last sync time.
    await page.locator("#sync").focus();
    const detail = page.locator("#sync-detail");
    await detail.waitFor({ state: "visible", timeout: 5000 });
    const detailText = await detail.textContent();
    if (!detailText.includes("Last synced")) failures.push(`tooltip without the last sync time: ${detailText}`);

    await page.screenshot({ path: shot, fullPage: false });
    if (dialogs > 0) failures.push("a dialog opened (script ran from a title?)");
    if (errors.length) failures.push(`page errors: ${errors.join("; ")}`);
    console.log(JSON.stringify({ label: text, tooltip: detailText, screenshot: shot }));
  } finally {
    await browser.close();
  }
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
