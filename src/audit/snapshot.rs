//! `hvinv audit snapshot`: the report files of a period, read from the
//! store and rendered by `report`. The same period over the same data gives
//! the same bytes; only `manifest.json` carries the signing time.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bundle::{BundleFile, MANIFEST};
use super::{AuditError, SCHEMA};
use crate::report::pvu::rates::{DEFAULT_SOURCE, DEFAULT_TOML, PvuTable};
use crate::report::pvu::{DEFAULT_PERIOD_DAYS, PvuOptions, PvuReport};
use crate::report::{self, Format, time};
use crate::store::read::{OutcomeKey, PruneRecord};
use crate::store::{Run, RunStatus, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotOptions {
    /// Start of the period (default: `to` − 90 days).
    pub from: Option<DateTime<Utc>>,
    /// End of the period (default: the start of the latest complete run,
    /// so that the same data gives the same bundle).
    pub to: Option<DateTime<Utc>>,
    /// Everything else of the PVU report (`from`/`to` are set from above).
    pub pvu: PvuOptions,
}

/// The files of a bundle, before checksums and signature.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub files: Vec<BundleFile>,
    /// The run of the overall sub-capacity peak (its topology is in the bundle).
    pub peak_run: i64,
    pub complete: bool,
}

#[derive(Serialize)]
struct Manifest<'a> {
    schema: &'static str,
    period: ManifestPeriod,
    hvinv_version: &'static str,
    #[serde(with = "time::serde_z")]
    signed_at: DateTime<Utc>,
    peak_run: i64,
    complete: bool,
    files: Vec<&'a str>,
}

#[derive(Serialize)]
struct ManifestPeriod {
    #[serde(with = "time::serde_z")]
    from: DateTime<Utc>,
    #[serde(with = "time::serde_z")]
    to: DateTime<Utc>,
}

fn render(
    r: &impl report::Report,
    format: Format,
    file: &'static str,
) -> Result<BundleFile, AuditError> {
    let mut bytes = Vec::new();
    report::render(r, format, &mut bytes).map_err(|source| AuditError::Render { file, source })?;
    Ok(BundleFile::new(file, bytes))
}

/// Builds every file of the bundle for the period; `signed_at` goes into
/// the manifest only.
pub async fn build_files(
    store: &Store,
    opts: SnapshotOptions,
    signed_at: DateTime<Utc>,
) -> Result<Snapshot, AuditError> {
    let to = match opts.to {
        Some(t) => t,
        None => {
            let run = store
                .reader()
                .latest_complete_run()
                .await?
                .ok_or(AuditError::NoRun)?;
            run.started_at
        }
    };
    let from = opts
        .from
        .unwrap_or_else(|| to - Duration::days(DEFAULT_PERIOD_DAYS));
    let pvu_opts = PvuOptions {
        from: Some(from),
        to: Some(to),
        ..opts.pvu
    };
    let table_bytes: Vec<u8> = match &pvu_opts.pvu_table {
        Some(p) => std::fs::read(p).map_err(|e| AuditError::io(p, e))?,
        None => DEFAULT_TOML.as_bytes().to_vec(),
    };
    let table = match &pvu_opts.pvu_table {
        Some(p) => PvuTable::from_file(p)?,
        None => PvuTable::builtin()?,
    };
    let pvu = report::pvu::build(store, pvu_opts).await?;
    let peak_run = pvu.totals.sub_capacity_peak_run;
    let topology = report::topology::build(store, Some(peak_run)).await?;
    let runs = store.reader().runs_between(Some(from), Some(to)).await?;
    let outcomes = match (runs.first(), runs.last()) {
        (Some(a), Some(b)) => store.reader().outcome_keys_between(a.id, b.id).await?,
        _ => Vec::new(),
    };

    let prunes = store.reader().prunes().await?;
    let moves = match (runs.first(), runs.last()) {
        (Some(a), Some(b)) => {
            region_moves(store.reader().host_facts_overlapping(a.id, b.id).await?)
        }
        _ => Vec::new(),
    };
    let coverage = report::coverage::build(
        store,
        report::CoverageOptions {
            from: Some(from),
            to: Some(to),
        },
    )
    .await?;
    let mut files = vec![
        render(&coverage, Format::Json, "coverage.json")?,
        render(&coverage, Format::Csv, "coverage.csv")?,
        render(&pvu, Format::Json, "pvu.json")?,
        render(&pvu, Format::Csv, "pvu.csv")?,
        render(&topology, Format::Json, "topology.json")?,
        BundleFile::new("runs.csv", runs_csv(&runs)?),
        BundleFile::new(
            "audit_trail.csv",
            audit_trail_csv(&runs, &outcomes, &moves, &prunes, &table, &table_bytes)?,
        ),
        BundleFile::new("data_condition.txt", data_condition(&pvu, &runs, &coverage)),
    ];
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    names.push(super::bundle::PUBLIC_KEY);
    names.sort_unstable();
    let manifest = serde_json::to_vec_pretty(&Manifest {
        schema: SCHEMA,
        period: ManifestPeriod { from, to },
        hvinv_version: env!("CARGO_PKG_VERSION"),
        signed_at,
        peak_run,
        complete: pvu.complete,
        files: names,
    })?;
    files.push(BundleFile::new(MANIFEST, manifest));
    Ok(Snapshot {
        from,
        to,
        files,
        peak_run,
        complete: pvu.complete,
    })
}

