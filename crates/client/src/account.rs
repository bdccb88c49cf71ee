//! Signing in and out, syncing on demand, devices and status: the verbs of
//! [`Device`] that talk to the server.

use crate::profile::{self, keys};
use crate::state::{self, Status, SyncState};
use crate::store::{self, Store};
use crate::sync::{self, ProgressFn, SyncReport};
use crate::transport::{Transport, normalize_url};
use crate::trust::CaCert;
use crate::{ClientError, Device, conflicts, erase, outbox, scratchpad, time};
use model::Id;
use protocol::{DeviceInfo, DeviceView, ErrorCode, LoginRequest, Session, SignupRequest, User};

/// How to sign in.
#[derive(Clone, Debug, Default)]
pub struct LoginOptions {
    /// The server's URL.
    pub server: String,
    /// Email or username.
    pub user: String,
    /// The password (never logged).
    pub password: String,
    /// This device's name; default: the stored one, else the host name.
    pub device_name: Option<String>,
    /// Sign this other device out to make room when at the device limit.
    pub replace: Option<Id>,
    /// Discard another account's unsynced changes held by this profile.
    pub force: bool,
}

/// How to create an account.
#[derive(Clone, Debug, Default)]
pub struct SignupOptions {
    /// The server's URL.
    pub server: String,
    /// The account's email.
    pub email: String,
    /// The account's username.
    pub username: String,
    /// The password (never logged).
    pub password: String,
    /// This device's name; default: the stored one, else the host name.
    pub device_name: Option<String>,
    /// Discard another account's unsynced changes held by this profile.
    pub force: bool,
}

/// Removes everything of the signed-in account; the scratch pad stays. The
/// rows' old copies stay in the files until [`erase::finish`] runs after
/// this transaction commits; the mark set here makes sure it does.
pub(crate) fn forget_account(conn: &rusqlite::Connection) -> Result<(), ClientError> {
    erase::mark(conn)?;
    for ws in store::workspaces(conn)? {
        if !ws.local_only {
            store::drop_workspace(conn, ws.id)?;
        }
    }
    let local = scratchpad::find(conn)?.map(|w| w.id.to_string()).unwrap_or_default();
    conn.execute("DELETE FROM outbox WHERE workspace_id != ?1", [&local])?;
    conn.execute("DELETE FROM conflicts WHERE workspace_id != ?1", [&local])?;
    conn.execute("DELETE FROM current_values WHERE doc_id NOT IN (SELECT id FROM docs WHERE workspace_id = ?1)", [&local])?;
    for k in [keys::TOKEN, keys::USER, keys::SERVER, keys::CA_CERT] {
        store::meta_delete(conn, k)?;
    }
    state::set(conn, SyncState::Offline, Some("signed out"))
}

/// What `logout --force` threw away.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Discarded {
    /// Unsynced changes.
    pub pending: u64,
    /// Unresolved conflicts, as `#N kind 'title'`.
    pub conflicts: Vec<String>,
}

impl Device {
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Deletes the account's data from this device and erases every old
    /// copy of it from the profile's files.
    pub(crate) fn forget(&self) -> Result<(), ClientError> {
        self.store.write(|tx| forget_account(tx))?;
        self.store.maintain(erase::finish)?;
        self.erase_local_files()
    }

    /// This device's HTTP client for its current timeouts and CA.
    fn http(&self, ca: Option<&CaCert>) -> Result<reqwest::Client, ClientError> {
        let mut cached = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let key = (self.timeouts, ca.map(|c| c.pem().to_string()));
        if let Some((k, c)) = cached.as_ref()
            && *k == key
        {
            return Ok(c.clone());
        }
        let client = crate::transport::http_client(self.timeouts, ca)?;
        *cached = Some((key, client.clone()));
        Ok(client)
    }

    /// The transport of the stored session.
    pub(crate) fn transport(&self) -> Result<Transport, ClientError> {
        let (server, token) = self.store.read(|c| Ok((store::meta_get(c, keys::SERVER)?, store::meta_get(c, keys::TOKEN)?)))?;
        match (server, token) {
            (Some(s), Some(t)) => {
                let ca = self.ca()?;
                Ok(Transport::with_client(self.http(ca.as_ref())?, &s, Some(t), ca)?.counted(self.sent.clone()))
            }
            _ => Err(ClientError::NotSignedIn),
        }
    }

