//! What each run of the period says about the estate, with failed hosts
//! carried forward from their last good snapshot (within the staleness
//! limit) and every gap named. Pure: works on rows already loaded.
//!
//! A quarter is thousands of runs over an estate that barely changes
//! between two of them, so the sweep carries its work from run to run and
//! redoes only what changed: a host's VM list is kept while none of its
//! rows opens or closes, which hosts hold which VM is updated from the
//! lists that changed, and a cluster's VM is re-examined only when its
//! presence flips. Per run, the cost is per host (a few look-ups), not per
//! VM.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use chrono::{DateTime, Duration, Utc};

use crate::report::id_map::{IdHasher, IdMap, IdSet, NameMap};
use crate::report::node_match;
use crate::store::read::{
    ClusterFacts, ClusterVmFacts, Guid, HostFacts, OutcomeSpan, Run, VmFacts,
};

/// A host's VMs at one snapshot, shared from run to run while unchanged.
pub type VmList<'a> = Rc<Vec<&'a VmFacts>>;

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
    pub vms: VmList<'a>,
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
    /// Where each cluster placed each of its VMs.
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

/// A host's VM list and the snapshot runs it holds for: no row of the
/// host starts or ends between `from` and `until`.
struct CachedVms<'a> {
    from: i64,
    until: i64,
    vms: VmList<'a>,
}

/// One sweep over the runs, oldest first: rows open as their first run
/// comes and are dropped once no snapshot can use them, so memory follows
/// the estate and its changes within the staleness limit, not hosts × runs.
pub struct Assembler<'a> {
    runs: &'a BTreeMap<i64, Run>,
    outcomes: Opening<'a, OutcomeSpan>,
    /// address → its newest span (by address: outcomes are taken in order)
    active: BTreeMap<&'a str, Active<'a>>,
    /// address → (run, host) of its newest OK outcome in a run already
    /// swept, once that span is no longer the address's newest
    last_ok: NameMap<'a, (i64, i64)>,
    host_rows: Opening<'a, HostFacts>,
    vm_rows: Opening<'a, VmFacts>,
    cluster_rows: Opening<'a, ClusterFacts>,
    owner_rows: Opening<'a, ClusterVmFacts>,
    host_idx: IdMap<i64, Vec<&'a HostFacts>>,
    vm_idx: IdMap<i64, Vec<&'a VmFacts>>,
    vm_cache: IdMap<i64, CachedVms<'a>>,
    clusters: Vec<ClusterView<'a>>,
    cluster_names: IdMap<i64, &'a str>,
    guid_ids: NameMap<'a, i64>,
    /// `node_match::key` of every address, host name and FQDN met so far.
    keys: NameMap<'a, String>,
    presence: Presence<'a>,
    orphans: Orphans<'a>,
    /// The node gaps of the last run, and a hash of what they came from.
    node_gaps: Option<(u64, Vec<Gap>)>,
    max_staleness: Duration,
    last_ok_before_window: &'a HashMap<String, i64>,
    /// The last run swept, so runs are taken in order.
    swept: i64,
    runs_since_prune: usize,
}

/// An address's newest outcome span, and the last run swept while it
/// covered it.
struct Active<'a> {
    span: &'a OutcomeSpan,
    last_swept: Option<i64>,
}

