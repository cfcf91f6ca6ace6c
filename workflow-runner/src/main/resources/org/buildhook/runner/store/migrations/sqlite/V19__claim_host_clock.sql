-- When each node id was claimed by the claiming JVM's own clock (review32 F2): acquired_at is the database's clock on
-- PostgreSQL, while a pick's time (scheduled_tasks.last_heartbeat) is the picking JVM's host's clock. DeadNodeRelease
-- tells a live JVM's fresh pick from the dead predecessor's by comparing the pick with the claim; it put the claim on
-- the host's clock with the offset between the clocks read at the release, so a host clock set forward (or the
-- database's set back) by more than a second between the pick and the release made the live pick look older than the
-- claim and freed it. acquired_host_at (milliseconds since the epoch) is the claim on the clock its picks are stamped
-- with: the two are compared on one clock whatever any clock does after the claim.
-- acquired_host_instance is the claim (node_leases.instance) that wrote it: a node of a version before this one that
-- takes the id over rewrites the row but not these columns, and its instance tells the time is not its claim's.
-- Only nullable columns: claims written before V19, or by such a node, have no host time (NULL, or another
-- instance's) and are compared as before, by the offset read at the release.
ALTER TABLE node_leases ADD COLUMN acquired_host_at BIGINT;
ALTER TABLE node_leases ADD COLUMN acquired_host_instance VARCHAR(36);
