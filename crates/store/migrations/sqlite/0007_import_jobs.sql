-- Imports of the national extract started from the browser: the job and its progress live in
-- the database, so any server of the instance can show them (servers keep no state).
CREATE TABLE dir_import_job (
    cpts_id      TEXT NOT NULL REFERENCES cpts (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'done', 'refused', 'failed')),
    bytes_total  BIGINT NOT NULL CHECK (bytes_total >= 0),
    bytes_read   BIGINT NOT NULL CHECK (bytes_read >= 0),
    lines_read   BIGINT NOT NULL CHECK (lines_read >= 0),
    kept         BIGINT NOT NULL CHECK (kept >= 0),
    rejected     BIGINT NOT NULL CHECK (rejected >= 0),
    -- A sentence for people (French), empty while running.
    message      TEXT NOT NULL,
    -- JSON: the rejects (refused) or the outcome (done); empty otherwise.
    report       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    started_by   TEXT NOT NULL,
    PRIMARY KEY (cpts_id, id)
);
