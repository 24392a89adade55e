//! PVU report against hand-built estates. Every expected figure is worked
//! out by hand in the comments from pvu.md's rules and the default table
//! (Xeon/EPYC: ≤2 sockets 70, 3–4 sockets 100, >4 120; unknown 120).

mod report_support;

use chrono::{DateTime, Duration, Utc};
use hvinv::report::{self, Format, PvuOptions, PvuReport};
use report_support::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn period(from: &str, to: &str) -> PvuOptions {
    PvuOptions {
        from: Some(t(from)),
        to: Some(t(to)),
        ..PvuOptions::default()
    }
}

fn host<'a>(r: &'a PvuReport, address: &str) -> &'a report::pvu::HostLine {
    r.hosts
        .iter()
        .find(|h| h.address == address)
        .unwrap_or_else(|| panic!("no host {address} in {:?}", r.hosts))
}

const G1: &str = "11111111-0000-0000-0000-000000000001";
const G2: &str = "11111111-0000-0000-0000-000000000002";
const G3: &str = "11111111-0000-0000-0000-000000000003";

/// One run, one host: the shortest estate.
async fn one_host(spec: HostSpec, vms: &[VmSpec]) -> Db {
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.ok(1, "hv01", 1).await;
    db.host_facts(1, 1, 1, &spec).await;
    for (i, v) in vms.iter().enumerate() {
        let id = i as i64 + 1;
        db.vm(id, &format!("22222222-0000-0000-0000-{id:012}"), 1)
            .await;
        db.vm_facts(id, 1, 1, 1, v).await;
    }
    db
}

#[tokio::test]
async fn vm_with_more_vcpus_than_the_host_counts_only_the_host_cores() {
    // Xeon, 2 sockets, 16 cores → 70 PVU/core. A 24-vCPU running VM is
    // capped at 16 cores: 16 × 70 = 1120. An off VM counts nothing.
    // Full capacity 16 × 70 = 1120; entitlement min(1120, 1120) = 1120.
    let db = one_host(
        xeon("HV01", 2, 16),
        &[vm("big", "running", 24), vm("idle", "off", 8)],
    )
    .await;
    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let h = host(&r, "hv01");
    assert_eq!(h.rate.pvu_per_core, 70);
    assert_eq!(h.peak_sub_capacity_cores, 16);
    assert_eq!(h.peak_sub_capacity_pvu, 1120);
    assert_eq!(r.totals.sub_capacity_peak_pvu, 1120);
    assert_eq!(r.totals.full_capacity_pvu, 1120);
    assert_eq!(r.totals.entitlement_pvu, 1120);
    assert_eq!(r.peak_detail[0].vms.len(), 1, "the off VM is not counted");
    assert_eq!(r.peak_detail[0].vms[0].licensable_cores, 16);
    assert!(r.complete);
}

#[tokio::test]
async fn vms_whose_sum_exceeds_the_host_are_capped_at_the_host() {
    // Xeon 2 sockets, 16 cores, 70/core. Counted (running, paused):
    // 8 + 6 + 4 = 18 > 16 → 16 × 70 = 1120 (naive sum: 18 × 70 = 1260).
    // The 10-vCPU off VM does not count.
    let vms = [
        vm("a", "running", 8),
        vm("b", "paused", 6),
        vm("c", "running", 4),
        vm("d", "off", 10),
    ];
    let db = one_host(xeon("HV01", 2, 16), &vms).await;
    let opts = period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z");
    let r = report::pvu::build(&db.pool, opts.clone()).await.unwrap();
    assert_eq!(r.totals.sub_capacity_peak_pvu, 1120);
    assert_eq!(r.counted_states, ["running", "paused"]);

    // Only running VMs: 8 + 4 = 12 cores × 70 = 840.
    let running_only = PvuOptions {
        counted_states: vec!["running".into()],
        ..opts
    };
    let r = report::pvu::build(&db.pool, running_only).await.unwrap();
    assert_eq!(r.totals.sub_capacity_peak_pvu, 840);
    assert_eq!(r.totals.entitlement_pvu, 840);
    assert_eq!(r.totals.entitlement_basis, "sub_capacity");
}

