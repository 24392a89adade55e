//! `report coverage` as a table (for people) and CSV (one row per address;
//! the clusters are in the table and JSON only, so the CSV's shape stays
//! what its consumers read).

use std::io::Write;

use comfy_table::Cell;

use super::table::{new_table, num};
use crate::report::ReportError;
use crate::report::coverage::CoverageReport;
use crate::report::time;

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn kinds(k: &std::collections::BTreeMap<String, usize>) -> String {
    k.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn table(r: &CoverageReport, out: &mut dyn Write) -> Result<(), ReportError> {
    writeln!(
        out,
        "Coverage {} to {} ({} runs; cadence {} min + {} min slack)",
        time::format(&r.period.from),
        time::format(&r.period.to),
        r.runs.len(),
        r.cadence_minutes,
        r.slack_minutes
    )?;
    writeln!(
        out,
        "Data: {}\n",
        if r.complete {
            "complete"
        } else {
            "INCOMPLETE (failures, cadence breaks, interrupted runs or uncollected cluster nodes below)"
        }
    )?;
    let mut t = new_table(&[
        "address",
        "runs OK",
        "failed",
        "error kinds",
        "absent",
        "first OK run",
        "last OK run",
        "longest OK gap (min)",
        "gap runs",
    ]);
    for a in &r.addresses {
        t.add_row(vec![
            Cell::new(&a.address),
            num(a.runs_ok),
            num(a.runs_failed),
            Cell::new(kinds(&a.error_kinds)),
            num(a.runs_absent),
            Cell::new(opt(a.first_ok_run)),
            Cell::new(opt(a.last_ok_run)),
            Cell::new(opt(a.longest_ok_gap_minutes)),
            Cell::new(match (a.longest_ok_gap_from_run, a.longest_ok_gap_to_run) {
                (Some(x), Some(y)) => format!("{x} → {y}"),
                _ => String::new(),
            }),
        ]);
    }
    writeln!(out, "Addresses ({})\n{t}\n", r.addresses.len())?;
    if r.cadence_breaks.is_empty() {
        writeln!(
            out,
            "Cadence: every complete run within {} minutes of the previous one",
            r.cadence_minutes + r.slack_minutes
        )?;
    } else {
        let mut b = new_table(&["after run", "at (UTC)", "next run", "at (UTC)", "minutes"]);
        for c in &r.cadence_breaks {
            b.add_row(vec![
                num(c.after_run),
                Cell::new(time::format(&c.after_at)),
                num(c.next_run),
                Cell::new(time::format(&c.next_at)),
                num(c.minutes),
            ]);
        }
        writeln!(out, "Cadence breaks ({})\n{b}", r.cadence_breaks.len())?;
    }
    clusters(r, out)
}

/// The second section: each cluster and the nodes it named that were
/// never collected.
fn clusters(r: &CoverageReport, out: &mut dyn Write) -> Result<(), ReportError> {
    if r.clusters.is_empty() {
        return Ok(());
    }
    let mut t = new_table(&["cluster", "runs", "nodes seen", "nodes never collected"]);
    for c in &r.clusters {
        t.add_row(vec![
            Cell::new(&c.name),
            Cell::new(format!("{} → {}", c.first_run, c.last_run)),
            Cell::new(c.nodes_seen.join(", ")),
            Cell::new(c.nodes_never_collected.join(", ")),
        ]);
    }
    let missing: usize = r
        .clusters
        .iter()
        .map(|c| c.nodes_never_collected.len())
        .sum();
    writeln!(
        out,
        "\nClusters ({}; {missing} node(s) never collected)\n{t}",
        r.clusters.len()
    )?;
    Ok(())
}

pub const HEADER: [&str; 12] = [
    "address",
    "runs_ok",
    "runs_failed",
    "error_kinds",
    "runs_absent",
    "first_ok_run",
    "last_ok_run",
    "longest_ok_gap_minutes",
    "longest_ok_gap_from_run",
    "longest_ok_gap_to_run",
    "cadence_breaks",
    "report_complete",
];

/// One row per address, the period's cadence breaks and completeness
/// repeated so each row reads on its own.
pub fn csv(r: &CoverageReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for a in &r.addresses {
        w.write_record([
            a.address.clone(),
            a.runs_ok.to_string(),
            a.runs_failed.to_string(),
            kinds(&a.error_kinds),
            a.runs_absent.to_string(),
            opt(a.first_ok_run),
            opt(a.last_ok_run),
            opt(a.longest_ok_gap_minutes),
            opt(a.longest_ok_gap_from_run),
            opt(a.longest_ok_gap_to_run),
            r.cadence_breaks.len().to_string(),
            r.complete.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
