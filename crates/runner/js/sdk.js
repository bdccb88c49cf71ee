// The objects scripts see as pm.request, pm.response and their lists, shaped
// like postman-collection's (PropertyList, Url, Request, Response) so real
// collections' scripts work, written small: only what scripts use.
// Evaluated once per Sandbox; fills `api` for pm.js and assertions.js.
(function (api) {
  'use strict';

  function isObject(v) { return v !== null && typeof v === 'object'; }

  // --- PropertyList: headers, query, form fields, path variables --------
  function normalizeItem(item) {
    if (typeof item === 'string') {
      // "Key: value" as headers are written by hand.
      var at = item.indexOf(':');
      return at < 0 ? { key: item.trim(), value: '' } : { key: item.slice(0, at).trim(), value: item.slice(at + 1).trim() };
    }
    if (!isObject(item)) return { key: String(item), value: '' };
    var out = {};
    for (var k in item) if (Object.prototype.hasOwnProperty.call(item, k) && typeof item[k] !== 'function') out[k] = item[k];
    if (out.key === undefined && out.name !== undefined) out.key = out.name;
    return out;
  }

  function PropertyList(items, caseInsensitive) {
    Object.defineProperty(this, '_ci', { value: !!caseInsensitive });
    this.members = [];
    var list = Array.isArray(items) ? items : (isObject(items) ? Object.keys(items).map(function (k) { return { key: k, value: items[k] }; }) : []);
    for (var i = 0; i < list.length; i++) this.members.push(normalizeItem(list[i]));
  }
  PropertyList.prototype._same = function (a, b) {
    if (a === undefined || a === null || b === undefined || b === null) return false;
    return this._ci ? String(a).toLowerCase() === String(b).toLowerCase() : String(a) === String(b);
  };
  PropertyList.prototype._index = function (key) {
    for (var i = 0; i < this.members.length; i++) if (this._same(this.members[i].key, key)) return i;
    return -1;
  };
  PropertyList.prototype.all = function () { return this.members.slice(); };
  PropertyList.prototype.count = function () { return this.members.length; };
  PropertyList.prototype.idx = function (i) { return this.members[i]; };
  PropertyList.prototype.one = function (key) {
    var i = this._index(key);
    return i < 0 ? undefined : this.members[i];
  };
  PropertyList.prototype.get = function (key) {
    for (var i = 0; i < this.members.length; i++) {
      var m = this.members[i];
      if (this._same(m.key, key) && !m.disabled) return m.value;
    }
    return undefined;
  };
  PropertyList.prototype.has = function (key, value) {
    if (isObject(key)) { value = key.value; key = key.key; }
    for (var i = 0; i < this.members.length; i++) {
      var m = this.members[i];
      if (this._same(m.key, key) && (arguments.length < 2 || m.value === value)) return true;
    }
    return false;
  };
  PropertyList.prototype.add = function (item) {
    if (item === undefined || item === null) return;
    this.members.push(normalizeItem(item));
  };
  PropertyList.prototype.append = PropertyList.prototype.add;
  PropertyList.prototype.prepend = function (item) { this.members.unshift(normalizeItem(item)); };
  PropertyList.prototype.upsert = function (item) {
    if (item === undefined || item === null) return;
    var n = normalizeItem(item);
    var i = this._index(n.key);
    if (i < 0) { this.members.push(n); return true; }
    // The existing key's spelling stays: only the value and other fields change.
    for (var k in n) if (k !== 'key') this.members[i][k] = n[k];
    return false;
  };
  PropertyList.prototype.remove = function (predicate, context) {
    var self = this;
    var match;
    if (typeof predicate === 'function') match = function (m) { return predicate.call(context, m); };
    else if (isObject(predicate)) match = function (m) { return m === predicate || self._same(m.key, predicate.key); };
    else match = function (m) { return self._same(m.key, predicate); };
    this.members = this.members.filter(function (m) { return !match(m); });
  };
  PropertyList.prototype.clear = function () { this.members = []; };
  PropertyList.prototype.populate = function (items) {
    var list = Array.isArray(items) ? items : [items];
    for (var i = 0; i < list.length; i++) this.add(list[i]);
  };
  PropertyList.prototype.repopulate = function (items) { this.clear(); this.populate(items); };
  PropertyList.prototype.assimilate = function (source) {
    var list = source instanceof PropertyList ? source.members : source;
    for (var i = 0; i < (list || []).length; i++) this.upsert(list[i]);
  };
  PropertyList.prototype.each = function (fn, context) { this.members.slice().forEach(function (m) { fn.call(context, m); }); };
  PropertyList.prototype.map = function (fn, context) { return this.members.map(function (m) { return fn.call(context, m); }); };
  PropertyList.prototype.filter = function (fn, context) { return this.members.filter(function (m) { return fn.call(context, m); }); };
  PropertyList.prototype.find = function (fn, context) { return this.members.find(function (m) { return fn.call(context, m); }); };
  PropertyList.prototype.reduce = function (fn, acc, context) { return this.members.reduce(function (a, m) { return fn.call(context, a, m); }, acc); };
  PropertyList.prototype.indexOf = function (item) {
    return typeof item === 'string' ? this._index(item) : this.members.indexOf(item);
  };
  PropertyList.prototype.toObject = function (excludeDisabled, caseSensitive, multiValue) {
    var out = {};
    for (var i = 0; i < this.members.length; i++) {
      var m = this.members[i];
      if (excludeDisabled && m.disabled) continue;
      var key = this._ci && !caseSensitive ? String(m.key).toLowerCase() : m.key;
      if (multiValue && Object.prototype.hasOwnProperty.call(out, key)) {
        out[key] = [].concat(out[key], m.value);
      } else out[key] = m.value;
    }
    return out;
  };
  PropertyList.prototype.toJSON = function () {
    return this.members.map(function (m) {
      var o = {};
      for (var k in m) if (m[k] !== undefined) o[k] = m[k];
      return o;
    });
  };
  PropertyList.prototype.toString = function () {
    if (this._ci) {
      return this.members.filter(function (m) { return !m.disabled; })
        .map(function (m) { return m.key + ': ' + m.value; }).join('\n');
    }
    return queryString(this.members);
  };

  // --- Url -------------------------------------------------------------
  function queryString(members) {
    return members.filter(function (m) { return !m.disabled; }).map(function (m) {
      var v = m.value;
      return (m.key === undefined || m.key === null ? '' : m.key) + (v === null || v === undefined ? '' : '=' + v);
    }).join('&');
  }

  function parseQuery(s) {
    if (!s) return [];
    return s.split('&').map(function (pair) {
      var at = pair.indexOf('=');
      return at < 0 ? { key: pair, value: null } : { key: pair.slice(0, at), value: pair.slice(at + 1) };
    });
  }

  function parseUrl(raw) {
    var rest = String(raw).trim();
    var out = { raw: String(raw) };
    var hashAt = rest.indexOf('#');
    if (hashAt >= 0) { out.hash = rest.slice(hashAt + 1); rest = rest.slice(0, hashAt); }
    var queryAt = rest.indexOf('?');
    if (queryAt >= 0) { out.query = parseQuery(rest.slice(queryAt + 1)); rest = rest.slice(0, queryAt); }
    var proto = /^([A-Za-z][A-Za-z0-9+.-]*|\{\{[^}]*\}\}):\/\//.exec(rest);
    if (proto) { out.protocol = proto[1]; rest = rest.slice(proto[0].length); }
    var at = rest.indexOf('@');
    var slashAt = rest.indexOf('/');
    if (at >= 0 && (slashAt < 0 || at < slashAt)) {
      var cred = rest.slice(0, at);
      var colon = cred.indexOf(':');
      out.auth = colon < 0 ? { user: cred } : { user: cred.slice(0, colon), password: cred.slice(colon + 1) };
      rest = rest.slice(at + 1);
      slashAt = rest.indexOf('/');
    }
    var hostPort = slashAt < 0 ? rest : rest.slice(0, slashAt);
    var port = /:(\d+|\{\{[^}]*\}\})$/.exec(hostPort);
    if (port) { out.port = port[1]; hostPort = hostPort.slice(0, hostPort.length - port[0].length); }
    out.host = hostPort === '' ? [] : (hostPort.indexOf('{{') >= 0 ? [hostPort] : hostPort.split('.'));
    out.path = slashAt < 0 ? [] : rest.slice(slashAt + 1).split('/');
    return out;
  }

  function Url(input) {
    var o = typeof input === 'string' ? parseUrl(input) : (isObject(input) ? input : parseUrl(''));
    if (!isObject(input) || (input.host === undefined && input.path === undefined && typeof input.raw === 'string')) {
      if (isObject(input) && typeof input.raw === 'string') {
        var parsed = parseUrl(input.raw);
        if (input.variable) parsed.variable = input.variable;
        o = parsed;
      }
    }
    this.protocol = o.protocol;
    this.auth = o.auth;
    this.host = Array.isArray(o.host) ? o.host.slice() : (typeof o.host === 'string' ? o.host.split('.') : []);
    this.port = o.port;
    this.path = Array.isArray(o.path) ? o.path.slice() : (typeof o.path === 'string' ? o.path.replace(/^\//, '').split('/') : []);
    this.hash = o.hash;
    this.query = new PropertyList(o.query || [], false);
    this.variables = new PropertyList(o.variable || [], false);
  }
  Url.parse = parseUrl;
  Url.prototype.getHost = function () { return this.host.join('.'); };
  Url.prototype.getPath = function () { return '/' + this.path.join('/'); };
  Url.prototype.getQueryString = function () { return queryString(this.query.members); };
  Url.prototype.getPathWithQuery = function () {
    var q = this.getQueryString();
    return this.getPath() + (q ? '?' + q : '');
  };
  Url.prototype.getRemote = function () { return this.getHost() + (this.port ? ':' + this.port : ''); };
  Url.prototype.getRaw = function () { return this.toString(); };
  Url.prototype.toString = function () {
    var s = '';
    if (this.protocol) s += this.protocol + '://';
    if (this.auth && this.auth.user !== undefined) s += this.auth.user + (this.auth.password !== undefined ? ':' + this.auth.password : '') + '@';
    s += this.host.join('.');
    if (this.port) s += ':' + this.port;
    if (this.path.length) s += '/' + this.path.join('/');
    var q = this.getQueryString();
    if (this.query.members.some(function (m) { return !m.disabled; })) s += '?' + q;
    if (this.hash !== undefined && this.hash !== null) s += '#' + this.hash;
    return s;
  };
  Url.prototype.update = function (input) {
    var fresh = new Url(input);
    for (var k in fresh) if (Object.prototype.hasOwnProperty.call(fresh, k)) this[k] = fresh[k];
  };
  Url.prototype.addQueryParams = function (params) {
    var list = typeof params === 'string' ? parseQuery(params) : (Array.isArray(params) ? params : [params]);
    for (var i = 0; i < list.length; i++) this.query.add(list[i]);
  };
  Url.prototype.removeQueryParams = function (params) {
    var list = Array.isArray(params) ? params : [params];
    for (var i = 0; i < list.length; i++) this.query.remove(isObject(list[i]) ? list[i].key : list[i]);
  };
  Url.prototype.toJSON = function () {
    var o = { raw: this.toString() };
    if (this.protocol) o.protocol = this.protocol;
    o.host = this.host.slice();
    if (this.port) o.port = this.port;
    o.path = this.path.slice();
    if (this.query.count()) o.query = this.query.toJSON();
    if (this.variables.count()) o.variable = this.variables.toJSON();
    if (this.hash !== undefined && this.hash !== null) o.hash = this.hash;
    return o;
  };

  // --- Request ---------------------------------------------------------
  function RequestBody(o) {
    o = isObject(o) ? o : { mode: 'raw', raw: o === undefined || o === null ? '' : String(o) };
    this.update(o);
  }
  RequestBody.prototype.update = function (o) {
    if (typeof o === 'string') o = { mode: 'raw', raw: o };
    for (var k in o) {
      if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
      if (k === 'urlencoded' || k === 'formdata') this[k] = o[k] instanceof PropertyList ? o[k] : new PropertyList(o[k], false);
      else this[k] = o[k];
    }
  };
  RequestBody.prototype.isEmpty = function () {
    var m = this[this.mode];
    if (m === undefined || m === null) return true;
    if (m instanceof PropertyList) return m.count() === 0;
    return typeof m === 'string' ? m.length === 0 : false;
  };
  RequestBody.prototype.toString = function () {
    if (this.mode === 'raw') return this.raw === undefined ? '' : String(this.raw);
    var m = this[this.mode];
    return m instanceof PropertyList ? queryString(m.members) : (m === undefined ? '' : JSON.stringify(m));
  };
  RequestBody.prototype.toJSON = function () {
    var o = {};
    for (var k in this) {
      if (!Object.prototype.hasOwnProperty.call(this, k) || this[k] === undefined) continue;
      o[k] = this[k] instanceof PropertyList ? this[k].toJSON() : this[k];
    }
    return o;
  };

  function Request(json) {
    json = isObject(json) ? json : { url: json === undefined || json === null ? '' : String(json) };
    var self = this;
    var url, body, headers;
    Object.defineProperty(this, 'url', {
      enumerable: true,
      get: function () { return url; },
      set: function (v) { url = v instanceof Url ? v : new Url(v); }
    });
    Object.defineProperty(this, 'headers', {
      enumerable: true,
      get: function () { return headers; },
      set: function (v) { headers = v instanceof PropertyList ? v : new PropertyList(v, true); }
    });
    Object.defineProperty(this, 'body', {
      enumerable: true,
      get: function () { return body; },
      set: function (v) { body = v === undefined || v === null || v instanceof RequestBody ? v : new RequestBody(v); }
    });
    this.id = json.id;
    this.name = json.name;
    this.method = String(json.method || 'GET').toUpperCase();
    this.url = json.url === undefined ? '' : json.url;
    this.headers = json.header || [];
    this.body = json.body;
    this.auth = json.auth;
    this.description = json.description;
    void self;
  }
  Request.prototype.addHeader = function (h) { this.headers.add(h); };
  Request.prototype.upsertHeader = function (h) { this.headers.upsert(h); };
  Request.prototype.removeHeader = function (key) { this.headers.remove(isObject(key) ? key.key : key); };
  Request.prototype.getHeaders = function (options) {
    var out = {};
    var ignoreCase = options && options.ignoreCase;
    this.headers.each(function (h) {
      if (h.disabled && !(options && options.enabled === false)) return;
      var k = ignoreCase ? String(h.key).toLowerCase() : h.key;
      out[k] = Object.prototype.hasOwnProperty.call(out, k) ? [].concat(out[k], h.value) : h.value;
    });
    return out;
  };
  Request.prototype.forEachHeader = function (fn, context) {
    this.headers.each(function (h) { if (!h.disabled) fn.call(context, h); });
  };
  Request.prototype.addQueryParams = function (p) { this.url.addQueryParams(p); };
  Request.prototype.removeQueryParams = function (p) { this.url.removeQueryParams(p); };
  Request.prototype.toJSON = function () {
    var o = { method: this.method, header: this.headers.toJSON(), url: this.url.toJSON() };
    if (this.body !== undefined && this.body !== null) o.body = this.body.toJSON();
    if (this.auth !== undefined) o.auth = this.auth;
    return o;
  };

  // --- Response --------------------------------------------------------
  function jsonParse(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      var err = new SyntaxError('JSONError: ' + e.message + ' (the response body is not valid JSON)');
      err.name = 'JSONError';
      throw err;
    }
  }

  function Response(r) {
    this.code = r.code;
    this.status = r.status;
    this.headers = new PropertyList(r.headers, true);
    this.responseTime = r.time;
    this.responseSize = r.size;
    Object.defineProperty(this, '_text', { value: r.body });
    Object.defineProperty(this, '_json', { value: undefined, writable: true });
    this.url = r.url;
    this.httpVersion = r.http_version;
    this.timings = r.timings;
  }
  Response.prototype.text = function () { return this._text; };
  Response.prototype.json = function (reviver) {
    if (reviver) return JSON.parse(this._text, reviver);
    if (this._json === undefined) this._json = { v: jsonParse(this._text) };
    // A fresh copy each time, as Postman parses anew: a script may mutate what it got.
    return this._json.v === null || typeof this._json.v !== 'object' ? this._json.v : JSON.parse(JSON.stringify(this._json.v));
  };
  Response.prototype.reason = function () { return this.status; };
  Response.prototype.size = function () { return { body: this.responseSize, header: 0, total: this.responseSize }; };
  Response.prototype.contentInfo = function () {
    var ct = this.headers.get('Content-Type') || '';
    return { contentType: ct, mimeType: ct.split(';')[0].trim() };
  };
  Response.prototype.dataURI = function () { return 'data:' + (this.headers.get('Content-Type') || 'text/plain') + ',' + encodeURIComponent(this._text); };
  Response.prototype.toJSON = function () {
    return { code: this.code, status: this.status, header: this.headers.toJSON(), body: this._text, responseTime: this.responseTime };
  };

  // Set-Cookie lines as {name, value, ...} (attributes kept by name).
  function parseCookies(headers) {
    var out = [];
    for (var i = 0; i < headers.length; i++) {
      if (String(headers[i].key).toLowerCase() !== 'set-cookie') continue;
      var parts = String(headers[i].value).split(';');
      var eq = parts[0].indexOf('=');
      if (eq < 1) continue;
      var c = { key: parts[0].slice(0, eq).trim(), name: parts[0].slice(0, eq).trim(), value: parts[0].slice(eq + 1).trim() };
      for (var j = 1; j < parts.length; j++) {
        var a = parts[j].split('=');
        var an = a[0].trim().toLowerCase();
        if (!an) continue;
        c[an === 'max-age' ? 'maxAge' : an === 'httponly' ? 'httpOnly' : an] = a.length > 1 ? a.slice(1).join('=').trim() : true;
      }
      out.push(c);
    }
    return out;
  }

  // --- console formatting, roughly Node's util.inspect -------------------
  function inspect(v, depth) {
    depth = depth || 0;
    if (v === undefined) return 'undefined';
    if (v === null) return 'null';
    if (typeof v === 'string') return depth ? JSON.stringify(v) : v;
    if (typeof v === 'function') return '[Function: ' + (v.name || '(anonymous)') + ']';
    if (typeof v === 'symbol' || typeof v === 'bigint') return String(v);
    if (typeof v !== 'object') return String(v);
    if (v instanceof Error) return v.stack ? v.name + ': ' + v.message + '\n' + v.stack.replace(/\n$/, '') : v.name + ': ' + v.message;
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof PropertyList || v instanceof Url || v instanceof Request || v instanceof Response) {
      try { return JSON.stringify(v); } catch (e) { return String(v); }
    }
    if (depth > 4) return Array.isArray(v) ? '[Array]' : '[Object]';
    try {
      if (Array.isArray(v)) return '[ ' + v.map(function (x) { return inspect(x, depth + 1); }).join(', ') + ' ]';
      var keys = Object.keys(v);
      if (!keys.length) return '{}';
      return '{ ' + keys.map(function (k) {
        var key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
        return key + ': ' + inspect(v[k], depth + 1);
      }).join(', ') + ' }';
    } catch (e) {
      return String(v);
    }
  }

  // --- atob / btoa (Latin-1, as browsers) --------------------------------
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function btoa(input) {
    var s = String(input);
    var out = '';
    for (var i = 0; i < s.length; i += 3) {
      var a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw new Error('btoa: the string has characters outside Latin-1; encode it first (e.g. CryptoJS.enc.Utf8)');
      var n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
    }
    return out;
  }
  function atob(input) {
    var s = String(input).replace(/[\s=]+/g, '').replace(/-/g, '+').replace(/_/g, '/');
    if (/[^A-Za-z0-9+/]/.test(s) || s.length % 4 === 1) throw new Error('atob: the string is not valid base64');
    var out = '';
    var bits = 0, acc = 0;
    for (var i = 0; i < s.length; i++) {
      acc = (acc << 6) | B64.indexOf(s[i]);
      bits += 6;
      if (bits >= 8) { bits -= 8; out += String.fromCharCode((acc >> bits) & 255); }
    }
    return out;
  }

  api.PropertyList = PropertyList;
  api.Url = Url;
  api.Request = Request;
  api.RequestBody = RequestBody;
  api.Response = Response;
  api.parseCookies = parseCookies;
  api.inspect = inspect;
  api.atob = atob;
  api.btoa = btoa;
  api.jsonParse = jsonParse;
})
