-- What rules each running node has in force: a fingerprint (SHA-256, hex) of its enabled rules as the jobs
-- store them (each rule's canonical JSON, in file order) and its shared resources, never the file or any
-- value of it, written at its start and at each reload. A node whose fingerprint differs from another
-- running node's says so (log, status page, buildhook check): every node gives the stored jobs its own
-- file's concurrency limits, so nodes with different rules files change each other's (tryout17 F4).
-- rules_instance is the claim (node_leases.instance) that wrote them: a node of a version before this one
-- that takes the id over rewrites the row but not these columns, and its claim's instance tells the
-- fingerprint is not its own. Only nullable columns: nodes of the version before, still running while
-- others are upgraded, go on writing their claims as before, and are shown with no fingerprint.
ALTER TABLE node_leases ADD COLUMN rules_fingerprint VARCHAR(64);
ALTER TABLE node_leases ADD COLUMN rules_loaded_at BIGINT;
ALTER TABLE node_leases ADD COLUMN rules_instance VARCHAR(36);
