-- Which units of shared resources each attempt held (units32 L1): a JSON object of each resource's unit numbers,
-- ascending, by name ({"lab-boards":[2]}), written as the attempt starts, from the numbers its job took for it
-- (resource_holds.unit_numbers, V17). A job cut short whose own holds were freed before its next take (its dead node's
-- freed once its end was recorded, or given back to a job ahead of it) takes these numbers again when no other job
-- holds them, rather than the lowest free ones: the same board. `buildhook job ID` shows them with each attempt.
-- A nullable column: an attempt started before it, or holding no units, has none (NULL), and its job takes the lowest
-- free numbers as before; a node of the version before, still running while others are upgraded, starts its
-- attempts as before, without them.
ALTER TABLE job_attempts ADD COLUMN unit_numbers TEXT;
