//! The web version's account calls: the status the sync icon shows, and
//! sign-up, sign-in and sign-out, each a `/v1` call whose session token goes
//! into the `HttpOnly` cookie and never to the page.

use super::{Ctx, WebState};
use crate::error::{Body, Failure};
use axum::Json;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use model::Id;
use protocol::{DeviceInfo, ErrorCode, LoginRequest, Me, Session, SignupRequest};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What `GET /api/status` answers: the desktop app's status, as the web
/// version has it (never pending changes or conflicts: each edit is applied
/// on the server when it is made).
#[derive(Serialize)]
pub(super) struct WebStatus {
    /// Tells the page it is the web version.
    web: bool,
    state: &'static str,
    reason: Option<String>,
    pending: u64,
    conflicts: u64,
    user: Option<String>,
    device: Option<String>,
    server: String,
    /// Signed out (the page shows the sign-in, there is no scratch pad here).
    scratch_pad: bool,
    last_synced_at: Option<i64>,
}

impl WebStatus {
    /// The status after the session was ended elsewhere, saying why.
    pub(super) fn ended(&mut self, reason: String) {
        self.state = "error";
        self.reason = Some(reason);
    }

    fn new(ctx: &Ctx, state: &'static str, reason: Option<String>) -> WebStatus {
        WebStatus {
            web: true,
            state,
            reason,
            pending: 0,
            conflicts: 0,
            user: None,
            device: None,
            server: ctx.host.clone(),
            scratch_pad: false,
            last_synced_at: None,
        }
    }
}

/// The browser's status: signed out, in sync, or the reason its session ended.
pub(super) async fn status_of(web: &super::Web, ctx: &Ctx) -> WebStatus {
    if ctx.token.is_none() {
        return WebStatus { scratch_pad: true, ..WebStatus::new(ctx, "offline", Some("Signed out: sign in to use apisync here.".into())) };
    }
    match web.get::<Me>(ctx, "/v1/me").await {
        Ok(me) => WebStatus {
            user: Some(me.user.username),
            device: Some(me.device.name),
            last_synced_at: Some(crate::now_ms()),
            ..WebStatus::new(ctx, "in_sync", None)
        },
        // A session the server does not know (or a deleted account) is
        // simply signed out; one that was ended says why.
        Err(f) if matches!(f.error.code, ErrorCode::Unauthorized | ErrorCode::AccountDeleted) => {
            WebStatus { scratch_pad: true, ..WebStatus::new(ctx, "offline", Some(format!("Signed out: {}", web_words(&f.error.message)))) }
        }
        Err(f) => WebStatus::new(ctx, "error", Some(web_words(&f.error.message))),
    }
}

/// The server's messages name the CLI's way to sign in; here it is the page's.
pub(super) fn web_words(message: &str) -> String {
    message.replace(" with `apisync login`", "").replace("`apisync login`", "Sign in")
}

/// `GET /api/status`.
pub(super) async fn status(axum::extract::State(web): WebState, ctx: Ctx) -> Json<WebStatus> {
    Json(status_of(&web, &ctx).await)
}

/// The body of `POST /api/account/signup`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Signup {
    email: String,
    username: String,
    password: String,
    #[serde(default)]
    device_name: Option<String>,
}

/// The body of `POST /api/account/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Login {
    user: String,
    password: String,
    #[serde(default)]
    device_name: Option<String>,
    /// Sign this device of the account out to make room.
    #[serde(default)]
    replace: Option<Id>,
}

/// This browser as a device: the name the person gave, else one made from
/// its user agent ("Web: Chrome on Linux").
fn device(ctx: &Ctx, name: Option<String>) -> DeviceInfo {
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| browser_name(&ctx.user_agent));
    DeviceInfo { id: Id::now_v7(), name }
}

fn browser_name(ua: &str) -> String {
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(mark, _)| ua.contains(mark))
        .map_or("a browser", |(_, name)| name);
    let os = [("Windows", "Windows"), ("Mac OS", "macOS"), ("Android", "Android"), ("iPhone", "iOS"), ("Linux", "Linux")]
        .into_iter()
        .find(|(mark, _)| ua.contains(mark))
        .map(|(_, name)| format!(" on {name}"))
        .unwrap_or_default();
    format!("Web: {browser}{os}")
}

/// The answer to a sign-in: the account and status, with the cookie.
async fn signed_in(web: &super::Web, mut ctx: Ctx, session: Session) -> Response {
    // A browser signing in again leaves no stale device behind.
    if let Some(old) = ctx.token.replace(session.token.clone())
        && old != session.token
    {
        let old_ctx = Ctx { token: Some(old), ..ctx.clone() };
        let _ = web.call(&old_ctx, Method::POST, "/v1/auth/logout", None).await;
    }
    let cookie = ctx.start_session(&session.token, web.state.config.session_idle_timeout);
    let status = status_of(web, &ctx).await;
    let mut res = Json(json!({ "user": session.user.username, "status": status })).into_response();
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res
}

/// `POST /api/account/signup`: creates the account; this browser is its first device.
pub(super) async fn signup(axum::extract::State(web): WebState, ctx: Ctx, Body(b): Body<Signup>) -> Result<Response, Failure> {
    let req = SignupRequest { email: b.email, username: b.username, password: b.password, device: device(&ctx, b.device_name) };
    let session: Session = web.send(&ctx, Method::POST, "/v1/auth/signup", &req).await?;
    Ok(signed_in(&web, ctx, session).await)
}

/// `POST /api/account/login`: this browser becomes one of the account's
/// devices; at the limit, the refusal lists the devices (409 `device_limit`)
/// and `replace` signs one of them out to make room.
pub(super) async fn login(axum::extract::State(web): WebState, ctx: Ctx, Body(b): Body<Login>) -> Result<Response, Failure> {
    let req = LoginRequest { user: b.user, password: b.password, device: device(&ctx, b.device_name), replace_device: b.replace };
    let session: Session = web.send(&ctx, Method::POST, "/v1/auth/login", &req).await.map_err(|mut f| {
        // The server's words name the CLI's way out; the page lists the
        // devices with a button each.
        if f.error.code == ErrorCode::DeviceLimit {
            f.error.message = "this account already has 3 devices signed in: sign one of them out to sign in here \
                               (below, or from one of those devices)"
                .into();
        }
        f
    })?;
    Ok(signed_in(&web, ctx, session).await)
}

/// `POST /api/account/logout`: ends the session on the server (freeing its
/// device slot) and in the browser. Nothing is kept in the browser, so
/// nothing can be lost by it.
pub(super) async fn logout(axum::extract::State(web): WebState, ctx: Ctx) -> Response {
    let ended = match ctx.token {
        Some(_) => web.call(&ctx, Method::POST, "/v1/auth/logout", None).await.map(drop),
        None => Ok(()),
    };
    let mut res = match ended {
        // A session the server already ended is signed out all the same.
        Ok(()) => Json(json!({ "signed_out": true })).into_response(),
        Err(f)
            if matches!(
                f.error.code,
                ErrorCode::Unauthorized | ErrorCode::SessionRevoked | ErrorCode::SessionExpired | ErrorCode::AccountDeleted
            ) =>
        {
            Json(json!({ "signed_out": true })).into_response()
        }
        Err(f) => return f.into_response(),
    };
    res.headers_mut().insert(header::SET_COOKIE, ctx.end_session());
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
