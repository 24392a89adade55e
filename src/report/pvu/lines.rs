//! The report's lines from the priced runs: hosts at their peaks, the
//! peak run's detail, daily maxima and gaps.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::arith;
use super::per_run::Gap;
use super::price::{GapRuns, HostAgg, HostRun, Priced};
use super::rates::Rate;
use super::vm_filter::VmFilter;
use super::{DayHost, DayLine, GapLine, HostLine, PeakHost, PeakVm};

/// One line per host, at its own sub-capacity peak.
pub(super) fn host_lines(
    priced: &mut Priced<'_>,
    at: impl Fn(i64) -> DateTime<Utc>,
    warnings: &mut BTreeSet<String>,
) -> Vec<HostLine> {
    let mut hosts = Vec::new();
    let peaks = std::mem::take(&mut priced.host_peaks);
    for (host_id, (fig, run, tr)) in peaks {
        let tr = &tr;
        let f = tr.facts;
        let Some(rate) = priced.rates.get(&f.id) else {
            continue;
        };
        let agg = priced.aggs.remove(&host_id).unwrap_or_default();
        let notes = host_notes(rate, tr, &agg, warnings);
        hosts.push(HostLine {
            host_id,
            address: tr.address.to_string(),
            name: f.host.name.clone(),
            processor_vendor: f.host.processor_vendor.clone(),
            processor_model: f.host.processor_model.clone(),
            sockets: f.host.sockets.map(i64::from),
            cores: fig.cores,
            region: f.region.clone(),
            rate: rate.clone(),
            full_capacity_pvu: fig.full_capacity_pvu,
            peak_sub_capacity_cores: fig.sub_capacity_cores,
            peak_sub_capacity_pvu: fig.sub_capacity_pvu,
            peak_run: run,
            peak_at: at(run),
            peak_carried_forward: tr.carried_forward,
            runs_counted: agg.runs_counted,
            runs_carried_forward: agg.runs_carried_forward,
            notes,
        });
    }
    hosts.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));
    hosts
}

/// The notes on a host's line, and the report-wide warnings they raise.
fn host_notes(
    rate: &Rate,
    tr: &HostRun<'_>,
    agg: &HostAgg<'_>,
    warnings: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if rate.unknown_processor {
        notes.push(format!(
            "unknown processor: {} PVU per core applied",
            rate.pvu_per_core
        ));
        warnings.insert(format!(
            "{}: processor matches no PVU table row, {} PVU per core applied",
            tr.address, rate.pvu_per_core
        ));
    }
    if rate.verify {
        notes.push("rate row marked verify".to_string());
        warnings.insert(format!(
            "PVU table row {} is marked for verification against IBM's table",
            rate.row.as_deref().unwrap_or("?")
        ));
    }
    if rate.sockets_unknown {
        notes.push("socket count unknown: highest matching rate applied".to_string());
    }
    if tr.carried_forward {
        notes.push(format!(
            "peak figure carried forward from run {}",
            tr.snapshot_run
        ));
    }
    let unknown = &agg.vcpus_unknown;
    if !unknown.is_empty() {
        notes.push(format!(
            "vCPUs unknown for {} VM(s), counted at the host's cores",
            unknown.len()
        ));
    }
    let dropped = &agg.dropped;
    if !dropped.is_empty() {
        notes.push(format!(
            "{} VM(s) also seen on another host in the same run, counted there",
            dropped.len()
        ));
    }
    notes
}

/// What was counted at the sub-capacity peak, host by host: the VM lists
/// the sweep kept of the peak run only.
pub(super) fn peak_detail(priced: &Priced<'_>) -> Vec<PeakHost> {
    let Some(peak) = priced.sub_capacity else {
        return Vec::new();
    };
    let peak_run_id = peak.run_id;
    let mut peak_detail: Vec<PeakHost> = priced
        .peak_run
        .iter()
        .filter_map(|(host_id, host_vms)| {
            let (_, _, t) = priced.peak_traces.get(host_id)?;
            debug_assert_eq!(priced.peak_traces[host_id].1, peak_run_id);
            let mut vms: Vec<PeakVm> = host_vms
                .iter()
                .filter(|v| priced.counted_rows.get(&v.id).copied().unwrap_or(false))
                .map(|v| PeakVm {
                    // Unknown vCPUs count as the whole host.
                    licensable_cores: match v.vm.vcpus {
                        Some(n) => arith::vm_licensable_cores(n, t.figures.cores),
                        None => t.figures.cores,
                    },
                    vm: v.vm.clone(),
                })
                .collect();
            vms.sort_by(|a, b| a.vm.guid.cmp(&b.vm.guid));
            Some(PeakHost {
                host_id: *host_id,
                address: t.address.to_string(),
                name: t.facts.host.name.clone(),
                carried_forward: t.carried_forward,
                snapshot_run: t.snapshot_run,
                figures: t.figures,
                vms,
            })
        })
        .collect();
    peak_detail.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));

    peak_detail
}

