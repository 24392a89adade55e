//! What each run of the period says about the estate, with failed hosts
//! carried forward from their last good snapshot (within the staleness
//! limit) and every gap named. Pure: works on rows already loaded.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::report::id_map::{IdMap, IdSet};
use crate::report::node_match::CollectedNames;
use crate::store::read::{
    ClusterFacts, ClusterVmFacts, Guid, HostFacts, OutcomeSpan, Run, VmFacts,
};

/// One physical host as it counts in one run.
#[derive(Debug, Clone)]
pub struct HostAtRun<'a> {
    pub host_id: i64,
    pub address: &'a str,
    pub facts: &'a HostFacts,
    /// The run whose snapshot is used (the run itself unless carried).
    pub snapshot_run: i64,
    pub snapshot_at: DateTime<Utc>,
    pub carried_forward: bool,
    /// Every VM of the snapshot (any state), after de-duplication.
    pub vms: Vec<&'a VmFacts>,
    /// VMs dropped because another host of the run holds them.
    pub duplicates_dropped: Vec<&'a str>,
}

/// Something a run could not see.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gap {
    /// Failed, and its last good snapshot is older than the limit (or
    /// there is none in reach).
    Stale {
        address: String,
        last_ok_run: Option<i64>,
    },
    /// Never collected OK at all.
    NeverCollected { address: String },
    /// Collected OK but without host facts or core count: cannot be priced.
    NoFacts { address: String },
    /// A node the cluster lists that no collected host is.
    ClusterNode { cluster: String, node: String },
    /// A VM the cluster places on a node we have no data for.
    OrphanVm {
        cluster: String,
        vm_guid: Guid,
        owner_node: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct RunSnapshot<'a> {
    pub run: &'a Run,
    pub hosts: Vec<HostAtRun<'a>>,
    pub gaps: Vec<Gap>,
}

/// Rows the assembly works from: intervals, never one row per host per run.
pub struct Rows<'a> {
    /// Every complete run that may be referenced, by id.
    pub runs: &'a BTreeMap<i64, Run>,
    /// Outcome spans meeting the look-back window to the period end, by
    /// first run then address.
    pub outcomes: &'a [OutcomeSpan],
    pub host_facts: &'a [HostFacts],
    pub vm_facts: &'a [VmFacts],
    pub cluster_facts: &'a [ClusterFacts],
    /// Clusters' VM owners meeting the window, any order.
    pub cluster_vms: &'a [ClusterVmFacts],
}

/// Rows sorted by first run, and how far the sweep has taken them.
struct Opening<'a, T> {
    rows: Vec<&'a T>,
    next: usize,
}

impl<'a, T> Opening<'a, T> {
    fn new(rows: &'a [T], first_run: impl Fn(&T) -> i64) -> Self {
        let mut rows: Vec<&'a T> = rows.iter().collect();
        // Stable: rows of one first run keep their (id or address) order.
        rows.sort_by_key(|r| first_run(r));
        Opening { rows, next: 0 }
    }

    /// The rows whose first run is at most `run` not yet taken.
    fn take_until(&mut self, run: i64, first_run: impl Fn(&T) -> i64) -> &[&'a T] {
        let from = self.next;
        while self
            .rows
            .get(self.next)
            .is_some_and(|r| first_run(r) <= run)
        {
            self.next += 1;
        }
        &self.rows[from..self.next]
    }
}

