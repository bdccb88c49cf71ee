/*
 * The web version `apisync serve` hosts at `/`, in headless Chromium: two browser contexts signed
 * in as two devices of one account, an edit in one appearing live in the other (and how long that
 * took), a hostile request name shown as text, a third browser refused at the device limit with
 * the device list, and the icon while the server is away and back. Driven by
 * crates/apisync/tests/web.rs, which stops and restarts the server at each `STEP` line (this
 * script waits for one line on stdin after printing it).
 *
 * Usage: node web_browser.js --url URL --user NAME --password-env VAR --shots DIR
 */
"use strict";

const path = require("path");
const { arg, launch, finish, checkA11y, steps } = require("./app_common");

const { step, done: stepsDone } = steps();

const LONG = 30000;
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
}

async function waitState(page, state) {
  await page.waitForFunction((s) => document.querySelector("#sync")?.dataset.state === s, state, { timeout: LONG });
}

// A call of the app API from the page itself, as its own scripts make it (cookie and Origin).
function pageCall(page, method, url, body) {
  return page.evaluate(async ([m, u, b]) => {
    const r = await fetch(u, { method: m, headers: { "Content-Type": "application/json" }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, url, body]);
}

async function signIn(browser, url, user, password) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 }, bypassCSP: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => failures.push(`page error: ${e}`));
  page.on("dialog", (d) => { failures.push(`a dialog opened: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.goto(url);
  // Signed out, the web version offers the sign-in at once: there is no Scratch Pad here.
  const dlg = page.locator("#account-dialog");
  await dlg.waitFor({ state: "visible", timeout: LONG });
  check((await dlg.locator("[name=server]").count()) === 0, "the web sign-in asks for no server");
  await dlg.locator("[name=user]").fill(user);
  await dlg.locator("[name=password]").fill(password);
  return { context, page, dlg };
}

const T0 = Date.now();
function log(m) { console.error(`[web_browser ${Date.now() - T0} ms] ${m}`); }

async function main() {
  const url = arg("--url");
  const user = arg("--user");
  const password = process.env[arg("--password-env")] || "";
  const dir = arg("--shots");
  const browser = await launch();
  const summary = {};
  try {
    const a = await signIn(browser, url, user, password);
    await a.page.screenshot({ path: path.join(dir, "web-sign-in.png") });
    failures.push(...(await checkA11y(a.page, "web-sign-in")));
    await a.dlg.locator("button[type=submit]").click();
    await waitState(a.page, "in_sync");
    log('a signed in');
    const b = await signIn(browser, url, user, password);
    await b.dlg.locator("button[type=submit]").click();
    await waitState(b.page, "in_sync");
    const label = (await b.page.locator("#sync .sync-label").textContent()).trim();
    check(label === "In sync", `the icon says In sync: ${label}`);

    log('b signed in');
    // An edit in one browser appears in the other without a reload.
    const made = await pageCall(a.page, "POST", "/api/docs", { kind: "collection", fields: { name: "Made in browser one" } });
    check(made.status === 201, `created: ${JSON.stringify(made)}`);
    const inTree = (name) => b.page.waitForFunction((n) => [...document.querySelectorAll("#tree [role=treeitem]")].some((r) => r.textContent.includes(n)), name, { timeout: LONG });
    await inTree("Made in browser one");

    log('first edit seen');
    // Edit to other browser, ten times: the figures are printed, not asserted.
    const times = [];
    for (let i = 0; i < 10; i++) {
      const name = `Renamed ${i}`;
      const start = Date.now();
      const r = await pageCall(a.page, "PATCH", `/api/docs/${made.body.id}`, { fields: { name } });
      check(r.status === 200, `renamed: ${JSON.stringify(r)}`);
      await inTree(name);
      times.push(Date.now() - start);
    }
    times.sort((x, y) => x - y);
    summary.edit_to_other_browser_ms = { p50: times[5], max: times[9] };
    await pageCall(a.page, "PATCH", `/api/docs/${made.body.id}`, { fields: { name: "Made in browser one" } });

    log('latency done');
    // A hostile name is text, never markup.
    const evil = "<img src=x onerror=alert(1)>";
    const req = await pageCall(a.page, "POST", "/api/docs", { kind: "request", parent: made.body.id, fields: { name: evil, method: "GET", url: "https://example.com" } });
    check(req.status === 201, `request created: ${JSON.stringify(req)}`);
    await inTree("Made in browser one");
    await b.page.waitForFunction(() => document.querySelectorAll("#tree [role=treeitem]").length >= 1, null, { timeout: LONG });
    // Expand the collection if the request is not shown yet.
    const shown = async () => b.page.evaluate((n) => [...document.querySelectorAll("#tree [role=treeitem]")].some((r) => r.textContent.includes(n)), evil);
    if (!(await shown())) {
      await b.page.locator("#tree [role=treeitem]", { hasText: "Made in browser one" }).first().click();
      await b.page.keyboard.press("ArrowRight");
    }
    await b.page.waitForFunction((n) => [...document.querySelectorAll("#tree [role=treeitem]")].some((r) => r.textContent.includes(n)), evil, { timeout: LONG });
    check((await b.page.locator("#tree img").count()) === 0, "the name made no image element");
    await b.page.screenshot({ path: path.join(dir, "web-two-browsers.png") });
    failures.push(...(await checkA11y(b.page, "web-two-browsers")));

    log('hostile checked');
    // A third browser is the account's fourth device: refused, with the devices listed.
    const c = await signIn(browser, url, user, password);
    await c.dlg.locator("button[type=submit]").click();
    const devices = c.page.locator("#account-dialog .account-devices li");
    await devices.first().waitFor({ timeout: LONG });
    const listed = await devices.allInnerTexts();
    check(listed.length === 3, `the refusal lists 3 devices: ${JSON.stringify(listed)}`);
    summary.device_limit = listed;
    await c.page.screenshot({ path: path.join(dir, "web-device-limit.png") });
    failures.push(...(await checkA11y(c.page, "web-device-limit")));
    await c.context.close();

    log('device limit seen');
    // The server goes away: the icon says so; it comes back: in sync again, no reload.
    await step("kill");
    await waitState(b.page, "connecting");
    await b.page.locator("#sync").focus();
    const lost = (await b.page.locator("#sync-detail").innerText()).trim();
    check(lost.includes("Lost the server"), `the detail says the server is lost: ${lost}`);
    summary.lost = lost;
    await b.page.screenshot({ path: path.join(dir, "web-lost-server.png") });
    failures.push(...(await checkA11y(b.page, "web-lost-server")));
    log('lost seen');
    await step("restart");
    await waitState(b.page, "in_sync");
    await a.context.close();
    await b.context.close();
  } catch (e) {
    failures.push(String(e && e.stack || e));
    for (const [i, p] of browser.contexts().flatMap((c) => c.pages()).entries()) {
      await p.screenshot({ path: path.join(dir, `web-failure-${i}.png`) }).catch(() => {});
      failures.push(`page ${i}: ${await p.evaluate(() => `${location.href} ws=${document.querySelector("#workspace")?.value} tree=${document.querySelector("#tree")?.textContent}`).catch(() => "?")}`);
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(summary));
  stepsDone();
  finish(failures);
}

main();
