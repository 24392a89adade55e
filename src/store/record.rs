//! Writing one host's outcome: one transaction per host, as it finishes.

use crate::error::ErrorKind;
use crate::inventory::HostSnapshot;
use crate::store::error::StoreError;
use crate::store::facts::int;
use crate::store::hosts::write_facts;
use crate::store::interval::Tx;
use crate::store::outcomes::{OutcomeRow, write_outcome};
use crate::store::time::to_stored;
use crate::store::{HostId, RunId, Store};
use std::time::Duration;

/// How collecting one configured address ended.
// Not boxed: one value per host, moved once from collector to store.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum HostOutcome {
    Ok {
        snapshot: HostSnapshot,
        duration: Duration,
        round_trips: u64,
    },
    Failed {
        kind: ErrorKind,
        message: String,
        duration: Duration,
        round_trips: u64,
    },
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Records one address's outcome in `run`, in one transaction. An OK
    /// host's facts extend their intervals or open new ones; a host already
    /// written in this run (reached under a second address) gets only its
    /// outcome row. A failed address is linked to the host it last reached,
    /// whose facts stay as they were.
    pub async fn record_host(
        &self,
        run: RunId,
        address: &str,
        outcome: &HostOutcome,
    ) -> Result<Option<HostId>, StoreError> {
        self.record_host_at(run, address, outcome, chrono::Utc::now())
            .await
    }

    /// `record_host` with the host's finish time given (the history
    /// generator writes a past quarter through this same path).
    pub async fn record_host_at(
        &self,
        run: RunId,
        address: &str,
        outcome: &HostOutcome,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<HostId>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let host = record_in(&mut tx, run, address, outcome, at).await?;
        tx.commit().await?;
        Ok(host)
    }

    /// Several addresses' outcomes in `run`, in one transaction (each as
    /// `record_host` would write it): one commit for many hosts.
    pub async fn record_hosts_at(
        &self,
        run: RunId,
        outcomes: &[(&str, &HostOutcome)],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Option<HostId>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut hosts = Vec::with_capacity(outcomes.len());
        for (address, outcome) in outcomes {
            hosts.push(record_in(&mut tx, run, address, outcome, at).await?);
        }
        tx.commit().await?;
        Ok(hosts)
    }
}

/// One address's outcome, inside the caller's transaction.
async fn record_in(
    tx: &mut Tx,
    run: RunId,
    address: &str,
    outcome: &HostOutcome,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<HostId>, StoreError> {
    let finished_at = to_stored(at);
    // A snapshot with nothing to key the host on cannot hold facts; it is
    // recorded as a failure rather than aborting the run.
    let unidentified;
    let outcome = match outcome {
        HostOutcome::Ok {
            snapshot,
            duration,
            round_trips,
        } if snapshot.identity.key(snapshot.name.as_deref()).is_none() => {
            unidentified = HostOutcome::Failed {
                kind: ErrorKind::Protocol,
                message: "the host reported no UUID, serial number or computer name".into(),
                duration: *duration,
                round_trips: *round_trips,
            };
            &unidentified
        }
        other => other,
    };
    let (host, status, kind, message, warnings, duration, trips) = match outcome {
        HostOutcome::Ok {
            snapshot,
            duration,
            round_trips,
        } => {
            let host = write_facts(tx, run, snapshot).await?;
            sqlx::query(
                "INSERT INTO addresses (address, host_id) VALUES ($1, $2)
                     ON CONFLICT (address) DO UPDATE SET host_id = excluded.host_id
                     WHERE addresses.host_id <> excluded.host_id",
            )
            .bind(address)
            .bind(host.0)
            .execute(&mut **tx)
            .await?;
            let warnings =
                serde_json::to_string(&snapshot.warnings).map_err(|source| StoreError::Encode {
                    what: "warnings",
                    source,
                })?;
            (
                Some(host),
                "ok",
                None,
                None,
                warnings,
                *duration,
                *round_trips,
            )
        }
        HostOutcome::Failed {
            kind,
            message,
            duration,
            round_trips,
        } => {
            let host: Option<i64> =
                sqlx::query_scalar("SELECT host_id FROM addresses WHERE address = $1")
                    .bind(address)
                    .fetch_optional(&mut **tx)
                    .await?;
            (
                host.map(HostId),
                "failed",
                Some(kind.as_str()),
                Some(message.as_str()),
                "[]".to_string(),
                *duration,
                *round_trips,
            )
        }
    };
    let row = OutcomeRow {
        host: host.map(|h| h.0),
        status,
        kind,
        message,
        warnings: &warnings,
        finished_at: &finished_at,
        duration_ms: millis(duration),
        round_trips: int(Some(trips)).unwrap_or(i64::MAX),
    };
    write_outcome(tx, run, address, &row).await?;
    Ok(host)
}