impl Active<'_> {
    /// (run, host) of this span as a good snapshot, if it is one.
    fn ok_at(&self) -> Option<(i64, i64)> {
        match (self.span.ok, self.span.host_id, self.last_swept) {
            (true, Some(h), Some(r)) => Some((r, h)),
            _ => None,
        }
    }
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
        let guid_ids: NameMap<'a, i64> = rows
            .vm_facts
            .iter()
            .map(|f| (f.vm.guid.as_str(), f.vm_id))
            .collect();
        let cluster_names = rows
            .cluster_facts
            .iter()
            .map(|c| (c.cluster_id, c.name.as_str()))
            .collect();
        Assembler {
            runs: rows.runs,
            outcomes: Opening::new(rows.outcomes, |o| o.first_run_id),
            active: BTreeMap::new(),
            last_ok: NameMap::default(),
            host_rows: Opening::new(rows.host_facts, |f| f.first_run_id),
            vm_rows: Opening::new(rows.vm_facts, |f| f.first_run_id),
            cluster_rows: Opening::new(rows.cluster_facts, |f| f.first_run_id),
            owner_rows: Opening::new(rows.cluster_vms, |f| f.first_run_id),
            host_idx: IdMap::default(),
            vm_idx: IdMap::default(),
            vm_cache: IdMap::default(),
            clusters: Vec::new(),
            cluster_names,
            guid_ids,
            keys: NameMap::default(),
            presence: Presence::default(),
            orphans: Orphans::default(),
            node_gaps: None,
            max_staleness,
            last_ok_before_window,
            swept: i64::MIN,
            runs_since_prune: 0,
        }
    }

    fn remember_key(&mut self, name: &'a str) {
        if !self.keys.contains_key(name) {
            self.keys.insert(name, node_match::key(name));
        }
    }

    /// Opens the rows that start by `run` and returns the run's outcomes,
    /// by address.
    fn open_until(&mut self, run: &Run) -> Vec<&'a OutcomeSpan> {
        assert!(run.id > self.swept, "runs must be swept oldest first");
        self.swept = run.id;
        let opened: Vec<&'a OutcomeSpan> = self
            .outcomes
            .take_until(run.id, |o| o.first_run_id)
            .to_vec();
        for o in opened {
            let new = Active {
                span: o,
                last_swept: None,
            };
            if let Some(ok) = self
                .active
                .insert(o.address.as_str(), new)
                .and_then(|was| was.ok_at())
            {
                self.last_ok.insert(o.address.as_str(), ok);
            }
            self.remember_key(o.address.as_str());
        }
        let opened: Vec<&'a HostFacts> = self
            .host_rows
            .take_until(run.id, |f| f.first_run_id)
            .to_vec();
        for f in opened {
            self.host_idx.entry(f.host_id).or_default().push(f);
            for n in node_match::host_names(&f.host) {
                self.remember_key(n);
            }
        }
        for &f in self.vm_rows.take_until(run.id, |f| f.first_run_id) {
            self.vm_idx.entry(f.host_id).or_default().push(f);
            // Its host's list changes with this row.
            self.vm_cache.remove(&f.host_id);
        }
        for &c in self.cluster_rows.take_until(run.id, |f| f.first_run_id) {
            self.clusters.push(ClusterView {
                facts: c,
                node_keys: c.nodes.iter().map(|n| node_match::key(&n.name)).collect(),
            });
        }
        for &o in self.owner_rows.take_until(run.id, |f| f.first_run_id) {
            let vm_id = self.guid_ids.get(o.owner.vm_guid.as_str()).copied();
            let cluster = self.cluster_names.get(&o.cluster_id).copied().unwrap_or("");
            self.orphans.open(o, cluster, vm_id, &self.presence);
        }
        self.runs_since_prune += 1;
        if self.runs_since_prune >= PRUNE_EVERY {
            self.runs_since_prune = 0;
            self.prune(run);
        }
        let mut covering = Vec::with_capacity(self.active.len());
        for a in self.active.values_mut() {
            if a.span.first_run_id <= run.id && run.id <= a.span.last_run_id {
                a.last_swept = Some(run.id);
                covering.push(a.span);
            }
        }
        covering
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
        let last_ok = &mut self.last_ok;
        self.active.retain(|address, a| {
            let keep = a.span.last_run_id >= run.id;
            if let (false, Some(ok)) = (keep, a.ok_at()) {
                last_ok.insert(address, ok);
            }
            keep
        });
        self.host_idx.retain(|_, v| {
            v.retain(|f| f.last_run_id >= keep_from);
            !v.is_empty()
        });
        // A cached list stays right for the snapshots it covers: the rows
        // dropped here end before any snapshot still usable.
        self.vm_idx.retain(|_, v| {
            v.retain(|f| f.last_run_id >= keep_from);
            !v.is_empty()
        });
        self.clusters.retain(|c| c.facts.last_run_id >= run.id);
        self.orphans.prune(run.id);
    }

    /// Takes a run of the look-back window into account without pricing it:
    /// its OK outcomes may be carried forward into the period.
    pub fn look_back(&mut self, run: &'a Run) {
        self.open_until(run);
    }

    /// What `run` says about the estate. Runs must come oldest first (each
    /// complete run of the window once, through this or `look_back`).
    pub fn snapshot(&mut self, run: &'a Run) -> RunSnapshot<'a> {
        let outcomes = self.open_until(run);
        self.assemble(run, &outcomes)
    }

    /// The VMs of `host` at snapshot `snap` (from the cache while it holds).
    fn vms_at(&mut self, host: i64, snap: i64) -> VmList<'a> {
        if let Some(c) = self.vm_cache.get(&host)
            && c.from <= snap
            && snap <= c.until
        {
            return c.vms.clone();
        }
        let (mut from, mut until) = (i64::MIN, i64::MAX);
        let mut vms = Vec::new();
        for &f in self.vm_idx.get(&host).into_iter().flatten() {
            if f.covers(snap) {
                vms.push(f);
                from = from.max(f.first_run_id);
                until = until.min(f.last_run_id);
            } else if f.last_run_id < snap {
                from = from.max(f.last_run_id.saturating_add(1));
            } else {
                until = until.min(f.first_run_id.saturating_sub(1));
            }
        }
        let vms = Rc::new(vms);
        self.vm_cache.insert(
            host,
            CachedVms {
                from,
                until,
                vms: vms.clone(),
            },
        );
        vms
    }

    fn assemble(&mut self, run: &'a Run, outcomes: &[&'a OutcomeSpan]) -> RunSnapshot<'a> {
        let mut gaps = Vec::new();
        // host_id -> (address, snapshot run, carried, outcome time)
        let mut chosen: BTreeMap<i64, (&'a str, i64, bool, DateTime<Utc>)> = BTreeMap::new();
        // Addresses listed as failed, so a node is not listed twice.
        let mut gapped: Vec<&'a str> = Vec::new();
        for &o in outcomes {
            let pick = if o.ok {
                match o.host_id {
                    Some(h) => Some((h, run.id, false)),
                    None => {
                        gaps.push(Gap::NoFacts {
                            address: o.address.clone(),
                        });
                        gapped.push(&o.address);
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
                        gapped.push(&o.address);
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
                        gapped.push(&o.address);
                        None
                    }
                }
            };
            if let Some((h, snap, carried)) = pick {
                let at = match carried {
                    false => run.started_at,
                    true => self
                        .runs
                        .get(&snap)
                        .map_or(run.started_at, |r| r.started_at),
                };
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

        let mut hosts: Vec<HostAtRun<'a>> = Vec::with_capacity(chosen.len());
        for (h, (address, snap, carried, at)) in chosen {
            let facts = self
                .host_idx
                .get(&h)
                .and_then(|v| v.iter().find(|f| f.covers(snap)).copied());
            let Some(facts) = facts else {
                gaps.push(Gap::NoFacts {
                    address: address.to_string(),
                });
                gapped.push(address);
                continue;
            };
            let vms = self.vms_at(h, snap);
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
        let flips = self.presence.update(&hosts);
        self.presence.dedupe(&mut hosts);
        self.orphans.flip(&flips, &self.presence);
        self.node_gaps(run.id, &hosts, &gapped, &mut gaps);
        self.orphans.gaps(run.id, &mut gaps);
        gaps.sort();
        gaps.dedup();
        RunSnapshot { run, hosts, gaps }
    }

    /// The nodes of the clusters covering the run that no collected host
    /// (nor failed address) is; reused while their inputs stay the same.
    fn node_gaps(
        &mut self,
        run_id: i64,
        hosts: &[HostAtRun<'a>],
        gapped: &[&'a str],
        gaps: &mut Vec<Gap>,
    ) {
        let covering: Vec<&ClusterView<'a>> = self
            .clusters
            .iter()
            .filter(|c| c.facts.covers(run_id))
            .collect();
        // What the gaps depend on: the covering rows, the hosts (their
        // facts rows and addresses) and the failed addresses.
        let mut fp = IdHasher::default();
        for c in &covering {
            std::ptr::hash(c.facts, &mut fp);
        }
        for h in hosts {
            std::ptr::hash(h.facts, &mut fp);
            std::ptr::hash(h.address, &mut fp);
        }
        0xfeed_u64.hash(&mut fp);
        for a in gapped {
            std::ptr::hash(*a, &mut fp);
        }
        let fp = fp.finish();
        if self.node_gaps.as_ref().is_none_or(|(was, _)| *was != fp) {
            let key = |n: &str| self.keys.get(n).map(String::as_str);
            let mut names: NameMap<'_, ()> = NameMap::default();
            names.reserve(hosts.len() * 3);
            names.extend(gapped.iter().filter_map(|a| key(a)).map(|k| (k, ())));
            for h in hosts {
                names.extend(
                    node_match::host_names(&h.facts.host)
                        .chain([h.address])
                        .filter_map(key)
                        .map(|k| (k, ())),
                );
            }
            let mut found = Vec::new();
            for c in &covering {
                for (n, k) in c.facts.nodes.iter().zip(&c.node_keys) {
                    if !names.contains_key(k.as_str()) {
                        found.push(Gap::ClusterNode {
                            cluster: c.facts.name.clone(),
                            node: n.name.clone(),
                        });
                    }
                }
            }
            self.node_gaps = Some((fp, found));
        }
        if let Some((_, found)) = &self.node_gaps {
            gaps.extend(found.iter().cloned());
        }
    }
}

/// Which hosts of the run hold which VM, kept up to date from the lists
/// that changed since the previous run.
#[derive(Default)]
struct Presence<'a> {
    /// host → the list it held (before de-duplication) in the last run
    lists: IdMap<i64, VmList<'a>>,
    /// VM id → the hosts holding it
    holders: IdMap<i64, Vec<i64>>,
    /// VMs two hosts or more hold
    multi: BTreeSet<i64>,
}

impl<'a> Presence<'a> {
    fn add(&mut self, vm: i64, host: i64, flips: &mut Vec<i64>) {
        let hs = self.holders.entry(vm).or_default();
        hs.push(host);
        match hs.len() {
            1 => flips.push(vm),
            2 => {
                self.multi.insert(vm);
            }
            _ => {}
        }
    }

    fn remove(&mut self, vm: i64, host: i64, flips: &mut Vec<i64>) {
        let Some(hs) = self.holders.get_mut(&vm) else {
            return;
        };
        if let Some(i) = hs.iter().position(|&h| h == host) {
            hs.swap_remove(i);
        }
        match hs.len() {
            0 => {
                self.holders.remove(&vm);
                flips.push(vm);
            }
            1 => {
                self.multi.remove(&vm);
            }
            _ => {}
        }
    }

    fn is_present(&self, vm: i64) -> bool {
        self.holders.contains_key(&vm)
    }

    /// Brings the holders to this run's hosts; the VMs whose presence may
    /// have changed.
    fn update(&mut self, hosts: &[HostAtRun<'a>]) -> Vec<i64> {
        let mut flips = Vec::new();
        let mut here: IdSet<i64> = IdSet::default();
        here.reserve(hosts.len());
        for h in hosts {
            here.insert(h.host_id);
            if self
                .lists
                .get(&h.host_id)
                .is_some_and(|old| Rc::ptr_eq(old, &h.vms))
            {
                continue;
            }
            if let Some(old) = self.lists.insert(h.host_id, h.vms.clone()) {
                for v in old.iter() {
                    self.remove(v.vm_id, h.host_id, &mut flips);
                }
            }
            for v in h.vms.iter() {
                self.add(v.vm_id, h.host_id, &mut flips);
            }
        }
        if here.len() != self.lists.len() {
            let gone: Vec<i64> = self
                .lists
                .keys()
                .filter(|h| !here.contains(h))
                .copied()
                .collect();
            for h in gone {
                if let Some(old) = self.lists.remove(&h) {
                    for v in old.iter() {
                        self.remove(v.vm_id, h, &mut flips);
                    }
                }
            }
        }
        flips
    }

    /// A VM is counted on one host per run: a fresh observation beats a
    /// carried one, and the newer snapshot beats the older (host id breaks
    /// ties). Only hosts holding a VM another host holds change.
    fn dedupe(&self, hosts: &mut [HostAtRun<'a>]) {
        if self.multi.is_empty() {
            return;
        }
        let pos: IdMap<i64, usize> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (h.host_id, i))
            .collect();
        let rank = |i: usize| {
            let h = &hosts[i];
            (
                h.carried_forward,
                std::cmp::Reverse(h.snapshot_run),
                h.host_id,
            )
        };
        let mut drops: BTreeMap<usize, IdSet<i64>> = BTreeMap::new();
        for vm in &self.multi {
            let holders: Vec<usize> = self.holders[vm]
                .iter()
                .filter_map(|h| pos.get(h).copied())
                .collect();
            let Some(winner) = holders.iter().copied().min_by_key(|&i| rank(i)) else {
                continue;
            };
            for i in holders.into_iter().filter(|&i| i != winner) {
                drops.entry(i).or_default().insert(*vm);
            }
        }
        for (i, dropped) in drops {
            let h = &mut hosts[i];
            let mut kept = Vec::with_capacity(h.vms.len());
            for &v in h.vms.iter() {
                if dropped.contains(&v.vm_id) {
                    h.duplicates_dropped.push(v.vm.guid.as_str());
                } else {
                    kept.push(v);
                }
            }
            h.vms = Rc::new(kept);
        }
    }
}

/// A cluster's facts with its nodes' `node_match::key`s.
struct ClusterView<'a> {
    facts: &'a ClusterFacts,
    node_keys: Vec<String>,
}

/// A VM a cluster placed: the row, its cluster's name and the VM's id
/// (None: never collected).
struct Owner<'a> {
    row: &'a ClusterVmFacts,
    cluster: &'a str,
    vm_id: Option<i64>,
}

/// The cluster VMs no host of the run holds, re-examined when a row opens
/// or its VM's presence flips.
#[derive(Default)]
struct Orphans<'a> {
    open: Vec<Option<Owner<'a>>>,
    by_vm: IdMap<i64, Vec<usize>>,
    orphaned: BTreeSet<usize>,
    /// last run → the rows ending there, to forget them in order
    ends: BTreeMap<i64, Vec<usize>>,
}

impl<'a> Orphans<'a> {
    fn open(
        &mut self,
        row: &'a ClusterVmFacts,
        cluster: &'a str,
        vm_id: Option<i64>,
        presence: &Presence<'_>,
    ) {
        let i = self.open.len();
        self.ends.entry(row.last_run_id).or_default().push(i);
        self.open.push(Some(Owner {
            row,
            cluster,
            vm_id,
        }));
        match vm_id {
            Some(v) => {
                self.by_vm.entry(v).or_default().push(i);
                if !presence.is_present(v) {
                    self.orphaned.insert(i);
                }
            }
            None => {
                self.orphaned.insert(i);
            }
        }
    }

    fn flip(&mut self, vms: &[i64], presence: &Presence<'_>) {
        for v in vms {
            let present = presence.is_present(*v);
            for &i in self.by_vm.get(v).into_iter().flatten() {
                if present {
                    self.orphaned.remove(&i);
                } else {
                    self.orphaned.insert(i);
                }
            }
        }
    }

    fn gaps(&self, run_id: i64, gaps: &mut Vec<Gap>) {
        for o in self.orphaned.iter().filter_map(|&i| self.open[i].as_ref()) {
            if o.row.covers(run_id) {
                gaps.push(Gap::OrphanVm {
                    cluster: o.cluster.to_string(),
                    vm_guid: o.row.owner.vm_guid.clone(),
                    owner_node: o.row.owner.owner_node.clone(),
                });
            }
        }
    }

    /// Forgets the rows that ended before `run_id`.
    fn prune(&mut self, run_id: i64) {
        let kept = self.ends.split_off(&run_id);
        let ended = std::mem::replace(&mut self.ends, kept);
        for i in ended.into_values().flatten() {
            let o = self.open.get_mut(i).and_then(Option::take);
            self.orphaned.remove(&i);
            if let Some(v) = o.and_then(|o| o.vm_id)
                && let Some(list) = self.by_vm.get_mut(&v)
            {
                list.retain(|&j| j != i);
                if list.is_empty() {
                    self.by_vm.remove(&v);
                }
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

    /// The previous algorithm, from scratch for one run: every row looked
    /// at again, the last good run of each address found by scanning.
    fn naive(rows: &Rows<'_>, run: &Run, staleness: Duration) -> (Vec<String>, Vec<Gap>) {
        let runs = rows.runs;
        let covering: Vec<&OutcomeSpan> = {
            let mut v: Vec<&OutcomeSpan> = rows
                .outcomes
                .iter()
                .filter(|o| o.first_run_id <= run.id && run.id <= o.last_run_id)
                .collect();
            v.sort_by(|a, b| a.address.cmp(&b.address));
            v
        };
        let last_ok = |address: &str| -> Option<(i64, i64)> {
            runs.range(..run.id).rev().find_map(|(&r, _)| {
                rows.outcomes
                    .iter()
                    .find(|o| {
                        o.address == address
                            && o.ok
                            && o.host_id.is_some()
                            && o.first_run_id <= r
                            && r <= o.last_run_id
                    })
                    .map(|o| (r, o.host_id.unwrap()))
            })
        };
        let mut gaps = Vec::new();
        let mut chosen: BTreeMap<i64, (&str, i64, bool)> = BTreeMap::new();
        for o in &covering {
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
                let last = last_ok(&o.address);
                let fresh = last.filter(|(r, _)| run.started_at - runs[r].started_at <= staleness);
                match (fresh, last) {
                    (Some((r, h)), _) => Some((h, r, true)),
                    (None, Some((r, _))) => {
                        gaps.push(Gap::Stale {
                            address: o.address.clone(),
                            last_ok_run: Some(r),
                        });
                        None
                    }
                    (None, None) => {
                        gaps.push(Gap::NeverCollected {
                            address: o.address.clone(),
                        });
                        None
                    }
                }
            };
            if let Some((h, snap, carried)) = pick {
                let replace = match chosen.get(&h) {
                    None => true,
                    Some((_, _, was)) => *was && !carried,
                };
                if replace {
                    chosen.insert(h, (o.address.as_str(), snap, carried));
                }
            }
        }
        struct H<'a> {
            id: i64,
            address: &'a str,
            facts: &'a HostFacts,
            snap: i64,
            carried: bool,
            vms: Vec<&'a VmFacts>,
            dropped: Vec<i64>,
        }
        let mut hosts: Vec<H> = Vec::new();
        for (h, (address, snap, carried)) in chosen {
            let Some(facts) = rows
                .host_facts
                .iter()
                .find(|f| f.host_id == h && f.covers(snap))
            else {
                gaps.push(Gap::NoFacts {
                    address: address.to_string(),
                });
                continue;
            };
            let vms = rows
                .vm_facts
                .iter()
                .filter(|f| f.host_id == h && f.covers(snap))
                .collect();
            hosts.push(H {
                id: h,
                address,
                facts,
                snap,
                carried,
                vms,
                dropped: Vec::new(),
            });
        }
        let mut order: Vec<usize> = (0..hosts.len()).collect();
        order.sort_by_key(|&i| {
            (
                hosts[i].carried,
                std::cmp::Reverse(hosts[i].snap),
                hosts[i].id,
            )
        });
        let mut seen = BTreeSet::new();
        for i in order {
            let h = &mut hosts[i];
            let vms = std::mem::take(&mut h.vms);
            for v in vms {
                if seen.insert(v.vm_id) {
                    h.vms.push(v)
                } else {
                    h.dropped.push(v.vm_id)
                }
            }
        }
        let mut names = crate::report::node_match::CollectedNames::default();
        for g in &gaps {
            if let Gap::Stale { address, .. }
            | Gap::NeverCollected { address }
            | Gap::NoFacts { address } = g
            {
                names.add(address);
            }
        }
        for h in &hosts {
            node_match::host_names(&h.facts.host).for_each(|n| names.add(n));
            names.add(h.address);
        }
        for c in rows.cluster_facts.iter().filter(|c| c.covers(run.id)) {
            for n in &c.nodes {
                if !names.has_node(&n.name) {
                    gaps.push(Gap::ClusterNode {
                        cluster: c.name.clone(),
                        node: n.name.clone(),
                    });
                }
            }
            for o in rows
                .cluster_vms
                .iter()
                .filter(|o| o.cluster_id == c.cluster_id && o.covers(run.id))
            {
                let id = rows
                    .vm_facts
                    .iter()
                    .find(|f| f.vm.guid == o.owner.vm_guid)
                    .map(|f| f.vm_id);
                if !id.is_some_and(|id| seen.contains(&id)) {
                    gaps.push(Gap::OrphanVm {
                        cluster: c.name.clone(),
                        vm_guid: o.owner.vm_guid.clone(),
                        owner_node: o.owner.owner_node.clone(),
                    });
                }
            }
        }
        gaps.sort();
        gaps.dedup();
        let mut lines: Vec<String> = hosts
            .iter()
            .map(|h| {
                let mut vms: Vec<i64> = h.vms.iter().map(|v| v.vm_id).collect();
                vms.sort();
                let mut dropped = h.dropped.clone();
                dropped.sort();
                format!(
                    "{} {} snap={} carried={} vms={vms:?} dropped={dropped:?}",
                    h.id, h.address, h.snap, h.carried
                )
            })
            .collect();
        lines.sort();
        (lines, gaps)
    }

    fn lines_of(snap: &RunSnapshot<'_>, rows: &Rows<'_>) -> Vec<String> {
        let id_of = |g: &str| {
            rows.vm_facts
                .iter()
                .find(|f| f.vm.guid.as_str() == g)
                .map(|f| f.vm_id)
                .unwrap()
        };
        let mut lines: Vec<String> = snap
            .hosts
            .iter()
            .map(|h| {
                let mut vms: Vec<i64> = h.vms.iter().map(|v| v.vm_id).collect();
                vms.sort();
                let mut dropped: Vec<i64> = h.duplicates_dropped.iter().map(|g| id_of(g)).collect();
                dropped.sort();
                format!(
                    "{} {} snap={} carried={} vms={vms:?} dropped={dropped:?}",
                    h.host_id, h.address, h.snapshot_run, h.carried_forward
                )
            })
            .collect();
        lines.sort();
        lines
    }

    type RandomRows = (
        BTreeMap<i64, Run>,
        Vec<OutcomeSpan>,
        Vec<HostFacts>,
        Vec<VmFacts>,
        Vec<ClusterFacts>,
        Vec<ClusterVmFacts>,
    );

    /// A random history: hosts that fail (some past the staleness limit),
    /// VMs that move (so carried hosts hold VMs others hold too), cluster
    /// rows whose nodes and VMs change, incomplete runs left out.
    fn random_rows(seed: u64) -> RandomRows {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n_runs = 120i64;
        let hosts = 6i64;
        let vms = 14i64;
        // runs every hour; every 9th run incomplete (left out)
        let runs: BTreeMap<i64, Run> = (1..=n_runs)
            .filter(|r| r % 9 != 0)
            .map(|r| (r, run(r, r as u32)))
            .collect();
        let mut outcomes = Vec::new();
        let mut hf: Vec<HostFacts> = Vec::new();
        let mut vf: Vec<VmFacts> = Vec::new();
        let mut fact_id = 0;
        let mut vm_row = 0;
        let mut vm_host: Vec<i64> = (0..vms).map(|v| 1 + v % hosts).collect();
        let mut vm_open: Vec<Option<usize>> = vec![None; vms as usize];
        let mut host_ok = vec![true; hosts as usize + 1];
        let mut host_open: Vec<Option<usize>> = vec![None; hosts as usize + 1];
        for r in 1..=n_runs {
            for h in 1..=hosts {
                // Host 6 has two addresses; host 5 is sometimes unidentified.
                if rng.random_bool(0.12) {
                    host_ok[h as usize] = !host_ok[h as usize];
                }
                let ok = host_ok[h as usize];
                let unidentified = h == 5 && ok && rng.random_bool(0.1);
                let push = |outcomes: &mut Vec<OutcomeSpan>,
                            address: String,
                            ok: bool,
                            host: Option<i64>| {
                    match outcomes
                        .iter_mut()
                        .rev()
                        .find(|o: &&mut OutcomeSpan| o.address == address)
                    {
                        Some(o) if o.last_run_id == r - 1 && o.ok == ok && o.host_id == host => {
                            o.last_run_id = r
                        }
                        _ => outcomes.push(OutcomeSpan {
                            address,
                            first_run_id: r,
                            last_run_id: r,
                            host_id: host,
                            ok,
                            error_kind: None,
                        }),
                    }
                };
                let host = if unidentified { None } else { Some(h) };
                push(&mut outcomes, format!("hv{h:02}.contoso.com"), ok, host);
                if h == 6 {
                    let ok2 = rng.random_bool(0.7);
                    push(&mut outcomes, "10.0.0.6".to_string(), ok2, Some(6));
                }
                if ok && host.is_some() {
                    // facts: a new row now and then (cores change)
                    let new = host_open[h as usize].is_none() || rng.random_bool(0.03);
                    match host_open[h as usize] {
                        Some(i) if !new && hf[i].last_run_id >= r - 3 => hf[i].last_run_id = r,
                        _ => {
                            fact_id += 1;
                            hf.push(facts(fact_id, h, r, r, &format!("HV{h:02}")));
                            host_open[h as usize] = Some(hf.len() - 1);
                        }
                    }
                }
            }
            for v in 0..vms as usize {
                if rng.random_bool(0.08) {
                    vm_host[v] = rng.random_range(1..=hosts);
                    vm_open[v] = None;
                }
                let h = vm_host[v];
                if !host_ok[h as usize] {
                    continue;
                }
                match vm_open[v] {
                    Some(i) if vf[i].host_id == h && vf[i].last_run_id == r - 1 => {
                        vf[i].last_run_id = r
                    }
                    _ => {
                        vm_row += 1;
                        vf.push(vm(vm_row, v as i64 + 1, h, r, r));
                        vm_open[v] = Some(vf.len() - 1);
                    }
                }
            }
        }
        // One cluster of hosts 1-4 plus a node "HV09" never collected;
        // its rows change every 10 runs, owning VMs 1-10 and one unknown.
        let mut cf = Vec::new();
        let mut cv = Vec::new();
        let mut cv_id = 0;
        for (k, first) in (1..=n_runs).step_by(10).enumerate() {
            let last = (first + 9).min(n_runs);
            let nodes = if k % 2 == 0 {
                vec!["HV01", "HV02", "HV03", "HV04", "HV09"]
            } else {
                vec!["hv01", "HV02"]
            };
            cf.push(ClusterFacts {
                cluster_id: 1,
                name: "CLU".into(),
                first_run_id: first,
                last_run_id: last,
                fqdn: None,
                nodes: nodes
                    .into_iter()
                    .map(|n| ClusterNode {
                        name: n.into(),
                        state: None,
                    })
                    .collect(),
            });
            for v in 1..=11i64 {
                if rng.random_bool(0.2) {
                    continue;
                }
                cv_id += 1;
                let guid = if v == 11 {
                    "00000000-0000-0000-0000-0000000000ff".to_string()
                } else {
                    format!("00000000-0000-0000-0000-{v:012}")
                };
                cv.push(ClusterVmFacts {
                    id: cv_id,
                    cluster_id: 1,
                    first_run_id: first,
                    last_run_id: last,
                    owner: VmOwner {
                        vm_guid: Guid::from_stored(&guid),
                        resource: None,
                        owner_node: Some(format!("HV{:02}", 1 + v % 4)),
                        state: None,
                    },
                });
            }
        }
        outcomes.sort_by(|a, b| (a.first_run_id, &a.address).cmp(&(b.first_run_id, &b.address)));
        (runs, outcomes, hf, vf, cf, cv)
    }

    #[test]
    fn the_incremental_sweep_gives_every_run_what_a_from_scratch_assembly_gives() {
        let mut checked = (0, 0, 0, 0);
        for seed in 0..40 {
            let (runs, outcomes, hf, vf, cf, cv) = random_rows(seed);
            let rows = Rows {
                runs: &runs,
                outcomes: &outcomes,
                host_facts: &hf,
                vm_facts: &vf,
                cluster_facts: &cf,
                cluster_vms: &cv,
            };
            let staleness = Duration::hours(3);
            let none = HashMap::new();
            let mut asm = Assembler::new(&rows, staleness, &none);
            for r in runs.values() {
                let snap = asm.snapshot(r);
                let got = (lines_of(&snap, &rows), snap.gaps.clone());
                let want = naive(&rows, r, staleness);
                assert_eq!(got, want, "seed {seed}, run {}", r.id);
                checked.0 += snap.hosts.iter().filter(|h| h.carried_forward).count();
                checked.1 += snap
                    .hosts
                    .iter()
                    .map(|h| h.duplicates_dropped.len())
                    .sum::<usize>();
                checked.2 += snap
                    .gaps
                    .iter()
                    .filter(|g| matches!(g, Gap::OrphanVm { .. }))
                    .count();
                checked.3 += snap
                    .gaps
                    .iter()
                    .filter(|g| matches!(g, Gap::ClusterNode { .. }))
                    .count();
            }
        }
        // The histories exercised what the caches are for.
        let (carried, dropped, orphans, nodes) = checked;
        assert!(
            carried > 100 && dropped > 20 && orphans > 100 && nodes > 100,
            "{checked:?}"
        );
    }
}
