-- Whether an INTERRUPTED attempt was ended because its node was gone (review20 R3): 1 when another node
-- recorded its end (a sweep that found its node's JVM dead, a node that took the job over after its node
-- stopped heart-beating), NULL when its own node recorded how it ended (a graceful stop, its self-fencing,
-- a start it could not make) or for any other outcome. A job whose last 3 attempts are each such a death is
-- not run again: its command may be what ends its node. Its message said the same, in words that may
-- change; this says it for the engine. A nullable column: attempts recorded before it count as no death.
ALTER TABLE job_attempts ADD COLUMN node_died INTEGER;
