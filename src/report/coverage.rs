//! `hvinv report coverage` (`shared/spec/audit.md`): evidence that every
//! configured address was collected, run by run, that every cluster node
//! was, and that the half-hourly cadence IBM's sub-capacity rules ask for
//! held. `compute` is pure; the table and CSV are in `format::coverage`.

mod clusters;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;

use super::{ReportError, time};
#[cfg(test)]
use crate::store::read::Outcome;
use crate::store::read::{OutcomeSpan, Reader, Run};

pub use clusters::ClusterLine;

pub const SCHEMA: &str = "hvinv.coverage/1";
/// IBM: collect every 30 minutes; 5 minutes of slack for a run's own length.
pub const CADENCE_MINUTES: i64 = 30;
pub const SLACK_MINUTES: i64 = 5;
pub const DEFAULT_PERIOD_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub schema: &'static str,
    pub period: super::pvu::Period,
    pub cadence_minutes: i64,
    pub slack_minutes: i64,
    /// Every address OK in every run it was configured in, every cluster
    /// node collected, and no cadence break.
    pub complete: bool,
    pub addresses: Vec<AddressLine>,
    pub runs: Vec<RunLine>,
    pub cadence_breaks: Vec<CadenceBreak>,
    pub clusters: Vec<ClusterLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressLine {
    pub address: String,
    pub runs_ok: usize,
    pub runs_failed: usize,
    /// Error kind → runs that failed with it.
    pub error_kinds: BTreeMap<String, usize>,
    /// Runs of the period in which the address was not in the configuration.
    pub runs_absent: usize,
    pub first_ok_run: Option<i64>,
    pub last_ok_run: Option<i64>,
    /// The longest time between two consecutive OK runs, with those runs.
    pub longest_ok_gap_minutes: Option<i64>,
    pub longest_ok_gap_from_run: Option<i64>,
    pub longest_ok_gap_to_run: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLine {
    pub id: i64,
    #[serde(with = "time::serde_z")]
    pub started_at: DateTime<Utc>,
    pub status: &'static str,
    pub hosts_ok: usize,
    pub hosts_failed: usize,
    /// The previous complete run, and the minutes since it started.
    pub previous_complete_run: Option<i64>,
    pub minutes_since_previous: Option<i64>,
    /// Within 30 + 5 minutes of the previous complete run (null: no previous).
    pub within_cadence: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CadenceBreak {
    pub after_run: i64,
    #[serde(with = "time::serde_z")]
    pub after_at: DateTime<Utc>,
    pub next_run: i64,
    #[serde(with = "time::serde_z")]
    pub next_at: DateTime<Utc>,
    pub minutes: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoverageOptions {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub async fn build<'a>(
    db: impl Into<Reader<'a>>,
    opts: CoverageOptions,
) -> Result<CoverageReport, ReportError> {
    let db = db.into();
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
    let runs = db.runs_between(Some(from), Some(to)).await?;
    if runs.is_empty() {
        return Err(ReportError::NoRunInPeriod {
            from: time::format(&from),
            to: time::format(&to),
        });
    }
    // Spans, not outcomes run by run: a quarter of half-hourly runs over
    // 1,000 hosts is millions of outcomes but about one span per address.
    let (lo, hi) = id_range(&runs);
    let spans = db.outcome_spans_overlapping(lo, hi).await?;
    let clusters = cluster_lines(&db, &runs, &spans).await?;
    Ok(compute_spans(&runs, &spans, clusters, from, to))
}

/// The lowest and highest run id of the period (0, 0 when it has none).
fn id_range(runs: &[Run]) -> (i64, i64) {
    let ids = runs.iter().map(|r| r.id);
    (ids.clone().min().unwrap_or(0), ids.max().unwrap_or(0))
}

/// The clusters of the period from the fact and outcome intervals meeting it.
async fn cluster_lines(
    db: &Reader<'_>,
    runs: &[Run],
    spans: &[OutcomeSpan],
) -> Result<Vec<ClusterLine>, ReportError> {
    let period = clusters::PeriodRuns::new(runs.iter().map(|r| r.id).collect());
    let (lo, hi) = id_range(runs);
    let cluster_facts = db.cluster_facts_overlapping(lo, hi).await?;
    if cluster_facts.is_empty() {
        return Ok(Vec::new());
    }
    let host_facts = db.host_facts_overlapping(lo, hi).await?;
    Ok(clusters::lines(&period, spans, &host_facts, &cluster_facts))
}

/// How one address ended in one run of the period.
#[derive(Debug, Clone, Copy)]
struct Seen<'a> {
    run_id: i64,
    ok: bool,
    error_kind: Option<&'a str>,
}

/// OK / failed outcomes per run.
type PerRun = BTreeMap<i64, (usize, usize)>;

fn count(per_run: &mut PerRun, s: &Seen<'_>) {
    let c = per_run.entry(s.run_id).or_default();
    if s.ok {
        c.0 += 1;
    } else {
        c.1 += 1;
    }
}

/// The report from the period's runs (by start), their outcomes run by run
/// and the period's cluster lines: the reference `compute_spans` matches
/// (tests only: `build` reads spans).
#[cfg(test)]
pub fn compute(
    runs: &[Run],
    outcomes: &[Outcome],
    clusters: Vec<ClusterLine>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoverageReport {
    let start: BTreeMap<i64, DateTime<Utc>> = runs.iter().map(|r| (r.id, r.started_at)).collect();
    let mut by_address: BTreeMap<&str, Vec<Seen<'_>>> = BTreeMap::new();
    let mut per_run = PerRun::new();
    for o in outcomes.iter().filter(|o| start.contains_key(&o.run_id)) {
        let s = Seen {
            run_id: o.run_id,
            ok: o.ok,
            error_kind: o.error_kind.as_deref(),
        };
        count(&mut per_run, &s);
        by_address.entry(&o.address).or_default().push(s);
    }
    let addresses: Vec<AddressLine> = by_address
        .into_iter()
        .map(|(a, os)| address_line(a, &os, runs.len(), &start))
        .collect();
    assemble(runs, addresses, &per_run, clusters, from, to)
}

/// As `compute`, from outcome spans: each address's runs are expanded in
/// turn and dropped, so memory follows addresses and runs, not their
/// product.
pub fn compute_spans(
    runs: &[Run],
    spans: &[OutcomeSpan],
    clusters: Vec<ClusterLine>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoverageReport {
    let start: BTreeMap<i64, DateTime<Utc>> = runs.iter().map(|r| (r.id, r.started_at)).collect();
    // Ids, not starts, bound a span: the period's ids in ascending order.
    let ids: Vec<i64> = start.keys().copied().collect();
    let mut sorted: Vec<&OutcomeSpan> = spans.iter().collect();
    sorted.sort_by(|a, b| a.address.cmp(&b.address));
    let mut per_run = PerRun::new();
    let mut addresses = Vec::new();
    let mut seen: Vec<Seen<'_>> = Vec::new();
    for group in sorted.chunk_by(|a, b| a.address == b.address) {
        seen.clear();
        for sp in group {
            let lo = ids.partition_point(|&r| r < sp.first_run_id);
            let hi = ids.partition_point(|&r| r <= sp.last_run_id);
            for &run_id in ids.get(lo..hi).unwrap_or_default() {
                let s = Seen {
                    run_id,
                    ok: sp.ok,
                    error_kind: sp.error_kind.as_deref(),
                };
                count(&mut per_run, &s);
                seen.push(s);
            }
        }
        if let (false, Some(first)) = (seen.is_empty(), group.first()) {
            addresses.push(address_line(&first.address, &seen, runs.len(), &start));
        }
    }
    assemble(runs, addresses, &per_run, clusters, from, to)
}

fn assemble(
    runs: &[Run],
    addresses: Vec<AddressLine>,
    per_run: &PerRun,
    clusters: Vec<ClusterLine>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoverageReport {
    let (run_lines, cadence_breaks) = cadence(runs, per_run);
    let complete = cadence_breaks.is_empty()
        && addresses.iter().all(|a| a.runs_failed == 0)
        && runs.iter().all(Run::is_complete)
        && clusters.iter().all(|c| c.nodes_never_collected.is_empty());
    CoverageReport {
        schema: SCHEMA,
        period: super::pvu::Period { from, to },
        cadence_minutes: CADENCE_MINUTES,
        slack_minutes: SLACK_MINUTES,
        complete,
        addresses,
        runs: run_lines,
        cadence_breaks,
        clusters,
    }
}

fn address_line(
    address: &str,
    outcomes: &[Seen<'_>],
    runs_in_period: usize,
    start: &BTreeMap<i64, DateTime<Utc>>,
) -> AddressLine {
    let seen: BTreeSet<i64> = outcomes.iter().map(|o| o.run_id).collect();
    let mut ok_runs: Vec<i64> = outcomes.iter().filter(|o| o.ok).map(|o| o.run_id).collect();
    ok_runs.sort_by_key(|id| (start.get(id).copied(), *id));
    ok_runs.dedup();
    let mut error_kinds = BTreeMap::new();
    for o in outcomes.iter().filter(|o| !o.ok) {
        let kind = o.error_kind.unwrap_or("unknown");
        *error_kinds.entry(kind.to_string()).or_insert(0) += 1;
    }
    let mut longest: Option<(i64, i64, i64)> = None;
    for w in ok_runs.windows(2) {
        if let (Some(a), Some(b)) = (start.get(&w[0]), start.get(&w[1])) {
            let minutes = (*b - *a).num_minutes();
            // Strictly longer: ties keep the earliest gap.
            if longest.is_none_or(|(m, _, _)| minutes > m) {
                longest = Some((minutes, w[0], w[1]));
            }
        }
    }
    AddressLine {
        address: address.to_string(),
        runs_ok: ok_runs.len(),
        runs_failed: outcomes.iter().filter(|o| !o.ok).count(),
        error_kinds,
        runs_absent: runs_in_period.saturating_sub(seen.len()),
        first_ok_run: ok_runs.first().copied(),
        last_ok_run: ok_runs.last().copied(),
        longest_ok_gap_minutes: longest.map(|l| l.0),
        longest_ok_gap_from_run: longest.map(|l| l.1),
        longest_ok_gap_to_run: longest.map(|l| l.2),
    }
}

/// Each run against the previous complete one; the breaks of the cadence.
fn cadence(runs: &[Run], per_run: &PerRun) -> (Vec<RunLine>, Vec<CadenceBreak>) {
    let limit = CADENCE_MINUTES + SLACK_MINUTES;
    let mut lines = Vec::new();
    let mut breaks = Vec::new();
    let mut previous: Option<&Run> = None;
    for r in runs {
        let since = previous.map(|p| (r.started_at - p.started_at).num_minutes());
        // Seconds decide: 35 min 30 s is late even though it floors to 35.
        let within = previous.map(|p| r.started_at - p.started_at <= Duration::minutes(limit));
        if let (Some(p), Some(false), true) = (previous, within, r.is_complete()) {
            breaks.push(CadenceBreak {
                after_run: p.id,
                after_at: p.started_at,
                next_run: r.id,
                next_at: r.started_at,
                minutes: since.unwrap_or_default(),
            });
        }
        let (ok, failed) = per_run.get(&r.id).copied().unwrap_or_default();
        lines.push(RunLine {
            id: r.id,
            started_at: r.started_at,
            status: r.status.as_str(),
            hosts_ok: ok,
            hosts_failed: failed,
            previous_complete_run: previous.map(|p| p.id),
            minutes_since_previous: since,
            within_cadence: within,
        });
        if r.is_complete() {
            previous = Some(r);
        }
    }
    (lines, breaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunStatus;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn run(id: i64, at: &str, status: RunStatus) -> Run {
        Run {
            id,
            started_at: t(at),
            finished_at: None,
            status,
            hvinv_version: "test".into(),
            hosts_total: 0,
            hosts_ok: 0,
            hosts_failed: 0,
        }
    }

    fn out(run_id: i64, address: &str, kind: Option<&str>) -> Outcome {
        Outcome {
            run_id,
            address: address.into(),
            host_id: None,
            ok: kind.is_none(),
            error_kind: kind.map(str::to_string),
            error_message: None,
            warnings: vec![],
            finished_at: t("2026-11-01T00:00:00Z"),
        }
    }

    #[test]
    fn addresses_runs_and_cadence_breaks_by_hand() {
        // Runs: 1 at 00:00, 2 at 00:30, 3 at 01:40 (70 min: a break),
        // 4 at 02:05 interrupted, 5 at 02:14 (34 min after run 3: on time).
        // hv01 OK in 1, 2, 3, 5 (absent from 4): longest OK gap 1→… the
        // 70 minutes from run 2 to run 3. hv02 OK in 1, failed (timeout) in
        // 2, failed (auth) in 3, OK in 5: longest OK gap run 1 → run 5,
        // 134 minutes. hv03 only in run 5 (added then): absent 4 runs.
        let runs = vec![
            run(1, "2026-11-01T00:00:00Z", RunStatus::Complete),
            run(2, "2026-11-01T00:30:00Z", RunStatus::Complete),
            run(3, "2026-11-01T01:40:00Z", RunStatus::Complete),
            run(4, "2026-11-01T02:05:00Z", RunStatus::Interrupted),
            run(5, "2026-11-01T02:14:00Z", RunStatus::Complete),
        ];
        let outcomes = vec![
            out(1, "hv01", None),
            out(2, "hv01", None),
            out(3, "hv01", None),
            out(5, "hv01", None),
            out(1, "hv02", None),
            out(2, "hv02", Some("timeout")),
            out(3, "hv02", Some("auth")),
            out(5, "hv02", None),
            out(5, "hv03", None),
        ];
        let r = compute(
            &runs,
            &outcomes,
            vec![],
            t("2026-11-01T00:00:00Z"),
            t("2026-11-02T00:00:00Z"),
        );
        assert!(!r.complete);
        let hv01 = &r.addresses[0];
        assert_eq!(
            (hv01.runs_ok, hv01.runs_failed, hv01.runs_absent),
            (4, 0, 1)
        );
        assert_eq!(
            (
                hv01.longest_ok_gap_minutes,
                hv01.longest_ok_gap_from_run,
                hv01.longest_ok_gap_to_run
            ),
            (Some(70), Some(2), Some(3))
        );
        let hv02 = &r.addresses[1];
        assert_eq!(
            (hv02.runs_ok, hv02.runs_failed, hv02.runs_absent),
            (2, 2, 1)
        );
        assert_eq!(hv02.error_kinds.get("timeout"), Some(&1));
        assert_eq!(hv02.error_kinds.get("auth"), Some(&1));
        assert_eq!(hv02.longest_ok_gap_minutes, Some(134));
        assert_eq!((hv02.first_ok_run, hv02.last_ok_run), (Some(1), Some(5)));
        let hv03 = &r.addresses[2];
        assert_eq!((hv03.runs_ok, hv03.runs_absent), (1, 4));
        assert_eq!(hv03.longest_ok_gap_minutes, None);
        // Cadence: run 3 is 70 minutes after run 2; run 5 is measured from
        // run 3 (run 4 was interrupted): 34 minutes, on time.
        assert_eq!(r.cadence_breaks.len(), 1);
        assert_eq!(
            (
                r.cadence_breaks[0].after_run,
                r.cadence_breaks[0].next_run,
                r.cadence_breaks[0].minutes
            ),
            (2, 3, 70)
        );
        let r5 = r.runs.iter().find(|x| x.id == 5).unwrap();
        assert_eq!(
            (
                r5.previous_complete_run,
                r5.minutes_since_previous,
                r5.within_cadence
            ),
            (Some(3), Some(34), Some(true))
        );
        assert_eq!((r5.hosts_ok, r5.hosts_failed), (3, 0));
        assert_eq!(r.runs[0].within_cadence, None);
    }

    #[test]
    fn spans_give_the_same_report_as_outcomes_run_by_run() {
        // A generated history: 6 addresses over runs 1..=60 (ids 7 and 20
        // pruned away, every 9th run interrupted, starts 30-40 minutes
        // apart), each address OK, failed (two kinds) or absent per run
        // from a fixed pseudo-random sequence. The period ends before run
        // 60, which spans still reach into.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let ids: Vec<i64> = (1..=60).filter(|i| *i != 7 && *i != 20).collect();
        let mut at = t("2026-11-01T00:00:00Z");
        let mut all_runs = Vec::new();
        for &id in &ids {
            let status = if id % 9 == 0 {
                RunStatus::Interrupted
            } else {
                RunStatus::Complete
            };
            all_runs.push(Run {
                started_at: at,
                ..run(id, "2026-11-01T00:00:00Z", status)
            });
            at += Duration::minutes(30 + next(11) as i64);
        }
        let mut outcomes = Vec::new();
        let mut spans: Vec<OutcomeSpan> = Vec::new();
        for a in 0..6 {
            let address = format!("hv{a:02}");
            let mut open: Option<OutcomeSpan> = None;
            for &id in &ids {
                let kind = match next(10) {
                    0..=5 => Some(None),
                    6 => Some(Some("timeout")),
                    7 => Some(Some("auth")),
                    _ => None,
                };
                let Some(kind) = kind else {
                    spans.extend(open.take());
                    continue;
                };
                outcomes.push(out(id, &address, kind));
                match &mut open {
                    Some(s) if s.error_kind.as_deref() == kind => s.last_run_id = id,
                    _ => {
                        spans.extend(open.take());
                        open = Some(OutcomeSpan {
                            address: address.clone(),
                            first_run_id: id,
                            last_run_id: id,
                            host_id: None,
                            ok: kind.is_none(),
                            error_kind: kind.map(str::to_string),
                        });
                    }
                }
            }
            spans.extend(open);
        }
        let period = &all_runs[..all_runs.len() - 1];
        let (from, to) = (
            t("2026-11-01T00:00:00Z"),
            period[period.len() - 1].started_at,
        );
        let by_run = compute(period, &outcomes, vec![], from, to);
        spans.reverse(); // any order in, the same report out
        let by_span = compute_spans(period, &spans, vec![], from, to);
        assert_eq!(by_span, by_run);
        // The history is not trivial: failures, absences and breaks occur.
        assert!(by_run.addresses.iter().any(|a| a.runs_failed > 0));
        assert!(by_run.addresses.iter().any(|a| a.runs_absent > 0));
        assert!(!by_run.cadence_breaks.is_empty());
    }

    #[test]
    fn thirty_five_minutes_is_on_time_and_a_second_more_is_late() {
        let runs = vec![
            run(1, "2026-11-01T00:00:00Z", RunStatus::Complete),
            run(2, "2026-11-01T00:35:00Z", RunStatus::Complete),
            run(3, "2026-11-01T01:10:01Z", RunStatus::Complete),
        ];
        let r = compute(
            &runs,
            &[],
            vec![],
            t("2026-11-01T00:00:00Z"),
            t("2026-11-02T00:00:00Z"),
        );
        assert_eq!(r.runs[1].within_cadence, Some(true));
        assert_eq!(r.runs[2].within_cadence, Some(false));
        assert_eq!(r.cadence_breaks.len(), 1);
        assert_eq!(r.cadence_breaks[0].next_run, 3);
    }
}
