//! PVU arithmetic (`shared/spec/pvu.md`), pure: no SQL, no I/O. Every
//! figure of the report comes out of these functions.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// One host at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HostFigures {
    /// Physical cores C(h).
    pub cores: i64,
    /// Rate P(h).
    pub pvu_per_core: i64,
    /// C(h) × P(h).
    pub full_capacity_pvu: i64,
    /// Σ min(vCPU(v), C(h)) over counted VMs (before the host cap).
    pub licensable_cores: i64,
    /// min(Σ licensable cores, C(h)).
    pub sub_capacity_cores: i64,
    /// sub_capacity_cores × P(h).
    pub sub_capacity_pvu: i64,
    /// Counted VMs on the host.
    pub counted_vms: i64,
}

/// A VM's licensable cores: its vCPUs, never more than the host's cores.
pub fn vm_licensable_cores(vcpus: u32, host_cores: i64) -> i64 {
    i64::from(vcpus).min(host_cores.max(0))
}

/// Figures for one host from its cores, rate and counted VMs' vCPUs.
pub fn host_figures(cores: i64, pvu_per_core: i64, vcpus: &[u32]) -> HostFigures {
    let cores = cores.max(0);
    let pvu_per_core = pvu_per_core.max(0);
    // Saturating: absurd stored values must give a huge figure, not a panic.
    let licensable_cores = vcpus
        .iter()
        .map(|&v| vm_licensable_cores(v, cores))
        .fold(0i64, i64::saturating_add);
    let sub_capacity_cores = licensable_cores.min(cores);
    HostFigures {
        cores,
        pvu_per_core,
        full_capacity_pvu: cores.saturating_mul(pvu_per_core),
        licensable_cores,
        sub_capacity_cores,
        sub_capacity_pvu: sub_capacity_cores.saturating_mul(pvu_per_core),
        counted_vms: vcpus.len() as i64,
    }
}

/// Instant totals: Σ over hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub full_capacity_pvu: i64,
    pub sub_capacity_pvu: i64,
}

pub fn instant_totals<'a>(hosts: impl IntoIterator<Item = &'a HostFigures>) -> Totals {
    hosts.into_iter().fold(Totals::default(), |t, h| Totals {
        full_capacity_pvu: t.full_capacity_pvu.saturating_add(h.full_capacity_pvu),
        sub_capacity_pvu: t.sub_capacity_pvu.saturating_add(h.sub_capacity_pvu),
    })
}

/// One run as the period arithmetic sees it: hosts keyed by `K`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFigures<K> {
    pub run_id: i64,
    pub day: NaiveDate,
    pub hosts: Vec<(K, HostFigures)>,
}

impl<K> RunFigures<K> {
    pub fn totals(&self) -> Totals {
        instant_totals(self.hosts.iter().map(|(_, f)| f))
    }
}

/// A maximum and the (first) run at which it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AtRun {
    pub value: i64,
    pub run_id: i64,
}

fn keep_max(slot: &mut Option<AtRun>, value: i64, run_id: i64) {
    // Strictly greater keeps the earliest run on ties, so the choice is
    // deterministic and traceable.
    if slot.is_none_or(|s| value > s.value) {
        *slot = Some(AtRun { value, run_id });
    }
}

/// The period peaks: maxima of the *instant totals* over the runs, never a
/// sum of per-host maxima (a VM that moved between runs counts once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodPeaks {
    pub sub_capacity: AtRun,
    pub full_capacity: AtRun,
}

pub fn period_peaks<K>(runs: &[RunFigures<K>]) -> Option<PeriodPeaks> {
    let mut sub = None;
    let mut full = None;
    for r in runs {
        let t = r.totals();
        keep_max(&mut sub, t.sub_capacity_pvu, r.run_id);
        keep_max(&mut full, t.full_capacity_pvu, r.run_id);
    }
    Some(PeriodPeaks {
        sub_capacity: sub?,
        full_capacity: full?,
    })
}

/// Each host's own peak sub-capacity figures and the run where it happened.
pub fn host_peaks<K: Ord + Clone>(runs: &[RunFigures<K>]) -> BTreeMap<K, (HostFigures, i64)> {
    let mut peaks: BTreeMap<K, (HostFigures, i64)> = BTreeMap::new();
    for r in runs {
        for (k, f) in &r.hosts {
            match peaks.get_mut(k) {
                Some(slot) if f.sub_capacity_pvu > slot.0.sub_capacity_pvu => {
                    *slot = (*f, r.run_id)
                }
                Some(_) => {}
                None => {
                    peaks.insert(k.clone(), (*f, r.run_id));
                }
            }
        }
    }
    peaks
}

/// One UTC day: the maximum instant totals (and runs), and each host's own
/// maximum that day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFigures<K> {
    pub sub_capacity: AtRun,
    pub full_capacity: AtRun,
    pub hosts: BTreeMap<K, (HostFigures, i64)>,
    pub runs: usize,
}

pub fn daily_max<K: Ord + Clone>(runs: &[RunFigures<K>]) -> BTreeMap<NaiveDate, DayFigures<K>> {
    let mut by_day: BTreeMap<NaiveDate, Vec<&RunFigures<K>>> = BTreeMap::new();
    for r in runs {
        by_day.entry(r.day).or_default().push(r);
    }
    let mut days = BTreeMap::new();
    for (day, rs) in by_day {
        let (mut sub, mut full) = (None, None);
        for r in &rs {
            let t = r.totals();
            keep_max(&mut sub, t.sub_capacity_pvu, r.run_id);
            keep_max(&mut full, t.full_capacity_pvu, r.run_id);
        }
        let owned: Vec<RunFigures<K>> = rs.iter().map(|r| (*r).clone()).collect();
        if let (Some(sub_capacity), Some(full_capacity)) = (sub, full) {
            days.insert(
                day,
                DayFigures {
                    sub_capacity,
                    full_capacity,
                    hosts: host_peaks(&owned),
                    runs: rs.len(),
                },
            );
        }
    }
    days
}

