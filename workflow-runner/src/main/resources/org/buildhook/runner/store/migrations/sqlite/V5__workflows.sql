-- Workflows (issue 16): supersede keys, follow-ups, approvals and shared resources.
-- The build a job was planned for: jobs with one supersede key are ordered by it, never by arrival.
ALTER TABLE jobs ADD COLUMN build_id BIGINT;
ALTER TABLE jobs ADD COLUMN supersede_key TEXT;
ALTER TABLE jobs ADD COLUMN supersede_running SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN superseded_by VARCHAR(26);
-- Approval: how long it may wait (kept for re-runs) and when it expires.
ALTER TABLE jobs ADD COLUMN approval_expiry_ms BIGINT;
ALTER TABLE jobs ADD COLUMN expires_at BIGINT;
-- Shared resources: JSON {"name": [units, capacity]}; since when the job waits for them.
ALTER TABLE jobs ADD COLUMN resources TEXT;
ALTER TABLE jobs ADD COLUMN waiting_since BIGINT;
-- Follow-ups: their specification, whether the job's final state still has to start them, the parent.
ALTER TABLE jobs ADD COLUMN follow_ups TEXT;
ALTER TABLE jobs ADD COLUMN follow_ups_pending SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN parent_id VARCHAR(26);
ALTER TABLE jobs ADD COLUMN chain_depth INT NOT NULL DEFAULT 0;
CREATE INDEX jobs_supersede_idx ON jobs (rule_name, supersede_key, state);
CREATE INDEX jobs_follow_ups_idx ON jobs (follow_ups_pending, state);
CREATE INDEX jobs_parent_idx ON jobs (parent_id);

-- The newest build seen per (rule, supersede key), even after retention removed its job; its row
-- is also what serialises two deliveries of one key on two nodes.
CREATE TABLE supersede_keys (
    rule_name     VARCHAR(200) NOT NULL,
    supersede_key TEXT         NOT NULL,
    build_id      BIGINT       NOT NULL,
    job_id        VARCHAR(26)  NOT NULL,
    PRIMARY KEY (rule_name, supersede_key)
);

-- Units of a named resource held by a job's attempt.
CREATE TABLE resource_holds (
    job_id      VARCHAR(26)  NOT NULL,
    resource    VARCHAR(100) NOT NULL,
    units       INT          NOT NULL,
    node        VARCHAR(200) NOT NULL,
    acquired_at BIGINT       NOT NULL,
    PRIMARY KEY (job_id, resource)
);
CREATE INDEX resource_holds_resource_idx ON resource_holds (resource);

-- One row per resource, locked by whoever takes or checks its units (serialises the nodes).
CREATE TABLE resource_locks (
    resource VARCHAR(100) NOT NULL PRIMARY KEY
);
