//! XLSX output reopened with calamine: sheets, headers and typed cells.

mod report_support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Utc};
use hvinv::report::{self, Format, PvuOptions};
use report_support::*;

fn open(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).unwrap()
}

/// Excel's serial day number (1900 system) of a UTC time.
fn excel_serial(s: &str) -> f64 {
    let t = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    t.timestamp() as f64 / 86400.0 + 25569.0
}

async fn estate() -> Db {
    // HV01: Xeon 2 sockets 16 cores (70/core); VMs 8 running, 2 off.
    // HV02: unknown processor, 1 socket 4 cores (120/core), no VM.
    let db = new_db().await;
    db.run(1, "2026-11-23T02:00:00Z").await;
    db.host(1, "AAAAAAAA-0000-0000-0000-000000000001", 1).await;
    db.host(2, "AAAAAAAA-0000-0000-0000-000000000002", 1).await;
    db.ok(1, "hv01", 1).await;
    db.ok(1, "hv02", 2).await;
    db.host_facts(1, 1, 1, &xeon("HV01", 2, 16)).await;
    let mut odd = xeon("HV02", 1, 4);
    odd.vendor = "Unknown";
    odd.model = "Mystery CPU";
    db.host_facts(2, 1, 1, &odd).await;
    db.vm(1, "11111111-0000-0000-0000-000000000001", 1).await;
    db.vm(2, "11111111-0000-0000-0000-000000000002", 1).await;
    db.vm_facts(1, 1, 1, 1, &vm("db", "running", 8)).await;
    db.vm_facts(2, 1, 1, 1, &vm("web", "off", 2)).await;
    db
}

fn header(range: &calamine::Range<Data>) -> Vec<String> {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

fn col(range: &calamine::Range<Data>, name: &str) -> usize {
    header(range)
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn topology_workbook_has_typed_cells_per_sheet() {
    let db = estate().await;
    let r = report::topology::build(&db.pool, None).await.unwrap();
    let mut bytes = Vec::new();
    report::render(&r, Format::Xlsx, &mut bytes).unwrap();
    let mut wb = open(bytes);
    assert_eq!(wb.sheet_names(), ["Hosts", "VMs", "Clusters", "Run"]);

    let hosts = wb.worksheet_range("Hosts").unwrap();
    assert_eq!(hosts.height(), 3, "header + 2 hosts");
    let row1: Vec<&Data> = hosts.rows().nth(1).unwrap().iter().collect();
    assert_eq!(*row1[col(&hosts, "address")], Data::String("hv01".into()));
    assert_eq!(*row1[col(&hosts, "cores")], Data::Float(16.0));
    assert_eq!(*row1[col(&hosts, "sockets")], Data::Float(2.0));
    assert_eq!(*row1[col(&hosts, "VMs")], Data::Float(2.0));
    assert_eq!(
        *row1[col(&hosts, "error kind")],
        Data::Empty,
        "null stays empty"
    );

    let vms = wb.worksheet_range("VMs").unwrap();
    let db_row: Vec<&Data> = vms.rows().nth(1).unwrap().iter().collect();
    assert_eq!(*db_row[col(&vms, "name")], Data::String("db".into()));
    assert_eq!(*db_row[col(&vms, "vcpus")], Data::Float(8.0));
    assert_eq!(*db_row[col(&vms, "clustered")], Data::Bool(false));

    let run = wb.worksheet_range("Run").unwrap();
    match run.get_value((1, 1)).unwrap() {
        Data::DateTime(dt) => {
            assert!((dt.as_f64() - excel_serial("2026-11-23T02:00:00Z")).abs() < 1e-6)
        }
        other => panic!("started at should be an Excel datetime, got {other:?}"),
    }
}

#[tokio::test]
async fn pvu_workbook_has_host_and_day_sheets_with_numbers() {
    let db = estate().await;
    let opts = PvuOptions {
        from: Some("2026-11-22T00:00:00Z".parse().unwrap()),
        to: Some("2026-11-24T00:00:00Z".parse().unwrap()),
        ..PvuOptions::default()
    };
    let r = report::pvu::build(&db.pool, opts).await.unwrap();
    let mut bytes = Vec::new();
    report::render(&r, Format::Xlsx, &mut bytes).unwrap();
    let mut wb = open(bytes);
    assert_eq!(
        wb.sheet_names(),
        [
            "Summary",
            "Products and regions",
            "PVU per host",
            "PVU per day",
            "Peak VMs",
            "Gaps"
        ]
    );

    // One product ("all VMs"), one region ("default"): its peak 560 (HV01
    // 8 × 70, HV02 nothing running), then the product's sum of regional
    // peaks, 560, with full capacity 1120 + 480 = 1600.
    let regions = wb.worksheet_range("Products and regions").unwrap();
    let rows: Vec<Vec<Data>> = regions.rows().skip(1).map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0][col(&regions, "region")],
        Data::String("default".into())
    );
    assert_eq!(
        rows[0][col(&regions, "sub-capacity peak PVU")],
        Data::Float(560.0)
    );
    assert!(matches!(
        rows[0][col(&regions, "peak at (UTC)")],
        Data::DateTime(_)
    ));
    assert_eq!(
        rows[1][col(&regions, "full capacity PVU")],
        Data::Float(1600.0)
    );
    assert_eq!(
        rows[1][col(&regions, "entitlement PVU")],
        Data::Float(560.0)
    );

    // HV01: 8 × 70 = 560 of 1120; HV02: 0 of 4 × 120 = 480.
    let hosts = wb.worksheet_range("PVU per host").unwrap();
    let rows: Vec<Vec<Data>> = hosts.rows().skip(1).map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0][col(&hosts, "peak sub-capacity PVU")],
        Data::Float(560.0)
    );
    assert_eq!(
        rows[0][col(&hosts, "full capacity PVU")],
        Data::Float(1120.0)
    );
    assert_eq!(rows[1][col(&hosts, "PVU per core")], Data::Float(120.0));
    assert_eq!(rows[1][col(&hosts, "unknown processor")], Data::Bool(true));
    assert!(matches!(
        rows[0][col(&hosts, "peak at (UTC)")],
        Data::DateTime(_)
    ));

    let days = wb.worksheet_range("PVU per day").unwrap();
    assert_eq!(days.height(), 3, "one row per host per day");
    match days.get_value((1, 0)).unwrap() {
        Data::DateTime(dt) => {
            assert!((dt.as_f64() - excel_serial("2026-11-23T00:00:00Z")).abs() < 1e-6)
        }
        other => panic!("date should be an Excel datetime, got {other:?}"),
    }
    assert_eq!(
        days.get_value((1, col(&days, "day sub-capacity PVU") as u32)),
        Some(&Data::Float(560.0))
    );
}

#[tokio::test]
async fn history_has_no_xlsx_format() {
    let db = estate().await;
    let h = report::history::build(&db.pool, report::HistoryOptions::default())
        .await
        .unwrap();
    let e = report::render(&h, Format::Xlsx, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(e, report::ReportError::UnsupportedFormat { .. }),
        "{e}"
    );
}
