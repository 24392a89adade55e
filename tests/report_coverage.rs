//! `report coverage` over a hand-built database: per address, per run, the
//! 30-minute cadence, per cluster the nodes never collected, in JSON
//! (`hvinv.coverage/1`), CSV and table. Every expected figure is worked out
//! by hand in the comments.

mod report_support;
mod store_support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use hvinv::error::ErrorKind;
use hvinv::inventory::{ClusterNode, ClusterSnapshot, HostSnapshot};
use hvinv::report::{self, CoverageOptions, CoverageReport, Format};
use hvinv::store::{HostOutcome, Store};
use report_support::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn coverage_names_failures_gaps_and_cadence_breaks() {
    // Runs at 02:00, 02:30, 03:30 (60 min after 02:30: a break), 04:00.
    // hv01 OK in all four; hv02 OK in 1, timeout in 2, auth in 3, OK in 4:
    // its longest gap between OK runs is 02:00 → 04:00, 120 minutes.
    let db = new_db().await;
    for (id, at) in [
        (1, "2026-11-01T02:00:00Z"),
        (2, "2026-11-01T02:30:00Z"),
        (3, "2026-11-01T03:30:00Z"),
        (4, "2026-11-01T04:00:00Z"),
    ] {
        db.run(id, at).await;
    }
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    for run in 1..=4 {
        db.ok(run, "hv01", 1).await;
    }
    db.ok(1, "hv02", 2).await;
    db.failed(2, "hv02", Some(2), "timeout", "no answer").await;
    db.failed(3, "hv02", Some(2), "auth", "denied").await;
    db.ok(4, "hv02", 2).await;

    let opts = CoverageOptions {
        from: Some(t("2026-11-01T00:00:00Z")),
        to: Some(t("2026-11-02T00:00:00Z")),
    };
    let r = report::coverage::build(&db.pool, opts).await.unwrap();
    assert!(!r.complete);
    let mut json = Vec::new();
    report::render(&r, Format::Json, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["schema"], "hvinv.coverage/1");
    let hv02 = &v["addresses"][1];
    assert_eq!(hv02["address"], "hv02");
    assert_eq!(
        (hv02["runs_ok"].as_i64(), hv02["runs_failed"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(hv02["error_kinds"]["timeout"], 1);
    assert_eq!(hv02["error_kinds"]["auth"], 1);
    assert_eq!(hv02["longest_ok_gap_minutes"], 120);
    assert_eq!(v["addresses"][0]["longest_ok_gap_minutes"], 60);
    let breaks = v["cadence_breaks"].as_array().unwrap();
    assert_eq!(breaks.len(), 1);
    assert_eq!(
        (
            breaks[0]["after_run"].as_i64(),
            breaks[0]["next_run"].as_i64()
        ),
        (Some(2), Some(3))
    );
    assert_eq!(breaks[0]["minutes"], 60);
    assert_eq!(v["runs"][3]["within_cadence"], true);

    let mut csv = Vec::new();
    report::render(&r, Format::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.lines()
            .any(|l| l == "hv02,2,2,auth: 1; timeout: 1,0,1,4,120,1,4,1,false"),
        "{text}"
    );

    let mut table = Vec::new();
    report::render(&r, Format::Table, &mut table).unwrap();
    let text = String::from_utf8(table).unwrap();
    assert!(text.contains("Cadence breaks (1)"), "{text}");
    assert!(text.contains("INCOMPLETE"), "{text}");
}

/// Host `n` of the store tests, known as `name` (and `fqdn`), reporting
/// cluster CLU01 with `nodes` when given.
fn snapshot(n: u32, name: &str, fqdn: Option<&str>, nodes: &[&str]) -> HostSnapshot {
    let mut h = store_support::host(n, 0);
    h.name = Some(name.into());
    h.fqdn = fqdn.map(str::to_string);
    h.cluster = (!nodes.is_empty()).then(|| ClusterSnapshot {
        name: "CLU01".into(),
        fqdn: Some("clu01.contoso.com".into()),
        nodes: nodes
            .iter()
            .map(|n| ClusterNode {
                name: n.to_string(),
                state: "up".into(),
            })
            .collect(),
        vm_owners: vec![],
    });
    h
}

fn ok(snapshot: HostSnapshot) -> HostOutcome {
    HostOutcome::Ok {
        snapshot,
        duration: Duration::from_millis(10),
        round_trips: 3,
    }
}

fn timeout() -> HostOutcome {
    HostOutcome::Failed {
        kind: ErrorKind::Timeout,
        message: "no answer".into(),
        duration: Duration::from_millis(10),
        round_trips: 0,
    }
}

/// Two runs (02:00 and 02:30, 30 minutes apart: no cadence break), each
/// writing every `(address, outcome)` through the store's own write path.
async fn two_runs(hosts: &[(&str, HostOutcome)]) -> (tempfile::TempDir, Store) {
    let (dir, store) = store_support::temp_store().await;
    for at in ["2026-11-01T02:00:00Z", "2026-11-01T02:30:00Z"] {
        let run = store.begin_run_at(hosts.len() as u32, t(at)).await.unwrap();
        for (address, outcome) in hosts {
            store
                .record_host_at(run, address, outcome, t(at))
                .await
                .unwrap();
        }
        store.finish_run_at(run, t(at)).await.unwrap();
    }
    (dir, store)
}

async fn coverage(store: &Store) -> CoverageReport {
    let opts = CoverageOptions {
        from: Some(t("2026-11-01T00:00:00Z")),
        to: Some(t("2026-11-02T00:00:00Z")),
    };
    report::coverage::build(store, opts).await.unwrap()
}

fn json(r: &CoverageReport) -> serde_json::Value {
    let mut out = Vec::new();
    report::render(r, Format::Json, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test]
async fn cluster_nodes_failed_or_never_configured_are_listed_and_make_it_incomplete() {
    // CLU01 names HV01, HV02, HV03 (reported by HV01). hv01 is OK in both
    // runs; hv02 times out in both (so no host facts name it); HV03 is in
    // no configuration. Never collected: HV02 and HV03. The cluster's facts
    // hold in runs 1 and 2.
    let (_dir, store) = two_runs(&[
        (
            "hv01.contoso.com",
            ok(snapshot(1, "HV01", None, &["HV01", "HV02", "HV03"])),
        ),
        ("hv02.contoso.com", timeout()),
    ])
    .await;
    let r = coverage(&store).await;
    assert!(!r.complete);
    let v = json(&r);
    assert_eq!(
        v["clusters"],
        serde_json::json!([{
            "name": "CLU01",
            "nodes_seen": ["HV01", "HV02", "HV03"],
            "nodes_never_collected": ["HV02", "HV03"],
            "first_run": 1,
            "last_run": 2
        }])
    );

    let mut table = Vec::new();
    report::render(&r, Format::Table, &mut table).unwrap();
    let text = String::from_utf8(table).unwrap();
    assert!(
        text.contains("Clusters (1; 2 node(s) never collected)"),
        "{text}"
    );
    assert!(text.contains("HV02, HV03"), "{text}");
}

#[tokio::test]
async fn a_cluster_whose_every_node_was_collected_lists_none_and_stays_complete() {
    // HV01 and HV02 both OK in both runs, both reporting CLU01 = {HV01,
    // HV02}; runs 30 minutes apart: nothing is missing anywhere.
    let nodes = ["HV01", "HV02"];
    let (_dir, store) = two_runs(&[
        ("hv01.contoso.com", ok(snapshot(1, "HV01", None, &nodes))),
        ("hv02.contoso.com", ok(snapshot(2, "HV02", None, &nodes))),
    ])
    .await;
    let r = coverage(&store).await;
    let v = json(&r);
    assert_eq!(v["clusters"][0]["nodes_seen"], serde_json::json!(nodes));
    assert_eq!(
        v["clusters"][0]["nodes_never_collected"],
        serde_json::json!([])
    );
    assert_eq!(v["complete"], true);
}

#[tokio::test]
async fn node_names_match_host_names_and_fqdn_labels_ignoring_case() {
    // MSCluster names "hv01" and "Hv02". Host 1 calls itself HV01; host 2
    // calls itself NODE-B but its FQDN's first label is hv02, and it is
    // reached by IP, so only the FQDN can match it. "HV03" matches nothing.
    // Every address is OK and the runs keep the cadence, so the one
    // uncollected node alone makes the report incomplete.
    let nodes = ["hv01", "Hv02", "HV03"];
    let (_dir, store) = two_runs(&[
        ("10.0.0.1", ok(snapshot(1, "HV01", None, &nodes))),
        (
            "10.0.0.2",
            ok(snapshot(2, "NODE-B", Some("hv02.contoso.com"), &[])),
        ),
    ])
    .await;
    let r = coverage(&store).await;
    assert!(r.cadence_breaks.is_empty());
    assert!(r.addresses.iter().all(|a| a.runs_failed == 0));
    let v = json(&r);
    assert_eq!(
        v["clusters"][0]["nodes_never_collected"],
        serde_json::json!(["HV03"])
    );
    assert_eq!(v["complete"], false);
    // The CSV keeps one row per address; it says incomplete all the same.
    let mut csv = Vec::new();
    report::render(&r, Format::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.lines().skip(1).all(|l| l.ends_with(",0,false")),
        "{text}"
    );
}
