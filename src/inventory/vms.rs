//! VMs from the Hyper-V classes: which systems are VMs, and which setting
//! data is theirs (never a checkpoint's).

use crate::inventory::classes::{
    MsvmComputerSystem, MsvmMemorySettingData, MsvmProcessorSettingData,
    MsvmVirtualSystemSettingData,
};
use crate::inventory::error::CollectError;
use crate::inventory::model::*;
use crate::inventory::results::{HyperVNamespace, HyperVResults};
use std::collections::{HashMap, HashSet};

const REALIZED: &str = "Microsoft:Hyper-V:System:Realized";

/// The GUID in a setting-data `InstanceID`: `Microsoft:<GUID>` or
/// `Microsoft:<GUID>\<device>\<n>`.
pub fn instance_id_guid(instance_id: &str) -> Option<Guid> {
    let rest = instance_id.trim().strip_prefix("Microsoft:")?;
    let guid = rest.split(['\\', '/']).next()?;
    Guid::parse(guid)
}

pub(crate) fn build_vms(
    h: &HyperVResults,
    cluster: Option<&ClusterSnapshot>,
) -> Result<Vec<VmSnapshot>, CollectError> {
    // Realized configurations, keyed by VM GUID; and configuration GUID → VM.
    let mut settings: HashMap<Guid, MsvmVirtualSystemSettingData> = HashMap::new();
    let mut config_to_vm: HashMap<Guid, Guid> = HashMap::new();
    for i in &h.settings {
        let s = MsvmVirtualSystemSettingData::from_instance(i)?;
        if !is_current(&s, h.namespace) {
            continue;
        }
        let config = s.instance_id.as_deref().and_then(instance_id_guid);
        let vm = s
            .virtual_system_identifier
            .as_deref()
            .or(s.system_name.as_deref())
            .and_then(Guid::parse)
            .or_else(|| config.clone());
        let Some(vm) = vm else { continue };
        if let Some(c) = config {
            config_to_vm.insert(c, vm.clone());
        }
        settings.entry(vm).or_insert(s);
    }

    // Checkpoint rows carry their checkpoint's GUID, which is no VM's
    // realized configuration GUID, so they never reach this map.
    let mut cpu: HashMap<Guid, MsvmProcessorSettingData> = HashMap::new();
    for i in &h.processor_settings {
        let p = MsvmProcessorSettingData::from_instance(i)?;
        if let Some(vm) = owner(p.instance_id.as_deref(), &config_to_vm) {
            cpu.entry(vm).or_insert(p);
        }
    }
    let mut mem: HashMap<Guid, MsvmMemorySettingData> = HashMap::new();
    for i in &h.memory_settings {
        let m = MsvmMemorySettingData::from_instance(i)?;
        if let Some(vm) = owner(m.instance_id.as_deref(), &config_to_vm) {
            mem.entry(vm).or_insert(m);
        }
    }

    let clustered: HashSet<&str> = cluster
        .map(|c| {
            c.vm_owners
                .iter()
                .filter_map(|o| o.vm_guid.as_deref())
                .collect()
        })
        .unwrap_or_default();

    let mut vms = Vec::new();
    let mut seen = HashSet::new();
    for i in &h.systems {
        let sys = MsvmComputerSystem::from_instance(i)?;
        // A VM is a system whose Name is a realized configuration's VM GUID;
        // the host row (Name = computer name) and anything else never match.
        let Some(guid) = sys.name.as_deref().and_then(Guid::parse) else {
            continue;
        };
        let Some(s) = settings.get(&guid) else {
            continue;
        };
        if !seen.insert(guid.clone()) {
            continue;
        }
        let p = cpu.get(&guid);
        let m = mem.get(&guid);
        vms.push(VmSnapshot {
            name: sys.element_name.clone().or_else(|| s.element_name.clone()),
            bios_guid: s.bios_guid.as_deref().map(Guid::or_text),
            bios_serial: s.bios_serial_number.clone(),
            state: VmState::from_enabled_state(sys.enabled_state),
            enabled_state: sys.enabled_state,
            health_state: sys.health_state,
            vcpus: p.and_then(|p| p.virtual_quantity),
            cpu_limit_pct: p.and_then(|p| p.limit).map(|v| v as f64 / 1000.0),
            cpu_reservation_pct: p.and_then(|p| p.reservation).map(|v| v as f64 / 1000.0),
            cpu_weight: p.and_then(|p| p.weight),
            memory_mb: m.and_then(|m| m.virtual_quantity),
            dynamic_memory: m.and_then(|m| m.dynamic_memory_enabled),
            replication: Replication::from_mode(sys.replication_mode),
            replication_mode: sys.replication_mode,
            generation: generation(&s.virtual_system_sub_type),
            version: s.version.clone(),
            clustered: clustered.contains(guid.as_str()),
            guid,
        });
    }
    Ok(vms)
}

/// The query already filters; this guards against a host that ignores the
/// WHERE clause, so a checkpoint can never pass for the VM.
fn is_current(s: &MsvmVirtualSystemSettingData, ns: HyperVNamespace) -> bool {
    match ns {
        HyperVNamespace::V2 => s
            .virtual_system_type
            .as_deref()
            .is_none_or(|t| t == REALIZED),
        HyperVNamespace::V1 => s.setting_type.is_none_or(|t| t == 3),
    }
}

fn owner(instance_id: Option<&str>, config_to_vm: &HashMap<Guid, Guid>) -> Option<Guid> {
    config_to_vm.get(&instance_id_guid(instance_id?)?).cloned()
}

fn generation(sub_type: &Option<Option<String>>) -> Option<u8> {
    match sub_type {
        // Before 2012 R2 the property does not exist and every VM is generation 1.
        None | Some(None) => Some(1),
        Some(Some(t)) if t.ends_with(":SubType:2") => Some(2),
        Some(Some(t)) if t.ends_with(":SubType:1") => Some(1),
        Some(Some(_)) => None,
    }
}
