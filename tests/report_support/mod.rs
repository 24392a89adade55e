//! A migrated temporary database and row helpers for the report tests.
//! Estates are written row by row, as the store's schema defines them, so
//! report tests do not depend on the collector.

#![allow(dead_code)]

use std::path::PathBuf;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

pub struct Db {
    pub pool: SqlitePool,
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn new_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hvinv.db");
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    Db {
        pool,
        path,
        _dir: dir,
    }
}

/// Host facts with the fields tests care about; the rest default.
#[derive(Clone)]
pub struct HostSpec {
    pub name: &'static str,
    pub fqdn: Option<&'static str>,
    pub sockets: i64,
    pub cores: Option<i64>,
    pub logical_processors: i64,
    pub vendor: &'static str,
    pub model: &'static str,
    pub cluster: Option<&'static str>,
    pub manufacturer: &'static str,
    pub hw_model: &'static str,
    pub serial: &'static str,
    pub os: &'static str,
    pub memory_mb: i64,
    pub region: &'static str,
}

pub const XEON: &str = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz";
pub const EPYC: &str = "AMD EPYC 7543 32-Core Processor";

pub fn xeon(name: &'static str, sockets: i64, cores: i64) -> HostSpec {
    HostSpec {
        name,
        fqdn: None,
        sockets,
        cores: Some(cores),
        logical_processors: cores * 2,
        vendor: "GenuineIntel",
        model: XEON,
        cluster: None,
        manufacturer: "Dell Inc.",
        hw_model: "PowerEdge R740",
        serial: "SERIAL",
        os: "Microsoft Windows Server 2022 Datacenter 10.0.20348",
        memory_mb: 262144,
        region: "default",
    }
}

pub fn epyc(name: &'static str, sockets: i64, cores: i64) -> HostSpec {
    HostSpec {
        vendor: "AuthenticAMD",
        model: EPYC,
        ..xeon(name, sockets, cores)
    }
}

/// A VM's facts with the fields tests care about.
#[derive(Clone)]
pub struct VmSpec {
    pub name: &'static str,
    pub state: &'static str,
    pub vcpus: Option<i64>,
    pub bios_guid: Option<&'static str>,
    pub memory_mb: i64,
    pub replication: &'static str,
    pub clustered: bool,
}

pub fn vm(name: &'static str, state: &'static str, vcpus: i64) -> VmSpec {
    VmSpec {
        name,
        state,
        vcpus: Some(vcpus),
        bios_guid: None,
        memory_mb: 4096,
        replication: "none",
        clustered: false,
    }
}

impl Db {
    pub async fn run(&self, id: i64, started_at: &str) {
        self.run_with_status(id, started_at, Some(started_at), "complete")
            .await;
    }

