-- Stored results belong to the device that sent the mutation, in its
-- workspace, and carry no copy of a document. Children are found by an
-- index scoped to the workspace.
CREATE INDEX change_log_mutation ON change_log (workspace_id, mutation_id);
CREATE TABLE mutations_v2 (
    workspace_id uuid NOT NULL,
    device_num bigint NOT NULL,
    mutation_id uuid NOT NULL,
    result text NOT NULL,
    PRIMARY KEY (workspace_id, device_num, mutation_id)
);
INSERT INTO mutations_v2 (workspace_id, device_num, mutation_id, result)
SELECT m.workspace_id,
       COALESCE((SELECT c.device_num FROM change_log c WHERE c.workspace_id = m.workspace_id AND c.mutation_id = m.mutation_id LIMIT 1), 0),
       m.mutation_id, (m.result::jsonb - 'doc')::text
FROM mutations m ON CONFLICT DO NOTHING;
DROP TABLE mutations;
ALTER TABLE mutations_v2 RENAME TO mutations;
DROP INDEX change_log_mutation;
DROP INDEX docs_parent;
CREATE INDEX docs_live_children ON docs (workspace_id, parent_id) WHERE deleted_seq IS NULL;
