//! Reading the `runs` table.

use chrono::{DateTime, Utc};

use super::Reader;
use crate::store::time;
use crate::store::{RunId, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
}

impl RunStatus {
    pub fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "running" => Some(RunStatus::Running),
            "complete" => Some(RunStatus::Complete),
            "interrupted" => Some(RunStatus::Interrupted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// A `runs` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub hvinv_version: String,
    pub hosts_total: i64,
    pub hosts_ok: i64,
    pub hosts_failed: i64,
}

impl Run {
    pub fn is_complete(&self) -> bool {
        self.status == RunStatus::Complete
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    started_at: String,
    finished_at: Option<String>,
    status: String,
    hvinv_version: String,
    hosts_total: i64,
    hosts_ok: i64,
    hosts_failed: i64,
}

impl TryFrom<RunRow> for Run {
    type Error = StoreError;
    fn try_from(r: RunRow) -> Result<Self, StoreError> {
        Ok(Run {
            id: r.id,
            started_at: time::parse(&r.started_at, "runs", "started_at")?,
            finished_at: time::parse_opt(r.finished_at.as_deref(), "runs", "finished_at")?,
            status: RunStatus::parse(&r.status)
                .ok_or_else(|| StoreError::bad("runs", "status", format!("{:?}", r.status)))?,
            hvinv_version: r.hvinv_version,
            hosts_total: r.hosts_total,
            hosts_ok: r.hosts_ok,
            hosts_failed: r.hosts_failed,
        })
    }
}

// Column lists as macros so every statement is one `&'static str`
// (sqlx 0.9 refuses dynamic SQL text).
macro_rules! select_runs {
    () => {
        "SELECT id, started_at, finished_at, status, hvinv_version, hosts_total, hosts_ok, \
         hosts_failed FROM runs"
    };
}

impl Reader<'_> {
    pub async fn run(&self, id: RunId) -> Result<Option<Run>, StoreError> {
        let row: Option<RunRow> = sqlx::query_as(concat!(select_runs!(), " WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(self.pool)
            .await?;
        row.map(Run::try_from).transpose()
    }

    /// The newest run that finished normally.
    pub async fn latest_complete_run(&self) -> Result<Option<Run>, StoreError> {
        let row: Option<RunRow> = sqlx::query_as(concat!(
            select_runs!(),
            " WHERE status = 'complete' ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(self.pool)
        .await?;
        row.map(Run::try_from).transpose()
    }

    /// Runs of any status (facts may name a run still going) whose start
    /// lies in `[from, to]`, oldest first; either bound may be open.
    pub async fn runs_between(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<Run>, StoreError> {
        let rows: Vec<RunRow> = sqlx::query_as(concat!(select_runs!(), " ORDER BY id"))
            .fetch_all(self.pool)
            .await?;
        within(rows, from, to)
    }

    /// Complete runs whose start lies in `[from, to]`, oldest first.
    /// Interrupted runs are left out: a host missing from one is not a fact
    /// about the host.
    pub async fn complete_runs_between(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<Run>, StoreError> {
        let rows: Vec<RunRow> = sqlx::query_as(concat!(
            select_runs!(),
            " WHERE status = 'complete' ORDER BY id"
        ))
        .fetch_all(self.pool)
        .await?;
        within(rows, from, to)
    }
}

/// Compared after parsing, not as text, so a stored offset other than Z
/// cannot misplace a run.
fn within(
    rows: Vec<RunRow>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<Run>, StoreError> {
    let mut runs = Vec::new();
    for r in rows {
        let run = Run::try_from(r)?;
        if from.is_none_or(|f| run.started_at >= f) && to.is_none_or(|t| run.started_at <= t) {
            runs.push(run);
        }
    }
    Ok(runs)
}
