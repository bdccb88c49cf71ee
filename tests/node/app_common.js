/*
 * What every browser check of `apisync app` shares: its command-line arguments, and Debian's
 * Chromium driven by playwright-core (never a downloaded browser).
 */
"use strict";

const { chromium } = require("playwright-core");

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

module.exports = { arg, launch, finish };
