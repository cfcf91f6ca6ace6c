-- Which running node (JVM) holds each runner.node-id, and when it last said it still does: a node
-- started with the runner.node-id of another that is running is refused, instead of taking that
-- node's picked jobs for its own lost picks and running them a second time at once (found by a
-- try-out: two nodes given one node-id by a copied configuration). Used on PostgreSQL, where nodes
-- share the store; a SQLite store has one server at a time (the data-dir's lock).
CREATE TABLE node_leases (
    node_id      VARCHAR(50)  NOT NULL PRIMARY KEY,
    instance     VARCHAR(36)  NOT NULL,
    host         VARCHAR(255) NOT NULL,
    boot_id      VARCHAR(64),
    node_pid     BIGINT       NOT NULL,
    node_started BIGINT       NOT NULL,
    acquired_at  BIGINT       NOT NULL,
    renewed_at   BIGINT       NOT NULL
);
