//! `hvinv report pvu` (`shared/spec/pvu.md`): capacity and sub-capacity PVU
//! per host and run, the period peak, daily maxima and the gaps.
//!
//! `arith` is the pure arithmetic, `rates` the PVU table (processor → PVU
//! per core), `per_run` turns rows into per-run estates (carry-forward,
//! gaps), `price` prices every host of every run in one pass, `lines` makes
//! the report's lines from that, `vm_filter` reads `--vms`, `products` and
//! `regions` give each product's figures per licence region; this file holds
//! the report's shape, loads the rows and puts the pieces together.

pub mod arith;
mod lines;
pub mod per_run;
mod price;
pub mod products;
pub mod rates;
pub mod regions;
pub mod vm_filter;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use serde::Serialize;

use self::arith::HostFigures;
use self::per_run::Assembler;
use self::price::Pricing;
use self::products::{ProductLine, ProductSpec};
use self::rates::{PvuTable, Rate};
use super::{ReportError, time};
use crate::store::read::{Guid, OutcomeSpan, Reader, Run, VmSnapshot, VmState};

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
    /// `--product NAME=FILE`, repeatable (instead of `--vms`).
    pub products: Vec<(String, PathBuf)>,
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
            products: Vec::new(),
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
    /// The totals of the first product.
    pub totals: Totals,
    /// Every product, its figures per licence region (pvu.md).
    pub products: Vec<ProductLine>,
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
    /// Licence region at the host's peak run.
    pub region: String,
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

/// A VM counted at the peak: the model's snapshot as stored, and what it
/// was counted for. The export shows five of its fields (export.md).
#[derive(Debug, Clone, PartialEq)]
pub struct PeakVm {
    pub vm: VmSnapshot,
    pub licensable_cores: i64,
}

impl Serialize for PeakVm {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = ser.serialize_struct("PeakVm", 5)?;
        m.serialize_field("id", &self.vm.guid)?;
        m.serialize_field("name", &self.vm.name)?;
        m.serialize_field("state", &self.vm.state)?;
        m.serialize_field("vcpus", &self.vm.vcpus)?;
        m.serialize_field("licensable_cores", &self.licensable_cores)?;
        m.end()
    }
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
    pub region: String,
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
    let specs = products::specs(&opts.products, opts.vms_file.as_deref())?;
    let (from, to) = period_of(&opts)?;
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

    let outcomes: Vec<OutcomeSpan> = db.outcome_spans_overlapping(lo, hi).await?;
    let window: Vec<&Run> = all_runs.range(lo..=hi).map(|(_, r)| r).collect();
    let before_window = last_ok_before_window(db, &outcomes, &window, lo).await?;
    let host_facts = db.host_facts_overlapping(lo, hi).await?;
    let vm_facts = db.vm_facts_overlapping(lo, hi).await?;
    let cluster_facts = db.cluster_facts_overlapping(lo, hi).await?;
    let cluster_vms = db.cluster_vm_facts_overlapping(lo, hi).await?;
    let rows = per_run::Rows {
        runs: &all_runs,
        outcomes: &outcomes,
        host_facts: &host_facts,
        vm_facts: &vm_facts,
        cluster_facts: &cluster_facts,
        cluster_vms: &cluster_vms,
    };
    let (first_spec, other_specs) = specs
        .split_first()
        .ok_or_else(|| ReportError::Option("no product to report on".into()))?;
    let pricing = Pricing {
        table: &table,
        filter: first_spec.filter.as_ref(),
        opts: &opts,
    };
    let in_period = |r: &Run| r.started_at >= from && r.started_at <= to;
    let mut asm = Assembler::new(&rows, opts.max_staleness, &before_window);
    let priced = price::price_runs(&mut asm, window.iter().copied(), in_period, &pricing);
    let mut report = compute(priced, &period, &pricing, first_spec, &vm_facts, from, to)?;
    // Each further product is priced on its own (a sweep of its own): other
    // products' VMs do not count toward it, and a VM in two products counts
    // in both.
    for spec in other_specs {
        let pricing = Pricing {
            table: &table,
            filter: spec.filter.as_ref(),
            opts: &opts,
        };
        let mut asm = Assembler::new(&rows, opts.max_staleness, &before_window);
        let priced = price::price_runs(&mut asm, window.iter().copied(), in_period, &pricing);
        let at = run_time_of(&period, from);
        let line = products::product_line(spec, &priced, &vm_facts, at, lines::day_lines(&priced));
        report.warnings.extend(unmatched_warnings(&line));
        report.products.push(line);
    }
    report.warnings.sort();
    report.warnings.dedup();
    Ok(report)
}

/// The start time of each run of the period (`from` for an unknown id).
fn run_time_of(period: &[Run], from: DateTime<Utc>) -> impl Fn(i64) -> DateTime<Utc> + use<> {
    let run_time: HashMap<i64, DateTime<Utc>> =
        period.iter().map(|r| (r.id, r.started_at)).collect();
    move |run: i64| run_time.get(&run).copied().unwrap_or(from)
}

