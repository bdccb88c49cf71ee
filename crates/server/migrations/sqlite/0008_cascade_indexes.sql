-- Every sign-in ends the device's earlier sessions, and deleting an
-- account ends its devices' sessions, drops the workspaces it owns and
-- voids its tokens (foreign keys cascade): each by index, not by reading
-- every row of the table.
CREATE INDEX sessions_device ON sessions (device_num);
CREATE INDEX workspaces_owner ON workspaces (owner_id);
CREATE INDEX tokens_user ON tokens (user_id);
