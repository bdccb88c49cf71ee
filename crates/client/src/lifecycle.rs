//! The account's life cycle from the device: password reset and username
//! recovery by mail (no session needed), password change, account deletion.

use crate::transport::{Transport, normalize_url};
use crate::{ClientError, Device};
use protocol::{ChangePassword, ForgotPassword, RecoverUsername, ResetPassword};

impl Device {
    fn anonymous(&self, server: &str) -> Result<Transport, ClientError> {
        Transport::new(&normalize_url(server)?, None, self.timeouts, self.ca()?)
    }

    /// Asks `server` to mail a password-reset token to the account's email;
    /// returns the server's message (the same whether or not the account exists).
    pub async fn forgot_password(&self, server: &str, user: &str) -> Result<String, ClientError> {
        let t = self.anonymous(server)?;
        Ok(t.forgot_password(&ForgotPassword { user: user.trim().to_string() }).await?.message)
    }

    /// Sets a new password with a mailed token; every device of the account
    /// then signs in again.
    pub async fn reset_password(&self, server: &str, token: &str, password: &str) -> Result<(), ClientError> {
        let t = self.anonymous(server)?;
        t.reset_password(&ResetPassword { token: token.trim().to_string(), password: password.to_string() }).await
    }

    /// Asks `server` to mail the username of an email address.
    pub async fn recover_username(&self, server: &str, email: &str) -> Result<String, ClientError> {
        let t = self.anonymous(server)?;
        Ok(t.recover_username(&RecoverUsername { email: email.trim().to_string() }).await?.message)
    }

    /// Changes the password; the account's other devices are signed out.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), ClientError> {
        let t = self.transport()?;
        t.change_password(&ChangePassword { current: current.to_string(), new: new.to_string() }).await.map_err(|e| self.note_failure(e))
    }

    /// Deletes the account on the server, then its data on this device (the
    /// scratch pad stays). The server refuses while the account is in a team.
    pub async fn delete_account(&self) -> Result<(), ClientError> {
        let t = self.transport()?;
        t.delete_account().await.map_err(|e| self.note_failure(e))?;
        self.forget()
    }
}
