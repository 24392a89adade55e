//! `Estate::advance`: the next generation of an estate, as a collector would
//! see it on its next run.

use super::{Estate, HyperVNamespace, SplitMix64, new_vm};

pub(crate) fn next(prev: &Estate) -> Estate {
    let mut e = prev.clone();
    e.generation = prev.generation.saturating_add(1);
    let mut rng = SplitMix64::new(prev.seed).fork(0xADu64 << 32 | u64::from(e.generation));
    live_migrate(&mut e, &mut rng);
    // Remove before resizing and adding, so the resized VM is one that
    // existed before and still exists after.
    remove_one(&mut e, &mut rng);
    change_vcpus(&mut e, &mut rng);
    add_one(&mut e, &mut rng);
    e
}

/// In each cluster, up to two clustered VMs move to another node (same
/// GUID, new owner).
fn live_migrate(e: &mut Estate, rng: &mut SplitMix64) {
    for ci in 0..e.clusters.len() {
        let Some(cluster) = e.clusters.get(ci).cloned() else {
            continue;
        };
        if cluster.nodes.len() < 2 {
            continue;
        }
        for _ in 0..2 {
            let node_idx: Vec<usize> = e
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.cluster.as_deref() == Some(cluster.name.as_str()))
                .map(|(i, _)| i)
                .collect();
            let sources: Vec<usize> = node_idx
                .iter()
                .copied()
                .filter(|&i| {
                    e.hosts
                        .get(i)
                        .is_some_and(|h| h.vms.iter().any(|v| v.clustered && !v.planned))
                })
                .collect();
            let Some(&src) = rng.pick(&sources) else {
                break;
            };
            let targets: Vec<usize> = node_idx.iter().copied().filter(|&i| i != src).collect();
            let Some(&dst) = rng.pick(&targets) else {
                break;
            };
            let Some(src_host) = e.hosts.get_mut(src) else {
                break;
            };
            let movable: Vec<usize> = src_host
                .vms
                .iter()
                .enumerate()
                .filter(|(_, v)| v.clustered && !v.planned)
                .map(|(i, _)| i)
                .collect();
            let Some(&vi) = rng.pick(&movable) else { break };
            let vm = src_host.vms.remove(vi);
            if let Some(dst_host) = e.hosts.get_mut(dst) {
                dst_host.vms.push(vm);
            }
        }
    }
}

fn add_one(e: &mut Estate, rng: &mut SplitMix64) {
    let candidates: Vec<usize> = e
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.namespace != HyperVNamespace::None)
        .map(|(i, _)| i)
        .collect();
    let Some(&hi) = rng.pick(&candidates) else {
        return;
    };
    let generation = e.generation;
    if let Some(h) = e.hosts.get_mut(hi) {
        let name = format!("NEW-G{generation}-VM");
        let mut vm = new_vm(rng, name, h.release);
        vm.clustered = h.cluster.is_some();
        h.vms.push(vm);
    }
}

fn pick_vm(e: &Estate, rng: &mut SplitMix64) -> Option<(usize, usize)> {
    let all: Vec<(usize, usize)> = e
        .hosts
        .iter()
        .enumerate()
        .flat_map(|(hi, h)| {
            h.vms
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.planned)
                .map(move |(vi, _)| (hi, vi))
        })
        .collect();
    rng.pick(&all).copied()
}

fn remove_one(e: &mut Estate, rng: &mut SplitMix64) {
    if let Some((hi, vi)) = pick_vm(e, rng)
        && let Some(h) = e.hosts.get_mut(hi)
        && vi < h.vms.len()
    {
        h.vms.remove(vi);
    }
}

fn change_vcpus(e: &mut Estate, rng: &mut SplitMix64) {
    if let Some((hi, vi)) = pick_vm(e, rng)
        && let Some(vm) = e.hosts.get_mut(hi).and_then(|h| h.vms.get_mut(vi))
    {
        vm.vcpus = if vm.vcpus >= 8 {
            vm.vcpus / 2
        } else {
            vm.vcpus * 2
        };
    }
}

#[cfg(test)]
mod tests {
    use crate::simulator::estate::Estate;
    use std::collections::BTreeMap;

    fn placements(e: &Estate) -> BTreeMap<String, (String, u32)> {
        e.all_vms()
            .filter(|(_, v)| !v.planned)
            .map(|(h, v)| (v.guid.clone(), (h.name.clone(), v.vcpus)))
            .collect()
    }

    #[test]
    fn advance_migrates_adds_removes_and_resizes() {
        let g1 = Estate::demo(11);
        let g2 = g1.advance();
        assert_eq!(g2.generation, 2);
        let (p1, p2) = (placements(&g1), placements(&g2));
        let added = p2.keys().filter(|k| !p1.contains_key(*k)).count();
        let removed = p1.keys().filter(|k| !p2.contains_key(*k)).count();
        assert_eq!((added, removed), (1, 1));
        let moved: Vec<_> = p1
            .iter()
            .filter_map(|(k, (h, _))| p2.get(k).filter(|(h2, _)| h2 != h).map(|_| k.clone()))
            .collect();
        assert!(!moved.is_empty(), "no live migration");
        for guid in &moved {
            let (h1, h2) = (&p1[guid].0, &p2[guid].0);
            assert_eq!(g1.host(h1).unwrap().cluster, g2.host(h2).unwrap().cluster);
        }
        assert!(
            p1.iter()
                .any(|(k, (_, c))| p2.get(k).is_some_and(|(_, c2)| c2 != c))
        );
    }

    #[test]
    fn advance_is_deterministic() {
        let g1 = Estate::demo(11);
        assert_eq!(g1.advance(), g1.advance());
        assert_ne!(g1.advance(), g1.advance().advance());
    }
}
