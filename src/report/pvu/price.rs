//! Pricing every host of every run of the period, one run at a time: only
//! the figures stay, with what is needed to trace a figure back to its host
//! (never the VM lists of every run).

use std::collections::{BTreeMap, BTreeSet};

use super::arith::{self, HostFigures, RunFigures};
use super::per_run::{Assembler, Gap, HostAtRun, RunSnapshot};
use super::rates::{PvuTable, Rate};
use super::vm_filter::VmFilter;
use super::{PvuOptions, RunLine};
use crate::report::id_map::IdMap;
use crate::store::read::{HostFacts, Run, VmFacts};

/// What one host contributed to one run, kept for tracing.
#[derive(Clone, Copy)]
pub(super) struct HostRun<'a> {
    pub address: &'a str,
    pub facts: &'a HostFacts,
    pub snapshot_run: i64,
    pub carried_forward: bool,
    pub figures: HostFigures,
}

/// A host's counts over the period, gathered in the same pass.
#[derive(Default)]
pub(super) struct HostAgg<'a> {
    pub runs_counted: usize,
    pub runs_carried_forward: usize,
    pub vcpus_unknown: BTreeSet<&'a str>,
    pub dropped: BTreeSet<&'a str>,
}

/// Everything one pass over the period leaves behind.
#[derive(Default)]
pub(super) struct Priced<'a> {
    pub per_run: Vec<RunFigures<i64>>,
    /// (run, host) → what the host contributed.
    pub traces: IdMap<(i64, i64), HostRun<'a>>,
    pub aggs: BTreeMap<i64, HostAgg<'a>>,
    /// Rates per host-facts row and counted-ness per VM-facts row are fixed
    /// for the period: computed once, not once per run.
    pub rates: IdMap<i64, Rate>,
    pub counted_rows: IdMap<i64, bool>,
    /// Each gap with the runs it was seen in.
    pub gaps: BTreeMap<Gap, Vec<i64>>,
    pub runs: Vec<RunLine>,
}

/// What decides whether a VM counts, and at what rate a host is priced.
pub(super) struct Pricing<'p> {
    pub table: &'p PvuTable,
    pub filter: Option<&'p VmFilter>,
    pub opts: &'p PvuOptions,
}

impl Pricing<'_> {
    fn counts(&self, v: &VmFacts) -> bool {
        self.opts
            .counted_states
            .iter()
            .any(|s| s == v.vm.state.as_str())
            && self.filter.is_none_or(|f| {
                f.matches(&v.vm.guid, v.vm.bios_guid.as_deref(), v.vm.name.as_deref())
            })
    }
}

/// Prices every run of `period` in order.
pub(super) fn price_runs<'a>(
    asm: &Assembler<'a>,
    period: &'a [Run],
    pricing: &Pricing<'_>,
) -> Priced<'a> {
    let mut priced = Priced::default();
    for run in period {
        let snap = asm.snapshot(run);
        priced.price_run(&snap, pricing);
    }
    priced
}

impl<'a> Priced<'a> {
    fn price_run(&mut self, snap: &RunSnapshot<'a>, pricing: &Pricing<'_>) {
        let run_id = snap.run.id;
        let mut hosts = Vec::new();
        for h in &snap.hosts {
            match self.price_host(h, pricing) {
                Some(figures) => {
                    hosts.push((h.host_id, figures));
                    self.traces.insert(
                        (run_id, h.host_id),
                        HostRun {
                            address: h.address,
                            facts: h.facts,
                            snapshot_run: h.snapshot_run,
                            carried_forward: h.carried_forward,
                            figures,
                        },
                    );
                }
                None => self
                    .gaps
                    .entry(Gap::NoFacts {
                        address: h.address.to_string(),
                    })
                    .or_default()
                    .push(run_id),
            }
        }
        for g in &snap.gaps {
            self.gaps.entry(g.clone()).or_default().push(run_id);
        }
        let rf = RunFigures {
            run_id,
            day: snap.run.started_at.date_naive(),
            hosts,
        };
        let t = rf.totals();
        self.runs.push(RunLine {
            id: run_id,
            started_at: snap.run.started_at,
            hosts: rf.hosts.len(),
            carried_forward: snap
                .hosts
                .iter()
                .filter(|h| h.carried_forward)
                .map(|h| h.address.to_string())
                .collect(),
            gaps: snap.gaps.len(),
            sub_capacity_pvu: t.sub_capacity_pvu,
            full_capacity_pvu: t.full_capacity_pvu,
        });
        self.per_run.push(rf);
    }

    /// One host's figures in one run; `None` without a core count.
    fn price_host(&mut self, h: &HostAtRun<'a>, pricing: &Pricing<'_>) -> Option<HostFigures> {
        let f = &h.facts.host;
        let cores = f.cores?;
        let pvu_per_core = self
            .rates
            .entry(h.facts.id)
            .or_insert_with(|| {
                pricing.table.rate(
                    f.processor_vendor.as_deref(),
                    f.processor_model.as_deref(),
                    f.sockets.map(i64::from),
                )
            })
            .pvu_per_core;
        let agg = self.aggs.entry(h.host_id).or_default();
        agg.runs_counted += 1;
        agg.runs_carried_forward += usize::from(h.carried_forward);
        agg.dropped.extend(h.duplicates_dropped.iter().copied());
        let mut vcpus = Vec::new();
        for v in h.vms.iter().copied() {
            let counted = *self
                .counted_rows
                .entry(v.id)
                .or_insert_with(|| pricing.counts(v));
            if !counted {
                continue;
            }
            // Unknown vCPUs count as the whole host: never guess low.
            vcpus.push(v.vm.vcpus.unwrap_or_else(|| {
                agg.vcpus_unknown.insert(v.vm.guid.as_str());
                cores
            }));
        }
        Some(arith::host_figures(i64::from(cores), pvu_per_core, &vcpus))
    }
}
