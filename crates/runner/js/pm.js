// The script's world: the `pm` object, legacy globals, console, require,
// timers, and the run's lifecycle the Rust side drives (begin, deliver, tick,
// finish, cleanup). Evaluated once per Sandbox with `api` (sdk.js,
// assertions.js) and `native` (Rust functions reached only through this
// closure, never from a script's global scope).
(function (api, native) {
  'use strict';

  var global = globalThis;
  var inspect = api.inspect;
  var AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  var OFFERED = ['atob', 'btoa', 'chai', 'crypto-js', 'lodash', 'moment', 'uuid'];
  var LIBRARIES = { chai: true, 'crypto-js': true, lodash: true, moment: true, uuid: true };
  var loaded = {};
  var loading = {};
  var run = null;

  function describe(e) {
    if (e !== null && typeof e === 'object' && typeof e.message === 'string') return (e.name || 'Error') + ': ' + e.message;
    return String(e);
  }
  function fail(e) { native.error(describe(e)); }
  function unsupported(name, message) {
    native.unsupported(name);
    throw new Error(name + ' is not supported by apisync\'s script sandbox' + (message ? ' (' + message + ')' : ''));
  }
  api.unsupported = function (name) { native.unsupported(name); };

  // --- libraries, loaded on first use and kept for the Sandbox's life ------
  function load(name) {
    if (loaded[name]) return loaded[name].exports;
    // lodash reads the global `_` while it loads, which would load it again.
    if (loading[name]) return undefined;
    loading[name] = true;
    try { return loadNow(name); } finally { loading[name] = false; }
  }
  function loadNow(name) {
    var module = { exports: {} };
    var factory = new Function('module', 'exports', 'require', 'define', native.library(name));
    var inner = function (n) { throw new Error('module ' + n + ' is not available'); };
    factory.call(module.exports, module, module.exports, inner, undefined);
    loaded[name] = module;
    if (name === 'chai') api.installAssertions(module.exports);
    return module.exports;
  }
  function requireModule(name) {
    name = String(name);
    if (name === 'atob') return api.atob;
    if (name === 'btoa') return api.btoa;
    if (LIBRARIES[name]) return load(name);
    native.unsupported("require('" + name + "')");
    throw new Error("require('" + name + "'): apisync's script sandbox does not offer this module; it offers " + OFFERED.join(', '));
  }

  Object.defineProperty(api.Response.prototype, 'to', {
    configurable: true,
    get: function () { return load('chai').expect(this).to; }
  });

  // --- console -----------------------------------------------------------
  function format(args) {
    var list = Array.prototype.slice.call(args);
    var head = '';
    if (typeof list[0] === 'string' && list[0].indexOf('%') >= 0 && list.length > 1) {
      var rest = list.slice(1);
      head = list[0].replace(/%([sdifjoOc%])/g, function (m, k) {
        if (k === '%') return '%';
        if (!rest.length) return m;
        var v = rest.shift();
        if (k === 's') return typeof v === 'string' ? v : inspect(v);
        if (k === 'd' || k === 'i') return String(k === 'i' ? parseInt(v, 10) : Number(v));
        if (k === 'f') return String(parseFloat(v));
        if (k === 'j') { try { return JSON.stringify(v); } catch (e) { return '[Circular]'; } }
        if (k === 'c') return '';
        return inspect(v, 1);
      });
      list = rest;
      return [head].concat(list.map(function (v) { return inspect(v); })).join(' ');
    }
    return list.map(function (v) { return inspect(v); }).join(' ');
  }
  function logger(level) { return function () { native.log(level, format(arguments)); }; }
  var consoleObject = {
    log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'),
    debug: logger('log'), trace: logger('log'),
    clear: function () {}
  };

  // --- timers: fired in order once the script's synchronous part and its
  // promise jobs are done, on a virtual clock (no real waiting) -------------
  var timerSeq = 0;
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeError('the timer callback must be a function');
    var delay = Math.max(0, Number(ms) || 0);
    var id = ++timerSeq;
    run.timers.push({ id: id, due: run.clock + delay, delay: delay, fn: fn, args: args, repeat: repeat });
    return id;
  }
  function clearTimer(id) {
    if (!run) return;
    run.timers = run.timers.filter(function (t) { return t.id !== id; });
  }
  var timerGlobals = {
    setTimeout: function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2), false); },
    setInterval: function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2), true); },
    setImmediate: function (fn) { return addTimer(fn, 0, Array.prototype.slice.call(arguments, 1), false); },
    clearTimeout: clearTimer, clearInterval: clearTimer, clearImmediate: clearTimer
  };

  // --- crypto.getRandomValues, which uuid and crypto-js need -------------
  var cryptoObject = {
    getRandomValues: function (array) {
      if (!array || typeof array.byteLength !== 'number') throw new TypeError('crypto.getRandomValues needs a typed array');
      if (array.byteLength > 65536) throw new Error('crypto.getRandomValues: at most 65536 bytes at a time');
      var bytes = native.random(array.byteLength);
      var view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (var i = 0; i < view.length; i++) view[i] = bytes[i];
      return array;
    },
    randomUUID: function () { return load('uuid').v4(); }
  };

  // --- variables -----------------------------------------------------------
  function toJson(v) {
    var s;
    try { s = JSON.stringify(v); } catch (e) { throw new TypeError('the variable\'s value cannot be stored: ' + e.message); }
    return s === undefined ? 'null' : s;
  }
  function fromJson(s) { return s === undefined || s === null ? undefined : JSON.parse(s); }
  function variableScope(read, write) {
    var scope = {
      get: function (key) { return fromJson(native.get(read, String(key))); },
      has: function (key) { return native.get(read, String(key)) !== undefined; },
      toObject: function () { return JSON.parse(native.all(read)); },
      replaceIn: function (template) {
        if (template === undefined || template === null) return template;
        return native.replaceIn(read, typeof template === 'string' ? template : JSON.stringify(template));
      }
    };
    scope.toJSON = scope.toObject;
    if (write) {
      scope.set = function (key, value) { native.set(write, String(key), toJson(value)); };
      scope.unset = function (key) { native.unset(write, String(key)); };
      scope.clear = function () { native.clear(write); };
    }
    return scope;
  }
  var iterationData = variableScope('data', null);
  iterationData.unset = function (key) { native.unset('data', String(key)); };

  // --- pm --------------------------------------------------------------------
  function setNextRequest(name) { native.next(name === null || name === undefined ? null : String(name)); }

  function test(name, fn) {
    var index = run.testIndex++;
    name = String(name);
    if (typeof fn !== 'function') { native.test(index, name, true, true, undefined); return; }
    var settled = false;
    function settle(err) {
      if (settled) return;
      settled = true;
      native.test(index, name, !err, false, err ? describe(err) : undefined);
    }
    native.test(index, name, false, false, 'the test did not finish: its promise never settled or done() was never called');
    try {
      if (fn.length > 0) {
        fn(function (err) { settle(err ? (err instanceof Error ? err : new Error(String(err))) : null); });
        return;
      }
      var result = fn();
      if (result && typeof result.then === 'function') {
        result.then(function () { settle(null); }, function (e) { settle(e || new Error('the test\'s promise was rejected')); });
      } else settle(null);
    } catch (e) {
      settle(e);
    }
  }
  test.skip = function (name) { native.test(run.testIndex++, String(name), true, true, undefined); };

  function sendRequest(req, callback) {
    var id = ++run.sendSeq;
    var json;
    if (typeof req === 'string') json = req;
    else {
      var r = req instanceof api.Request ? req : new api.Request(req);
      json = r.toJSON();
      json.url = r.url.toString();
    }
    native.send(id, JSON.stringify(json));
    if (typeof callback === 'function') { run.pending[id] = { callback: callback }; return undefined; }
    return new Promise(function (resolve, reject) { run.pending[id] = { resolve: resolve, reject: reject }; });
  }

  function makePm(input, request, response, cookies) {
    var info = input.info;
    var pm = {
      info: {
        eventName: info.event_name, iteration: info.iteration, iterationCount: info.iteration_count,
        requestName: info.request_name, requestId: info.request_id
      },
      environment: variableScope('environment', 'environment'),
      globals: variableScope('globals', 'globals'),
      collectionVariables: variableScope('collection', 'collection'),
      variables: variableScope('', 'local'),
      iterationData: iterationData,
      request: request,
      response: response,
      cookies: cookies,
      test: test,
      sendRequest: sendRequest,
      visualizer: {
        set: function () { native.unsupported('pm.visualizer.set'); },
        clear: function () { native.unsupported('pm.visualizer.clear'); }
      },
      execution: {
        setNextRequest: setNextRequest,
        skipRequest: function () { unsupported('pm.execution.skipRequest'); },
        location: [info.request_name]
      }
    };
    pm.execution.location.current = info.request_name;
    Object.defineProperty(pm, 'expect', { enumerable: true, get: function () { return load('chai').expect; } });
    Object.defineProperty(pm, 'vault', { get: function () { return unsupported('pm.vault'); } });
    Object.defineProperty(pm, 'require', {
      get: function () { return function (name) { return unsupported('pm.require', 'package library ' + String(name)); }; }
    });
    return pm;
  }

  function makeCookies(list) {
    var cookies = new api.PropertyList(list, false);
    cookies.toObject = function () {
      var out = {};
      this.members.forEach(function (c) { out[c.key] = c.value; });
      return out;
    };
    cookies.jar = function () { return unsupported('pm.cookies.jar'); };
    return cookies;
  }

  // --- legacy (Postman's old sandbox API) ------------------------------------
  function legacyPostman(response) {
    function env(scope) {
      return {
        // As postman-sandbox: truthy values (and false) become their toString(); 0, "" and null stay as they are.
        set: function (k, v) {
          if ((v === false || v) && typeof (v && v.toString) === 'function') { v = v.toString(); }
          native.set(scope, String(k), toJson(v));
        },
        get: function (k) { return fromJson(native.get(scope, String(k))); },
        clear: function (k) { native.unset(scope, String(k)); },
        clearAll: function () { native.clear(scope); }
      };
    }
    var e = env('environment');
    var g = env('globals');
    return {
      setEnvironmentVariable: e.set, getEnvironmentVariable: e.get,
      clearEnvironmentVariable: e.clear, clearEnvironmentVariables: e.clearAll,
      setGlobalVariable: g.set, getGlobalVariable: g.get,
      clearGlobalVariable: g.clear, clearGlobalVariables: g.clearAll,
      setNextRequest: setNextRequest,
      getResponseHeader: function (name) { return response ? response.headers.get(name) : undefined; },
      getResponseCookie: function (name) {
        var c = run.cookies.find(function (x) { return x.key === name; });
        return c ? { name: c.key, value: c.value } : undefined;
      }
    };
  }

  function legacyRequest(request) {
    var headers = {};
    request.headers.each(function (h) { if (!h.disabled) headers[h.key] = h.value; });
    var data = {};
    var body = request.body;
    if (body && (body.mode === 'urlencoded' || body.mode === 'formdata') && body[body.mode]) {
      body[body.mode].each(function (f) { if (!f.disabled) data[f.key] = f.value; });
    } else if (body && body.mode === 'raw') data = body.raw;
    return { id: request.id, name: request.name, url: request.url.toString(), method: request.method, headers: headers, data: data };
  }

  var PER_RUN = ['pm', 'postman', 'tests', 'iteration', 'environment', 'globals', 'data', 'request',
    'responseBody', 'responseCode', 'responseHeaders', 'responseTime', 'responseCookies'];

  function requestState(request) {
    return {
      method: request.method,
      url: JSON.stringify(request.url.toJSON()),
      header: JSON.stringify(request.headers.toJSON()),
      body: JSON.stringify(request.body ? request.body.toJSON() : null)
    };
  }

  // Postman's legacy sandbox gives every string `has` (`responseBody.has("x")`).
  if (typeof String.prototype.has !== 'function') {
    Object.defineProperty(String.prototype, 'has', {
      value: function (part) { return String(this).indexOf(part) > -1; }, writable: true, configurable: true, enumerable: false
    });
  }

  // --- lifecycle, driven from Rust -------------------------------------------
  function begin(inputJson, source) {
    var input = JSON.parse(inputJson);
    run = {
      input: input, testIndex: 0, sendSeq: 0, pending: {}, timers: [], clock: 0,
      cookies: [], request: null, initial: null
    };
    var request = new api.Request(input.request);
    run.request = request;
    run.initial = requestState(request);
    var response;
    if (input.response) {
      response = new api.Response(input.response);
      run.cookies = api.parseCookies(input.response.headers);
    }
    var cookies = makeCookies(run.cookies);
    var pm = makePm(input, request, response, cookies);
    var legacy = {
      pm: pm,
      postman: legacyPostman(response),
      tests: {},
      iteration: input.info.iteration,
      environment: JSON.parse(native.all('environment')),
      globals: JSON.parse(native.all('globals')),
      data: JSON.parse(native.all('data')),
      request: legacyRequest(request)
    };
    if (response) {
      var headers = {};
      input.response.headers.forEach(function (h) { headers[h.key] = h.value; });
      legacy.responseBody = input.response.body;
      legacy.responseCode = { code: response.code, name: response.status, detail: response.status };
      legacy.responseHeaders = headers;
      legacy.responseTime = response.responseTime;
      legacy.responseCookies = run.cookies.map(function (c) { return { name: c.key, value: c.value }; });
    }
    run.tests = legacy.tests;
    for (var i = 0; i < PER_RUN.length; i++) {
      if (Object.prototype.hasOwnProperty.call(legacy, PER_RUN[i])) {
        Object.defineProperty(global, PER_RUN[i], { value: legacy[PER_RUN[i]], writable: true, configurable: true, enumerable: false });
      }
    }
    var fn;
    try {
      fn = new AsyncFunction(source);
    } catch (e) {
      fail(e);
      return;
    }
    fn.call(global).then(null, fail);
  }

  function deliver(id, resultJson) {
    var waiting = run.pending[id];
    delete run.pending[id];
    if (!waiting) return;
    var result = JSON.parse(resultJson);
    var err = result.error === undefined ? null : new Error(result.error);
    var res = result.response ? new api.Response(result.response) : undefined;
    if (waiting.callback) {
      try { waiting.callback(err, res); } catch (e) { fail(e); }
    } else if (err) waiting.reject(err);
    else waiting.resolve(res);
  }

  function tick() {
    if (!run || !run.timers.length) return false;
    var next = 0;
    for (var i = 1; i < run.timers.length; i++) {
      var t = run.timers[i], n = run.timers[next];
      if (t.due < n.due || (t.due === n.due && t.id < n.id)) next = i;
    }
    var timer = run.timers[next];
    run.clock = timer.due;
    if (timer.repeat) timer.due += Math.max(1, timer.delay);
    else run.timers.splice(next, 1);
    try { timer.fn.apply(global, timer.args); } catch (e) { fail(e); }
    return true;
  }

  // The legacy tests object becomes results; the request comes back as the
  // fields the script changed ({} when none), for Rust to lay over the original.
  function finish() {
    var tests = global.tests !== null && typeof global.tests === 'object' ? global.tests : run.tests;
    Object.keys(tests).forEach(function (name) {
      var passed = !!tests[name];
      native.test(run.testIndex++, name, passed, false, passed ? undefined : 'tests[' + JSON.stringify(name) + '] is false');
    });
    var request = run.request;
    var changed = {};
    try {
      var now = requestState(request);
      if (now.method !== run.initial.method) changed.method = String(now.method).toUpperCase();
      if (now.url !== run.initial.url) {
        changed.url = typeof run.input.request.url === 'string' || run.input.request.url === undefined ? request.url.toString() : request.url.toJSON();
      }
      if (now.header !== run.initial.header) changed.header = request.headers.toJSON();
      if (now.body !== run.initial.body) changed.body = request.body ? request.body.toJSON() : null;
    } catch (e) {
      fail(e);
    }
    return JSON.stringify(changed);
  }

  // Whatever a script left on the global object goes; what it replaced comes back.
  var baseline = null;
  function snapshot() {
    baseline = {};
    Object.getOwnPropertyNames(global).forEach(function (name) {
      baseline[name] = Object.getOwnPropertyDescriptor(global, name);
    });
  }
  function same(a, b) {
    return a && b && a.value === b.value && a.get === b.get && a.set === b.set &&
      a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
  }
  function cleanup() {
    run = null;
    Object.getOwnPropertyNames(global).forEach(function (name) {
      if (!Object.prototype.hasOwnProperty.call(baseline, name)) {
        try { delete global[name]; } catch (e) { /* a non-configurable leftover stays; nothing refers to it */ }
      }
    });
    Object.keys(baseline).forEach(function (name) {
      var now = Object.getOwnPropertyDescriptor(global, name);
      if (!same(now, baseline[name])) {
        try { Object.defineProperty(global, name, baseline[name]); } catch (e) { /* non-configurable: left as is */ }
      }
    });
  }

  // --- the globals every script sees -----------------------------------------
  function lazyGlobal(name, library, pick) {
    Object.defineProperty(global, name, {
      configurable: true,
      enumerable: false,
      get: function () { var lib = load(library); return pick ? lib[pick] : lib; },
      set: function (v) { Object.defineProperty(global, name, { value: v, writable: true, configurable: true }); }
    });
  }
  function fixed(name, value) {
    Object.defineProperty(global, name, { value: value, writable: true, configurable: true, enumerable: false });
  }
  fixed('console', consoleObject);
  fixed('require', requireModule);
  fixed('atob', api.atob);
  fixed('btoa', api.btoa);
  fixed('crypto', cryptoObject);
  fixed('xml2Json', function () { return unsupported('xml2Json'); });
  Object.keys(timerGlobals).forEach(function (k) { fixed(k, timerGlobals[k]); });
  lazyGlobal('_', 'lodash');
  lazyGlobal('CryptoJS', 'crypto-js');
  snapshot();

  return { begin: begin, deliver: deliver, tick: tick, finish: finish, cleanup: cleanup };
})
