-- Which processes each attempt is, so that what a dead node left running is found and killed
-- before its job runs again: the node's host and boot (processes of another boot are gone), the
-- node's own process (pid and start time: alive or not), and the attempt's first process (pid,
-- session id, start time in clock ticks since boot, so a pid used again is never taken for it).
-- Every process of an attempt also carries BUILDHOOK_ATTEMPT=<job_id>/<attempt> in its
-- environment. NULL for attempts recorded before version 3.
ALTER TABLE job_attempts ADD COLUMN host VARCHAR(255);
ALTER TABLE job_attempts ADD COLUMN boot_id VARCHAR(64);
ALTER TABLE job_attempts ADD COLUMN node_pid BIGINT;
ALTER TABLE job_attempts ADD COLUMN node_started BIGINT;
ALTER TABLE job_attempts ADD COLUMN pid BIGINT;
ALTER TABLE job_attempts ADD COLUMN session_id BIGINT;
ALTER TABLE job_attempts ADD COLUMN process_started BIGINT;
CREATE INDEX job_attempts_outcome_idx ON job_attempts (outcome, boot_id);
