-- hvinv store, version 6: a cluster's VM ownership as one interval per VM
-- resource. Version 1 kept every owner in a JSON blob of the cluster's
-- facts row, so a live migration of one VM rewrote the whole blob (about
-- 20 KB for a cluster of 160 VMs): most of the database, and most of what
-- the reports read. Now a migration ends one small row and opens another.
--
-- A cluster_vm_facts row holds for every run from first_run_id to
-- last_run_id in which its cluster's facts were written (as cluster_facts
-- rows do). The writer extends it only if it was written in the cluster's
-- previous write and is identical; otherwise it opens a new one.

CREATE TABLE cluster_vm_facts (
    id              INTEGER PRIMARY KEY,
    cluster_id      INTEGER NOT NULL REFERENCES clusters(id),
    first_run_id    INTEGER NOT NULL REFERENCES runs(id),
    last_run_id     INTEGER NOT NULL REFERENCES runs(id),
    vm_guid         TEXT NOT NULL,  -- as the host sent it (upper case, no braces)
    resource        TEXT,           -- MSCluster_Resource name ('Virtual Machine <name>')
    owner_node      TEXT,
    state           TEXT,
    CHECK (first_run_id <= last_run_id)
);
-- The writer's look-up (a cluster's rows alive in its previous write), and
-- the readers' "rows meeting [lo, hi]" (a range on last_run_id), as for
-- vm_facts and outcome_spans.
CREATE INDEX cluster_vm_facts_cluster ON cluster_vm_facts(cluster_id, last_run_id);
CREATE INDEX cluster_vm_facts_runs ON cluster_vm_facts(last_run_id, first_run_id);

-- Every owner of every old row, with the row's place among its cluster's
-- rows (seq; the rows of a cluster never overlap). An entry repeated within
-- one blob is told apart by dup, so every entry of every run is kept.
CREATE TEMP TABLE cvm_entries AS
WITH rows AS (
    SELECT id, cluster_id, first_run_id, last_run_id, vm_owners,
           row_number() OVER (PARTITION BY cluster_id ORDER BY first_run_id, id) AS seq
    FROM cluster_facts
),
entries AS (
    SELECT r.cluster_id, r.seq, r.first_run_id, r.last_run_id, j.key AS pos,
           json_extract(j.value, '$.vm_guid') AS vm_guid,
           json_extract(j.value, '$.resource') AS resource,
           json_extract(j.value, '$.owner_node') AS owner_node,
           json_extract(j.value, '$.state') AS state
    FROM rows r, json_each(r.vm_owners) j
)
SELECT cluster_id, seq, first_run_id, last_run_id, pos, vm_guid, resource, owner_node, state,
       row_number() OVER (PARTITION BY cluster_id, seq, vm_guid, resource, owner_node, state
                          ORDER BY pos) AS dup
FROM entries
-- The writer never stored an owner without a GUID (and readers refused one).
WHERE vm_guid IS NOT NULL;

-- Gaps and islands: an entry present in consecutive rows of its cluster
-- (seq - its rank among the rows holding it stays the same) is one interval,
-- from the first row's first run to the last row's last run.
INSERT INTO cluster_vm_facts (cluster_id, first_run_id, last_run_id, vm_guid, resource,
                              owner_node, state)
SELECT cluster_id, min(first_run_id), max(last_run_id), vm_guid, resource, owner_node, state
FROM (
    SELECT e.*,
           seq - row_number() OVER (PARTITION BY cluster_id, vm_guid, resource, owner_node,
                                                 state, dup ORDER BY seq) AS island
    FROM temp.cvm_entries e
)
GROUP BY cluster_id, vm_guid, resource, owner_node, state, dup, island
ORDER BY cluster_id, min(first_run_id), min(pos);

DROP TABLE temp.cvm_entries;

-- cluster_facts keeps the FQDN and nodes. Consecutive rows of a cluster
-- that differed only by their owners are one interval now, under the id of
-- its first row.
--
-- The digest column goes: it hashed the owners too, and SQLite cannot
-- recompute a SHA-256. The writer compares fqdn and nodes themselves (the
-- nodes JSON is written in one canonical form), so a row migrated here
-- extends exactly as one written after.
CREATE TABLE cluster_facts_v6 (
    id              INTEGER PRIMARY KEY,
    cluster_id      INTEGER NOT NULL REFERENCES clusters(id),
    first_run_id    INTEGER NOT NULL REFERENCES runs(id),
    last_run_id     INTEGER NOT NULL REFERENCES runs(id),
    fqdn            TEXT,
    nodes           TEXT NOT NULL   -- JSON array of {"name":…, "state":…}, sorted by name
);

INSERT INTO cluster_facts_v6 (id, cluster_id, first_run_id, last_run_id, fqdn, nodes)
SELECT min(id), cluster_id, min(first_run_id), max(last_run_id), fqdn, nodes
FROM (
    SELECT id, cluster_id, first_run_id, last_run_id, fqdn, nodes,
           row_number() OVER (PARTITION BY cluster_id ORDER BY first_run_id, id)
         - row_number() OVER (PARTITION BY cluster_id, fqdn, nodes ORDER BY first_run_id, id)
           AS island
    FROM cluster_facts
)
GROUP BY cluster_id, fqdn, nodes, island
ORDER BY min(id);

DROP INDEX cluster_facts_cluster;
DROP TABLE cluster_facts;
ALTER TABLE cluster_facts_v6 RENAME TO cluster_facts;
CREATE INDEX cluster_facts_cluster ON cluster_facts(cluster_id, last_run_id);
