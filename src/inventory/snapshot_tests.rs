//! Pitfall tests for `build_snapshot`, over hand-built instances.

use super::*;
use crate::inventory::classes::testing::inst;
use crate::inventory::instance_id_guid;
use crate::inventory::results::{ClusterResults, HyperVNamespace, HyperVResults};
use crate::wsman::Value;

const VM_A: &str = "9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB";
const VM_B: &str = "0E2D1F04-6BD5-4D5B-A0B6-9D6C2B4C9F10";
const CHECKPOINT_A: &str = "5D6E7F80-1111-2222-3333-444455556666";

fn win32() -> QueryResults {
    QueryResults {
        computer_system: vec![inst(
            "Win32_ComputerSystem",
            &[
                ("Name", Some("HV01")),
                ("DNSHostName", Some("HV01")),
                ("Domain", Some("contoso.com")),
                ("PartOfDomain", Some("true")),
                ("Manufacturer", Some("Dell Inc.")),
                ("Model", Some("PowerEdge R740")),
                ("NumberOfProcessors", Some("2")),
                ("NumberOfLogicalProcessors", Some("80")),
                ("TotalPhysicalMemory", Some("824633720832")),
            ],
        )],
        product: vec![inst(
            "Win32_ComputerSystemProduct",
            &[
                ("UUID", Some("4c4c4544-0042-3510-8058-b4c04f4a4e32")),
                ("IdentifyingNumber", Some("B5XJNJ2")),
            ],
        )],
        bios: vec![inst("Win32_BIOS", &[("SerialNumber", Some("B5XJNJ2"))])],
        processors: ["CPU1", "CPU0"]
            .iter()
            .map(|id| {
                inst(
                    "Win32_Processor",
                    &[
                        ("DeviceID", Some(id)),
                        ("Name", Some("  Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")),
                        ("Manufacturer", Some("GenuineIntel")),
                        ("NumberOfCores", Some("20")),
                        ("NumberOfLogicalProcessors", Some("40")),
                        ("MaxClockSpeed", Some("2494")),
                    ],
                )
            })
            .collect(),
        operating_system: vec![inst(
            "Win32_OperatingSystem",
            &[
                ("Caption", Some("Microsoft Windows Server 2022 Datacenter")),
                ("Version", Some("10.0.20348")),
                ("BuildNumber", Some("20348")),
            ],
        )],
        vmms: Some(vec![inst(
            "Win32_Service",
            &[("Name", Some("vmms")), ("State", Some("Running"))],
        )]),
        hyperv: HyperVResults {
            namespace: HyperVNamespace::V2,
            systems: vec![],
            settings: vec![],
            processor_settings: vec![],
            memory_settings: vec![],
        },
        cluster: ClusterResults::Standalone,
        warnings: vec![],
    }
}

fn system(name: &str, element: &str, caption: &str, description: &str, enabled: &str) -> Instance {
    inst(
        "Msvm_ComputerSystem",
        &[
            ("Name", Some(name)),
            ("ElementName", Some(element)),
            ("Caption", Some(caption)),
            ("Description", Some(description)),
            ("EnabledState", Some(enabled)),
            ("HealthState", Some("5")),
            ("ReplicationMode", Some("0")),
        ],
    )
}

fn realized(vm: &str, sub_type: Option<&str>) -> Instance {
    let id = format!("Microsoft:{vm}");
    let mut props = vec![
        ("InstanceID", Some(id.as_str())),
        ("VirtualSystemIdentifier", Some(vm)),
        (
            "VirtualSystemType",
            Some("Microsoft:Hyper-V:System:Realized"),
        ),
        ("BIOSGUID", Some("{7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0}")),
        ("BIOSSerialNumber", Some("1234-5678-9012")),
        ("Version", Some("10.0")),
    ];
    if let Some(t) = sub_type {
        props.push(("VirtualSystemSubType", Some(t)));
    }
    let owned: Vec<(&str, Option<&str>)> = props;
    inst("Msvm_VirtualSystemSettingData", &owned)
}

