CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT,
    cursor INTEGER NOT NULL DEFAULT 0,
    head INTEGER NOT NULL DEFAULT 0,
    personal INTEGER NOT NULL DEFAULT 0,
    local_only INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE docs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT,
    order_key TEXT,
    fields TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX docs_by_parent ON docs (workspace_id, parent_id);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    mutation TEXT NOT NULL,
    base_fields TEXT NOT NULL
);
CREATE INDEX outbox_by_doc ON outbox (doc_id, seq);
CREATE INDEX outbox_by_workspace ON outbox (workspace_id, seq);
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE current_values (doc_id TEXT PRIMARY KEY, value TEXT NOT NULL);
