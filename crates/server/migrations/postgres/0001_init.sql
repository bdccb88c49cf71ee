CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    created_at bigint NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE TABLE devices (
    num bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id uuid NOT NULL,
    name text NOT NULL,
    signed_in_at bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    signed_in boolean NOT NULL,
    UNIQUE (user_id, device_id)
);
CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    device_num bigint NOT NULL REFERENCES devices(num) ON DELETE CASCADE,
    created_at bigint NOT NULL,
    revoked_at bigint,
    revoked_reason text
);
CREATE TABLE workspaces (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    personal boolean NOT NULL DEFAULT false,
    seq bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);
CREATE TABLE members (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user ON members (user_id);
CREATE TABLE docs (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind text NOT NULL,
    parent_id uuid,
    order_key text,
    fields text NOT NULL,
    clocks text NOT NULL,
    deleted_seq bigint,
    deleted_dev bigint,
    version bigint NOT NULL
);
CREATE INDEX docs_changes ON docs (workspace_id, version);
CREATE INDEX docs_parent ON docs (parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE change_log (
    workspace_id uuid NOT NULL,
    seq bigint NOT NULL,
    doc_id uuid NOT NULL,
    mutation_id uuid NOT NULL,
    device_num bigint NOT NULL,
    op text NOT NULL,
    payload text,
    at bigint NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE TABLE mutations (
    mutation_id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    result text NOT NULL
);