fn cpu(config: &str, vcpus: &str, limit: &str) -> Instance {
    let id = format!("Microsoft:{config}\\B637F346-6A0E-4DEC-AF52-BD70CB80A21D\\0");
    inst(
        "Msvm_ProcessorSettingData",
        &[
            ("InstanceID", Some(id.as_str())),
            ("VirtualQuantity", Some(vcpus)),
            ("Reservation", Some("0")),
            ("Limit", Some(limit)),
            ("Weight", Some("100")),
        ],
    )
}

fn mem(config: &str, mb: &str, dynamic: &str) -> Instance {
    let id = format!("Microsoft:{config}\\4764334D-E001-4176-82EE-5594EC9B530E");
    inst(
        "Msvm_MemorySettingData",
        &[
            ("InstanceID", Some(id.as_str())),
            ("VirtualQuantity", Some(mb)),
            ("DynamicMemoryEnabled", Some(dynamic)),
        ],
    )
}

fn two_vms() -> QueryResults {
    let mut r = win32();
    r.hyperv.settings = vec![
        realized(VM_A, Some("Microsoft:Hyper-V:SubType:2")),
        realized(VM_B, Some("Microsoft:Hyper-V:SubType:1")),
    ];
    r.hyperv.processor_settings = vec![cpu(VM_A, "8", "100000"), cpu(VM_B, "2", "50000")];
    r.hyperv.memory_settings = vec![mem(VM_A, "32768", "false"), mem(VM_B, "4096", "true")];
    r
}