#[tokio::test]
async fn a_vm_that_migrated_is_not_counted_twice_in_the_period_peak() {
    // HV01 and HV02: Xeon 2 sockets 16 cores, 70/core each.
    // M (8 vCPU) on HV01 in run 1, on HV02 in run 2; S (2 vCPU) on HV02.
    // Run 1: HV01 8×70 = 560, HV02 2×70 = 140 → 700.
    // Run 2: HV01 0, HV02 (8+2)×70 = 700 → 700.
    // Peak 700 (earliest: run 1). Per-host peaks: HV01 560 @1, HV02 700 @2;
    // their sum, 1260, is what a naive report would claim.
    // Full capacity 2 × 1120 = 2240; entitlement 700. One run per UTC day.
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.run(2, "2026-11-02T02:00:00Z").await;
    for (id, addr, name) in [(1, "hv01", "HV01"), (2, "hv02", "HV02")] {
        db.host(id, &format!("AAAAAAAA-0000-0000-0000-00000000000{id}"), 1)
            .await;
        db.ok(1, addr, id).await;
        db.ok(2, addr, id).await;
        db.host_facts(id, 1, 2, &xeon(name, 2, 16)).await;
    }
    db.vm(1, G1, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("M", "running", 8)).await;
    db.vm_facts(1, 2, 2, 2, &vm("M", "running", 8)).await;
    db.vm(2, G2, 1).await;
    db.vm_facts(2, 2, 1, 2, &vm("S", "running", 2)).await;

    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(r.totals.sub_capacity_peak_pvu, 700);
    assert_eq!(r.totals.sub_capacity_peak_run, 1);
    assert_eq!(r.totals.full_capacity_pvu, 2240);
    assert_eq!(r.totals.entitlement_pvu, 700);
    assert_eq!(
        (
            host(&r, "hv01").peak_sub_capacity_pvu,
            host(&r, "hv01").peak_run
        ),
        (560, 1)
    );
    assert_eq!(
        (
            host(&r, "hv02").peak_sub_capacity_pvu,
            host(&r, "hv02").peak_run
        ),
        (700, 2)
    );
    let ids: Vec<i64> = r.runs.iter().map(|x| x.id).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(r.days.len(), 2);
    assert_eq!(r.days[0].date.to_string(), "2026-11-01");
    assert_eq!(
        (r.days[0].sub_capacity_pvu, r.days[1].sub_capacity_pvu),
        (700, 700)
    );
    // CSV: one row per host per day: 2 hosts × 2 days + header.
    let mut csv = Vec::new();
    report::render(&r, Format::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with(
            "2026-11-02,hv02,HV02,2,70,intel-xeon-2s,16,1120,10,700,2,false,700,2240,true"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_cluster_mixing_intel_and_amd_prices_each_node_at_its_own_rate() {
    // CLU01: HV01 Xeon 2 sockets 16 cores → 70; HV02 EPYC 4 sockets 32
    // cores → 100. A (4 vCPU) on HV01, B (4 vCPU) on HV02.
    // Sub-capacity 4×70 + 4×100 = 680 (one rate for both would give 560
    // or 800). Full 16×70 + 32×100 = 1120 + 3200 = 4320.
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    db.ok(1, "hv01.contoso.com", 1).await;
    db.ok(1, "hv02.contoso.com", 2).await;
    let mut h1 = xeon("HV01", 2, 16);
    h1.cluster = Some("CLU01");
    let mut h2 = epyc("HV02", 4, 32);
    h2.cluster = Some("CLU01");
    db.host_facts(1, 1, 1, &h1).await;
    db.host_facts(2, 1, 1, &h2).await;
    db.vm(1, G1, 1).await;
    db.vm(2, G2, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("A", "running", 4)).await;
    db.vm_facts(2, 2, 1, 1, &vm("B", "running", 4)).await;
    db.cluster(
        1,
        "CLU01",
        "clu01.contoso.com",
        (1, 1),
        &["HV01", "HV02"],
        &[(G1, "HV01"), (G2, "HV02")],
    )
    .await;

    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let (a, b) = (host(&r, "hv01.contoso.com"), host(&r, "hv02.contoso.com"));
    assert_eq!(
        (a.rate.pvu_per_core, a.rate.row.as_deref()),
        (70, Some("intel-xeon-2s"))
    );
    assert_eq!(
        (b.rate.pvu_per_core, b.rate.row.as_deref()),
        (100, Some("amd-epyc-4s"))
    );
    assert_eq!(
        (a.peak_sub_capacity_pvu, b.peak_sub_capacity_pvu),
        (280, 400)
    );
    assert_eq!(r.totals.sub_capacity_peak_pvu, 680);
    assert_eq!(r.totals.full_capacity_pvu, 4320);
    assert!(r.complete, "every node collected: {:?}", r.gaps);
    assert!(r.gaps.is_empty());
}

#[tokio::test]
async fn a_failed_host_is_carried_forward_then_becomes_a_gap_when_stale() {
    // HV01, HV02: Xeon 2 sockets 16 cores, 70/core. V1 (8) on HV01,
    // V2 (4) on HV02. Run 1 (Nov 1 00:00) both OK. Run 2 (Nov 1 12:00)
    // HV01 fails: its run-1 snapshot is 12 h old ≤ 24 h → carried forward.
    // Run 3 (Nov 2 06:00) HV01 fails: run 1 is 30 h old > 24 h → gap.
    // The period starts Nov 1 06:00, so run 1 is only the look-back.
    // Run 2: 8×70 + 4×70 = 840 (carried 560 + 280). Run 3: 280 only.
    // Peak 840 at run 2, and the report is flagged incomplete.
    let db = new_db().await;
    db.run(1, "2026-11-01T00:00:00Z").await;
    db.run(2, "2026-11-01T12:00:00Z").await;
    db.run(3, "2026-11-02T06:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    db.ok(1, "hv01", 1).await;
    db.failed(2, "hv01", Some(1), "timeout", "operation timed out")
        .await;
    db.failed(3, "hv01", None, "unreachable", "connection refused")
        .await;
    for run in 1..=3 {
        db.ok(run, "hv02", 2).await;
    }
    db.host_facts(1, 1, 1, &xeon("HV01", 2, 16)).await;
    db.host_facts(2, 1, 3, &xeon("HV02", 2, 16)).await;
    db.vm(1, G1, 1).await;
    db.vm(2, G2, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("V1", "running", 8)).await;
    db.vm_facts(2, 2, 1, 3, &vm("V2", "running", 4)).await;

    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T06:00:00Z", "2026-11-03T00:00:00Z"),
    )
    .await
    .unwrap();
    let ids: Vec<i64> = r.runs.iter().map(|x| x.id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(r.runs[0].carried_forward, ["hv01"]);
    assert_eq!(
        (r.runs[0].sub_capacity_pvu, r.runs[1].sub_capacity_pvu),
        (840, 280)
    );
    assert_eq!(r.totals.sub_capacity_peak_pvu, 840);
    assert_eq!(r.totals.sub_capacity_peak_run, 2);
    let h1 = host(&r, "hv01");
    assert!(h1.peak_carried_forward);
    assert_eq!((h1.runs_counted, h1.runs_carried_forward), (1, 1));
    assert!(!r.complete);
    assert_eq!(r.gaps.len(), 1, "{:?}", r.gaps);
    let g = &r.gaps[0];
    assert_eq!(
        (g.kind, g.address.as_deref(), g.last_ok_run),
        ("stale", Some("hv01"), Some(1))
    );
    assert_eq!((g.first_run, g.last_run), (3, 3));

    // With a 48 h limit run 3 can use run 1 too: 840 in both runs, no gap.
    let lenient = PvuOptions {
        max_staleness: Duration::hours(48),
        ..period("2026-11-01T06:00:00Z", "2026-11-03T00:00:00Z")
    };
    let r = report::pvu::build(&db.pool, lenient).await.unwrap();
    assert_eq!(r.runs[1].sub_capacity_pvu, 840);
    assert!(r.complete, "{:?}", r.gaps);
}

#[tokio::test]
async fn a_carried_forward_vm_seen_on_an_ok_host_counts_once() {
    // Run 1: V1 (8) on HV01, V2 (4) on HV02, both OK.
    // Run 2: HV01 fails (carried from run 1, 12 h) while V1 now runs on
    // HV02 (fresh). V1 counts once, on HV02: HV02 (8+4)×70 = 840, HV01
    // carried with nothing left = 0 → 840. Naive: 560 + 840 = 1400.
    let db = new_db().await;
    db.run(1, "2026-11-01T00:00:00Z").await;
    db.run(2, "2026-11-01T12:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    db.ok(1, "hv01", 1).await;
    db.failed(2, "hv01", Some(1), "timeout", "timed out").await;
    db.ok(1, "hv02", 2).await;
    db.ok(2, "hv02", 2).await;
    db.host_facts(1, 1, 1, &xeon("HV01", 2, 16)).await;
    db.host_facts(2, 1, 2, &xeon("HV02", 2, 16)).await;
    db.vm(1, G1, 1).await;
    db.vm(2, G2, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("V1", "running", 8)).await;
    db.vm_facts(1, 2, 2, 2, &vm("V1", "running", 8)).await;
    db.vm_facts(2, 2, 1, 2, &vm("V2", "running", 4)).await;

    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T06:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(r.runs.len(), 1);
    assert_eq!(r.runs[0].carried_forward, ["hv01"]);
    assert_eq!(r.totals.sub_capacity_peak_pvu, 840);
    assert_eq!(host(&r, "hv01").peak_sub_capacity_pvu, 0);
    assert_eq!(host(&r, "hv02").peak_sub_capacity_pvu, 840);
    // Full capacity still counts the failed host: 2 × 1120.
    assert_eq!(r.totals.full_capacity_pvu, 2240);
}

#[tokio::test]
async fn an_unknown_processor_is_priced_at_120_and_says_so() {
    // 1 socket, 8 cores, a processor no row matches → 120/core.
    // VM 2 vCPU → 2 × 120 = 240; full 8 × 120 = 960.
    let mut spec = xeon("HV01", 1, 8);
    spec.vendor = "HygonGenuine";
    spec.model = "Hygon C86 7185 32-core Processor";
    let db = one_host(spec, &[vm("a", "running", 2)]).await;
    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let h = host(&r, "hv01");
    assert!(h.rate.unknown_processor);
    assert_eq!(h.rate.pvu_per_core, 120);
    assert_eq!((h.peak_sub_capacity_pvu, h.full_capacity_pvu), (240, 960));
    assert!(
        h.notes.iter().any(|n| n.contains("unknown processor")),
        "{:?}",
        h.notes
    );
    let mut out = Vec::new();
    report::render(&r, Format::Table, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("hv01") && l.contains("Hygon"))
        .unwrap();
    assert!(line.contains("unknown processor"), "{line}");
}

#[tokio::test]
async fn vm_list_matches_guid_bios_guid_in_either_order_and_name() {
    // Xeon 2 sockets 40 cores, 70/core. VMs: A 4 (listed by GUID), B 6
    // (listed by its BIOS GUID in the other byte order), C 2 (listed by
    // name in another case), D 8 (not listed).
    // Counted 4 + 6 + 2 = 12 → 840; without the list 20 → 1400.
    let mut b = vm("B", "running", 6);
    b.bios_guid = Some("7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0");
    let db = one_host(
        xeon("HV01", 2, 40),
        &[
            vm("A", "running", 4),
            b,
            vm("DB2-Prod", "running", 2),
            vm("D", "running", 8),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("vms.txt");
    std::fs::write(
        &list,
        "# product VMs\n{22222222-0000-0000-0000-000000000001}\n3E2D1C7B-504F-7261-8394-A5B6C7D8E9F0\ndb2-prod\nghost\n",
    )
    .unwrap();
    let opts = period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z");
    let all = report::pvu::build(&db.pool, opts.clone()).await.unwrap();
    assert_eq!(all.totals.sub_capacity_peak_pvu, 1400);
    let listed = PvuOptions {
        vms_file: Some(list),
        ..opts
    };
    let r = report::pvu::build(&db.pool, listed).await.unwrap();
    assert_eq!(r.totals.sub_capacity_peak_pvu, 840);
    let l = r.vm_list.as_ref().unwrap();
    assert_eq!(
        (l.entries, l.unmatched.clone()),
        (4, vec!["ghost".to_string()])
    );
    let names: Vec<_> = r.peak_detail[0]
        .vms
        .iter()
        .map(|v| v.vm.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "DB2-Prod"]);
}

#[tokio::test]
async fn hosts_never_collected_uncollected_nodes_and_orphan_vms_are_listed() {
    // hv01 OK (HV01 in CLU01). hv09 configured but never collected.
    // CLU01 lists HV01 and HV03 (HV03 is not configured) and places VM X
    // on HV03: all three gaps are listed and the report is incomplete.
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.ok(1, "hv01", 1).await;
    db.failed(1, "hv09", None, "auth", "logon failure").await;
    let mut h = xeon("HV01", 2, 16);
    h.cluster = Some("CLU01");
    db.host_facts(1, 1, 1, &h).await;
    db.vm(1, G1, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("A", "running", 4)).await;
    db.cluster(
        1,
        "CLU01",
        "clu01",
        (1, 1),
        &["HV01", "HV03"],
        &[(G1, "HV01"), (G3, "HV03")],
    )
    .await;
    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let kinds: Vec<&str> = r.gaps.iter().map(|g| g.kind).collect();
    assert_eq!(kinds.len(), 3, "{:?}", r.gaps);
    assert!(kinds.contains(&"never_collected"));
    assert!(kinds.contains(&"cluster_node"));
    assert!(kinds.contains(&"orphan_vm"));
    let orphan = r.gaps.iter().find(|g| g.kind == "orphan_vm").unwrap();
    assert_eq!(orphan.vm_guid.as_deref(), Some(G3));
    assert_eq!(orphan.node.as_deref(), Some("HV03"));
    assert!(!r.complete);
    assert_eq!(r.incomplete_reasons.len(), 3);
    // The known part is still priced: 4 × 70 = 280.
    assert_eq!(r.totals.sub_capacity_peak_pvu, 280);
}

#[tokio::test]
async fn json_output_names_schema_runs_rates_and_states() {
    let db = one_host(xeon("HV01", 2, 16), &[vm("a", "running", 2)]).await;
    let r = report::pvu::build(
        &db.pool,
        period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    report::render(&r, Format::Json, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "hvinv.pvu/1");
    assert_eq!(
        v["counted_states"],
        serde_json::json!(["running", "paused"])
    );
    assert_eq!(v["runs"][0]["id"], 1);
    assert_eq!(v["runs"][0]["started_at"], "2026-11-01T02:00:00Z");
    assert_eq!(v["hosts"][0]["rate"]["row"], "intel-xeon-2s");
    assert_eq!(v["hosts"][0]["rate"]["verify"], true);
    assert_eq!(v["totals"]["sub_capacity_peak_pvu"], 140);
    assert_eq!(v["totals"]["entitlement_pvu"], 140);
    assert_eq!(v["period"]["from"], "2026-11-01T00:00:00Z");
    assert_eq!(v["complete"], true);
}

#[tokio::test]
async fn no_run_in_the_period_is_an_error_not_a_zero() {
    let db = one_host(xeon("HV01", 2, 16), &[]).await;
    let e = report::pvu::build(
        &db.pool,
        period("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, report::ReportError::NoRunInPeriod { .. }),
        "{e}"
    );
}

#[tokio::test]
async fn a_custom_pvu_table_file_overrides_the_builtin_rates() {
    let db = one_host(xeon("HV01", 2, 16), &[vm("a", "running", 2)]).await;
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pvu.toml");
    std::fs::write(
        &table,
        "[[row]]\nid = 'contract'\nvendor = '*'\nmodel = '*'\npvu_per_core = 50\nsource = 'our contract'\ndate = '2026-01-01'\n",
    )
    .unwrap();
    let opts = PvuOptions {
        pvu_table: Some(table.clone()),
        ..period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")
    };
    let r = report::pvu::build(&db.pool, opts).await.unwrap();
    // 2 vCPU × 50 = 100.
    assert_eq!(r.totals.sub_capacity_peak_pvu, 100);
    assert_eq!(r.pvu_table, table.display().to_string());
}

#[tokio::test]
async fn counting_no_state_or_an_unknown_state_is_refused() {
    let db = one_host(xeon("HV01", 2, 16), &[vm("a", "running", 2)]).await;
    for states in [vec![], vec!["runing".to_string()]] {
        let opts = PvuOptions {
            counted_states: states,
            ..period("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")
        };
        let e = report::pvu::build(&db.pool, opts).await.unwrap_err();
        assert!(matches!(e, report::ReportError::Option(_)), "{e}");
    }
}