/// One sweep over the runs, oldest first: rows open as their first run
/// comes and are dropped once no snapshot can use them, so memory follows
/// the estate and its changes within the staleness limit, not hosts × runs.
pub struct Assembler<'a> {
    runs: &'a BTreeMap<i64, Run>,
    outcomes: Opening<'a, OutcomeSpan>,
    /// address → its newest span (by address: outcomes are taken in order)
    active: BTreeMap<&'a str, &'a OutcomeSpan>,
    /// address → (run, host) of its newest OK outcome in a run already swept
    last_ok: HashMap<&'a str, (i64, i64)>,
    host_rows: Opening<'a, HostFacts>,
    vm_rows: Opening<'a, VmFacts>,
    cluster_rows: Opening<'a, ClusterFacts>,
    owner_rows: Opening<'a, ClusterVmFacts>,
    host_idx: IdMap<i64, Vec<&'a HostFacts>>,
    vm_idx: IdMap<i64, Vec<&'a VmFacts>>,
    clusters: Vec<&'a ClusterFacts>,
    /// cluster id → its open owner rows, each with its VM's row id (None:
    /// never collected)
    owners: IdMap<i64, Vec<OwnerView<'a>>>,
    guid_ids: HashMap<&'a str, i64>,
    max_staleness: Duration,
    last_ok_before_window: &'a HashMap<String, i64>,
    /// The last run swept, so runs are taken in order.
    swept: i64,
    runs_since_prune: usize,
}

/// Runs between two passes that drop rows no snapshot can use any more.
const PRUNE_EVERY: usize = 64;