#[test]
fn host_facts_come_from_win32_classes() {
    let mut r = two_vms();
    r.hyperv.systems = vec![system("HV01", "HV01", "Hosting Computer System", "", "2")];
    let s = build_snapshot(&r).unwrap();
    assert_eq!(
        s.identity.uuid.as_deref(),
        Some("4C4C4544-0042-3510-8058-B4C04F4A4E32")
    );
    assert_eq!(s.identity.serial.as_deref(), Some("B5XJNJ2"));
    assert_eq!(s.fqdn.as_deref(), Some("hv01.contoso.com"));
    assert_eq!(s.sockets, Some(2));
    assert_eq!(s.cores, Some(40));
    assert_eq!(s.logical_processors, Some(80));
    assert_eq!(s.memory_mb, Some(786_432));
    assert_eq!(s.processors.len(), 2);
    assert_eq!(s.processors[0].socket.as_deref(), Some("CPU0"));
    assert_eq!(
        s.processor_model.as_deref(),
        Some("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")
    );
    assert_eq!(s.processor_vendor.as_deref(), Some("GenuineIntel"));
    assert_eq!(
        s.os.as_deref(),
        Some("Microsoft Windows Server 2022 Datacenter 10.0.20348")
    );
    assert_eq!(
        s.hyperv_namespace.as_deref(),
        Some("root/virtualization/v2")
    );
    assert!(s.vms.is_empty());
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn localized_caption_and_description_do_not_change_vm_detection() {
    for (host_caption, host_desc, vm_caption, vm_desc) in [
        (
            "Système informatique hôte",
            "Système informatique d'hébergement Microsoft",
            "Ordinateur virtuel",
            "Ordinateur virtuel Microsoft",
        ),
        (
            "ホスト コンピューター システム",
            "Microsoft ホスティング コンピューター システム",
            "仮想マシン",
            "Microsoft 仮想マシン",
        ),
        // Even an English description on the wrong row must not matter.
        (
            "Virtual Machine",
            "Microsoft Virtual Machine",
            "Hosting Computer System",
            "Microsoft Hosting Computer System",
        ),
    ] {
        let mut r = two_vms();
        r.hyperv.systems = vec![
            system("HV01", "HV01", host_caption, host_desc, "2"),
            system(
                &VM_A.to_ascii_lowercase(),
                "db2-prod-01",
                vm_caption,
                vm_desc,
                "2",
            ),
            system(VM_B, "web-01", vm_caption, vm_desc, "3"),
        ];
        let s = build_snapshot(&r).unwrap();
        let guids: Vec<&str> = s.vms.iter().map(|v| v.guid.as_str()).collect();
        assert_eq!(guids, vec![VM_B, VM_A], "{host_desc}");
        assert_eq!(s.vms[1].name.as_deref(), Some("db2-prod-01"));
    }
}

#[test]
fn checkpoint_setting_data_never_changes_vcpus_or_memory() {
    let mut r = two_vms();
    r.hyperv.systems = vec![system(VM_A, "db2-prod-01", "", "", "2")];
    // The checkpoint's rows come first, with other figures.
    r.hyperv
        .processor_settings
        .insert(0, cpu(CHECKPOINT_A, "16", "100000"));
    r.hyperv
        .memory_settings
        .insert(0, mem(CHECKPOINT_A, "65536", "false"));
    let s = build_snapshot(&r).unwrap();
    assert_eq!(s.vms.len(), 1);
    assert_eq!(s.vms[0].vcpus, Some(8));
    assert_eq!(s.vms[0].memory_mb, Some(32768));
}

#[test]
fn non_realized_setting_data_is_ignored_even_if_the_host_sends_it() {
    let mut r = two_vms();
    r.hyperv.systems = vec![system(VM_A, "db2-prod-01", "", "", "2")];
    let snap = inst(
        "Msvm_VirtualSystemSettingData",
        &[
            (
                "InstanceID",
                Some("Microsoft:5D6E7F80-1111-2222-3333-444455556666"),
            ),
            ("VirtualSystemIdentifier", Some(VM_A)),
            (
                "VirtualSystemType",
                Some("Microsoft:Hyper-V:System:Snapshot:Recovery"),
            ),
            ("BIOSGUID", Some("00000000-0000-0000-0000-000000000001")),
        ],
    );
    r.hyperv.settings.insert(0, snap);
    r.hyperv
        .processor_settings
        .insert(0, cpu(CHECKPOINT_A, "16", "100000"));
    let s = build_snapshot(&r).unwrap();
    assert_eq!(s.vms[0].vcpus, Some(8));
    assert_eq!(
        s.vms[0].bios_guid.as_deref(),
        Some("7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0")
    );
}

#[test]
fn vm_fields_are_mapped_from_their_classes() {
    let mut r = two_vms();
    let mut a = system(VM_A, "db2-prod-01", "", "", "32769");
    a.props.retain(|(n, _)| n != "ReplicationMode");
    a.props
        .push(("ReplicationMode".into(), Value::Text("2".into())));
    r.hyperv.systems = vec![a, system(VM_B, "web-01", "", "", "32768")];
    let s = build_snapshot(&r).unwrap();
    let a = s.vms.iter().find(|v| v.guid == VM_A).unwrap();
    assert_eq!(a.state, VmState::Saved);
    assert_eq!(a.enabled_state, Some(32769));
    assert_eq!(a.replication, Replication::Replica);
    assert_eq!(a.replication_mode, Some(2));
    assert_eq!(a.generation, Some(2));
    assert_eq!(a.cpu_limit_pct, Some(100.0));
    assert_eq!(a.cpu_reservation_pct, Some(0.0));
    assert_eq!(a.cpu_weight, Some(100));
    assert_eq!(a.dynamic_memory, Some(false));
    assert_eq!(
        a.bios_guid.as_deref(),
        Some("7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0")
    );
    assert_eq!(a.bios_serial.as_deref(), Some("1234-5678-9012"));
    assert_eq!(a.version.as_deref(), Some("10.0"));
    assert!(!a.clustered);
    let b = s.vms.iter().find(|v| v.guid == VM_B).unwrap();
    assert_eq!(b.state, VmState::Paused);
    assert_eq!(b.generation, Some(1));
    assert_eq!(b.cpu_limit_pct, Some(50.0));
    assert_eq!(b.dynamic_memory, Some(true));
    assert_eq!(b.replication, Replication::None);
}

#[test]
fn missing_newer_properties_are_tolerated() {
    let mut r = win32();
    // A 2012-era VM: no VirtualSystemSubType, no ReplicationMode, no HealthState.
    r.hyperv.systems = vec![inst(
        "Msvm_ComputerSystem",
        &[
            ("Name", Some(VM_A)),
            ("ElementName", Some("old")),
            ("EnabledState", Some("3")),
        ],
    )];
    r.hyperv.settings = vec![realized(VM_A, None)];
    let s = build_snapshot(&r).unwrap();
    let vm = &s.vms[0];
    assert_eq!(vm.generation, Some(1));
    assert_eq!(vm.replication, Replication::None);
    assert_eq!(vm.replication_mode, None);
    assert_eq!(vm.health_state, None);
    assert_eq!(vm.vcpus, None);
    assert_eq!(vm.state, VmState::Off);
}

#[test]
fn v1_namespace_uses_system_name_and_setting_type() {
    let mut r = win32();
    r.hyperv.namespace = HyperVNamespace::V1;
    r.hyperv.systems = vec![
        system("HV01", "HV01", "", "", "2"),
        system(VM_A, "legacy-01", "", "", "2"),
    ];
    let current = inst(
        "Msvm_VirtualSystemSettingData",
        &[
            (
                "InstanceID",
                Some("Microsoft:9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB"),
            ),
            ("SystemName", Some(VM_A)),
            ("SettingType", Some("3")),
            ("BIOSGUID", Some("{7B1C2D3E-4F50-6172-8394-A5B6C7D8E9F0}")),
        ],
    );
    let snapshot = inst(
        "Msvm_VirtualSystemSettingData",
        &[
            (
                "InstanceID",
                Some("Microsoft:5D6E7F80-1111-2222-3333-444455556666"),
            ),
            ("SystemName", Some(VM_A)),
            ("SettingType", Some("5")),
        ],
    );
    r.hyperv.settings = vec![snapshot, current];
    r.hyperv.processor_settings = vec![cpu(CHECKPOINT_A, "4", "100000"), cpu(VM_A, "2", "100000")];
    r.hyperv.memory_settings = vec![mem(VM_A, "2048", "false")];
    let s = build_snapshot(&r).unwrap();
    assert_eq!(s.hyperv_namespace.as_deref(), Some("root/virtualization"));
    assert_eq!(s.vms.len(), 1);
    assert_eq!(s.vms[0].vcpus, Some(2));
    assert_eq!(s.vms[0].memory_mb, Some(2048));
    assert_eq!(s.vms[0].generation, Some(1));
}

#[test]
fn cluster_private_properties_vm_id_links_resource_to_vm() {
    let mut r = two_vms();
    r.hyperv.systems = vec![
        system(VM_A, "db2-prod-01", "", "", "2"),
        system(VM_B, "web-01", "", "", "2"),
    ];
    let mut res = inst(
        "MSCluster_Resource",
        &[
            ("Name", Some("Virtual Machine db2-prod-01")),
            ("OwnerNode", Some("HV01")),
            ("State", Some("2")),
        ],
    );
    res.props.push((
        "PrivateProperties".into(),
        Value::Embedded(Box::new(inst(
            "MSCluster_Property",
            &[("VmID", Some("{9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab}"))],
        ))),
    ));
    r.cluster = ClusterResults::Present {
        cluster: vec![inst(
            "MSCluster_Cluster",
            &[("Name", Some("clu01")), ("Fqdn", Some("CLU01.contoso.com"))],
        )],
        nodes: vec![
            inst(
                "MSCluster_Node",
                &[("Name", Some("HV02")), ("State", Some("1"))],
            ),
            inst(
                "MSCluster_Node",
                &[("Name", Some("HV01")), ("State", Some("0"))],
            ),
        ],
        vm_resources: vec![res],
    };
    let s = build_snapshot(&r).unwrap();
    let c = s.cluster.as_ref().unwrap();
    assert_eq!(c.name, "CLU01");
    assert_eq!(c.fqdn.as_deref(), Some("clu01.contoso.com"));
    assert_eq!(
        c.nodes,
        vec![
            ClusterNode {
                name: "HV01".into(),
                state: "up".into()
            },
            ClusterNode {
                name: "HV02".into(),
                state: "down".into()
            }
        ]
    );
    assert_eq!(c.vm_owners[0].vm_guid.as_deref(), Some(VM_A));
    assert_eq!(c.vm_owners[0].owner_node.as_deref(), Some("HV01"));
    assert!(s.vms.iter().find(|v| v.guid == VM_A).unwrap().clustered);
    assert!(!s.vms.iter().find(|v| v.guid == VM_B).unwrap().clustered);
}

/// No `PrivateProperties` on the wire: the resource group (named after the
/// VM) links the resource to this host's VM, with a warning saying so; a
/// group naming no VM here stays unlinked.
#[test]
fn cluster_resource_without_vm_id_is_matched_by_resource_group_with_a_warning() {
    let mut r = two_vms();
    r.hyperv.systems = vec![
        system(VM_A, "db2-prod-01", "", "", "2"),
        system(VM_B, "web-01", "", "", "2"),
    ];
    let res = |name: &str, group: &str, node: &str| {
        inst(
            "MSCluster_Resource",
            &[
                ("Name", Some(name)),
                ("OwnerGroup", Some(group)),
                ("OwnerNode", Some(node)),
                ("State", Some("2")),
            ],
        )
    };
    r.cluster = ClusterResults::Present {
        cluster: vec![inst("MSCluster_Cluster", &[("Name", Some("CLU01"))])],
        nodes: vec![inst(
            "MSCluster_Node",
            &[("Name", Some("HV01")), ("State", Some("0"))],
        )],
        vm_resources: vec![
            res("Virtual Machine DB2-PROD-01", "DB2-PROD-01", "HV01"),
            res("Virtual Machine elsewhere", "elsewhere", "HV02"),
        ],
    };
    let s = build_snapshot(&r).unwrap();
    let c = s.cluster.as_ref().unwrap();
    let linked = c
        .vm_owners
        .iter()
        .find(|o| o.resource.as_deref() == Some("Virtual Machine DB2-PROD-01"))
        .unwrap();
    assert_eq!(linked.vm_guid.as_deref(), Some(VM_A));
    let other = c
        .vm_owners
        .iter()
        .find(|o| o.resource.as_deref() == Some("Virtual Machine elsewhere"))
        .unwrap();
    assert_eq!(other.vm_guid, None);
    assert!(s.vms.iter().find(|v| v.guid == VM_A).unwrap().clustered);
    assert!(!s.vms.iter().find(|v| v.guid == VM_B).unwrap().clustered);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("resource group"), "{:?}", s.warnings);
}

