/*
 * Running a collection with newman against local recording servers, shared by check.js (an
 * export runs as its original does) and oracle.js (apisync runs a collection as newman does).
 *
 * No request leaves the machine: newman gets http and https agents whose sockets always connect
 * to a recording server on 127.0.0.1 (port 0), whatever host the request names; another process
 * (apisync) reaches the same servers as its HTTP(S) proxy: plain requests in absolute form, and
 * https through CONNECT to a TLS listener with a test-only self-signed certificate. The Host
 * header still names the original host, so it is compared as well. As a guard, any other TCP
 * connection or DNS lookup made by this process is refused.
 *
 * Loading this module installs the guard and pins newman's dynamic variables, so it must be
 * required before anything loads newman.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const net = require('net');
const dns = require('dns');
const http = require('http');
const https = require('https');
const os = require('os');
const { execFileSync, spawn } = require('child_process');

// ---------------------------------------------------------------------------------------------
// Network guard: only loopback. Installed before newman is loaded.

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

function guardNetwork () {
    for (const key of Object.keys(process.env)) {
        if (/^(https?|all|no)_proxy$/i.test(key)) { delete process.env[key]; }
    }
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (...args) {
        let opts = args[0];
        if (Array.isArray(opts)) { opts = opts[0]; } // internal normalised form
        if (typeof opts !== 'object' || opts === null) {
            opts = typeof args[1] === 'string' ? { port: args[0], host: args[1] } : { port: args[0] };
        }
        if (!opts.path) {
            const host = opts.host || 'localhost';
            if (!LOOPBACK.has(host)) {
                process.nextTick(() => this.destroy(new Error(`recording guard: blocked connection to ${host}:${opts.port}`)));
                return this;
            }
        }
        return connect.apply(this, args);
    };
    const lookup = dns.lookup;
    dns.lookup = function (host, options, cb) {
        if (typeof options === 'function') { cb = options; options = {}; }
        if (!LOOPBACK.has(host)) {
            const err = Object.assign(new Error(`recording guard: blocked DNS lookup of ${host}`), { code: 'ENOTFOUND' });
            return process.nextTick(cb, err);
        }
        return lookup.call(this, host, options, cb);
    };
}

guardNetwork();

/*
 * Dynamic variables ({{$guid}}, {{$timestamp}}, {{$randomInt}}, ...) are random or time-based,
 * so two runs never send the same bytes. Every copy of postman-collection that newman and
 * postman-runtime resolve them with is patched so each resolves to its own name ("<$randomInt>"):
 * the runs then agree exactly, and the comparison still shows where such variables are used.
 * (Scripts calling pm.variables.replaceIn run inside the sandbox's own bundled copy; no fixture
 * does that with dynamic variables.)
 */
function pinDynamicVariables () {
    const seen = new Set();
    const roots = [__dirname, path.dirname(require.resolve('newman/package.json')),
        path.dirname(require.resolve('postman-runtime/package.json', { paths: [require.resolve('newman')] }))];
    // Each copy's superstring module copies the generators when it loads: patch before anything loads it.
    for (const root of roots) {
        let file;
        try {
            file = require.resolve('postman-collection/lib/superstring/dynamic-variables', { paths: [root] });
        }
        catch (e) { continue; }
        if (seen.has(file)) { continue; }
        seen.add(file);
        const generators = require(file);
        for (const [name, g] of Object.entries(generators)) {
            g.generator = () => `<${name}>`;
        }
    }
    return seen.size;
}

const PINNED = pinDynamicVariables();

const transformer = require('postman-collection-transformer');
const newman = require('newman');

const VOLATILE_HEADERS = new Set(['user-agent', 'postman-token', 'host', 'content-length', 'connection',
    'accept-encoding', 'cache-control']);

/** Query parameters a fixture's script computes from the clock: masked before comparing. */
const CLOCK_DEPENDENT_QUERY = {
    // Its folder's pre-request script sets {{sig}} = MD5(key + secret + Date.now()/1000) in the sandbox.
    'postman2openapi/duplicate-query-params.postman.json': ['sig']
};

// A whole newman run: the largest fixture (623 requests) took 32 s on a busy
// 2-core machine and failed at the old 20 s, so the bound leaves room for load.
const RUN_TIMEOUT_MS = 120000;
const REQUEST_TIMEOUT_MS = 5000;
const SCRIPT_TIMEOUT_MS = 5000;