/// Entitlement needed: the lower of full capacity and the sub-capacity peak
/// (the two are never added).
pub fn entitlement(full_capacity_pvu: i64, sub_capacity_peak_pvu: i64) -> i64 {
    full_capacity_pvu.min(sub_capacity_peak_pvu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn vm_with_more_vcpus_than_host_cores_is_capped_at_the_cores() {
        // 8-core host at 70: a 12-vCPU VM licenses 8 cores = 560 PVU,
        // the same as full capacity 8 × 70 = 560.
        let f = host_figures(8, 70, &[12]);
        assert_eq!(f.licensable_cores, 8);
        assert_eq!(f.sub_capacity_cores, 8);
        assert_eq!(f.sub_capacity_pvu, 560);
        assert_eq!(f.full_capacity_pvu, 560);
    }

    #[test]
    fn vms_whose_sum_exceeds_the_host_are_capped_at_the_host() {
        // 16 cores at 100: VMs 8 + 6 + 4 = 18 licensable cores > 16, so
        // 16 cores × 100 = 1600 PVU (not 1800).
        let f = host_figures(16, 100, &[8, 6, 4]);
        assert_eq!(f.licensable_cores, 18);
        assert_eq!(f.sub_capacity_cores, 16);
        assert_eq!(f.sub_capacity_pvu, 1600);
        assert_eq!(f.counted_vms, 3);
    }

    #[test]
    fn under_committed_host_pays_only_for_vcpus() {
        // 40 cores at 70, VMs 4 + 2 = 6 cores → 420 PVU; full 2800.
        let f = host_figures(40, 70, &[4, 2]);
        assert_eq!((f.sub_capacity_pvu, f.full_capacity_pvu), (420, 2800));
    }

    #[test]
    fn negative_or_huge_values_do_not_panic() {
        let f = host_figures(-4, 70, &[2, 3]);
        assert_eq!(f.sub_capacity_pvu, 0);
        let g = host_figures(i64::MAX, i64::MAX, &[u32::MAX, u32::MAX]);
        assert_eq!(g.full_capacity_pvu, i64::MAX);
    }

    #[test]
    fn migrated_vm_is_not_double_counted_in_the_period_peak() {
        // Hosts A and B, 16 cores at 70 each. An 8-vCPU VM runs on A in
        // run 1 and on B in run 2. Each run: 8 × 70 = 560. The peak is 560;
        // summing per-host peaks would give 1120.
        let runs = vec![
            RunFigures {
                run_id: 1,
                day: day(1),
                hosts: vec![
                    ("A", host_figures(16, 70, &[8])),
                    ("B", host_figures(16, 70, &[])),
                ],
            },
            RunFigures {
                run_id: 2,
                day: day(1),
                hosts: vec![
                    ("A", host_figures(16, 70, &[])),
                    ("B", host_figures(16, 70, &[8])),
                ],
            },
        ];
        let p = period_peaks(&runs).unwrap();
        assert_eq!(
            p.sub_capacity,
            AtRun {
                value: 560,
                run_id: 1
            }
        );
        assert_eq!(p.full_capacity.value, 2 * 16 * 70);
        let hp = host_peaks(&runs);
        assert_eq!(hp["A"].0.sub_capacity_pvu, 560);
        assert_eq!(hp["A"].1, 1);
        assert_eq!(hp["B"].1, 2);
        let sum_of_host_peaks: i64 = hp.values().map(|(f, _)| f.sub_capacity_pvu).sum();
        assert_eq!(
            sum_of_host_peaks, 1120,
            "the naive figure this guards against"
        );
    }

    #[test]
    fn daily_max_takes_the_worst_run_of_each_utc_day() {
        // Day 1: runs 560 then 700; day 2: 140. Period peak 700 at run 2.
        let runs = vec![
            RunFigures {
                run_id: 1,
                day: day(1),
                hosts: vec![(1, host_figures(16, 70, &[8]))],
            },
            RunFigures {
                run_id: 2,
                day: day(1),
                hosts: vec![(1, host_figures(16, 70, &[10]))],
            },
            RunFigures {
                run_id: 3,
                day: day(2),
                hosts: vec![(1, host_figures(16, 70, &[2]))],
            },
        ];
        let d = daily_max(&runs);
        assert_eq!(
            d[&day(1)].sub_capacity,
            AtRun {
                value: 700,
                run_id: 2
            }
        );
        assert_eq!(d[&day(1)].runs, 2);
        assert_eq!(
            d[&day(2)].sub_capacity,
            AtRun {
                value: 140,
                run_id: 3
            }
        );
        assert_eq!(d[&day(2)].hosts[&1].1, 3);
        assert_eq!(period_peaks(&runs).unwrap().sub_capacity.value, 700);
    }

    #[test]
    fn entitlement_is_the_lower_of_full_and_sub_capacity_not_their_sum() {
        assert_eq!(entitlement(2800, 420), 420);
        assert_eq!(entitlement(560, 700), 560);
    }

    #[test]
    fn empty_period_has_no_peak() {
        let runs: Vec<RunFigures<i64>> = Vec::new();
        assert_eq!(period_peaks(&runs), None);
    }
}
