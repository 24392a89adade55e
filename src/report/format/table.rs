//! Tables for people (comfy-table, ASCII so logs and mail keep them intact).

use std::io::Write;

use comfy_table::{Cell, CellAlignment, Table, presets};

use crate::report::ReportError;
use crate::report::time;
use crate::report::topology::TopologyReport;

pub(crate) fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_MARKDOWN);
    t.set_header(header.iter().copied());
    t
}

pub(crate) fn num<T: ToString>(v: T) -> Cell {
    Cell::new(v.to_string()).set_alignment(CellAlignment::Right)
}

pub(crate) fn opt_num<T: ToString>(v: &Option<T>) -> Cell {
    match v {
        Some(v) => num(v.to_string()),
        None => Cell::new("-"),
    }
}

pub(crate) fn opt_str(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".to_string())
}

pub fn topology(r: &TopologyReport, out: &mut dyn Write) -> Result<(), ReportError> {
    writeln!(
        out,
        "Run {} started {} finished {}",
        r.run.id,
        time::format(&r.run.started_at),
        r.run
            .finished_at
            .as_ref()
            .map(time::format)
            .unwrap_or_else(|| "-".to_string())
    )?;
    writeln!(out)?;

    let mut hosts = new_table(&[
        "address",
        "status",
        "name",
        "cluster",
        "processor",
        "sockets",
        "cores",
        "LPs",
        "memory MB",
        "VMs",
        "notes",
    ]);
    for h in &r.hosts {
        let notes = match &h.error {
            Some(e) => format!("{}: {}", e.kind, e.message),
            None => h.warnings.join("; "),
        };
        let f = h.facts_or_empty();
        let processor = opt_str(&f.processor_model);
        hosts.add_row(vec![
            Cell::new(&h.address),
            Cell::new(h.status),
            Cell::new(opt_str(&f.name)),
            Cell::new(opt_str(&h.cluster)),
            Cell::new(processor),
            opt_num(&f.sockets),
            opt_num(&f.cores),
            opt_num(&f.logical_processors),
            opt_num(&f.memory_mb),
            num(h.vms.len()),
            Cell::new(notes),
        ]);
    }
    writeln!(out, "Hosts ({})\n{hosts}\n", r.hosts.len())?;

    let mut vms = new_table(&[
        "host",
        "VM",
        "id",
        "state",
        "vCPU",
        "memory MB",
        "replication",
        "clustered",
    ]);
    let mut count = 0usize;
    for h in &r.hosts {
        let host_name = h.facts.as_ref().and_then(|f| f.name.clone());
        for v in &h.vms {
            count += 1;
            vms.add_row(vec![
                Cell::new(host_name.clone().unwrap_or_else(|| h.address.clone())),
                Cell::new(opt_str(&v.name)),
                Cell::new(&v.guid),
                Cell::new(v.state),
                opt_num(&v.vcpus),
                opt_num(&v.memory_mb),
                Cell::new(v.replication.as_str()),
                Cell::new(if v.clustered { "yes" } else { "no" }),
            ]);
        }
    }
    writeln!(out, "VMs ({count})\n{vms}\n")?;

    if !r.clusters.is_empty() {
        let mut clusters = new_table(&["cluster", "fqdn", "nodes"]);
        for c in &r.clusters {
            clusters.add_row(vec![
                Cell::new(&c.name),
                Cell::new(opt_str(&c.fqdn)),
                Cell::new(c.nodes.join(", ")),
            ]);
        }
        writeln!(out, "Clusters ({})\n{clusters}", r.clusters.len())?;
    }
    Ok(())
}

