//! HTTP requests one CLI-style edit costs: `Device::set`, then the sync
//! `apisync set` runs after it, with nothing else changing anywhere. The
//! device signs in through the counting relay, so every request it makes
//! is counted on the wire.

use super::devices::TestDevice;
use super::figures::RequestsPerEdit;
use super::wire::Relay;
use super::{ChildServer, fields, request_fields};
use model::Kind;
use serde_json::json;

/// Edits counted.
const EDITS: usize = 5;

pub(super) async fn run() -> anyhow::Result<RequestsPerEdit> {
    let server = ChildServer::spawn()?;
    let relay = Relay::start(&server.base).await?;
    let a = TestDevice::signup(&relay.base, "bench-requests").await?;
    let a = &a.device;
    let col = a.create(Kind::Collection, None, None, fields(json!({"name": "Requests"})))?;
    let req = a.create(Kind::Request, Some(col), None, request_fields(1, 0))?;
    a.sync().await?;
    let mut per_edit = Vec::new();
    let mut uncounted = false;
    for i in 0..EDITS {
        relay.reset();
        a.set(req, fields(json!({ "description": format!("edit {i}") })))?;
        a.deliver().await?;
        let seen = relay.seen();
        uncounted |= seen.lost;
        per_edit.push(seen.requests);
    }
    relay.reset();
    a.sync().await?;
    let idle = relay.seen();
    let r = RequestsPerEdit { per_edit, idle_sync: idle.requests, uncounted: uncounted || idle.lost };
    println!("requests: an edit and its sync cost {:?} HTTP requests; a sync with nothing changed {}", r.per_edit, r.idle_sync);
    Ok(r)
}
