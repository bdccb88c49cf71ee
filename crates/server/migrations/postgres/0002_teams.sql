CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_by uuid NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
CREATE TABLE team_workspaces (
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, workspace_id)
);
CREATE INDEX team_workspaces_ws ON team_workspaces (workspace_id);
