//! Outcomes as intervals (`outcome_spans`): what an unchanged run writes,
//! what ends a span, the per-run answers, and the migration of a database
//! written by the previous release (`tests/fixtures/store/v2-release.db`,
//! made by that release's `record_host`: 6 runs, run 5 interrupted before
//! hv3, hv1 timing out in runs 3 and 4 and warning from run 5, 10.0.0.99
//! never reached, hv2 under two addresses).

mod store_support;

use hvinv::error::ErrorKind;
use hvinv::inventory::HostSnapshot;
use hvinv::store::read::Outcome;
use hvinv::store::{HostId, HostOutcome, OpenMode, RunId, Store};
use std::time::Duration;
use store_support::*;

fn ok(snapshot: HostSnapshot) -> HostOutcome {
    HostOutcome::Ok {
        snapshot,
        duration: Duration::from_millis(120),
        round_trips: 9,
    }
}

fn failed(kind: ErrorKind, message: &str) -> HostOutcome {
    HostOutcome::Failed {
        kind,
        message: message.into(),
        duration: Duration::from_millis(3000),
        round_trips: 1,
    }
}

/// (address, first_run_id, last_run_id, status) of every span.
async fn spans(store: &Store) -> Vec<(String, i64, i64, String)> {
    sqlx::query_as(
        "SELECT address, first_run_id, last_run_id, status FROM outcome_spans
         ORDER BY address, first_run_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

fn span(a: &str, first: i64, last: i64, status: &str) -> (String, i64, i64, String) {
    (a.to_string(), first, last, status.to_string())
}

#[tokio::test]
async fn unchanged_runs_extend_one_span_per_address() {
    let (_d, store) = temp_store().await;
    for _ in 0..3 {
        let run = store.begin_run(2).await.unwrap();
        store
            .record_host(run, "hv0", &ok(host(0, 2)))
            .await
            .unwrap();
        let down = failed(ErrorKind::Unreachable, "connection refused");
        store.record_host(run, "hv9", &down).await.unwrap();
        store.finish_run(run).await.unwrap();
    }
    assert_eq!(
        spans(&store).await,
        [span("hv0", 1, 3, "ok"), span("hv9", 1, 3, "failed")]
    );
    // The view still has one row per address per run.
    assert_eq!(count(&store, "host_outcomes").await, 6);
    let counts: (i64, i64) = sqlx::query_as("SELECT hosts_ok, hosts_failed FROM runs WHERE id = 2")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(counts, (1, 1));
}

#[tokio::test]
async fn a_change_of_outcome_or_a_run_without_the_address_ends_the_span() {
    let (_d, store) = temp_store().await;
    let timeout = |m: &str| failed(ErrorKind::Timeout, m);
    let plan: [Option<HostOutcome>; 7] = [
        Some(ok(host(0, 1))),
        Some(timeout("no answer in 60 s")),
        Some(timeout("no answer in 60 s")),
        Some(timeout("no answer in 30 s")), // another message: another span
        None,                               // run 5 did not reach the address
        Some(ok(host(0, 1))),
        Some(ok(host(0, 2))), // same host and outcome, new facts: the span goes on
    ];
    for step in &plan {
        let run = store.begin_run(1).await.unwrap();
        match step {
            Some(o) => {
                store.record_host(run, "hv0", o).await.unwrap();
                store.finish_run(run).await.unwrap();
            }
            None => store.mark_interrupted(run).await.unwrap(),
        }
    }
    assert_eq!(
        spans(&store).await,
        [
            span("hv0", 1, 1, "ok"),
            span("hv0", 2, 3, "failed"),
            span("hv0", 4, 4, "failed"),
            span("hv0", 6, 7, "ok"),
        ]
    );
    let o = store
        .reader()
        .outcome_of_address(RunId(3), "hv0")
        .await
        .unwrap();
    let o = o.expect("run 3 recorded hv0");
    assert_eq!(
        (o.ok, o.error_kind.as_deref(), o.error_message.as_deref()),
        (false, Some("timeout"), Some("no answer in 60 s"))
    );
    assert_eq!(
        store
            .reader()
            .outcome_of_address(RunId(5), "hv0")
            .await
            .unwrap(),
        None
    );
    let host = HostId(o.host_id.expect("a failed address names its last host"));
    let in4 = store
        .reader()
        .outcomes_of_host(RunId(4), host)
        .await
        .unwrap();
    assert_eq!(in4.len(), 1);
    assert_eq!(in4[0].error_message.as_deref(), Some("no answer in 30 s"));
    assert!(
        store
            .reader()
            .outcomes_of_host(RunId(5), host)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn hosts_recorded_in_one_transaction_are_stored_as_one_by_one() {
    let (_d, store) = temp_store().await;
    let at = chrono::Utc::now();
    for _ in 0..2 {
        let run = store.begin_run(3).await.unwrap();
        let (a, b) = (ok(host(0, 2)), ok(host(1, 1)));
        let c = failed(ErrorKind::Auth, "the account was refused");
        let batch = [("hv0", &a), ("hv1", &b), ("hv2", &c)];
        let hosts = store.record_hosts_at(run, &batch, at).await.unwrap();
        assert_eq!(hosts.iter().filter(|h| h.is_some()).count(), 2);
        store.finish_run(run).await.unwrap();
    }
    assert_eq!(
        spans(&store).await,
        [
            span("hv0", 1, 2, "ok"),
            span("hv1", 1, 2, "ok"),
            span("hv2", 1, 2, "failed")
        ]
    );
    assert_eq!(count(&store, "vm_facts").await, 3);
}

#[tokio::test]
async fn a_second_outcome_for_one_address_in_one_run_is_refused() {
    let (_d, store) = temp_store().await;
    for _ in 0..2 {
        let run = store.begin_run(1).await.unwrap();
        store
            .record_host(run, "hv0", &ok(host(0, 1)))
            .await
            .unwrap();
        let again = store.record_host(run, "hv0", &ok(host(0, 1))).await;
        assert!(again.is_err(), "{again:?}");
        store.finish_run(run).await.unwrap();
    }
    assert_eq!(spans(&store).await, [span("hv0", 1, 2, "ok")]);
}

fn fixture_copy() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/store/v2-release.db"
    );
    std::fs::copy(src, &path).unwrap();
    (dir, path.to_str().unwrap().to_string())
}

type V2Row = (
    i64,
    String,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    i64,
);

const V2_ROWS: &str =
    "SELECT run_id, address, host_id, status, error_kind, error_message, warnings,
     finished_at, duration_ms, round_trips FROM host_outcomes ORDER BY run_id, address";

async fn v2_rows(store: &Store) -> Vec<V2Row> {
    sqlx::query_as(V2_ROWS)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn runs_table(store: &Store) -> Vec<(i64, String, i64, i64)> {
    sqlx::query_as("SELECT id, status, hosts_ok, hosts_failed FROM runs ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_previous_release_database_migrates_without_losing_an_outcome() {
    let (_d, path) = fixture_copy();
    let old = Store::open(&path, OpenMode::ReadOnly).await.unwrap();
    let before = v2_rows(&old).await;
    let runs_before = runs_table(&old).await;
    old.close().await;
    // What the fixture holds, checked against how it was made.
    assert_eq!(before.len(), 35);
    assert!(
        before
            .iter()
            .all(|r| !(r.0 == 5 && r.1 == "hv3.contoso.com"))
    );
    let hv1: Vec<_> = before.iter().filter(|r| r.1 == "hv1.contoso.com").collect();
    assert_eq!(
        hv1.iter().map(|r| r.3.as_str()).collect::<Vec<_>>(),
        ["ok", "ok", "failed", "failed", "ok", "ok"]
    );

    let store = Store::open(&path, OpenMode::ReadWrite).await.unwrap();
    assert_eq!(
        v2_rows(&store).await,
        before,
        "the view gives every old row back"
    );
    assert_eq!(runs_table(&store).await, runs_before);
    assert_eq!(count(&store, "outcome_spans").await, 35);

    // The next run extends the old rows that it repeats.
    let run = store.begin_run(4).await.unwrap();
    assert_eq!(run, RunId(7));
    store
        .record_host(run, "hv0.contoso.com", &ok(host(0, 4)))
        .await
        .unwrap();
    let down = failed(ErrorKind::Unreachable, "connection refused");
    store.record_host(run, "10.0.0.99", &down).await.unwrap();
    store.finish_run(run).await.unwrap();
    assert_eq!(count(&store, "outcome_spans").await, 35);
    let hv0 = store
        .reader()
        .outcome_of_address(run, "hv0.contoso.com")
        .await;
    assert!(hv0.unwrap().is_some_and(|o| o.ok));
    let in7: Vec<Outcome> = store.reader().outcomes_for_run(run.0).await.unwrap();
    let addresses: Vec<&str> = in7.iter().map(|o| o.address.as_str()).collect();
    assert_eq!(addresses, ["10.0.0.99", "hv0.contoso.com"]);
    // Old runs still answer as before.
    let o = store
        .reader()
        .outcome_of_address(RunId(4), "hv1.contoso.com")
        .await;
    let o = o.unwrap().unwrap();
    assert_eq!(o.error_kind.as_deref(), Some("timeout"));
    assert_eq!(
        &hvinv::store::time::to_stored(o.finished_at),
        &before
            .iter()
            .find(|r| r.0 == 4 && r.1 == "hv1.contoso.com")
            .unwrap()
            .7
    );
}
