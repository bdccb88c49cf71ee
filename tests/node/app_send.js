#!/usr/bin/env node
/*
 * Sends requests from `apisync app`'s request editor in Debian's headless Chromium (driven by
 * playwright-core), as a person would, against the local server the Rust test started.
 *
 *   node app_send.js --url URL_WITH_SECRET --bin APISYNC --profile DIR --collection ID --item ID --unresolved ID --page ID --shots DIR
 *
 * "Get item" is opened and sent with Ctrl+Enter: the pane shows "200 OK" (its colour class and
 * its words), the time with its breakdown on keyboard focus, the size, the body indented as JSON
 * (Raw shows it as it came), the headers, the cookie the server set, and the test results and
 * console when the request's test script ran. Save as example names it "Happy path" and it shows
 * in the tree. "Unresolved" (a {{variable}} nothing defines) shows its warning in view. An
 * edited URL is saved before the send, and the pane says so. "Page" shows HTML indented.
 * Manage cookies lists the jar and clears it. Then the collection's Run… opens the Runner: a
 * JSON data file of two rows, Run, a row per request and iteration with its status, tests and
 * verdict, the summary; Open in Runs shows the run there. axe-core finds nothing serious in each state.
 * Screenshots send-response.png, send-tests.png, send-headers.png, send-cookies.png, send-warnings.png,
 * send-html.png, runner.png, runner-runs.png in --shots. Run by crates/apisync/tests/app_send.rs.
 */
"use strict";

const { arg, launch, checkA11y, finish } = require("./app_common");
const path = require("path");

