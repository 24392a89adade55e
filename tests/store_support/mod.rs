//! Synthetic snapshots and a temp-file database for the store tests.
#![allow(dead_code)]

use hvinv::inventory::*;
use hvinv::store::{OpenMode, Store};

pub async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hvinv.db");
    let store = Store::open(path.to_str().unwrap(), OpenMode::ReadWrite)
        .await
        .unwrap();
    (dir, store)
}

/// A GUID unique to (host, vm).
pub fn vm_guid(host: u32, vm: u32) -> String {
    format!("{host:08X}-0000-4000-8000-{vm:012X}")
}

pub fn vm(host: u32, n: u32) -> VmSnapshot {
    VmSnapshot {
        guid: vm_guid(host, n).into(),
        name: Some(format!("vm-{host}-{n}")),
        bios_guid: Some(format!("{n:08X}-1111-4000-8000-{host:012X}").into()),
        bios_serial: Some(format!("{host:04}-{n:04}")),
        state: VmState::Running,
        enabled_state: Some(2),
        health_state: Some(5),
        vcpus: Some(4),
        cpu_limit_pct: Some(100.0),
        cpu_reservation_pct: Some(0.0),
        cpu_weight: Some(100),
        memory_mb: Some(8192),
        dynamic_memory: Some(false),
        replication: Replication::None,
        replication_mode: Some(0),
        generation: Some(2),
        version: Some("10.0".into()),
        clustered: false,
    }
}

pub fn host(n: u32, vms: u32) -> HostSnapshot {
    HostSnapshot {
        identity: HostIdentity {
            uuid: Some(format!("4C4C4544-0000-4000-8000-{n:012X}")),
            serial: Some(format!("SN{n:06}")),
        },
        name: Some(format!("HV{n:04}")),
        fqdn: Some(format!("hv{n:04}.contoso.com")),
        manufacturer: Some("Dell Inc.".into()),
        model: Some("PowerEdge R740".into()),
        serial: Some(format!("SN{n:06}")),
        os: Some("Microsoft Windows Server 2022 Datacenter 10.0.20348".into()),
        os_build: Some("20348".into()),
        sockets: Some(2),
        cores: Some(40),
        logical_processors: Some(80),
        memory_mb: Some(786_432),
        processors: (0..2)
            .map(|s| Processor {
                socket: Some(format!("CPU{s}")),
                name: Some("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz".into()),
                manufacturer: Some("GenuineIntel".into()),
                cores: Some(20),
                logical: Some(40),
                max_clock_mhz: Some(2494),
            })
            .collect(),
        processor_vendor: Some("GenuineIntel".into()),
        processor_model: Some("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz".into()),
        hyperv_namespace: Some("root/virtualization/v2".into()),
        vms: (0..vms).map(|v| vm(n, v)).collect(),
        cluster: None,
        warnings: vec![],
        region: None,
    }
}

pub async fn count(store: &Store, table: &str) -> i64 {
    let sql = match table {
        "host_facts" => "SELECT count(*) FROM host_facts",
        "vm_facts" => "SELECT count(*) FROM vm_facts",
        "cluster_facts" => "SELECT count(*) FROM cluster_facts",
        "cluster_vm_facts" => "SELECT count(*) FROM cluster_vm_facts",
        "host_outcomes" => "SELECT count(*) FROM host_outcomes",
        "outcome_spans" => "SELECT count(*) FROM outcome_spans",
        "hosts" => "SELECT count(*) FROM hosts",
        "vms" => "SELECT count(*) FROM vms",
        "runs" => "SELECT count(*) FROM runs",
        other => panic!("unknown table {other}"),
    };
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}
