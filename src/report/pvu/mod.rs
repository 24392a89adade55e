//! `hvinv report pvu` (`shared/spec/pvu.md`): capacity and sub-capacity PVU
//! per host and run, the period peak, daily maxima and the gaps.
//!
//! `arith` is the pure arithmetic, `rates` the PVU table (processor → PVU
//! per core), `per_run` turns rows into per-run estates (carry-forward,
//! gaps), `vm_filter` reads `--vms`; this file loads the rows and assembles
//! the report.

pub mod arith;
pub mod per_run;
pub mod rates;
pub mod vm_filter;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use serde::Serialize;

use self::arith::{HostFigures, RunFigures};
use self::per_run::{Assembler, Gap};
use self::rates::{PvuTable, Rate};
use self::vm_filter::VmFilter;
use super::id_map::IdMap;
use super::{ReportError, time};
use crate::store::read::{Guid, HostFacts, OutcomeKey, Reader, Run, VmFacts, VmState};

pub const SCHEMA: &str = "hvinv.pvu/1";
/// A VM holds its processors in these states (pvu.md).
pub const DEFAULT_COUNTED_STATES: [VmState; 2] = [VmState::Running, VmState::Paused];
pub const DEFAULT_PERIOD_DAYS: i64 = 90;
pub const DEFAULT_MAX_STALENESS_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct PvuOptions {
    /// Start of the period (default: `to` − 90 days).
    pub from: Option<DateTime<Utc>>,
    /// End of the period (default: now).
    pub to: Option<DateTime<Utc>>,
    /// `--vms FILE`; without it every VM counts.
    pub vms_file: Option<PathBuf>,
    /// `--pvu-table FILE`; without it the built-in table.
    pub pvu_table: Option<PathBuf>,
    /// States in which a VM counts.
    pub counted_states: Vec<String>,
    /// How old a failed host's last good snapshot may be to stand in for it.
    pub max_staleness: Duration,
}

