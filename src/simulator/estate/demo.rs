//! `Estate::demo`: a dozen hosts covering the cases a collector must get
//! right (clusters, mixed vendors, locales, 2008 R2, empty host, big host,
//! awkward VM names, replicas, checkpoints, planned VMs).

use super::{
    Estate, HostFaults, HyperVNamespace, Locale, SimCheckpoint, SimCluster, SimCpu, SimHost, SimVm,
    SplitMix64, VmState, WindowsRelease, new_vm,
};

pub(crate) struct CpuModel {
    pub name: &'static str,
    pub manufacturer: &'static str,
    pub cores: u32,
    pub threads_per_core: u32,
    pub mhz: u32,
}

pub(crate) const XEON_GOLD_6248R: CpuModel = CpuModel {
    name: "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
    manufacturer: "GenuineIntel",
    cores: 24,
    threads_per_core: 2,
    mhz: 2993,
};
pub(crate) const XEON_SILVER_4214: CpuModel = CpuModel {
    name: "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
    manufacturer: "GenuineIntel",
    cores: 12,
    threads_per_core: 2,
    mhz: 2195,
};
pub(crate) const XEON_E5_2680V2: CpuModel = CpuModel {
    name: "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz",
    manufacturer: "GenuineIntel",
    cores: 10,
    threads_per_core: 2,
    mhz: 2800,
};
pub(crate) const XEON_E5620: CpuModel = CpuModel {
    name: "Intel(R) Xeon(R) CPU           E5620  @ 2.40GHz",
    manufacturer: "GenuineIntel",
    cores: 4,
    threads_per_core: 2,
    mhz: 2400,
};
pub(crate) const XEON_E2136: CpuModel = CpuModel {
    name: "Intel(R) Xeon(R) E-2136 CPU @ 3.30GHz",
    manufacturer: "GenuineIntel",
    cores: 6,
    threads_per_core: 1,
    mhz: 3312,
};
pub(crate) const EPYC_7543: CpuModel = CpuModel {
    name: "AMD EPYC 7543 32-Core Processor",
    manufacturer: "AuthenticAMD",
    cores: 32,
    threads_per_core: 2,
    mhz: 2800,
};

pub(crate) struct HostSpec {
    pub name: &'static str,
    pub release: WindowsRelease,
    pub cpu: &'static CpuModel,
    pub sockets: u32,
    pub memory_gib: u64,
    pub locale: Locale,
    pub cluster: Option<&'static str>,
    pub vendor: (&'static str, &'static str),
}

pub(crate) fn make_host(rng: &mut SplitMix64, spec: &HostSpec, domain: &str) -> SimHost {
    let cpus = (0..spec.sockets)
        .map(|s| SimCpu {
            name: spec.cpu.name.to_string(),
            manufacturer: spec.cpu.manufacturer.to_string(),
            cores: spec.cpu.cores,
            logical: spec.cpu.cores * spec.cpu.threads_per_core,
            max_clock_mhz: spec.cpu.mhz,
            socket: format!("CPU{}", s + 1),
        })
        .collect();
    let namespace = if spec.release == WindowsRelease::W2008R2 {
        HyperVNamespace::V1
    } else {
        HyperVNamespace::V2
    };
    SimHost {
        name: spec.name.to_string(),
        domain: domain.to_string(),
        uuid: rng.guid(),
        serial: format!(
            "{}{:07}",
            spec.vendor.0.chars().next().unwrap_or('X'),
            rng.below(10_000_000)
        ),
        manufacturer: spec.vendor.0.to_string(),
        model: spec.vendor.1.to_string(),
        release: spec.release,
        os_caption: spec.release.os_caption().to_string(),
        os_version: spec.release.os_version().to_string(),
        os_build: spec.release.os_build().to_string(),
        cpus,
        memory_bytes: spec.memory_gib * 1024 * 1024 * 1024,
        namespace,
        vmms_running: true,
        locale: spec.locale,
        cluster: spec.cluster.map(str::to_string),
        vms: Vec::new(),
        faults: HostFaults::default(),
    }
}

const DELL: (&str, &str) = ("Dell Inc.", "PowerEdge R740");
const HPE: (&str, &str) = ("HPE", "ProLiant DL380 Gen10");
const LENOVO: (&str, &str) = ("Lenovo", "ThinkSystem SR665");
const OLD_HP: (&str, &str) = ("HP", "ProLiant DL380 G7");