    pub async fn run_with_status(
        &self,
        id: i64,
        started_at: &str,
        finished_at: Option<&str>,
        status: &str,
    ) {
        sqlx::query(
            "INSERT INTO runs (id, started_at, finished_at, status, hvinv_version) \
             VALUES (?, ?, ?, ?, 'test')",
        )
        .bind(id)
        .bind(started_at)
        .bind(finished_at)
        .bind(status)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn host(&self, id: i64, uuid: &str, first_run: i64) {
        sqlx::query(
            "INSERT INTO hosts (id, identity, uuid, serial, first_run_id) VALUES (?, ?, ?, NULL, ?)",
        )
        .bind(id)
        .bind(format!("uuid:{uuid}"))
        .bind(uuid)
        .bind(first_run)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn ok(&self, run: i64, address: &str, host: i64) {
        self.ok_with_warnings(run, address, host, "[]").await;
    }

    pub async fn ok_with_warnings(&self, run: i64, address: &str, host: i64, warnings: &str) {
        sqlx::query(
            "INSERT INTO outcome_spans (first_run_id, last_run_id, address, host_id, status, warnings, \
             finished_at) VALUES (?, ?, ?, ?, 'ok', ?, (SELECT started_at FROM runs WHERE id = ?))",
        )
        .bind(run)
        .bind(run)
        .bind(address)
        .bind(host)
        .bind(warnings)
        .bind(run)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn failed(&self, run: i64, address: &str, host: Option<i64>, kind: &str, msg: &str) {
        sqlx::query(
            "INSERT INTO outcome_spans (first_run_id, last_run_id, address, host_id, status, \
             error_kind, error_message, finished_at) VALUES (?, ?, ?, ?, 'failed', ?, ?, \
             (SELECT started_at FROM runs WHERE id = ?))",
        )
        .bind(run)
        .bind(run)
        .bind(address)
        .bind(host)
        .bind(kind)
        .bind(msg)
        .bind(run)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn host_facts(&self, host: i64, first: i64, last: i64, h: &HostSpec) {
        sqlx::query(
            "INSERT INTO host_facts (host_id, first_run_id, last_run_id, name, fqdn, manufacturer, \
             model, serial, os, sockets, cores, logical_processors, memory_mb, processor_vendor, \
             processor_model, cluster_name, region, digest) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'd')",
        )
        .bind(host)
        .bind(first)
        .bind(last)
        .bind(h.name)
        .bind(h.fqdn)
        .bind(h.manufacturer)
        .bind(h.hw_model)
        .bind(h.serial)
        .bind(h.os)
        .bind(h.sockets)
        .bind(h.cores)
        .bind(h.logical_processors)
        .bind(h.memory_mb)
        .bind(h.vendor)
        .bind(h.model)
        .bind(h.cluster)
        .bind(h.region)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn vm(&self, id: i64, guid: &str, first_run: i64) {
        sqlx::query("INSERT INTO vms (id, guid, first_run_id) VALUES (?, ?, ?)")
            .bind(id)
            .bind(guid)
            .bind(first_run)
            .execute(&self.pool)
            .await
            .unwrap();
    }

    pub async fn vm_facts(&self, vm: i64, host: i64, first: i64, last: i64, v: &VmSpec) {
        sqlx::query(
            "INSERT INTO vm_facts (vm_id, host_id, first_run_id, last_run_id, name, bios_guid, \
             state, vcpus, cpu_limit_pct, memory_mb, dynamic_memory, replication, generation, \
             clustered, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 100.0, ?, 0, ?, 2, ?, 'd')",
        )
        .bind(vm)
        .bind(host)
        .bind(first)
        .bind(last)
        .bind(v.name)
        .bind(v.bios_guid)
        .bind(v.state)
        .bind(v.vcpus)
        .bind(v.memory_mb)
        .bind(v.replication)
        .bind(v.clustered)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    pub async fn cluster(
        &self,
        id: i64,
        name: &str,
        fqdn: &str,
        (first, last): (i64, i64),
        nodes: &[&str],
        owners: &[(&str, &str)],
    ) {
        sqlx::query("INSERT OR IGNORE INTO clusters (id, name, first_run_id) VALUES (?, ?, ?)")
            .bind(id)
            .bind(name)
            .bind(first)
            .execute(&self.pool)
            .await
            .unwrap();
        let nodes: Vec<serde_json::Value> = nodes
            .iter()
            .map(|n| serde_json::json!({"name": n, "state": "Up"}))
            .collect();
        sqlx::query(
            "INSERT INTO cluster_facts (cluster_id, first_run_id, last_run_id, fqdn, nodes) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(first)
        .bind(last)
        .bind(fqdn)
        .bind(serde_json::Value::from(nodes).to_string())
        .execute(&self.pool)
        .await
        .unwrap();
        // Each owner over the same runs as the cluster's row.
        for (g, n) in owners {
            sqlx::query(
                "INSERT INTO cluster_vm_facts (cluster_id, first_run_id, last_run_id, vm_guid, \
                 resource, owner_node, state) VALUES (?, ?, ?, ?, ?, ?, 'Online')",
            )
            .bind(id)
            .bind(first)
            .bind(last)
            .bind(g)
            .bind(format!("Virtual Machine {g}"))
            .bind(n)
            .execute(&self.pool)
            .await
            .unwrap();
        }
    }
}
