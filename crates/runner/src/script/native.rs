//! The Rust side of one script run that `pm.js` reaches through its private
//! `native` object: variable scopes (kept here, not in JS, so they survive a
//! script that breaks the engine), test results, console lines, unsupported
//! features, the next request, queued `pm.sendRequest`s, randomness and the
//! vendored libraries' sources.

use super::{ConsoleLine, NextRequest, TestResult, vendor};
use crate::types::{Scope, Scopes, Vars};
use crate::vars;
use rquickjs::{Ctx, Exception, Function, Object};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// What one run accumulates; reset at the start of each.
#[derive(Default)]
pub(super) struct RunState {
    pub scopes: Scopes,
    pub changed: BTreeSet<(Scope, String)>,
    /// By `pm.test` call order; `None` only if a slot was never reported.
    pub tests: Vec<Option<TestResult>>,
    pub console: Vec<ConsoleLine>,
    pub unsupported: Vec<String>,
    pub next_request: Option<NextRequest>,
    pub error: Option<String>,
    /// `pm.sendRequest` calls waiting for the host: id and request JSON.
    pub outbox: Vec<(u32, String)>,
    /// Bytes the run has stored on the Rust side (variables, console, results),
    /// which the engine's memory limit doesn't see, and the most it may.
    pub used: usize,
    pub budget: usize,
    pub console_dropped: bool,
}

impl RunState {
    /// Counts `bytes` against the budget; false once it's spent.
    fn spend(&mut self, bytes: usize) -> bool {
        if self.used.saturating_add(bytes) > self.budget {
            return false;
        }
        self.used += bytes;
        true
    }
}

/// The run state shared by the sandbox and its native functions.
pub(super) type Shared = Rc<RefCell<RunState>>;

/// `""` is the merged view (reads by precedence); pm.js only ever passes these names.
fn scope_named(name: &str) -> Option<Scope> {
    match name {
        "globals" => Some(Scope::Globals),
        "collection" => Some(Scope::Collection),
        "environment" => Some(Scope::Environment),
        "data" => Some(Scope::Data),
        "local" => Some(Scope::Local),
        _ => None,
    }
}

fn lookup(scopes: &Scopes, scope: Option<Scope>, name: &str) -> Option<Value> {
    match scope {
        Some(s) => scopes.scope(s).get(name).cloned(),
        None => scopes.get(name).cloned(),
    }
}

