//! `report coverage` over a hand-built database: per address, per run, the
//! 30-minute cadence, in JSON (`hvinv.coverage/1`), CSV and table. Every
//! expected figure is worked out by hand in the comments.

mod report_support;

use chrono::{DateTime, Utc};
use hvinv::report::{self, CoverageOptions, Format};
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
