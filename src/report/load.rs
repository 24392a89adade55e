//! Read-only SQL against the store schema (`migrations/`), as runtime
//! queries. Every function reads; none writes. Rows come back typed, with
//! times parsed and JSON columns decoded, so report code never sees SQL text.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::{ReportError, time};

/// Opens a database for reading only. Accepts a `sqlite:` URL or a path.
/// WAL lets a report read while a collection writes.
pub async fn open_read_only(url_or_path: &str) -> Result<SqlitePool, ReportError> {
    let opts = if url_or_path.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url_or_path)?
    } else {
        SqliteConnectOptions::new().filename(url_or_path)
    };
    let opts = opts.read_only(true).create_if_missing(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await?;
    Ok(pool)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    started_at: String,
    finished_at: Option<String>,
    status: String,
}

impl TryFrom<RunRow> for Run {
    type Error = ReportError;
    fn try_from(r: RunRow) -> Result<Self, ReportError> {
        Ok(Run {
            id: r.id,
            started_at: time::parse(&r.started_at, "runs", "started_at")?,
            finished_at: time::parse_opt(r.finished_at.as_deref(), "runs", "finished_at")?,
            status: r.status,
        })
    }
}

// Column lists as macros so every statement is one `&'static str`
// (sqlx 0.9 refuses dynamic SQL text).
macro_rules! run_cols {
    () => {
        "SELECT id, started_at, finished_at, status FROM runs"
    };
}

pub async fn latest_complete_run(pool: &SqlitePool) -> Result<Option<Run>, ReportError> {
    let sql = concat!(
        run_cols!(),
        " WHERE status = 'complete' ORDER BY id DESC LIMIT 1"
    );
    let row: Option<RunRow> = sqlx::query_as(sql).fetch_optional(pool).await?;
    row.map(Run::try_from).transpose()
}

pub async fn run_by_id(pool: &SqlitePool, id: i64) -> Result<Option<Run>, ReportError> {
    let sql = concat!(run_cols!(), " WHERE id = ?");
    let row: Option<RunRow> = sqlx::query_as(sql).bind(id).fetch_optional(pool).await?;
    row.map(Run::try_from).transpose()
}

/// Complete runs whose start lies in `[from, to]`, oldest first. Interrupted
/// runs are left out: a host missing from one is not a fact about the host.
pub async fn complete_runs_between(
    pool: &SqlitePool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Run>, ReportError> {
    // Times are compared after parsing, not as text, so a stored offset
    // other than Z cannot misplace a run.
    let sql = concat!(run_cols!(), " WHERE status = 'complete' ORDER BY id");
    let rows: Vec<RunRow> = sqlx::query_as(sql).fetch_all(pool).await?;
    let mut runs = Vec::new();
    for r in rows {
        let run = Run::try_from(r)?;
        if run.started_at >= from && run.started_at <= to {
            runs.push(run);
        }
    }
    Ok(runs)
}

/// All complete runs, oldest first.
pub async fn complete_runs(pool: &SqlitePool) -> Result<Vec<Run>, ReportError> {
    let sql = concat!(run_cols!(), " WHERE status = 'complete' ORDER BY id");
    let rows: Vec<RunRow> = sqlx::query_as(sql).fetch_all(pool).await?;
    rows.into_iter().map(Run::try_from).collect()
}

/// One configured address in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub run_id: i64,
    pub address: String,
    pub host_id: Option<i64>,
    pub ok: bool,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub warnings: Vec<String>,
    pub finished_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    run_id: i64,
    address: String,
    host_id: Option<i64>,
    status: String,
    error_kind: Option<String>,
    error_message: Option<String>,
    warnings: String,
    finished_at: String,
}

