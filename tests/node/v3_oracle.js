#!/usr/bin/env node
/*
 * Postman's own CLI (postman-cli 1.34.0, the binary of the npm package @postman/pm-bin-linux-x64)
 * as the oracle for collections in the v3 directory format ("collections schema 3.0.0").
 *
 *   node v3_oracle.js migrate SRC.json OUTDIR
 *       `postman collection migrate SRC.json -o OUTDIR`; exit 0 when it wrote OUTDIR.
 *   node v3_oracle.js lint DIR
 *       `postman collection lint DIR -r json`; prints {clean, errorCount, warningCount,
 *       filesScanned, diagnostics}; exit 0 only when clean: no error, no warning, and DIR holds
 *       a `.resources/definition.yaml` (lint passes an empty or missing directory).
 *   node v3_oracle.js compare-run ORIGINAL.json V3DIR [--environment ENV.json] [--globals G.json]
 *                                 [--runner-environment ENV] [--runner-globals G]
 *                                 [--env-var KEY=VALUE]... [--records OUT.json]
 *       newman runs ORIGINAL.json and `postman collection run V3DIR` runs the v3 directory, one
 *       after the other, against the same local recording servers (newman_harness.js: newman
 *       through local agents, Postman's runner through HTTP_PROXY/HTTPS_PROXY, with `-k` for the
 *       one-run certificate). Prints a JSON verdict {same, newman, postman, differences} comparing
 *       the recorded requests in order (method, scheme, host, path and query, headers by name
 *       without case, body); exit 0 when they are the same. Both get --environment and
 *       --globals, unless --runner-environment / --runner-globals give the runner other files
 *       (v3 YAML ones: `collection run -e/-g` reads them). --records writes both lists of
 *       requests, as compared, to OUT.json.
 *       When V3DIR is a `.json` file (a v2.1 collection: apisync's export of a v3 import), newman
 *       runs it too, in place of Postman's runner; the verdict's `postman` side is then newman's.
 *   Every subcommand takes `--postman BIN` (default: the binary in this directory's node_modules).
 *
 * Exit codes: 0 yes (migrated, clean, same), 1 no, 2 usage or harness failure, 3 the oracle cannot
 * run on this machine (no binary for this platform, or no network namespace to confine it to).
 *
 * The binary never reaches a network: this script re-executes itself inside a new network
 * namespace (`unshare --net --map-root-user`) whose only interface is loopback, so the binary can
 * reach the recording servers started here and nothing else, and it checks that it is in one
 * before running the binary. Each run of the binary gets a fresh empty HOME (no login: it prints
 * "No authorization data found", and goes on) and an environment holding only PATH, HOME, TMPDIR
 * and, for `run`, the proxy variables.
 *
 * What Postman's runner cannot be made to do like newman here: its dynamic variables
 * ({{$guid}}, {{$timestamp}}, ...) cannot be pinned, so where newman's pinned request has
 * "<$name>" the runner's may have any text (compared as a wildcard); and its own identity headers
 * (user-agent PostmanRuntime/..., a random postman-token) are set aside, as newman's are.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const NETNS_MARK = 'APISYNC_V3_ORACLE_NETNS';
const DEFAULT_POSTMAN = path.join(__dirname, 'node_modules', '@postman', 'pm-bin-linux-x64', 'bin', 'postman');
// migrate and lint take about a second; a slow, shared 2-core machine gets much more.
const SHORT_TIMEOUT_MS = 60000;
const MAX_LISTED_DIFFERENCES = 100;
// The end of the runner's output (its summary and failures) goes into the verdict.
const OUTPUT_KEPT = 4000;

class CannotRun extends Error {}

/*
 * newman_harness.js (which loads newman, and guards this process's network) is loaded only once
 * this process is inside the namespace: the outer process only starts the inner one.
 */
let loadedHarness;
function harness () {
    if (!loadedHarness) { loadedHarness = require('./newman_harness'); }
    return loadedHarness;
}

