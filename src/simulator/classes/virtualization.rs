//! `root/virtualization/v2` (2012+) and `root/virtualization` (2008 R2):
//! the host row, VMs, their setting data (current, checkpoints, planned),
//! processor and memory settings.

use super::value::{CimValue as V, Row, datetime_from, hash};
use super::{ClassDef, p};
use crate::simulator::estate::{Locale, SimHost, SimVm, VmState, WindowsRelease::*};

/// Resource-type GUIDs Hyper-V uses inside setting-data InstanceIDs.
const PROCESSOR_RASD: &str = "B637F346-6A0E-4DEC-AF52-BD70CB80A21D";
const MEMORY_RASD: &str = "4764334D-E001-4176-82EE-5594EC9B530E";

pub static COMPUTER_SYSTEM_V2: ClassDef = ClassDef {
    name: "Msvm_ComputerSystem",
    props: &[
        p("AvailableRequestedStates", W2012),
        p("Caption", W2012),
        p("CommunicationStatus", W2012),
        p("CreationClassName", W2012),
        p("Dedicated", W2012),
        p("Description", W2012),
        p("ElementName", W2012),
        p("EnabledDefault", W2012),
        p("EnabledState", W2012),
        p("EnhancedSessionModeState", W2012R2),
        p("FailedOverReplicationType", W2012),
        p("HealthState", W2012),
        p("HwThreadsPerCoreRealized", W2019),
        p("InstallDate", W2012),
        p("InstanceID", W2012),
        p("LastApplicationConsistentReplicationTime", W2012),
        p("LastReplicationTime", W2012),
        p("LastReplicationType", W2012),
        p("LastSuccessfulBackupTime", W2012R2),
        p("Name", W2012),
        p("NameFormat", W2012),
        p("NumberOfNumaNodes", W2012),
        p("OnTimeInMilliseconds", W2012),
        p("OperationalStatus", W2012),
        p("OtherEnabledState", W2012),
        p("PrimaryOwnerContact", W2012),
        p("PrimaryOwnerName", W2012),
        p("ProcessID", W2012),
        p("ReplicationHealth", W2012),
        p("ReplicationMode", W2012),
        p("ReplicationState", W2012),
        p("RequestedState", W2012),
        p("Status", W2012),
        p("TimeOfLastConfigurationChange", W2012),
        p("TimeOfLastStateChange", W2012),
    ],
};

pub static COMPUTER_SYSTEM_V1: ClassDef = ClassDef {
    name: "Msvm_ComputerSystem",
    props: &[
        p("Caption", W2008R2),
        p("CreationClassName", W2008R2),
        p("Description", W2008R2),
        p("ElementName", W2008R2),
        p("EnabledDefault", W2008R2),
        p("EnabledState", W2008R2),
        p("HealthState", W2008R2),
        p("InstallDate", W2008R2),
        p("Name", W2008R2),
        p("NameFormat", W2008R2),
        p("OnTimeInMilliseconds", W2008R2),
        p("OperationalStatus", W2008R2),
        p("PrimaryOwnerName", W2008R2),
        p("ProcessID", W2008R2),
        p("RequestedState", W2008R2),
        p("Status", W2008R2),
        p("TimeOfLastConfigurationChange", W2008R2),
        p("TimeOfLastStateChange", W2008R2),
    ],
};

/// (VM caption, VM description, host caption, host description).
fn texts(locale: Locale) -> (&'static str, &'static str, &'static str, &'static str) {
    match locale {
        Locale::En => (
            "Virtual Machine",
            "Microsoft Virtual Machine",
            "Hosting Computer System",
            "Microsoft Hosting Computer System",
        ),
        Locale::Fr => (
            "Ordinateur virtuel",
            "Ordinateur virtuel Microsoft",
            "Système informatique hôte",
            "Système informatique d'hébergement Microsoft",
        ),
        Locale::Ja => (
            "仮想マシン",
            "Microsoft 仮想マシン",
            "ホスト コンピューター システム",
            "Microsoft ホスト コンピューター システム",
        ),
    }
}

