-- `deliveries --build N` (GET /api/deliveries?build=N) asks for one build's deliveries newest first, a
-- page at a time (build_id = ? ... ORDER BY id DESC LIMIT): a range of this index read backwards, instead
-- of the whole table for a build that has only a few. Only the deliveries that have a build number
-- (rejected ones have none); the query names build_id = ?, which implies the index's WHERE.
-- IF NOT EXISTS: on a large PostgreSQL table an operator may build it beforehand without blocking
-- writes (CREATE INDEX CONCURRENTLY, docs/deploying.md "Upgrading"); this then finds it and does nothing.
CREATE INDEX IF NOT EXISTS deliveries_build_idx ON deliveries (build_id, id) WHERE build_id IS NOT NULL;
