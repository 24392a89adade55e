//! In which runs each host was collected OK, from the outcome spans: one
//! interval per unchanged stretch, so a quarter of runs costs what the
//! changes cost, and "the first OK run of host H between two runs" is a
//! binary search instead of a query per VM row.

use crate::report::id_map::IdMap;
use crate::store::read::OkSpan;

pub struct OkRuns {
    /// host → disjoint, ascending `(first, last)` run-id intervals.
    by_host: IdMap<i64, Vec<(i64, i64)>>,
    /// Every run id that exists, ascending (ids may have holes after a prune).
    runs: Vec<i64>,
}

impl OkRuns {
    /// `spans` by host then first run (`Reader::ok_spans`); `runs` any order.
    pub fn new(spans: &[OkSpan], mut runs: Vec<i64>) -> OkRuns {
        runs.sort_unstable();
        runs.dedup();
        let mut by_host: IdMap<i64, Vec<(i64, i64)>> = IdMap::default();
        for s in spans {
            let v = by_host.entry(s.host_id).or_default();
            // Two addresses reaching one host overlap: merge them.
            match v.last_mut() {
                Some(last) if s.first_run_id <= last.1 + 1 => {
                    last.1 = last.1.max(s.last_run_id);
                }
                _ => v.push((s.first_run_id, s.last_run_id)),
            }
        }
        for v in by_host.values_mut() {
            v.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(v.len());
            for &(f, l) in v.iter() {
                match merged.last_mut() {
                    Some(m) if f <= m.1 + 1 => m.1 = m.1.max(l),
                    _ => merged.push((f, l)),
                }
            }
            *v = merged;
        }
        OkRuns { by_host, runs }
    }

    /// The first existing run strictly between `after` and `before` in which
    /// `seen_on` was collected OK and, when given, `also_ok` too.
    pub fn first_between(
        &self,
        seen_on: i64,
        also_ok: Option<i64>,
        after: i64,
        before: i64,
    ) -> Option<i64> {
        let a = self.intervals_after(seen_on, after);
        match also_ok {
            None => a
                .iter()
                .find_map(|&(f, l)| self.first_run_in(f, l, after, before)),
            Some(other) => {
                let b = self.intervals_after(other, after);
                let (mut i, mut j) = (0, 0);
                while i < a.len() && j < b.len() {
                    let (f, l) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
                    if f <= l
                        && let Some(r) = self.first_run_in(f, l, after, before)
                    {
                        return Some(r);
                    }
                    if a[i].1 < b[j].1 {
                        i += 1;
                    } else {
                        j += 1;
                    }
                }
                None
            }
        }
    }

    /// The host's intervals that end after `after`.
    fn intervals_after(&self, host: i64, after: i64) -> &[(i64, i64)] {
        let v = self.by_host.get(&host).map(Vec::as_slice).unwrap_or(&[]);
        &v[v.partition_point(|&(_, l)| l <= after)..]
    }

    /// The first existing run in `[f, l]` and in `(after, before)`.
    fn first_run_in(&self, f: i64, l: i64, after: i64, before: i64) -> Option<i64> {
        let lo = f.max(after.saturating_add(1));
        let hi = l.min(before.saturating_sub(1));
        if lo > hi {
            return None;
        }
        let i = self.runs.partition_point(|&r| r < lo);
        self.runs.get(i).copied().filter(|&r| r <= hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(host_id: i64, first_run_id: i64, last_run_id: i64) -> OkSpan {
        OkSpan {
            host_id,
            first_run_id,
            last_run_id,
        }
    }

    /// The same question answered run by run, as the per-run view would.
    fn naive(
        spans: &[OkSpan],
        runs: &[i64],
        h: i64,
        also: Option<i64>,
        a: i64,
        b: i64,
    ) -> Option<i64> {
        let ok = |host: i64, r: i64| {
            spans
                .iter()
                .any(|s| s.host_id == host && s.first_run_id <= r && r <= s.last_run_id)
        };
        runs.iter()
            .copied()
            .filter(|&r| r > a && r < b)
            .find(|&r| ok(h, r) && also.is_none_or(|o| ok(o, r)))
    }

    #[test]
    fn first_ok_run_matches_a_run_by_run_search() {
        // Host 1 OK in 1–3 and 6–9 (two addresses overlapping at 7–8),
        // host 2 in 2–4 and 8–12; runs 5 and 10 were pruned away.
        let spans = [
            span(1, 1, 3),
            span(1, 6, 8),
            span(1, 7, 9),
            span(2, 2, 4),
            span(2, 8, 12),
        ];
        let runs: Vec<i64> = (1..=12).filter(|r| *r != 5 && *r != 10).collect();
        let ok = OkRuns::new(&spans, runs.clone());
        for h in [1, 2, 3] {
            for also in [None, Some(1), Some(2), Some(3)] {
                for a in 0..13 {
                    for b in a..14 {
                        assert_eq!(
                            ok.first_between(h, also, a, b),
                            naive(&spans, &runs, h, also, a, b),
                            "host {h} also {also:?} between {a} and {b}"
                        );
                    }
                }
            }
        }
        assert_eq!(ok.first_between(1, Some(2), 3, 13), Some(8));
        assert_eq!(ok.first_between(2, None, 8, 11), Some(9));
    }
}