fn csv_error(file: &'static str) -> impl Fn(csv::Error) -> AuditError {
    move |source| AuditError::Csv { file, source }
}

/// `runs.csv`: every run of the period, any status.
fn runs_csv(runs: &[Run]) -> Result<Vec<u8>, AuditError> {
    let err = csv_error("runs.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "started_at",
        "finished_at",
        "status",
        "hvinv_version",
        "hosts_total",
        "hosts_ok",
        "hosts_failed",
    ])
    .map_err(&err)?;
    for r in runs {
        w.write_record([
            r.id.to_string(),
            time::format(&r.started_at),
            r.finished_at.as_ref().map(time::format).unwrap_or_default(),
            r.status.as_str().to_string(),
            r.hvinv_version.clone(),
            r.hosts_total.to_string(),
            r.hosts_ok.to_string(),
            r.hosts_failed.to_string(),
        ])
        .map_err(&err)?;
    }
    w.into_inner()
        .map_err(|e| err(csv::Error::from(e.into_error())))
}

/// A host whose licence region changed: (run it changed at, host, from, to).
type RegionMove = (i64, String, String, String);

/// Consecutive fact rows of one host with different regions.
fn region_moves(mut facts: Vec<crate::store::read::HostFacts>) -> Vec<RegionMove> {
    facts.sort_by_key(|f| (f.host_id, f.first_run_id));
    facts
        .windows(2)
        .filter(|w| w[0].host_id == w[1].host_id && w[0].region != w[1].region)
        .map(|w| {
            let name = w[1]
                .host
                .name
                .clone()
                .unwrap_or_else(|| format!("host {}", w[1].host_id));
            (
                w[1].first_run_id,
                name,
                w[0].region.clone(),
                w[1].region.clone(),
            )
        })
        .collect()
}

/// `audit_trail.csv`: what changed across the period's runs.
fn audit_trail_csv(
    runs: &[Run],
    outcomes: &[OutcomeKey],
    moves: &[RegionMove],
    prunes: &[PruneRecord],
    table: &PvuTable,
    table_bytes: &[u8],
) -> Result<Vec<u8>, AuditError> {
    let err = csv_error("audit_trail.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["at", "run", "event", "subject", "detail"])
        .map_err(&err)?;
    let first_at = runs
        .first()
        .map(|r| time::format(&r.started_at))
        .unwrap_or_default();
    let first_id = runs.first().map(|r| r.id.to_string()).unwrap_or_default();
    let source = if table.source_name == DEFAULT_SOURCE {
        "config/pvu-table.toml (built in)".to_string()
    } else {
        table.source_name.clone()
    };
    let as_of = table
        .rows
        .iter()
        .map(|r| r.date.as_str())
        .max()
        .unwrap_or("");
    w.write_record([
        first_at.as_str(),
        first_id.as_str(),
        "pvu_table",
        source.as_str(),
        &format!(
            "sha256={} as_of={as_of} rows={} unverified_rows={}",
            hex::encode(Sha256::digest(table_bytes)),
            table.rows.len(),
            table.rows.iter().filter(|r| r.verify).count()
        ),
    ])
    .map_err(&err)?;

    let mut version: Option<&str> = None;
    let mut previous: Option<BTreeSet<&str>> = None;
    for run in runs {
        let id = run.id.to_string();
        let at = time::format(&run.started_at);
        if version != Some(run.hvinv_version.as_str()) {
            w.write_record([
                at.as_str(),
                &id,
                "hvinv_version",
                run.hvinv_version.as_str(),
                if version.is_none() {
                    "first run of the period"
                } else {
                    "version changed"
                },
            ])
            .map_err(&err)?;
            version = Some(&run.hvinv_version);
        }
        let addresses: BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.run_id == run.id)
            .map(|o| o.address.as_str())
            .collect();
        match &previous {
            None => {
                for a in &addresses {
                    w.write_record([at.as_str(), &id, "address_configured", a, ""])
                        .map_err(&err)?;
                }
            }
            Some(prev) => {
                for a in addresses.difference(prev) {
                    w.write_record([at.as_str(), &id, "address_added", a, ""])
                        .map_err(&err)?;
                }
                for a in prev.difference(&addresses) {
                    w.write_record([at.as_str(), &id, "address_removed", a, ""])
                        .map_err(&err)?;
                }
            }
        }
        // A run cut short tried only some addresses: it says nothing about
        // the configuration, so it does not become the reference.
        if run.is_complete() {
            previous = Some(addresses);
        }
        for (_, host, from, to) in moves.iter().filter(|m| m.0 == run.id) {
            w.write_record([
                at.as_str(),
                &id,
                "host_region_changed",
                host,
                &format!("{from} -> {to}"),
            ])
            .map_err(&err)?;
        }
    }
    // Every prune ever made: what was cut may sit before the period, but
    // an auditor needs to know it happened.
    for p in prunes {
        w.write_record([
            time::format(&p.at),
            p.first_run_kept.map(|k| k.to_string()).unwrap_or_default(),
            "prune".to_string(),
            format!("before {}", time::format(&p.before)),
            format!(
                "runs deleted {} ({}..{}); rows deleted {}; hvinv {}{}",
                p.runs_deleted,
                p.first_run_deleted
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                p.last_run_deleted
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                rows_deleted(&p.rows_deleted),
                p.hvinv_version,
                if p.under_two_years {
                    "; under two years (--allow-under-two-years)"
                } else {
                    ""
                }
            ),
        ])
        .map_err(&err)?;
    }
    w.into_inner()
        .map_err(|e| err(csv::Error::from(e.into_error())))
}

