/*
 * The web version's sidebar pages and account pages in headless Chromium: signed in through the
 * page, the tab strip is there; Environments shows a secret masked (not in the page at all until
 * Reveal), the Current value column as not applicable and no Set active, a variable disabled and
 * described by keyboard (web-environment-flags.png); History, Runs and Header
 * presets open without an error; Account offers Devices, Password, Teams and Delete account, lists
 * this browser, changes the password while this browser stays signed in, makes a team and invites
 * bob; Export offers each file and the account's backup, and downloads a Postman environment and
 * the backup (a data dump); Import takes a
 * collection (its notes shown, then its rows in the tree in order) and refuses a broken file;
 * axe-core finds nothing serious on the Environments page, the account dialog, the team page or
 * the export dialog and the import report; no "Mirror to a folder…" and no mirror list. Signed out, recovery asks for no server. Driven by crates/apisync/tests/web.rs.
 *
 * Usage: node web_pages.js --url URL --user NAME --password-env VAR --new-password-env VAR --shots DIR
 */
"use strict";

const path = require("path");
const { arg, launch, finish, checkA11y } = require("./app_common");

const LONG = 30000;
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
}

async function main() {
  const url = arg("--url");
  const user = arg("--user");
  const password = process.env[arg("--password-env")] || "";
  const newPassword = process.env[arg("--new-password-env")] || "";
  const dir = arg("--shots");
  const browser = await launch();
  const summary = {};
  try {
    // bypassCSP lets axe-core be injected; the CSP itself is web.rs's to check.
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 }, bypassCSP: true });
    const page = await context.newPage();
    page.on("pageerror", (e) => failures.push(`page error: ${e}`));
    page.on("dialog", (d) => { failures.push(`a dialog opened: ${d.message()}`); d.dismiss().catch(() => {}); });
    await page.goto(url);
    let dlg = page.locator("#account-dialog");
    await dlg.waitFor({ state: "visible", timeout: LONG });

    // Signed out, recovery asks for no server (this is the server) and mails a token.
    await dlg.locator("#forgot-open").click();
    const rec = page.locator("#account-recovery");
    await rec.waitFor({ state: "visible", timeout: LONG });
    check((await rec.locator("[name=server]").count()) === 0, "the web recovery asks for no server");
    await rec.locator("[name=user]").fill(user);
    await rec.locator("button[type=submit]").first().click();
    await page.waitForFunction(() => { const o = document.querySelector("#account-recovery .ap-outcome"); return o && o.textContent.length > 1; }, null, { timeout: LONG });
    const mailed = rec.locator(".ap-outcome").first();
    summary.forgot = (await mailed.innerText()).trim();
    check(!(await mailed.getAttribute("class")).includes("ap-bad"), `the token request was accepted: ${summary.forgot}`);
    await page.reload();
    dlg = page.locator("#account-dialog");
    await dlg.waitFor({ state: "visible", timeout: LONG });
    await dlg.locator("[name=user]").fill(user);
    await dlg.locator("[name=password]").fill(password);
    await dlg.locator("button[type=submit]").click();
    await page.waitForFunction(() => document.querySelector("#sync")?.dataset.state === "in_sync", null, { timeout: LONG });

    // The tab strip is offered; the active environment picker is not (a device's choice).
    check(await page.locator("#side-tabs").isVisible(), "the tab strip shows on the web");
    check(!(await page.locator(".env-picker").isVisible()), "no active environment picker on the web");
    // No mirroring to a folder: the server never writes to a typed path.
    check((await page.locator("#mirror-open").count()) === 1 && !(await page.locator("#mirror-open").isVisible()), "Mirror to a folder… is offered on the web");
    check(!(await page.locator("#mirrors").isVisible()), "the mirrors' place shows on the web");

    // Export: each file alone (no device backup); a link downloads the file.
    check(await page.locator("#import-open").isVisible(), "Import… is offered on the web");
    await page.locator("#export-open").click();
    const xd = page.locator("#transfer-dialog");
    await xd.waitFor({ state: "visible", timeout: LONG });
    summary.exports = await xd.locator(".export-list li").allInnerTexts();
    check(summary.exports.some((t) => t.startsWith("Everything in your account")) && !summary.exports.some((t) => t.includes("on this device")) &&
      summary.exports.some((t) => t.startsWith("Prod")) && summary.exports.some((t) => t.startsWith("Globals")),
      `the web's export choices: ${JSON.stringify(summary.exports)}`);
    await page.screenshot({ path: path.join(dir, "web-export.png") });
    failures.push(...await checkA11y(page, "web export", { include: "#transfer-dialog" }));
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: LONG }), xd.locator("a", { hasText: "Prod" }).click()]);
    summary.download = download.suggestedFilename();
    check(summary.download === "Prod.postman_environment.json", `the environment's file: ${summary.download}`);
    const file = JSON.parse(require("fs").readFileSync(await download.path(), "utf8"));
    check(file.name === "Prod" && Array.isArray(file.values), `a Postman environment: ${JSON.stringify(file).slice(0, 200)}`);
    // The backup: the account's workspaces as one data dump, by keyboard.
    const everything = xd.locator("a", { hasText: "Everything in your account" });
    await everything.focus();
    const [backup] = await Promise.all([page.waitForEvent("download", { timeout: LONG }), page.keyboard.press("Enter")]);
    summary.backup = backup.suggestedFilename();
    check(/^apisync-export-\d{4}-\d{2}-\d{2}\.json$/.test(summary.backup), `the backup's file: ${summary.backup}`);
    const dump = JSON.parse(require("fs").readFileSync(await backup.path(), "utf8"));
    check(dump.version === 1 && Array.isArray(dump.environments) && dump.environments.some((e) => e.name === "Prod") && Array.isArray(dump.collections),
      `a data dump with the account's environment: ${JSON.stringify(dump).slice(0, 200)}`);
    await xd.locator("button", { hasText: "Close" }).click();

    // Import through the file input, as in the desktop app: a collection (its
    // notes in the report) and a broken file (refused, nothing written); the
    // collection then shows in the tree, folder and request under it in order.
    const V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
    const imported = { info: { name: "Web Import", schema: V21 }, item: [
      { name: "Users", item: [{ name: "List users", request: { method: "GET", url: "https://api.example.com/users" } }] },
      { name: "Health", request: { method: "GET", url: "https://api.example.com/health" } }, "not an item"] };
    await page.setInputFiles("#import-file", [
      { name: "web.postman_collection.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(imported)) },
      { name: "broken.json", mimeType: "application/json", buffer: Buffer.from("{ this is not json") },
    ]);
    await xd.locator(".import-ok").waitFor({ timeout: LONG });
    await xd.locator(".import-bad").waitFor({ timeout: LONG });
    summary.importNotes = await xd.locator(".import-notes li").allTextContents();
    check(summary.importNotes.some((n) => /skipped/.test(n)), `the importer's notes: ${summary.importNotes}`);
    const ok = await xd.locator(".import-ok").innerText();
    check([/1 collection/, /1 folder/, /2 requests/].every((r) => r.test(ok)), `the report says what was made: ${ok}`);
    const bad = await xd.locator(".import-bad").innerText();
    check(/broken\.json: .*nothing was imported/.test(bad), `the broken file's error: ${bad}`);
    await page.screenshot({ path: path.join(dir, "web-import.png") });
    failures.push(...await checkA11y(page, "web import", { include: "#transfer-dialog" }));
    await xd.locator("button", { hasText: "Close" }).click();
    const treeNames = () => page.locator('#tree [role="treeitem"] .name').allInnerTexts();
    await page.waitForFunction(() => [...document.querySelectorAll('#tree [role="treeitem"] .name')].some((n) => n.textContent.includes("List users")), null, { timeout: LONG });
    const names = (await treeNames()).map((t) => t.trim());
    const at = names.indexOf("Web Import");
    summary.importedTree = names.slice(at, at + 4);
    check(JSON.stringify(summary.importedTree) === JSON.stringify(["Web Import", "Users", "List users", "Health"]), `the imported tree: ${JSON.stringify(names)}`);
    check(!names.includes("broken.json"), "the broken file made nothing");

    // Environments: the secret masked, the current values not applicable.
    await page.locator("#tab-environments").click();
    await page.waitForFunction(() => [...document.querySelectorAll("#page input.vt-key")].some((i) => i.value === "token"), null, { timeout: LONG });
    const rows = await page.locator("#page tr[data-id]").evaluateAll((trs) => trs.map((tr) => ({
      key: tr.querySelector(".vt-key").value,
      value: tr.querySelector(".vt-value").value,
      current: { value: tr.querySelector(".vt-current").value, disabled: tr.querySelector(".vt-current").disabled, placeholder: tr.querySelector(".vt-current").placeholder },
    })));
    summary.rows = rows;
    const secret = rows.find((r) => r.key === "token");
    check(secret && secret.value === "••••••", `the secret is masked: ${JSON.stringify(secret)}`);
    check(rows.every((r) => r.current.disabled && r.current.value === "" && r.current.placeholder === "n/a on the web"), `current values are not applicable: ${JSON.stringify(rows)}`);
    check(!(await page.content()).includes("s3cret"), "the secret's value is nowhere in the page before Reveal");
    check(!(await page.locator("#page button", { hasText: "Set active" }).isVisible()), "no Set active on the web");
    const note = (await page.locator("#page .note").first().innerText()).trim();
    check(note.includes("web version keeps none"), `the note says why: ${note}`);
    await page.screenshot({ path: path.join(dir, "web-environments.png") });
    failures.push(...await checkA11y(page, "web environments"));

    // Reveal shows it; Hide masks it again.
    const tokenRow = page.locator("#page tr[data-id]").filter({ has: page.locator(".vt-reveal:visible") }).first();
    await tokenRow.locator(".vt-reveal").click();
    await page.waitForFunction(() => [...document.querySelectorAll("#page input.vt-value")].some((i) => i.value === "s3cret"), null, { timeout: LONG });
    await tokenRow.locator(".vt-reveal").click();
    await page.waitForFunction(() => ![...document.querySelectorAll("#page input.vt-value")].some((i) => i.value === "s3cret"), null, { timeout: LONG });

    // The enabled flag (Space on its checkbox) and a description (Enter), saved on the server.
    const hostOn = page.locator('#page input[aria-label="host is enabled"]');
    check(await hostOn.isChecked(), "host starts enabled");
    const offSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && (r.request().postData() || "").includes('"enabled":false'));
    await hostOn.focus();
    await page.keyboard.press("Space");
    check((await offSaved).status() === 200, "the web saved enabled: false");
    await page.waitForFunction(() => document.querySelector('#page input[aria-label="host is enabled"]')?.closest("tr").classList.contains("vt-off"), null, { timeout: LONG });
    const descSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && (r.request().postData() || "").includes("The API's host"));
    await page.locator('#page input[aria-label="Description of host"]').focus();
    await page.keyboard.type("The API's host");
    await page.keyboard.press("Enter");
    check((await descSaved).status() === 200, "the web saved host's description");
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(dir, "web-environment-flags.png") });
    failures.push(...await checkA11y(page, "web environment flags"));

    // The other pages open without an error.
    for (const [tab, title] of [["globals", "Globals"], ["header-presets", null], ["history", null], ["runs", null]]) {
      await page.locator(`#tab-${tab}`).click();
      await page.waitForFunction(() => !document.querySelector("#page")?.textContent.includes("Loading…"), null, { timeout: LONG });
      if (title) await page.locator("#page h2", { hasText: title }).waitFor({ timeout: LONG });
      check(await page.locator("#error").isHidden(), `${tab} opened without an error: ${await page.locator("#error").textContent()}`);
    }
    await page.locator("#tab-collections").click();

    // Account: devices and password only; this browser is listed.
    await page.locator("#account-pages-open").click();
    const ap = page.locator("#account-pages");
    await ap.locator(".ap-devices li").first().waitFor({ timeout: LONG });
    const tabs = await ap.locator("[role=tab]").allInnerTexts();
    check(JSON.stringify(tabs) === JSON.stringify(["Devices", "Password", "Teams", "Delete account"]), `every account page on the web: ${JSON.stringify(tabs)}`);
    const devices = await ap.locator(".ap-devices li .device-name").allInnerTexts();
    summary.devices = devices;
    check(devices.some((d) => d.startsWith("Web") && d.includes("(this device)")), `this browser is listed: ${JSON.stringify(devices)}`);
    await page.screenshot({ path: path.join(dir, "web-account.png") });
    failures.push(...await checkA11y(page, "web account", { include: "#account-pages" }));

    // The password changes; this browser stays signed in.
    await ap.locator("#ap-tab-password").click();
    await ap.locator("[name=current]").fill(password);
    await ap.locator("[name=new]").fill(newPassword);
    await ap.locator("[name=repeat]").fill(newPassword);
    await ap.locator("button[type=submit]").click();
    await page.waitForFunction(() => document.querySelector("#account-pages .ap-outcome")?.textContent.startsWith("Password changed"), null, { timeout: LONG });
    summary.password = (await ap.locator(".ap-outcome").innerText()).trim();

    // Teams: a team is made here and bob invited; the team opens with its
    // members, the invitation waiting, and the workspace to share.
    await ap.locator("#ap-tab-teams").click();
    await ap.locator("[name=name]").fill("Core");
    await ap.locator("button[type=submit]", { hasText: "Create team" }).click();
    await page.waitForFunction(() => [...document.querySelectorAll("#account-pages .ap-outcome")].some((o) => o.textContent.includes("you are its admin")), null, { timeout: LONG });
    await ap.locator("[name=user]").fill("bob");
    await ap.locator("button[type=submit]", { hasText: "Invite" }).click();
    await ap.locator(".ap-team-detail li", { hasText: "bob" }).first().waitFor({ timeout: LONG });
    summary.teams = (await ap.locator(".ap-teams").innerText()).trim().split("\n").slice(0, 6);
    check(summary.teams.join(" ").includes("Core"), `the team is listed: ${JSON.stringify(summary.teams)}`);
    await page.screenshot({ path: path.join(dir, "web-teams.png") });
    failures.push(...await checkA11y(page, "web teams", { include: "#account-pages" }));

    // Delete account: offered, with the web's words (no Scratch Pad stays here).
    await ap.locator("#ap-tab-delete").click();
    const words = await ap.locator(".ap-panel p").first().innerText();
    check(words.includes("leave the teams first") && !words.includes("Scratch Pad"), `the delete page's words: ${words}`);
    await ap.locator("button", { hasText: "Close" }).click();
    const st = await page.evaluate(async () => (await fetch("/api/status")).json());
    check(st.state === "in_sync", `still signed in after the change: ${JSON.stringify(st)}`);
    await context.close();
  } catch (e) {
    failures.push(String(e && e.stack || e));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(summary));
  finish(failures);
}

main();
