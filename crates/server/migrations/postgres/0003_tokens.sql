CREATE TABLE tokens (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose text NOT NULL,
    expires_at bigint NOT NULL
);
CREATE TABLE gone_sessions (
    token_hash text PRIMARY KEY,
    at bigint NOT NULL
);
