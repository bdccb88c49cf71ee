#!/usr/bin/env node
/*
 * Files and the account pages of `apisync app` in Debian's headless Chromium (playwright-core).
 *
 *   node app_account.js --url URL_WITH_SECRET --server SERVER_URL --password PW --shots DIR
 *
 * Signed out on an empty profile, with ann (who has a signed-in "desktop") and bob on SERVER:
 *  - the banner says the Scratch Pad is local-only and offers its export;
 *  - imports "Browser Import" (with a byte-order mark and a skipped item) and a broken file
 *    through the file input (setInputFiles): the dialog shows the importer's notes and the
 *    broken file's error (import.png); drops "Dropped API" onto the page (a drop event);
 *  - downloads "Browser Import" from the Export dialog and "Dropped API" from its row's
 *    actions menu (waitForEvent('download')), each validated against the v2.1.0 schema (ajv);
 *  - asks for a password reset token from the sign-in dialog's "Forgot password or username?";
 *  - signs in as ann; the banner offers to move the Scratch Pad; the dialog picks the personal
 *    workspace (scratch-pad-move.png); the documents appear there;
 *  - the account pages: the devices list (account-devices.png) signs the desktop out; Teams
 *    creates "Page Team", invites bob and shares "Team API" (teams.png); shares it with
 *    "Other Team" too and stops that by keyboard, Cancel first (unshare-confirm.png,
 *    unshared.png); Delete
 *    account is refused with the server's word (a team); Password changes it.
 * Prints a JSON summary; crates/apisync/tests/app_account.rs checks the profile afterwards.
 */
"use strict";

const fs = require("fs");
const path = require("path");
const { arg, launch, finish, checkA11y } = require("./app_common");
const { schemaValidator, SCHEMA_V210 } = require("./postman_schema");

const V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

function collection(name, extraItem) {
  const items = [{ name: "Users", item: [{ name: "List users", request: { method: "GET", url: "https://api.example.com/users" } }] }];
  if (extraItem !== undefined) items.push(extraItem);
  return { info: { name, schema: V21 }, item: items };
}

const row = (page, name) => page.locator('#tree [role="treeitem"]', { has: page.locator(".name", { hasText: name }) });

// A download's file, validated as a v2.1.0 collection.
async function validDownload(download, check, what) {
  const file = await download.path();
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  const errors = schemaValidator(SCHEMA_V210)(json);
  check(errors.length === 0, `${what}: the download fails the v2.1.0 schema: ${errors.slice(0, 3).join("; ")}`);
  check(/\.postman_collection\.json$/.test(download.suggestedFilename()), `${what}: download named ${download.suggestedFilename()}`);
  return { name: json.info && json.info.name, file: download.suggestedFilename(), schemaErrors: errors.length };
}

