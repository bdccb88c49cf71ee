#!/usr/bin/env node
/*
 * Resolves a conflict in `apisync app`'s conflicts dialog, in Debian's headless Chromium
 * (driven by playwright-core, never a downloaded browser), as a person would.
 *
 *   node app_conflicts_browser.js --url URL_WITH_SECRET --expect-tab NAME --expect-mine TEXT --screenshot OUT.png
 *
 * The profile has one conflict on a request's `name` and `url`, this device's name being
 * TEXT. Checks: the prompt and badge show it; the dialog opens as a modal with a tab NAME and
 * a row per field, TEXT shown as text (no element made from it); rows start on Server;
 * "Use all local" and Reset move every row; Escape closes it, the badge keeps its count and
 * the choices made survive reopening; keyboard alone picks Local for `name`; Resolve empties
 * the inbox and the badge goes away. Writes a screenshot of the dialog with the choice made.
 * Run by crates/apisync/tests/app_conflicts.rs, which then checks the server.
 */
"use strict";

const { arg, launch, finish } = require("./app_common");

async function main() {
  const url = arg("--url");
  const expectTab = arg("--expect-tab");
  const expectMine = arg("--expect-mine");
  const shot = arg("--screenshot");
  const browser = await launch();
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
    let alerts = 0;
    page.on("dialog", (d) => { alerts += 1; d.dismiss(); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);

    const prompt = page.locator("#conflicts-open");
    await prompt.waitFor({ state: "visible", timeout: 15000 });
    const badge = page.locator("#sync .sync-conflicts");
    check((await badge.textContent()).trim() === "1 conflict", `badge: ${await badge.textContent()}`);

    // Conflicts waiting are announced (without taking focus); Later dismisses
    // the note, the button and badge stay.
    const note = page.locator("#conflicts-prompt");
    await note.waitFor({ state: "visible", timeout: 5000 });
    check((await note.textContent()).includes("1 conflict to resolve"), `prompt: ${await note.textContent()}`);
    check(!(await note.evaluate((n) => n.contains(document.activeElement))), "the prompt took focus");
    await note.locator("button", { hasText: "Later" }).click();
    check((await page.locator("#conflicts-prompt").count()) === 0, "Later closes the prompt");
    check(await prompt.isVisible(), "the Resolve button stays after Later");

    // The prompt opens the dialog, focus on the selected tab.
    await prompt.click();
    const dialog = page.locator("#conflicts-dialog");
    await dialog.waitFor({ state: "visible", timeout: 5000 });
    check(await dialog.evaluate((d) => d.open && d.matches(":modal")), "the dialog is not modal");
    const tab = page.locator('#conflicts-dialog [role="tab"][aria-selected="true"]');
    check((await tab.locator(".cf-tab-name").textContent()) === expectTab, `tab: ${await tab.textContent()}`);
    check(await tab.evaluate((t) => t === document.activeElement), "focus is not on the selected tab");

    const row = (field) => page.locator(`#conflicts-dialog tr[data-field="${field}"]`);
    const checked = async (field) => (await row(field).locator("input:checked").getAttribute("value"));
    check((await row("name").count()) === 1 && (await row("url").count()) === 1, "a row per field");
    check((await row("name").locator(".cf-mine .cf-text").textContent()) === expectMine, "the local name is not shown as text");
    check((await page.locator("#conflicts-dialog img").count()) === 0, "an <img> was made from a value");
    check((await checked("name")) === "theirs" && (await checked("url")) === "theirs", "rows do not start on Server");

    await page.getByRole("button", { name: "Use all local" }).click();
    check((await checked("name")) === "mine" && (await checked("url")) === "mine", "Use all local did not move every row");
    await page.getByRole("button", { name: "Reset" }).click();
    check((await checked("name")) === "theirs" && (await checked("url")) === "theirs", "Reset did not go back to Server");

    // Keyboard alone: Tab to the name row's Server radio, an arrow key moves the choice to Local.
    await page.locator(`#conflicts-dialog tr[data-field="name"] input[value="theirs"]`).focus();
    await page.keyboard.press("ArrowLeft");
    check((await checked("name")) === "mine", `arrow keys did not choose Local for name (${await checked("name")})`);
    check((await row("name").getAttribute("data-keep")) === "mine", "the kept side is not marked on the row");

    // Escape closes, applies nothing, keeps the badge and the choice.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden", timeout: 5000 });
    check(await prompt.evaluate((p) => p === document.activeElement), "focus did not return to the prompt");
    check(await badge.isVisible(), "the badge went away on dismiss");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "visible", timeout: 5000 });
    check((await checked("name")) === "mine" && (await checked("url")) === "theirs", "the choice was lost on dismiss");

    await page.screenshot({ path: shot, fullPage: false });

    await page.locator("#conflicts-dialog .cf-primary").click();
    await dialog.waitFor({ state: "hidden", timeout: 10000 });
    await badge.waitFor({ state: "hidden", timeout: 15000 });
    check(await prompt.isHidden(), "the prompt still shows");
    check(alerts === 0, "a dialog opened (script ran from a value?)");
    if (errors.length) failures.push(`page errors: ${errors.join("; ")}`);
    console.log(JSON.stringify({ screenshot: shot }));
  } finally {
    await browser.close();
  }
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