    /// The private CA to trust: the one given to this process, else the one
    /// the profile signed in with.
    pub(crate) fn ca(&self) -> Result<Option<CaCert>, ClientError> {
        if let Some(ca) = &self.ca {
            return Ok(Some(ca.clone()));
        }
        let pem = self.store.read(|c| store::meta_get(c, keys::CA_CERT))?;
        pem.map(|p| CaCert::from_pem(&p, "the CA certificate kept in this profile")).transpose()
    }

    /// Records what a failed network call means for the sync state, and
    /// turns a revoked session into its own error.
    pub(crate) fn note_failure(&self, e: ClientError) -> ClientError {
        if matches!(e, ClientError::SessionEnded) {
            // The state now belongs to the process that ended the session.
            return e;
        }
        let pending = self.pending().unwrap_or(0);
        let (st, reason, e) = match e {
            ClientError::Api(a) if a.code == ErrorCode::AccountDeleted => {
                if pending == 0 {
                    // Nothing of the person's would be lost: the data goes from here too.
                    // An erase left unfinished here is finished at the next open.
                    let _ = self.forget();
                    let reason = "the account was deleted from another device; its data was removed from this device";
                    (SyncState::Offline, reason.to_string(), ClientError::Api(a))
                } else {
                    // Unsent work stays until the person saves or discards it;
                    // the token goes, so nothing more is sent.
                    let _ = self.store.write(|tx| store::meta_delete(tx, keys::TOKEN));
                    let e = ClientError::AccountDeleted { pending };
                    (SyncState::Error, e.to_string(), e)
                }
            }
            ClientError::Api(a) if a.code == ErrorCode::SessionRevoked => {
                // The server says why (signed out elsewhere, password reset or changed).
                let reason = a.message.split(';').next().unwrap_or(&a.message).trim().to_string();
                let e = ClientError::SessionRevoked { pending, reason };
                (SyncState::Error, e.to_string(), e)
            }
            ClientError::Api(a) if matches!(a.code, ErrorCode::Unauthorized | ErrorCode::SessionExpired) => (
                SyncState::Error,
                format!("{}; run `apisync login` to sign in again (your {pending} unsynced changes are kept)", a.message),
                ClientError::Api(a),
            ),
            ClientError::Api(a) if a.code.status() >= 500 => {
                (SyncState::Error, format!("server error: {}", a.message), ClientError::Api(a))
            }
            ClientError::Unreachable(m) => (SyncState::Offline, format!("server unreachable ({m})"), ClientError::Unreachable(m)),
            e => (SyncState::Error, e.to_string(), e),
        };
        let _ = self.store.write(|tx| state::set(tx, st, Some(&reason)));
        e
    }

    pub(crate) fn set_state(&self, st: SyncState, reason: Option<&str>) -> Result<(), ClientError> {
        self.store.write(|tx| state::set(tx, st, reason))
    }

