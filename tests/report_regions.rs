//! Regions and products in `report pvu` (pvu.md "Regions and products"),
//! against a hand-built estate where the two regions peak in different runs
//! and one VM belongs to two products. Every figure is worked out by hand
//! in the comments (default table: Xeon, 2 sockets → 70 PVU per core).

mod report_support;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hvinv::report::{self, Format, PvuOptions};
use report_support::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const GA: &str = "11111111-0000-0000-0000-00000000000A";
const GB: &str = "11111111-0000-0000-0000-00000000000B";
const GC: &str = "11111111-0000-0000-0000-00000000000C";

/// HV01 (EMEA) and HV02 (AMER): Xeon, 2 sockets, 16 cores, 70 per core.
/// Run 1 (02:00): A 8 vCPU running on HV01, C 4 running on HV01, B 2
/// running on HV02. Run 2 (02:30): A off, C 4 running, B 10 running.
async fn estate() -> Db {
    let db = new_db().await;
    db.run(1, "2026-11-01T02:00:00Z").await;
    db.run(2, "2026-11-01T02:30:00Z").await;
    for (id, addr, name, region) in [(1, "hv01", "HV01", "EMEA"), (2, "hv02", "HV02", "AMER")] {
        db.host(id, &format!("AAAAAAAA-0000-0000-0000-00000000000{id}"), 1)
            .await;
        db.ok(1, addr, id).await;
        db.ok(2, addr, id).await;
        let mut h = xeon(name, 2, 16);
        h.region = region;
        db.host_facts(id, 1, 2, &h).await;
    }
    db.vm(1, GA, 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("A", "running", 8)).await;
    db.vm_facts(1, 1, 2, 2, &vm("A", "off", 8)).await;
    db.vm(2, GB, 1).await;
    db.vm_facts(2, 2, 1, 1, &vm("B", "running", 2)).await;
    db.vm_facts(2, 2, 2, 2, &vm("B", "running", 10)).await;
    db.vm(3, GC, 1).await;
    db.vm_facts(3, 1, 1, 2, &vm("C", "running", 4)).await;
    db
}

fn period() -> PvuOptions {
    PvuOptions {
        from: Some(t("2026-11-01T00:00:00Z")),
        to: Some(t("2026-11-02T00:00:00Z")),
        ..PvuOptions::default()
    }
}

fn region<'a>(
    p: &'a report::pvu::products::ProductLine,
    name: &str,
) -> &'a report::pvu::products::RegionLine {
    p.regions
        .iter()
        .find(|r| r.region == name)
        .unwrap_or_else(|| panic!("no region {name} in {:?}", p.regions))
}

#[tokio::test]
async fn regional_peaks_are_summed_never_the_peak_of_the_sum() {
    // Run 1: HV01 (8 + 4) × 70 = 840, HV02 2 × 70 = 140; together 980.
    // Run 2: HV01 4 × 70 = 280, HV02 10 × 70 = 700; together 980.
    // Peak of the sums: 980 (run 1). Per region: EMEA 840 at run 1, AMER
    // 700 at run 2; the product's figure is 840 + 700 = 1540.
    // Full capacity: 16 × 70 = 1120 per region, 2240 in all; entitlement
    // min(2240, 1540) = 1540.
    let db = estate().await;
    let r = report::pvu::build(&db.pool, period()).await.unwrap();
    assert_eq!(r.totals.sub_capacity_peak_pvu, 980);
    assert_eq!(r.products.len(), 1);
    let p = &r.products[0];
    assert_eq!(p.name, "all VMs");
    assert_eq!(p.vms_matched, 3);
    let emea = region(p, "EMEA");
    assert_eq!(
        (emea.sub_capacity_peak_pvu, emea.sub_capacity_peak_run),
        (840, 1)
    );
    assert_eq!(emea.sub_capacity_peak_at, t("2026-11-01T02:00:00Z"));
    assert_eq!(emea.full_capacity_pvu, 1120);
    let amer = region(p, "AMER");
    assert_eq!(
        (amer.sub_capacity_peak_pvu, amer.sub_capacity_peak_run),
        (700, 2)
    );
    assert_eq!(amer.sub_capacity_peak_at, t("2026-11-01T02:30:00Z"));
    assert_eq!(
        (p.sub_capacity_pvu, p.full_capacity_pvu, p.entitlement_pvu),
        (1540, 2240, 1540)
    );
    // Regions are listed by name.
    let names: Vec<&str> = p.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["AMER", "EMEA"]);
    let hv01 = r.hosts.iter().find(|h| h.address == "hv01").unwrap();
    assert_eq!(hv01.region, "EMEA");
}

fn products(dir: &std::path::Path) -> Vec<(String, PathBuf)> {
    // Db2 runs on A (by name) and B (by GUID); MQ on B (by name) and C.
    let db2 = dir.join("db2.txt");
    std::fs::write(&db2, format!("A\n{GB}\n")).unwrap();
    let mq = dir.join("mq.txt");
    std::fs::write(&mq, format!("b\n{GC}\n")).unwrap();
    vec![("Db2".into(), db2), ("MQ".into(), mq)]
}