function usage (msg) {
    if (msg) { console.error(`v3_oracle.js: ${msg}`); }
    console.error('usage: node v3_oracle.js migrate SRC.json OUTDIR\n' +
        '       node v3_oracle.js lint DIR\n' +
        '       node v3_oracle.js compare-run ORIGINAL.json V3DIR [--environment ENV.json] [--globals G.json] [--runner-environment ENV] [--runner-globals G]\n' +
        '                                     [--env-var K=V]... [--records OUT.json]\n' +
        '       (each also takes --postman BIN)');
    process.exit(2);
}

function parseArgs (argv) {
    const args = { positional: [], envVar: [], postman: DEFAULT_POSTMAN };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
        if (a === '--postman') { args.postman = path.resolve(next()); }
        else if (a === '--environment') { args.environment = path.resolve(next()); }
        else if (a === '--globals') { args.globals = path.resolve(next()); }
        else if (a === '--records') { args.records = path.resolve(next()); }
        else if (a === '--runner-environment') { args.runnerEnvironment = path.resolve(next()); }
        else if (a === '--runner-globals') { args.runnerGlobals = path.resolve(next()); }
        else if (a === '--env-var') {
            const kv = next();
            const eq = kv.indexOf('=');
            if (eq < 1) { usage(`--env-var takes KEY=VALUE, not ${kv}`); }
            args.envVar.push({ key: kv.slice(0, eq), value: kv.slice(eq + 1) });
        }
        else if (a.startsWith('--')) { usage(`unknown option ${a}`); }
        else { args.positional.push(a); }
    }
    const [command, ...rest] = args.positional;
    const arity = { migrate: 2, lint: 1, 'compare-run': 2 }[command];
    if (arity === undefined) { usage(command ? `unknown subcommand ${command}` : 'a subcommand is required'); }
    if (rest.length !== arity) { usage(`${command} takes ${arity} path(s)`); }
    const runOnly = [args.environment, args.globals, args.runnerEnvironment, args.runnerGlobals, args.records];
    if (command !== 'compare-run' && (runOnly.some(Boolean) || args.envVar.length)) {
        usage('--environment, --globals, --runner-environment, --runner-globals, --env-var and --records are for compare-run');
    }
    return { ...args, command, paths: rest.map((p) => path.resolve(p)) };
}

// ---------------------------------------------------------------------------------------------
// Confinement

/** Whether this process sees no network interface but loopback. */
function loopbackOnly () {
    return Object.values(os.networkInterfaces()).flat().every((i) => i.internal);
}

/**
 * Runs this script again inside a new network namespace with loopback up, and exits with its
 * code. Throws CannotRun when no namespace can be made here.
 */
function reexecConfined (argv) {
    const probe = spawnSync('unshare', ['--net', '--map-root-user', '--', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
        const why = probe.error ? probe.error.message : (probe.stderr || '').trim() || `exit ${probe.status}`;
        throw new CannotRun(`cannot make a network namespace to confine postman in (unshare --net --map-root-user; ip link set lo up): ${why}`);
    }
    const r = spawnSync('unshare', ['--net', '--map-root-user', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"',
        process.execPath, __filename, ...argv], { stdio: 'inherit', env: { ...process.env, [NETNS_MARK]: '1' } });
    if (r.error) { throw r.error; }
    process.exit(r.status === null ? 2 : r.status);
}

/** The binary, or CannotRun when this platform has none or it is not installed. */
function postmanBinary (bin) {
    if (bin === DEFAULT_POSTMAN && (process.platform !== 'linux' || process.arch !== 'x64')) {
        throw new CannotRun(`@postman/pm-bin-linux-x64 is for linux x64, this is ${process.platform} ${process.arch}`);
    }
    if (!fs.existsSync(bin)) {
        throw new CannotRun(`${bin} is missing: run scripts/install-test-deps.sh`);
    }
    return bin;
}

/**
 * Runs the binary with a fresh empty HOME and TMPDIR (removed afterwards) and only the
 * environment given; `cwd` defaults to that HOME, so reports it may write land there too.
 */
async function postman (bin, args, { env = {}, cwd, timeoutMs = SHORT_TIMEOUT_MS } = {}) {
    if (!loopbackOnly()) { throw new Error('refusing to run postman outside a loopback-only network namespace'); }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'apisync-v3-oracle-home-'));
    try {
        const tmp = path.join(home, 'tmp');
        fs.mkdirSync(tmp);
        return await harness().runProcess(bin, args, { env: { PATH: process.env.PATH, HOME: home, TMPDIR: tmp, ...env },
            cwd: cwd || home, timeoutMs });
    }
    finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------------------------------------
