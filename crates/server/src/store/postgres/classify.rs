//! What an sqlx error means for the server: connection failures and
//! PostgreSQL's SQLSTATE classes sorted into the kinds of [`StoreError`]
//! the layers above act on.

use crate::store::StoreError;

/// The kind of failure a SQLSTATE code names, if it is one the server treats apart.
fn by_sqlstate(code: &str, reason: String) -> StoreError {
    match code {
        // Connection exceptions, operator intervention (shutdown, restart),
        // insufficient resources (disk full, out of memory, too many connections).
        c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => StoreError::Unavailable(reason),
        // read_only_sql_transaction: a standby, or default_transaction_read_only.
        "25006" => StoreError::ReadOnly(reason),
        // data_corrupted, index_corrupted.
        "XX001" | "XX002" => StoreError::Corrupt(reason),
        _ => StoreError::Backend(reason),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        let reason = e.to_string();
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(reason),
            sqlx::Error::Database(db) => match db.code() {
                Some(code) => by_sqlstate(&code, reason),
                None => StoreError::Backend(reason),
            },
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Unreadable(reason),
            _ => StoreError::Backend(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_and_connection_failures_become_store_error_kinds() {
        let kind = |code: &str| by_sqlstate(code, code.to_string());
        assert!(matches!(kind("08006"), StoreError::Unavailable(_)));
        assert!(matches!(kind("57P01"), StoreError::Unavailable(_)));
        assert!(matches!(kind("53100"), StoreError::Unavailable(_)));
        assert!(matches!(kind("25006"), StoreError::ReadOnly(_)));
        assert!(matches!(kind("XX001"), StoreError::Corrupt(_)));
        assert!(matches!(kind("23505"), StoreError::Backend(_)));
        assert!(matches!(StoreError::from(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(StoreError::from(io), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::Backend(_)));
    }
}
