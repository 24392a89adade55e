-- hvinv store, version 3: a failed host may carry the error kind
-- 'name_not_resolved' (its name has no address here), distinct from
-- 'unreachable'. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with the same columns and every row copied as it was;
-- rows written before keep their kinds.
CREATE TABLE host_outcomes_v3 (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    address         TEXT NOT NULL,
    host_id         INTEGER REFERENCES hosts(id),   -- NULL if never identified
    status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error_kind      TEXT CHECK (error_kind IN ('unreachable', 'name_not_resolved', 'timeout',
                        'auth', 'tls', 'access_denied', 'namespace', 'protocol', 'config')),
    error_message   TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
    finished_at     TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    round_trips     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, address)
);
INSERT INTO host_outcomes_v3 (run_id, address, host_id, status, error_kind, error_message,
                              warnings, finished_at, duration_ms, round_trips)
    SELECT run_id, address, host_id, status, error_kind, error_message,
           warnings, finished_at, duration_ms, round_trips
    FROM host_outcomes;
DROP TABLE host_outcomes;
ALTER TABLE host_outcomes_v3 RENAME TO host_outcomes;
CREATE INDEX host_outcomes_host ON host_outcomes(host_id, run_id);
