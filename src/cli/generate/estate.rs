//! The generated estate: hosts in clusters, VMs that migrate, change state
//! and vCPUs, hosts that fail; and the snapshot each host would return.

use crate::inventory::{
    ClusterNode, ClusterSnapshot, HostIdentity, HostSnapshot, Processor, Replication, VmOwner,
    VmSnapshot, VmState,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How much changes per run, as probabilities.
#[derive(Debug, Clone, Copy)]
pub struct Churn {
    /// Per VM: live-migrates to another node of its cluster.
    pub migrate: f64,
    /// Per VM: switches between running and off.
    pub state: f64,
    /// Per VM: gets another vCPU count.
    pub vcpus: f64,
    /// Per host: the host times out in this run.
    pub fail: f64,
}

/// What one run changed.
pub struct Change {
    /// Per host: times out in this run.
    pub failing: Vec<bool>,
    /// Per host: one of its VMs came, went or changed.
    pub touched: Vec<bool>,
    /// Per cluster: one of its nodes was touched.
    pub cluster_touched: Vec<bool>,
}

struct Vm {
    guid: String,
    name: String,
    host: usize,
    running: bool,
    vcpus: u32,
}

pub struct Estate {
    hosts: usize,
    cluster_size: usize,
    vms: Vec<Vm>,
    rng: StdRng,
}

impl Estate {
    /// `cluster_size` hosts per cluster (hosts `k*size ..`); 0 or 1: standalone.
    pub fn new(hosts: usize, vms_per_host: usize, cluster_size: usize, seed: u64) -> Estate {
        let mut rng = StdRng::seed_from_u64(seed);
        let vms = (0..hosts * vms_per_host)
            .map(|i| Vm {
                guid: format!("{:08X}-0000-4000-8000-{:012X}", i / vms_per_host.max(1), i),
                name: format!("vm-{i:06}"),
                host: i / vms_per_host.max(1),
                running: rng.random_bool(0.9),
                vcpus: [2, 4, 8][rng.random_range(0..3)],
            })
            .collect();
        Estate {
            hosts,
            cluster_size,
            vms,
            rng,
        }
    }

    pub fn hosts(&self) -> usize {
        self.hosts
    }

    fn cluster_of(&self, host: usize) -> Option<usize> {
        (self.cluster_size > 1).then(|| host / self.cluster_size)
    }

    fn cluster_hosts(&self, cluster: usize) -> std::ops::Range<usize> {
        let lo = cluster * self.cluster_size;
        lo..(lo + self.cluster_size).min(self.hosts)
    }

    /// Applies one run's worth of change; returns, per host, whether it
    /// fails in this run and whether its answer may differ from the last.
    pub fn advance(&mut self, churn: &Churn) -> Change {
        let mut touched = vec![false; self.hosts];
        for i in 0..self.vms.len() {
            if self.rng.random_bool(churn.migrate) {
                let from = self.vms[i].host;
                touched[from] = true;
                let range = match self.cluster_of(from) {
                    Some(c) => self.cluster_hosts(c),
                    None => 0..self.hosts,
                };
                if range.len() > 1 {
                    let to = self.rng.random_range(range.start..range.end - 1);
                    self.vms[i].host = if to >= from { to + 1 } else { to };
                    touched[self.vms[i].host] = true;
                }
            }
            if self.rng.random_bool(churn.state) {
                self.vms[i].running = !self.vms[i].running;
                touched[self.vms[i].host] = true;
            }
            if self.rng.random_bool(churn.vcpus) {
                self.vms[i].vcpus = [2, 4, 8, 16][self.rng.random_range(0..4)];
                touched[self.vms[i].host] = true;
            }
        }
        let failing = (0..self.hosts)
            .map(|_| self.rng.random_bool(churn.fail))
            .collect();
        // A cluster's answer (nodes' VM owners) changes with its nodes' VMs.
        let mut cluster_touched = vec![false; self.clusters_count()];
        for h in (0..self.hosts).filter(|&h| touched[h]) {
            if let Some(c) = self.cluster_of(h) {
                cluster_touched[c] = true;
            }
        }
        Change {
            failing,
            touched,
            cluster_touched,
        }
    }

    fn clusters_count(&self) -> usize {
        if self.cluster_size > 1 {
            self.hosts.div_ceil(self.cluster_size)
        } else {
            0
        }
    }

    /// The cluster `host` belongs to, if any.
    pub fn cluster_index(&self, host: usize) -> Option<usize> {
        self.cluster_of(host)
    }

    /// Each host's VMs (indexes into the VM list), in VM order.
    pub fn placement(&self) -> Vec<Vec<usize>> {
        let mut by_host = vec![Vec::new(); self.hosts];
        for (i, vm) in self.vms.iter().enumerate() {
            by_host[vm.host].push(i);
        }
        by_host
    }

    pub fn address(host: usize) -> String {
        format!("hv{host:05}.example.test")
    }

    /// What `host` returns: its hardware, its VMs, its cluster (as
    /// `cluster` renders it).
    pub fn snapshot(
        &self,
        host: usize,
        vms: &[usize],
        cluster: Option<ClusterSnapshot>,
    ) -> HostSnapshot {
        let (sockets, cores_per) = if host.is_multiple_of(3) {
            (4, 16)
        } else {
            (2, 20)
        };
        HostSnapshot {
            identity: HostIdentity {
                uuid: Some(format!("4C4C4544-0000-4000-8000-{host:012X}")),
                serial: Some(format!("SN{host:06}")),
            },
            name: Some(format!("HV{host:05}")),
            fqdn: Some(Self::address(host)),
            manufacturer: Some("Dell Inc.".into()),
            model: Some("PowerEdge R740".into()),
            serial: Some(format!("SN{host:06}")),
            os: Some("Microsoft Windows Server 2022 Datacenter 10.0.20348".into()),
            os_build: Some("20348".into()),
            sockets: Some(sockets),
            cores: Some(sockets * cores_per),
            logical_processors: Some(sockets * cores_per * 2),
            memory_mb: Some(786_432),
            processors: (0..sockets).map(|s| processor(s, cores_per)).collect(),
            processor_vendor: Some("GenuineIntel".into()),
            processor_model: Some(XEON.into()),
            hyperv_namespace: Some("root/virtualization/v2".into()),
            vms: vms.iter().map(|&i| self.vm(i)).collect(),
            cluster,
            warnings: vec![],
            region: None,
        }
    }

    fn vm(&self, i: usize) -> VmSnapshot {
        let v = &self.vms[i];
        VmSnapshot {
            guid: v.guid.as_str().into(),
            name: Some(v.name.clone()),
            bios_guid: None,
            bios_serial: Some(format!("VMSN-{i:06}")),
            state: if v.running {
                VmState::Running
            } else {
                VmState::Off
            },
            enabled_state: Some(if v.running { 2 } else { 3 }),
            health_state: Some(5),
            vcpus: Some(v.vcpus),
            cpu_limit_pct: Some(100.0),
            cpu_reservation_pct: Some(0.0),
            cpu_weight: Some(100),
            memory_mb: Some(8192),
            dynamic_memory: Some(false),
            replication: Replication::None,
            replication_mode: Some(0),
            generation: Some(2),
            version: Some("10.0".into()),
            clustered: self.cluster_size > 1,
        }
    }

    /// Cluster `c` as its nodes report it, given the placement.
    pub fn cluster(&self, c: usize, by_host: &[Vec<usize>]) -> ClusterSnapshot {
        let hosts = self.cluster_hosts(c);
        let mut vm_owners: Vec<VmOwner> = hosts
            .clone()
            .flat_map(|h| by_host[h].iter().map(move |&i| (h, i)))
            .map(|(h, i)| VmOwner {
                vm_guid: Some(self.vms[i].guid.as_str().into()),
                resource: Some(format!("Virtual Machine {}", self.vms[i].name)),
                owner_node: Some(format!("HV{h:05}")),
                state: if self.vms[i].running {
                    "online"
                } else {
                    "offline"
                }
                .into(),
            })
            .collect();
        vm_owners.sort_by(|a, b| a.vm_guid.cmp(&b.vm_guid));
        ClusterSnapshot {
            name: format!("CL{c:04}"),
            fqdn: Some(format!("cl{c:04}.example.test")),
            nodes: hosts
                .map(|h| ClusterNode {
                    name: format!("HV{h:05}"),
                    state: "up".into(),
                })
                .collect(),
            vm_owners,
        }
    }
}

const XEON: &str = "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz";

fn processor(socket: u32, cores: u32) -> Processor {
    Processor {
        socket: Some(format!("CPU{socket}")),
        name: Some(XEON.into()),
        manufacturer: Some("GenuineIntel".into()),
        cores: Some(cores),
        logical: Some(cores * 2),
        max_clock_mhz: Some(2494),
    }
}
