#!/usr/bin/env node
/*
 * The web version (`apisync serve` at /) never sends: signed in through the page, a request's
 * Send button is shown disabled with the reason beside it, the server has no send or run route
 * (404), and the Runner opened from the collection's actions has Run disabled with the same
 * reason. axe-core finds nothing serious. Screenshots web-send-disabled.png, web-run-disabled.png.
 *
 *   node web_send.js --url URL --user NAME --password-env VAR --request ID --collection ID --shots DIR
 *
 * Run by crates/apisync/tests/app_send.rs.
 */
"use strict";

const path = require("path");
const { arg, launch, finish, checkA11y } = require("./app_common");

const NOTE = "Sending happens on your device: open the desktop app (apisync app), or use apisync send in a terminal.";

async function main() {
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    page.on("pageerror", (e) => failures.push(`page error: ${e}`));
    await page.goto(arg("--url"));
    const dlg = page.locator("#account-dialog");
    await dlg.waitFor({ state: "visible", timeout: 30000 });
    await dlg.locator("[name=user]").fill(arg("--user"));
    await dlg.locator("[name=password]").fill(process.env[arg("--password-env")] || "");
    await dlg.locator("button[type=submit]").click();
    const id = arg("--request");
    const row = page.locator(`#tree [data-id="${id}"]`);
    await row.waitFor({ timeout: 30000 });
    await row.click();
    const send = page.getByRole("button", { name: "Send" });
    await send.waitFor({ timeout: 10000 });
    check(await send.isDisabled(), "Send is enabled on the web");
    check((await page.locator("#ed-send-note").textContent()) === NOTE && await page.locator("#ed-send-note").isVisible(), "no reason shown beside Send");
    check((await send.getAttribute("aria-describedby")) === "ed-send-note", "the disabled Send is not described by its reason");
    // Ctrl+Enter sends nothing either.
    await page.getByLabel("URL", { exact: true }).focus();
    await page.keyboard.press("Control+Enter");
    await page.waitForTimeout(300);
    check(await page.locator(".sp-status").count() === 0, "something was sent on the web");
    const statuses = await page.evaluate(async (doc) => {
      const post = (p, b) => fetch(p, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(b) }).then((r) => r.status);
      return [await post(`/api/docs/${doc}/send`, {}), await post("/api/run", { target: doc })];
    }, id);
    check(statuses[0] === 404 && statuses[1] === 404, `the server has send or run routes: ${statuses}`);
    failures.push(...(await checkA11y(page, "web editor with Send disabled")));
    await page.screenshot({ path: path.join(arg("--shots"), "web-send-disabled.png") });

    const col = page.locator(`#tree [data-id="${arg("--collection")}"]`);
    await col.focus();
    await page.keyboard.press("Shift+F10");
    await page.getByRole("menuitem", { name: "Run…" }).click();
    const runner = page.locator("dialog.rn-dialog");
    await runner.waitFor({ timeout: 5000 });
    check(await runner.getByRole("button", { name: "Run", exact: true }).isDisabled(), "Run is enabled on the web");
    check((await runner.locator("#rn-web-note").textContent()) === NOTE, "no reason shown in the Runner");
    failures.push(...(await checkA11y(page, "web runner", { include: "dialog.rn-dialog" })));
    await page.screenshot({ path: path.join(arg("--shots"), "web-run-disabled.png") });
  } finally {
    await browser.close();
  }
  finish(failures);
}

main().catch((e) => { console.error(e); process.exit(1); });
