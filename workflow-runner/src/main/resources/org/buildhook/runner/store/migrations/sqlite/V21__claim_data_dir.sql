-- The data folder of the node that wrote each claim (tryout47 F2): a node of the same host that finds the claiming
-- node's JVM gone reads that folder's stops-not-recorded before it takes the node's attempts over at once. A graceful
-- stop that could not reach the store keeps there what its attempts came to, for its own next start to record; taking
-- such an attempt over at once ran its command again seconds after the stop, although a stopped node has the whole
-- dead-node limit to start and record it. The absolute path as the node resolved it (storage.data-dir).
-- A nullable column: claims written before V21, or by a node of the version before, have none (NULL), and their
-- attempts are taken over as before.
ALTER TABLE node_leases ADD COLUMN data_dir TEXT;
