-- One row that /healthz rewrites when it must find out whether writes work (read-only file, full
-- disk): a database that answers reads may still refuse every write.
CREATE TABLE store_probe (
    id INT    NOT NULL PRIMARY KEY,
    at BIGINT NOT NULL
);
INSERT INTO store_probe (id, at) VALUES (1, 0);
