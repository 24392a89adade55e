//! CSV: flat rows that open in a spreadsheet as is. Empty cell = null.

use std::io::Write;

use crate::report::ReportError;
use crate::report::topology::{Host, TopologyReport};
use crate::store::read::VmSnapshot;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub const TOPOLOGY_HEADER: [&str; 32] = [
    "run_id",
    "run_started_at",
    "host_address",
    "host_status",
    "host_error_kind",
    "host_error_message",
    "host_warnings",
    "host_name",
    "host_fqdn",
    "host_uuid",
    "host_serial",
    "host_manufacturer",
    "host_model",
    "host_os",
    "host_sockets",
    "host_cores",
    "host_logical_processors",
    "host_memory_mb",
    "processor_vendor",
    "processor_model",
    "cluster",
    "vm_id",
    "vm_name",
    "vm_bios_guid",
    "vm_state",
    "vm_vcpus",
    "vm_cpu_limit_pct",
    "vm_memory_mb",
    "vm_dynamic_memory",
    "vm_replication",
    "vm_generation",
    "vm_clustered",
];

/// One row per VM with its host's columns repeated, plus one row per host
/// without VMs (export.md).
pub fn topology(r: &TopologyReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(TOPOLOGY_HEADER)?;
    let started = crate::report::time::format(&r.run.started_at);
    for h in &r.hosts {
        let host_cols = host_columns(r.run.id, &started, h);
        if h.vms.is_empty() {
            let mut row = host_cols.clone();
            row.extend(std::iter::repeat_n(String::new(), 11));
            w.write_record(&row)?;
        }
        for vm in &h.vms {
            let mut row = host_cols.clone();
            row.extend(vm_columns(vm));
            w.write_record(&row)?;
        }
    }
    w.flush()?;
    Ok(())
}

fn host_columns(run_id: i64, started: &str, h: &Host) -> Vec<String> {
    let f = h.facts_or_empty();
    vec![
        run_id.to_string(),
        started.to_string(),
        h.address.clone(),
        h.status.to_string(),
        h.error.as_ref().map(|e| e.kind.clone()).unwrap_or_default(),
        h.error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default(),
        h.warnings.join("; "),
        opt(&f.name),
        opt(&f.fqdn),
        opt(&f.identity.uuid),
        opt(&f.serial),
        opt(&f.manufacturer),
        opt(&f.model),
        opt(&f.os),
        opt(&f.sockets),
        opt(&f.cores),
        opt(&f.logical_processors),
        opt(&f.memory_mb),
        opt(&f.processor_vendor),
        opt(&f.processor_model),
        opt(&h.cluster),
    ]
}

fn vm_columns(vm: &VmSnapshot) -> Vec<String> {
    vec![
        vm.guid.to_string(),
        opt(&vm.name),
        opt(&vm.bios_guid),
        vm.state.to_string(),
        opt(&vm.vcpus),
        opt(&vm.cpu_limit_pct),
        opt(&vm.memory_mb),
        opt(&vm.dynamic_memory),
        vm.replication.as_str().to_string(),
        opt(&vm.generation),
        vm.clustered.to_string(),
    ]
}

pub const PVU_HEADER: [&str; 20] = [
    "date",
    "host_address",
    "host_name",
    "host_id",
    "pvu_per_core",
    "rate_row",
    "cores",
    "full_capacity_pvu",
    "sub_capacity_cores",
    "sub_capacity_pvu",
    "run_id",
    "carried_forward",
    "day_sub_capacity_pvu",
    "day_full_capacity_pvu",
    "report_complete",
    "counted_states",
    "product",
    "region",
    "region_sub_capacity_peak_pvu",
    "product_sub_capacity_pvu",
];

/// One row per product per host per UTC day: the host's own maximum that
/// day, with the day's total, the host's region's peak and the product's
/// figure (the sum of its regional peaks) repeated so each row reads on its
/// own.
pub fn pvu(r: &crate::report::PvuReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(PVU_HEADER)?;
    let states = r.counted_states.join(" ");
    for p in &r.products {
        let region_peak = |region: &str| {
            p.regions
                .iter()
                .find(|x| x.region == region)
                .map_or(0, |x| x.sub_capacity_peak_pvu)
        };
        for d in &p.days {
            for h in &d.hosts {
                let mut row = pvu_host_day(r, d, h, &states);
                row.extend([
                    p.name.clone(),
                    h.region.clone(),
                    region_peak(&h.region).to_string(),
                    p.sub_capacity_pvu.to_string(),
                ]);
                w.write_record(&row)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

fn pvu_host_day(
    r: &crate::report::PvuReport,
    d: &crate::report::pvu::DayLine,
    h: &crate::report::pvu::DayHost,
    states: &str,
) -> Vec<String> {
    vec![
        d.date.to_string(),
        h.address.clone(),
        opt(&h.name),
        h.host_id.to_string(),
        h.pvu_per_core.to_string(),
        opt(&h.rate_row),
        h.cores.to_string(),
        h.full_capacity_pvu.to_string(),
        h.sub_capacity_cores.to_string(),
        h.sub_capacity_pvu.to_string(),
        h.run.to_string(),
        h.carried_forward.to_string(),
        d.sub_capacity_pvu.to_string(),
        d.full_capacity_pvu.to_string(),
        r.complete.to_string(),
        states.to_string(),
    ]
}