pub fn pvu(r: &crate::report::PvuReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let t = &r.totals;
    writeln!(
        out,
        "PVU report, period {} to {} (UTC)",
        time::format(&r.period.from),
        time::format(&r.period.to)
    )?;
    let ids: Vec<i64> = r.runs.iter().map(|x| x.id).collect();
    writeln!(out, "Runs used ({}): {}", r.runs.len(), id_ranges(&ids))?;
    writeln!(out, "Counted VM states: {}", r.counted_states.join(", "))?;
    writeln!(
        out,
        "Failed hosts carried forward up to {} h; PVU table: {}",
        r.max_staleness_hours, r.pvu_table
    )?;
    match &r.vm_list {
        Some(l) => writeln!(
            out,
            "VMs counted: those in {} ({} entries, {} unmatched)",
            l.source,
            l.entries,
            l.unmatched.len()
        )?,
        None => writeln!(out, "VMs counted: every VM (no --vms list)")?,
    }
    if r.complete {
        writeln!(out, "Data: complete")?;
    } else {
        writeln!(
            out,
            "Data: INCOMPLETE ({} gap(s) may hide capacity; see Gaps)",
            r.incomplete_reasons.len()
        )?;
    }
    writeln!(out)?;

    let mut totals = new_table(&["figure", "PVU", "run", "at (UTC)"]);
    totals.add_row(vec![
        Cell::new("sub-capacity peak"),
        num(t.sub_capacity_peak_pvu),
        num(t.sub_capacity_peak_run),
        Cell::new(time::format(&t.sub_capacity_peak_at)),
    ]);
    totals.add_row(vec![
        Cell::new("full capacity"),
        num(t.full_capacity_pvu),
        num(t.full_capacity_run),
        Cell::new(""),
    ]);
    totals.add_row(vec![
        Cell::new(format!(
            "entitlement needed (lower: {})",
            t.entitlement_basis
        )),
        num(t.entitlement_pvu),
        Cell::new(""),
        Cell::new(""),
    ]);
    writeln!(out, "Totals\n{totals}\n")?;
    products_and_regions(r, out)?;

    let mut hosts = new_table(&[
        "address",
        "name",
        "processor",
        "sockets",
        "cores",
        "PVU/core",
        "rate row",
        "full capacity",
        "peak sub cores",
        "peak sub PVU",
        "peak run",
        "notes",
    ]);
    for h in &r.hosts {
        hosts.add_row(vec![
            Cell::new(&h.address),
            Cell::new(opt_str(&h.name)),
            Cell::new(opt_str(&h.processor_model)),
            opt_num(&h.sockets),
            num(h.cores),
            num(h.rate.pvu_per_core),
            Cell::new(
                h.rate
                    .row
                    .clone()
                    .unwrap_or_else(|| "none (unknown processor)".to_string()),
            ),
            num(h.full_capacity_pvu),
            num(h.peak_sub_capacity_cores),
            num(h.peak_sub_capacity_pvu),
            num(h.peak_run),
            Cell::new(h.notes.join("; ")),
        ]);
    }
    writeln!(out, "Hosts ({})\n{hosts}\n", r.hosts.len())?;

    // Every counted VM is in json/xlsx; a person reading the table wants
    // them only when a product list narrowed the count.
    let counted: usize = r.peak_detail.iter().map(|h| h.vms.len()).sum();
    if r.vm_list.is_some() {
        let mut peak = new_table(&["host", "VM", "id", "state", "vCPU", "licensable cores"]);
        for h in &r.peak_detail {
            let host = format!(
                "{}{}",
                h.name.clone().unwrap_or_else(|| h.address.clone()),
                if h.carried_forward {
                    format!(" (carried from run {})", h.snapshot_run)
                } else {
                    String::new()
                }
            );
            for v in &h.vms {
                peak.add_row(vec![
                    Cell::new(&host),
                    Cell::new(opt_str(&v.vm.name)),
                    Cell::new(&v.vm.guid),
                    Cell::new(v.vm.state),
                    opt_num(&v.vm.vcpus),
                    num(v.licensable_cores),
                ]);
            }
        }
        writeln!(
            out,
            "Counted VMs at the sub-capacity peak (run {})\n{peak}\n",
            t.sub_capacity_peak_run
        )?;
    } else {
        writeln!(
            out,
            "Counted VMs at the sub-capacity peak (run {}): {counted} on {} hosts (listed in the json and xlsx formats)\n",
            t.sub_capacity_peak_run,
            r.peak_detail.iter().filter(|h| !h.vms.is_empty()).count()
        )?;
    }

    let mut days = new_table(&[
        "date (UTC)",
        "runs",
        "sub-capacity PVU",
        "at run",
        "full capacity PVU",
    ]);
    for d in &r.days {
        days.add_row(vec![
            Cell::new(d.date.to_string()),
            num(d.runs),
            num(d.sub_capacity_pvu),
            num(d.sub_capacity_run),
            num(d.full_capacity_pvu),
        ]);
    }
    writeln!(out, "Day by day (maximum)\n{days}")?;

    if !r.gaps.is_empty() {
        let mut gaps = new_table(&["kind", "runs", "flags incomplete", "detail"]);
        for g in &r.gaps {
            gaps.add_row(vec![
                Cell::new(g.kind),
                num(g.runs),
                Cell::new(if g.flags_incomplete { "yes" } else { "no" }),
                Cell::new(&g.message),
            ]);
        }
        writeln!(out, "\nGaps\n{gaps}")?;
    }
    if !r.warnings.is_empty() {
        writeln!(out, "\nWarnings")?;
        for w in &r.warnings {
            writeln!(out, "- {w}")?;
        }
    }
    Ok(())
}