async function main() {
  const url = arg("--url");
  const ids = { collection: arg("--collection"), item: arg("--item"), unresolved: arg("--unresolved"), page: arg("--page") };
  const shots = arg("--shots");
  const browser = await launch();
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    // The response pane's tabs (the editor has a Body and a Headers tab too).
    const rtab = (name) => page.getByRole("tablist", { name: "Response parts" }).getByRole("tab", { name });
    const open = async (id) => {
      const item = page.locator(`#tree [data-id="${id}"]`);
      await item.waitFor({ timeout: 15000 });
      await item.click();
      await page.locator(`.ed[data-doc="${id}"]`).waitFor({ timeout: 5000 });
    };

    // Send by keyboard, focus in the URL box.
    await open(ids.item);
    check(await page.getByRole("button", { name: "Send" }).isEnabled(), "Send is disabled in the desktop app");
    await page.getByLabel("URL", { exact: true }).focus();
    await page.keyboard.press("Control+Enter");
    const status = page.locator(".sp-status");
    await status.waitFor({ timeout: 15000 });
    check((await status.textContent()) === "200 OK", `status shown: ${await status.textContent()}`);
    check((await status.getAttribute("class")).includes("st-2xx"), "a 2xx has no success colour class");
    const body = page.getByLabel(/Response body \(pretty json\)/);
    check((await body.textContent()).includes('\n  "name": "Widget"'), `body not indented: ${await body.textContent()}`);
    check(/Size \d+ B/.test(await page.locator(".sp-size").textContent()), "no size");
    // The breakdown shows on keyboard focus.
    await page.locator(".sp-time").focus();
    check(await page.locator("#sp-timings").isVisible(), "the timing breakdown does not show on focus");
    check(/Total|Download|Waiting/.test(await page.locator("#sp-timings").textContent()), "the breakdown names no timing");
    // Tests and console, when the request's test script ran on Send.
    const testsTab = rtab(/^Tests/);
    const testsLabel = await testsTab.textContent();
    check(testsLabel === "Tests (2/2 passed)", `tests tab: ${testsLabel}`);
    await testsTab.click();
    const list = page.getByRole("list", { name: "Test results" });
    check((await list.textContent()).includes("Passedstatus is 200"), `tests: ${await list.textContent()}`);
    await page.screenshot({ path: path.join(shots, "send-tests.png"), fullPage: true });
    await rtab(/^Console/).click();
    check((await page.getByLabel("Console output").textContent()).includes("got 200"), "console line missing");
    failures.push(...(await checkA11y(page, "response pane")));
    await rtab("Body").click();
    await page.screenshot({ path: path.join(shots, "send-response.png"), fullPage: true });
    // Raw shows the body as it came.
    await page.getByRole("button", { name: "Raw" }).click();
    check((await page.getByLabel(/Response body \(raw json\)/).textContent()).startsWith('{"id":1'), "Raw is not the body as it came");

    // Headers by arrow keys from Body.
    await rtab("Body").focus();
    await page.keyboard.press("ArrowRight");
    check((await rtab(/^Headers/).getAttribute("aria-selected")) === "true", "ArrowRight did not reach Headers");
    check((await page.getByRole("table", { name: "Response headers" }).textContent()).includes("set-cookie"), "no set-cookie header listed");
    await page.screenshot({ path: path.join(shots, "send-headers.png"), fullPage: true });
    await page.keyboard.press("ArrowRight");
    const cookies = page.getByRole("table", { name: "Cookies for this host" });
    check((await cookies.textContent()).includes("abc123"), "the cookie the server set is not shown");

    // Save as example: the name dialog, then the example in the tree.
    await page.getByRole("button", { name: "Save as example" }).click();
    const dlg = page.locator("dialog.small-dialog:not(.sp-cookies-dialog)");
    await dlg.waitFor({ timeout: 5000 });
    failures.push(...(await checkA11y(page, "save as example dialog", { include: "dialog.small-dialog" })));
    await dlg.getByLabel("Name").fill("Happy path");
    await page.keyboard.press("Enter");
    await page.locator(".sp-saved", { hasText: "Saved as example “Happy path”" }).waitFor({ timeout: 5000 });
    const treeItem = page.locator("#tree [data-kind=\"response\"]", { hasText: "Happy path" });
    const expand = page.locator(`#tree [data-id="${ids.item}"]`);
    for (let i = 0; i < 50 && !(await treeItem.count()); i++) {
      if (i === 10) { await expand.focus(); await page.keyboard.press("ArrowRight"); }
      await page.waitForTimeout(100);
    }
    check((await treeItem.count()) === 1, "the example is not in the tree");

    // Manage cookies: the jar, cleared.
    await rtab(/^Cookies/).click();
    await page.getByRole("button", { name: "Manage cookies" }).click();
    const jar = page.locator("dialog.sp-cookies-dialog");
    await jar.waitFor({ timeout: 5000 });
    check((await jar.getByRole("table", { name: "All cookies" }).textContent()).includes("session"), "the jar does not list the cookie");
    failures.push(...(await checkA11y(page, "cookies dialog", { include: "dialog.sp-cookies-dialog" })));
    await page.screenshot({ path: path.join(shots, "send-cookies.png") });
    await jar.getByRole("button", { name: "Clear all cookies" }).click();
    await page.locator("dialog.small-dialog:not(.sp-cookies-dialog)").getByRole("button", { name: "Clear all", exact: true }).click();
    await jar.getByText("No cookies.").waitFor({ timeout: 5000 });
    await page.keyboard.press("Escape");
    await jar.waitFor({ state: "detached", timeout: 5000 });

    // Warnings in view: a variable nothing defines; an edited URL saved before the send.
    await open(ids.unresolved);
    const u = page.getByLabel("URL", { exact: true });
    await u.fill((await u.inputValue()) + "&y=2");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".sp-status").waitFor({ timeout: 15000 });
    const warnings = page.getByRole("list", { name: "Warnings" });
    check((await warnings.textContent()).includes("{{nothing}} is not defined"), `warnings: ${await warnings.textContent()}`);
    check((await warnings.locator("li").count()) === 1, `one warning, said once: ${await warnings.textContent()}`);
    check((await page.locator(".sp-note").textContent()).includes("saved first"), "no note that the edits were saved first");
    check(await page.locator(".ed-unsaved").isHidden(), "the edit is still unsaved after Send");
    check((await page.getByLabel(/Response body/).textContent()).includes("/echo"), "the body is not the echo");
    failures.push(...(await checkA11y(page, "response with warnings")));
    await page.screenshot({ path: path.join(shots, "send-warnings.png"), fullPage: true });

    // HTML indented.
    await open(ids.page);
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator(".sp-status").waitFor({ timeout: 15000 });
    const html = await page.getByLabel(/Response body \(pretty html\)/).textContent();
    check(html.includes("<html>\n  <head>\n    <title>"), `HTML not indented: ${html}`);
    await page.screenshot({ path: path.join(shots, "send-html.png"), fullPage: true });

    // The Runner, from the collection's actions (Shift+F10): a data file of two rows, so two iterations.
    const colRow = page.locator(`#tree [data-id="${ids.collection}"]`);
    await colRow.focus();
    await page.keyboard.press("Shift+F10");
    await page.getByRole("menuitem", { name: "Run…" }).click();
    const runner = page.locator("dialog.rn-dialog");
    await runner.waitFor({ timeout: 5000 });
    check((await runner.textContent()).includes("Environment: Dev"), "the Runner does not name the active environment");
    await runner.getByLabel("Iterations").fill("2");
    await runner.locator("input[type=file]").setInputFiles({ name: "rows.json", mimeType: "application/json", buffer: Buffer.from('[{"row":"1"},{"row":"2"}]') });
    failures.push(...(await checkA11y(page, "runner", { include: "dialog.rn-dialog" })));
    await runner.getByRole("button", { name: "Run", exact: true }).click();
    const results = runner.getByRole("table", { name: "Run results" });
    // Rows come as each request ends; the summary comes last.
    await runner.locator(".rn-summary").waitFor({ timeout: 30000 });
    const rows = await results.locator("tbody tr").evaluateAll((rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    check(rows.length === 10, `${rows.length} result rows`);
    const item = rows.find((r) => r[1] === "Get item");
    check(item && item[3] === "200 OK" && item[5] === "2/2 passed" && item[6] === "Passed", `Get item row: ${JSON.stringify(item)}`);
    const missing = rows.find((r) => r[1] === "Missing");
    check(missing && missing[3] === "404 Not Found" && missing[6].startsWith("Failed") && missing[6].includes("status is 200"), `Missing row: ${JSON.stringify(missing)}`);
    check((await runner.locator(".rn-summary").textContent()).startsWith("Failed: 10 request(s)"), `summary: ${await runner.locator(".rn-summary").textContent()}`);
    failures.push(...(await checkA11y(page, "runner results", { include: "dialog.rn-dialog" })));
    await page.screenshot({ path: path.join(shots, "runner.png") });

    // Stop: a slow run (a pause between requests) ends after the requests already done.
    await runner.getByLabel("Iterations").fill("3");
    await runner.getByLabel("Delay between requests (ms)").fill("1500");
    await runner.getByRole("button", { name: "Run", exact: true }).click();
    // The progress line names the requests done so far: the run is streaming.
    await runner.getByText(/request\(s\) done/).waitFor({ timeout: 30000 });
    await runner.getByRole("button", { name: "Stop", exact: true }).click();
    await runner.locator(".rn-summary").waitFor({ timeout: 10000 });
    const stopped = await runner.locator(".rn-summary").textContent();
    check(stopped.startsWith("Stopped:"), `after Stop: ${stopped}`);
    const done = await results.locator("tbody tr").count();
    check(done >= 1 && done < 15, `${done} rows after Stop`);
    await page.screenshot({ path: path.join(shots, "runner-stopped.png") });
    // Open in Runs: the run is on the Runs page.
    await runner.getByRole("button", { name: "Open in Runs" }).click();
    const run = page.locator("#page details.run");
    await run.first().waitFor({ timeout: 10000 });
    check((await run.first().locator("summary").textContent()).includes("Shop"), `the Runs page: ${await run.first().locator("summary").textContent()}`);
    await page.screenshot({ path: path.join(shots, "runner-runs.png") });

    check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
