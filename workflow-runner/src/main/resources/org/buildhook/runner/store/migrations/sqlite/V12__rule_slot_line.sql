-- A rule's jobs held back by its concurrency take its slots first come, first served, in the order
-- they were created (ExecutionLedger.tryAcquireSlot). A job is in its rule's line while it may still
-- run and holds no slot: a first attempt from its creation on; a job that has had an attempt (a retry
-- whose backoff is over, a job taken over after its node died) from when it finds no slot for it,
-- which sets this column (cleared when it takes one).
ALTER TABLE jobs ADD COLUMN slot_waiting SMALLINT NOT NULL DEFAULT 0;
-- The line of a rule: only the jobs with a limit that may still run (the query names this condition).
CREATE INDEX jobs_slot_line_idx ON jobs (rule_name, id) WHERE concurrency > 0 AND state IN ('QUEUED', 'WAITING', 'RUNNING');
