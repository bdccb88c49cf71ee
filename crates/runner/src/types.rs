//! The values the sender, the script sandbox and the run loop pass to one
//! another: variable scopes and a received response. A request travels as
//! Postman's v2.1 request JSON (`serde_json::Value`), the shape scripts see as
//! `pm.request` and the shape a request document's fields already have.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One scope's variables, key to value (strings mostly; a script may set any JSON value).
pub type Vars = BTreeMap<String, Value>;

/// The scopes Postman resolves `{{name}}` through, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Globals (`pm.globals`).
    Globals,
    /// The collection's variables (`pm.collectionVariables`).
    Collection,
    /// The active environment (`pm.environment`).
    Environment,
    /// The current iteration's data row (`pm.iterationData`).
    Data,
    /// Set by a script for this request or run (`pm.variables.set`).
    Local,
}

impl Scope {
    /// Strongest first: the order a name is looked up in.
    pub const PRECEDENCE: [Scope; 5] = [Scope::Local, Scope::Data, Scope::Environment, Scope::Collection, Scope::Globals];
}

/// Every scope's variables, as a request or a script sees them: for the
/// environment and globals, the current value where the device has one, else
/// the initial value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scopes {
    /// Globals.
    pub globals: Vars,
    /// The collection's variables.
    pub collection: Vars,
    /// The active environment's variables.
    pub environment: Vars,
    /// The iteration's data row.
    pub data: Vars,
    /// Script-set variables for this request or run.
    pub local: Vars,
}

impl Scopes {
    /// One scope's variables.
    pub fn scope(&self, scope: Scope) -> &Vars {
        match scope {
            Scope::Globals => &self.globals,
            Scope::Collection => &self.collection,
            Scope::Environment => &self.environment,
            Scope::Data => &self.data,
            Scope::Local => &self.local,
        }
    }

    /// One scope's variables, to change.
    pub fn scope_mut(&mut self, scope: Scope) -> &mut Vars {
        match scope {
            Scope::Globals => &mut self.globals,
            Scope::Collection => &mut self.collection,
            Scope::Environment => &mut self.environment,
            Scope::Data => &mut self.data,
            Scope::Local => &mut self.local,
        }
    }

    /// A name's value by Postman's precedence (local, data, environment, collection, globals).
    pub fn get(&self, name: &str) -> Option<&Value> {
        Scope::PRECEDENCE.iter().find_map(|s| self.scope(*s).get(name))
    }
}

/// A response as it arrived: what `pm.response` exposes and history keeps a summary of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The status code.
    pub code: u16,
    /// The reason phrase (`OK`), or the code's canonical one.
    pub status: String,
    /// Headers in the order received; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body as received, after content decoding.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Milliseconds from the first byte sent to the last byte received.
    pub time_ms: f64,
    /// Where the time went, in milliseconds (`dns`, `connect`, `tls`,
    /// `first_byte`, `download`, ...), as far as the sender could measure.
    pub timings: BTreeMap<String, f64>,
    /// The URL answered, after any redirects.
    pub url: String,
    /// The HTTP version (`HTTP/1.1`, `HTTP/2`).
    pub http_version: String,
    /// What went wrong beside the exchange, which still succeeded (the cookie jar could not be saved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Received {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header of that name, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_strongest_scope_wins() {
        let mut s = Scopes::default();
        s.globals.insert("host".into(), json!("g"));
        assert_eq!(s.get("host"), Some(&json!("g")));
        s.environment.insert("host".into(), json!("e"));
        assert_eq!(s.get("host"), Some(&json!("e")));
        s.local.insert("host".into(), json!("l"));
        assert_eq!(s.get("host"), Some(&json!("l")));
        assert_eq!(s.get("missing"), None);
    }
}
