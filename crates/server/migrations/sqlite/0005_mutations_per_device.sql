-- Stored results belong to the device that sent the mutation, in its
-- workspace, and carry no copy of a document.
CREATE INDEX change_log_mutation ON change_log (workspace_id, mutation_id);
CREATE TABLE mutations_v2 (
    workspace_id TEXT NOT NULL,
    device_num INTEGER NOT NULL,
    mutation_id TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (workspace_id, device_num, mutation_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO mutations_v2 (workspace_id, device_num, mutation_id, result)
SELECT m.workspace_id,
       COALESCE((SELECT c.device_num FROM change_log c WHERE c.workspace_id = m.workspace_id AND c.mutation_id = m.mutation_id LIMIT 1), 0),
       m.mutation_id, json_remove(m.result, '$.doc')
FROM mutations m;
DROP TABLE mutations;
ALTER TABLE mutations_v2 RENAME TO mutations;
DROP INDEX change_log_mutation;
