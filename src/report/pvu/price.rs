//! Pricing every host of every run of the period, one run at a time, folding
//! each run into the peaks as it comes: what stays is per host, per day and
//! per run total, never per host per run (nor the VM lists of every run).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::arith::{self, AtRun, HostFigures, RunFigures};
use super::per_run::{Assembler, Gap, HostAtRun, RunSnapshot, VmList};
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

/// A host's highest sub-capacity figures (the first run reaching them).
pub(super) type HostPeak<'a> = (HostFigures, i64, HostRun<'a>);

/// One UTC day folded: the worst instant totals and each host's own peak.
pub(super) struct DayFold<'a> {
    pub sub_capacity: AtRun,
    pub full_capacity: AtRun,
    pub hosts: IdMap<i64, HostPeak<'a>>,
    pub runs: usize,
}

/// The runs a gap was seen in.
#[derive(Debug, Clone, Copy)]
pub(super) struct GapRuns {
    pub first: i64,
    pub last: i64,
    pub count: usize,
}

/// What the sub-capacity peak run counted: each host's VMs at that run.
pub(super) type PeakRun<'a> = Vec<(i64, VmList<'a>)>;

/// A host's figures for one VM list on one facts row: the same list (the
/// same shared value) on the same row prices the same.
struct PricedList<'a> {
    facts_id: i64,
    vms: VmList<'a>,
    figures: HostFigures,
}

/// Everything one pass over the period leaves behind.
#[derive(Default)]
pub(super) struct Priced<'a> {
    /// The period peaks of the instant totals (`arith::period_peaks`).
    pub sub_capacity: Option<AtRun>,
    pub full_capacity: Option<AtRun>,
    /// Each host's own peak over the period (`arith::host_peaks`).
    pub host_peaks: IdMap<i64, HostPeak<'a>>,
    /// `arith::daily_max`, folded.
    pub days: BTreeMap<NaiveDate, DayFold<'a>>,
    /// Each region's peaks (`regions::regional_peaks`, folded).
    pub regions: BTreeMap<String, (Option<AtRun>, Option<AtRun>)>,
    /// The hosts and VMs of the sub-capacity peak run, and what each priced
    /// host contributed to it.
    pub peak_run: PeakRun<'a>,
    pub peak_traces: IdMap<i64, HostPeak<'a>>,
    pub aggs: IdMap<i64, HostAgg<'a>>,
    /// Rates per host-facts row and counted-ness per VM-facts row are fixed
    /// for the period: computed once, not once per run.
    pub rates: IdMap<i64, Rate>,
    pub counted_rows: IdMap<i64, bool>,
    /// Each host's figures for its last list, reused while it holds.
    last_priced: IdMap<i64, PricedList<'a>>,
    /// Each gap with the runs it was seen in.
    pub gaps: BTreeMap<Gap, GapRuns>,
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

/// Sweeps every run of `window` in order (complete runs, oldest first),
/// pricing those `in_period` says are in the period.
pub(super) fn price_runs<'a>(
    asm: &mut Assembler<'a>,
    window: impl IntoIterator<Item = &'a Run>,
    in_period: impl Fn(&Run) -> bool,
    pricing: &Pricing<'_>,
) -> Priced<'a> {
    let mut priced = Priced::default();
    for run in window {
        if in_period(run) {
            let snap = asm.snapshot(run);
            priced.price_run(&snap, pricing);
        } else {
            asm.look_back(run);
        }
    }
    priced
}

/// `arith::keep_max`: strictly greater, so ties keep the earliest run.
fn keep_max(slot: &mut Option<AtRun>, value: i64, run_id: i64) -> bool {
    let better = slot.is_none_or(|s| value > s.value);
    if better {
        *slot = Some(AtRun { value, run_id });
    }
    better
}

fn keep_max_at(slot: &mut AtRun, value: i64, run_id: i64) {
    if value > slot.value {
        *slot = AtRun { value, run_id };
    }
}

/// `arith::host_peaks` for one more run.
fn keep_host_peak<'a>(peaks: &mut IdMap<i64, HostPeak<'a>>, host: i64, run: i64, t: HostRun<'a>) {
    match peaks.get_mut(&host) {
        Some(slot) if t.figures.sub_capacity_pvu > slot.0.sub_capacity_pvu => {
            *slot = (t.figures, run, t)
        }
        Some(_) => {}
        None => {
            peaks.insert(host, (t.figures, run, t));
        }
    }
}

