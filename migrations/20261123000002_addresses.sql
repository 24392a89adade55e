-- hvinv store, version 2 (additive only).
-- The host an address last reached, so a failed outcome can name its host
-- without scanning host_outcomes (whose key starts with run_id). Written
-- only when an address first reaches a host or reaches a different one, so
-- an unchanged run adds nothing here.
CREATE TABLE addresses (
    address         TEXT PRIMARY KEY,
    host_id         INTEGER NOT NULL REFERENCES hosts(id)
) WITHOUT ROWID;