fn merged(scopes: &Scopes, scope: Option<Scope>) -> Vars {
    match scope {
        Some(s) => scopes.scope(s).clone(),
        None => {
            let mut out = Vars::new();
            for s in Scope::PRECEDENCE.iter().rev() {
                out.extend(scopes.scope(*s).iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            out
        }
    }
}

/// The object handed to pm.js as `native`.
pub(super) fn install<'js>(ctx: &Ctx<'js>, shared: &Shared) -> rquickjs::Result<Object<'js>> {
    let native = Object::new(ctx.clone())?;
    let c = ctx.clone();

    let s = shared.clone();
    native.set(
        "get",
        Function::new(c.clone(), move |scope: String, name: String| {
            lookup(&s.borrow().scopes, scope_named(&scope), &name).map(|v| v.to_string())
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "set",
        Function::new(c.clone(), move |ctx: Ctx<'js>, scope: String, name: String, json: String| {
            let mut state = s.borrow_mut();
            if !state.spend(name.len() + json.len()) {
                let limit = state.budget;
                return Err(Exception::throw_message(
                    &ctx,
                    &format!("the script stored more variable data than its memory limit of {} allows", super::size_text(limit)),
                ));
            }
            let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
            let scope = scope_named(&scope).unwrap_or(Scope::Local);
            state.scopes.scope_mut(scope).insert(name.clone(), value);
            state.changed.insert((scope, name));
            Ok(())
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "unset",
        Function::new(c.clone(), move |scope: String, name: String| {
            let mut state = s.borrow_mut();
            let scope = scope_named(&scope).unwrap_or(Scope::Local);
            state.scopes.scope_mut(scope).remove(&name);
            state.changed.insert((scope, name));
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "clear",
        Function::new(c.clone(), move |scope: String| {
            let mut state = s.borrow_mut();
            let scope = scope_named(&scope).unwrap_or(Scope::Local);
            let names: Vec<String> = std::mem::take(state.scopes.scope_mut(scope)).into_keys().collect();
            state.changed.extend(names.into_iter().map(|n| (scope, n)));
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "all",
        Function::new(c.clone(), move |scope: String| {
            serde_json::to_string(&merged(&s.borrow().scopes, scope_named(&scope))).unwrap_or_else(|_| "{}".into())
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "replaceIn",
        Function::new(c.clone(), move |scope: String, text: String| {
            let state = s.borrow();
            // `pm.environment.replaceIn` sees only the environment; `pm.variables.replaceIn` every scope.
            match scope_named(&scope) {
                Some(one) => {
                    let mut only = Scopes::default();
                    *only.scope_mut(one) = state.scopes.scope(one).clone();
                    vars::replace_in(&text, &only).0
                }
                None => vars::replace_in(&text, &state.scopes).0,
            }
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "test",
        Function::new(c.clone(), move |index: usize, name: String, passed: bool, skipped: bool, error: Option<String>| {
            let mut state = s.borrow_mut();
            if index >= state.tests.len() {
                if !state.spend(name.len() + error.as_ref().map_or(0, String::len) + 64) {
                    return;
                }
                state.tests.resize(index + 1, None);
            }
            state.tests[index] = Some(TestResult { name, passed, skipped, error });
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "log",
        Function::new(c.clone(), move |level: String, text: String| {
            let mut state = s.borrow_mut();
            if state.spend(text.len() + 16) {
                state.console.push(ConsoleLine { level, text });
            } else if !state.console_dropped {
                state.console_dropped = true;
                state.console.push(ConsoleLine {
                    level: "warn".into(),
                    text: "(further console output dropped: the script's output passed its memory limit)".into(),
                });
            }
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "unsupported",
        Function::new(c.clone(), move |name: String| {
            let mut state = s.borrow_mut();
            if !state.unsupported.contains(&name) {
                state.unsupported.push(name);
            }
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "next",
        Function::new(c.clone(), move |name: Option<String>| {
            s.borrow_mut().next_request = Some(name.map_or(NextRequest::Stop, NextRequest::Name));
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "error",
        Function::new(c.clone(), move |message: String| {
            let mut state = s.borrow_mut();
            if state.error.is_none() {
                state.error = Some(message);
            }
        })?,
    )?;

    let s = shared.clone();
    native.set(
        "send",
        Function::new(c.clone(), move |ctx: Ctx<'js>, id: u32, json: String| {
            let mut state = s.borrow_mut();
            if !state.spend(json.len()) {
                return Err(Exception::throw_message(
                    &ctx,
                    "pm.sendRequest: the script queued more request data than its memory limit allows",
                ));
            }
            state.outbox.push((id, json));
            Ok(())
        })?,
    )?;

    native.set(
        "random",
        Function::new(c.clone(), move |ctx: Ctx<'js>, n: usize| {
            let mut bytes = vec![0u8; n.min(65536)];
            getrandom::fill(&mut bytes)
                .map_err(|e| Exception::throw_message(&ctx, &format!("crypto.getRandomValues: no randomness from the system ({e})")))?;
            rquickjs::Result::Ok(bytes)
        })?,
    )?;

    native.set(
        "library",
        Function::new(c.clone(), move |ctx: Ctx<'js>, name: String| {
            vendor::library(&name)
                .map(str::to_owned)
                .ok_or_else(|| Exception::throw_message(&ctx, &format!("no vendored library named {name}")))
        })?,
    )?;

    Ok(native)
}