fn unmatched_warnings(p: &ProductLine) -> Vec<String> {
    p.unmatched
        .iter()
        .map(|u| {
            format!(
                "product {:?}: VM list entry {u:?} matched no VM in the period",
                p.name
            )
        })
        .collect()
}

/// Checks the options; the period they give, `[from, to]`.
fn period_of(opts: &PvuOptions) -> Result<(DateTime<Utc>, DateTime<Utc>), ReportError> {
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
    Ok((from, to))
}

/// Failed addresses with no good snapshot in the window: their last one
/// before it, to tell "stale since run N" from "never collected".
async fn last_ok_before_window(
    db: Reader<'_>,
    outcomes: &[OutcomeSpan],
    window: &[&Run],
    lo: i64,
) -> Result<HashMap<String, i64>, ReportError> {
    let mut ok_addresses: BTreeSet<&str> = BTreeSet::new();
    let mut failed_addresses: BTreeSet<&str> = BTreeSet::new();
    for o in outcomes {
        // Only complete runs of the window count, as the sweep sees them.
        let lo_i = window.partition_point(|r| r.id < o.first_run_id);
        if window.get(lo_i).is_none_or(|r| r.id > o.last_run_id) {
            continue;
        }
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
    Ok(before_window)
}

/// Assembles the report from the priced period (no I/O).
#[allow(clippy::too_many_arguments)]
fn compute(
    mut priced: price::Priced<'_>,
    period: &[Run],
    pricing: &Pricing<'_>,
    spec: &ProductSpec,
    vm_facts: &[crate::store::read::VmFacts],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<PvuReport, ReportError> {
    let at = run_time_of(period, from);
    let (Some(sub_capacity), Some(full_capacity)) = (priced.sub_capacity, priced.full_capacity)
    else {
        return Err(ReportError::NoRunInPeriod {
            from: time::format(&from),
            to: time::format(&to),
        });
    };
    let peaks = arith::PeriodPeaks {
        sub_capacity,
        full_capacity,
    };
    let totals = totals(&peaks, at(peaks.sub_capacity.run_id));
    let mut warnings = BTreeSet::new();
    let hosts = lines::host_lines(&mut priced, &at, &mut warnings);
    let peak_detail = lines::peak_detail(&priced);
    let days = lines::day_lines(&priced);
    let product = products::product_line(spec, &priced, vm_facts, &at, days.clone());
    let gaps = std::mem::take(&mut priced.gaps);
    let (gaps, incomplete_reasons) = lines::gap_lines(gaps, pricing.filter);
    // Read the filter's matches only after every VM has been tested.
    let vm_list = pricing.filter.map(|f| VmList {
        source: f.source.clone(),
        entries: f.len(),
        unmatched: f.unmatched(),
    });
    if let Some(l) = &vm_list {
        for u in &l.unmatched {
            warnings.insert(format!("VM list entry {u:?} matched no VM in the period"));
        }
    }
    let opts = pricing.opts;
    Ok(PvuReport {
        schema: SCHEMA,
        period: Period { from, to },
        counted_states: opts.counted_states.clone(),
        max_staleness_hours: opts.max_staleness.num_seconds() as f64 / 3600.0,
        pvu_table: pricing.table.source_name.clone(),
        vm_list,
        complete: incomplete_reasons.is_empty(),
        incomplete_reasons,
        warnings: warnings.into_iter().collect(),
        totals,
        products: vec![product],
        runs: priced.runs,
        hosts,
        peak_detail,
        days,
        gaps,
    })
}

fn totals(peaks: &arith::PeriodPeaks, sub_capacity_peak_at: DateTime<Utc>) -> Totals {
    Totals {
        sub_capacity_peak_pvu: peaks.sub_capacity.value,
        sub_capacity_peak_run: peaks.sub_capacity.run_id,
        sub_capacity_peak_at,
        full_capacity_pvu: peaks.full_capacity.value,
        full_capacity_run: peaks.full_capacity.run_id,
        entitlement_pvu: arith::entitlement(peaks.full_capacity.value, peaks.sub_capacity.value),
        entitlement_basis: if peaks.sub_capacity.value <= peaks.full_capacity.value {
            "sub_capacity"
        } else {
            "full_capacity"
        },
    }
}

#[cfg(test)]
mod peak_vm_tests {
    use super::*;

    #[test]
    fn a_peak_vm_exports_its_five_fields_in_order_and_nothing_else_of_the_snapshot() {
        let vm = VmSnapshot {
            guid: Guid::parse("{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}").unwrap(),
            name: Some("db2-prod".into()),
            state: VmState::Running,
            vcpus: Some(4),
            memory_mb: Some(8192),
            ..Default::default()
        };
        let json = serde_json::to_string(&PeakVm {
            vm,
            licensable_cores: 4,
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"id":"0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0","name":"db2-prod","state":"running","vcpus":4,"licensable_cores":4}"#
        );
    }
}
