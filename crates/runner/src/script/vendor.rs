//! The pure-JS libraries a script may `require`, vendored from their npm
//! packages (see `js/vendor/SOURCES.md`), compiled into the binary so the
//! sandbox reads no files. The sandbox evaluates one only when a script first
//! uses it, once per `Sandbox`.

/// A vendored library's source by the name scripts `require` it by.
pub(super) fn library(name: &str) -> Option<&'static str> {
    Some(match name {
        "chai" => include_str!("../../js/vendor/chai/chai.js"),
        "lodash" => include_str!("../../js/vendor/lodash/lodash.min.js"),
        "moment" => include_str!("../../js/vendor/moment/moment.min.js"),
        "crypto-js" => include_str!("../../js/vendor/crypto-js/crypto-js.js"),
        "uuid" => include_str!("../../js/vendor/uuid/uuid.min.js"),
        _ => return None,
    })
}
