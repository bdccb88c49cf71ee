// Postman's response assertions (pm.response.to.have.status(200), ...) as a
// chai plugin, the way chai-postman adds them; the messages follow its
// wording so results read as they do in Postman. `api.installAssertions(chai)`
// runs once, when chai is first loaded.
(function (api) {
  'use strict';

  function pathGet(obj, path) {
    var keys = String(path).replace(/\[(\w+)\]/g, '.$1').split('.').filter(function (k) { return k !== ''; });
    var cur = obj;
    for (var i = 0; i < keys.length; i++) {
      if (cur === null || typeof cur !== 'object' || !(keys[i] in cur)) return { found: false };
      cur = cur[keys[i]];
    }
    return { found: true, value: cur };
  }

  api.installAssertions = function (chai) {
    var Assertion = chai.Assertion;
    var utils = chai.util;

    function response(assertion) {
      var r = assertion._obj;
      if (!(r instanceof api.Response)) {
        throw new chai.AssertionError('expected ' + utils.inspect(r) + ' to be a response (pm.response or a pm.sendRequest response)');
      }
      return r;
    }

    Assertion.addMethod('status', function (expected) {
      var r = response(this);
      if (typeof expected === 'number') {
        this.assert(r.code === expected,
          'expected response to have status code #{exp} but got #{act}',
          'expected response to not have status code #{act}', expected, r.code);
      } else {
        this.assert(r.status === expected,
          'expected response to have status reason #{exp} but got #{act}',
          'expected response to not have status reason #{act}', expected, r.status);
      }
    });

    Assertion.addMethod('header', function (name, value) {
      var r = response(this);
      var has = r.headers.has(name);
      if (arguments.length < 2) {
        this.assert(has,
          'expected response to have header with key #{exp}',
          'expected response to not have header with key #{exp}', name);
        return;
      }
      var actual = r.headers.get(name);
      this.assert(has && actual === value,
        "expected '" + name + "' response header to be #{exp} but got #{act}",
        "expected '" + name + "' response header to not be #{act}", value, actual);
    });

    Assertion.addMethod('body', function (content) {
      var r = response(this);
      var text = r.text();
      if (arguments.length === 0) {
        this.assert(text.length > 0, 'expected response to have content in body', 'expected response to not have content in body');
      } else if (content instanceof RegExp) {
        this.assert(content.test(text), 'expected response body text to match #{exp} but got #{act}',
          'expected response body text to not match #{exp}', content, text);
      } else if (typeof content === 'string') {
        this.assert(text === content, 'expected response body to equal #{exp} but got #{act}',
          'expected response body to not equal #{exp}', content, text);
      } else {
        var json;
        try { json = JSON.parse(text); } catch (e) { json = undefined; }
        this.assert(utils.eql(json, content), 'expected response body json to equal #{exp} but got #{act}',
          'expected response body json to not equal #{exp}', content, json, true);
      }
    });

    Assertion.addMethod('jsonBody', function (path, value) {
      var r = response(this);
      var json, error;
      try { json = JSON.parse(r.text()); } catch (e) { error = e; }
      if (arguments.length === 0) {
        this.assert(!error, 'expected response body to be a valid json but got error #{act}',
          'expected response body to not be a valid json', undefined, error && error.message);
        return;
      }
      if (error) {
        this.assert(false, 'expected response body to be a valid json but got error #{act}', '', undefined, error.message);
        return;
      }
      if (typeof path === 'object' && path !== null && arguments.length === 1) {
        this.assert(utils.eql(json, path), 'expected response body json to equal #{exp} but got #{act}',
          'expected response body json to not equal #{exp}', path, json, true);
        return;
      }
      var got = pathGet(json, path);
      if (arguments.length === 1) {
        this.assert(got.found, "expected #{act} in response to contain property '" + path + "'",
          "expected #{act} in response to not contain property '" + path + "'", undefined, json);
        return;
      }
      this.assert(got.found && utils.eql(got.value, value),
        "expected response to have property '" + path + "' of #{exp}, but got #{act}",
        "expected response to not have property '" + path + "' of #{act}", value, got.value, true);
    });

    Assertion.addMethod('jsonSchema', function () {
      api.unsupported('pm.response.to.have.jsonSchema');
      throw new Error('pm.response.to.have.jsonSchema is not supported by apisync\'s script sandbox (no JSON Schema validator is offered)');
    });

    function statusClass(name, test, wording) {
      var check = function () {
        var r = response(this);
        this.assert(test(r.code), 'expected response code to be ' + wording + ' but found #{act}',
          'expected response code to not be ' + wording + ' but found #{act}', undefined, r.code);
      };
      if (name in Assertion.prototype) {
        Assertion.overwriteProperty(name, function (_super) {
          return function () {
            if (this._obj instanceof api.Response) check.call(this);
            else _super.call(this);
          };
        });
      } else {
        Assertion.addProperty(name, check);
      }
    }
    statusClass('info', function (c) { return c >= 100 && c < 200; }, '1XX');
    statusClass('success', function (c) { return c >= 200 && c < 300; }, '2XX');
    statusClass('redirection', function (c) { return c >= 300 && c < 400; }, '3XX');
    statusClass('clientError', function (c) { return c >= 400 && c < 500; }, '4XX');
    statusClass('serverError', function (c) { return c >= 500 && c < 600; }, '5XX');
    statusClass('error', function (c) { return c >= 400 && c < 600; }, '4XX or 5XX');
    statusClass('ok', function (c) { return c === 200; }, '200');
    statusClass('accepted', function (c) { return c === 202; }, '202');
    statusClass('badRequest', function (c) { return c === 400; }, '400');
    statusClass('unauthorized', function (c) { return c === 401; }, '401');
    statusClass('forbidden', function (c) { return c === 403; }, '403');
    statusClass('notFound', function (c) { return c === 404; }, '404');
    statusClass('rateLimited', function (c) { return c === 429; }, '429');

    Assertion.addProperty('json', function () {
      var r = response(this);
      var ok = true;
      try { JSON.parse(r.text()); } catch (e) { ok = false; }
      this.assert(ok, 'expected response body to be a valid json', 'expected response body to not be a valid json');
    });

    Assertion.addProperty('withBody', function () {
      var r = response(this);
      this.assert(r.text().length > 0, 'expected response to have content in body', 'expected response to not have content in body');
    });
  };
})
