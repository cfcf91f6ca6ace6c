-- Retention removes a supersede key's row with the delivery of its newest build (see Retention).
CREATE INDEX supersede_keys_job_idx ON supersede_keys (job_id);
