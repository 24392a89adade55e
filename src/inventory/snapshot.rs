//! Builds a `HostSnapshot` from the instances the queries returned. Pure:
//! no I/O, so every pitfall is tested with hand-built instances.

use crate::inventory::classes::*;
use crate::inventory::cluster::{build_cluster, match_by_group};
use crate::inventory::error::{BadValue, CollectError};
use crate::inventory::model::*;
use crate::inventory::results::{QueryResults, first};
use crate::inventory::vms::build_vms;
use crate::wsman::Instance;

pub fn build_snapshot(r: &QueryResults) -> Result<HostSnapshot, CollectError> {
    let mut warnings = r.warnings.clone();

    let cs = match r.computer_system.first() {
        Some(i) => Win32ComputerSystem::from_instance(i)?,
        None => {
            return Err(CollectError::Missing(
                "Win32_ComputerSystem returned no instance",
            ));
        }
    };
    let product = first(&r.product, Win32ComputerSystemProduct::from_instance)?.unwrap_or_default();
    let bios = first(&r.bios, Win32Bios::from_instance)?.unwrap_or_default();
    let os = first(&r.operating_system, Win32OperatingSystem::from_instance)?.unwrap_or_default();

    let identity = host_identity(&product, &bios, &mut warnings);
    let serial = identity.serial.clone();

    let mut cpus = r
        .processors
        .iter()
        .map(Win32Processor::from_instance)
        .collect::<Result<Vec<_>, _>>()?;
    cpus.sort_by(|a, b| a.device_id.cmp(&b.device_id));
    let processors: Vec<Processor> = cpus
        .iter()
        .map(|p| Processor {
            socket: p.socket_designation.clone().or_else(|| p.device_id.clone()),
            name: p.name.clone(),
            manufacturer: p.manufacturer.clone(),
            cores: p.number_of_cores,
            logical: p.number_of_logical_processors,
            max_clock_mhz: p.max_clock_speed,
        })
        .collect();
    let cores = sum_known(processors.iter().map(|p| p.cores));
    let logical_processors = cs
        .number_of_logical_processors
        .or_else(|| sum_known(processors.iter().map(|p| p.logical)));
    let sockets = cs.number_of_processors.or_else(|| {
        (!processors.is_empty()).then(|| u32::try_from(processors.len()).unwrap_or(u32::MAX))
    });

    if let Some(rows) = &r.vmms {
        vmms_warning(rows, &mut warnings)?;
    }

    let mut cluster = build_cluster(&r.cluster)?;
    let mut vms = build_vms(&r.hyperv, cluster.as_ref())?;
    vms.sort_by(|a, b| a.guid.cmp(&b.guid));
    if let Some(c) = cluster.as_mut() {
        let matched = match_by_group(c, &r.cluster, &vms)?;
        for vm in vms.iter_mut().filter(|v| matched.contains(&v.guid)) {
            vm.clustered = true;
        }
        if !matched.is_empty() {
            warnings.push(format!(
                "cluster {}: {} clustered VM(s) carried no VmID and were matched to this host's VMs by resource group name",
                c.name,
                matched.len()
            ));
        }
    }

    let first_cpu = processors.first();
    Ok(HostSnapshot {
        identity,
        name: cs.name.clone(),
        fqdn: fqdn(&cs),
        manufacturer: cs.manufacturer.clone(),
        model: cs.model.clone(),
        serial,
        os: match (&os.caption, &os.version) {
            (Some(c), Some(v)) => Some(format!("{c} {v}")),
            (Some(c), None) => Some(c.clone()),
            (None, v) => v.clone(),
        },
        os_build: os.build_number.clone(),
        sockets,
        cores,
        logical_processors,
        memory_mb: cs.total_physical_memory.map(|b| b / (1024 * 1024)),
        processor_vendor: first_cpu.and_then(|p| p.manufacturer.clone()),
        processor_model: first_cpu.and_then(|p| p.name.clone()),
        processors,
        hyperv_namespace: Some(r.hyperv.namespace.as_str().to_string()),
        vms,
        cluster,
        warnings,
        region: None,
    })
}

/// The sum when at least one term is known (a socket without a figure
/// should not erase the others).
fn sum_known(it: impl Iterator<Item = Option<u32>>) -> Option<u32> {
    it.flatten()
        .fold(None, |acc, n| Some(acc.unwrap_or(0u32).saturating_add(n)))
}

fn host_identity(
    product: &Win32ComputerSystemProduct,
    bios: &Win32Bios,
    warnings: &mut Vec<String>,
) -> HostIdentity {
    let uuid = product.uuid.as_deref().and_then(|u| {
        let norm = Guid::or_text(u);
        if is_placeholder_uuid(&norm) {
            warnings.push(format!(
                "host UUID {norm} is a firmware placeholder; the host is identified by its serial"
            ));
            None
        } else {
            Some(norm.into_string())
        }
    });
    let serial = [
        bios.serial_number.as_deref(),
        product.identifying_number.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(|s| !is_placeholder_serial(s))
    .map(str::to_string);
    if uuid.is_none() && serial.is_none() {
        warnings.push(
            "host has neither a usable UUID nor a serial; it is identified by its name".into(),
        );
    }
    HostIdentity { uuid, serial }
}

fn fqdn(cs: &Win32ComputerSystem) -> Option<String> {
    let host = cs.dns_host_name.as_ref().or(cs.name.as_ref())?;
    let f = match (&cs.domain, cs.part_of_domain) {
        // A workgroup host reports the workgroup name as its Domain.
        (Some(d), Some(true) | None) if !d.eq_ignore_ascii_case("WORKGROUP") => {
            format!("{host}.{d}")
        }
        _ => host.clone(),
    };
    Some(f.to_ascii_lowercase())
}

fn vmms_warning(rows: &[Instance], warnings: &mut Vec<String>) -> Result<(), BadValue> {
    match rows.first().map(Win32Service::from_instance).transpose()? {
        None => warnings.push("Hyper-V Virtual Machine Management service (vmms) not found".into()),
        Some(s) if !s.is_running() => warnings.push(format!(
            "Hyper-V Virtual Machine Management service (vmms) is not running (state: {})",
            s.state.as_deref().unwrap_or("unknown")
        )),
        Some(_) => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