impl TryFrom<OutcomeRow> for Outcome {
    type Error = ReportError;
    fn try_from(r: OutcomeRow) -> Result<Self, ReportError> {
        // Warnings are text for people: an odd value is shown as stored
        // rather than failing the whole report.
        let warnings: Vec<String> =
            serde_json::from_str(&r.warnings).unwrap_or_else(|_| vec![r.warnings.clone()]);
        Ok(Outcome {
            run_id: r.run_id,
            address: r.address,
            host_id: r.host_id,
            ok: r.status == "ok",
            error_kind: r.error_kind,
            error_message: r.error_message,
            warnings,
            finished_at: time::parse(&r.finished_at, "host_outcomes", "finished_at")?,
        })
    }
}

macro_rules! outcome_cols {
    () => {
        "SELECT run_id, address, host_id, status, error_kind, error_message, \
         warnings, finished_at FROM host_outcomes"
    };
}

pub async fn outcomes_for_run(pool: &SqlitePool, run_id: i64) -> Result<Vec<Outcome>, ReportError> {
    let sql = concat!(outcome_cols!(), " WHERE run_id = ? ORDER BY address");
    let rows: Vec<OutcomeRow> = sqlx::query_as(sql).bind(run_id).fetch_all(pool).await?;
    rows.into_iter().map(Outcome::try_from).collect()
}

/// Outcomes of every run with `lo <= run_id <= hi`, by run then address.
pub async fn outcomes_between(
    pool: &SqlitePool,
    lo: i64,
    hi: i64,
) -> Result<Vec<Outcome>, ReportError> {
    let sql = concat!(
        outcome_cols!(),
        " WHERE run_id BETWEEN ? AND ? ORDER BY run_id, address"
    );
    let rows: Vec<OutcomeRow> = sqlx::query_as(sql)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(Outcome::try_from).collect()
}

/// The keys of an outcome, without its texts: what the PVU report needs
/// for every host of every run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutcomeKey {
    pub run_id: i64,
    pub address: String,
    pub host_id: Option<i64>,
    pub ok: bool,
}

pub async fn outcome_keys_between(
    pool: &SqlitePool,
    lo: i64,
    hi: i64,
) -> Result<Vec<OutcomeKey>, ReportError> {
    let sql = "SELECT run_id, address, host_id, status = 'ok' AS ok FROM host_outcomes \
               WHERE run_id BETWEEN ? AND ? ORDER BY run_id, address";
    Ok(sqlx::query_as(sql)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?)
}

/// The newest OK outcome for `address` in a complete run before `run_id`.
pub async fn last_ok_before(
    pool: &SqlitePool,
    address: &str,
    run_id: i64,
) -> Result<Option<(Outcome, Run)>, ReportError> {
    let sql = "SELECT o.run_id, o.address, o.host_id, o.status, o.error_kind, o.error_message, \
               o.warnings, o.finished_at FROM host_outcomes o JOIN runs r ON r.id = o.run_id \
               WHERE o.address = ? AND o.run_id < ? AND o.status = 'ok' AND r.status = 'complete' \
               ORDER BY o.run_id DESC LIMIT 1";
    let row: Option<OutcomeRow> = sqlx::query_as(sql)
        .bind(address)
        .bind(run_id)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let outcome = Outcome::try_from(row)?;
    let run = run_by_id(pool, outcome.run_id)
        .await?
        .ok_or(ReportError::RunNotFound(outcome.run_id))?;
    Ok(Some((outcome, run)))
}

/// Host facts valid over `first_run_id..=last_run_id` (only for the runs in
/// that range where the host's outcome is OK).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HostFacts {
    pub id: i64,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub fqdn: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub os: Option<String>,
    pub sockets: Option<i64>,
    pub cores: Option<i64>,
    pub logical_processors: Option<i64>,
    pub memory_mb: Option<i64>,
    pub processor_vendor: Option<String>,
    pub processor_model: Option<String>,
    pub cluster_name: Option<String>,
}

impl HostFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

