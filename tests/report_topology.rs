//! Topology report against a small hand-inserted estate, compared with
//! golden files written by hand from shared/spec/export.md.

mod report_support;

use hvinv::report::{self, Format};
use hvinv::store::{OpenMode, Store};
use report_support::*;

async fn exec(db: &Db, sql: &'static str) {
    sqlx::query(sql).execute(&db.pool).await.unwrap();
}

/// Run 2 is the latest complete run: hv01 OK in cluster CLU01 with two VMs
/// and a warning; hv02 OK, standalone, no VM; hv03 failed. Run 1 holds a
/// VM since removed; run 3 is still running and must not be chosen.
async fn small_estate() -> Db {
    let db = new_db().await;
    db.run_with_status(
        1,
        "2026-11-22T02:00:00Z",
        Some("2026-11-22T02:00:39Z"),
        "complete",
    )
    .await;
    db.run_with_status(
        2,
        "2026-11-23T02:00:00Z",
        Some("2026-11-23T02:00:41Z"),
        "complete",
    )
    .await;
    db.run_with_status(3, "2026-11-23T03:00:00Z", None, "running")
        .await;
    exec(
        &db,
        "INSERT INTO hosts (id, identity, uuid, serial, first_run_id) VALUES \
         (1, 'uuid:4C4C4544-0042-3510-8058-B4C04F4A4E32', '4c4c4544-0042-3510-8058-b4c04f4a4e32', 'B5XJNJ2', 1), \
         (2, 'uuid:30373237-3132-584D-5132-333430303132', '30373237-3132-584D-5132-333430303132', 'CZJ1234567', 1)",
    )
    .await;
    for run in 1..=3 {
        let warnings = if run == 2 {
            r#"["cluster namespace: access denied"]"#
        } else {
            "[]"
        };
        db.ok_with_warnings(run, "hv01.contoso.com", 1, warnings)
            .await;
        db.ok(run, "hv02.contoso.com", 2).await;
    }
    db.failed(
        2,
        "hv03.contoso.com",
        None,
        "timeout",
        "no answer within 60 s",
    )
    .await;
    exec(
        &db,
        "INSERT INTO host_facts (host_id, first_run_id, last_run_id, name, fqdn, manufacturer, \
         model, serial, os, os_build, sockets, cores, logical_processors, memory_mb, \
         processor_vendor, processor_model, cluster_name, hyperv_namespace, digest) VALUES \
         (1, 1, 3, 'HV01', 'hv01.contoso.com', 'Dell Inc.', 'PowerEdge R740', 'B5XJNJ2', \
          'Microsoft Windows Server 2022 Datacenter 10.0.20348', '20348', 2, 40, 80, 786432, \
          'GenuineIntel', 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz', 'CLU01', \
          'root/virtualization/v2', 'd1'), \
         (2, 1, 3, 'HV02', 'hv02.contoso.com', 'HPE', 'ProLiant DL325 Gen10 Plus', 'CZJ1234567', \
          'Microsoft Windows Server 2019 Standard 10.0.17763', '17763', 1, 32, 64, 524288, \
          'AuthenticAMD', 'AMD EPYC 7543P 32-Core Processor', NULL, 'root/virtualization/v2', 'd2')",
    )
    .await;
    exec(
        &db,
        "INSERT INTO vms (id, guid, first_run_id) VALUES \
         (1, '9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB', 1), \
         (2, '0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9', 1), \
         (3, 'DEADBEEF-0000-4000-8000-000000000001', 1), \
         (4, 'DEADBEEF-0000-4000-8000-000000000002', 3)",
    )
    .await;
    exec(
        &db,
        "INSERT INTO vm_facts (vm_id, host_id, first_run_id, last_run_id, name, bios_guid, \
         bios_serial, state, enabled_state, health_state, vcpus, cpu_limit_pct, \
         cpu_reservation_pct, cpu_weight, memory_mb, dynamic_memory, replication, \
         replication_mode, generation, version, clustered, digest) VALUES \
         (1, 1, 1, 3, 'db2-prod-01', '7b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', 'x', 'running', 2, \
          5, 8, 100.0, 0.0, 100, 32768, 0, 'none', 0, 2, '10.0', 1, 'v1'), \
         (2, 1, 2, 3, 'web-01', NULL, NULL, 'off', 3, 5, 2, 50.0, 0.0, 100, 4096, 1, \
          'primary', 1, 1, '9.0', 0, 'v2'), \
         (2, 1, 1, 1, 'web-01', NULL, NULL, 'running', 2, 5, 2, 50.0, 0.0, 100, 4096, 1, \
          'primary', 1, 1, '9.0', 0, 'v2b'), \
         (3, 2, 1, 1, 'removed-vm', NULL, NULL, 'running', 2, 5, 1, 100.0, 0.0, 100, 1024, 0, \
          'none', 0, 2, '10.0', 0, 'v3'), \
         (4, 2, 3, 3, 'too-new', NULL, NULL, 'running', 2, 5, 1, 100.0, 0.0, 100, 1024, 0, \
          'none', 0, 2, '10.0', 0, 'v4')",
    )
    .await;
    // CLU02 is listed first and its nodes out of order: output is sorted.
    db.cluster(2, "CLU02", "clu02.contoso.com", (2, 2), &[], &[])
        .await;
    db.cluster(
        1,
        "CLU01",
        "clu01.contoso.com",
        (1, 3),
        &["HV04", "HV01"],
        &[],
    )
    .await;
    db
}