/// Each product's peak per licence region; the product's figure is the sum
/// of its regional peaks (pvu.md), which the table says in words.
fn products_and_regions(
    r: &crate::report::PvuReport,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let mut t = new_table(&[
        "product",
        "VMs",
        "region",
        "sub-capacity peak",
        "run",
        "at (UTC)",
        "full capacity",
    ]);
    for p in &r.products {
        for g in &p.regions {
            t.add_row(vec![
                Cell::new(&p.name),
                num(p.vms_matched),
                Cell::new(&g.region),
                num(g.sub_capacity_peak_pvu),
                num(g.sub_capacity_peak_run),
                Cell::new(time::format(&g.sub_capacity_peak_at)),
                num(g.full_capacity_pvu),
            ]);
        }
        t.add_row(vec![
            Cell::new(&p.name),
            num(p.vms_matched),
            Cell::new("all regions (sum of regional peaks)"),
            num(p.sub_capacity_pvu),
            Cell::new(""),
            Cell::new(format!("entitlement {}", p.entitlement_pvu)),
            num(p.full_capacity_pvu),
        ]);
    }
    writeln!(out, "Products and regions\n{t}\n")?;
    Ok(())
}

pub fn history(r: &crate::report::HistoryReport, out: &mut dyn Write) -> Result<(), ReportError> {
    writeln!(
        out,
        "VM history, runs {} ({}) to {} ({})",
        r.first_run.id,
        time::format(&r.first_run.at),
        r.last_run.id,
        time::format(&r.last_run.at)
    )?;
    let mut placements = new_table(&[
        "VM",
        "id",
        "host",
        "from run",
        "from (UTC)",
        "to run",
        "to (UTC)",
    ]);
    let mut events = new_table(&["run", "at (UTC)", "VM", "event", "host", "before", "after"]);
    let mut all_events = Vec::new();
    // For the whole estate, VMs that stayed put on one host would bury the
    // moves: they are counted, not listed (json has them all).
    let single = r.vms.len() == 1;
    let mut quiet = 0usize;
    for vm in &r.vms {
        let name = opt_str(&vm.name);
        if !single && vm.placements.len() <= 1 && vm.events.is_empty() {
            quiet += 1;
            continue;
        }
        for p in &vm.placements {
            placements.add_row(vec![
                Cell::new(&name),
                Cell::new(&vm.id),
                Cell::new(&p.host),
                num(p.from.id),
                Cell::new(time::format(&p.from.at)),
                num(p.to.id),
                Cell::new(time::format(&p.to.at)),
            ]);
        }
        for e in &vm.events {
            all_events.push((e.run.id, name.clone(), e));
        }
    }
    // Events read best in time order across VMs.
    all_events.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.kind.cmp(&b.2.kind))
    });
    for (_, name, e) in all_events {
        events.add_row(vec![
            num(e.run.id),
            Cell::new(time::format(&e.run.at)),
            Cell::new(name),
            Cell::new(e.kind.as_str()),
            Cell::new(&e.host),
            Cell::new(opt_str(&e.before)),
            Cell::new(opt_str(&e.after)),
        ]);
    }
    if quiet > 0 {
        writeln!(
            out,
            "{quiet} VM(s) stayed on one host with no change (listed in the json format)"
        )?;
    }
    writeln!(out, "\nPlacements\n{placements}\n\nEvents\n{events}")?;
    Ok(())
}

/// "1-3, 7, 9-12" for sorted ids: a quarter of half-hourly runs stays one line.
pub(crate) fn id_ranges(ids: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&start) = ids.get(i) {
        let mut end = start;
        while ids.get(i + 1) == Some(&(end + 1)) {
            end += 1;
            i += 1;
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_ranges_collapse_consecutive_runs() {
        assert_eq!(id_ranges(&[1, 2, 3, 7, 9, 10, 11, 12]), "1-3, 7, 9-12");
        assert_eq!(id_ranges(&[5]), "5");
        assert_eq!(id_ranges(&[]), "");
    }
}
