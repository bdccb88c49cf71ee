//! The HTTP side of the protocol (reqwest): one method per endpoint of
//! `protocol::api`, errors mapped to [`ClientError`].

use crate::ClientError;
use crate::trust::{self, CaCert};
use model::Id;
use protocol::{
    ApiError, Changes, DeviceLimitDetails, Devices, ErrorBody, ErrorCode, LoginRequest, PushRequest, PushResponse, Session, SignupRequest,
    Workspaces,
};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long network calls may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For one whole request.
    pub request: Duration,
}

impl Timeouts {
    /// For explicit commands (sign-in, `sync`, `status`).
    pub const NORMAL: Timeouts = Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(60) };
    /// For the sync that follows an edit: the edit is saved; do not keep the person waiting.
    pub const QUICK: Timeouts = Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(15) };
}

/// Normalises a server URL: a scheme of http or https, no trailing slash.
pub fn normalize_url(url: &str) -> Result<String, ClientError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(ClientError::Invalid(format!(
            "'{url}' is not a server URL; give one like https://apisync.example.com or http://127.0.0.1:8080"
        )));
    }
    Ok(url.to_string())
}

/// A session's HTTP client for the server's API (also what `apisync bench`
/// talks through, so there is one way of speaking the protocol).
#[derive(Clone)]
pub struct Transport {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    /// Counts the requests sent, for [`crate::Device::requests_sent`].
    sent: Option<Arc<AtomicU64>>,
    ca: Option<CaCert>,
}

