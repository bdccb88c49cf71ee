//! Accounts and their devices: sign-up, sign-in under the device limit,
//! sign-out, a new password, and deleting an account. Written once for
//! every backend; each function runs inside one transaction.

use super::workspaces;
use crate::store::{DeviceRecord, StoreError, Tx, WorkspaceRecord};
use model::Id;
use protocol::limits::MAX_DEVICES;
use protocol::{DeviceInfo, User};

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub(crate) enum SignIn {
    /// Signed in; `replaced` is the device signed out to make room.
    Done { device: DeviceRecord, replaced: Option<u64> },
    /// The account is at its device limit; these hold the slots.
    Limit(Vec<DeviceRecord>),
    /// `replace_device` named no signed-in device of this account.
    NoSuchDevice,
}

/// The outcome of deleting an account.
#[derive(Debug)]
pub(crate) enum AccountDeletion {
    /// Refused: the account is in these teams.
    InTeams(Vec<String>),
    /// Deleted: these were its signed-in devices, and these other people
    /// lost workspaces it owned.
    Deleted { devices: Vec<u64>, others: Vec<Id> },
}

/// The signed-in devices of an account, in the order they signed in.
pub(crate) async fn devices<T: Tx>(tx: &mut T, user: Id) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut list = tx.devices(user).await?;
    list.sort_by_key(|d| (d.signed_in_at, d.num));
    Ok(list)
}

/// Signs a device in, keeping at most [`MAX_DEVICES`] signed in at once:
/// past that the sign-in is refused with the devices holding the slots,
/// unless it names one of them to replace.
pub(crate) async fn sign_in<T: Tx>(
    tx: &mut T,
    user: Id,
    device: &DeviceInfo,
    token_hash: &str,
    replace: Option<Id>,
    now: i64,
) -> Result<SignIn, StoreError> {
    // One sign-in per account at a time, across processes: the limit holds.
    tx.lock_user(user).await?;
    let others: Vec<DeviceRecord> = devices(tx, user).await?.into_iter().filter(|d| d.id != device.id).collect();
    let mut replaced = None;
    if let Some(r) = replace {
        let Some(victim) = others.iter().find(|d| d.id == r) else { return Ok(SignIn::NoSuchDevice) };
        tx.sign_out_device(victim.num, &format!("replaced by the sign-in of '{}'", device.name), now).await?;
        replaced = Some(victim.num);
    } else if others.len() >= MAX_DEVICES {
        return Ok(SignIn::Limit(others));
    }
    let num = tx.upsert_device(user, device, now).await?;
    // A device has one session: an older one of the same device ends.
    tx.revoke_sessions(num, "signed in again", now).await?;
    tx.insert_session(token_hash, num, now).await?;
    let device = DeviceRecord { num, user_id: user, id: device.id, name: device.name.clone(), signed_in_at: now, last_seen_at: now };
    Ok(SignIn::Done { device, replaced })
}

/// Creates an account with its personal workspace and signs its first device in.
pub(crate) async fn sign_up<T: Tx>(
    tx: &mut T,
    user: &User,
    password_hash: &str,
    device: &DeviceInfo,
    token_hash: &str,
    now: i64,
) -> Result<SignIn, StoreError> {
    tx.insert_user(user, password_hash, now).await?;
    let personal = WorkspaceRecord { id: Id::now_v7(), name: "My Workspace".into(), owner: user.id, personal: true };
    workspaces::create(tx, &personal, now).await?;
    sign_in(tx, user.id, device, token_hash, None, now).await
}

/// Signs a device of `user` out by its id; its number, if it was signed in.
pub(crate) async fn sign_out<T: Tx>(tx: &mut T, user: Id, device: Id, reason: &str, now: i64) -> Result<Option<u64>, StoreError> {
    let Some(d) = devices(tx, user).await?.into_iter().find(|d| d.id == device) else { return Ok(None) };
    tx.sign_out_device(d.num, reason, now).await?;
    Ok(Some(d.num))
}

/// Sets a new password hash and signs every device of the account out but
/// `keep`; outstanding reset tokens become void. Returns the devices signed out.
pub(crate) async fn set_password<T: Tx>(
    tx: &mut T,
    user: Id,
    hash: &str,
    keep: Option<u64>,
    reason: &str,
    now: i64,
) -> Result<Vec<u64>, StoreError> {
    tx.lock_user(user).await?;
    tx.set_password_hash(user, hash).await?;
    let mut out = Vec::new();
    for d in devices(tx, user).await?.into_iter().filter(|d| Some(d.num) != keep) {
        tx.sign_out_device(d.num, reason, now).await?;
        out.push(d.num);
    }
    tx.delete_tokens(user).await?;
    Ok(out)
}

/// Deletes an account and every workspace it owns, unless it is in a team
/// (leaving is the person's own step, so teams are never left headless).
pub(crate) async fn delete_account<T: Tx>(tx: &mut T, user: Id, now: i64) -> Result<AccountDeletion, StoreError> {
    tx.lock_user(user).await?;
    let mut teams: Vec<String> = tx.teams_of(user).await?.into_iter().map(|(_, name, _)| name).collect();
    if !teams.is_empty() {
        teams.sort();
        return Ok(AccountDeletion::InTeams(teams));
    }
    let devices: Vec<u64> = devices(tx, user).await?.iter().map(|d| d.num).collect();
    let mut others = Vec::new();
    for ws in tx.owned_workspaces(user).await? {
        others.extend(tx.members(ws).await?.into_iter().filter(|m| *m != user));
        tx.delete_workspace(ws, now).await?;
    }
    others.sort();
    others.dedup();
    tx.delete_user(user, now).await?;
    Ok(AccountDeletion::Deleted { devices, others })
}
