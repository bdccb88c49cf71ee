#!/usr/bin/env node
/*
 * The app's figures for `apisync bench --app` (crates/apisync/src/bench/app.rs), in Debian's
 * headless Chromium (playwright-core). It measures and prints; it asserts nothing but that the
 * pages work.
 *
 *   node app_bench.js --tree-url URL --requests N --response-url URL --response NAME [--viewer-mib M]
 *        --live-a URL --live-b URL --live-request NAME --edits K [--loads L] [--web-url URL]
 *
 *   tree:     L loads of a workspace of N requests, each from navigation start to the tree's
 *             first rows built and the main thread free again (a task queued then run).
 *   filter:   the filter typed one key at a time ("Request N", then Backspace back to empty):
 *             each from the key's input event to the next frame, rows rebuilt.
 *   response: the saved response NAME (a body as large as a field may be, 1 MiB) selected: until
 *             it shows, and the longest main-thread task meanwhile (PerformanceObserver
 *             "longtask"; none over 50 ms counts as 0); then the page's viewer module given a
 *             body of M MiB (--viewer-mib, default 10), larger than a document may hold.
 *   live:     two contexts, one per app (two profiles, one account, one server), the request
 *             LIVE open in both: K times A saves a new name, B's tree row shows it (seen by a
 *             MutationObserver); from A's save to B's change.
 *   web:      the same between two browser contexts of the web version at URL (`apisync serve`),
 *             a new account signed up and in through the page's own API (--web-url).
 *
 * Each part runs only when its addresses are given. Prints one JSON line: {tree_ms: [...], filter_ms: [...], response: {...}, live_ms: [...], web_live_ms: [...]}.
 */
"use strict";

const { arg, launch } = require("./app_common");

const opt = (name, fallback) => (process.argv.includes(name) ? arg(name) : fallback);
const row = (page, name) => page.locator('#tree [role="treeitem"]', { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });

// Records, from navigation start, when the tree first has rows and when the main thread next runs.
const TREE_TIMER = () => {
  window.__treeTimes = new Promise((resolve) => {
    const watch = () => {
      const tree = document.getElementById("tree");
      if (!tree) { requestAnimationFrame(watch); return; }
      new MutationObserver((_, obs) => {
        if (!tree.querySelector('[role="treeitem"]')) return;
        obs.disconnect();
        const built = performance.now();
        setTimeout(() => resolve({ built, idle: performance.now() }), 0);
      }).observe(tree, { childList: true });
    };
    watch();
  });
};

async function tree(browser, url, loads, requests) {
  const times = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
    await context.addInitScript(TREE_TIMER);
    const page = await context.newPage();
    await page.goto(url);
    const t = await page.evaluate(() => window.__treeTimes);
    times.push(Number(t.idle.toFixed(1)));
    if (i === loads - 1) {
      const filter = await typeFilter(page, requests);
      await context.close();
      return { times, filter };
    }
    await context.close();
  }
  return { times, filter: [] };
}

// Types "Request 9999" into the filter, then deletes it, one key at a time; each key timed from
// its input event to the next frame (the rows are rebuilt in the input handler).
async function typeFilter(page, requests) {
  await page.locator("#tree-filter").focus();
  await page.evaluate(() => {
    window.__keys = [];
    const input = document.getElementById("tree-filter");
    input.addEventListener("input", () => {
      const t0 = performance.now();
      requestAnimationFrame(() => setTimeout(() => window.__keys.push(performance.now() - t0), 0));
    }, { capture: true });
  });
  const text = `Request ${requests}`;
  const keys = [...text].map((ch) => () => page.keyboard.type(ch)).concat([...text].map(() => () => page.keyboard.press("Backspace")));
  for (const key of keys) {
    const before = await page.evaluate(() => window.__keys.length);
    await key();
    await page.waitForFunction((n) => window.__keys.length > n, before);
  }
  return (await page.evaluate(() => window.__keys)).map((x) => Number(x.toFixed(1)));
}

