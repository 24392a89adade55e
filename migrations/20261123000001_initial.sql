-- hvinv store, version 1.
-- Times are RFC 3339 text in UTC with a 'Z' suffix.
-- Facts are kept as intervals: a *_facts row holds unchanged for every run
-- from first_run_id to last_run_id in which its host was collected OK, so an
-- unchanged estate adds only a runs row and one host_outcomes row per host.
-- A run between first and last in which the host failed is visible through
-- host_outcomes (status 'failed'): readers carry the facts forward only as
-- their staleness rules allow.

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    -- 'running' while collecting; 'complete' at its end; 'interrupted' when
    -- it was cut short (signal, crash: found 'running' by the next opener
    -- whose lock shows no live writer, or marked by the signal handler).
    status          TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
    hvinv_version   TEXT NOT NULL,
    hosts_total     INTEGER NOT NULL DEFAULT 0,
    hosts_ok        INTEGER NOT NULL DEFAULT 0,
    hosts_failed    INTEGER NOT NULL DEFAULT 0
);

-- A physical host, stable across runs and addresses.
-- identity: 'uuid:<UPPER UUID>' (Win32_ComputerSystemProduct.UUID), else
-- 'serial:<serial>' when the UUID is missing or a known placeholder.
CREATE TABLE hosts (
    id              INTEGER PRIMARY KEY,
    identity        TEXT NOT NULL UNIQUE,
    uuid            TEXT,
    serial          TEXT,
    first_run_id    INTEGER NOT NULL REFERENCES runs(id),
    -- the newest run in which this host was collected OK (maintained by the
    -- writer; lets it extend intervals without scanning)
    last_ok_run_id  INTEGER REFERENCES runs(id)
);

-- One row per configured address per run: the outcome of collecting it.
CREATE TABLE host_outcomes (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    address         TEXT NOT NULL,
    host_id         INTEGER REFERENCES hosts(id),   -- NULL if never identified
    status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error_kind      TEXT CHECK (error_kind IN ('unreachable', 'timeout', 'auth', 'tls',
                        'access_denied', 'namespace', 'protocol', 'config')),
    error_message   TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
    finished_at     TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    round_trips     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, address)
);
CREATE INDEX host_outcomes_host ON host_outcomes(host_id, run_id);

-- Host facts (hardware, OS, cluster membership) as intervals.
CREATE TABLE host_facts (
    id                  INTEGER PRIMARY KEY,
    host_id             INTEGER NOT NULL REFERENCES hosts(id),
    first_run_id        INTEGER NOT NULL REFERENCES runs(id),
    last_run_id         INTEGER NOT NULL REFERENCES runs(id),
    name                TEXT,       -- Win32_ComputerSystem.Name (NetBIOS)
    fqdn                TEXT,       -- DNSHostName + '.' + Domain
    manufacturer        TEXT,
    model               TEXT,
    serial              TEXT,       -- Win32_BIOS.SerialNumber / IdentifyingNumber
    os                  TEXT,       -- "<Caption> <Version>"
    os_build            TEXT,
    sockets             INTEGER,
    cores               INTEGER,    -- total physical cores, all sockets
    logical_processors  INTEGER,
    memory_mb           INTEGER,
    processor_vendor    TEXT,       -- e.g. GenuineIntel, AuthenticAMD
    processor_model     TEXT,       -- Win32_Processor.Name of the first socket
    processors          TEXT NOT NULL DEFAULT '[]', -- JSON: one object per socket
    cluster_name        TEXT,       -- NULL when standalone
    hyperv_namespace    TEXT,       -- 'root/virtualization/v2' | 'root/virtualization' | NULL
    digest              TEXT NOT NULL -- hash of every column above: change detection
);
CREATE INDEX host_facts_host ON host_facts(host_id, last_run_id);
CREATE INDEX host_facts_runs ON host_facts(first_run_id, last_run_id);

-- A VM, stable across runs and live migrations (Msvm_ComputerSystem.Name).
CREATE TABLE vms (
    id              INTEGER PRIMARY KEY,
    guid            TEXT NOT NULL UNIQUE,          -- upper case, no braces
    first_run_id    INTEGER NOT NULL REFERENCES runs(id)
);

-- Where a VM ran and what it looked like, as intervals. A live migration
-- closes one row and opens another with a different host_id.
CREATE TABLE vm_facts (
    id                  INTEGER PRIMARY KEY,
    vm_id               INTEGER NOT NULL REFERENCES vms(id),
    host_id             INTEGER NOT NULL REFERENCES hosts(id),
    first_run_id        INTEGER NOT NULL REFERENCES runs(id),
    last_run_id         INTEGER NOT NULL REFERENCES runs(id),
    name                TEXT,
    bios_guid           TEXT,       -- as read (upper case, no braces)
    bios_serial         TEXT,
    state               TEXT NOT NULL,  -- running/off/saved/paused/starting/stopping/other
    enabled_state       INTEGER,        -- raw EnabledState
    health_state        INTEGER,
    vcpus               INTEGER,        -- Msvm_ProcessorSettingData.VirtualQuantity (realized)
    cpu_limit_pct       REAL,           -- Limit / 1000
    cpu_reservation_pct REAL,           -- Reservation / 1000
    cpu_weight          INTEGER,
    memory_mb           INTEGER,
    dynamic_memory      INTEGER,        -- 0/1
    replication         TEXT NOT NULL,  -- none/primary/replica/test_replica/extended_replica/other
    replication_mode    INTEGER,        -- raw ReplicationMode
    generation          INTEGER,        -- 1 or 2
    version             TEXT,           -- configuration version
    clustered           INTEGER NOT NULL DEFAULT 0,
    digest              TEXT NOT NULL
);
CREATE INDEX vm_facts_vm ON vm_facts(vm_id, last_run_id);
CREATE INDEX vm_facts_host ON vm_facts(host_id, last_run_id);
CREATE INDEX vm_facts_runs ON vm_facts(first_run_id, last_run_id);

CREATE TABLE clusters (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,           -- upper case as WMI reports it
    first_run_id    INTEGER NOT NULL REFERENCES runs(id)
);

-- The cluster as seen from its nodes: FQDN, node list, and which node owns
-- each clustered VM (MSCluster_Resource, Type 'Virtual Machine').
CREATE TABLE cluster_facts (
    id              INTEGER PRIMARY KEY,
    cluster_id      INTEGER NOT NULL REFERENCES clusters(id),
    first_run_id    INTEGER NOT NULL REFERENCES runs(id),
    last_run_id     INTEGER NOT NULL REFERENCES runs(id),
    fqdn            TEXT,
    nodes           TEXT NOT NULL,  -- JSON array of {"name":…, "state":…}, sorted by name
    vm_owners       TEXT NOT NULL,  -- JSON array of {"vm_guid":…, "resource":…, "owner_node":…, "state":…}, sorted
    digest          TEXT NOT NULL
);
CREATE INDEX cluster_facts_cluster ON cluster_facts(cluster_id, last_run_id);