async function main() {
  const url = arg("--url");
  const server = arg("--server");
  const password = arg("--password");
  const shots = arg("--shots");
  const browser = await launch();
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const out = {};
  let page = null;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, bypassCSP: true });
    page = await context.newPage();
    const confirms = [];
    page.on("dialog", (d) => { confirms.push(d.message()); d.accept(); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);

    // Signed out: the banner.
    const banner = page.locator("#banner");
    await banner.locator("#scratch-export").waitFor({ timeout: 10000 });
    check(/kept on this device only/.test(await banner.textContent()), "the banner says local-only");

    // Import through the file input: one good file with notes, one broken.
    await page.setInputFiles("#import-file", [
      { name: "browser.postman_collection.json", mimeType: "application/json",
        buffer: Buffer.from("\ufeff" + JSON.stringify(collection("Browser Import", "not an item"))) },
      { name: "broken.json", mimeType: "application/json", buffer: Buffer.from("{ this is not json") },
    ]);
    const report = page.locator("#transfer-dialog");
    await report.locator(".import-bad").waitFor({ timeout: 15000 });
    await report.locator(".import-ok").waitFor({ timeout: 15000 });
    const notes = await report.locator(".import-notes li").allTextContents();
    out.notes = notes;
    check(notes.some((n) => /byte-order mark/.test(n)), `no BOM note: ${notes}`);
    check(notes.some((n) => /skipped/.test(n)), `no skipped-item note: ${notes}`);
    const bad = await report.locator(".import-bad").textContent();
    check(/broken\.json: .*nothing was imported/.test(bad), `the broken file's error: ${bad}`);
    await page.screenshot({ path: path.join(shots, "import.png") });
    failures.push(...(await checkA11y(page, "import")));
    await report.getByRole("button", { name: "Close" }).click();
    await row(page, "Browser Import").waitFor({ timeout: 10000 });

    // Drop a file onto the page.
    const dt = await page.evaluateHandle((text) => {
      const t = new DataTransfer();
      t.items.add(new File([text], "dropped.postman_collection.json", { type: "application/json" }));
      return t;
    }, JSON.stringify(collection("Dropped API")));
    await page.dispatchEvent("body", "dragenter", { dataTransfer: dt });
    check(await page.locator("#drop-zone").isVisible(), "the drop zone shows while files are dragged over");
    await page.dispatchEvent("body", "drop", { dataTransfer: dt });
    await report.locator(".import-ok").waitFor({ timeout: 15000 });
    check(await page.locator("#drop-zone").isHidden(), "the drop zone hides after the drop");
    await report.getByRole("button", { name: "Close" }).click();
    await row(page, "Dropped API").waitFor({ timeout: 10000 });

    // Export: from the Export dialog, then from a row's actions menu.
    await page.locator("#export-open").click();
    const [d1] = await Promise.all([page.waitForEvent("download"), report.getByRole("link", { name: "Browser Import" }).click()]);
    out.exportDialog = await validDownload(d1, check, "Export dialog");
    check(out.exportDialog.name === "Browser Import", `exported ${out.exportDialog.name}`);
    await report.getByRole("button", { name: "Close" }).click();
    await row(page, "Dropped API").focus();
    await page.keyboard.press("Shift+F10");
    const [d2] = await Promise.all([page.waitForEvent("download"),
      page.locator('.tree-menu [role="menuitem"]', { hasText: "Export" }).click()]);
    out.exportMenu = await validDownload(d2, check, "row menu");
    check(out.exportMenu.name === "Dropped API", `exported ${out.exportMenu.name}`);

    // Signed out, the sign-in dialog leads to recovery: a reset token is mailed.
    await page.locator("#sign-in").click();
    await page.locator("#forgot-open").click();
    const recovery = page.locator("#account-recovery");
    const forgot = recovery.locator("form").first();
    await forgot.locator("[name=server]").fill(server);
    await forgot.locator("[name=user]").fill("ann");
    await forgot.getByRole("button", { name: "Mail me a token" }).click();
    await page.waitForFunction(() => {
      const o = document.querySelector("#account-recovery form .ap-outcome");
      return o && o.textContent.length > 3 && !o.classList.contains("ap-bad");
    }, null, { timeout: 10000 });
    out.forgot = await forgot.locator(".ap-outcome").textContent();
    await recovery.getByRole("button", { name: "Close" }).click();

    // Sign in; the banner offers to move the Scratch Pad.
    await page.locator("#sign-in").click();
    const signIn = page.locator("#account-dialog");
    await signIn.locator("[name=server]").fill(server);
    await signIn.locator("[name=user]").fill("ann");
    await signIn.locator("[name=password]").fill(password);
    await signIn.locator("button[type=submit]").click();
    await page.locator("#account-pages-open").waitFor({ timeout: 20000 });
    await page.locator("#scratch-move").waitFor({ timeout: 15000 });
    check(/holds 6 document/.test(await banner.textContent()), `the banner counts the Scratch Pad: ${await banner.textContent()}`);
    await page.locator("#scratch-move").click();
    const choose = page.locator("dialog.small-dialog");
    await choose.waitFor({ timeout: 5000 });
    const option = choose.locator("option", { hasText: "personal" });
    await choose.locator("select").selectOption(await option.getAttribute("value"));
    await page.screenshot({ path: path.join(shots, "scratch-pad-move.png") });
    failures.push(...(await checkA11y(page, "scratch-pad-move")));
    await choose.getByRole("button", { name: "Move" }).click();
    await row(page, "Browser Import").waitFor({ timeout: 15000 });
    await row(page, "Dropped API").waitFor({ timeout: 15000 });
    await page.waitForFunction(() => document.getElementById("banner").hidden, null, { timeout: 10000 });
    out.movedInto = await page.locator("#workspace option:checked").textContent();
    check(!/local only/.test(out.movedInto), `the tree shows ${out.movedInto} after the move`);

    // The account pages: devices.
    await page.locator("#account-pages-open").click();
    const pages = page.locator("#account-pages");
    await pages.locator(".ap-devices li").nth(1).waitFor({ timeout: 10000 });
    out.devices = await pages.locator(".ap-devices .device-name").allTextContents();
    check(out.devices.some((n) => /this device/.test(n)) && out.devices.includes("desktop"), `devices: ${out.devices}`);
    await page.screenshot({ path: path.join(shots, "account-devices.png") });
    failures.push(...(await checkA11y(page, "account-devices")));
    await pages.getByRole("button", { name: "Sign out this device: desktop" }).click();
    await page.waitForFunction(() => document.querySelectorAll("#account-pages .ap-devices li").length === 1, null, { timeout: 10000 });
    check(/signed out/.test(await pages.locator(".ap-outcome").textContent()), "the sign-out is confirmed");

    // Teams: create, open, invite bob, share "Team API" (the desktop made it).
    await pages.locator("#ap-tab-teams").click();
    await pages.locator("[name=name]").fill("Page Team");
    await pages.getByRole("button", { name: "Create team" }).click();
    // The new team is listed, opened, with what happened.
    const teamButton = pages.getByRole("button", { name: "Page Team", exact: true });
    await teamButton.waitFor({ timeout: 10000 });
    check(await teamButton.getAttribute("aria-expanded") === "true", "the new team opens");
    const detail = pages.locator(".ap-team-detail");
    await detail.locator(".ap-outcome", { hasText: "created; you are its admin" }).waitFor({ timeout: 10000 });
    await detail.locator("[name=user]").waitFor({ timeout: 10000 });
    await detail.locator("[name=user]").fill("bob");
    await detail.locator("select[name=role]").selectOption("editor");
    await detail.getByRole("button", { name: "Invite" }).click();
    await page.waitForFunction(() => /bob/.test(document.querySelector("#account-pages .ap-team-detail")?.textContent || "") &&
      /as editor/.test(document.querySelector("#account-pages .ap-team-detail")?.textContent || ""), null, { timeout: 10000 });
    await detail.locator("select[name=workspace]").selectOption({ label: "Team API" });
    await detail.getByRole("button", { name: "Share" }).click();
    await detail.locator(".ap-outcome", { hasText: "is shared with" }).waitFor({ timeout: 15000 });
    check(/1 shared workspace/.test(await pages.locator(".ap-team-head").textContent()), "the team counts the share");
    await page.screenshot({ path: path.join(shots, "teams.png") });
    failures.push(...(await checkA11y(page, "teams")));

    // Unsharing: a second team gets "Team API" too; the owner's list shows both, and "Other
    // Team" is taken off it by keyboard (Escape cancels first, nothing changes).
    await pages.locator("[name=name]").fill("Other Team");
    await pages.getByRole("button", { name: "Create team" }).click();
    const other = pages.locator(".ap-teams > li", { has: page.getByRole("button", { name: "Other Team", exact: true }) }).locator(".ap-team-detail");
    await other.locator(".ap-outcome", { hasText: "created; you are its admin" }).waitFor({ timeout: 10000 });
    await other.locator("select[name=workspace]").selectOption({ label: "Team API" });
    await other.getByRole("button", { name: "Share" }).click();
    await other.locator(".ap-outcome", { hasText: "is shared with" }).waitFor({ timeout: 15000 });
    const shared = pages.getByRole("list", { name: "Teams Team API is shared with" });
    await shared.locator("li").nth(1).waitFor({ timeout: 10000 });
    out.sharedWith = (await shared.locator(".ap-member").allTextContents()).sort();
    check(JSON.stringify(out.sharedWith) === JSON.stringify(["Other Team (1 member)", "Page Team (1 member)"]), `Team API is shared with: ${JSON.stringify(out.sharedWith)}`);
    const stop = pages.getByRole("button", { name: "Stop sharing Team API with Other Team" });
    await stop.focus();
    await page.keyboard.press("Enter");
    const ask = page.locator("dialog.small-dialog");
    await ask.waitFor({ timeout: 5000 });
    check(/Stop sharing “Team API” with Other Team\?/.test(await ask.locator("h2").textContent()), `the question: ${await ask.locator("h2").textContent()}`);
    check(await ask.getByRole("button", { name: "Cancel" }).evaluate((b) => b === document.activeElement), "the safe choice has the focus");
    await page.screenshot({ path: path.join(shots, "unshare-confirm.png") });
    failures.push(...(await checkA11y(page, "unshare-confirm", { include: "dialog.small-dialog" })));
    await page.keyboard.press("Escape");
    await ask.waitFor({ state: "detached", timeout: 5000 });
    check(await pages.isVisible(), "Escape closed the account pages too");
    check(await stop.evaluate((b) => b === document.activeElement), "focus is back on Stop sharing after Escape");
    await page.keyboard.press("Enter");
    await ask.waitFor({ timeout: 5000 });
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await pages.locator(".ap-outcome", { hasText: "is no longer shared with Other Team" }).waitFor({ timeout: 15000 });
    out.sharedAfter = await shared.locator(".ap-member").allTextContents();
    check(JSON.stringify(out.sharedAfter) === JSON.stringify(["Page Team (1 member)"]), `after unsharing: ${JSON.stringify(out.sharedAfter)}`);
    check(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")) === "Stop sharing Team API with Page Team", "focus went on to the next Stop sharing");
    await page.screenshot({ path: path.join(shots, "unshared.png") });
    failures.push(...(await checkA11y(page, "unshared", { include: "#account-pages" })));

    // Delete account: refused while in a team, the server says so.
    await pages.locator("#ap-tab-delete").click();
    await pages.locator("[name=confirm]").fill("ann");
    await pages.getByRole("button", { name: "Delete my account" }).click();
    const refusal = pages.locator(".ap-outcome.ap-bad");
    await refusal.waitFor({ timeout: 10000 });
    out.deleteRefusal = await refusal.textContent();
    check(/team/i.test(out.deleteRefusal), `delete refused for the team: ${out.deleteRefusal}`);

    // Password change.
    await pages.locator("#ap-tab-password").click();
    await pages.locator("[name=current]").fill(password);
    await pages.locator("[name=new]").fill("the page's new password");
    await pages.locator("[name=repeat]").fill("the page's new password");
    await pages.getByRole("button", { name: "Change password" }).click();
    await pages.locator(".ap-outcome", { hasText: "Password changed" }).waitFor({ timeout: 10000 });
    check(await pages.locator("[name=new]").inputValue() === "", "the password field is emptied");
    await pages.getByRole("button", { name: "Close" }).click();

    out.confirms = confirms;
    check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } catch (e) {
    // What the page showed when a step gave up, to see why.
    if (page) await page.screenshot({ path: path.join(shots, "app-account-failure.png") }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out, null, 2));
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