pub fn computer_systems(h: &SimHost) -> Vec<Row> {
    let (vm_caption, vm_desc, host_caption, host_desc) = texts(h.locale);
    let mut rows = Vec::with_capacity(h.vms.len() + 1);
    rows.push(
        Row::new()
            .set("Caption", V::s(host_caption))
            .set("CreationClassName", V::s("Msvm_ComputerSystem"))
            .set("Description", V::s(host_desc))
            .set("ElementName", V::s(&h.name))
            .set("EnabledDefault", V::UInt(2))
            .set("EnabledState", V::UInt(2))
            .set("HealthState", V::UInt(5))
            .set("Name", V::s(&h.name))
            .set("OperationalStatus", V::Array(vec![V::UInt(2)]))
            .set("RequestedState", V::UInt(12))
            .set("Status", V::s("OK")),
    );
    for vm in h.realized_vms() {
        let running = vm.state == VmState::Running;
        let seed = hash(&vm.guid);
        let mut row = Row::new()
            .set("Caption", V::s(vm_caption))
            .set("CreationClassName", V::s("Msvm_ComputerSystem"))
            .set("Description", V::s(vm_desc))
            .set("ElementName", V::s(&vm.name))
            .set("EnabledDefault", V::UInt(2))
            .set("EnabledState", V::UInt(u64::from(vm.state.enabled_state())))
            .set("HealthState", V::UInt(u64::from(vm.health_state)))
            .set("InstallDate", V::DateTime(datetime_from(seed)))
            .set("InstanceID", V::s(format!("Microsoft:{}", vm.guid)))
            .set("Name", V::s(&vm.guid))
            .set("NameFormat", V::Null)
            .set("NumberOfNumaNodes", V::UInt(1))
            .set("OnTimeInMilliseconds", V::UInt(vm.uptime_ms))
            .set("OperationalStatus", V::Array(vec![V::UInt(2)]))
            .set(
                "ProcessID",
                if running {
                    V::UInt(4000 + seed % 20_000)
                } else {
                    V::Null
                },
            )
            .set(
                "ReplicationHealth",
                V::UInt(if vm.replication_mode == 0 { 0 } else { 1 }),
            )
            .set("ReplicationMode", V::UInt(u64::from(vm.replication_mode)))
            .set(
                "ReplicationState",
                V::UInt(if vm.replication_mode == 0 { 0 } else { 6 }),
            )
            .set("RequestedState", V::UInt(5))
            .set("Status", V::s("OK"))
            .set(
                "TimeOfLastConfigurationChange",
                V::DateTime(datetime_from(seed.rotate_left(9))),
            )
            .set(
                "TimeOfLastStateChange",
                V::DateTime(datetime_from(seed.rotate_left(21))),
            )
            .set(
                "EnhancedSessionModeState",
                V::UInt(if running { 3 } else { 2 }),
            )
            .set(
                "HwThreadsPerCoreRealized",
                if running { V::UInt(1) } else { V::Null },
            );
        if vm.replication_mode != 0 {
            row = row.set(
                "LastReplicationTime",
                V::DateTime(datetime_from(seed.rotate_left(3))),
            );
        }
        rows.push(row);
    }
    rows
}

pub static VSSD_V2: ClassDef = ClassDef {
    name: "Msvm_VirtualSystemSettingData",
    props: &[
        p("AutomaticCriticalErrorAction", W2012R2),
        p("AutomaticRecoveryAction", W2012),
        p("AutomaticShutdownAction", W2012),
        p("AutomaticStartupAction", W2012),
        p("BaseBoardSerialNumber", W2012),
        p("BIOSGUID", W2012),
        p("BIOSNumLock", W2012),
        p("BIOSSerialNumber", W2012),
        p("BootOrder", W2012),
        p("Caption", W2012),
        p("ChassisAssetTag", W2012),
        p("ChassisSerialNumber", W2012),
        p("ConfigurationDataRoot", W2012),
        p("ConfigurationFile", W2012),
        p("ConfigurationID", W2012),
        p("CreationTime", W2012),
        p("Description", W2012),
        p("ElementName", W2012),
        p("EnhancedSessionTransportType", W2019),
        p("InstanceID", W2012),
        p("IsSaved", W2012R2),
        p("LowMmioGapSize", W2012R2),
        p("Notes", W2012),
        p("Parent", W2012),
        p("SecureBootEnabled", W2012R2),
        p("SnapshotDataRoot", W2012),
        p("SwapFileDataRoot", W2012),
        p("Version", W2016),
        p("VirtualNumaEnabled", W2012),
        p("VirtualSystemIdentifier", W2012),
        p("VirtualSystemSubType", W2012R2),
        p("VirtualSystemType", W2012),
    ],
};

