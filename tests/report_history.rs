//! History report: placements and events from vm_facts intervals.

mod report_support;

use hvinv::report::history::EventKind;
use hvinv::report::{self, Format, HistoryOptions};
use report_support::*;

const M: &str = "11111111-0000-0000-0000-000000000001";
const S: &str = "11111111-0000-0000-0000-000000000002";
const N: &str = "11111111-0000-0000-0000-000000000003";

/// Runs 1–4, hosts HV01 and HV02 OK in every run.
/// M (8 vCPU) on HV01 in runs 1–2, on HV02 in run 3 with 12 vCPUs, off on
/// HV02 in run 4. S on HV02 in run 1 only (removed in run 2). N appears on
/// HV01 in run 3 (added: HV01 was collected without it before).
async fn estate() -> Db {
    let db = new_db().await;
    for (id, t) in [
        (1, "2026-11-01T02:00:00Z"),
        (2, "2026-11-02T02:00:00Z"),
        (3, "2026-11-03T02:00:00Z"),
        (4, "2026-11-04T02:00:00Z"),
    ] {
        db.run(id, t).await;
    }
    for (id, addr, name) in [(1, "hv01", "HV01"), (2, "hv02", "HV02")] {
        db.host(id, &format!("AAAAAAAA-0000-0000-0000-00000000000{id}"), 1)
            .await;
        for run in 1..=4 {
            db.ok(run, addr, id).await;
        }
        db.host_facts(id, 1, 4, &xeon(name, 2, 16)).await;
    }
    db.vm(1, M, 1).await;
    db.vm_facts(1, 1, 1, 2, &vm("M", "running", 8)).await;
    db.vm_facts(1, 2, 3, 3, &vm("M", "running", 12)).await;
    db.vm_facts(1, 2, 4, 4, &vm("M", "off", 12)).await;
    db.vm(2, S, 1).await;
    db.vm_facts(2, 2, 1, 1, &vm("S", "running", 2)).await;
    db.vm(3, N, 3).await;
    db.vm_facts(3, 1, 3, 4, &vm("N", "running", 1)).await;
    db
}

#[tokio::test]
async fn history_of_one_vm_shows_migration_vcpu_and_state_changes() {
    let db = estate().await;
    let opts = HistoryOptions {
        vm: Some("m".into()),
        ..HistoryOptions::default()
    };
    let r = report::history::build(&db.pool, opts).await.unwrap();
    assert_eq!(r.vms.len(), 1);
    let h = &r.vms[0];
    assert_eq!(h.id, M);
    let p: Vec<(&str, i64, i64)> = h
        .placements
        .iter()
        .map(|p| (p.host.as_str(), p.from.id, p.to.id))
        .collect();
    assert_eq!(p, [("HV01", 1, 2), ("HV02", 3, 4)]);
    let e: Vec<(i64, EventKind)> = h.events.iter().map(|e| (e.run.id, e.kind)).collect();
    assert_eq!(
        e,
        [
            (3, EventKind::Migrated),
            (3, EventKind::VcpusChanged),
            (4, EventKind::StateChanged),
        ]
    );
    let mig = &h.events[0];
    assert_eq!(
        (mig.before.as_deref(), mig.after.as_deref()),
        (Some("HV01"), Some("HV02"))
    );
    assert_eq!(h.events[1].after.as_deref(), Some("12"));
    assert_eq!(h.events[0].run.at.to_rfc3339(), "2026-11-03T02:00:00+00:00");
}

#[tokio::test]
async fn history_of_the_estate_shows_a_removed_vm() {
    let db = estate().await;
    let r = report::history::build(&db.pool, HistoryOptions::default())
        .await
        .unwrap();
    assert_eq!(r.vms.len(), 3);
    // Present at the first run: no "added" event, only its removal.
    let s = r.vms.iter().find(|v| v.id == S).unwrap();
    let e: Vec<(i64, EventKind)> = s.events.iter().map(|e| (e.run.id, e.kind)).collect();
    assert_eq!(e, [(2, EventKind::Removed)]);
    let n = r.vms.iter().find(|v| v.id == N).unwrap();
    let e: Vec<(i64, EventKind, &str)> = n
        .events
        .iter()
        .map(|e| (e.run.id, e.kind, e.host.as_str()))
        .collect();
    assert_eq!(e, [(3, EventKind::Added, "HV01")]);
    let mut out = Vec::new();
    report::render(&r, Format::Json, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "hvinv.history/1");
    let mut out = Vec::new();
    report::render(&r, Format::Table, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("migrated"), "{text}");
}

#[tokio::test]
async fn history_limited_to_a_period_keeps_only_its_events() {
    let db = estate().await;
    let opts = HistoryOptions {
        vm: Some(M.to_lowercase()),
        from: Some("2026-11-02T00:00:00Z".parse().unwrap()),
        to: Some("2026-11-03T12:00:00Z".parse().unwrap()),
    };
    let r = report::history::build(&db.pool, opts).await.unwrap();
    let e: Vec<(i64, EventKind)> = r.vms[0].events.iter().map(|e| (e.run.id, e.kind)).collect();
    assert_eq!(e, [(3, EventKind::Migrated), (3, EventKind::VcpusChanged)]);
    let p: Vec<(i64, i64)> = r.vms[0]
        .placements
        .iter()
        .map(|p| (p.from.id, p.to.id))
        .collect();
    assert_eq!(p, [(2, 2), (3, 3)]);
}

#[tokio::test]
async fn history_of_an_unknown_vm_is_an_error() {
    let db = estate().await;
    let opts = HistoryOptions {
        vm: Some("nope".into()),
        ..HistoryOptions::default()
    };
    let e = report::history::build(&db.pool, opts).await.unwrap_err();
    assert!(matches!(e, report::ReportError::VmNotFound(_)), "{e}");
}
