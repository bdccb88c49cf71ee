CREATE TABLE team_invitations (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    login text NOT NULL,
    shown text NOT NULL,
    role text NOT NULL,
    invited_by uuid NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    UNIQUE (team_id, login)
);
CREATE INDEX team_invitations_login ON team_invitations (login);
