//! Every error kind the collector can produce can be stored, and a database
//! written before a kind was added still opens, migrates and keeps its rows.

use hvinv::error::ErrorKind;
use hvinv::store::{HostOutcome, OpenMode, Store};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::Path;
use std::time::Duration;

fn failed(kind: ErrorKind) -> HostOutcome {
    HostOutcome::Failed {
        kind,
        message: format!("failed with {kind}"),
        duration: Duration::from_millis(5),
        round_trips: 0,
    }
}

#[tokio::test]
async fn every_error_kind_is_stored_as_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hvinv.db");
    let store = Store::open(path.to_str().unwrap(), OpenMode::ReadWrite)
        .await
        .unwrap();
    let run = store.begin_run(ErrorKind::ALL.len() as u32).await.unwrap();
    for kind in ErrorKind::ALL {
        store
            .record_host(run, &format!("host-{kind}"), &failed(kind))
            .await
            .unwrap_or_else(|e| panic!("{kind} cannot be stored: {e}"));
    }
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT error_kind FROM host_outcomes ORDER BY address")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut want: Vec<String> = ErrorKind::ALL.iter().map(|k| k.to_string()).collect();
    want.sort_by_key(|k| format!("host-{k}"));
    assert_eq!(stored, want);
    for k in &stored {
        assert!(ErrorKind::parse(k).is_some(), "{k} reads back");
    }
}

#[tokio::test]
async fn a_database_from_before_name_not_resolved_migrates_and_keeps_its_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    // The first two migrations only, as an older hvinv left the file.
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for name in ["20261123000001_initial.sql", "20261123000002_addresses.sql"] {
        std::fs::copy(migrations.join(name), old.join(name)).unwrap();
    }
    let path = dir.path().join("hvinv.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO runs (id, started_at, status, hvinv_version, hosts_total) VALUES (1, '2026-11-23T14:00:00Z', 'complete', '0.1.0', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO host_outcomes (run_id, address, status, error_kind, error_message, finished_at)
             VALUES (1, 'hv01', 'failed', 'unreachable', 'refused', '2026-11-23T14:00:01Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        // The new kind is refused by the old schema.
        let refused = sqlx::query(
            "INSERT INTO host_outcomes (run_id, address, status, error_kind, finished_at)
             VALUES (1, 'hv02', 'failed', 'name_not_resolved', '2026-11-23T14:00:01Z')",
        )
        .execute(&pool)
        .await;
        assert!(refused.is_err());
        pool.close().await;
    }

    let store = Store::open(path.to_str().unwrap(), OpenMode::ReadWrite)
        .await
        .unwrap();
    let kept: (String, String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT address, status, error_kind, error_message FROM host_outcomes WHERE run_id = 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        kept,
        (
            "hv01".into(),
            "failed".into(),
            Some("unreachable".into()),
            Some("refused".into())
        )
    );
    let run = store.begin_run(1).await.unwrap();
    store
        .record_host(run, "hv02", &failed(ErrorKind::NameNotResolved))
        .await
        .unwrap();
    let ic: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(ic, "ok");
}
