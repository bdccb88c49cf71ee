//! The process's limit on open descriptors, and the connection cap it allows.

/// Descriptors kept free for the database, the mail outbox and other files.
const HEADROOM: u64 = 128;
/// The derived cap never goes below this, however low the limit.
const MIN_CONNECTIONS: usize = 64;
/// Nor above this (an unlimited or huge limit).
const MAX_CONNECTIONS: usize = 1 << 20;

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
pub fn raise_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => Some(soft),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _)| soft)
        }
    }
}

/// The default `--max-connections` for a soft descriptor limit.
pub fn max_connections_for(soft_limit: u64) -> usize {
    usize::try_from(soft_limit.saturating_sub(HEADROOM)).unwrap_or(usize::MAX).clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// The default `--max-connections`: the raised limit less headroom.
pub(crate) fn default_max_connections() -> usize {
    // Without a readable limit, assume the common default of 1,024.
    max_connections_for(raise_limit().unwrap_or(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_headroom_within_bounds() {
        assert_eq!(max_connections_for(1024), 896);
        assert_eq!(max_connections_for(100), 64);
        assert_eq!(max_connections_for(u64::MAX), 1 << 20);
    }
}
