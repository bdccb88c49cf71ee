//! `GET /api/events`: the web version's live channel, Server-Sent Events as
//! the desktop app sends them, fed by the same hub that feeds devices'
//! WebSockets (and, on PostgreSQL, other processes' pushes through it).

use super::account::{status_of, web_words};
use super::{Ctx, Web, WebState};
use crate::auth::authenticate;
use crate::error::Failure;
use crate::live::{Ending, Handle};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use model::Id;
use protocol::LiveMessage;
use std::convert::Infallible;
use std::sync::Arc;

/// Takes the connection off the hub when the browser goes away.
struct Registered {
    web: Arc<Web>,
    user: Id,
    handle: Handle,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.web.state.hub.remove(self.user, self.handle.id);
    }
}

fn event(name: &str, data: impl Into<String>) -> Result<Event, Infallible> {
    Ok(Event::default().event(name).data(data.into()))
}

/// The stream: `status` at once and `changed` with it (the page looks again
/// after a reconnect), then `changed` whenever a workspace of the account
/// moves; a sign-out elsewhere sends the ended `status` and closes.
pub(super) async fn events(State(web): WebState, ctx: Ctx) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let status = serde_json::to_string(&status_of(&web, &ctx).await).unwrap_or_default();
    let caller = authenticate(&web.state, ctx.token.as_deref()).await.ok();
    let registered = caller.map(|c| Registered { web: web.clone(), user: c.user.id, handle: web.state.hub.add(c.user.id, c.device.num) });
    let first = futures_util::stream::iter([event("status", status), event("changed", "")]);
    let rest = futures_util::stream::unfold((registered, ctx, web), |(registered, ctx, web)| async move {
        // Signed out: nothing to hear, but an open channel keeps the page's
        // EventSource from reconnecting over and over.
        let Some(mut r) = registered else {
            std::future::pending::<()>().await;
            return None;
        };
        loop {
            tokio::select! {
                frame = r.handle.frames.recv() => {
                    let frame = frame?;
                    let which = match serde_json::from_str::<LiveMessage>(&frame) {
                        Ok(LiveMessage::Changes { workspace_id, .. } | LiveMessage::Moved { workspace_id, .. }) => workspace_id.to_string(),
                        Ok(LiveMessage::Workspaces) => "workspaces".to_string(),
                        _ => continue,
                    };
                    return Some((event("changed", which), (Some(r), ctx, web)));
                }
                ended = r.handle.end.changed() => {
                    let ending = ended.ok().and_then(|()| r.handle.end.borrow().clone());
                    let Some(Ending::SignedOut(frame)) = ending else { return None };
                    let reason = match serde_json::from_str::<LiveMessage>(&frame) {
                        Ok(LiveMessage::SignedOut { reason }) => reason,
                        _ => "signed out".to_string(),
                    };
                    let mut status = status_of(&web, &ctx).await;
                    status.ended(format!("This browser was signed out ({}); sign in again.", web_words(&reason)));
                    let data = serde_json::to_string(&status).unwrap_or_default();
                    // Sent, then the stream ends: no connection is left on the hub.
                    return Some((event("status", data), (None, ctx, web)));
                }
            }
        }
    });
    Ok(Sse::new(futures_util::StreamExt::chain(first, rest)).keep_alive(KeepAlive::default()))
}
