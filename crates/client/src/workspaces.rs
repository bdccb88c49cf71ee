//! Workspaces from the device: create, rename (both local edits that sync
//! like any other) and delete (a call to the server, owner only).

use crate::store::{self, Workspace};
use crate::{ClientError, Device, edit, outbox};
use model::Id;

impl Device {
    /// Creates a workspace (signed in only); it reaches the server at the
    /// next sync. A name the account already has (trimmed, any case) is
    /// refused unless `allow_duplicate`.
    pub fn create_workspace(&self, name: &str, allow_duplicate: bool) -> Result<Id, ClientError> {
        if !self.is_signed_in()? {
            return Err(ClientError::Invalid("signed out, this device has only the scratch pad; sign in to create workspaces".into()));
        }
        self.store.write(|tx| edit::create_workspace(tx, name, allow_duplicate))
    }

    /// Renames a workspace (name or id); returns it as it was. A name the
    /// account already has is refused unless `allow_duplicate`.
    pub fn rename_workspace(&self, which: &str, name: &str, allow_duplicate: bool) -> Result<Workspace, ClientError> {
        let ws = self.resolve_workspace(Some(which))?;
        self.store.write(|tx| edit::rename_workspace(tx, &ws, name, allow_duplicate))?;
        Ok(ws)
    }

    /// Deletes a workspace (name or id) on the server, for everyone: only its
    /// owner may. Its data leaves this device at once, and every other device
    /// that had it drops it when the server tells it (live, or at its next
    /// sync). Returns it as it was.
    pub async fn delete_workspace(&self, which: &str) -> Result<Workspace, ClientError> {
        let ws = self.resolve_workspace(Some(which))?;
        if ws.local_only {
            return Err(ClientError::Invalid(format!(
                "'{}' is the local scratch pad, not a workspace of the account; `apisync scratchpad` saves or moves it",
                ws.name
            )));
        }
        let t = self.transport()?;
        if self.is_offline() {
            return Err(ClientError::Unreachable(
                "offline mode: deleting a workspace needs the server; drop --offline / APISYNC_OFFLINE".into(),
            ));
        }
        // A workspace created here and not sent yet reaches the server first,
        // so that it is deleted there and its id stays used.
        if self.store.read(outbox::workspaces_with_pending)?.contains(&ws.id) {
            self.sync().await?;
        }
        t.delete_workspace(ws.id).await.map_err(|e| self.note_failure(e))?;
        self.store.write(|tx| store::drop_workspace(tx, ws.id))?;
        Ok(ws)
    }
}
