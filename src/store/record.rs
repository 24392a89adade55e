//! Writing one host's outcome: one transaction per host, as it finishes.

use crate::error::ErrorKind;
use crate::inventory::HostSnapshot;
use crate::store::error::StoreError;
use crate::store::facts::int;
use crate::store::hosts::write_facts;
use crate::store::{HostId, RunId, Store, now_rfc3339};
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
        let mut tx = self.pool.begin().await?;
        let (host, status, kind, message, warnings, duration, trips) = match outcome {
            HostOutcome::Ok {
                snapshot,
                duration,
                round_trips,
            } => {
                let host = write_facts(&mut tx, run, snapshot).await?;
                sqlx::query(
                    "INSERT INTO addresses (address, host_id) VALUES ($1, $2)
                     ON CONFLICT (address) DO UPDATE SET host_id = excluded.host_id
                     WHERE addresses.host_id <> excluded.host_id",
                )
                .bind(address)
                .bind(host.0)
                .execute(&mut *tx)
                .await?;
                let warnings = serde_json::to_string(&snapshot.warnings).map_err(|source| {
                    StoreError::Encode {
                        what: "warnings",
                        source,
                    }
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
                        .fetch_optional(&mut *tx)
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
        sqlx::query(
            "INSERT INTO host_outcomes (run_id, address, host_id, status, error_kind, error_message, warnings,
                                        finished_at, duration_ms, round_trips)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(run.0)
        .bind(address)
        .bind(host.map(|h| h.0))
        .bind(status)
        .bind(kind)
        .bind(message)
        .bind(warnings)
        .bind(now_rfc3339())
        .bind(millis(duration))
        .bind(int(Some(trips)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(host)
    }
}