/// The worst run of each UTC day, host by host.
pub(super) fn day_lines(priced: &Priced<'_>) -> Vec<DayLine> {
    priced
        .days
        .iter()
        .map(|(date, d)| {
            let mut hosts: Vec<DayHost> = d
                .hosts
                .iter()
                .map(|(host_id, (fig, run, t))| DayHost {
                    host_id: *host_id,
                    address: t.address.to_string(),
                    name: t.facts.host.name.clone(),
                    region: t.facts.region.clone(),
                    pvu_per_core: fig.pvu_per_core,
                    rate_row: priced.rates.get(&t.facts.id).and_then(|r| r.row.clone()),
                    cores: fig.cores,
                    full_capacity_pvu: fig.full_capacity_pvu,
                    sub_capacity_cores: fig.sub_capacity_cores,
                    sub_capacity_pvu: fig.sub_capacity_pvu,
                    run: *run,
                    carried_forward: t.carried_forward,
                })
                .collect();
            hosts.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));
            DayLine {
                date: *date,
                runs: d.runs,
                sub_capacity_pvu: d.sub_capacity.value,
                sub_capacity_run: d.sub_capacity.run_id,
                full_capacity_pvu: d.full_capacity.value,
                full_capacity_run: d.full_capacity.run_id,
                hosts,
            }
        })
        .collect()
}

/// One line per gap, and the reasons the report is incomplete.
pub(super) fn gap_lines(
    gaps: BTreeMap<Gap, GapRuns>,
    filter: Option<&VmFilter>,
) -> (Vec<GapLine>, Vec<String>) {
    let lines: Vec<GapLine> = gaps
        .into_iter()
        .map(|(g, runs)| gap_line(g, runs, filter))
        .collect();
    let mut incomplete_reasons: Vec<String> = lines
        .iter()
        .filter(|g| g.flags_incomplete)
        .map(|g| g.message.clone())
        .collect();
    incomplete_reasons.dedup();
    (lines, incomplete_reasons)
}

fn gap_line(g: Gap, runs: GapRuns, filter: Option<&VmFilter>) -> GapLine {
    let (first_run, last_run) = (runs.first, runs.last);
    let span = if first_run == last_run {
        format!("run {first_run}")
    } else {
        format!("runs {first_run}–{last_run} ({} runs)", runs.count)
    };
    let mut line = GapLine {
        kind: "",
        address: None,
        cluster: None,
        node: None,
        vm_guid: None,
        last_ok_run: None,
        first_run,
        last_run,
        runs: runs.count,
        flags_incomplete: true,
        message: String::new(),
    };
    match g {
        Gap::Stale {
            address,
            last_ok_run,
        } => {
            line.kind = "stale";
            line.message = match last_ok_run {
                Some(r) => format!(
                    "{address}: failed in {span}; last good snapshot (run {r}) is older than the staleness limit"
                ),
                None => format!("{address}: failed in {span}; no good snapshot"),
            };
            line.address = Some(address);
            line.last_ok_run = last_ok_run;
        }
        Gap::NeverCollected { address } => {
            line.kind = "never_collected";
            line.message = format!("{address}: never collected (failed in {span})");
            line.address = Some(address);
        }
        Gap::NoFacts { address } => {
            line.kind = "no_facts";
            line.message = format!("{address}: no host facts or core count in {span}");
            line.address = Some(address);
        }
        Gap::ClusterNode { cluster, node } => {
            line.kind = "cluster_node";
            line.message = format!(
                "cluster {cluster}: node {node} is not among the collected hosts in {span}"
            );
            line.cluster = Some(cluster);
            line.node = Some(node);
        }
        Gap::OrphanVm {
            cluster,
            vm_guid,
            owner_node,
        } => {
            line.kind = "orphan_vm";
            // A VM outside the product list cannot hide product capacity.
            line.flags_incomplete = filter.is_none_or(|f| f.matches(&vm_guid, None, None));
            line.message = format!(
                "cluster {cluster}: VM {vm_guid} (owner {}) is on no collected node in {span}",
                owner_node.as_deref().unwrap_or("unknown")
            );
            line.cluster = Some(cluster);
            line.node = owner_node;
            line.vm_guid = Some(vm_guid);
        }
    }
    line
}