function readJson (file) {
    let text = fs.readFileSync(file, 'utf8');
    if (text.charCodeAt(0) === 0xFEFF) { text = text.slice(1); } // newman strips a BOM too
    return JSON.parse(text);
}

// ---------------------------------------------------------------------------------------------
// Formats

function originalFormat (c) {
    const schema = c && c.info && typeof c.info.schema === 'string' ? c.info.schema : '';
    if (/v2\.1\.\d/.test(schema)) { return 'v2.1'; }
    if (/v2\.0\.\d/.test(schema)) { return 'v2.0'; }
    if (c && (c.info || Array.isArray(c.item))) { return 'v2'; }
    return 'v1';
}

function toV21 (c) {
    const inputVersion = '1.0.0';
    return new Promise((resolve, reject) => {
        // newman 6 converts with { inputVersion: '1.0.0', outputVersion: '2.1.0' } (lib/run/options.js).
        // Two more options here: retainIds keeps item ids, as apisync does, and prioritizeV2 takes a
        // request's scripts from its `events` when it has them, as the Postman app and apisync do
        // (without it, the legacy `tests` / `preRequestScript` texts win even where `events` differ).
        transformer.convert(c, { inputVersion, outputVersion: '2.1.0', retainIds: true, prioritizeV2: true },
            (err, out) => {
            if (err) { reject(err); }
            else { resolve(out); }
        });
    });
}


/** First difference between two JSON values, as "path: a ≠ b", or null; `names` says whose each side is. */
function diff (a, b, at = '$', names = ['original', 'export']) {
    const [left, right] = names;
    if (Array.isArray(a) && Array.isArray(b)) {
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
            if (i >= a.length) { return `${at}[${i}]: only in ${right}: ${short(b[i])}`; }
            if (i >= b.length) { return `${at}[${i}]: only in ${left}: ${short(a[i])}`; }
            const d = diff(a[i], b[i], `${at}[${i}]`, names);
            if (d) { return d; }
        }
        return null;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
        for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
            if (!(k in b)) { return `${at}.${k}: only in ${left}: ${short(a[k])}`; }
            if (!(k in a)) { return `${at}.${k}: only in ${right}: ${short(b[k])}`; }
            const d = diff(a[k], b[k], `${at}.${k}`, names);
            if (d) { return d; }
        }
        return null;
    }
    return JSON.stringify(a) === JSON.stringify(b) ? null : `${at}: ${short(a)} ≠ ${short(b)}`;
}

function short (v) {
    const s = v === undefined ? 'undefined' : JSON.stringify(v);
    return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

// ---------------------------------------------------------------------------------------------
// Recording servers

let arrivals = 0;

/**
 * Records one request and answers it with a fixed echo, so scripts that read the response see the
 * same thing whichever client sent it. A proxied request arrives in absolute form
 * (`GET http://host/path`): it is recorded by its path, as a direct one is.
 */
function recorder (scheme, records) {
    return (req, res) => {
        const seq = arrivals++;
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const headers = [];
            for (let i = 0; i < req.rawHeaders.length; i += 2) {
                const key = req.rawHeaders[i].toLowerCase();
                if (!VOLATILE_HEADERS.has(key) && key !== 'proxy-connection') {
                    headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
                }
            }
            let url = req.url;
            const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(url);
            if (absolute) { url = url.slice(absolute[0].length) || '/'; }
            const rec = maskSignatures(normaliseMultipart({ method: req.method, scheme, host: req.headers.host, url, headers,
                body: Buffer.concat(chunks).toString('latin1') }));
            rec.seq = seq;
            records.push(rec);
            // Header names in lower case, as Node (and postman-echo) give them: clients write their case differently.
            const echo = JSON.stringify({ method: rec.method, url: rec.url,
                headers: Object.fromEntries(rec.headers.map(([k, v]) => [k.toLowerCase(), v])), data: rec.body });
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'connection': 'close' });
            res.end(req.method === 'HEAD' ? undefined : echo);
        });
    };
}

function listen (server) {
    server.on('clientError', (err, socket) => socket.destroy(err));
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server.address().port));
    });
}

/** A self-signed certificate for 127.0.0.1, made for this run only (the TLS listener's). */
function testCertificate () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apisync-recording-tls-'));
    try {
        const key = path.join(dir, 'key.pem');
        const cert = path.join(dir, 'cert.pem');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-days', '1', '-subj', '/CN=apisync recording server', '-keyout', key, '-out', cert], { stdio: 'ignore' });
        return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
    }
    finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The recording servers of one run: `http` (plain requests, and the proxy: CONNECT tunnels to
 * the TLS listener), `https` (plain HTTP for newman's https agent) and `tls` (real TLS, reached
 * through the proxy). Requests are recorded in arrival order, with the scheme the client used.
 */