/// Host facts whose interval overlaps `[lo, hi]`.
pub async fn host_facts_overlapping(
    pool: &SqlitePool,
    lo: i64,
    hi: i64,
) -> Result<Vec<HostFacts>, ReportError> {
    let sql = "SELECT f.id, f.host_id, f.first_run_id, f.last_run_id, h.uuid, f.name, f.fqdn, \
               f.manufacturer, f.model, f.serial, f.os, f.sockets, f.cores, f.logical_processors, \
               f.memory_mb, f.processor_vendor, f.processor_model, f.cluster_name \
               FROM host_facts f JOIN hosts h ON h.id = f.host_id \
               WHERE f.first_run_id <= ? AND f.last_run_id >= ? ORDER BY f.host_id, f.first_run_id";
    Ok(sqlx::query_as(sql)
        .bind(hi)
        .bind(lo)
        .fetch_all(pool)
        .await?)
}

/// A VM's facts (and host) over `first_run_id..=last_run_id`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VmFacts {
    pub id: i64,
    pub vm_id: i64,
    pub guid: String,
    pub host_id: i64,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub name: Option<String>,
    pub bios_guid: Option<String>,
    pub state: String,
    pub vcpus: Option<i64>,
    pub cpu_limit_pct: Option<f64>,
    pub memory_mb: Option<i64>,
    pub dynamic_memory: Option<bool>,
    pub replication: String,
    pub generation: Option<i64>,
    pub clustered: bool,
}

impl VmFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

