CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE gone_sessions (
    token_hash TEXT PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