fn specs() -> Vec<HostSpec> {
    let h = |name, release, cpu, sockets, memory_gib, locale, cluster, vendor| HostSpec {
        name,
        release,
        cpu,
        sockets,
        memory_gib,
        locale,
        cluster,
        vendor,
    };
    use Locale::*;
    use WindowsRelease::*;
    vec![
        h(
            "HVA-N1",
            W2019,
            &XEON_GOLD_6248R,
            2,
            768,
            En,
            Some("CLU-A"),
            DELL,
        ),
        h(
            "HVA-N2",
            W2022,
            &XEON_GOLD_6248R,
            2,
            768,
            En,
            Some("CLU-A"),
            DELL,
        ),
        h(
            "HVA-N3",
            W2016,
            &XEON_GOLD_6248R,
            2,
            512,
            En,
            Some("CLU-A"),
            DELL,
        ),
        h(
            "HVB-N1",
            W2022,
            &XEON_SILVER_4214,
            2,
            384,
            En,
            Some("CLU-B"),
            HPE,
        ),
        h(
            "HVB-N2",
            W2022,
            &EPYC_7543,
            1,
            512,
            En,
            Some("CLU-B"),
            LENOVO,
        ),
        h("HV-PARIS", W2019, &XEON_SILVER_4214, 2, 256, Fr, None, HPE),
        h("HV-TOKYO", W2022, &XEON_SILVER_4214, 1, 256, Ja, None, HPE),
        h("HV-EDGE01", W2012R2, &XEON_E2136, 1, 64, En, None, DELL),
        h(
            "HV-OLD2012",
            W2012,
            &XEON_E5_2680V2,
            2,
            192,
            En,
            None,
            OLD_HP,
        ),
        h("HV-LEGACY", W2008R2, &XEON_E5620, 2, 96, En, None, OLD_HP),
        h("HV-SPARE", W2016, &XEON_SILVER_4214, 2, 256, En, None, DELL),
        h("HV-BIG", W2022, &EPYC_7543, 2, 2048, En, None, LENOVO),
    ]
}

/// Names that break naive XML writers and parsers.
const AWKWARD_NAMES: [&str; 4] = [
    "web <prod> & \"edge\"",
    "O'Brien's test VM",
    "cdata ]]> end",
    "データベース-01",
];

pub(crate) fn build(seed: u64) -> Estate {
    let root = SplitMix64::new(seed);
    let mut hosts: Vec<SimHost> = Vec::new();
    for (i, spec) in specs().iter().enumerate() {
        let mut rng = root.fork(i as u64 + 1);
        let mut host = make_host(&mut rng, spec, "contoso.com");
        let count = match spec.name {
            "HV-SPARE" => 0,
            "HV-BIG" => 300,
            "HV-LEGACY" => 3,
            _ => 4 + rng.below(4) as usize,
        };
        for n in 0..count {
            let name = format!(
                "{}-VM{:03}",
                spec.name.trim_start_matches("HV-").trim_start_matches("HV"),
                n + 1
            );
            let mut vm = new_vm(&mut rng, name, spec.release);
            vm.clustered = spec.cluster.is_some();
            host.vms.push(vm);
        }
        hosts.push(host);
    }
    let mut rng = root.fork(1000);
    decorate(&mut hosts, &mut rng);
    let clusters = vec![
        SimCluster {
            name: "CLU-A".to_string(),
            fqdn: "clu-a.contoso.com".to_string(),
            nodes: vec!["HVA-N1".into(), "HVA-N2".into(), "HVA-N3".into()],
        },
        SimCluster {
            name: "CLU-B".to_string(),
            fqdn: "clu-b.contoso.com".to_string(),
            nodes: vec!["HVB-N1".into(), "HVB-N2".into()],
        },
    ];
    Estate {
        hosts,
        clusters,
        generation: 1,
        seed,
    }
}

fn host_mut<'a>(hosts: &'a mut [SimHost], name: &str) -> Option<&'a mut SimHost> {
    hosts.iter_mut().find(|h| h.name == name)
}