/// VM facts whose interval overlaps `[lo, hi]`, by VM then time.
pub async fn vm_facts_overlapping(
    pool: &SqlitePool,
    lo: i64,
    hi: i64,
) -> Result<Vec<VmFacts>, ReportError> {
    let sql = "SELECT f.id, f.vm_id, v.guid, f.host_id, f.first_run_id, f.last_run_id, f.name, \
               f.bios_guid, f.state, f.vcpus, f.cpu_limit_pct, f.memory_mb, f.dynamic_memory, \
               f.replication, f.generation, f.clustered \
               FROM vm_facts f JOIN vms v ON v.id = f.vm_id \
               WHERE f.first_run_id <= ? AND f.last_run_id >= ? ORDER BY v.guid, f.first_run_id";
    let mut rows: Vec<VmFacts> = sqlx::query_as(sql)
        .bind(hi)
        .bind(lo)
        .fetch_all(pool)
        .await?;
    // Normalised once here so per-run comparisons need no allocation.
    for r in &mut rows {
        r.guid = super::topology::norm_guid(&r.guid);
    }
    Ok(rows)
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClusterNode {
    pub name: String,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VmOwner {
    pub vm_guid: String,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub owner_node: Option<String>,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFacts {
    pub cluster_id: i64,
    pub name: String,
    pub first_run_id: i64,
    pub last_run_id: i64,
    pub fqdn: Option<String>,
    pub nodes: Vec<ClusterNode>,
    pub vm_owners: Vec<VmOwner>,
}

impl ClusterFacts {
    pub fn covers(&self, run_id: i64) -> bool {
        self.first_run_id <= run_id && run_id <= self.last_run_id
    }
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    cluster_id: i64,
    name: String,
    first_run_id: i64,
    last_run_id: i64,
    fqdn: Option<String>,
    nodes: String,
    vm_owners: String,
}

/// Cluster facts whose interval overlaps `[lo, hi]`.
pub async fn cluster_facts_overlapping(
    pool: &SqlitePool,
    lo: i64,
    hi: i64,
) -> Result<Vec<ClusterFacts>, ReportError> {
    let sql = "SELECT f.cluster_id, c.name, f.first_run_id, f.last_run_id, f.fqdn, f.nodes, \
               f.vm_owners FROM cluster_facts f JOIN clusters c ON c.id = f.cluster_id \
               WHERE f.first_run_id <= ? AND f.last_run_id >= ? ORDER BY c.name, f.first_run_id";
    let rows: Vec<ClusterRow> = sqlx::query_as(sql)
        .bind(hi)
        .bind(lo)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|r| {
            let nodes = serde_json::from_str(&r.nodes)
                .map_err(|e| ReportError::bad("cluster_facts", "nodes", e.to_string()))?;
            let vm_owners = serde_json::from_str(&r.vm_owners)
                .map_err(|e| ReportError::bad("cluster_facts", "vm_owners", e.to_string()))?;
            Ok(ClusterFacts {
                cluster_id: r.cluster_id,
                name: r.name,
                first_run_id: r.first_run_id,
                last_run_id: r.last_run_id,
                fqdn: r.fqdn,
                nodes,
                vm_owners,
            })
        })
        .collect()
}

/// Every run whatever its status (facts may name a run still going).
pub async fn all_runs(pool: &SqlitePool) -> Result<Vec<Run>, ReportError> {
    let sql = concat!(run_cols!(), " ORDER BY id");
    let rows: Vec<RunRow> = sqlx::query_as(sql).fetch_all(pool).await?;
    rows.into_iter().map(Run::try_from).collect()
}

/// The first run strictly between `after` and `before` in which host
/// `seen_on` was collected OK and, when given, `also_ok` too: a VM missing
/// from `seen_on` then was really gone from both.
pub async fn first_ok_run_between(
    pool: &SqlitePool,
    seen_on: i64,
    also_ok: Option<i64>,
    after: i64,
    before: i64,
) -> Result<Option<i64>, ReportError> {
    let sql = "SELECT MIN(o.run_id) FROM host_outcomes o WHERE o.host_id = ? AND o.status = 'ok' \
               AND o.run_id > ? AND o.run_id < ? AND (? IS NULL OR EXISTS (SELECT 1 FROM \
               host_outcomes p WHERE p.run_id = o.run_id AND p.host_id = ? AND p.status = 'ok'))";
    let row: (Option<i64>,) = sqlx::query_as(sql)
        .bind(seen_on)
        .bind(after)
        .bind(before)
        .bind(also_ok)
        .bind(also_ok)
        .fetch_one(pool)
        .await?;
    Ok(row.0)
}

/// Each host's newest name (host facts) and address (OK outcome).
pub async fn host_labels(
    pool: &SqlitePool,
) -> Result<std::collections::HashMap<i64, (Option<String>, Option<String>)>, ReportError> {
    let names: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT host_id, name FROM host_facts f WHERE last_run_id = \
         (SELECT MAX(last_run_id) FROM host_facts g WHERE g.host_id = f.host_id)",
    )
    .fetch_all(pool)
    .await?;
    let addresses: Vec<(i64, String)> = sqlx::query_as(
        "SELECT host_id, address FROM host_outcomes o WHERE host_id IS NOT NULL AND run_id = \
         (SELECT MAX(run_id) FROM host_outcomes p WHERE p.host_id = o.host_id) ORDER BY address",
    )
    .fetch_all(pool)
    .await?;
    let mut map: std::collections::HashMap<i64, (Option<String>, Option<String>)> =
        std::collections::HashMap::new();
    for (h, n) in names {
        map.entry(h).or_default().0 = n;
    }
    for (h, a) in addresses {
        let e = map.entry(h).or_default();
        if e.1.is_none() {
            e.1 = Some(a);
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(warnings: &str) -> OutcomeRow {
        OutcomeRow {
            run_id: 1,
            address: "hv01".into(),
            host_id: Some(1),
            status: "ok".into(),
            error_kind: None,
            error_message: None,
            warnings: warnings.into(),
            finished_at: "2026-11-23T02:00:00Z".into(),
        }
    }

    #[test]
    fn outcome_warnings_decode_and_odd_values_are_kept_as_text() {
        let o = Outcome::try_from(row(r#"["a","b"]"#)).unwrap();
        assert_eq!(o.warnings, ["a", "b"]);
        let o = Outcome::try_from(row("not json")).unwrap();
        assert_eq!(o.warnings, ["not json"]);
    }

    #[test]
    fn outcome_with_a_bad_time_names_the_column() {
        let mut r = row("[]");
        r.finished_at = "soon".into();
        let e = Outcome::try_from(r).unwrap_err();
        assert!(e.to_string().contains("host_outcomes.finished_at"), "{e}");
    }
}