impl<'a> Assembler<'a> {
    pub fn new(
        rows: &Rows<'a>,
        max_staleness: Duration,
        last_ok_before_window: &'a HashMap<String, i64>,
    ) -> Assembler<'a> {
        // Every VM's row id by GUID over the whole window, as cluster owners
        // may name a VM before its first row in the sweep.
        let guid_ids: HashMap<&str, i64> = rows
            .vm_facts
            .iter()
            .map(|f| (f.vm.guid.as_str(), f.vm_id))
            .collect();
        Assembler {
            runs: rows.runs,
            outcomes: Opening::new(rows.outcomes, |o| o.first_run_id),
            active: BTreeMap::new(),
            last_ok: HashMap::new(),
            host_rows: Opening::new(rows.host_facts, |f| f.first_run_id),
            vm_rows: Opening::new(rows.vm_facts, |f| f.first_run_id),
            cluster_rows: Opening::new(rows.cluster_facts, |f| f.first_run_id),
            owner_rows: Opening::new(rows.cluster_vms, |f| f.first_run_id),
            host_idx: IdMap::default(),
            vm_idx: IdMap::default(),
            clusters: Vec::new(),
            owners: IdMap::default(),
            guid_ids,
            max_staleness,
            last_ok_before_window,
            swept: i64::MIN,
            runs_since_prune: 0,
        }
    }

    /// Opens the rows that start by `run` and returns the run's outcomes,
    /// by address.
    fn open_until(&mut self, run: &Run) -> Vec<&'a OutcomeSpan> {
        assert!(run.id > self.swept, "runs must be swept oldest first");
        self.swept = run.id;
        for &o in self.outcomes.take_until(run.id, |o| o.first_run_id) {
            self.active.insert(o.address.as_str(), o);
        }
        for &f in self.host_rows.take_until(run.id, |f| f.first_run_id) {
            self.host_idx.entry(f.host_id).or_default().push(f);
        }
        for &f in self.vm_rows.take_until(run.id, |f| f.first_run_id) {
            self.vm_idx.entry(f.host_id).or_default().push(f);
        }
        self.clusters
            .extend(self.cluster_rows.take_until(run.id, |f| f.first_run_id));
        for &o in self.owner_rows.take_until(run.id, |f| f.first_run_id) {
            self.owners
                .entry(o.cluster_id)
                .or_default()
                .push(OwnerView {
                    facts: o,
                    vm_id: self.guid_ids.get(o.owner.vm_guid.as_str()).copied(),
                });
        }
        self.runs_since_prune += 1;
        if self.runs_since_prune >= PRUNE_EVERY {
            self.runs_since_prune = 0;
            self.prune(run);
        }
        self.active
            .values()
            .copied()
            .filter(|o| o.first_run_id <= run.id && run.id <= o.last_run_id)
            .collect()
    }

    /// Drops rows that ended before any run a snapshot of `run` or later may
    /// use: its own, or one started within the staleness limit before it.
    fn prune(&mut self, run: &Run) {
        let oldest_usable = run.started_at - self.max_staleness;
        let keep_from = self
            .runs
            .values()
            .filter(|r| r.started_at >= oldest_usable)
            .map(|r| r.id)
            .min()
            .unwrap_or(run.id)
            .min(run.id);
        self.active.retain(|_, o| o.last_run_id >= run.id);
        self.host_idx.retain(|_, v| {
            v.retain(|f| f.last_run_id >= keep_from);
            !v.is_empty()
        });
        self.vm_idx.retain(|_, v| {
            v.retain(|f| f.last_run_id >= keep_from);
            !v.is_empty()
        });
        self.clusters.retain(|c| c.last_run_id >= run.id);
        self.owners.retain(|_, v| {
            v.retain(|o| o.facts.last_run_id >= run.id);
            !v.is_empty()
        });
    }

    /// Takes a run of the look-back window into account without pricing it:
    /// its OK outcomes may be carried forward into the period.
    pub fn look_back(&mut self, run: &'a Run) {
        let outcomes = self.open_until(run);
        self.remember_ok(run.id, &outcomes);
    }

    fn remember_ok(&mut self, run_id: i64, outcomes: &[&'a OutcomeSpan]) {
        for &o in outcomes {
            if let (true, Some(h)) = (o.ok, o.host_id) {
                self.last_ok.insert(o.address.as_str(), (run_id, h));
            }
        }
    }

    /// What `run` says about the estate. Runs must come oldest first (each
    /// complete run of the window once, through this or `look_back`).
    pub fn snapshot(&mut self, run: &'a Run) -> RunSnapshot<'a> {
        let outcomes = self.open_until(run);
        let snap = self.assemble(run, &outcomes);
        self.remember_ok(run.id, &outcomes);
        snap
    }

    fn assemble(&self, run: &'a Run, outcomes: &[&'a OutcomeSpan]) -> RunSnapshot<'a> {
        let mut gaps = Vec::new();
        // host_id -> (address, snapshot run, carried, outcome time)
        let mut chosen: BTreeMap<i64, (&'a str, i64, bool, DateTime<Utc>)> = BTreeMap::new();
        for &o in outcomes {
            let pick = if o.ok {
                match o.host_id {
                    Some(h) => Some((h, run.id, false)),
                    None => {
                        gaps.push(Gap::NoFacts {
                            address: o.address.clone(),
                        });
                        None
                    }
                }
            } else {
                let last = self.last_ok.get(o.address.as_str()).copied();
                let fresh_enough = last.and_then(|(r, h)| {
                    let at = self.runs.get(&r)?.started_at;
                    (run.started_at - at <= self.max_staleness).then_some((h, r))
                });
                match (fresh_enough, last) {
                    (Some((h, r)), _) => Some((h, r, true)),
                    (None, Some((r, _))) => {
                        gaps.push(Gap::Stale {
                            address: o.address.clone(),
                            last_ok_run: Some(r),
                        });
                        None
                    }
                    (None, None) => {
                        let before = self.last_ok_before_window.get(&o.address).copied();
                        gaps.push(match before {
                            Some(r) => Gap::Stale {
                                address: o.address.clone(),
                                last_ok_run: Some(r),
                            },
                            None => Gap::NeverCollected {
                                address: o.address.clone(),
                            },
                        });
                        None
                    }
                }
            };
            if let Some((h, snap, carried)) = pick {
                let at = self
                    .runs
                    .get(&snap)
                    .map_or(run.started_at, |r| r.started_at);
                // A host reached fresh through any address wins over a
                // carried copy; between addresses, the first in order.
                let replace = match chosen.get(&h) {
                    None => true,
                    Some((_, _, was_carried, _)) => *was_carried && !carried,
                };
                if replace {
                    chosen.insert(h, (o.address.as_str(), snap, carried, at));
                }
            }
        }

        let mut hosts: Vec<HostAtRun<'a>> = Vec::new();
        for (h, (address, snap, carried, at)) in chosen {
            let facts = self
                .host_idx
                .get(&h)
                .and_then(|v| v.iter().find(|f| f.covers(snap)).copied());
            let Some(facts) = facts else {
                gaps.push(Gap::NoFacts {
                    address: address.to_string(),
                });
                continue;
            };
            let vms = self
                .vm_idx
                .get(&h)
                .map(|v| v.iter().filter(|f| f.covers(snap)).copied().collect())
                .unwrap_or_default();
            hosts.push(HostAtRun {
                host_id: h,
                address,
                facts,
                snapshot_run: snap,
                snapshot_at: at,
                carried_forward: carried,
                vms,
                duplicates_dropped: Vec::new(),
            });
        }
        let present = dedupe_vms(&mut hosts);
        // A node already listed as a failed address is not listed twice.
        let gapped: Vec<String> = gaps
            .iter()
            .filter_map(|g| match g {
                Gap::Stale { address, .. }
                | Gap::NeverCollected { address }
                | Gap::NoFacts { address } => Some(address.clone()),
                _ => None,
            })
            .collect();
        let clusters = (&self.clusters[..], &self.owners);
        cluster_gaps(run.id, clusters, &hosts, &present, &gapped, &mut gaps);
        gaps.sort();
        gaps.dedup();
        RunSnapshot { run, hosts, gaps }
    }
}

