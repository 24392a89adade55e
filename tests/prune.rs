//! `hvinv prune` (audit.md, "Retention"): refused under two years without
//! the flag (nothing deleted), allowed with it, intervals reaching past the
//! cut kept with their first run moved, reports over the kept runs
//! unchanged, and every prune recorded and shown in later audit trails.

mod report_support;

use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use hvinv::report::{self, Format, PvuOptions};
use report_support::*;

fn hvinv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hvinv"))
        .args(args)
        .output()
        .expect("run hvinv")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const TABLES: [&str; 12] = [
    "runs",
    "hosts",
    "host_outcomes",
    "outcome_spans",
    "host_facts",
    "vms",
    "vm_facts",
    "clusters",
    "cluster_facts",
    "cluster_vm_facts",
    "addresses",
    "prunes",
];

async fn counts(db: &Db) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in TABLES {
        // A fixed table name from the list above, not input.
        let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap();
        out.push((table, n));
    }
    out
}

/// Four half-hourly runs on `day`:
/// - hv01 (host 1) collected in every run (one outcome span 1..4), facts
///   1..4, in cluster C1 (1..4);
/// - hv02 (host 2) only in runs 1–2, then removed from the configuration;
/// - VM 1 on host 1 all along; VM 2 on host 1 changed after run 2 (rows
///   1..2 and 3..4); VM 3 on host 2 in runs 1–2 only;
/// - cluster C1 owns VM 1 on HV01 (one owner row 1..4) and VM 2 on HV01
///   (offline 1..2, online 3..4); cluster C2, with VM 3 on HV02, was seen
///   in runs 1–2 only.
async fn estate(day: &str) -> Db {
    let db = new_db().await;
    for (id, time) in [(1, "02:00"), (2, "02:30"), (3, "03:00"), (4, "03:30")] {
        db.run(id, &format!("{day}T{time}:00Z")).await;
    }
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    // hv01's outcome is one span over the four runs, as the writer keeps an
    // unchanged outcome.
    sqlx::query(
        "INSERT INTO outcome_spans (first_run_id, last_run_id, address, host_id, status, \
         finished_at) VALUES (1, 4, 'hv01', 1, 'ok', (SELECT started_at FROM runs WHERE id = 4))",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for run in 1..=2 {
        db.ok(run, "hv02", 2).await;
    }
    for (address, host) in [("hv01", 1), ("hv02", 2)] {
        sqlx::query("INSERT INTO addresses (address, host_id) VALUES (?, ?)")
            .bind(address)
            .bind(host)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let mut n1 = xeon("HV01", 2, 16);
    n1.cluster = Some("C1");
    db.host_facts(1, 1, 4, &n1).await;
    db.host_facts(2, 1, 2, &epyc("HV02", 1, 32)).await;
    let vm1 = "22222222-0000-0000-0000-000000000001";
    db.cluster(1, "C1", "c1.example", (1, 4), &["HV01"], &[(vm1, "HV01")])
        .await;
    for (first, last, state) in [(1, 2, "Offline"), (3, 4, "Online")] {
        sqlx::query(
            "INSERT INTO cluster_vm_facts (cluster_id, first_run_id, last_run_id, vm_guid, \
             resource, owner_node, state) VALUES (1, ?, ?, '22222222-0000-0000-0000-000000000002', \
             'Virtual Machine web', 'HV01', ?)",
        )
        .bind(first)
        .bind(last)
        .bind(state)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let vm3 = "22222222-0000-0000-0000-000000000003";
    db.cluster(2, "C2", "c2.example", (1, 2), &["HV02"], &[(vm3, "HV02")])
        .await;
    db.vm(1, "22222222-0000-0000-0000-000000000001", 1).await;
    db.vm_facts(1, 1, 1, 4, &vm("app", "running", 4)).await;
    db.vm(2, "22222222-0000-0000-0000-000000000002", 1).await;
    db.vm_facts(2, 1, 1, 2, &vm("web", "running", 2)).await;
    db.vm_facts(2, 1, 3, 4, &vm("web", "running", 6)).await;
    db.vm(3, "22222222-0000-0000-0000-000000000003", 1).await;
    db.vm_facts(3, 2, 1, 2, &vm("db", "running", 8)).await;
    db
}

fn prune(db: &Db, before: &str, allow: bool) -> Output {
    let mut args = vec![
        "prune",
        "--db",
        db.path.to_str().unwrap(),
        "--before",
        before,
    ];
    if allow {
        args.push("--allow-under-two-years");
    }
    hvinv(&args)
}

#[tokio::test]
async fn under_two_years_is_refused_and_deletes_nothing() {
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let db = estate(&today).await;
    let before = counts(&db).await;
    let o = prune(&db, &format!("{today}T02:45:00Z"), false);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("less than two years ago"), "{err}");
    assert!(err.contains("Nothing was deleted"), "{err}");
    assert_eq!(counts(&db).await, before, "row counts unchanged");
}

#[tokio::test]
async fn with_the_flag_the_old_runs_go_and_the_intervals_past_the_cut_stay() {
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let db = estate(&today).await;
    let from = format!("{today}T02:45:00Z");
    let to = format!("{today}T04:00:00Z");
    let kept_period = PvuOptions {
        from: Some(t(&from)),
        to: Some(t(&to)),
        // No look-back into the deleted runs: every host is collected OK in
        // every kept run, so nothing is carried forward either way.
        ..PvuOptions::default()
    };
    let json = |r: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        r(&mut v);
        String::from_utf8(v).unwrap()
    };
    let pvu_before = report::pvu::build(&db.pool, kept_period.clone())
        .await
        .unwrap();
    let topo_before = report::topology::build(&db.pool, Some(3)).await.unwrap();

    let o = prune(&db, &from, true);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("deleted 2 runs (1..2)"),
        "{}",
        text(&o)
    );

    // Hand-counted: runs 1, 2; hv02's two outcome spans (hv01's one span
    // stays, now 3..4, so the per-run view shows 2 rows); host 2 (its facts
    // 1..2, its address, VM 3 and VM 3's row) and VM 2's first row;
    // cluster C2 (its facts and owner row) and VM 2's first owner row.
    let after: Vec<(&str, i64)> = counts(&db).await;
    assert_eq!(
        after,
        vec![
            ("runs", 2),
            ("hosts", 1),
            ("host_outcomes", 2),
            ("outcome_spans", 1),
            ("host_facts", 1),
            ("vms", 2),
            ("vm_facts", 2),
            ("clusters", 1),
            ("cluster_facts", 1),
            ("cluster_vm_facts", 2),
            ("addresses", 1),
            ("prunes", 1),
        ]
    );
    // Intervals that reached past the cut now start at the first run kept.
    let firsts: Vec<(i64, i64)> =
        sqlx::query_as("SELECT first_run_id, last_run_id FROM host_facts")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(firsts, vec![(3, 4)]);
    let spans: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT address, first_run_id, last_run_id FROM outcome_spans")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(spans, vec![("hv01".to_string(), 3, 4)]);
    let vms: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT vm_id, first_run_id, last_run_id FROM vm_facts ORDER BY vm_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(vms, vec![(1, 3, 4), (2, 3, 4)]);
    let c: (i64, i64) = sqlx::query_as("SELECT first_run_id, last_run_id FROM cluster_facts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(c, (3, 4));
    let owners: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT vm_guid, first_run_id, last_run_id, state FROM cluster_vm_facts ORDER BY vm_guid",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        owners,
        vec![
            (
                "22222222-0000-0000-0000-000000000001".to_string(),
                3,
                4,
                "Online".to_string()
            ),
            (
                "22222222-0000-0000-0000-000000000002".to_string(),
                3,
                4,
                "Online".to_string()
            ),
        ]
    );
    let h: (i64, Option<i64>) = sqlx::query_as("SELECT first_run_id, last_ok_run_id FROM hosts")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        h,
        (3, None),
        "host 1's last OK run (not maintained here) is gone or kept"
    );
    // Foreign keys all hold.
    let broken: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");

    // Reports over the kept period read the same.
    let pvu_after = report::pvu::build(&db.pool, kept_period).await.unwrap();
    let topo_after = report::topology::build(&db.pool, Some(3)).await.unwrap();
    assert_eq!(
        json(&|v| report::render(&pvu_after, Format::Json, v).unwrap()),
        json(&|v| report::render(&pvu_before, Format::Json, v).unwrap())
    );
    assert_eq!(
        json(&|v| report::render(&topo_after, Format::Json, v).unwrap()),
        json(&|v| report::render(&topo_before, Format::Json, v).unwrap())
    );

    // The prune is recorded and shows in a later audit trail.
    let (at, before, runs, first_kept, under): (String, String, i64, Option<i64>, bool) =
        sqlx::query_as(
            "SELECT at, before, runs_deleted, first_run_kept, under_two_years FROM prunes",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(at.ends_with('Z'), "{at}");
    assert_eq!(
        (before.as_str(), runs, first_kept, under),
        (from.as_str(), 2, Some(3), true)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.zip");
    let o = hvinv(&[
        "audit",
        "snapshot",
        "--db",
        db.path.to_str().unwrap(),
        "--key",
        dir.path().join("k.pem").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        &to,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut trail = String::new();
    std::io::Read::read_to_string(&mut z.by_name("audit_trail.csv").unwrap(), &mut trail).unwrap();
    assert!(
        trail.contains(&format!(
            ",3,prune,before {from},\"runs deleted 2 (1..2); rows deleted addresses 1, cluster_facts 1, \
             cluster_vm_facts 2, clusters 1, host_facts 1, hosts 1, outcome_spans 2, runs 2, vm_facts 2, vms 1; hvinv "
        )),
        "{trail}"
    );
    assert!(trail.contains("under two years"), "{trail}");
}

#[tokio::test]
async fn a_cut_older_than_two_years_needs_no_flag() {
    let db = estate("2023-01-10").await;
    // Only runs before 02:45 on that day go.
    let o = prune(&db, "2023-01-10T02:45:00Z", false);
    assert!(o.status.success(), "{}", text(&o));
    let runs: Vec<i64> = sqlx::query_scalar("SELECT id FROM runs ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(runs, vec![3, 4]);
    let under: bool = sqlx::query_scalar("SELECT under_two_years FROM prunes")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(!under);
}

#[tokio::test]
async fn a_second_prune_before_the_same_cut_deletes_nothing_more_and_is_recorded() {
    let db = estate("2023-01-10").await;
    assert!(prune(&db, "2023-01-10T02:45:00Z", false).status.success());
    let before = counts(&db).await;
    let o = prune(&db, "2023-01-10T02:45:00Z", false);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("nothing deleted"),
        "{}",
        text(&o)
    );
    let after = counts(&db).await;
    assert_eq!(&after[..11], &before[..11]);
    assert_eq!(after[11], ("prunes", 2));
}
