#!/usr/bin/env node
/*
 * newman as the oracle for `apisync run`.
 *
 *   node oracle.js --apisync BIN --fixtures DIR [--only SUBSTRING] [--json OUT.json]
 *
 * For every collection under DIR (with its `X.postman_environment.json` and
 * `X.postman_globals.json` companions when it has them): newman runs it, then `apisync run` runs it
 * from a fresh profile it was imported into, both against the same recording servers
 * (newman_harness.js: newman through local agents, apisync through HTTP_PROXY/HTTPS_PROXY, with
 * `--insecure` for the one-run certificate). The two must send the same requests (method, scheme,
 * host, path and query, headers by name without case and with the clients' own identity headers
 * aside, body) in the same order, and reach the same test names with the same pass or fail.
 *
 * Two allowances, both for what newman's local agents hide: a request whose host is still an
 * unresolved {{variable}} reaches them only because they ignore the host (on a real network it fails
 * to resolve, as apisync refuses it at once), so it counts as a request error on both sides; and an
 * item without a name is compared by position (apisync's import gives it one).
 *
 * A collection whose scripts use what apisync reports as unsupported is listed with those
 * features, not compared. Exits 1 when a supported collection differs, 2 on a harness failure.
 * Prints one line per collection, then a summary; --json writes every result.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');
// First: it guards the network and pins dynamic variables before newman loads.
const {
    CLOCK_DEPENDENT_QUERY, UNRESOLVED_HOST, readJson, originalFormat, toV21, diff, startServers, withoutProxies, runNewman,
    runView, comparable, runProcess
} = require('./newman_harness');

/*
 * Where apisync knowingly differs from newman, each with its reason. A listed collection that
 * differs is reported as known; one that no longer differs is reported too, so the list shrinks.
 */
const KNOWN_DIFFERENCES = {
    // A v2.0 path variable whose value is an object: newman writes it into the path as
    // "[object Object]"; apisync writes the variable's name, as the URL shows it.
    'postman-collection-rs/tests__fixtures__collection__coverage__v2.0.0-item-group.json': 'path variable given as an object',
    // URLs written "//httpbin.org/post" (no scheme): newman's URL parser loses the host and the
    // request fails; apisync reads them as http://httpbin.org/post, as a browser would.
    'schemas/httpbin.json': 'scheme-relative URLs'
};

// One `apisync` call (an import, a whole run): generous for a loaded 2-core machine.
const APISYNC_TIMEOUT_MS = 120000;

function usage (msg) {
    if (msg) { console.error(`oracle.js: ${msg}`); }
    console.error('usage: node oracle.js --apisync BIN --fixtures DIR [--only SUBSTRING] [--json OUT.json]');
    process.exit(2);
}

function parseArgs (argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
        if (a === '--apisync') { args.apisync = next(); }
        else if (a === '--fixtures') { args.fixtures = next(); }
        else if (a === '--only') { args.only = next(); }
        else if (a === '--json') { args.json = next(); }
        else { usage(`unknown argument ${a}`); }
    }
    if (!args.apisync || !args.fixtures) { usage('--apisync and --fixtures are required'); }
    return args;
}

function walk (dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        const p = path.join(dir, d.name);
        return d.isDirectory() ? walk(p) : [p];
    });
}

/** A collection file (v1 or v2), not an environment, globals, dump, report or schema. */
function isCollection (json) {
    if (!json || typeof json !== 'object' || Array.isArray(json)) { return false; }
    if (json.info && Array.isArray(json.item)) { return true; }
    return Array.isArray(json.requests) && typeof json.name === 'string';
}

function companion (file, suffix) {
    const m = /^(.*)\.postman_collection\.json$/.exec(path.basename(file));
    if (!m) { return undefined; }
    const p = path.join(path.dirname(file), `${m[1]}.${suffix}.json`);
    return fs.existsSync(p) ? p : undefined;
}

function cases (root, only) {
    const out = [];
    for (const file of walk(root).sort()) {
        if (!file.endsWith('.json') || file.includes(`${path.sep}schema${path.sep}`)) { continue; }
        let json;
        try { json = readJson(file); }
        catch (e) { continue; } // not JSON in UTF-8 (an UTF-16 environment): not a collection
        if (!isCollection(json)) { continue; }
        const name = path.relative(root, file);
        if (only && !name.includes(only)) { continue; }
        out.push({ name, file, json, environment: companion(file, 'postman_environment'),
            globals: companion(file, 'postman_globals') });
    }
    return out;
}

/** Runs the binary; resolves with its exit code and output (never rejects on a non-zero exit). */
function apisync (bin, args, env) {
    return runProcess(bin, args, { env: { ...process.env, ...env }, timeoutMs: APISYNC_TIMEOUT_MS });
}

/** The host a newman execution's request named, as newman resolved it. */
function newmanHost (execution) {
    const url = execution && execution.request && execution.request.url;
    try { return url && typeof url.getHost === 'function' ? url.getHost() : ''; }
    catch (e) { return ''; }
}

/** newman's executions as names and outcomes (messages differ between the two by wording). */
function newmanOutcomes (result, view) {
    const raw = (result.summary.s && result.summary.s.run && result.summary.s.run.executions) || [];
    return (view.executions || []).map((e, i) => ({
        item: e.item,
        requestError: !!e.requestError || UNRESOLVED_HOST.test(newmanHost(raw[i])),
        tests: e.assertions.map((a) => a.replace(/^(pass|FAIL) (.*?)(: [\s\S]*)?$/, (m, s, n) => `${s} ${n}`))
    }));
}

