//! What the store has learnt about its own storage while running. A
//! damaged database refuses every write from the first sign of damage on,
//! until the operator restores it; a read-only one is tried again, and is
//! healthy from the first write that succeeds.

use crate::store::{Fault, StoreError};
use std::sync::Mutex;

/// The fault the store last met, if it still stands.
#[derive(Default)]
pub(super) struct Health {
    fault: Mutex<Option<Fault>>,
}

impl Health {
    fn get(&self) -> std::sync::MutexGuard<'_, Option<Fault>> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers a fault a transaction or a read ended with. Damage is
    /// never forgotten for a lesser fault; a fault is logged when it begins,
    /// not at every request that meets it.
    pub(super) fn note(&self, fault: Option<Fault>) {
        let Some(fault) = fault else { return };
        let mut current = self.get();
        match (&*current, &fault) {
            (Some(Fault::Corrupt(_)), _) | (Some(Fault::ReadOnly(_)), Fault::ReadOnly(_)) => return,
            (_, Fault::Corrupt(reason)) => {
                tracing::error!(%reason, "the database is damaged: refusing writes until it is restored from a backup")
            }
            (_, Fault::ReadOnly(reason)) => tracing::error!(%reason, "storage is read-only: writes fail until it is writable again"),
        }
        *current = Some(fault);
    }

    /// A write committed: storage is writable after all.
    pub(super) fn wrote(&self) {
        let mut current = self.get();
        if matches!(*current, Some(Fault::ReadOnly(_))) {
            tracing::info!("storage is writable again");
            *current = None;
        }
    }

    /// `Err` when writes must not even be tried: the database is damaged.
    pub(super) fn may_write(&self) -> Result<(), StoreError> {
        match &*self.get() {
            Some(Fault::Corrupt(reason)) => Err(StoreError::Corrupt(reason.clone())),
            _ => Ok(()),
        }
    }

    /// The standing fault.
    pub(super) fn fault(&self) -> Option<Fault> {
        self.get().clone()
    }
}