impl Default for PvuOptions {
    fn default() -> Self {
        PvuOptions {
            from: None,
            to: None,
            vms_file: None,
            pvu_table: None,
            counted_states: DEFAULT_COUNTED_STATES
                .map(|s| s.as_str().to_string())
                .to_vec(),
            max_staleness: Duration::hours(DEFAULT_MAX_STALENESS_HOURS),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvuReport {
    pub schema: &'static str,
    pub period: Period,
    pub counted_states: Vec<String>,
    pub max_staleness_hours: f64,
    /// Where the PVU table came from.
    pub pvu_table: String,
    /// `--vms` summary, or null when every VM counts.
    pub vm_list: Option<VmList>,
    /// False when a gap may hide licensable capacity (see `gaps`).
    pub complete: bool,
    pub incomplete_reasons: Vec<String>,
    pub warnings: Vec<String>,
    pub totals: Totals,
    pub runs: Vec<RunLine>,
    pub hosts: Vec<HostLine>,
    /// What was counted at the sub-capacity peak, host by host.
    pub peak_detail: Vec<PeakHost>,
    pub days: Vec<DayLine>,
    pub gaps: Vec<GapLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    #[serde(with = "time::serde_z")]
    pub from: DateTime<Utc>,
    #[serde(with = "time::serde_z")]
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmList {
    pub source: String,
    pub entries: usize,
    /// Lines that matched no VM in the period.
    pub unmatched: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Peak of the instant sub-capacity totals over the period.
    pub sub_capacity_peak_pvu: i64,
    pub sub_capacity_peak_run: i64,
    #[serde(with = "time::serde_z")]
    pub sub_capacity_peak_at: DateTime<Utc>,
    /// Peak of the instant full-capacity totals over the period.
    pub full_capacity_pvu: i64,
    pub full_capacity_run: i64,
    /// min(full capacity, sub-capacity peak).
    pub entitlement_pvu: i64,
    /// "sub_capacity" or "full_capacity": which of the two is lower.
    pub entitlement_basis: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLine {
    pub id: i64,
    #[serde(with = "time::serde_z")]
    pub started_at: DateTime<Utc>,
    pub hosts: usize,
    /// Addresses whose figures came from an earlier snapshot.
    pub carried_forward: Vec<String>,
    pub gaps: usize,
    pub sub_capacity_pvu: i64,
    pub full_capacity_pvu: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostLine {
    pub host_id: i64,
    pub address: String,
    pub name: Option<String>,
    pub processor_vendor: Option<String>,
    pub processor_model: Option<String>,
    pub sockets: Option<i64>,
    pub cores: i64,
    pub rate: Rate,
    pub full_capacity_pvu: i64,
    pub peak_sub_capacity_cores: i64,
    pub peak_sub_capacity_pvu: i64,
    pub peak_run: i64,
    #[serde(with = "time::serde_z")]
    pub peak_at: DateTime<Utc>,
    pub peak_carried_forward: bool,
    /// Runs of the period in which the host counted (fresh or carried).
    pub runs_counted: usize,
    pub runs_carried_forward: usize,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakHost {
    pub host_id: i64,
    pub address: String,
    pub name: Option<String>,
    pub carried_forward: bool,
    pub snapshot_run: i64,
    pub figures: HostFigures,
    pub vms: Vec<PeakVm>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakVm {
    pub id: Guid,
    pub name: Option<String>,
    pub state: VmState,
    pub vcpus: Option<u32>,
    pub licensable_cores: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayLine {
    pub date: NaiveDate,
    pub runs: usize,
    pub sub_capacity_pvu: i64,
    pub sub_capacity_run: i64,
    pub full_capacity_pvu: i64,
    pub full_capacity_run: i64,
    pub hosts: Vec<DayHost>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayHost {
    pub host_id: i64,
    pub address: String,
    pub name: Option<String>,
    pub pvu_per_core: i64,
    pub rate_row: Option<String>,
    pub cores: i64,
    pub full_capacity_pvu: i64,
    pub sub_capacity_cores: i64,
    pub sub_capacity_pvu: i64,
    pub run: i64,
    pub carried_forward: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapLine {
    /// stale, never_collected, no_facts, cluster_node, orphan_vm
    pub kind: &'static str,
    pub address: Option<String>,
    pub cluster: Option<String>,
    pub node: Option<String>,
    pub vm_guid: Option<Guid>,
    pub last_ok_run: Option<i64>,
    pub first_run: i64,
    pub last_run: i64,
    pub runs: usize,
    /// Whether this gap may hide counted capacity (flags the report).
    pub flags_incomplete: bool,
    pub message: String,
}

/// What one host contributed to one run, kept for tracing.
#[derive(Clone, Copy)]
struct HostRun<'a> {
    address: &'a str,
    facts: &'a HostFacts,
    snapshot_run: i64,
    carried_forward: bool,
    figures: HostFigures,
}

/// A host's counts over the period, gathered in the same pass.
#[derive(Default)]
struct HostAgg<'a> {
    runs_counted: usize,
    runs_carried_forward: usize,
    vcpus_unknown: BTreeSet<&'a str>,
    dropped: BTreeSet<&'a str>,
}

/// The names of every VM state, for messages.
pub fn known_states() -> String {
    VmState::ALL.map(VmState::as_str).join(", ")
}

pub async fn build<'a>(
    db: impl Into<Reader<'a>>,
    opts: PvuOptions,
) -> Result<PvuReport, ReportError> {
    let db = db.into();
    let table = match &opts.pvu_table {
        Some(p) => PvuTable::from_file(p)?,
        None => PvuTable::builtin()?,
    };
    let filter = opts
        .vms_file
        .as_deref()
        .map(VmFilter::from_file)
        .transpose()?;
    if opts.counted_states.is_empty() {
        // Counting nothing would report zero PVU: refuse instead.
        return Err(ReportError::Option(
            "at least one VM state must be counted".into(),
        ));
    }
    for s in &opts.counted_states {
        if VmState::parse(s).is_none() {
            return Err(ReportError::Option(format!(
                "unknown VM state {s:?} (known: {})",
                known_states()
            )));
        }
    }
    if opts.max_staleness < Duration::zero() {
        return Err(ReportError::Option(
            "max staleness must not be negative".into(),
        ));
    }
    // Whole seconds: the period is printed, and nanoseconds only add noise.
    let to = opts.to.unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    let from = opts
        .from
        .unwrap_or_else(|| to - Duration::days(DEFAULT_PERIOD_DAYS));
    if from > to {
        return Err(ReportError::Option(format!(
            "--from {} is after --to {}",
            time::format(&from),
            time::format(&to)
        )));
    }

    let all_runs: BTreeMap<i64, Run> = db
        .complete_runs_between(None, None)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let period: Vec<Run> = all_runs
        .values()
        .filter(|r| r.started_at >= from && r.started_at <= to)
        .cloned()
        .collect();
    let (Some(first), Some(last)) = (period.first(), period.last()) else {
        return Err(ReportError::NoRunInPeriod {
            from: time::format(&from),
            to: time::format(&to),
        });
    };
    // Look back far enough to find snapshots that may be carried forward.
    let window_start = from - opts.max_staleness;
    let lo = all_runs
        .values()
        .find(|r| r.started_at >= window_start)
        .map_or(first.id, |r| r.id.min(first.id));
    let hi = last.id;

    let outcomes: Vec<OutcomeKey> = db
        .outcome_keys_between(lo, hi)
        .await?
        .into_iter()
        .filter(|o| all_runs.contains_key(&o.run_id))
        .collect();
    // Failed addresses with no good snapshot in the window: find their last
    // one before it, to tell "stale since run N" from "never collected".
    let mut ok_addresses: BTreeSet<&str> = BTreeSet::new();
    let mut failed_addresses: BTreeSet<&str> = BTreeSet::new();
    for o in &outcomes {
        if o.ok {
            ok_addresses.insert(&o.address);
        } else {
            failed_addresses.insert(&o.address);
        }
    }
    let mut before_window: HashMap<String, i64> = HashMap::new();
    for a in failed_addresses.difference(&ok_addresses) {
        if let Some(o) = db.last_ok_before(a, lo).await? {
            before_window.insert((*a).to_string(), o.run_id);
        }
    }

    let host_facts = db.host_facts_overlapping(lo, hi).await?;
    let vm_facts = db.vm_facts_overlapping(lo, hi).await?;
    let cluster_facts = db.cluster_facts_overlapping(lo, hi).await?;
    let rows = per_run::Rows {
        runs: &all_runs,
        outcomes: &outcomes,
        host_facts: &host_facts,
        vm_facts: &vm_facts,
        cluster_facts: &cluster_facts,
    };
    let asm = Assembler::new(&rows, opts.max_staleness, &before_window);
    let mut report = compute(&asm, &period, &table, filter.as_ref(), &opts, from, to)?;
    report.pvu_table = table.source_name.clone();
    Ok(report)
}

fn counted(opts: &PvuOptions, filter: Option<&VmFilter>, v: &VmFacts) -> bool {
    opts.counted_states.iter().any(|s| s == v.state.as_str())
        && filter.is_none_or(|f| f.matches(&v.guid, v.bios_guid.as_deref(), v.name.as_deref()))
}

/// Prices every host of every run and assembles the report (no I/O).
fn compute<'a>(
    asm: &Assembler<'a>,
    period: &'a [Run],
    table: &PvuTable,
    filter: Option<&VmFilter>,
    opts: &PvuOptions,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<PvuReport, ReportError> {
    let mut per_run: Vec<RunFigures<i64>> = Vec::new();
    let mut traces: IdMap<(i64, i64), HostRun<'a>> = IdMap::default();
    let mut aggs: BTreeMap<i64, HostAgg<'a>> = BTreeMap::new();
    // Rates per host-facts row and counted-ness per VM-facts row are fixed
    // for the period: computed once, not once per run.
    let mut rates: IdMap<i64, Rate> = IdMap::default();
    let mut counted_rows: IdMap<i64, bool> = IdMap::default();
    let mut gaps: BTreeMap<Gap, Vec<i64>> = BTreeMap::new();
    let mut runs = Vec::new();

    // One run at a time: only the figures stay, not the VM lists.
    for run in period {
        let snap = asm.snapshot(run);
        let mut hosts = Vec::new();
        for h in &snap.hosts {
            let f = h.facts;
            let Some(cores) = f.cores else {
                gaps.entry(Gap::NoFacts {
                    address: h.address.to_string(),
                })
                .or_default()
                .push(snap.run.id);
                continue;
            };
            let pvu_per_core = rates
                .entry(f.id)
                .or_insert_with(|| {
                    table.rate(
                        f.processor_vendor.as_deref(),
                        f.processor_model.as_deref(),
                        f.sockets.map(i64::from),
                    )
                })
                .pvu_per_core;
            let agg = aggs.entry(h.host_id).or_default();
            agg.runs_counted += 1;
            agg.runs_carried_forward += usize::from(h.carried_forward);
            agg.dropped.extend(h.duplicates_dropped.iter().copied());
            let mut vcpus = Vec::new();
            for v in h.vms.iter().copied() {
                let is_counted = *counted_rows
                    .entry(v.id)
                    .or_insert_with(|| counted(opts, filter, v));
                if !is_counted {
                    continue;
                }
                // Unknown vCPUs count as the whole host: never guess low.
                vcpus.push(v.vcpus.unwrap_or_else(|| {
                    agg.vcpus_unknown.insert(v.guid.as_str());
                    cores
                }));
            }
            let figures = arith::host_figures(i64::from(cores), pvu_per_core, &vcpus);
            hosts.push((h.host_id, figures));
            traces.insert(
                (snap.run.id, h.host_id),
                HostRun {
                    address: h.address,
                    facts: h.facts,
                    snapshot_run: h.snapshot_run,
                    carried_forward: h.carried_forward,
                    figures,
                },
            );
        }
        for g in &snap.gaps {
            gaps.entry(g.clone()).or_default().push(snap.run.id);
        }
        let rf = RunFigures {
            run_id: snap.run.id,
            day: snap.run.started_at.date_naive(),
            hosts,
        };
        let t = rf.totals();
        runs.push(RunLine {
            id: snap.run.id,
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
        per_run.push(rf);
    }

    let run_time: HashMap<i64, DateTime<Utc>> =
        period.iter().map(|r| (r.id, r.started_at)).collect();
    let at = |run: i64| run_time.get(&run).copied().unwrap_or(from);

    let peaks = arith::period_peaks(&per_run).ok_or(ReportError::NoRunInPeriod {
        from: time::format(&from),
        to: time::format(&to),
    })?;
    let entitlement = arith::entitlement(peaks.full_capacity.value, peaks.sub_capacity.value);
    let totals = Totals {
        sub_capacity_peak_pvu: peaks.sub_capacity.value,
        sub_capacity_peak_run: peaks.sub_capacity.run_id,
        sub_capacity_peak_at: at(peaks.sub_capacity.run_id),
        full_capacity_pvu: peaks.full_capacity.value,
        full_capacity_run: peaks.full_capacity.run_id,
        entitlement_pvu: entitlement,
        entitlement_basis: if peaks.sub_capacity.value <= peaks.full_capacity.value {
            "sub_capacity"
        } else {
            "full_capacity"
        },
    };

    let mut warnings = BTreeSet::new();
    let mut hosts = Vec::new();
    for (host_id, (fig, run)) in arith::host_peaks(&per_run) {
        let Some(tr) = traces.get(&(run, host_id)) else {
            continue;
        };
        let f = tr.facts;
        let Some(rate) = rates.get(&f.id) else {
            continue;
        };
        let agg = aggs.remove(&host_id).unwrap_or_default();
        let mut notes = Vec::new();
        if rate.unknown_processor {
            notes.push(format!(
                "unknown processor: {} PVU per core applied",
                rate.pvu_per_core
            ));
            warnings.insert(format!(
                "{}: processor matches no PVU table row, {} PVU per core applied",
                tr.address, rate.pvu_per_core
            ));
        }
        if rate.verify {
            notes.push("rate row marked verify".to_string());
            warnings.insert(format!(
                "PVU table row {} is marked for verification against IBM's table",
                rate.row.as_deref().unwrap_or("?")
            ));
        }
        if rate.sockets_unknown {
            notes.push("socket count unknown: highest matching rate applied".to_string());
        }
        if tr.carried_forward {
            notes.push(format!(
                "peak figure carried forward from run {}",
                tr.snapshot_run
            ));
        }
        let unknown = &agg.vcpus_unknown;
        if !unknown.is_empty() {
            notes.push(format!(
                "vCPUs unknown for {} VM(s), counted at the host's cores",
                unknown.len()
            ));
        }
        let dropped = &agg.dropped;
        if !dropped.is_empty() {
            notes.push(format!(
                "{} VM(s) also seen on another host in the same run, counted there",
                dropped.len()
            ));
        }
        hosts.push(HostLine {
            host_id,
            address: tr.address.to_string(),
            name: f.name.clone(),
            processor_vendor: f.processor_vendor.clone(),
            processor_model: f.processor_model.clone(),
            sockets: f.sockets.map(i64::from),
            cores: fig.cores,
            rate: rate.clone(),
            full_capacity_pvu: fig.full_capacity_pvu,
            peak_sub_capacity_cores: fig.sub_capacity_cores,
            peak_sub_capacity_pvu: fig.sub_capacity_pvu,
            peak_run: run,
            peak_at: at(run),
            peak_carried_forward: tr.carried_forward,
            runs_counted: agg.runs_counted,
            runs_carried_forward: agg.runs_carried_forward,
            notes,
        });
    }
    hosts.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));

    // The VM lists of the peak run only: assembled again rather than kept
    // for every run.
    let peak_run = period.iter().find(|r| r.id == peaks.sub_capacity.run_id);
    let peak_snap = peak_run.map(|r| asm.snapshot(r));
    let mut peak_detail: Vec<PeakHost> = peak_snap
        .iter()
        .flat_map(|snap| snap.hosts.iter())
        .filter_map(|h| {
            let t = traces.get(&(peaks.sub_capacity.run_id, h.host_id))?;
            let mut vms: Vec<PeakVm> = h
                .vms
                .iter()
                .filter(|v| counted_rows.get(&v.id).copied().unwrap_or(false))
                .map(|v| PeakVm {
                    id: v.guid.clone(),
                    name: v.name.clone(),
                    state: v.state,
                    vcpus: v.vcpus,
                    // Unknown vCPUs count as the whole host.
                    licensable_cores: match v.vcpus {
                        Some(n) => arith::vm_licensable_cores(n, t.figures.cores),
                        None => t.figures.cores,
                    },
                })
                .collect();
            vms.sort_by(|a, b| a.id.cmp(&b.id));
            Some(PeakHost {
                host_id: h.host_id,
                address: t.address.to_string(),
                name: t.facts.name.clone(),
                carried_forward: t.carried_forward,
                snapshot_run: t.snapshot_run,
                figures: t.figures,
                vms,
            })
        })
        .collect();
    peak_detail.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));

    let days = arith::daily_max(&per_run)
        .into_iter()
        .map(|(date, d)| {
            let mut hosts: Vec<DayHost> = d
                .hosts
                .iter()
                .filter_map(|(host_id, (fig, run))| {
                    let t = traces.get(&(*run, *host_id))?;
                    Some(DayHost {
                        host_id: *host_id,
                        address: t.address.to_string(),
                        name: t.facts.name.clone(),
                        pvu_per_core: fig.pvu_per_core,
                        rate_row: rates.get(&t.facts.id).and_then(|r| r.row.clone()),
                        cores: fig.cores,
                        full_capacity_pvu: fig.full_capacity_pvu,
                        sub_capacity_cores: fig.sub_capacity_cores,
                        sub_capacity_pvu: fig.sub_capacity_pvu,
                        run: *run,
                        carried_forward: t.carried_forward,
                    })
                })
                .collect();
            hosts.sort_by(|a, b| a.address.cmp(&b.address).then(a.host_id.cmp(&b.host_id)));
            DayLine {
                date,
                runs: d.runs,
                sub_capacity_pvu: d.sub_capacity.value,
                sub_capacity_run: d.sub_capacity.run_id,
                full_capacity_pvu: d.full_capacity.value,
                full_capacity_run: d.full_capacity.run_id,
                hosts,
            }
        })
        .collect();

    let gap_lines: Vec<GapLine> = gaps
        .into_iter()
        .map(|(g, runs)| gap_line(g, &runs, filter))
        .collect();
    let mut incomplete_reasons: Vec<String> = gap_lines
        .iter()
        .filter(|g| g.flags_incomplete)
        .map(|g| g.message.clone())
        .collect();
    incomplete_reasons.dedup();

    // Read the filter's matches only after every VM has been tested.
    let vm_list = filter.map(|f| VmList {
        source: f.source.clone(),
        entries: f.len(),
        unmatched: f.unmatched(),
    });
    if let Some(l) = &vm_list {
        for u in &l.unmatched {
            warnings.insert(format!("VM list entry {u:?} matched no VM in the period"));
        }
    }

    Ok(PvuReport {
        schema: SCHEMA,
        period: Period { from, to },
        counted_states: opts.counted_states.clone(),
        max_staleness_hours: opts.max_staleness.num_seconds() as f64 / 3600.0,
        pvu_table: table.source_name.clone(),
        vm_list,
        complete: incomplete_reasons.is_empty(),
        incomplete_reasons,
        warnings: warnings.into_iter().collect(),
        totals,
        runs,
        hosts,
        peak_detail,
        days,
        gaps: gap_lines,
    })
}

fn gap_line(g: Gap, runs: &[i64], filter: Option<&VmFilter>) -> GapLine {
    let first_run = runs.iter().copied().min().unwrap_or_default();
    let last_run = runs.iter().copied().max().unwrap_or_default();
    let span = if first_run == last_run {
        format!("run {first_run}")
    } else {
        format!("runs {first_run}–{last_run} ({} runs)", runs.len())
    };
    let mut line = GapLine {
        kind: "",
        address: None,
        cluster: None,
        node: None,
        vm_guid: None,
        last_ok_run: None,
        first_run,
        last_run,
        runs: runs.len(),
        flags_incomplete: true,
        message: String::new(),
    };
    match g {
        Gap::Stale {
            address,
            last_ok_run,
        } => {
            line.kind = "stale";
            line.message = match last_ok_run {
                Some(r) => format!(
                    "{address}: failed in {span}; last good snapshot (run {r}) is older than the staleness limit"
                ),
                None => format!("{address}: failed in {span}; no good snapshot"),
            };
            line.address = Some(address);
            line.last_ok_run = last_ok_run;
        }
        Gap::NeverCollected { address } => {
            line.kind = "never_collected";
            line.message = format!("{address}: never collected (failed in {span})");
            line.address = Some(address);
        }
        Gap::NoFacts { address } => {
            line.kind = "no_facts";
            line.message = format!("{address}: no host facts or core count in {span}");
            line.address = Some(address);
        }
        Gap::ClusterNode { cluster, node } => {
            line.kind = "cluster_node";
            line.message = format!(
                "cluster {cluster}: node {node} is not among the collected hosts in {span}"
            );
            line.cluster = Some(cluster);
            line.node = Some(node);
        }
        Gap::OrphanVm {
            cluster,
            vm_guid,
            owner_node,
        } => {
            line.kind = "orphan_vm";
            // A VM outside the product list cannot hide product capacity.
            line.flags_incomplete = filter.is_none_or(|f| f.matches(&vm_guid, None, None));
            line.message = format!(
                "cluster {cluster}: VM {vm_guid} (owner {}) is on no collected node in {span}",
                owner_node.as_deref().unwrap_or("unknown")
            );
            line.cluster = Some(cluster);
            line.node = owner_node;
            line.vm_guid = Some(vm_guid);
        }
    }
    line
}
