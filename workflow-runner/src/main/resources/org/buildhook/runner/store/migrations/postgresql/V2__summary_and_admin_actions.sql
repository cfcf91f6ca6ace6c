-- What the admin API filters on, copied from the parsed event at accept; NULL for deliveries
-- stored before version 2 and for rejected ones.
ALTER TABLE deliveries ADD COLUMN build_id BIGINT;
ALTER TABLE deliveries ADD COLUMN status VARCHAR(32);
ALTER TABLE deliveries ADD COLUMN project VARCHAR(400);
ALTER TABLE deliveries ADD COLUMN factory VARCHAR(200);
ALTER TABLE deliveries ADD COLUMN trigger_name VARCHAR(400);
CREATE INDEX deliveries_project_idx ON deliveries (project, id);
CREATE INDEX deliveries_trigger_idx ON deliveries (trigger_name, id);

-- The audit trail of admin actions (rerun, replay, cancel); removed with its delivery.
CREATE TABLE admin_actions (
    id          VARCHAR(26)  NOT NULL PRIMARY KEY,
    at          BIGINT       NOT NULL,
    actor       VARCHAR(200) NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    delivery_id VARCHAR(26),
    job_id      VARCHAR(26),
    detail      TEXT
);
CREATE INDEX admin_actions_delivery_idx ON admin_actions (delivery_id, id);
CREATE INDEX admin_actions_job_idx ON admin_actions (job_id, id);
