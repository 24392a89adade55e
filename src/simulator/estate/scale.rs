//! `Estate::scale`: many uniform hosts for benchmarks; cheap to build.

use super::demo::{EPYC_7543, HostSpec, XEON_GOLD_6248R, XEON_SILVER_4214, make_host};
use super::{Estate, Locale, SimCluster, SplitMix64, WindowsRelease, new_vm};

/// Hosts come in groups of eight: the first four form a cluster, the rest
/// are standalone.
const GROUP: usize = 8;
const CLUSTER_NODES: usize = 4;

pub(crate) fn build(hosts: usize, vms_per_host: usize, seed: u64) -> Estate {
    let root = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(hosts);
    let mut clusters: Vec<SimCluster> = Vec::new();
    for i in 0..hosts {
        let mut rng = root.fork(i as u64 + 1);
        let group = i / GROUP;
        let clustered = i % GROUP < CLUSTER_NODES;
        let cluster_name = format!("SCL-{group:04}");
        let name = format!("HVS{:05}", i + 1);
        let release = match i % 4 {
            0 => WindowsRelease::W2016,
            1 => WindowsRelease::W2019,
            _ => WindowsRelease::W2022,
        };
        let cpu = match i % 3 {
            0 => &XEON_GOLD_6248R,
            1 => &XEON_SILVER_4214,
            _ => &EPYC_7543,
        };
        let spec = HostSpec {
            name: "",
            release,
            cpu,
            sockets: 2,
            memory_gib: 512,
            locale: Locale::En,
            cluster: None,
            vendor: ("Dell Inc.", "PowerEdge R750"),
        };
        let mut host = make_host(&mut rng, &spec, "scale.test");
        host.name = name.clone();
        if clustered {
            host.cluster = Some(cluster_name.clone());
            match clusters.last_mut() {
                Some(c) if c.name == cluster_name => c.nodes.push(name.clone()),
                _ => clusters.push(SimCluster {
                    fqdn: format!("{}.scale.test", cluster_name.to_lowercase()),
                    name: cluster_name,
                    nodes: vec![name.clone()],
                }),
            }
        }
        for n in 0..vms_per_host {
            let mut vm = new_vm(&mut rng, format!("{name}-VM{:03}", n + 1), release);
            vm.clustered = clustered;
            host.vms.push(vm);
        }
        out.push(host);
    }
    Estate {
        hosts: out,
        clusters,
        generation: 1,
        seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_builds_requested_counts_and_clusters_of_four() {
        let e = build(16, 3, 9);
        assert_eq!(e.hosts.len(), 16);
        assert!(e.hosts.iter().all(|h| h.vms.len() == 3));
        assert_eq!(e.clusters.len(), 2);
        assert!(e.clusters.iter().all(|c| c.nodes.len() == 4));
        assert_eq!(e.hosts[4].cluster, None);
    }
}
