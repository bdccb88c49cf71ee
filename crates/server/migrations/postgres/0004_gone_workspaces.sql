CREATE TABLE gone_workspaces (
    id uuid PRIMARY KEY,
    at bigint NOT NULL
);
