#!/usr/bin/env node
/*
 * The sync icon against a real server, in Debian's headless Chromium (playwright-core).
 *
 *   node app_states.js --url APP_URL_WITH_SECRET --server SERVER_URL --user NAME --password-env VAR \
 *        --replace DEVICE_NAME --shots DIR
 *
 * The password is read from the environment variable VAR, never from the command line.
 * Steps are coordinated with the Rust test that runs this script (crates/apisync/tests/app.rs):
 * at each `STEP name` line on stdout the script waits for one line on stdin, written once the
 * test has done that step's part (make a document on another device, kill the server, restart
 * it, sign this device out from another). Then it checks what a person sees:
 *   signed out → the sign-in dialog → the device-limit refusal, freeing DEVICE_NAME's slot →
 *   In sync (another device's document appears without a reload) → Offline, unreachable (an
 *   edit waits; sign-out is refused and the export downloads it) → In sync → Error, signed out elsewhere → signed in again → signed out, the Scratch Pad.
 * For each state: the label, the hover text and the keyboard-focus text; a screenshot per state.
 * The last stdout line is a JSON summary. Exits non-zero on a failure.
 */
"use strict";

const path = require("path");
const { arg, launch, steps } = require("./app_common");

const { step, done: stepsDone } = steps();

const LONG = 60000;
const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
}

async function waitState(page, state) {
  await page.waitForFunction((s) => document.querySelector("#sync")?.dataset.state === s, state, { timeout: LONG });
}

// The icon's label and its detail, read once by hover and once by keyboard focus.
// `state`: the state being read. A background sync may pass through Syncing
// for a moment between waiting for the state and reading its label, so the
// label is read once the icon shows that state again.
async function readIcon(page, state) {
  const detail = page.locator("#sync-detail");
  // The label (and below, the aria-label) is read in the same task as the
  // state it belongs to, so a sync passing through in between cannot mix them.
  const readWith = async (what) => {
    if (!state) return page.evaluate((w) => (w === "label" ? document.querySelector("#sync .sync-label").textContent.trim() : document.querySelector("#sync").getAttribute("aria-label")), what);
    const handle = await page.waitForFunction(([s, w]) => {
      const el = document.querySelector("#sync");
      if (!el || el.dataset.state !== s) return false;
      return w === "label" ? el.querySelector(".sync-label").textContent.trim() : el.getAttribute("aria-label");
    }, [state, what], { timeout: LONG });
    return handle.jsonValue();
  };
  const label = await readWith("label");
  await page.mouse.move(1, 300);
  await page.locator("body").focus().catch(() => {});
  await page.hover("#sync");
  await detail.waitFor({ state: "visible", timeout: 5000 });
  const hover = (await detail.innerText()).trim();
  await page.mouse.move(1, 300);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await detail.waitFor({ state: "hidden", timeout: 5000 });
  await page.locator("#sync").focus();
  await detail.waitFor({ state: "visible", timeout: 5000 });
  const focus = (await detail.innerText()).trim();
  const aria = await readWith("aria");
  return { label, hover, focus, aria };
}

