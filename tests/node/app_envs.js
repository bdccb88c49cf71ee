#!/usr/bin/env node
/*
 * The sidebar pages of `apisync app` (Environments, Globals, Header presets, History, Runs) in
 * Debian's headless Chromium, driven by playwright-core, used as a person would, by keyboard
 * and by mouse.
 *
 *   node app_envs.js --url URL_WITH_SECRET --shots DIR
 *
 * Expects the signed-out profile crates/apisync/tests/app_envs.rs prepares: environment
 * "Staging" (host, a secret token with a current value, old; host is disabled and described here), global "tenant", header preset
 * "JSON" (Accept, Content-Type), two newman runs and their history. Writes environments.png,
 * globals.png, header-presets.png, history.png and runs.png into DIR; the Rust test then checks
 * the profile with the CLI.
 */
"use strict";

const path = require("path");
const { arg, launch, finish, checkA11y } = require("./app_common");

const MASK = "••••••";

async function main() {
  const url = arg("--url");
  const shots = arg("--shots");
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1360, height: 820 }, bypassCSP: true });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Failed requests are named by their address (the browser's own favicon.ico guess aside).
  page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`${r.status()} ${r.url()}`); });
  const wait = (fn, arg, what) => page.waitForFunction(fn, arg, { timeout: 10000 }).then(() => true, () => { failures.push(`timed out: ${what}`); return false; });
  const selected = () => page.$eval('[role="tab"][aria-selected="true"]', (t) => t.textContent);
  const input = (label) => page.locator(`#page input[aria-label="${label}"]`);
  const value = (label) => input(label).inputValue();
  const dialog = page.locator("dialog.small-dialog");
  // A page shows no "null", "undefined" or "[object" where a value was missing.
  const clean = async (what) => {
    const t = await page.locator("#page").innerText();
    check(!/\bnull\b|undefined|\[object/.test(t), `${what} shows a missing value as text: ${t.slice(0, 300)}`);
  };

  try {
    await page.goto(url);
    await page.locator("#tree").waitFor({ timeout: 10000 });
    check(await selected() === "Collections", `first page is ${await selected()}`);

    // ---- Environments, reached by keyboard on the tab strip.
    await page.locator("#tab-collections").focus();
    await page.keyboard.press("ArrowRight");
    check(await selected() === "Environments", `ArrowRight chose ${await selected()}`);
    check(await page.evaluate(() => document.activeElement.id) === "tab-environments", "focus follows the chosen tab");
    check(await page.locator("#side-collections").isHidden(), "the tree is hidden on Environments");
    await input("Variable name token").waitFor({ timeout: 10000 });
    check(await value("Initial value of host") === "https://staging.example.com", "host's initial value");
    check(await value("Current value of host") === "http://localhost:8080", "host's current value");
    check(await value("Initial value of token (hidden)") === MASK, "token's initial value is masked");
    check(await value("Current value of token (hidden)") === MASK, "token's current value is masked");
    check(await input("Initial value of token (hidden)").getAttribute("readonly") !== null, "a masked value cannot be edited");
    const leaked = await page.evaluate(() => [...document.querySelectorAll("input")].some((i) => /s3cret/.test(i.value)) || /s3cret/.test(document.body.innerText));
    check(!leaked, "a secret is in the page before Reveal");

    // Reveal with the mouse, edit the current value by keyboard, Hide again.
    await page.getByRole("button", { name: "Reveal the values of token" }).click();
    await wait(() => document.querySelector('#page input[aria-label="Initial value of token"]')?.value === "initial-s3cret", null, "token revealed");
    check(await value("Current value of token") === "current-s3cret", "the revealed current value");
    check(await page.getByRole("button", { name: "Hide the values of token" }).getAttribute("aria-pressed") === "true", "Hide is pressed");
    await input("Current value of token").fill("edited-s3cret");
    const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/docs/"));
    await page.keyboard.press("Enter");
    check((await saved).status() === 200, "Enter saved the current value");
    await page.getByRole("button", { name: "Hide the values of token" }).click();
    await wait(() => document.querySelector('#page input[aria-label="Current value of token (hidden)"]')?.value === "••••••", null, "token hidden again");

    // The host's current value: typed, Tab commits.
    await input("Current value of host").focus();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("http://127.0.0.1:3000");
    await page.keyboard.press("Tab");

    // The enabled flag and the description, by keyboard: Space on the checkbox, a description
    // typed and committed with Enter. Both are saved at once, as document edits.
    check(await input("host is enabled").isChecked(), "host starts enabled");
    const offSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.request().postData().includes('"enabled":false'));
    await input("host is enabled").focus();
    await page.keyboard.press("Space");
    check((await offSaved).status() === 200, "Space on the checkbox saved enabled: false");
    await wait(() => document.querySelector('#page input[aria-label="host is enabled"]')?.closest("tr").classList.contains("vt-off"), null, "host's row shows as disabled");
    const descSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.request().postData().includes("Where the API lives"));
    await input("Description of host").focus();
    await page.keyboard.type("Where the API lives");
    await page.keyboard.press("Enter");
    check((await descSaved).status() === 200, "Enter saved host's description");
    await wait(() => document.querySelector('#page input[aria-label="Description of host"]')?.dataset.saved === "Where the API lives", null, "host's description read back");
    // The token is disabled and enabled again with the mouse: it ends enabled.
    await input("token is enabled").uncheck();
    await wait(() => document.querySelector('#page input[aria-label="token is enabled"]')?.closest("tr").classList.contains("vt-off"), null, "token disabled");
    await input("token is enabled").check();
    await wait(() => !document.querySelector('#page input[aria-label="token is enabled"]')?.closest("tr").classList.contains("vt-off"), null, "token enabled again");

    // Add a variable from the last row, by keyboard only.
    await page.locator('#page input[aria-label="New variable name"]').focus();
    await page.keyboard.type("region");
    await page.keyboard.press("Tab");
    await page.keyboard.type("eu-west-1");
    await page.keyboard.press("Tab");
    await page.keyboard.type("eu-central-1");
    await page.keyboard.press("Enter");
    await input("Variable name region").waitFor({ timeout: 10000 });
    check(await page.evaluate(() => document.activeElement.getAttribute("aria-label")) === "New variable name", "focus is back on the new name, to add another");
    check(await value("Current value of region") === "eu-central-1", "region's current value");
    check(await value("Current value of host") === "http://127.0.0.1:3000", "host's current value after a refresh");

    // A current value set elsewhere (here a request the page itself did not make) shows by the live channel.
    const regionId = await page.locator("#page tbody tr", { has: page.locator('input[aria-label="Variable name region"]') }).getAttribute("data-id");
    await page.evaluate((id) => fetch(`/api/docs/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ fields: { current: "eu-north-1" } }) }), regionId);
    await wait(() => document.querySelector('#page input[aria-label="Current value of region"]')?.value === "eu-north-1", null, "a current value set elsewhere shows");

    // Delete a variable with the mouse.
    await page.getByRole("button", { name: "Delete variable old" }).click();
    await input("Variable name old").waitFor({ state: "detached", timeout: 10000 });

    // New environment, rename it, delete it (Cancel first).
    await page.getByRole("button", { name: "New environment" }).click();
    await dialog.locator("input").fill("Production");
    await dialog.locator("input").press("Enter");
    await wait(() => document.querySelector("#page-title")?.textContent === "Production", null, "Production opened");
    check(await page.locator('.side-list button[aria-current="true"]').textContent() === "Production", "the new environment is selected");
    check(await page.locator("#page .vt-wrap > .note").isVisible(), "an empty environment says so");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await dialog.locator("input").fill("Prod");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await wait(() => document.querySelector("#page-title")?.textContent === "Prod", null, "renamed to Prod");
    await page.locator("#page").getByRole("button", { name: "Delete", exact: true }).click();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    check(await page.locator('.side-list button:has-text("Prod")').count() === 1, "Cancel kept Prod");
    await page.locator("#page").getByRole("button", { name: "Delete", exact: true }).click();
    await dialog.getByRole("button", { name: "Delete environment" }).click();
    await wait(() => ![...document.querySelectorAll(".side-list button")].some((b) => b.textContent.startsWith("Prod")), null, "Prod deleted");

    // The header's picker: Staging becomes active (mouse).
    await page.locator("#active-env").selectOption({ label: "Staging" });
    await wait(() => [...document.querySelectorAll(".side-list button")].some((b) => b.textContent === "StagingActive"), null, "Staging marked active");
    check(await page.locator("#page .page-head .tag").isVisible(), "the page says Staging is active");
    await page.locator("#sync").blur();
    await page.mouse.move(0, 0);
    await clean("environments");
    await page.screenshot({ path: path.join(shots, "environments.png") });
    failures.push(...(await checkA11y(page, "environments")));

    // ---- Globals, by keyboard on the tab strip.
    await page.locator("#tab-environments").focus();
    await page.keyboard.press("ArrowRight");
    check(await selected() === "Globals", `then ${await selected()}`);
    await input("Variable name tenant").waitFor({ timeout: 10000 });
    check(await value("Initial value of tenant") === "acme", "tenant");
    await page.locator('#page input[aria-label="New variable name"]').focus();
    await page.keyboard.type("api_key");
    await page.keyboard.press("Tab");
    await page.keyboard.type("g-s3cret");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.type("The tenant's API key");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await input("Variable name api_key").waitFor({ timeout: 10000 });
    check(await value("Initial value of api_key (hidden)") === MASK, "a new secret global is masked");
    check(await value("Description of api_key") === "The tenant's API key", "the new global's description");
    check(await input("api_key is enabled").isChecked(), "a new global is enabled");
    await page.getByRole("button", { name: "Reveal the values of api_key" }).press("Enter");
    await wait(() => document.querySelector('#page input[aria-label="Initial value of api_key"]')?.value === "g-s3cret", null, "api_key revealed by keyboard");
    await page.getByRole("button", { name: "Hide the values of api_key" }).press("Enter");
    await wait(() => document.querySelector('#page input[aria-label="Initial value of api_key (hidden)"]')?.value === "••••••", null, "api_key hidden");
    await page.mouse.move(0, 0);
    await clean("globals");
    await page.screenshot({ path: path.join(shots, "globals.png") });
    failures.push(...(await checkA11y(page, "globals")));

    // ---- Header presets, by mouse.
    await page.getByRole("tab", { name: "Header presets" }).click();
    await page.locator('#page input[aria-label="Value of Accept"]').waitFor({ timeout: 10000 });
    check(await page.locator(".side-list button").first().textContent() === "JSON2 headers", "the preset list says how many headers");
    await page.getByRole("button", { name: "Delete header Accept" }).click();
    await page.locator('#page input[aria-label="Value of Accept"]').waitFor({ state: "detached", timeout: 10000 });
    await page.locator('#page input[aria-label="Value of Content-Type"]').fill("application/json; charset=utf-8");
    await page.locator('#page input[aria-label="Value of Content-Type"]').press("Enter");
    await wait(() => document.querySelector(".side-list button")?.textContent === "JSON1 header", null, "one header left in JSON");
    await page.getByRole("button", { name: "New preset" }).click();
    await dialog.locator("input").fill("Auth");
    await dialog.locator("input").press("Enter");
    await wait(() => document.querySelector("#page-title")?.textContent === "Auth", null, "Auth opened");
    await page.locator('#page input[aria-label="New header name"]').focus();
    await page.keyboard.type("Authorization");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Bearer {{token}}");
    await page.keyboard.press("Enter");
    await page.locator('#page input[aria-label="Value of Authorization"]').waitFor({ timeout: 10000 });
    await page.mouse.move(0, 0);
    await clean("header-presets");
    await page.screenshot({ path: path.join(shots, "header-presets.png") });
    failures.push(...(await checkA11y(page, "header-presets")));

    // ---- History, by keyboard.
    await page.locator("#tab-header-presets").focus();
    await page.keyboard.press("ArrowRight");
    check(await selected() === "History", `then ${await selected()}`);
    await page.locator("#page table.rec tbody tr").first().waitFor({ timeout: 10000 });
    const history = await page.$$eval("#page table.rec tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    check(history.length === 7, `history has ${history.length} rows`);
    check(history[0][1] === "DELETE" && history[0][3] === "204", `newest first: ${JSON.stringify(history[0])}`);
    check(history[history.length - 1][1] === "PUT" && history[history.length - 1][3] === "500", `oldest last: ${JSON.stringify(history[history.length - 1])}`);
    check(history.some((h) => h[2].startsWith("https://api.example.com/orders") && h[3] === "201 Created" && h[4] === "80 ms"), "the run's Create order entry");
    await clean("history");
    await page.screenshot({ path: path.join(shots, "history.png") });
    failures.push(...(await checkA11y(page, "history")));

    // ---- Runs, by keyboard: End reaches the last tab.
    await page.keyboard.press("End");
    check(await selected() === "Runs", `End chose ${await selected()}`);
    await page.locator("#page details.run").first().waitFor({ timeout: 10000 });
    const runs = page.locator("#page details.run");
    check(await runs.count() === 2, `${await runs.count()} runs`);
    check(await runs.nth(0).evaluate((d) => d.open), "the newest run is open");
    const summary = await runs.nth(0).locator("summary").textContent();
    check(summary.startsWith("FailedOrders smoke") && summary.includes("2 requests, 1 failed") && summary.includes("2 tests passed, 1 failed"), `newest run summary: ${summary}`);
    const rows = await runs.nth(0).locator("tbody tr").evaluateAll((rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    check(rows[0][0] === "List orders" && rows[0][1] === "200 OK" && rows[0][4] === "Failed", `first request: ${JSON.stringify(rows[0])}`);
    check(rows[0][3].includes("✓ Pass status is 200") && rows[0][3].includes("✗ Fail has 3 orders") && rows[0][3].includes("expected 2 to equal 3"), `its tests: ${rows[0][3]}`);
    check(rows[1][0] === "Create order" && rows[1][4] === "Passed", `second request: ${JSON.stringify(rows[1])}`);
    check(!(await runs.nth(1).evaluate((d) => d.open)), "the older run starts closed");
    await runs.nth(1).locator("summary").focus();
    await page.keyboard.press("Enter");
    check(await runs.nth(1).evaluate((d) => d.open), "Enter opens a run");
    check((await runs.nth(1).locator("summary").textContent()).startsWith("Passed"), "the older run passed");
    await clean("runs");
    await page.screenshot({ path: path.join(shots, "runs.png") });
    failures.push(...(await checkA11y(page, "runs")));

    // Home goes back to the tree, and the address remembers nothing else.
    await page.locator("#tab-runs").focus();
    await page.keyboard.press("Home");
    check(await selected() === "Collections", `Home chose ${await selected()}`);
    check(await page.locator("#tree-viewport").isVisible() && await page.locator("#page").isHidden(), "the tree is back");
    check(errors.length === 0, `page errors: ${errors.join(" | ")}`);
    console.log(JSON.stringify({ history: history.length, runs: 2 }));
  } catch (e) {
    failures.push(String(e && e.stack || e));
    await page.screenshot({ path: path.join(shots, "envs-failure.png") }).catch(() => {});
  } finally {
    await browser.close();
  }
  finish(failures);
}

main();
