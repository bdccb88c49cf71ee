#!/usr/bin/env node
/*
 * Edits a request in `apisync app`'s request editor, in Debian's headless Chromium (driven by
 * playwright-core, never a downloaded browser), as a person would, and checks what the CLI
 * then shows on the same profile.
 *
 *   node app_editor_browser.js --url URL_WITH_SECRET --bin APISYNC --profile DIR --id REQUEST_ID --screenshot OUT.png
 *
 * The request starts as `GET https://api.example.com/items`, no headers, no body. Checks: the
 * URL's query shows up as params rows; a param edited or disabled rewrites the URL; a URL
 * typed again keeps the disabled row; a header and a raw JSON body are set; the unsaved
 * marker shows (heading, page title, tree item) and Ctrl+S sends ONE PATCH with only
 * url/header/body, after which the marker clears and `apisync show --json` has them in
 * Postman v2.1 shape. Then, while the URL has an unsaved edit, the CLI sets the URL and the
 * method on the same profile: the method follows, the URL keeps the person's text and a
 * notice shows the other value; "Keep mine" and a save keep it. A description edited here and
 * changed by the CLI is settled with "Take theirs". Tabs move with arrow keys. Writes a
 * screenshot of the editor with the notice shown. Last, path variables: `:name` segments typed in
 * the URL add rows to a "Path variables" table (value, description; by keyboard), a renamed
 * segment keeps its value, a removed one goes, axe-core finds nothing serious, and the save
 * writes them as `url.variable` (screenshot `path-variables.png` beside the other). Run by
 * crates/apisync/tests/app_editor.rs.
 */
"use strict";

const { arg, launch, checkA11y } = require("./app_common");
const path = require("path");
const { execFileSync } = require("child_process");