impl<'a> Priced<'a> {
    fn price_run(&mut self, snap: &RunSnapshot<'a>, pricing: &Pricing<'_>) {
        let run_id = snap.run.id;
        let mut hosts = Vec::new();
        let mut traces = Vec::new();
        for h in &snap.hosts {
            match self.price_host(h, pricing) {
                Some(figures) => {
                    hosts.push((h.host_id, figures));
                    traces.push(HostRun {
                        address: h.address,
                        facts: h.facts,
                        snapshot_run: h.snapshot_run,
                        carried_forward: h.carried_forward,
                        figures,
                    });
                }
                None => self.gap_seen(
                    &Gap::NoFacts {
                        address: h.address.to_string(),
                    },
                    run_id,
                ),
            }
        }
        for g in &snap.gaps {
            self.gap_seen(g, run_id);
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
        self.fold(snap, &rf, traces);
    }

    /// Folds one priced run into the period, host and day peaks.
    fn fold(&mut self, snap: &RunSnapshot<'a>, rf: &RunFigures<i64>, traces: Vec<HostRun<'a>>) {
        let (run_id, t) = (rf.run_id, rf.totals());
        if keep_max(&mut self.sub_capacity, t.sub_capacity_pvu, run_id) {
            // Only the peak run's VM lists are kept (as references).
            self.peak_run = snap
                .hosts
                .iter()
                .map(|h| (h.host_id, h.vms.clone()))
                .collect();
            self.peak_traces = rf
                .hosts
                .iter()
                .zip(&traces)
                .map(|((host, f), tr)| (*host, (*f, run_id, *tr)))
                .collect();
        }
        keep_max(&mut self.full_capacity, t.full_capacity_pvu, run_id);
        // An estate has a handful of regions: a list beats a map here.
        let mut by_region: Vec<(&str, (i64, i64))> = Vec::new();
        for ((_, f), tr) in rf.hosts.iter().zip(&traces) {
            let region = tr.facts.region.as_str();
            let i = match by_region.iter().position(|(r, _)| *r == region) {
                Some(i) => i,
                None => {
                    by_region.push((region, (0, 0)));
                    by_region.len() - 1
                }
            };
            let r = &mut by_region[i].1;
            r.0 = r.0.saturating_add(f.sub_capacity_pvu);
            r.1 = r.1.saturating_add(f.full_capacity_pvu);
        }
        for (region, (sub, full)) in by_region {
            // Looked up by &str first: no allocation per run once known.
            if !self.regions.contains_key(region) {
                self.regions.insert(region.to_string(), Default::default());
            }
            let Some(slot) = self.regions.get_mut(region) else {
                continue;
            };
            keep_max(&mut slot.0, sub, run_id);
            keep_max(&mut slot.1, full, run_id);
        }
        let day = match self.days.entry(rf.day) {
            std::collections::btree_map::Entry::Occupied(e) => {
                let d = e.into_mut();
                keep_max_at(&mut d.sub_capacity, t.sub_capacity_pvu, run_id);
                keep_max_at(&mut d.full_capacity, t.full_capacity_pvu, run_id);
                d.runs += 1;
                d
            }
            std::collections::btree_map::Entry::Vacant(e) => e.insert(DayFold {
                sub_capacity: AtRun {
                    value: t.sub_capacity_pvu,
                    run_id,
                },
                full_capacity: AtRun {
                    value: t.full_capacity_pvu,
                    run_id,
                },
                hosts: IdMap::default(),
                runs: 1,
            }),
        };
        for ((host, _), tr) in rf.hosts.iter().zip(traces) {
            keep_host_peak(&mut day.hosts, *host, run_id, tr);
            keep_host_peak(&mut self.host_peaks, *host, run_id, tr);
        }
    }

    /// The regional peaks as `regions::regional_peaks` gives them.
    pub fn region_peaks(&self) -> BTreeMap<String, super::regions::RegionPeaks> {
        self.regions
            .iter()
            .filter_map(|(region, (sub, full))| {
                Some((
                    region.clone(),
                    super::regions::RegionPeaks {
                        sub_capacity: (*sub)?,
                        full_capacity: (*full)?,
                    },
                ))
            })
            .collect()
    }

    fn gap_seen(&mut self, g: &Gap, run_id: i64) {
        match self.gaps.get_mut(g) {
            Some(r) => {
                r.first = r.first.min(run_id);
                r.last = r.last.max(run_id);
                r.count += 1;
            }
            None => {
                self.gaps.insert(
                    g.clone(),
                    GapRuns {
                        first: run_id,
                        last: run_id,
                        count: 1,
                    },
                );
            }
        }
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
        if let Some(p) = self.last_priced.get(&h.host_id)
            && p.facts_id == h.facts.id
            && std::rc::Rc::ptr_eq(&p.vms, &h.vms)
        {
            return Some(p.figures);
        }
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
        let figures = arith::host_figures(i64::from(cores), pvu_per_core, &vcpus);
        self.last_priced.insert(
            h.host_id,
            PricedList {
                facts_id: h.facts.id,
                vms: h.vms.clone(),
                figures,
            },
        );
        Some(figures)
    }
}