/// `data_condition.txt`: complete or not, and every reason, in plain words.
fn data_condition(pvu: &PvuReport, runs: &[Run], coverage: &report::CoverageReport) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line("hvinv audit snapshot: condition of the data".into());
    line(format!(
        "period: {} to {}",
        time::format(&pvu.period.from),
        time::format(&pvu.period.to)
    ));
    let count = |s: RunStatus| runs.iter().filter(|r| r.status == s).count();
    line(format!(
        "runs: {} ({} complete, {} interrupted, {} running)",
        runs.len(),
        count(RunStatus::Complete),
        count(RunStatus::Interrupted),
        count(RunStatus::Running)
    ));
    // (cluster, node) named by MSCluster but collected OK in no run.
    let uncollected: Vec<(&str, &str)> = coverage
        .clusters
        .iter()
        .flat_map(|c| {
            c.nodes_never_collected
                .iter()
                .map(move |n| (c.name.as_str(), n.as_str()))
        })
        .collect();
    line(format!(
        "condition: {}",
        if pvu.complete && coverage.cadence_breaks.is_empty() && uncollected.is_empty() {
            "COMPLETE: every host counted in every run of the period, collected every half hour"
        } else {
            "INCOMPLETE: see the reasons below"
        }
    ));
    line(String::new());
    line(format!("reasons ({}):", pvu.incomplete_reasons.len()));
    for r in &pvu.incomplete_reasons {
        line(format!("- {r}"));
    }
    line(format!("gaps ({}):", pvu.gaps.len()));
    for g in &pvu.gaps {
        line(format!(
            "- {} (runs {}..{}, {} runs){}: {}",
            g.kind,
            g.first_run,
            g.last_run,
            g.runs,
            if g.flags_incomplete {
                ", makes the report incomplete"
            } else {
                ""
            },
            g.message
        ));
    }
    for r in runs.iter().filter(|r| !r.is_complete()) {
        line(format!(
            "- run {} started {} is {}: it is not counted",
            r.id,
            time::format(&r.started_at),
            r.status.as_str()
        ));
    }
    line(format!(
        "cadence breaks ({}; IBM asks for collection every {} minutes, {} allowed):",
        coverage.cadence_breaks.len(),
        coverage.cadence_minutes,
        coverage.cadence_minutes + coverage.slack_minutes
    ));
    for b in &coverage.cadence_breaks {
        line(format!(
            "- {} minutes between run {} ({}) and run {} ({})",
            b.minutes,
            b.after_run,
            time::format(&b.after_at),
            b.next_run,
            time::format(&b.next_at)
        ));
    }
    line(format!(
        "cluster nodes never collected ({}; IBM: incomplete virtualization):",
        uncollected.len()
    ));
    for (c, n) in uncollected {
        line(format!(
            "- cluster {c}: node {n} is a member but was collected OK in no run of the period"
        ));
    }
    let unknown: Vec<&str> = pvu
        .hosts
        .iter()
        .filter(|h| h.rate.unknown_processor)
        .map(|h| h.address.as_str())
        .collect();
    line(format!("unknown processors ({}):", unknown.len()));
    for a in unknown {
        line(format!(
            "- {a}: no PVU table row matches its processor; counted at the unknown rate"
        ));
    }
    let unverified: BTreeSet<&str> = pvu
        .hosts
        .iter()
        .filter(|h| h.rate.verify)
        .filter_map(|h| h.rate.row.as_deref())
        .collect();
    line(format!(
        "PVU table rows applied but not verified against IBM's table ({}):",
        unverified.len()
    ));
    for r in unverified {
        line(format!("- {r}"));
    }
    line(format!("warnings ({}):", pvu.warnings.len()));
    for w in &pvu.warnings {
        line(format!("- {w}"));
    }
    out
}

/// `{"hosts":1,"runs":2}` as `hosts 1, runs 2` (tables with none left out).
fn rows_deleted(json: &str) -> String {
    match serde_json::from_str::<std::collections::BTreeMap<String, u64>>(json) {
        Ok(map) => {
            let parts: Vec<String> = map
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            if parts.is_empty() {
                "none".into()
            } else {
                parts.join(", ")
            }
        }
        Err(_) => json.to_string(),
    }
}
