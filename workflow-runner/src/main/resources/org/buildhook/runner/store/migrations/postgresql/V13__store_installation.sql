-- One row naming this store among others: a random id, made once. Each node marks the folders whose
-- left-over files its retention removes (data-dir/payloads, runner.log-dir) with it, and leaves alone a
-- folder another store marked too, so two installations given one folder by mistake never remove
-- each other's files.
CREATE TABLE store_installation (
    id           INT         NOT NULL PRIMARY KEY,
    installation VARCHAR(32) NOT NULL
);
INSERT INTO store_installation (id, installation)
    VALUES (1, md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text));