function apisyncOutcomes (report, names) {
    return (report.executions || []).map((e, i) => ({
        item: names[i] === undefined ? undefined : e.item && e.item.name,
        requestError: !!e.error,
        tests: (e.tests || []).map((t) => `${t.passed ? 'pass' : 'FAIL'} ${t.name}`)
    }));
}

async function checkCase (c, bin, servers) {
    const out = { name: c.name, status: 'differs', problems: [], unsupported: [] };
    const workingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apisync-oracle-'));
    try {
        let original = c.json;
        if (originalFormat(original) === 'v1') { original = await toV21(original); }
        const collectionName = original.info && original.info.name;
        const a = await runNewman(withoutProxies(original).collection, c, workingDir, servers);
        const view = runView(a);
        if (view.error) { out.problems.push(`newman failed: ${view.error}`); }

        const profile = path.join(workingDir, 'profile');
        const env = { APISYNC_PIN_DYNAMIC_VARIABLES: '1', HTTP_PROXY: servers.proxy, HTTPS_PROXY: servers.proxy,
            http_proxy: servers.proxy, https_proxy: servers.proxy, NO_PROXY: '', no_proxy: '' };
        for (const f of [c.file, c.environment, c.globals].filter(Boolean)) {
            const r = await apisync(bin, ['--profile', profile, 'import', f], env);
            if (r.code !== 0) { throw new Error(`apisync import ${path.basename(f)}: ${r.stderr.trim()}`); }
        }
        const args = ['--profile', profile, 'run', collectionName, '--reporter', 'json', '--insecure'];
        if (c.environment) { args.push('--environment', readJson(c.environment).name); }
        const r = await apisync(bin, args, env);
        let report;
        try { report = JSON.parse(r.stdout); }
        catch (e) { throw new Error(`apisync run printed no JSON report (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`); }
        const records = servers.take();
        out.unsupported = report.unsupported || [];
        out.requests = a.records.length;
        out.tests = view.stats ? view.stats.assertions.total : 0;
        const clock = CLOCK_DEPENDENT_QUERY[c.name] || [];
        const reached = a.records.filter((r) => !UNRESOLVED_HOST.test(r.host || ''));
        const d = diff(comparable(reached, clock), comparable(records, clock), 'requests', ['newman', 'apisync']);
        if (d) { out.problems.push(`requests differ: ${d}`); }
        const theirs = newmanOutcomes(a, view);
        const d2 = diff(theirs, apisyncOutcomes(report, theirs.map((o) => o.item)), 'results', ['newman', 'apisync']);
        if (d2) { out.problems.push(`results differ: ${d2}`); }
        if (out.unsupported.length) { out.status = 'unsupported'; }
        else if (!out.problems.length) { out.status = KNOWN_DIFFERENCES[c.name] ? 'no longer differs' : 'matches'; }
        else if (KNOWN_DIFFERENCES[c.name]) { out.status = 'known'; }
    }
    catch (e) {
        out.status = 'error';
        out.problems.push(e.stack || e.message);
    }
    finally {
        servers.take();
        fs.rmSync(workingDir, { recursive: true, force: true });
    }
    return out;
}

function line (r) {
    const tag = { matches: 'same', differs: 'DIFF', unsupported: 'skip', error: 'ERR ', known: 'knwn',
        'no longer differs': 'NEW ' }[r.status];
    let s = `${tag} ${r.name}`;
    if (r.status === 'known') { s += `  (known: ${KNOWN_DIFFERENCES[r.name]})`; }
    if (r.status === 'no longer differs') { s += `  (listed as a known difference, "${KNOWN_DIFFERENCES[r.name]}", but matches: remove it)`; }
    if (r.requests !== undefined) { s += `  ${r.requests} requests, ${r.tests} tests`; }
    if (r.unsupported.length) { s += `  unsupported: ${r.unsupported.join(', ')}`; }
    return s;
}

async function main () {
    const args = parseArgs(process.argv.slice(2));
    const all = cases(args.fixtures, args.only);
    if (!all.length) { usage(`no collections under ${args.fixtures}`); }
    const servers = await startServers({ tls: true });
    const results = [];
    try {
        // One at a time: both clients' requests land on the same servers, in order.
        for (const c of all) {
            const r = await checkCase(c, args.apisync, servers);
            results.push(r);
            console.log(line(r));
            r.problems.forEach((p) => console.log(`       ${p}`));
        }
    }
    finally {
        await servers.close();
    }
    const count = (s) => results.filter((r) => r.status === s).length;
    const features = {};
    for (const r of results) { for (const f of r.unsupported) { (features[f] = features[f] || []).push(r.name); } }
    console.log(`\n${count('matches')} of ${results.length} fixture collections match newman fully; ` +
        `${count('unsupported')} use what apisync does not support, ${count('known')} differ as listed, ` +
        `${count('differs')} differ, ${count('error')} could not be run`);
    for (const [f, names] of Object.entries(features).sort()) { console.log(`  unsupported: ${f} (${names.join(', ')})`); }
    if (args.json) { fs.writeFileSync(args.json, JSON.stringify({ results, features }, null, 2)); }
    return count('differs') + count('error') + count('no longer differs') ? 1 : 0;
}

// Until main says otherwise: a run that ends without its summary must not look like a pass.
process.exitCode = 2;
main().then((code) => process.exit(code), (e) => {
    console.error(`oracle.js: ${e.stack || e}`);
    process.exit(2);
});