async function response(browser, url, name, viewerMib) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
  const page = await context.newPage();
  await page.goto(url);
  await row(page, name).waitFor({ timeout: 60000 });
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: "longtask" });
  });
  await page.waitForTimeout(300);
  // Stored: from the click through the fetch of the document to the body shown.
  await page.evaluate(() => { window.__long = []; window.__t0 = performance.now(); });
  await row(page, name).click();
  await page.locator("#detail .resp-body").waitFor({ timeout: 60000 });
  const shown = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now() - window.__t0), 0))));
  // Scroll the body: the page must stay responsive.
  await page.locator("#detail .resp-body").evaluate((p) => { p.scrollTop = p.scrollHeight; });
  await page.waitForTimeout(500);
  const stored = await page.evaluate(() => ({
    note: document.querySelector("#detail .resp-size")?.textContent,
    chars_in_page: document.querySelector("#detail .resp-body")?.textContent.length,
    long_tasks: window.__long.map((d) => Number(d.toFixed(1))),
  }));
  // The viewer alone on a body larger than a document may hold (a field is at most 1 MiB):
  // the page's own module given a response of `viewerMib` MiB.
  const viewer = await page.evaluate(async (mib) => {
    const { showResponse } = await import("/response_view.js");
    const line = '{"id": 123456, "name": "a row of the saved response", "ok": true},\n';
    const body = line.repeat(Math.ceil((mib * 1024 * 1024) / line.length));
    await new Promise((r) => setTimeout(r, 300));
    window.__long = [];
    const t0 = performance.now();
    showResponse(document.getElementById("detail"), { kind: "response", fields: { name: "Synthetic", code: 200, status: "OK", body } }, "Synthetic");
    const ms = await new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now() - t0), 0)));
    await new Promise((r) => setTimeout(r, 300));
    return { bytes: body.length, shown_ms: Number(ms.toFixed(1)), note: document.querySelector("#detail .resp-size")?.textContent, long_tasks: window.__long.map((d) => Number(d.toFixed(1))) };
  }, viewerMib);
  await context.close();
  return {
    stored: { shown_ms: Number(shown.toFixed(1)), longest_task_ms: Math.max(0, ...stored.long_tasks), ...stored },
    viewer: { longest_task_ms: Math.max(0, ...viewer.long_tasks), ...viewer },
  };
}

async function live(browser, urlA, urlB, name, edits) {
  const pages = [];
  for (const url of [urlA, urlB]) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const page = await context.newPage();
    await page.goto(url);
    await openRequest(page, name);
    pages.push(page);
  }
  return editLoop(pages, name, edits);
}

async function openRequest(page, name) {
  await row(page, name).waitFor({ timeout: 30000 });
  await row(page, name).click();
  await page.locator(".ed .ed-name").waitFor({ timeout: 10000 });
}

// The web version (`apisync serve` at /): two browser contexts of a new
// account, signed up and in through the page's own API, the same request
// open in both.
async function webLive(browser, url, name, edits) {
  const creds = { email: "bench-web@example.com", username: "benchweb", password: "bench web password" };
  const pages = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.evaluate(async ([c, first, request]) => {
      const post = async (path, body) => {
        const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
        if (!r.ok) throw new Error(`${path}: ${await r.text()}`);
        return r.json();
      };
      if (!first) return post("/api/account/login", { user: c.username, password: c.password });
      await post("/api/account/signup", c);
      const col = await post("/api/docs", { kind: "collection", fields: { name: "Live" } });
      return post("/api/docs", { kind: "request", parent: col.id, fields: { name: request, method: "GET", url: "https://api.example.com/live" } });
    }, [creds, i === 0, name]);
    await page.reload();
    await openRequest(page, name);
    pages.push(page);
  }
  return editLoop(pages, name, edits);
}

// Saves `edits` renames in the first page, each timed until the second page's tree shows it.
async function editLoop(pages, name, edits) {
  const [a, b] = pages;
  const times = [];
  for (let i = 1; i <= edits; i++) {
    const want = `${name} ${i}`;
    // B notes the wall-clock time its tree first shows the new name.
    const seen = b.evaluate((w) => new Promise((resolve) => {
      const tree = document.getElementById("tree");
      const has = () => [...tree.querySelectorAll(".name")].some((n) => n.textContent === w);
      new MutationObserver((_, obs) => {
        if (has()) { obs.disconnect(); resolve(performance.timeOrigin + performance.now()); }
      }).observe(tree, { childList: true, subtree: true, characterData: true });
    }), want);
    await b.waitForTimeout(20);
    const t0 = await a.evaluate((w) => {
      const input = document.querySelector(".ed .ed-name");
      input.value = w;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      const t = performance.timeOrigin + performance.now();
      document.querySelector(".ed .ed-save").click();
      return t;
    }, want);
    const t1 = await Promise.race([seen, new Promise((_, no) => setTimeout(() => no(new Error(`edit ${i} never reached B`)), 20000))]);
    times.push(Number((t1 - t0).toFixed(1)));
    // Let both pages settle (A hears its own edit back) before the next one,
    // after a random pause: a fixed one could fall into step with a poll.
    await a.waitForTimeout(150 + Math.random() * 250);
  }
  return times;
}

async function main() {
  const browser = await launch();
  const out = {};
  try {
    // Each part runs when its addresses are given.
    if (opt("--tree-url")) {
      const t = await tree(browser, arg("--tree-url"), Number(opt("--loads", "5")), Number(arg("--requests")));
      out.tree_ms = t.times;
      out.filter_ms = t.filter;
    }
    if (opt("--response-url")) out.response = await response(browser, arg("--response-url"), arg("--response"), Number(opt("--viewer-mib", "10")));
    if (opt("--live-a")) out.live_ms = await live(browser, arg("--live-a"), arg("--live-b"), arg("--live-request"), Number(opt("--edits", "30")));
    if (opt("--web-url")) out.web_live_ms = await webLive(browser, arg("--web-url"), arg("--live-request"), Number(opt("--edits", "30")));
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