#[tokio::test]
async fn each_product_counts_only_its_vms_and_a_shared_vm_counts_in_both() {
    // Db2 (A, B): run 1 HV01 8 × 70 = 560, HV02 2 × 70 = 140; run 2 HV01 0
    // (A is off), HV02 10 × 70 = 700. EMEA 560 at run 1, AMER 700 at run 2:
    // 1260.
    // MQ (B, C): run 1 HV01 4 × 70 = 280, HV02 140; run 2 HV01 280, HV02
    // 700. EMEA 280 at run 1 (ties keep the earliest run), AMER 700 at run
    // 2: 980. B counts in both products.
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = PvuOptions {
        products: products(dir.path()),
        ..period()
    };
    let r = report::pvu::build(&db.pool, opts).await.unwrap();
    let names: Vec<&str> = r.products.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Db2", "MQ"]);
    let db2 = &r.products[0];
    assert_eq!(db2.vms_matched, 2);
    assert_eq!(region(db2, "EMEA").sub_capacity_peak_pvu, 560);
    assert_eq!(region(db2, "EMEA").sub_capacity_peak_run, 1);
    assert_eq!(region(db2, "AMER").sub_capacity_peak_pvu, 700);
    assert_eq!(region(db2, "AMER").sub_capacity_peak_run, 2);
    assert_eq!(db2.sub_capacity_pvu, 1260);
    let mq = &r.products[1];
    assert_eq!(mq.vms_matched, 2);
    assert_eq!(
        (
            region(mq, "EMEA").sub_capacity_peak_pvu,
            region(mq, "EMEA").sub_capacity_peak_run
        ),
        (280, 1)
    );
    assert_eq!(region(mq, "AMER").sub_capacity_peak_pvu, 700);
    assert_eq!(mq.sub_capacity_pvu, 980);
    assert!(mq.unmatched.is_empty());
    // The existing totals are the first product's: its peak of the sums is
    // run 1: 560 + 140 = 700 (run 2: 0 + 700 = 700, a tie).
    assert_eq!(r.totals.sub_capacity_peak_pvu, 700);
    assert_eq!(r.totals.sub_capacity_peak_run, 1);

    // JSON: the spec's field names.
    let mut json = Vec::new();
    report::render(&r, Format::Json, &mut json).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let p = &v["products"][1];
    assert_eq!(p["name"], "MQ");
    assert_eq!(p["vms_matched"], 2);
    assert_eq!(p["sub_capacity_pvu"], 980);
    let amer = &p["regions"][0];
    assert_eq!(amer["region"], "AMER");
    assert_eq!(amer["sub_capacity_peak_pvu"], 700);
    assert_eq!(amer["sub_capacity_peak_run"], 2);
    assert_eq!(amer["sub_capacity_peak_at"], "2026-11-01T02:30:00Z");
    assert_eq!(amer["full_capacity_pvu"], 1120);

    // CSV: one row per product per host per day; 2 products × 2 hosts × 1
    // day. MQ's HV01 row: its worst run of the day is run 1 (280, the
    // earliest of the tie), EMEA's peak 280, MQ's figure 980.
    let mut csv = Vec::new();
    report::render(&r, Format::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(",product,region,region_sub_capacity_peak_pvu,product_sub_capacity_pvu"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .starts_with("2026-11-01,hv01,HV01,1,70,intel-xeon-2s,16,1120,4,280,1,")
            && l.ends_with(",MQ,EMEA,280,980")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.ends_with(",Db2,AMER,700,1260")),
        "{text}"
    );

    // Table: the section and each product's sum.
    let mut table = Vec::new();
    report::render(&r, Format::Table, &mut table).unwrap();
    let text = String::from_utf8(table).unwrap();
    assert!(text.contains("Products and regions"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("MQ") && l.contains("all regions") && l.contains("980")),
        "{text}"
    );
}

#[tokio::test]
async fn a_product_list_entry_matching_nothing_is_warned_about() {
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let mut p = products(dir.path());
    let ghost = dir.path().join("ghost.txt");
    std::fs::write(&ghost, "nobody\n").unwrap();
    p.push(("Ghost".into(), ghost));
    let opts = PvuOptions {
        products: p,
        ..period()
    };
    let r = report::pvu::build(&db.pool, opts).await.unwrap();
    let g = &r.products[2];
    assert_eq!((g.vms_matched, g.sub_capacity_pvu), (0, 0));
    assert_eq!(g.unmatched, ["nobody"]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("\"Ghost\"") && w.contains("nobody")),
        "{:?}",
        r.warnings
    );
}

#[tokio::test]
async fn vms_and_product_together_are_refused() {
    let db = estate().await;
    let dir = tempfile::tempdir().unwrap();
    let p = products(dir.path());
    let opts = PvuOptions {
        vms_file: Some(p[0].1.clone()),
        products: p,
        ..period()
    };
    assert!(matches!(
        report::pvu::build(&db.pool, opts).await,
        Err(report::ReportError::Option(_))
    ));
}