async function shot(page, dir, name) {
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

async function fillSignIn(page, server, user, password) {
  const dlg = page.locator("#account-dialog");
  await dlg.waitFor({ state: "visible", timeout: 5000 });
  await dlg.locator("[name=server]").fill(server);
  await dlg.locator("[name=user]").fill(user);
  await dlg.locator("[name=password]").fill(password);
}

async function main() {
  const url = arg("--url");
  const server = arg("--server");
  const user = arg("--user");
  const password = process.env[arg("--password-env")] || "";
  const replace = arg("--replace");
  const dir = arg("--shots");
  const browser = await launch();
  const seen = {};
  const shots = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.locator("#sign-in").waitFor({ timeout: 10000 });
    await waitState(page, "offline");
    seen.signed_out = await readIcon(page);

    // Sign in: the dialog, then the device-limit refusal with its way out.
    await page.locator("#sign-in").click();
    await fillSignIn(page, server, user, password);
    shots.push(await shot(page, dir, "sign-in.png"));
    check((await page.locator("#account-dialog [name=password]").getAttribute("type")) === "password", "the password field is masked");
    await page.locator("#account-dialog button[type=submit]").click();
    const devices = page.locator("#account-dialog .account-devices li");
    await devices.first().waitFor({ timeout: LONG });
    const listed = await devices.allInnerTexts();
    check(listed.length === 3, `the refusal lists the 3 devices: ${JSON.stringify(listed)}`);
    const problem = await page.locator("#account-dialog .account-problem").innerText();
    check(problem.includes("sign-out") && problem.includes("3 devices"), `the refusal says how to free a slot: ${problem}`);
    shots.push(await shot(page, dir, "device-limit.png"));
    seen.device_limit = { devices: listed, message: problem };
    await page.locator("#account-dialog .account-devices button", { hasText: `“${replace}”` }).click();
    await page.locator("#account-dialog").waitFor({ state: "hidden", timeout: LONG });
    await waitState(page, "in_sync");
    check(!page.url().includes(password), "no password in the address");

    // In sync; another device's document appears without a reload.
    await step("signed-in");
    await page.locator("#tree .name", { hasText: "From the desktop" }).first().waitFor({ timeout: LONG });
    await waitState(page, "in_sync");
    seen.in_sync = await readIcon(page, "in_sync");
    shots.push(await shot(page, dir, "in-sync.png"));

    await step("kill");
    await waitState(page, "offline");
    seen.offline = await readIcon(page);
    shots.push(await shot(page, dir, "offline-unreachable.png"));

    // An edit made while the server is away waits; signing out is refused
    // and offers the export, which downloads it.
    await page.evaluate(() => fetch("/api/docs", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "collection", fields: { name: "Made offline" } }) }));
    await page.waitForFunction(() => /1 pending/.test(document.querySelector("#sync .sync-pending")?.textContent || ""), null, { timeout: LONG });
    await page.locator("#sign-out").click();
    const refusal = page.locator("#account-dialog .account-refusal");
    await refusal.waitFor({ timeout: LONG });
    seen.sign_out_refused = await refusal.innerText();
    check(/not reached the server/.test(seen.sign_out_refused), `the refusal says why: ${seen.sign_out_refused}`);
    shots.push(await shot(page, dir, "sign-out-refused.png"));
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#account-dialog .account-export").click()]);
    const fs = require("fs");
    const dumped = fs.readFileSync(await download.path(), "utf8");
    check(dumped.includes("Made offline"), "the export holds the edit that waits");
    seen.export_name = download.suggestedFilename();
    await page.locator("#account-dialog button", { hasText: "Keep working" }).click();
    await page.locator("#account-dialog").waitFor({ state: "hidden", timeout: 5000 });

    await step("restart");
    await waitState(page, "in_sync");
    seen.in_sync_again = await readIcon(page, "in_sync");

    await step("revoke");
    await waitState(page, "error");
    seen.error = await readIcon(page);
    check(await page.locator("#sign-in-again").isVisible(), "an ended session offers Sign in again");
    shots.push(await shot(page, dir, "error-revoked.png"));

    // Sign in again from the error, then sign out: the Scratch Pad.
    await page.locator("#sign-in-again").click();
    await fillSignIn(page, server, user, password);
    await page.locator("#account-dialog button[type=submit]").click();
    await page.locator("#account-dialog").waitFor({ state: "hidden", timeout: LONG });
    await waitState(page, "in_sync");
    await page.locator("#sign-out").click();
    await page.locator("#sign-in").waitFor({ timeout: LONG });
    await waitState(page, "offline");
    await page.locator("#banner").waitFor({ state: "visible", timeout: LONG });
    await page.waitForFunction(() => (document.querySelector("#workspace-note")?.textContent || "").includes("Scratch Pad"), null, { timeout: LONG });
    seen.signed_out_again = await readIcon(page);
    seen.banner = await page.locator("#banner").innerText();
    shots.push(await shot(page, dir, "signed-out-scratch-pad.png"));
    if (errors.length) failures.push(`page errors: ${errors.join("; ")}`);
  } catch (e) {
    failures.push(String(e && e.stack || e));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ seen, shots, failures }));
  stepsDone();
  process.exit(failures.length ? 1 : 0);
}

main();