#[test]
fn placeholder_uuid_falls_back_to_serial_with_a_warning() {
    let mut r = win32();
    r.product = vec![inst(
        "Win32_ComputerSystemProduct",
        &[
            ("UUID", Some("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")),
            ("IdentifyingNumber", Some("SN-42")),
        ],
    )];
    r.bios = vec![inst(
        "Win32_BIOS",
        &[("SerialNumber", Some("To Be Filled By O.E.M."))],
    )];
    let s = build_snapshot(&r).unwrap();
    assert_eq!(s.identity.uuid, None);
    assert_eq!(s.identity.serial.as_deref(), Some("SN-42"));
    assert_eq!(s.identity.key(None).as_deref(), Some("serial:SN-42"));
    assert_eq!(s.warnings.len(), 1);
}

#[test]
fn vmms_not_running_is_a_warning_not_a_failure() {
    let mut r = win32();
    r.vmms = Some(vec![inst(
        "Win32_Service",
        &[("Name", Some("vmms")), ("State", Some("Stopped"))],
    )]);
    let s = build_snapshot(&r).unwrap();
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("vmms") && w.contains("Stopped")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn workgroup_host_fqdn_is_its_dns_name() {
    let mut r = win32();
    r.computer_system[0]
        .props
        .retain(|(n, _)| n != "Domain" && n != "PartOfDomain");
    r.computer_system[0]
        .props
        .push(("Domain".into(), Value::Text("WORKGROUP".into())));
    r.computer_system[0]
        .props
        .push(("PartOfDomain".into(), Value::Text("false".into())));
    assert_eq!(build_snapshot(&r).unwrap().fqdn.as_deref(), Some("hv01"));
}

#[test]
fn no_computer_system_is_a_protocol_failure() {
    use crate::error::{ErrorKind, HasKind};
    let mut r = win32();
    r.computer_system.clear();
    assert_eq!(build_snapshot(&r).unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn instance_id_guid_accepts_both_forms() {
    assert_eq!(
        instance_id_guid(&format!("Microsoft:{VM_A}")).as_deref(),
        Some(VM_A)
    );
    assert_eq!(
        instance_id_guid(&format!("Microsoft:{}\\abc\\0", VM_A.to_ascii_lowercase())).as_deref(),
        Some(VM_A)
    );
    assert_eq!(instance_id_guid("Other:x"), None);
}