// Subcommands

async function migrate (bin, [src, out]) {
    // migrate renames its staging directory to OUTDIR, which fails (ENOENT) when OUTDIR's parent is missing.
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const r = await postman(bin, ['collection', 'migrate', src, '-o', out]);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code === 0 && fs.existsSync(path.join(out, '.resources', 'definition.yaml')) ? 0 : 1;
}

/** Postman's lint report of one directory, with `clean` added. */
async function lintReport (bin, dir) {
    const r = await postman(bin, ['collection', 'lint', dir, '-r', 'json']);
    let report;
    for (const text of [r.stdout, r.stderr]) {
        const start = text.indexOf('{');
        if (start < 0) { continue; }
        try { report = JSON.parse(text.slice(start)); break; }
        catch (e) { /* the other stream, or no report */ }
    }
    if (!report || typeof report.errorCount !== 'number') {
        return { clean: false, error: `postman collection lint printed no JSON report (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 500)}` };
    }
    // lint passes an empty or missing directory, and counts only request files in filesScanned
    // (0 for a collection without requests): a collection directory is one with a definition.
    if (!fs.existsSync(path.join(dir, '.resources', 'definition.yaml'))) {
        report.error = 'no .resources/definition.yaml: not a collection directory';
    }
    report.clean = r.code === 0 && report.errorCount === 0 && report.warningCount === 0 && !report.error;
    return report;
}

async function lint (bin, [dir]) {
    const report = await lintReport(bin, dir);
    const { clean, errorCount, warningCount, filesScanned, diagnostics, error } = report;
    console.log(JSON.stringify({ dir, clean, errorCount, warningCount, filesScanned, diagnostics, error }, null, 2));
    return clean ? 0 : 1;
}

