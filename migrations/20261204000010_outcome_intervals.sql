-- hvinv store, version 4: host outcomes as intervals of runs, like facts.
-- An outcome_spans row says: in every run from first_run_id to last_run_id,
-- collecting this address ended the same way (same host, status, error and
-- warnings). The writer extends the address's newest span when the run just
-- before this one (whatever its status) recorded the same outcome, so an
-- unchanged run rewrites rows in place instead of adding one per host, and a
-- run that did not record the address (cut short, address not configured)
-- ends the span.
--
-- finished_at, duration_ms and round_trips are those of the span's last run;
-- for an earlier run of the span the view below gives the run's own finish
-- time and no duration or round-trip count.

CREATE TABLE outcome_spans (
    id              INTEGER PRIMARY KEY,
    address         TEXT NOT NULL,
    first_run_id    INTEGER NOT NULL REFERENCES runs(id),
    last_run_id     INTEGER NOT NULL REFERENCES runs(id),
    host_id         INTEGER REFERENCES hosts(id),   -- NULL if never identified
    status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error_kind      TEXT CHECK (error_kind IN ('unreachable', 'name_not_resolved', 'timeout',
                        'auth', 'tls', 'access_denied', 'namespace', 'protocol', 'config')),
    error_message   TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
    finished_at     TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    round_trips     INTEGER NOT NULL DEFAULT 0,
    CHECK (first_run_id <= last_run_id)
);
-- An address's spans never overlap, so one ends at a given run at most once:
-- this also refuses a second outcome for the same address in one run.
CREATE UNIQUE INDEX outcome_spans_address ON outcome_spans(address, last_run_id);
CREATE INDEX outcome_spans_runs ON outcome_spans(last_run_id, first_run_id);
CREATE INDEX outcome_spans_host ON outcome_spans(host_id, last_run_id);

-- Every existing row becomes a span of one run: nothing is merged, so every
-- stored column of every run stays as it was.
INSERT INTO outcome_spans (address, first_run_id, last_run_id, host_id, status, error_kind,
                           error_message, warnings, finished_at, duration_ms, round_trips)
SELECT address, run_id, run_id, host_id, status, error_kind, error_message, warnings,
       finished_at, duration_ms, round_trips
FROM host_outcomes ORDER BY run_id, address;

DROP INDEX host_outcomes_host;
DROP TABLE host_outcomes;

-- The per-run rows as version 2 stored them, for readers that want one row
-- per address per run.
CREATE VIEW host_outcomes AS
SELECT r.id AS run_id, s.address, s.host_id, s.status, s.error_kind, s.error_message, s.warnings,
       CASE WHEN r.id = s.last_run_id THEN s.finished_at
            ELSE COALESCE(r.finished_at, r.started_at) END AS finished_at,
       CASE WHEN r.id = s.last_run_id THEN s.duration_ms END AS duration_ms,
       CASE WHEN r.id = s.last_run_id THEN s.round_trips END AS round_trips
FROM outcome_spans s JOIN runs r ON r.id BETWEEN s.first_run_id AND s.last_run_id;
