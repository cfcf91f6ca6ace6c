-- A signed body that was rejected (400: not a JobServ build event) and is sent again to the same
-- endpoint within store.dedup-window (JobServ retries every answer but 2xx) counts as a repeat of the
-- first rejected delivery of that body, instead of a new row with another copy of the body each time.
ALTER TABLE deliveries ADD COLUMN repeats INT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN last_repeat_at BIGINT;
CREATE INDEX deliveries_rejected_body_idx ON deliveries (endpoint, body_hash, received_at) WHERE outcome = 'REJECTED';
