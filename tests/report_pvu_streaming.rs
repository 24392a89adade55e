//! The PVU report sweeps interval rows once; this checks its per-run figures
//! against a straightforward computation that asks the database about each
//! run separately (the per-run `host_outcomes` view and the facts covering
//! the run), on a generated history with migrations, state and vCPU changes,
//! failures (some longer than the staleness limit) and interrupted runs.
//! Cluster-owned VMs on no counted host (`orphan_vm` gaps) are checked the
//! same way, from the cluster facts and owner rows covering each run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use hvinv::cli::Exit;
use hvinv::cli::generate::{GenerateArgs, run as generate};
use hvinv::report::pvu::{self, PvuOptions};
use hvinv::report::{HistoryOptions, PvuTable};
use hvinv::store::{OpenMode, Store};
use sqlx::SqlitePool;

async fn generated(dir: &std::path::Path, seed: u64) -> String {
    let db = dir.join("g.db").to_str().unwrap().to_string();
    let a = GenerateArgs {
        db: db.clone(),
        hosts: 12,
        vms_per_host: 4,
        cluster_size: 4,
        runs: 60,
        start: "2026-08-01T00:00:00Z".parse().unwrap(),
        interval_minutes: 30,
        migrate: 0.05,
        state_change: 0.05,
        vcpu_change: 0.03,
        fail: 0.3,
        interrupt_every: 7,
        seed,
        record_every_host: false,
    };
    assert_eq!(generate(a).await, Exit::Ok);
    db
}

/// One run's totals, computed naively: (hosts counted, carried-forward
/// addresses, sub-capacity PVU, full-capacity PVU, orphaned cluster VMs).
type Naive = (usize, Vec<String>, i64, i64, BTreeSet<Orphan>);

/// (cluster, VM GUID, owner node)
type Orphan = (String, String, Option<String>);

/// cores, processor vendor, processor model, sockets
type FactsRow = (Option<i64>, Option<String>, Option<String>, Option<i64>);

async fn naive_run(
    pool: &SqlitePool,
    table: &PvuTable,
    run: i64,
    started: DateTime<Utc>,
    staleness: Duration,
) -> Naive {
    let outcomes: Vec<(String, Option<i64>, String)> = sqlx::query_as(
        "SELECT address, host_id, status FROM host_outcomes WHERE run_id = ? ORDER BY address",
    )
    .bind(run)
    .fetch_all(pool)
    .await
    .unwrap();
    // host -> (address, snapshot run, carried)
    let mut chosen: BTreeMap<i64, (String, i64, bool)> = BTreeMap::new();
    for (address, host, status) in outcomes {
        let pick = if status == "ok" {
            host.map(|h| (h, run, false))
        } else {
            let last: Option<(i64, i64, String)> = sqlx::query_as(
                "SELECT o.run_id, o.host_id, r.started_at FROM host_outcomes o \
                 JOIN runs r ON r.id = o.run_id WHERE o.address = ? AND o.run_id < ? \
                 AND o.status = 'ok' AND o.host_id IS NOT NULL AND r.status = 'complete' \
                 ORDER BY o.run_id DESC LIMIT 1",
            )
            .bind(&address)
            .bind(run)
            .fetch_optional(pool)
            .await
            .unwrap();
            last.and_then(|(r, h, at)| {
                let at: DateTime<Utc> = at.parse().unwrap();
                (started - at <= staleness).then_some((h, r, true))
            })
        };
        if let Some((h, snap, carried)) = pick {
            let replace = match chosen.get(&h) {
                None => true,
                Some((_, _, was_carried)) => *was_carried && !carried,
            };
            if replace {
                chosen.insert(h, (address, snap, carried));
            }
        }
    }
    // Fresh first, then the newest snapshot: a VM counts on one host.
    let mut order: Vec<(bool, i64, i64)> = chosen
        .iter()
        .map(|(h, (_, snap, carried))| (*carried, -*snap, *h))
        .collect();
    order.sort();
    let mut seen = std::collections::HashSet::new();
    let (mut hosts, mut sub, mut full) = (0, 0i64, 0i64);
    let mut carried_list = Vec::new();
    for (carried, neg_snap, h) in order {
        let snap = -neg_snap;
        let facts: Option<FactsRow> = sqlx::query_as(
            "SELECT cores, processor_vendor, processor_model, sockets FROM host_facts \
                 WHERE host_id = ? AND first_run_id <= ? AND last_run_id >= ?",
        )
        .bind(h)
        .bind(snap)
        .bind(snap)
        .fetch_optional(pool)
        .await
        .unwrap();
        let vms: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT vm_id, state, vcpus FROM vm_facts WHERE host_id = ? \
             AND first_run_id <= ? AND last_run_id >= ? ORDER BY id",
        )
        .bind(h)
        .bind(snap)
        .bind(snap)
        .fetch_all(pool)
        .await
        .unwrap();
        let vms: Vec<_> = vms.into_iter().filter(|v| seen.insert(v.0)).collect();
        let Some((Some(cores), vendor, model, sockets)) = facts else {
            continue;
        };
        let rate = table
            .rate(vendor.as_deref(), model.as_deref(), sockets)
            .pvu_per_core;
        let licensable: i64 = vms
            .iter()
            .filter(|v| v.1 == "running" || v.1 == "paused")
            .map(|v| v.2.unwrap_or(cores).min(cores))
            .sum();
        hosts += 1;
        sub += licensable.min(cores) * rate;
        full += cores * rate;
        if carried {
            carried_list.push(chosen[&h].0.clone());
        }
    }
    carried_list.sort();
    // Every owner row covering the run, of a cluster whose facts cover it,
    // whose VM no chosen host holds.
    let owners: Vec<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT c.name, upper(o.vm_guid), o.owner_node, v.id FROM cluster_facts f \
         JOIN clusters c ON c.id = f.cluster_id \
         JOIN cluster_vm_facts o ON o.cluster_id = f.cluster_id \
              AND o.first_run_id <= ?1 AND o.last_run_id >= ?1 \
         LEFT JOIN vms v ON upper(v.guid) = upper(o.vm_guid) \
         WHERE f.first_run_id <= ?1 AND f.last_run_id >= ?1",
    )
    .bind(run)
    .fetch_all(pool)
    .await
    .unwrap();
    let orphans = owners
        .into_iter()
        .filter(|o| !o.3.is_some_and(|id| seen.contains(&id)))
        .map(|(c, g, n, _)| (c, g, n))
        .collect();
    (hosts, carried_list, sub, full, orphans)
}

