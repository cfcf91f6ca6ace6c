-- Which units of its resource a hold is (units32, tryout30 F1): each unit of a resource of capacity N has a
-- number from 1 to N, and a take picks the lowest numbers no other hold of the resource has; the job's command is
-- told them (BUILDHOOK_RESOURCE_<NAME>). Written as the numbers in ascending order, comma-separated ("1,3"), as
-- many as the hold's units. A nullable column: a hold written before it has no numbers (NULL); its units count
-- against the capacity as before, their numbers unknown (its job was told none), and it is given back as before.
ALTER TABLE resource_holds ADD COLUMN unit_numbers TEXT;