/// The special cases, placed on fixed hosts so tests can name them.
fn decorate(hosts: &mut [SimHost], rng: &mut SplitMix64) {
    if let Some(h) = host_mut(hosts, "HV-TOKYO") {
        if let Some(vm) = h.vms.get_mut(0) {
            vm.name = AWKWARD_NAMES[3].to_string();
        }
        if let Some(vm) = h.vms.get_mut(1) {
            vm.name = "ウェブサーバー".to_string();
            vm.state = VmState::Paused;
        }
    }
    if let Some(h) = host_mut(hosts, "HV-PARIS") {
        for (vm, name) in h.vms.iter_mut().zip(AWKWARD_NAMES.iter().take(3)) {
            vm.name = name.to_string();
        }
        if let Some(vm) = h.vms.get_mut(3) {
            vm.replication_mode = 2; // replica of a VM on HV-EDGE01
            vm.state = VmState::Off;
        }
    }
    if let Some(h) = host_mut(hosts, "HV-EDGE01") {
        if let Some(vm) = h.vms.get_mut(0) {
            vm.replication_mode = 1;
            // More vCPUs than the host (6 cores) has.
            vm.vcpus = 8;
            vm.state = VmState::Running;
        }
        if let Some(vm) = h.vms.get_mut(1) {
            vm.state = VmState::Saved;
        }
    }
    if let Some(h) = host_mut(hosts, "HVA-N1") {
        if let Some(vm) = h.vms.get_mut(0) {
            vm.vcpus = 4;
            vm.memory_mb = 8192;
            vm.dynamic_memory = false;
            vm.state = VmState::Running;
            vm.checkpoints.push(SimCheckpoint {
                guid: rng.guid(),
                name: format!("{} - (before patch)", vm.name),
                vcpus: 2,
                memory_mb: 4096,
            });
            vm.checkpoints.push(SimCheckpoint {
                guid: rng.guid(),
                name: format!("{} - (baseline)", vm.name),
                vcpus: 16,
                memory_mb: 32768,
            });
        }
        if let Some(vm) = h.vms.get_mut(1) {
            vm.state = VmState::Off;
            vm.generation = 1;
        }
        // A standalone (not clustered) VM on a cluster node.
        if let Some(vm) = h.vms.get_mut(2) {
            vm.clustered = false;
        }
    }
    if let Some(h) = host_mut(hosts, "HVA-N2") {
        if let Some(vm) = h.vms.get_mut(0) {
            vm.generation = 2;
            vm.dynamic_memory = true;
            vm.checkpoints.push(SimCheckpoint {
                guid: rng.guid(),
                name: format!("{} - (pre-upgrade)", vm.name),
                vcpus: 1,
                memory_mb: 2048,
            });
        }
        if let Some(vm) = h.vms.get_mut(1) {
            vm.state = VmState::Starting;
        }
    }
    if let Some(h) = host_mut(hosts, "HVB-N2") {
        // A planned VM: setting data only, not a VM yet.
        let mut planned: SimVm = new_vm(rng, "B-INCOMING".to_string(), WindowsRelease::W2022);
        planned.planned = true;
        planned.state = VmState::Off;
        planned.uptime_ms = 0;
        h.vms.push(planned);
        if let Some(vm) = h.vms.get_mut(0) {
            vm.replication_mode = 4;
        }
    }
    if let Some(h) = host_mut(hosts, "HV-OLD2012") {
        if let Some(vm) = h.vms.get_mut(0) {
            vm.replication_mode = 3;
            vm.state = VmState::Off;
        }
        if let Some(vm) = h.vms.get_mut(1) {
            vm.state = VmState::Stopping;
            vm.health_state = 20;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_has_the_documented_shape() {
        let e = build(1);
        assert_eq!(e.hosts.len(), 12);
        assert_eq!(e.clusters.len(), 2);
        let empty = e.host("HV-SPARE").unwrap();
        assert!(empty.vms.is_empty());
        assert_eq!(e.host("HV-BIG").unwrap().vms.len(), 300);
        assert_eq!(e.host("HV-LEGACY").unwrap().namespace, HyperVNamespace::V1);
        let b_vendors: Vec<_> = ["HVB-N1", "HVB-N2"]
            .iter()
            .map(|n| e.host(n).unwrap().cpus[0].manufacturer.clone())
            .collect();
        assert_eq!(b_vendors, ["GenuineIntel", "AuthenticAMD"]);
        assert!(e.all_vms().any(|(_, v)| v.name == "データベース-01"));
        assert!(
            e.all_vms()
                .any(|(_, v)| v.name.contains('<') && v.name.contains('&'))
        );
        assert!(e.all_vms().any(|(_, v)| v.name.contains("]]>")));
        assert!(e.all_vms().any(|(h, v)| v.vcpus > h.total_cores()));
        assert!(
            e.all_vms()
                .any(|(_, v)| v.checkpoints.iter().any(|c| c.vcpus != v.vcpus))
        );
        for s in [
            VmState::Running,
            VmState::Off,
            VmState::Saved,
            VmState::Paused,
        ] {
            assert!(e.all_vms().any(|(_, v)| v.state == s), "{s:?}");
        }
        assert!(e.all_vms().any(|(_, v)| v.replication_mode == 2));
        assert!(e.all_vms().any(|(_, v)| v.generation == 1));
        assert!(e.all_vms().any(|(_, v)| v.generation == 2));
        assert!(e.all_vms().any(|(_, v)| v.dynamic_memory));
    }

    #[test]
    fn guids_are_unique_across_the_demo() {
        let e = build(5);
        let mut all: Vec<String> = e.hosts.iter().map(|h| h.uuid.clone()).collect();
        for (_, v) in e.all_vms() {
            all.push(v.guid.clone());
            all.push(v.bios_guid.clone());
            all.extend(v.checkpoints.iter().map(|c| c.guid.clone()));
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
