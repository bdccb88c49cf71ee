-- Nothing read the change log (pull returns document states): it was a
-- second copy of every change, kept forever.
DROP TABLE change_log;
-- When each tombstone was written, so tombstones older than the server's
-- keep-tombstones period can be removed; tombstones already here count
-- from now.
ALTER TABLE docs ADD COLUMN deleted_at INTEGER;
UPDATE docs SET deleted_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE deleted_seq IS NOT NULL;
CREATE INDEX docs_tombstones ON docs (deleted_at) WHERE deleted_seq IS NOT NULL;
-- The highest sequence of a removed tombstone: a device whose cursor is
-- below it may have missed a deletion and must restore the workspace.
ALTER TABLE workspaces ADD COLUMN horizon INTEGER NOT NULL DEFAULT 0;