fn unreachable(e: reqwest::Error) -> ClientError {
    if let Some(why) = trust::untrusted(&e) {
        return ClientError::Untrusted(why);
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    ClientError::Unreachable(msg)
}

/// An HTTP client with these timeouts. Building one sets up TLS, so a
/// device keeps one ([`crate::Device`]) rather than one per call.
pub(crate) fn http_client(t: Timeouts, ca: Option<&CaCert>) -> Result<reqwest::Client, ClientError> {
    // reqwest is built without a bundled crypto provider; use ring's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b =
        reqwest::Client::builder().connect_timeout(t.connect).timeout(t.request).user_agent(concat!("apisync/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca {
        b = b.tls_certs_merge(ca.for_reqwest()?);
    }
    b.build().map_err(|e| ClientError::Io(format!("cannot set up HTTP: {e}")))
}

impl Transport {
    /// A transport to `base` that trusts `ca` besides the system's roots.
    pub fn new(base: &str, token: Option<String>, t: Timeouts, ca: Option<CaCert>) -> Result<Transport, ClientError> {
        Transport::with_client(http_client(t, ca.as_ref())?, base, token, ca)
    }

    /// A transport over an existing client (which keeps its connections),
    /// built by [`http_client`] with the same `ca`.
    pub fn with_client(http: reqwest::Client, base: &str, token: Option<String>, ca: Option<CaCert>) -> Result<Transport, ClientError> {
        Ok(Transport { http, base: normalize_url(base)?, token, sent: None, ca })
    }

    /// Counts each request it sends in `sent`.
    pub fn counted(mut self, sent: Arc<AtomicU64>) -> Transport {
        self.sent = Some(sent);
        self
    }

    /// The private CA this transport trusts, if any.
    pub fn ca(&self) -> Option<&CaCert> {
        self.ca.as_ref()
    }

    /// The server's normalised URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The session token, if signed in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        if let Some(n) = &self.sent {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let resp = r.send().await.map_err(unreachable)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let err = match serde_json::from_str::<ErrorBody>(&body) {
            Ok(b) => b.error,
            Err(_) => {
                let code = match status.as_u16() {
                    401 => ErrorCode::Unauthorized,
                    404 => ErrorCode::NotFound,
                    413 => ErrorCode::PayloadTooLarge,
                    429 => ErrorCode::RateLimited,
                    502..=504 => ErrorCode::Unavailable,
                    s if s >= 500 => ErrorCode::Internal,
                    _ => ErrorCode::BadRequest,
                };
                ApiError::new(code, format!("the server answered {status}"))
            }
        };
        if err.code == ErrorCode::DeviceLimit
            && let Some(d) = err.details.clone().and_then(|d| serde_json::from_value::<DeviceLimitDetails>(d).ok())
        {
            return Err(ClientError::DeviceLimit { devices: d.devices });
        }
        Err(ClientError::Api(err))
    }

    async fn json<T: DeserializeOwned>(&self, r: reqwest::RequestBuilder) -> Result<T, ClientError> {
        let resp = self.send(r).await?;
        let bytes = resp.bytes().await.map_err(unreachable)?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol(format!("{e}")))
    }

    /// `POST /v1/auth/signup`.
    pub async fn signup(&self, body: &SignupRequest) -> Result<Session, ClientError> {
        self.json(self.req(reqwest::Method::POST, "/v1/auth/signup").json(body)).await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, body: &LoginRequest) -> Result<Session, ClientError> {
        self.json(self.req(reqwest::Method::POST, "/v1/auth/login").json(body)).await
    }

    /// `POST /v1/auth/logout`.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::POST, "/v1/auth/logout")).await.map(|_| ())
    }

    /// `GET /v1/devices`.
    pub async fn devices(&self) -> Result<Devices, ClientError> {
        self.json(self.req(reqwest::Method::GET, "/v1/devices")).await
    }

    /// `DELETE /v1/devices/{id}`.
    pub async fn sign_out_device(&self, id: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, &format!("/v1/devices/{id}"))).await.map(|_| ())
    }

    /// `GET /v1/workspaces`.
    pub async fn workspaces(&self) -> Result<Workspaces, ClientError> {
        self.json(self.req(reqwest::Method::GET, "/v1/workspaces")).await
    }

    /// `POST /v1/workspaces/{ws}/push`.
    pub async fn push(&self, ws: Id, body: &PushRequest) -> Result<PushResponse, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/workspaces/{ws}/push")).json(body)).await
    }

    /// `POST /v1/workspaces/{ws}/docs`.
    pub async fn fetch(&self, ws: Id, body: &protocol::DocsRequest) -> Result<protocol::DocsAnswer, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/workspaces/{ws}/docs")).json(body)).await
    }

    /// `GET /v1/workspaces/{ws}/changes`; `restoring` for the pages after
    /// the first of a pull from 0.
    pub async fn changes(&self, ws: Id, after: u64, limit: usize, restoring: bool) -> Result<Changes, ClientError> {
        self.page(ws, after, limit, restoring).await
    }

    /// The same page as [`Transport::changes`], read into `T` (the pull's
    /// own shape, which keeps each document's fields as the server's text).
    pub(crate) async fn page<T: DeserializeOwned>(&self, ws: Id, after: u64, limit: usize, restoring: bool) -> Result<T, ClientError> {
        let q = protocol::ChangesQuery { after, limit: Some(limit), restoring };
        self.json(self.req(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/changes")).query(&q)).await
    }

    /// `GET /v1/teams`.
    pub async fn teams(&self) -> Result<protocol::Teams, ClientError> {
        self.json(self.req(reqwest::Method::GET, "/v1/teams")).await
    }

    /// `POST /v1/teams`.
    pub async fn create_team(&self, body: &protocol::CreateTeam) -> Result<protocol::TeamInfo, ClientError> {
        self.json(self.req(reqwest::Method::POST, "/v1/teams").json(body)).await
    }

    /// `GET /v1/teams/{team}/members`.
    pub async fn team_members(&self, team: Id) -> Result<protocol::TeamMembers, ClientError> {
        self.json(self.req(reqwest::Method::GET, &format!("/v1/teams/{team}/members"))).await
    }

    /// `POST /v1/teams/{team}/invitations`.
    pub async fn invite(&self, team: Id, body: &protocol::Invite) -> Result<protocol::Accepted, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/teams/{team}/invitations")).json(body)).await
    }

    /// `DELETE /v1/teams/{team}/invitations/{invitation}`.
    pub async fn cancel_invitation(&self, team: Id, invitation: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, &format!("/v1/teams/{team}/invitations/{invitation}"))).await.map(|_| ())
    }

    /// `POST /v1/teams/{team}/members`.
    pub async fn set_team_role(&self, team: Id, body: &protocol::Invite) -> Result<protocol::TeamMembers, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/teams/{team}/members")).json(body)).await
    }

    /// `GET /v1/invitations`.
    pub async fn invitations(&self) -> Result<protocol::Invitations, ClientError> {
        self.json(self.req(reqwest::Method::GET, "/v1/invitations")).await
    }

    /// `POST /v1/invitations/{id}/accept`.
    pub async fn accept_invitation(&self, invitation: Id) -> Result<protocol::TeamInfo, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/invitations/{invitation}/accept")).json(&serde_json::json!({}))).await
    }

    /// `POST /v1/invitations/{id}/decline`.
    pub async fn decline_invitation(&self, invitation: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::POST, &format!("/v1/invitations/{invitation}/decline")).json(&serde_json::json!({})))
            .await
            .map(|_| ())
    }

    /// `GET /v1/workspaces/{ws}/shares`.
    pub async fn shares(&self, ws: Id) -> Result<protocol::Shares, ClientError> {
        self.json(self.req(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/shares"))).await
    }

    /// `DELETE /v1/workspaces/{ws}/shares/{team}`.
    pub async fn unshare(&self, ws: Id, team: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, &format!("/v1/workspaces/{ws}/shares/{team}"))).await.map(|_| ())
    }

    /// `DELETE /v1/teams/{team}/members/{user}`.
    pub async fn remove_member(&self, team: Id, user: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, &format!("/v1/teams/{team}/members/{user}"))).await.map(|_| ())
    }

    /// `POST /v1/teams/{team}/leave`.
    pub async fn leave_team(&self, team: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::POST, &format!("/v1/teams/{team}/leave")).json(&serde_json::json!({}))).await.map(|_| ())
    }

    /// `POST /v1/workspaces/{ws}/share`.
    pub async fn share(&self, ws: Id, body: &protocol::Share) -> Result<protocol::WorkspaceInfo, ClientError> {
        self.json(self.req(reqwest::Method::POST, &format!("/v1/workspaces/{ws}/share")).json(body)).await
    }

    /// `POST /v1/auth/password/forgot`.
    pub async fn forgot_password(&self, body: &protocol::ForgotPassword) -> Result<protocol::Accepted, ClientError> {
        self.json(self.req(reqwest::Method::POST, "/v1/auth/password/forgot").json(body)).await
    }

    /// `POST /v1/auth/password/reset`.
    pub async fn reset_password(&self, body: &protocol::ResetPassword) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::POST, "/v1/auth/password/reset").json(body)).await.map(|_| ())
    }

    /// `POST /v1/auth/username/recover`.
    pub async fn recover_username(&self, body: &protocol::RecoverUsername) -> Result<protocol::Accepted, ClientError> {
        self.json(self.req(reqwest::Method::POST, "/v1/auth/username/recover").json(body)).await
    }

    /// `POST /v1/account/password`.
    pub async fn change_password(&self, body: &protocol::ChangePassword) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::POST, "/v1/account/password").json(body)).await.map(|_| ())
    }

    /// `DELETE /v1/workspaces/{ws}`.
    pub async fn delete_workspace(&self, ws: Id) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, &format!("/v1/workspaces/{ws}"))).await.map(|_| ())
    }

    /// `DELETE /v1/account`.
    pub async fn delete_account(&self) -> Result<(), ClientError> {
        self.send(self.req(reqwest::Method::DELETE, "/v1/account")).await.map(|_| ())
    }

    /// The live channel's URL: ws:// or wss:// for http:// or https://.
    pub fn live_url(&self) -> String {
        match self.base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}/v1/live"),
            None => format!("ws://{}/v1/live", self.base.trim_start_matches("http://")),
        }
    }
}
