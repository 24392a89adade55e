//! Regional peaks (`shared/spec/pvu.md`, "Regions and products"), pure: IBM
//! counts sub-capacity per region, so each region's peak is the maximum of
//! that region's own instant totals, and the overall figure is the sum of
//! the regional peaks: never the peak of the sum across regions, never a sum
//! of per-host peaks.

use std::collections::BTreeMap;

use super::arith::{AtRun, RunFigures};

/// One region's peaks over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionPeaks {
    pub sub_capacity: AtRun,
    pub full_capacity: AtRun,
}

fn keep_max(slot: &mut Option<AtRun>, value: i64, run_id: i64) {
    // Strictly greater: ties keep the earliest run, as the period peak does.
    if slot.is_none_or(|s| value > s.value) {
        *slot = Some(AtRun { value, run_id });
    }
}

/// The peaks of each region, `region_of(run, host)` naming the region a
/// host was in at that run (a host moved between regions counts where it
/// was). A region only has values for runs where it had a host.
pub fn regional_peaks<K>(
    runs: &[RunFigures<K>],
    region_of: impl Fn(i64, &K) -> String,
) -> BTreeMap<String, RegionPeaks> {
    let mut slots: BTreeMap<String, (Option<AtRun>, Option<AtRun>)> = BTreeMap::new();
    for r in runs {
        let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (k, f) in &r.hosts {
            let t = totals.entry(region_of(r.run_id, k)).or_default();
            t.0 = t.0.saturating_add(f.sub_capacity_pvu);
            t.1 = t.1.saturating_add(f.full_capacity_pvu);
        }
        for (region, (sub, full)) in totals {
            let slot = slots.entry(region).or_default();
            keep_max(&mut slot.0, sub, r.run_id);
            keep_max(&mut slot.1, full, r.run_id);
        }
    }
    slots
        .into_iter()
        .filter_map(|(region, (sub, full))| {
            Some((
                region,
                RegionPeaks {
                    sub_capacity: sub?,
                    full_capacity: full?,
                },
            ))
        })
        .collect()
}

/// The overall figures: sums of the regional peaks (sub-capacity, full).
pub fn overall(peaks: &BTreeMap<String, RegionPeaks>) -> (i64, i64) {
    peaks.values().fold((0i64, 0i64), |(s, f), p| {
        (
            s.saturating_add(p.sub_capacity.value),
            f.saturating_add(p.full_capacity.value),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::arith::host_figures;
    use super::*;
    use chrono::NaiveDate;

    fn run(id: i64, hosts: Vec<(&'static str, i64, i64, &[u32])>) -> RunFigures<&'static str> {
        RunFigures {
            run_id: id,
            day: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            hosts: hosts
                .into_iter()
                .map(|(h, cores, rate, vcpus)| (h, host_figures(cores, rate, vcpus)))
                .collect(),
        }
    }

    #[test]
    fn regions_peaking_in_different_runs_sum_their_own_peaks() {
        // EU host "eu" (16 cores, 70) and US host "us" (16 cores, 100).
        // Run 1: eu runs 8 vCPU → 560, us runs 2 → 200; sum 760.
        // Run 2: eu runs 2 → 140, us runs 6 → 600; sum 740.
        // EU peak 560 (run 1), US peak 600 (run 2): overall 1160, which is
        // more than the peak of the sums (760): IBM counts per region.
        let runs = vec![
            run(1, vec![("eu", 16, 70, &[8]), ("us", 16, 100, &[2])]),
            run(2, vec![("eu", 16, 70, &[2]), ("us", 16, 100, &[6])]),
        ];
        let region = |_: i64, h: &&str| if *h == "eu" { "EMEA" } else { "AMER" }.to_string();
        let p = regional_peaks(&runs, region);
        assert_eq!(
            p["EMEA"].sub_capacity,
            AtRun {
                value: 560,
                run_id: 1
            }
        );
        assert_eq!(
            p["AMER"].sub_capacity,
            AtRun {
                value: 600,
                run_id: 2
            }
        );
        // Full capacity: 16 × 70 = 1120 and 16 × 100 = 1600 in both runs.
        assert_eq!(
            p["EMEA"].full_capacity,
            AtRun {
                value: 1120,
                run_id: 1
            }
        );
        assert_eq!(
            p["AMER"].full_capacity,
            AtRun {
                value: 1600,
                run_id: 1
            }
        );
        assert_eq!(overall(&p), (1160, 2720));
    }

    #[test]
    fn a_host_moved_between_regions_counts_where_it_was_at_each_run() {
        // Host "m" (8 cores, 70) is in EMEA at run 1 with 4 vCPU (280) and
        // in AMER at run 2 with 6 vCPU (420); "a" (8 cores, 70) stays in
        // AMER with 2 vCPU (140) both times.
        // EMEA: 280 (run 1). AMER: run 1 140, run 2 420 + 140 = 560.
        let runs = vec![
            run(1, vec![("m", 8, 70, &[4]), ("a", 8, 70, &[2])]),
            run(2, vec![("m", 8, 70, &[6]), ("a", 8, 70, &[2])]),
        ];
        let region = |run: i64, h: &&str| {
            if *h == "m" && run == 1 {
                "EMEA"
            } else {
                "AMER"
            }
            .to_string()
        };
        let p = regional_peaks(&runs, region);
        assert_eq!(
            p["EMEA"].sub_capacity,
            AtRun {
                value: 280,
                run_id: 1
            }
        );
        assert_eq!(
            p["AMER"].sub_capacity,
            AtRun {
                value: 560,
                run_id: 2
            }
        );
        assert_eq!(overall(&p).0, 840);
    }

    #[test]
    fn one_region_gives_the_plain_period_peak() {
        let runs = vec![
            run(1, vec![("x", 4, 70, &[1]), ("y", 4, 70, &[4])]),
            run(2, vec![("x", 4, 70, &[4]), ("y", 4, 70, &[4])]),
        ];
        let p = regional_peaks(&runs, |_, _| "default".to_string());
        // Run 1: 70 + 280 = 350; run 2: 280 + 280 = 560.
        assert_eq!(
            p["default"].sub_capacity,
            AtRun {
                value: 560,
                run_id: 2
            }
        );
        assert_eq!(p.len(), 1);
    }
}