async function main() {
  const url = arg("--url");
  const bin = arg("--bin");
  const profile = arg("--profile");
  const id = arg("--id");
  const shot = arg("--screenshot");
  // The profile is given explicitly: no home or offline setting of the caller applies.
  const env = { ...process.env };
  delete env.APISYNC_HOME;
  delete env.APISYNC_OFFLINE;
  const cli = (...args) => execFileSync(bin, ["--profile", profile, "--offline", ...args], { encoding: "utf8", env });
  const show = () => JSON.parse(cli("show", id, "--json")).fields;

  const browser = await launch();
  const failures = [];
  const check = (ok, what) => { if (!ok) failures.push(what); };
  const eventually = async (f, what, ms = 10000) => {
    const end = Date.now() + ms;
    for (;;) {
      if (await f()) return true;
      if (Date.now() > end) { failures.push(what); return false; }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    // bypassCSP lets axe-core's script in (the CSP itself is checked by app_browser.js).
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, bypassCSP: true });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", (d) => d.dismiss());
    const patches = [];
    page.on("request", (r) => {
      if (r.method() === "PATCH") patches.push(JSON.parse(r.postData() || "{}"));
    });
    await page.goto(url);

    const item = page.locator(`#tree [data-id="${id}"]`);
    await item.waitFor({ timeout: 15000 });
    await item.click();
    const editor = page.locator(".ed");
    await editor.waitFor({ timeout: 5000 });
    const unsaved = page.locator(".ed-unsaved");
    const urlBox = page.getByLabel("URL", { exact: true });
    check(await unsaved.isHidden(), "unsaved marker shown before any edit");
    check(await page.getByRole("button", { name: "Save" }).isDisabled(), "Save enabled before any edit");
    check((await urlBox.inputValue()) === "https://api.example.com/items", `URL shown: ${await urlBox.inputValue()}`);

    // URL → params.
    await urlBox.fill("https://api.example.com/items?page=2&q=shoes");
    const key = (n) => page.getByLabel(`Query param ${n} key`);
    const val = (n) => page.getByLabel(`Query param ${n} value`);
    check((await key(1).inputValue()) === "page" && (await val(1).inputValue()) === "2", "params row 1 is not page=2");
    check((await key(2).inputValue()) === "q" && (await val(2).inputValue()) === "shoes", "params row 2 is not q=shoes");
    check(await unsaved.isVisible(), "no unsaved marker after an edit");
    check((await page.title()).startsWith("●"), `page title without the marker: ${await page.title()}`);
    check((await item.locator(".ed-tree-unsaved").count()) === 1, "no unsaved marker on the tree item");

    // Params → URL.
    await val(2).fill("boots");
    check((await urlBox.inputValue()) === "https://api.example.com/items?page=2&q=boots", `URL after a param edit: ${await urlBox.inputValue()}`);
    await page.getByLabel("Query param 1 enabled").uncheck();
    check((await urlBox.inputValue()) === "https://api.example.com/items?q=boots", `URL after disabling page: ${await urlBox.inputValue()}`);
    // Typing in the URL keeps the disabled row in place.
    await urlBox.fill("https://api.example.com/items?q=boots&limit=5");
    check((await key(1).inputValue()) === "page" && !(await page.getByLabel("Query param 1 enabled").isChecked()), "the disabled row was lost");
    check((await key(3).inputValue()) === "limit" && (await val(3).inputValue()) === "5", "the new param did not appear");

    // Tabs by keyboard: ArrowRight from Params goes to Authorization.
    await page.getByRole("tab", { name: "Params" }).focus();
    await page.keyboard.press("ArrowRight");
    check((await page.getByRole("tab", { name: "Authorization" }).getAttribute("aria-selected")) === "true", "ArrowRight did not move to the next tab");

    // A header.
    await page.getByRole("tab", { name: "Headers" }).click();
    await page.getByRole("button", { name: "Add header" }).click();
    check(await page.getByLabel("Header 1 key").evaluate((e) => e === document.activeElement), "focus did not go to the new header row");
    await page.getByLabel("Header 1 key").fill("Content-Type");
    await page.getByLabel("Header 1 value").fill("application/json");

    // A raw JSON body.
    await page.getByRole("tab", { name: "Body" }).click();
    await page.getByLabel("Body mode").selectOption("raw");
    await page.getByLabel("Language").selectOption("json");
    await page.getByLabel("Raw body").fill('{"name": "shoes"}');

    // Ctrl+S: one PATCH, only the edited fields.
    await page.keyboard.press("Control+s");
    await eventually(async () => (await unsaved.isHidden()) && patches.length >= 1, "the unsaved marker did not clear after Ctrl+S");
    check(patches.length === 1, `expected one PATCH, saw ${patches.length}`);
    const sent = patches[0] ? Object.keys(patches[0].fields || {}).sort().join(",") : "";
    check(sent === "body,header,url", `the PATCH sent ${sent}`);
    check(!(await page.title()).startsWith("●"), "page title keeps the marker after saving");
    check((await item.locator(".ed-tree-unsaved").count()) === 0, "tree item keeps the marker after saving");

    const f = show();
    check(f.url && f.url.raw === "https://api.example.com/items?q=boots&limit=5", `saved url.raw: ${JSON.stringify(f.url)}`);
    check(f.url && f.url.protocol === "https" && JSON.stringify(f.url.host) === '["api","example","com"]' && JSON.stringify(f.url.path) === '["items"]', `saved url parts: ${JSON.stringify(f.url)}`);
    // The store may give keys back sorted: compare each row's entries, not its text.
    const row = (p) => JSON.stringify(Object.entries(p).sort());
    const want = [{ key: "page", value: "2", disabled: true }, { key: "q", value: "boots" }, { key: "limit", value: "5" }];
    check(f.url && Array.isArray(f.url.query) && f.url.query.map(row).join() === want.map(row).join(), `saved url.query: ${JSON.stringify(f.url && f.url.query)}`);
    check(JSON.stringify(f.header) === JSON.stringify([{ key: "Content-Type", value: "application/json" }]), `saved header: ${JSON.stringify(f.header)}`);
    check(f.body && f.body.mode === "raw" && f.body.raw === '{"name": "shoes"}' && f.body.options && f.body.options.raw && f.body.options.raw.language === "json", `saved body: ${JSON.stringify(f.body)}`);
    check(f.method === "GET", `method changed: ${f.method}`);

    // A remote change of a field being edited here: shown, never overwritten.
    await urlBox.fill("https://mine.example.com/x?page=3&sort=asc");
    cli("set", id, "url=https://theirs.example.com/y", "method=PUT");
    const notice = page.locator('.ed-notice[data-field="url"]');
    await notice.waitFor({ timeout: 10000 }).catch(() => {});
    check((await notice.count()) === 1, "no notice for the URL changed on another device");
    if (await notice.count()) {
      const t = await notice.textContent();
      check(t.includes("changed on another device") && t.includes("https://theirs.example.com/y"), `notice text: ${t}`);
    }
    check((await urlBox.inputValue()) === "https://mine.example.com/x?page=3&sort=asc", `the edited URL was overwritten: ${await urlBox.inputValue()}`);
    await eventually(async () => (await page.getByLabel("Method", { exact: true }).inputValue()) === "PUT", "the untouched method did not follow the other device");
    check(await unsaved.isVisible(), "the unsaved marker went away on a remote change");
    check((await page.locator(".ed-status").textContent()) === "", "\"Saved\" still shown beside an unsaved edit");
    await page.getByRole("tab", { name: "Params" }).click();
    check((await key(2).inputValue()) === "page" && (await key(3).inputValue()) === "sort", "the params table does not follow the kept URL");
    await page.screenshot({ path: shot, fullPage: true });

    await notice.getByRole("button", { name: "Keep mine" }).click();
    check((await notice.count()) === 0, "the notice stayed after Keep mine");
    await page.getByRole("button", { name: "Save" }).click();
    await eventually(async () => (await unsaved.isHidden()), "the unsaved marker did not clear after Save");
    check(patches.length === 2 && JSON.stringify(Object.keys(patches[1].fields)) === '["url"]', `second save sent ${JSON.stringify(patches[1])}`);
    const g = show();
    check(g.url && g.url.raw === "https://mine.example.com/x?page=3&sort=asc" && g.method === "PUT", `after keep mine: ${JSON.stringify({ url: g.url, method: g.method })}`);

    // Take theirs: the description typed here gives way to the other device's.
    await page.getByRole("tab", { name: "Description" }).click();
    const desc = page.locator("#ed-panel-docs textarea");
    await desc.fill("mine");
    cli("set", id, "description=theirs");
    const dn = page.locator('.ed-notice[data-field="description"]');
    await dn.waitFor({ timeout: 10000 }).catch(() => {});
    check((await dn.count()) === 1, "no notice for the description");
    if (await dn.count()) {
      await dn.getByRole("button", { name: "Take theirs" }).click();
      check((await desc.inputValue()) === "theirs", `Take theirs left ${await desc.inputValue()}`);
      check(await unsaved.isHidden(), "unsaved after Take theirs");
    }
    check(patches.length === 2, `a PATCH was sent without a save: ${patches.length}`);

    // Auth and a test script, saved together.
    await page.getByRole("tab", { name: "Authorization" }).click();
    await page.getByLabel("Auth type").selectOption("bearer");
    await page.getByLabel("Token", { exact: true }).fill("tok-123");
    await page.getByRole("tab", { name: "Scripts" }).click();
    await page.getByLabel("Test script").fill("pm.test('ok', () => {});\npm.expect(1).to.equal(1);");
    await page.keyboard.press("Control+s");
    await eventually(async () => (await unsaved.isHidden()) && patches.length === 3, "auth and script were not saved");
    check(patches[2] && JSON.stringify(Object.keys(patches[2].fields).sort()) === '["auth","event"]', `third save sent ${JSON.stringify(patches[2])}`);
    const h = show();
    const bearer = h.auth && Array.isArray(h.auth.bearer) ? h.auth.bearer.find((p) => p.key === "token") : null;
    check(h.auth && h.auth.type === "bearer" && bearer && bearer.value === "tok-123", `saved auth: ${JSON.stringify(h.auth)}`);
    const test = Array.isArray(h.event) ? h.event.find((e) => e.listen === "test") : null;
    check(test && JSON.stringify(test.script.exec) === JSON.stringify(["pm.test('ok', () => {});", "pm.expect(1).to.equal(1);"]), `saved event: ${JSON.stringify(h.event)}`);

    // Path variables: a table in step with the URL's `:name` segments.
    await page.getByRole("tab", { name: "Params" }).click();
    const pv = (name, col) => page.getByLabel(`Path variable ${name} ${col}`, { exact: true });
    check((await page.locator(".ed-vars").count()) === 0, "a path variables table without any `:name` in the URL");
    await urlBox.fill("https://mine.example.com/users/:userId?page=3&sort=asc");
    check(await page.getByRole("table", { name: "Path variables" }).isVisible(), "no path variables table for :userId");
    // By keyboard: type the value, Tab to its description.
    await pv("userId", "value").focus();
    await page.keyboard.type("42");
    await page.keyboard.press("Tab");
    check(await pv("userId", "description").evaluate((e) => e === document.activeElement), "Tab from a variable's value did not reach its description");
    await page.keyboard.type("The user");
    check((await urlBox.inputValue()) === "https://mine.example.com/users/:userId?page=3&sort=asc", `a variable's value changed the URL text: ${await urlBox.inputValue()}`);
    // A segment added in the URL adds a row; one renamed keeps its value; one removed goes.
    await urlBox.fill("https://mine.example.com/users/:userId/orders/:orderId?page=3&sort=asc");
    check((await pv("userId", "value").inputValue()) === "42" && (await pv("userId", "description").inputValue()) === "The user", "the first variable lost its value when the URL grew");
    check((await pv("orderId", "value").inputValue()) === "", "a new variable is not blank");
    await pv("orderId", "value").fill("7");
    await urlBox.fill("https://mine.example.com/users/:userId/orders/:order?page=3&sort=asc");
    check((await pv("orderId", "value").count()) === 0 && (await pv("order", "value").inputValue()) === "7", "a renamed segment did not keep its variable's value");
    await urlBox.fill("https://mine.example.com/users/:userId/orders/:order/lines/:line?page=3&sort=asc");
    await urlBox.fill("https://mine.example.com/users/:userId/orders/:order?page=3&sort=asc");
    check((await pv("line", "value").count()) === 0, "a removed segment kept its row");
    const vars = await page.locator(".ed-vars tbody th").allTextContents();
    check(JSON.stringify(vars) === JSON.stringify([":userId", ":order"]), `path variable rows: ${JSON.stringify(vars)}`);
    const a11y = await checkA11y(page, "path variables");
    failures.push(...a11y);
    await page.locator(".ed").screenshot({ path: path.join(path.dirname(shot), "path-variables.png") });
    await page.keyboard.press("Control+s");
    await eventually(async () => (await unsaved.isHidden()) && patches.length === 4, "the path variables were not saved");
    check(patches[3] && JSON.stringify(Object.keys(patches[3].fields)) === '["url"]', `fourth save sent ${JSON.stringify(patches[3])}`);
    const v = show().url || {};
    const wantVars = [{ key: "userId", value: "42", description: "The user" }, { key: "order", value: "7" }];
    check(Array.isArray(v.variable) && v.variable.map(row).join() === wantVars.map(row).join(), `saved url.variable: ${JSON.stringify(v.variable)}`);
    check(JSON.stringify(v.path) === '["users",":userId","orders",":order"]', `saved url.path: ${JSON.stringify(v.path)}`);
    check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ failures, screenshot: shot }));
  if (failures.length) {
    console.error(failures.join("\n"));
    process.exit(1);
  }
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(2); });
