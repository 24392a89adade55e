//! `hvinv report …`: opens the database read-only and renders a report.

use super::Exit;
use super::args::{FormatArg, OutputArgs, ReportCommand};
use crate::report::{self, Format, Report, ReportError};
use crate::store::read::VmState;
use crate::store::{OpenMode, Store};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::{IsTerminal, Write};

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
        FormatArg::Xlsx => Format::Xlsx,
    }
}

fn exit_for(e: &ReportError) -> Exit {
    if e.is_database() {
        Exit::Database
    } else {
        Exit::Usage
    }
}

fn emit(r: &impl Report, out: &OutputArgs) -> Result<(), ReportError> {
    let format = format_of(out.format);
    match &out.output {
        Some(path) => report::render_to_path(r, format, path),
        None => {
            if format.is_binary() && std::io::stdout().is_terminal() {
                return Err(ReportError::Option(
                    "xlsx is a binary workbook: write it to a file with --output FILE.xlsx".into(),
                ));
            }
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            report::render(r, format, &mut lock)
        }
    }
}

/// `--from`/`--to`: RFC 3339 with an offset, or a UTC date. A date as `--to`
/// means the end of that day, so `--from D --to D` covers day D.
pub(crate) fn parse_time(
    text: Option<&str>,
    flag: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ReportError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = t {
            return Ok(Some(t.and_utc()));
        }
    }
    Err(ReportError::Option(format!(
        "{flag} {text:?}: expected RFC 3339 with an offset (2026-11-23T02:00:00Z) or a UTC date (2026-11-23)"
    )))
}

pub(crate) fn counted_states(states: &[String]) -> Result<Vec<String>, ReportError> {
    let mut out = Vec::new();
    for s in states {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            continue;
        }
        if VmState::parse(&s).is_none() {
            return Err(ReportError::Option(format!(
                "--counted-states: unknown state {s:?} (known: {})",
                report::pvu::known_states()
            )));
        }
        out.push(s);
    }
    Ok(out)
}

/// The reader went away (`| head`): not an error worth a message.
fn is_broken_pipe(e: &ReportError) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    match e {
        ReportError::Io(io) => io.kind() == BrokenPipe,
        ReportError::Json(j) => j.io_error_kind() == Some(BrokenPipe),
        ReportError::Csv(c) => {
            matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe)
        }
        _ => false,
    }
}

pub async fn run(cmd: ReportCommand) -> Exit {
    match run_inner(cmd).await {
        Ok(()) => Exit::Ok,
        Err(e) if is_broken_pipe(&e) => Exit::Ok,
        Err(e) => {
            eprintln!("hvinv report: {e}");
            exit_for(&e)
        }
    }
}

async fn run_inner(cmd: ReportCommand) -> Result<(), ReportError> {
    match cmd {
        ReportCommand::Topology(a) => {
            let db = Store::open(&a.db.db, OpenMode::ReadOnly).await?;
            let r = report::topology::build(&db, a.run).await?;
            db.close().await;
            emit(&r, &a.out)
        }
        ReportCommand::Pvu(a) => {
            let db = Store::open(&a.db.db, OpenMode::ReadOnly).await?;
            let opts = report::pvu::PvuOptions {
                from: parse_time(a.from.as_deref(), "--from", false)?,
                to: parse_time(a.to.as_deref(), "--to", true)?,
                vms_file: a.vms.clone(),
                products: a.product.clone(),
                pvu_table: a.pvu_table.clone(),
                counted_states: counted_states(&a.counted_states)?,
                max_staleness: chrono::Duration::hours(
                    i64::try_from(a.max_staleness_hours).unwrap_or(i64::MAX / 3_600_000),
                ),
            };
            let r = report::pvu::build(&db, opts).await?;
            db.close().await;
            emit(&r, &a.out)
        }
        ReportCommand::Coverage(a) => {
            let db = Store::open(&a.db.db, OpenMode::ReadOnly).await?;
            let opts = report::CoverageOptions {
                from: parse_time(a.from.as_deref(), "--from", false)?,
                to: parse_time(a.to.as_deref(), "--to", true)?,
            };
            let r = report::coverage::build(&db, opts).await?;
            db.close().await;
            emit(&r, &a.out)
        }
        ReportCommand::History(a) => {
            let db = Store::open(&a.db.db, OpenMode::ReadOnly).await?;
            let opts = report::history::HistoryOptions {
                vm: a.vm.clone(),
                from: parse_time(a.from.as_deref(), "--from", false)?,
                to: parse_time(a.to.as_deref(), "--to", true)?,
            };
            let r = report::history::build(&db, opts).await?;
            db.close().await;
            emit(&r, &a.out)
        }
    }
}

/// The demo's closing output: the topology table and the PVU summary.
pub async fn print_demo_reports(db: &str) -> Exit {
    let result = async {
        let store = Store::open(db, OpenMode::ReadOnly).await?;
        let topo = report::topology::build(&store, None).await?;
        let pvu = report::pvu::build(&store, report::pvu::PvuOptions::default()).await?;
        store.close().await;
        let mut text = Vec::new();
        report::render(&topo, Format::Table, &mut text)?;
        let text = shorten_vm_section(&String::from_utf8_lossy(&text), db);
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
        report::render(&pvu, Format::Table, &mut out)?;
        Ok::<(), ReportError>(())
    }
    .await;
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("hvinv demo: {e}");
            exit_for(&e)
        }
    }
}

/// The demo's host with hundreds of VMs would drown the screen: keep the
/// first rows of the VM table and say how to see them all.
fn shorten_vm_section(text: &str, db: &str) -> String {
    const KEEP: usize = 30;
    let mut out = String::with_capacity(text.len().min(64 * 1024));
    let mut in_vms = false;
    let mut rows = 0usize;
    let mut hidden = 0usize;
    for line in text.lines() {
        if line.starts_with("VMs (") {
            in_vms = true;
        } else if in_vms && line.trim().is_empty() {
            if hidden > 0 {
                out.push_str(&format!(
                    "… {hidden} more VMs: hvinv report topology --db {db}\n"
                ));
            }
            in_vms = false;
        }
        if in_vms && line.starts_with('|') {
            rows += 1;
            // Two header lines, then data rows.
            if rows > KEEP + 2 {
                hidden += 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    if in_vms && hidden > 0 {
        out.push_str(&format!(
            "… {hidden} more VMs: hvinv report topology --db {db}\n"
        ));
    }
    out
}