pub static VSSD_V1: ClassDef = ClassDef {
    name: "Msvm_VirtualSystemSettingData",
    props: &[
        p("AutoActivate", W2008R2),
        p("BaseBoardSerialNumber", W2008R2),
        p("BIOSGUID", W2008R2),
        p("BIOSNumLock", W2008R2),
        p("BIOSSerialNumber", W2008R2),
        p("BootOrder", W2008R2),
        p("Caption", W2008R2),
        p("ChassisAssetTag", W2008R2),
        p("ChassisSerialNumber", W2008R2),
        p("CreationTime", W2008R2),
        p("Description", W2008R2),
        p("ElementName", W2008R2),
        p("InstanceID", W2008R2),
        p("Notes", W2008R2),
        p("NumaNodeList", W2008R2),
        p("NumaNodesAreRequired", W2008R2),
        p("OtherVirtualSystemType", W2008R2),
        p("Parent", W2008R2),
        p("SettingType", W2008R2),
        p("SystemName", W2008R2),
        p("VirtualSystemType", W2008R2),
    ],
};

/// One VSSD row: `id_guid` is the VM's GUID for the current settings and
/// the checkpoint's GUID for a checkpoint.
fn vssd_row(h: &SimHost, vm: &SimVm, id_guid: &str, name: &str, kind: SettingKind) -> Row {
    let v1 = h.release == W2008R2;
    let seed = hash(id_guid);
    let mut row = Row::new()
        .set("BaseBoardSerialNumber", V::s(&vm.bios_serial))
        .set("BIOSGUID", V::s(format!("{{{}}}", vm.bios_guid)))
        .set("BIOSNumLock", V::Bool(false))
        .set("BIOSSerialNumber", V::s(&vm.bios_serial))
        .set(
            "Caption",
            V::s(if kind == SettingKind::Snapshot {
                "Virtual Machine Snapshot Settings"
            } else {
                "Virtual Machine Settings"
            }),
        )
        .set(
            "ChassisAssetTag",
            V::s(format!(
                "{:04}-{:04}-{:04}",
                seed % 10_000,
                (seed >> 16) % 10_000,
                (seed >> 32) % 10_000
            )),
        )
        .set("ChassisSerialNumber", V::s(&vm.bios_serial))
        .set("CreationTime", V::DateTime(datetime_from(seed)))
        .set(
            "Description",
            V::s("Active settings for the virtual machine."),
        )
        .set("ElementName", V::s(name))
        .set("InstanceID", V::s(format!("Microsoft:{id_guid}")))
        .set("Notes", V::Array(vec![V::s("")]));
    if kind == SettingKind::Snapshot {
        row = row.set("Parent", V::s(format!("\\\\{}\\root\\virtualization{}:Msvm_VirtualSystemSettingData.InstanceID=\"Microsoft:{}\"", h.name, if v1 { "" } else { "\\v2" }, vm.guid)));
    }
    if v1 {
        row.set(
            "SettingType",
            V::UInt(if kind == SettingKind::Snapshot { 5 } else { 3 }),
        )
        .set("SystemName", V::s(&vm.guid))
        .set("VirtualSystemType", V::UInt(301))
        .set(
            "BootOrder",
            V::Array(vec![V::UInt(1), V::UInt(2), V::UInt(3), V::UInt(0)]),
        )
    } else {
        let gen2 = vm.generation == 2;
        let ty = match kind {
            SettingKind::Realized => "Microsoft:Hyper-V:System:Realized",
            SettingKind::Snapshot => "Microsoft:Hyper-V:System:Snapshot:Realized",
            SettingKind::Planned => "Microsoft:Hyper-V:System:Planned",
        };
        let root = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V";
        row.set("AutomaticRecoveryAction", V::UInt(3))
            .set("AutomaticShutdownAction", V::UInt(4))
            .set("AutomaticStartupAction", V::UInt(3))
            .set("AutomaticCriticalErrorAction", V::UInt(1))
            .set(
                "BootOrder",
                if gen2 {
                    V::Array(vec![])
                } else {
                    V::Array(vec![V::UInt(1), V::UInt(2), V::UInt(3), V::UInt(0)])
                },
            )
            .set("ConfigurationDataRoot", V::s(root))
            .set(
                "ConfigurationFile",
                V::s(format!("{root}\\Virtual Machines\\{}.vmcx", vm.guid)),
            )
            .set("ConfigurationID", V::s(id_guid))
            .set("EnhancedSessionTransportType", V::UInt(0))
            .set(
                "IsSaved",
                V::Bool(vm.state == VmState::Saved && kind == SettingKind::Realized),
            )
            .set("LowMmioGapSize", V::UInt(128))
            .set("SecureBootEnabled", V::Bool(gen2))
            .set("SnapshotDataRoot", V::s(root))
            .set("SwapFileDataRoot", V::s(root))
            .set("Version", V::s(&vm.version))
            .set("VirtualNumaEnabled", V::Bool(true))
            .set("VirtualSystemIdentifier", V::s(&vm.guid))
            .set(
                "VirtualSystemSubType",
                V::s(if gen2 {
                    "Microsoft:Hyper-V:SubType:2"
                } else {
                    "Microsoft:Hyper-V:SubType:1"
                }),
            )
            .set("VirtualSystemType", V::s(ty))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SettingKind {
    Realized,
    Snapshot,
    Planned,
}

pub fn setting_data(h: &SimHost) -> Vec<Row> {
    let mut rows = Vec::new();
    for vm in &h.vms {
        if vm.planned && h.release == W2008R2 {
            continue;
        }
        let kind = if vm.planned {
            SettingKind::Planned
        } else {
            SettingKind::Realized
        };
        rows.push(vssd_row(h, vm, &vm.guid, &vm.name, kind));
        for cp in &vm.checkpoints {
            rows.push(vssd_row(h, vm, &cp.guid, &cp.name, SettingKind::Snapshot));
        }
    }
    rows
}

pub static PROCESSOR_SD: ClassDef = ClassDef {
    name: "Msvm_ProcessorSettingData",
    props: &[
        p("AllocationUnits", W2008R2),
        p("Caption", W2008R2),
        p("CpuGroupId", W2016),
        p("Description", W2008R2),
        p("ElementName", W2008R2),
        p("ExposeVirtualizationExtensions", W2016),
        p("HwThreadsPerCore", W2019),
        p("InstanceID", W2008R2),
        p("Limit", W2008R2),
        p("LimitCPUID", W2008R2),
        p("LimitProcessorFeatures", W2008R2),
        p("MaxNumaNodesPerSocket", W2012),
        p("MaxProcessorsPerNumaNode", W2012),
        p("Reservation", W2008R2),
        p("ResourceSubType", W2008R2),
        p("ResourceType", W2008R2),
        p("VirtualQuantity", W2008R2),
        p("Weight", W2008R2),
    ],
};

fn processor_row(id: String, name: &str, vcpus: u32, vm: Option<&SimVm>) -> Row {
    Row::new()
        .set("AllocationUnits", V::s("percent / 1000"))
        .set("Caption", V::s(name))
        .set("CpuGroupId", V::s("00000000-0000-0000-0000-000000000000"))
        .set(
            "Description",
            V::s("Settings for Microsoft Virtual Processor."),
        )
        .set("ElementName", V::s(name))
        .set("ExposeVirtualizationExtensions", V::Bool(false))
        .set("HwThreadsPerCore", V::UInt(0))
        .set("InstanceID", V::s(id))
        .set("Limit", V::UInt(vm.map_or(100_000, |v| v.cpu_limit)))
        .set("LimitCPUID", V::Bool(false))
        .set("LimitProcessorFeatures", V::Bool(false))
        .set("MaxNumaNodesPerSocket", V::UInt(1))
        .set("MaxProcessorsPerNumaNode", V::UInt(24))
        .set("Reservation", V::UInt(vm.map_or(0, |v| v.cpu_reservation)))
        .set("ResourceSubType", V::s("Microsoft:Hyper-V:Processor"))
        .set("ResourceType", V::UInt(3))
        .set("VirtualQuantity", V::UInt(u64::from(vcpus)))
        .set(
            "Weight",
            V::UInt(u64::from(vm.map_or(100, |v| v.cpu_weight))),
        )
}

/// The capability templates every host lists (`Microsoft:Definition\…`):
/// rows that belong to no VM, which a collector must skip.
fn definitions(rasd: &str) -> Vec<(String, &'static str)> {
    ["Default", "Minimum", "Maximum", "Increment"]
        .iter()
        .map(|k| (format!("Microsoft:Definition\\{rasd}\\{k}"), *k))
        .collect()
}

pub fn processor_settings(h: &SimHost) -> Vec<Row> {
    let mut rows: Vec<Row> = definitions(PROCESSOR_RASD)
        .into_iter()
        .map(|(id, k)| processor_row(id, k, if k == "Maximum" { 240 } else { 1 }, None))
        .collect();
    for vm in &h.vms {
        let id = format!("Microsoft:{}\\{PROCESSOR_RASD}\\0", vm.guid);
        rows.push(processor_row(id, "Processor", vm.vcpus, Some(vm)));
        for cp in &vm.checkpoints {
            let id = format!("Microsoft:{}\\{PROCESSOR_RASD}\\0", cp.guid);
            rows.push(processor_row(id, "Processor", cp.vcpus, Some(vm)));
        }
    }
    rows
}

pub static MEMORY_SD: ClassDef = ClassDef {
    name: "Msvm_MemorySettingData",
    props: &[
        p("AllocationUnits", W2008R2),
        p("Caption", W2008R2),
        p("Description", W2008R2),
        p("DynamicMemoryEnabled", W2008R2),
        p("ElementName", W2008R2),
        p("InstanceID", W2008R2),
        p("Limit", W2008R2),
        p("MaxMemoryBlocksPerNumaNode", W2012),
        p("Reservation", W2008R2),
        p("ResourceSubType", W2008R2),
        p("ResourceType", W2008R2),
        p("TargetMemoryBuffer", W2008R2),
        p("VirtualQuantity", W2008R2),
        p("Weight", W2008R2),
    ],
};

fn memory_row(id: String, name: &str, mb: u64, dynamic: bool) -> Row {
    Row::new()
        .set("AllocationUnits", V::s("byte * 2^20"))
        .set("Caption", V::s(name))
        .set(
            "Description",
            V::s("Settings for Microsoft Virtual Machine Memory."),
        )
        .set("DynamicMemoryEnabled", V::Bool(dynamic))
        .set("ElementName", V::s(name))
        .set("InstanceID", V::s(id))
        .set("Limit", V::UInt(if dynamic { 1_048_576 } else { mb }))
        .set("MaxMemoryBlocksPerNumaNode", V::UInt(262_144))
        .set(
            "Reservation",
            V::UInt(if dynamic { 512.min(mb) } else { mb }),
        )
        .set("ResourceSubType", V::s("Microsoft:Hyper-V:Memory"))
        .set("ResourceType", V::UInt(4))
        .set("TargetMemoryBuffer", V::UInt(20))
        .set("VirtualQuantity", V::UInt(mb))
        .set("Weight", V::UInt(5000))
}

pub fn memory_settings(h: &SimHost) -> Vec<Row> {
    let mut rows: Vec<Row> = definitions(MEMORY_RASD)
        .into_iter()
        .map(|(id, k)| memory_row(id, k, if k == "Maximum" { 12_582_912 } else { 512 }, false))
        .collect();
    for vm in &h.vms {
        let id = format!("Microsoft:{}\\{MEMORY_RASD}", vm.guid);
        rows.push(memory_row(id, "Memory", vm.memory_mb, vm.dynamic_memory));
        for cp in &vm.checkpoints {
            let id = format!("Microsoft:{}\\{MEMORY_RASD}", cp.guid);
            rows.push(memory_row(id, "Memory", cp.memory_mb, vm.dynamic_memory));
        }
    }
    rows
}
