//! Per cluster over the period: the nodes MSCluster named, and those no
//! host collected OK in the period was ("incomplete virtualization" in
//! IBM's words). A node matches a host by `node_match`, the rule `report
//! pvu` uses for its `cluster_node` gaps.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::id_map::IdMap;
use crate::report::node_match::{CollectedNames, host_names, key};
use crate::store::read::{ClusterFacts, HostFacts, OutcomeSpan};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterLine {
    pub name: String,
    /// Every node the cluster's facts named in a run of the period, sorted.
    pub nodes_seen: Vec<String>,
    /// The nodes of `nodes_seen` that match no host collected OK in the
    /// period, sorted.
    pub nodes_never_collected: Vec<String>,
    /// The first and last run of the period the cluster's facts hold for.
    pub first_run: i64,
    pub last_run: i64,
}

/// The period's run ids, ascending, to ask whether an interval of run ids
/// holds one of them (ids have holes after a prune, and the period's runs
/// are chosen by time).
pub struct PeriodRuns(Vec<i64>);

impl PeriodRuns {
    pub fn new(mut ids: Vec<i64>) -> PeriodRuns {
        ids.sort_unstable();
        ids.dedup();
        PeriodRuns(ids)
    }

    /// The first and last run of the period in `first..=last`, if any.
    fn within(&self, first: i64, last: i64) -> Option<(i64, i64)> {
        let lo = self.0.partition_point(|&r| r < first);
        let hi = self.0.partition_point(|&r| r <= last);
        (lo < hi).then(|| (self.0[lo], self.0[hi - 1]))
    }
}

/// One line per cluster whose facts hold in a run of the period, by name.
/// `ok_spans` are OK outcome spans (any order; others are skipped),
/// `host_facts` and `cluster_facts` the rows meeting the period.
pub fn lines(
    period: &PeriodRuns,
    ok_spans: &[OutcomeSpan],
    host_facts: &[HostFacts],
    cluster_facts: &[ClusterFacts],
) -> Vec<ClusterLine> {
    if cluster_facts.is_empty() {
        return Vec::new();
    }
    let collected = collected_names(period, ok_spans, host_facts);
    // name → (node key → node name as first seen, first run, last run)
    let mut clusters: BTreeMap<&str, (BTreeMap<String, &str>, i64, i64)> = BTreeMap::new();
    for c in cluster_facts {
        let Some((first, last)) = period.within(c.first_run_id, c.last_run_id) else {
            continue;
        };
        let e = clusters
            .entry(c.name.as_str())
            .or_insert_with(|| (BTreeMap::new(), first, last));
        e.1 = e.1.min(first);
        e.2 = e.2.max(last);
        for n in &c.nodes {
            // "HV01" in one row and "hv01" in another are one node.
            e.0.entry(key(&n.name)).or_insert(n.name.as_str());
        }
    }
    clusters
        .into_iter()
        .map(|(name, (nodes, first_run, last_run))| {
            let mut nodes_seen: Vec<String> = nodes.into_values().map(str::to_string).collect();
            nodes_seen.sort();
            let nodes_never_collected = nodes_seen
                .iter()
                .filter(|n| !collected.has_node(n))
                .cloned()
                .collect();
            ClusterLine {
                name: name.to_string(),
                nodes_seen,
                nodes_never_collected,
                first_run,
                last_run,
            }
        })
        .collect()
}

/// The names of every host collected OK in a run of the period: the
/// address it answered on, and the names its facts of such a run give.
fn collected_names(
    period: &PeriodRuns,
    ok_spans: &[OutcomeSpan],
    host_facts: &[HostFacts],
) -> CollectedNames {
    let mut names = CollectedNames::default();
    // host → the period's runs in which it was OK, as intervals
    let mut ok_runs: IdMap<i64, Vec<(i64, i64)>> = IdMap::default();
    for s in ok_spans.iter().filter(|s| s.ok) {
        let Some(within) = period.within(s.first_run_id, s.last_run_id) else {
            continue;
        };
        names.add(&s.address);
        if let Some(h) = s.host_id {
            ok_runs.entry(h).or_default().push(within);
        }
    }
    for f in host_facts {
        let Some(spans) = ok_runs.get(&f.host_id) else {
            continue;
        };
        // Facts hold only in the OK runs of their interval: they name the
        // host if one of those runs is in the period.
        let named = spans.iter().any(|&(a, b)| {
            period
                .within(a.max(f.first_run_id), b.min(f.last_run_id))
                .is_some()
        });
        if named {
            for n in host_names(&f.host) {
                names.add(n);
            }
        }
    }
    names
}
