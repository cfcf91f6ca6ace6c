-- The jobs of one run of a build, newest first (buildhook jobs --run NAME, GET /api/jobs?run=NAME; surface48): without
-- an index on run_name that page read the jobs table backwards by id, row by row, until it had a page of matches;
-- for a run name no stored job has (a misspelt --run) that is the whole table, every job kept by store.retention:
-- 1 s on SQLite and 120 ms on PostgreSQL for 200,000 jobs, against 0.1 ms with this index (cancel49). Partial: only
-- the jobs of a runs: {match: each} rule have a run name, so the accept of any other job writes no entry in it; its
-- columns never change after the accept, so no state change moves an entry either. The query's run_name = ? implies
-- the WHERE, which both engines take for the partial index (as V8's).
-- IF NOT EXISTS: on a large PostgreSQL table an operator may build it beforehand without blocking writes
-- (CREATE INDEX CONCURRENTLY, docs/deploying.md "Upgrading"); this then finds it and does nothing.
CREATE INDEX IF NOT EXISTS jobs_run_idx ON jobs (run_name, id) WHERE run_name IS NOT NULL;
