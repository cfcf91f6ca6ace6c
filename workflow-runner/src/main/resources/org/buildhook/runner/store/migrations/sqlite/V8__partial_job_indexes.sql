-- The job indexes of workflows (version 5) only for the jobs that use them: most jobs have no
-- supersede key, no follow-ups and no parent, and each of their rows was entered in all three
-- indexes at accept and moved in two of them (those with the state) at each state change: pages
-- the accept and the job's bookkeeping wrote for no query (docs/BENCHMARKS.md, "Fourth pass").
-- The queries name the indexed condition (supersede_key = ?, follow_ups_pending = 1), which both
-- engines take as implying the partial index's WHERE.
DROP INDEX jobs_supersede_idx;
CREATE INDEX jobs_supersede_idx ON jobs (rule_name, supersede_key, state) WHERE supersede_key IS NOT NULL;
DROP INDEX jobs_follow_ups_idx;
CREATE INDEX jobs_follow_ups_idx ON jobs (follow_ups_pending, state) WHERE follow_ups_pending = 1;
DROP INDEX jobs_parent_idx;
CREATE INDEX jobs_parent_idx ON jobs (parent_id) WHERE parent_id IS NOT NULL;
