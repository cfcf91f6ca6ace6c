-- AWAITING_APPROVAL (17 characters) does not fit the 16 of version 1.
ALTER TABLE jobs ALTER COLUMN state TYPE VARCHAR(32);