    fn device_info(&self, name: Option<&str>) -> Result<DeviceInfo, ClientError> {
        let name = match name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => self.store.read(profile::device_name)?,
        };
        Ok(DeviceInfo { id: self.device_id()?, name })
    }

    /// Refuses to sign in as `new_user` (email or username, or a known id
    /// after the fact) while another account's changes wait, unless forced.
    fn check_other_account(&self, same: impl Fn(&User) -> bool, force: bool) -> Result<bool, ClientError> {
        let Some(old) = self.user()? else { return Ok(false) };
        if same(&old) {
            return Ok(false);
        }
        let pending = self.pending()?;
        if pending > 0 && !force {
            return Err(ClientError::OtherAccount { other: old.username, pending });
        }
        Ok(true)
    }

    async fn start_session(
        &self,
        t: Transport,
        session: Session,
        device_name: &str,
        force: bool,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<User, ClientError> {
        // A different account than the one whose data this profile holds.
        let other = match self.check_other_account(|u| u.id == session.user.id, force) {
            Ok(o) => o,
            Err(e) => {
                let t = Transport::new(t.base(), Some(session.token.clone()), self.timeouts, t.ca().cloned())?;
                let _ = t.logout().await;
                return Err(e);
            }
        };
        self.store.write(|tx| {
            if other {
                forget_account(tx)?;
            }
            store::meta_set(tx, keys::SERVER, t.base())?;
            // Later syncs trust what this sign-in trusted.
            match t.ca() {
                Some(ca) => store::meta_set(tx, keys::CA_CERT, ca.pem())?,
                None => store::meta_delete(tx, keys::CA_CERT)?,
            }
            store::meta_set(tx, keys::TOKEN, &session.token)?;
            store::meta_set(tx, keys::USER, &serde_json::to_string(&session.user)?)?;
            store::meta_set(tx, keys::DEVICE_NAME, device_name)?;
            sync::store_workspaces(tx, &session.workspaces)?;
            state::set(tx, SyncState::Syncing, None)
        })?;
        // The other account's rows are gone; now their old copies go too.
        self.store.maintain(erase::finish)?;
        if other {
            self.erase_local_files()?;
        }
        // Restore: pull everything from each cursor, then deliver what waits.
        let t = self.transport()?;
        let mut report = SyncReport::default();
        let restore = async {
            sync::pull_all(&self.store, &t, progress, &mut report).await?;
            sync::push_all(&self.store, &t, None, &mut report).await.map(drop)
        };
        match restore.await {
            Ok(()) => self.set_state(SyncState::InSync, None)?,
            Err(e) => return Err(self.note_failure(e)),
        }
        Ok(session.user)
    }

    /// Creates an account on `server`, signs this device in and restores.
    pub async fn signup(&self, o: SignupOptions, progress: Option<ProgressFn<'_>>) -> Result<User, ClientError> {
        let server = normalize_url(&o.server)?;
        self.check_other_account(|u| u.email.eq_ignore_ascii_case(&o.email), o.force)?;
        let device = self.device_info(o.device_name.as_deref())?;
        let name = device.name.clone();
        let t = Transport::new(&server, None, self.timeouts, self.ca()?)?;
        let body = SignupRequest { email: o.email, username: o.username, password: o.password, device };
        let session = t.signup(&body).await?;
        self.start_session(t, session, &name, o.force, progress).await
    }

    /// Signs this device in on `server` and restores its workspaces, then
    /// delivers any changes that waited from an earlier session.
    pub async fn login(&self, o: LoginOptions, progress: Option<ProgressFn<'_>>) -> Result<User, ClientError> {
        let server = normalize_url(&o.server)?;
        let who = o.user.clone();
        self.check_other_account(|u| u.email.eq_ignore_ascii_case(&who) || u.username.eq_ignore_ascii_case(&who), o.force)?;
        let device = self.device_info(o.device_name.as_deref())?;
        let name = device.name.clone();
        let t = Transport::new(&server, None, self.timeouts, self.ca()?)?;
        let body = LoginRequest { user: o.user, password: o.password, device, replace_device: o.replace };
        let session = t.login(&body).await?;
        self.start_session(t, session, &name, o.force, progress).await
    }

    /// Signs out: one sync first; refuses while changes wait unless `force`.
    /// Deletes the account's data from this device and erases it from the
    /// profile's files; the scratch pad stays.
    pub async fn logout(&self, force: bool) -> Result<Discarded, ClientError> {
        // An account deleted elsewhere leaves its user (and data) without a token.
        if !self.is_signed_in()? && self.user()?.is_none() {
            return Err(ClientError::NotSignedIn);
        }
        if !self.offline && self.is_signed_in()? {
            let _ = self.sync().await;
        }
        let pending = self.pending()?;
        if pending > 0 && !force {
            return Err(ClientError::UnsyncedChanges(pending));
        }
        // A conflict's losing edit lives only in the inbox: signing out drops it.
        let conflicts: Vec<String> = self.conflicts()?.iter().map(|c| format!("#{} {} '{}'", c.id, c.kind, c.title)).collect();
        if !conflicts.is_empty() && !force {
            return Err(ClientError::UnresolvedConflicts(conflicts));
        }
        if !self.offline
            && let Ok(t) = self.transport()
        {
            let _ = t.logout().await;
        }
        self.forget()?;
        Ok(Discarded { pending, conflicts })
    }

    /// One sync cycle: push the outbox, learn the workspace list, pull.
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        self.sync_with_progress(None).await
    }

    /// [`Device::sync`], given up after `limit`: the state then says the
    /// server did not answer (not a `connecting` left behind).
    pub async fn sync_within(&self, limit: std::time::Duration) -> Result<SyncReport, ClientError> {
        match tokio::time::timeout(limit, self.sync()).await {
            Ok(r) => r,
            Err(_) => {
                Err(self.note_failure(ClientError::Unreachable(format!("the server did not answer within {} s", limit.as_secs_f64()))))
            }
        }
    }

    /// [`Device::sync`] with a pull-progress callback.
    pub async fn sync_with_progress(&self, progress: Option<ProgressFn<'_>>) -> Result<SyncReport, ClientError> {
        let t = self.transport()?;
        if self.offline {
            return Err(ClientError::Unreachable("offline mode: --offline or APISYNC_OFFLINE=1".into()));
        }
        self.set_state(SyncState::Connecting, None)?;
        // Once the server has answered, what is left is the pull.
        let run = sync::cycle(&self.store, &t, None, progress, || self.set_state(SyncState::Syncing, None));
        self.finish_sync(run.await)
    }

    /// Sends the changes that wait, pulling only workspaces whose answers
    /// show others' changes: what an edit needs, one request when nothing
    /// else changed. [`Device::sync`] also learns of other workspaces.
    pub async fn deliver(&self) -> Result<SyncReport, ClientError> {
        let t = self.transport()?;
        if self.offline {
            return Err(ClientError::Unreachable("offline mode: --offline or APISYNC_OFFLINE=1".into()));
        }
        // In sync with changes waiting already shows as syncing; from any
        // other state, say that this process is trying. Not a durable write
        // before every edit's push.
        if self.store.read(state::get)?.0 != SyncState::InSync {
            self.set_state(SyncState::Syncing, None)?;
        }
        self.finish_sync(sync::deliver(&self.store, &t).await)
    }

    /// Records how a sync ended.
    fn finish_sync(&self, result: Result<SyncReport, ClientError>) -> Result<SyncReport, ClientError> {
        match result {
            Ok(r) => {
                self.talked.store(true, std::sync::atomic::Ordering::Relaxed);
                self.set_state(SyncState::InSync, None)?;
                Ok(r)
            }
            Err(e) => Err(self.note_failure(e)),
        }
    }

    /// The status without touching the network: what this process last
    /// learned, or a running watcher's news, else `offline` (nothing is
    /// talking to the server), never `in_sync` with changes waiting.
    pub fn local_status(&self) -> Result<Status, ClientError> {
        let signed_in = self.is_signed_in()?;
        let user = self.user()?;
        let talked = self.talked.load(std::sync::atomic::Ordering::Relaxed);
        self.store.read(|c| {
            let (stored, stored_reason, at) = state::get_with_time(c)?;
            let pending = outbox::count(c)?;
            let watching = state::watching(c)?;
            let (st, reason) = state::shown(state::Seen {
                stored,
                reason: stored_reason,
                age_ms: time::now_ms() - at,
                pending,
                signed_in,
                offline: self.offline,
                fresh: talked || watching,
                account_kept: user.is_some(),
            });
            Ok(Status {
                state: st,
                reason,
                pending,
                conflicts: conflicts::count(c)?,
                user: user.map(|u| u.username),
                device: profile::device_name(c)?,
                device_id: profile::device_id(c)?,
                server: if signed_in { store::meta_get(c, keys::SERVER)? } else { None },
                scratch_pad: !signed_in,
                watching,
                last_synced_at: state::last_synced_at(c)?,
            })
        })
    }

    /// Syncs once (when signed in and not offline), then reports the status.
    /// A failed sync is reported in the status, not as an error.
    pub async fn status(&self) -> Result<Status, ClientError> {
        if self.is_signed_in()? && !self.offline {
            let _ = self.sync().await;
        }
        self.local_status()
    }

    /// The account's signed-in devices.
    pub async fn devices(&self) -> Result<Vec<DeviceView>, ClientError> {
        let t = self.transport()?;
        t.devices().await.map(|d| d.devices).map_err(|e| self.note_failure(e))
    }

    /// Signs another device of the account out.
    pub async fn sign_out_device(&self, id: Id) -> Result<(), ClientError> {
        let t = self.transport()?;
        t.sign_out_device(id).await.map_err(|e| self.note_failure(e))
    }
}