#[tokio::test]
async fn the_sweep_prices_every_run_as_a_run_by_run_computation_does() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [3, 11] {
        let path = generated(dir.path(), seed).await;
        let store = Store::open(&path, OpenMode::ReadOnly).await.unwrap();
        let staleness = Duration::hours(1);
        let opts = PvuOptions {
            from: Some("2026-08-01T00:00:00Z".parse().unwrap()),
            to: Some("2026-08-03T00:00:00Z".parse().unwrap()),
            max_staleness: staleness,
            ..PvuOptions::default()
        };
        let report = pvu::build(&store, opts).await.unwrap();
        let table = PvuTable::builtin().unwrap();
        let runs = store
            .reader()
            .complete_runs_between(None, None)
            .await
            .unwrap();
        assert_eq!(report.runs.len(), runs.len());
        let (mut carried_runs, mut best) = (0, (i64::MIN, 0));
        // orphan → (first run, last run, runs)
        let mut orphaned: BTreeMap<Orphan, (i64, i64, usize)> = BTreeMap::new();
        for (line, run) in report.runs.iter().zip(&runs) {
            assert_eq!(line.id, run.id);
            let (hosts, mut carried, sub, full, orphans) =
                naive_run(store.pool(), &table, run.id, run.started_at, staleness).await;
            let mut got = line.carried_forward.clone();
            got.sort();
            carried.sort();
            assert_eq!(
                (
                    line.hosts,
                    got,
                    line.sub_capacity_pvu,
                    line.full_capacity_pvu
                ),
                (hosts, carried.clone(), sub, full),
                "seed {seed}, run {}",
                run.id
            );
            carried_runs += usize::from(!carried.is_empty());
            for o in orphans {
                let e = orphaned.entry(o).or_insert((run.id, run.id, 0));
                e.1 = run.id;
                e.2 += 1;
            }
            if sub > best.0 {
                best = (sub, run.id);
            }
        }
        // The history exercised what it is meant to.
        assert!(
            carried_runs > 5,
            "seed {seed}: {carried_runs} runs carried a host"
        );
        assert!(report.gaps.iter().any(|g| g.kind == "stale"), "seed {seed}");
        let reported: BTreeMap<Orphan, (i64, i64, usize)> = report
            .gaps
            .iter()
            .filter(|g| g.kind == "orphan_vm")
            .map(|g| {
                let key = (
                    g.cluster.clone().unwrap(),
                    g.vm_guid.clone().unwrap().into_string(),
                    g.node.clone(),
                );
                (key, (g.first_run, g.last_run, g.runs))
            })
            .collect();
        assert!(!orphaned.is_empty(), "seed {seed}: no VM was orphaned");
        assert_eq!(reported, orphaned, "seed {seed}: orphan_vm gaps");
        assert_eq!(
            (
                report.totals.sub_capacity_peak_pvu,
                report.totals.sub_capacity_peak_run
            ),
            best
        );
        let detail: i64 = report
            .peak_detail
            .iter()
            .map(|h| h.figures.sub_capacity_pvu)
            .sum();
        assert_eq!(detail, best.0, "the peak detail adds up to the peak");
        // History over the same database answers too (placements per VM).
        let h = hvinv::report::history::build(&store, HistoryOptions::default())
            .await
            .unwrap();
        assert_eq!(h.vms.len(), 48);
        drop(store);
        std::fs::remove_file(&path).unwrap();
    }
}