/// A VM is counted on one host per run: a fresh observation beats a carried
/// one, and the newer snapshot beats the older.
/// Returns the ids of every VM present in the run.
fn dedupe_vms(hosts: &mut [HostAtRun<'_>]) -> IdSet<i64> {
    let mut order: Vec<usize> = (0..hosts.len()).collect();
    // fresh first, then newest snapshot; host_id keeps it deterministic
    order.sort_by_key(|&i| {
        let h = &hosts[i];
        (
            h.carried_forward,
            std::cmp::Reverse(h.snapshot_run),
            h.host_id,
        )
    });
    // By VM row id: the store's identity of a VM (its GUID), as an integer.
    let mut seen: IdSet<i64> = IdSet::default();
    for i in order {
        let h = &mut hosts[i];
        let mut kept = Vec::with_capacity(h.vms.len());
        for v in h.vms.drain(..) {
            if seen.insert(v.vm_id) {
                kept.push(v);
            } else {
                h.duplicates_dropped.push(v.vm.guid.as_str());
            }
        }
        h.vms = kept;
    }
    seen
}

/// A cluster's owner row with its VM's row id (None: never collected).
struct OwnerView<'a> {
    facts: &'a ClusterVmFacts,
    vm_id: Option<i64>,
}

fn cluster_gaps(
    run_id: i64,
    (clusters, owners): (&[&ClusterFacts], &IdMap<i64, Vec<OwnerView<'_>>>),
    hosts: &[HostAtRun<'_>],
    present: &IdSet<i64>,
    gapped_addresses: &[String],
    gaps: &mut Vec<Gap>,
) {
    let mut covering = clusters.iter().filter(|c| c.covers(run_id)).peekable();
    if covering.peek().is_none() {
        return;
    }
    let mut names = CollectedNames::default();
    for a in gapped_addresses {
        names.add(a);
    }
    for h in hosts {
        names.add_host(&h.facts.host, h.address);
    }
    for &c in covering {
        for n in &c.nodes {
            if !names.has_node(&n.name) {
                gaps.push(Gap::ClusterNode {
                    cluster: c.name.clone(),
                    node: n.name.clone(),
                });
            }
        }
        let of_cluster = owners.get(&c.cluster_id).map_or(&[][..], Vec::as_slice);
        for o in of_cluster.iter().filter(|o| o.facts.covers(run_id)) {
            if !o.vm_id.is_some_and(|id| present.contains(&id)) {
                gaps.push(Gap::OrphanVm {
                    cluster: c.name.clone(),
                    vm_guid: o.facts.owner.vm_guid.clone(),
                    owner_node: o.facts.owner.owner_node.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunStatus;
    use crate::store::read::{ClusterNode, HostSnapshot, VmOwner, VmSnapshot, VmState};

    fn t(h: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(i64::from(h))
    }

    fn run(id: i64, hour: u32) -> Run {
        Run {
            id,
            started_at: t(hour),
            finished_at: Some(t(hour)),
            status: RunStatus::Complete,
            hvinv_version: "0.1.0".into(),
            hosts_total: 0,
            hosts_ok: 0,
            hosts_failed: 0,
        }
    }

    fn out(run_id: i64, address: &str, host_id: Option<i64>, ok: bool) -> OutcomeSpan {
        OutcomeSpan {
            address: address.into(),
            first_run_id: run_id,
            last_run_id: run_id,
            host_id,
            ok,
            error_kind: None,
        }
    }

    /// Sweeps every run before `id`, then snapshots `id`.
    fn snap_at<'a>(
        asm: &mut Assembler<'a>,
        runs: &'a BTreeMap<i64, Run>,
        id: i64,
    ) -> RunSnapshot<'a> {
        for r in runs.range(..id).map(|(_, r)| r) {
            asm.look_back(r);
        }
        asm.snapshot(&runs[&id])
    }

    fn facts(id: i64, host_id: i64, first: i64, last: i64, name: &str) -> HostFacts {
        HostFacts {
            id,
            host_id,
            first_run_id: first,
            last_run_id: last,
            cluster_name: None,
            region: "default".into(),
            host: HostSnapshot {
                name: Some(name.into()),
                sockets: Some(2),
                cores: Some(16),
                logical_processors: Some(32),
                ..HostSnapshot::default()
            },
        }
    }

    fn vm(id: i64, vm_id: i64, host_id: i64, first: i64, last: i64) -> VmFacts {
        VmFacts {
            id,
            vm_id,
            host_id,
            first_run_id: first,
            last_run_id: last,
            vm: VmSnapshot {
                guid: Guid::from_stored(&format!("00000000-0000-0000-0000-{vm_id:012}")),
                state: VmState::Running,
                vcpus: Some(2),
                clustered: true,
                ..VmSnapshot::default()
            },
        }
    }

    #[test]
    fn a_host_reached_by_two_addresses_counts_once_and_fresh_wins() {
        // Run 2: host 1 answers on "b" and fails on "a" (carried from run
        // 1): one host, fresh, with its VM once.
        let runs: BTreeMap<i64, Run> = [(1, run(1, 0)), (2, run(2, 1))].into();
        let outcomes = [
            out(1, "a", Some(1), true),
            out(2, "a", Some(1), false),
            out(2, "b", Some(1), true),
        ];
        let hf = [facts(1, 1, 1, 2, "HV01")];
        let vf = [vm(1, 1, 1, 1, 2)];
        let rows = Rows {
            runs: &runs,
            outcomes: &outcomes,
            host_facts: &hf,
            vm_facts: &vf,
            cluster_facts: &[],
            cluster_vms: &[],
        };
        let none = HashMap::new();
        let mut asm = Assembler::new(&rows, Duration::hours(24), &none);
        let snap = snap_at(&mut asm, &runs, 2);
        assert_eq!(snap.hosts.len(), 1);
        let h = &snap.hosts[0];
        assert!(!h.carried_forward);
        assert_eq!((h.address, h.vms.len()), ("b", 1));
        assert!(snap.gaps.is_empty(), "{:?}", snap.gaps);
    }

    #[test]
    fn ok_without_identity_and_stale_before_the_window_are_gaps() {
        // "x" answered but was never identified; "y" failed and its last
        // good run (found before the loaded window) is run 7.
        let runs: BTreeMap<i64, Run> = [(9, run(9, 100))].into();
        let outcomes = [out(9, "x", None, true), out(9, "y", Some(3), false)];
        let rows = Rows {
            runs: &runs,
            outcomes: &outcomes,
            host_facts: &[],
            vm_facts: &[],
            cluster_facts: &[],
            cluster_vms: &[],
        };
        let before: HashMap<String, i64> = [("y".to_string(), 7)].into();
        let mut asm = Assembler::new(&rows, Duration::hours(24), &before);
        let snap = snap_at(&mut asm, &runs, 9);
        assert!(snap.hosts.is_empty());
        assert_eq!(
            snap.gaps,
            [
                Gap::Stale {
                    address: "y".into(),
                    last_ok_run: Some(7)
                },
                Gap::NoFacts {
                    address: "x".into()
                },
            ]
        );
    }

    #[test]
    fn a_newer_carried_snapshot_beats_an_older_one_for_the_same_vm() {
        // Run 3: hosts 1 and 2 both failed. The VM was on host 1 in run 1
        // and on host 2 in run 2: counted once, on host 2 (newer).
        let runs: BTreeMap<i64, Run> = [(1, run(1, 0)), (2, run(2, 1)), (3, run(3, 2))].into();
        let outcomes = [
            out(1, "a", Some(1), true),
            out(1, "b", Some(2), true),
            out(2, "b", Some(2), true),
            out(2, "a", Some(1), false),
            out(3, "a", Some(1), false),
            out(3, "b", Some(2), false),
        ];
        let hf = [facts(1, 1, 1, 1, "HV01"), facts(2, 2, 1, 2, "HV02")];
        let vf = [vm(1, 1, 1, 1, 1), vm(2, 1, 2, 2, 2)];
        let rows = Rows {
            runs: &runs,
            outcomes: &outcomes,
            host_facts: &hf,
            vm_facts: &vf,
            cluster_facts: &[],
            cluster_vms: &[],
        };
        let none = HashMap::new();
        let mut asm = Assembler::new(&rows, Duration::hours(24), &none);
        let snap = snap_at(&mut asm, &runs, 3);
        let vms: Vec<(i64, usize, bool)> = snap
            .hosts
            .iter()
            .map(|h| (h.host_id, h.vms.len(), h.carried_forward))
            .collect();
        assert_eq!(vms, [(1, 0, true), (2, 1, true)]);
        assert_eq!(snap.hosts[0].duplicates_dropped.len(), 1);
    }

    #[test]
    fn cluster_nodes_and_owned_vms_outside_the_collection_are_gaps() {
        let runs: BTreeMap<i64, Run> = [(1, run(1, 0))].into();
        let outcomes = [out(1, "hv01.contoso.com", Some(1), true)];
        let hf = [facts(1, 1, 1, 1, "HV01")];
        let vf = [vm(1, 1, 1, 1, 1)];
        let cf = [ClusterFacts {
            cluster_id: 1,
            name: "CLU".into(),
            first_run_id: 1,
            last_run_id: 1,
            fqdn: None,
            nodes: ["HV01", "HV02"]
                .map(|n| ClusterNode {
                    name: n.into(),
                    state: None,
                })
                .to_vec(),
        }];
        let owner = |id: i64, guid: &str, node: &str| ClusterVmFacts {
            id,
            cluster_id: 1,
            first_run_id: 1,
            last_run_id: 1,
            owner: VmOwner {
                vm_guid: Guid::from_stored(guid),
                resource: None,
                owner_node: Some(node.into()),
                state: None,
            },
        };
        let cv = [
            owner(1, "{00000000-0000-0000-0000-000000000001}", "HV01"),
            owner(2, "00000000-0000-0000-0000-000000000009", "HV02"),
        ];
        let rows = Rows {
            runs: &runs,
            outcomes: &outcomes,
            host_facts: &hf,
            vm_facts: &vf,
            cluster_facts: &cf,
            cluster_vms: &cv,
        };
        let none = HashMap::new();
        let mut asm = Assembler::new(&rows, Duration::hours(24), &none);
        let snap = snap_at(&mut asm, &runs, 1);
        assert_eq!(
            snap.gaps,
            [
                Gap::ClusterNode {
                    cluster: "CLU".into(),
                    node: "HV02".into()
                },
                Gap::OrphanVm {
                    cluster: "CLU".into(),
                    vm_guid: Guid::from_stored("00000000-0000-0000-0000-000000000009"),
                    owner_node: Some("HV02".into())
                },
            ]
        );
    }
}