async function startServers ({ tls = false } = {}) {
    const records = [];
    const plain = http.createServer(recorder('http', records));
    const fakeTls = http.createServer(recorder('https', records));
    const servers = [plain, fakeTls];
    let tlsPort = null;
    if (tls) {
        const secure = https.createServer(testCertificate(), recorder('https', records));
        servers.push(secure);
        tlsPort = await listen(secure);
    }
    // Tunnels are no longer HTTP connections to their server: closing must end them itself.
    const tunnels = new Set();
    plain.on('connect', (req, socket, head) => {
        if (tlsPort === null) { socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'); return; }
        tunnels.add(socket);
        socket.on('close', () => tunnels.delete(socket));
        const upstream = net.connect({ host: '127.0.0.1', port: tlsPort }, () => {
            socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            if (head && head.length) { upstream.write(head); }
            upstream.pipe(socket);
            socket.pipe(upstream);
        });
        const close = () => { upstream.destroy(); socket.destroy(); };
        upstream.on('error', close);
        socket.on('error', close);
    });
    const [httpPort, httpsPort] = [await listen(plain), await listen(fakeTls)];
    return {
        httpPort,
        httpsPort,
        proxy: `http://127.0.0.1:${httpPort}`,
        /** What was received, in arrival order, and forgotten. */
        take () { return records.splice(0).sort((x, y) => x.seq - y.seq).map(({ seq, ...r }) => r); },
        close () {
            for (const t of tunnels) { t.destroy(); }
            return Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
        }
    };
}

/**
 * Signatures that Postman computes from a fresh nonce and the clock differ on every run, so their
 * nonce, timestamp and signature are masked: OAuth 1.0 (header, query or body), Hawk, Akamai
 * EdgeGrid, Digest and AWS Signature v4. The auth parameters they are computed from (keys, secrets,
 * algorithms) are compared exactly by the SDK check, and everything else in the header is compared.
 */
function maskSignatures (rec) {
    const oauth = (v) => v.replace(/(oauth_(?:timestamp|nonce|signature)=)("?)[^"&,]*/g, '$1$2<volatile>');
    rec.url = oauth(rec.url);
    rec.body = oauth(rec.body);
    rec.headers = rec.headers.map(([k, v]) => {
        const key = k.toLowerCase();
        if (key === 'x-amz-date') { return [k, '<volatile>']; }
        if (key !== 'authorization') { return [k, v]; }
        v = oauth(v);
        if (/^Hawk /i.test(v)) { v = v.replace(/\b(ts|nonce|mac)="[^"]*"/g, '$1="<volatile>"'); }
        if (/^EG1-HMAC-SHA256 /i.test(v)) { v = v.replace(/\b(timestamp|nonce|signature)=[^;]*/g, '$1=<volatile>'); }
        if (/^Digest /i.test(v)) { v = v.replace(/\b(cnonce|response|nc)=("?)[^",]*/g, '$1=$2<volatile>'); }
        if (/^AWS4-HMAC-SHA256 /i.test(v)) { v = v.replace(/\bSignature=[0-9a-f]*/g, 'Signature=<volatile>'); }
        return [k, v];
    });
    return rec;
}

/** multipart/form-data boundaries are random: replace them with a fixed token. */
function normaliseMultipart (rec) {
    const ct = rec.headers.find(([k]) => k.toLowerCase() === 'content-type');
    const m = ct && /boundary=("?)([^";]+)\1/i.exec(ct[1]);
    if (m) {
        const b = m[2];
        rec.headers = rec.headers.map(([k, v]) => [k, v.split(b).join('<boundary>')]);
        rec.body = rec.body.split(b).join('<boundary>');
    }
    return rec;
}

/** Agents whose every socket goes to the local server, whatever host the request names. */
function localAgents (httpPort, httpsPort) {
    class ToLocal extends http.Agent {
        createConnection () { return net.connect({ host: '127.0.0.1', port: httpPort }); }
    }
    // An https agent (Node checks the agent's protocol) speaking plain HTTP to the local server:
    // the recording is about what is sent, not about TLS.
    class ToLocalTls extends https.Agent {
        createConnection () { return net.connect({ host: '127.0.0.1', port: httpsPort }); }
    }
    return { http: new ToLocal({ keepAlive: false }), https: new ToLocalTls({ keepAlive: false }) };
}

/**
 * A request's own proxy settings would send it to that proxy, past the local agents (the network
 * guard refuses it). Both files are run without them, identically; that the export keeps them
 * is checked by the SDK comparison, which includes each request's `proxy`.
 */
function withoutProxies (collection) {
    const copy = JSON.parse(JSON.stringify(collection));
    let n = 0;
    const walk = (items) => (Array.isArray(items) ? items : []).forEach((it) => {
        if (it && typeof it === 'object') {
            if (it.request && typeof it.request === 'object' && 'proxy' in it.request) { delete it.request.proxy; n++; }
            walk(it.item);
        }
    });
    walk(copy.item);
    return { collection: copy, removed: n };
}

/**
 * Runs `collection` with newman; `servers` (from startServers) receive its requests. `c` may name
 * an `environment`, `globals` and `data` file and give `envVar` ([{key, value}], as --env-var).
 */
async function runNewman (collection, c, workingDir, servers) {
    const own = !servers;
    if (own) { servers = await startServers(); }
    try {
        const summary = await new Promise((resolve) => {
            newman.run({
                collection,
                environment: c.environment ? readJson(c.environment) : undefined,
                globals: c.globals ? readJson(c.globals) : undefined,
                envVar: c.envVar,
                iterationData: c.data,
                reporters: [],
                insecure: true,
                bail: false,
                color: 'off',
                timeout: RUN_TIMEOUT_MS,
                timeoutRequest: REQUEST_TIMEOUT_MS,
                timeoutScript: SCRIPT_TIMEOUT_MS,
                workingDir,
                insecureFileRead: false,
                ignoreRedirects: true,
                requestAgents: localAgents(servers.httpPort, servers.httpsPort)
            }, (err, s) => resolve({ err, s }));
        });
        return { summary, records: servers.take() };
    }
    finally {
        if (own) { await servers.close(); }
    }
}

function runView (result) {
    const { err, s } = result.summary;
    if (err) { return { error: String(err && err.message || err) }; }
    const run = s.run;
    const stats = {};
    for (const [k, v] of Object.entries(run.stats)) { stats[k] = { total: v.total, failed: v.failed }; }
    const executions = run.executions.map((e) => ({
        item: e.item && e.item.name,
        requestError: e.requestError ? e.requestError.message : undefined,
        assertions: (e.assertions || []).map((a) => `${a.error ? 'FAIL' : 'pass'} ${a.assertion}` +
            (a.error ? `: ${a.error.message}` : ''))
    }));
    const failures = run.failures.map((f) => `${f.error && f.error.name}: ${f.error && f.error.message} @ ${f.source && f.source.name}`);
    return { stats, executions, failures, error: run.error ? String(run.error.message || run.error) : undefined };
}


/** A host still holding an unresolved {{variable}}: only newman's local agents, which ignore the host, reach a server with it. */
const UNRESOLVED_HOST = /\{\{|\}\}/;

/**
 * Records made comparable between two clients: headers by lower-case name, in name order (HTTP/1
 * names have no case; clients order them differently), and the query parameters in `clock`
 * (CLOCK_DEPENDENT_QUERY) masked.
 */
function comparable (records, clock = []) {
    return records.map((r) => {
        let url = r.url;
        for (const q of clock) { url = url.replace(new RegExp(`([?&]${q}=)[^&#]*`, 'g'), '$1<volatile>'); }
        const headers = r.headers.map(([k, v]) => [k.toLowerCase(), v])
            .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        return { method: r.method, scheme: r.scheme, host: r.host, url, headers, body: r.body };
    });
}

/**
 * Runs a program to its end, or kills it after `timeoutMs`; resolves with its exit code, signal and
 * output (never rejects on a non-zero exit). `env` is its whole environment.
 */
function runProcess (bin, args, { env = process.env, cwd, timeoutMs }) {
    return new Promise((resolve, reject) => {
        const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        child.stdout.on('data', (c) => out.push(c));
        child.stderr.on('data', (c) => err.push(c));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', (e) => { clearTimeout(timer); reject(e); });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
        });
    });
}

module.exports = {
    PINNED, CLOCK_DEPENDENT_QUERY, UNRESOLVED_HOST, RUN_TIMEOUT_MS, REQUEST_TIMEOUT_MS, SCRIPT_TIMEOUT_MS,
    readJson, originalFormat, toV21, diff, short, startServers, withoutProxies, runNewman, runView, comparable, runProcess
};
