/*
 * What every browser check of `apisync app` shares: its command-line arguments, and Debian's
 * Chromium driven by playwright-core (never a downloaded browser).
 */
"use strict";

const { chromium } = require("playwright-core");

/** axe-core's script, injected into a page by `checkA11y`. */
const AXE = require.resolve("axe-core/axe.min.js");

/** The value after `--name` on the command line; throws when it is missing. */
function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

/** Headless Debian Chromium ($CHROMIUM, else /usr/bin/chromium). */
function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
}

/** Ends the check: each failure on stderr and exit status 1, or nothing when there are none. */
function finish(failures) {
  if (!failures.length) return;
  for (const f of failures) console.error(`FAIL: ${f}`);
  process.exit(1);
}

/**
 * The page's serious and critical axe-core violations, each as one line naming `name`, the rule
 * and up to three of its elements; [] when there are none. axe is injected with a script tag, so
 * the page's context must be made with `bypassCSP: true` (the app's CSP allows only its own
 * scripts). `options.include` limits the check to one selector (e.g. an open dialog).
 */
async function checkA11y(page, name, options = {}) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (include) => {
    const r = await window.axe.run(include ? { include: [include] } : document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  }, options.include || null);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).join(", ")}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ""}`);
}

/**
 * The steps a Rust test drives: `step(name)` prints `STEP name` and resolves with the next line
 * on stdin (written once the test has done that step); `done()` stops listening, or the open
 * stdin would keep Node running.
 */
function steps() {
  const lines = require("readline").createInterface({ input: process.stdin });
  const queue = [];
  const waiting = [];
  lines.on("line", (l) => (waiting.length ? waiting.shift()(l) : queue.push(l)));
  return {
    step(name) {
      console.log(`STEP ${name}`);
      return new Promise((resolve) => (queue.length ? resolve(queue.shift()) : waiting.push(resolve)));
    },
    done() {
      lines.close();
      process.stdin.destroy();
    },
  };
}

module.exports = { arg, launch, finish, checkA11y, steps };