fn golden(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn assert_same_text(actual: &str, expected: &str) {
    if actual != expected {
        for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
            assert_eq!(a, e, "first difference at line {}", i + 1);
        }
        assert_eq!(actual.lines().count(), expected.lines().count(), "{actual}");
        assert_eq!(actual, expected);
    }
}

#[tokio::test]
async fn topology_json_of_the_latest_complete_run_matches_the_golden_file() {
    let db = small_estate().await;
    let r = report::topology::build(&db.pool, None).await.unwrap();
    let mut out = Vec::new();
    report::render(&r, Format::Json, &mut out).unwrap();
    assert_same_text(
        &String::from_utf8(out).unwrap(),
        &golden("topology_small.json"),
    );
}

#[tokio::test]
async fn topology_csv_has_a_row_per_vm_and_per_vm_less_host() {
    let db = small_estate().await;
    let r = report::topology::build(&db.pool, None).await.unwrap();
    let mut out = Vec::new();
    report::render(&r, Format::Csv, &mut out).unwrap();
    assert_same_text(
        &String::from_utf8(out).unwrap(),
        &golden("topology_small.csv"),
    );
}

#[tokio::test]
async fn topology_of_a_given_run_shows_that_runs_vms() {
    let db = small_estate().await;
    let r = report::topology::build(&db.pool, Some(1)).await.unwrap();
    assert_eq!(r.run.id, 1);
    let hv02 = r
        .hosts
        .iter()
        .find(|h| h.address == "hv02.contoso.com")
        .unwrap();
    let names: Vec<_> = hv02
        .vms
        .iter()
        .map(|v| v.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["removed-vm"]);
    let hv01 = &r.hosts[0];
    let web = hv01
        .vms
        .iter()
        .find(|v| v.name.as_deref() == Some("web-01"))
        .unwrap();
    assert_eq!(web.state, "running");
    assert_eq!(r.hosts.len(), 2, "hv03 was not configured in run 1");
    assert_eq!(r.clusters.len(), 1);
}

#[tokio::test]
async fn topology_of_a_missing_run_is_an_error() {
    let db = small_estate().await;
    let e = report::topology::build(&db.pool, Some(99))
        .await
        .unwrap_err();
    assert!(matches!(e, report::ReportError::RunNotFound(99)), "{e}");
}

#[tokio::test]
async fn topology_reads_through_a_read_only_connection() {
    let db = small_estate().await;
    let ro = Store::open(db.path.to_str().unwrap(), OpenMode::ReadOnly)
        .await
        .unwrap();
    let r = report::topology::build(&ro, None).await.unwrap();
    assert_eq!(r.run.id, 2);
    let write = sqlx::query("DELETE FROM runs").execute(ro.pool()).await;
    assert!(
        write.is_err(),
        "a report connection must not be able to write"
    );
}

#[tokio::test]
async fn topology_table_lists_every_host_and_the_failure() {
    let db = small_estate().await;
    let r = report::topology::build(&db.pool, None).await.unwrap();
    let mut out = Vec::new();
    report::render(&r, Format::Table, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("Run 2 started 2026-11-23T02:00:00Z"),
        "{text}"
    );
    let hv03 = text
        .lines()
        .find(|l| l.contains("hv03.contoso.com"))
        .unwrap();
    assert!(
        hv03.contains("failed") && hv03.contains("timeout: no answer within 60 s"),
        "{hv03}"
    );
}

#[tokio::test]
async fn a_report_reads_while_a_collection_holds_a_write_transaction() {
    let db = small_estate().await;
    // The writer's connection (the helper pool has one) sits inside an
    // open transaction that has already written.
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO runs (id, started_at, finished_at, status, hvinv_version) \
         VALUES (4, '2026-11-24T02:00:00Z', '2026-11-24T02:00:30Z', 'complete', 'test')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let ro = Store::open(db.path.to_str().unwrap(), OpenMode::ReadOnly)
        .await
        .unwrap();
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        report::topology::build(&ro, None),
    )
    .await
    .expect("the report must not wait for the writer")
    .unwrap();
    assert_eq!(r.run.id, 2, "uncommitted run 4 is not visible");
    tx.rollback().await.unwrap();
}
