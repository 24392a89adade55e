-- hvinv store, version 5 (additive only): audit evidence.

-- The licence region of a host (config key `region`, default 'default').
-- It is part of the host's facts, so a host moved to another region opens
-- a new interval and every run counts it where it was at the time.
ALTER TABLE host_facts ADD COLUMN region TEXT NOT NULL DEFAULT 'default';

-- Every `hvinv prune`: when, by which version, and what was cut. Run ids
-- here are plain numbers, not references: the runs are gone, and a later
-- prune may delete the first run kept.
CREATE TABLE prunes (
    id                  INTEGER PRIMARY KEY,
    at                  TEXT NOT NULL,                  -- RFC 3339 UTC
    hvinv_version       TEXT NOT NULL,
    before              TEXT NOT NULL,                  -- runs started before this were deleted
    under_two_years     INTEGER NOT NULL DEFAULT 0,     -- 1: --allow-under-two-years was needed
    runs_deleted        INTEGER NOT NULL,
    first_run_deleted   INTEGER,
    last_run_deleted    INTEGER,
    first_run_kept      INTEGER,
    rows_deleted        TEXT NOT NULL DEFAULT '{}'      -- JSON object: table -> rows deleted
);
