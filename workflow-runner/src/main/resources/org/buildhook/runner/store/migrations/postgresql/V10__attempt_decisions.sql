-- What an attempt came to while its process tree was still being ended: its timeout fired
-- (TIMED_OUT), or its program exited by itself (SUCCEEDED or FAILED, with decided_exit) and left
-- processes to end first. Written before they are signalled; a node that dies before they are gone
-- leaves this, and the node that takes the job over records that outcome instead of running the
-- command again (found by a try-out: a job that had timed out, or had exited 0 leaving a process
-- that ignored SIGTERM, ran a second time after a kill -9 of its server during the kill grace).
-- NULL otherwise, and for attempts recorded before version 10.
ALTER TABLE job_attempts ADD COLUMN decided VARCHAR(20);
ALTER TABLE job_attempts ADD COLUMN decided_exit INTEGER;