/** newman's value with each pinned "<$name>" as a wildcard: whether `theirs` fits it. */
function fitsPinned (pinned, theirs) {
    if (typeof pinned !== 'string' || typeof theirs !== 'string' || !/<\$[A-Za-z]+>/.test(pinned)) { return false; }
    const parts = pinned.split(/<\$[A-Za-z]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${parts.join('[\\s\\S]*?')}$`).test(theirs);
}

/**
 * A comparable record with its headers as {name: [values in order]}, so that a difference names
 * the header (`headers.content-type`) instead of shifting every header after it.
 */
function byHeaderName (record) {
    const headers = {};
    for (const [k, v] of record.headers) { (headers[k] = headers[k] || []).push(v); }
    return { ...record, headers };
}

/** The runner's record with what fits newman's pinned dynamic variables taken as newman's. */
function reconcileDynamic (ours, theirs) {
    const take = (a, b) => (fitsPinned(a, b) ? a : b);
    const headers = {};
    for (const [k, values] of Object.entries(theirs.headers)) {
        headers[k] = values.map((v, i) => take((ours.headers[k] || [])[i], v));
    }
    return { ...theirs, url: take(ours.url, theirs.url), body: take(ours.body, theirs.body), headers };
}

/** The CLOCK_DEPENDENT_QUERY entry whose fixture name ends `file`'s path, if any. */
function clockQuery (file, table) {
    const key = Object.keys(table).find((k) => file.split(path.sep).join('/').endsWith(`/${k}`));
    return key ? table[key] : [];
}

async function compareRun (bin, [originalFile, v3dir], args) {
    const h = harness();
    let original = h.readJson(originalFile);
    if (h.originalFormat(original) === 'v1') { original = await h.toV21(original); }
    const workingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apisync-v3-oracle-work-'));
    const servers = await h.startServers({ tls: true });
    try {
        const c = { environment: args.environment, globals: args.globals, envVar: args.envVar };
        const a = await h.runNewman(h.withoutProxies(original).collection, c, workingDir, servers);
        const view = h.runView(a);

        let r;
        let theirs;
        if (v3dir.endsWith('.json')) {
            // A v2.1 file on the other side (apisync's export of a v3 import): newman runs both.
            const b = await h.runNewman(h.withoutProxies(h.readJson(v3dir)).collection, c, workingDir, servers);
            r = { code: 0, signal: null, stdout: '', stderr: h.runView(b).error || '' };
            theirs = b.records;
        }
        else {
            const runArgs = ['collection', 'run', v3dir, '-k', '--ignore-redirects', '--disable-unicode',
                '--timeout', String(h.RUN_TIMEOUT_MS), '--timeout-request', String(h.REQUEST_TIMEOUT_MS),
                '--working-dir', workingDir, '--no-insecure-file-read'];
            const [environment, globals] = [args.runnerEnvironment || args.environment, args.runnerGlobals || args.globals];
            if (environment) { runArgs.push('-e', environment); }
            if (globals) { runArgs.push('-g', globals); }
            for (const { key, value } of args.envVar) { runArgs.push('--env-var', `${key}=${value}`); }
            const proxy = { HTTP_PROXY: servers.proxy, HTTPS_PROXY: servers.proxy, http_proxy: servers.proxy,
                https_proxy: servers.proxy, NO_PROXY: '', no_proxy: '' };
            r = await postman(bin, runArgs, { env: proxy, cwd: workingDir, timeoutMs: h.RUN_TIMEOUT_MS + 30000 });
            theirs = servers.take();
        }

        // Only newman's agents reach a server with an unresolved host; a real client fails to resolve it.
        const reached = (records) => records.filter((x) => !h.UNRESOLVED_HOST.test(x.host || ''));
        const clock = clockQuery(originalFile, h.CLOCK_DEPENDENT_QUERY);
        const left = h.comparable(reached(a.records), clock).map(byHeaderName);
        const right = h.comparable(reached(theirs), clock).map(byHeaderName).map((x, i) => (left[i] ? reconcileDynamic(left[i], x) : x));
        if (args.records) { fs.writeFileSync(args.records, JSON.stringify({ newman: left, postman: right }, null, 2)); }
        // The first difference in each field of each request: one field's difference hides no other's.
        const differences = [];
        for (let i = 0; i < Math.max(left.length, right.length); i++) {
            if (!left[i] || !right[i]) {
                differences.push(h.diff(left[i], right[i], `requests[${i}]`, ['newman', 'postman']));
                continue;
            }
            for (const field of ['method', 'scheme', 'host', 'url', 'headers', 'body']) {
                const d = h.diff(left[i][field], right[i][field], `requests[${i}].${field}`, ['newman', 'postman']);
                if (d) { differences.push(d); }
            }
        }
        const verdict = {
            same: differences.length === 0,
            original: originalFile,
            v3dir,
            newman: { requests: left.length, unresolvedHosts: a.records.length - left.length, error: view.error },
            postman: { requests: right.length, unresolvedHosts: theirs.length - right.length, exit: r.code, signal: r.signal,
                output: `${r.stdout}\n${r.stderr}`.trim().slice(-OUTPUT_KEPT) },
            differences: differences.slice(0, MAX_LISTED_DIFFERENCES),
            moreDifferences: Math.max(0, differences.length - MAX_LISTED_DIFFERENCES)
        };
        console.log(JSON.stringify(verdict, null, 2));
        return verdict.same ? 0 : 1;
    }
    finally {
        await servers.close();
        fs.rmSync(workingDir, { recursive: true, force: true });
    }
}

async function main () {
    const argv = process.argv.slice(2);
    const args = parseArgs(argv);
    const bin = postmanBinary(args.postman);
    if (!loopbackOnly()) {
        if (process.env[NETNS_MARK] === '1') { throw new Error('re-executed in a network namespace, yet it has interfaces other than loopback'); }
        reexecConfined(argv);
    }
    if (args.command === 'migrate') { return migrate(bin, args.paths); }
    if (args.command === 'lint') { return lint(bin, args.paths); }
    return compareRun(bin, args.paths, args);
}

// Until main says otherwise: a run that ends without its verdict must not look like a pass.
process.exitCode = 2;
main().then((code) => process.exit(code), (e) => {
    console.error(`v3_oracle.js: ${e instanceof CannotRun ? e.message : e.stack || e}`);
    process.exit(e instanceof CannotRun ? 3 : 2);
});
