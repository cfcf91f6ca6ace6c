-- buildhook store, PostgreSQL. Times are epoch milliseconds (UTC) so both engines share the SQL.
CREATE TABLE deliveries (
    id             VARCHAR(26)  NOT NULL PRIMARY KEY,
    endpoint       VARCHAR(200) NOT NULL,
    received_at    BIGINT       NOT NULL,
    remote_address VARCHAR(100),
    headers        TEXT         NOT NULL,
    body           BYTEA,
    body_hash      CHAR(64)     NOT NULL,
    outcome        VARCHAR(16)  NOT NULL,
    reason         TEXT,
    duplicate_of   VARCHAR(26)
);
CREATE INDEX deliveries_received_idx ON deliveries (received_at);
CREATE INDEX deliveries_outcome_idx ON deliveries (outcome, id);
CREATE INDEX deliveries_endpoint_idx ON deliveries (endpoint, id);

-- One row per (endpoint, body): the race-free duplicate detector.
CREATE TABLE dedup_keys (
    endpoint    VARCHAR(200) NOT NULL,
    body_hash   CHAR(64)     NOT NULL,
    delivery_id VARCHAR(26)  NOT NULL,
    first_seen  BIGINT       NOT NULL,
    PRIMARY KEY (endpoint, body_hash)
);

CREATE TABLE jobs (
    id               VARCHAR(26)  NOT NULL PRIMARY KEY,
    delivery_id      VARCHAR(26)  NOT NULL REFERENCES deliveries (id),
    rule_name        VARCHAR(200) NOT NULL,
    rule_snapshot    TEXT         NOT NULL,
    argv             TEXT         NOT NULL,
    env              TEXT         NOT NULL,
    workdir          TEXT,
    stdin            SMALLINT     NOT NULL,
    timeout_ms       BIGINT       NOT NULL,
    retries          INT          NOT NULL,
    backoff_ms       BIGINT       NOT NULL,
    concurrency      INT          NOT NULL,
    run_name         TEXT,
    state            VARCHAR(16)  NOT NULL,
    attempts         INT          NOT NULL,
    exit_code        INT,
    created_at       BIGINT       NOT NULL,
    started_at       BIGINT,
    ended_at         BIGINT,
    node             VARCHAR(200),
    log_path         TEXT,
    message          TEXT,
    cancel_requested SMALLINT     NOT NULL,
    rerun_of         VARCHAR(26)
);
CREATE INDEX jobs_delivery_idx ON jobs (delivery_id);
CREATE INDEX jobs_state_idx ON jobs (state, id);
CREATE INDEX jobs_rule_idx ON jobs (rule_name, id);

CREATE TABLE job_attempts (
    job_id     VARCHAR(26)  NOT NULL REFERENCES jobs (id),
    attempt    INT          NOT NULL,
    outcome    VARCHAR(16)  NOT NULL,
    exit_code  INT,
    started_at BIGINT       NOT NULL,
    ended_at   BIGINT,
    node       VARCHAR(200) NOT NULL,
    log_path   TEXT,
    message    TEXT,
    PRIMARY KEY (job_id, attempt)
);

-- Per-rule concurrency: a job holds one of the rule's numbered slots while it runs.
CREATE TABLE rule_slots (
    rule_name   VARCHAR(200) NOT NULL,
    slot        INT          NOT NULL,
    job_id      VARCHAR(26)  NOT NULL,
    node        VARCHAR(200) NOT NULL,
    acquired_at BIGINT       NOT NULL,
    PRIMARY KEY (rule_name, slot)
);
CREATE INDEX rule_slots_job_idx ON rule_slots (job_id);

-- db-scheduler's table (its PostgreSQL DDL): only what is pending or running.
CREATE TABLE scheduled_tasks (
    task_name            VARCHAR(100) NOT NULL,
    task_instance        VARCHAR(100) NOT NULL,
    task_data            BYTEA,
    execution_time       TIMESTAMP WITH TIME ZONE NOT NULL,
    picked               BOOLEAN      NOT NULL,
    picked_by            VARCHAR(50),
    last_success         TIMESTAMP WITH TIME ZONE,
    last_failure         TIMESTAMP WITH TIME ZONE,
    consecutive_failures INT,
    last_heartbeat       TIMESTAMP WITH TIME ZONE,
    version              BIGINT       NOT NULL,
    priority             SMALLINT,
    PRIMARY KEY (task_name, task_instance)
);
CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC);
