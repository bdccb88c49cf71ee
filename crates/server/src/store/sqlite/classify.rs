//! What a rusqlite error means for the server: SQLite's result codes sorted
//! into the kinds of [`StoreError`] the layers above act on.

use crate::store::StoreError;
use rusqlite::ErrorCode;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        let reason = e.to_string();
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(reason),
                ErrorCode::ReadOnly | ErrorCode::PermissionDenied => StoreError::ReadOnly(reason),
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::SystemIoFailure
                | ErrorCode::OutOfMemory
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::NoLargeFileSupport => StoreError::Unavailable(reason),
                _ => StoreError::Backend(reason),
            },
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(..)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Unreadable(reason),
            _ => StoreError::Backend(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> StoreError {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None).into()
    }

    #[test]
    fn sqlite_result_codes_become_store_error_kinds() {
        use rusqlite::ffi;
        assert!(matches!(failure(ffi::SQLITE_CORRUPT), StoreError::Corrupt(_)));
        assert!(matches!(failure(ffi::SQLITE_NOTADB), StoreError::Corrupt(_)));
        assert!(matches!(failure(ffi::SQLITE_CORRUPT_INDEX), StoreError::Corrupt(_)));
        assert!(matches!(failure(ffi::SQLITE_READONLY), StoreError::ReadOnly(_)));
        assert!(matches!(failure(ffi::SQLITE_READONLY_DBMOVED), StoreError::ReadOnly(_)));
        assert!(matches!(failure(ffi::SQLITE_BUSY), StoreError::Unavailable(_)));
        assert!(matches!(failure(ffi::SQLITE_FULL), StoreError::Unavailable(_)));
        assert!(matches!(failure(ffi::SQLITE_IOERR_WRITE), StoreError::Unavailable(_)));
        assert!(matches!(failure(ffi::SQLITE_CONSTRAINT_UNIQUE), StoreError::Backend(_)));
        assert!(matches!(StoreError::from(rusqlite::Error::QueryReturnedNoRows), StoreError::Backend(_)));
    }
}
