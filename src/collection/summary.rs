//! What a run came to: counts, failures, warnings, coverage (`--json`
//! prints it as is).

use crate::error::ErrorKind;
use crate::store::{HostOutcome, RunId};
use std::collections::BTreeMap;
use std::time::Duration;

/// One failed host of the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostFailure {
    pub address: String,
    pub kind: ErrorKind,
    pub message: String,
}

/// The run's summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    /// `complete` or `interrupted`.
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub hosts_total: usize,
    pub hosts_ok: usize,
    pub hosts_failed: usize,
    pub hosts_with_warnings: usize,
    pub vms: usize,
    pub round_trips: u64,
    pub duration_secs: f64,
    pub failures: Vec<HostFailure>,
    pub warnings: Vec<String>,
    /// Cluster nodes that own clustered VMs but are not in the configuration
    /// ("incomplete virtualization" in the licence tool's words).
    pub incomplete_coverage: Vec<String>,
    /// Hosts per authentication mechanism (`kerberos`, `ntlm`), as the
    /// last attempt on each host authenticated.
    pub authentication: BTreeMap<String, usize>,
}

impl RunSummary {
    pub(super) fn new(run: RunId, hosts_total: usize) -> RunSummary {
        RunSummary {
            run_id: run.0,
            hosts_total,
            ..Default::default()
        }
    }

    pub(super) fn interrupted(run: RunId, hosts_total: usize, took: Duration) -> RunSummary {
        RunSummary {
            status: "interrupted".into(),
            duration_secs: took.as_secs_f64(),
            warnings: vec!["run interrupted by a signal".into()],
            ..RunSummary::new(run, hosts_total)
        }
    }

    /// The run's start and finish, written as the store writes them (RFC 3339,
    /// UTC, `Z`).
    pub(super) fn set_times(
        &mut self,
        started_at: chrono::DateTime<chrono::Utc>,
        finished_at: chrono::DateTime<chrono::Utc>,
    ) {
        self.started_at = crate::store::time::to_stored(started_at);
        self.finished_at = crate::store::time::to_stored(finished_at);
    }

    /// Counts one host's outcome.
    pub(super) fn add(&mut self, address: &str, outcome: &HostOutcome) {
        match outcome {
            HostOutcome::Ok {
                snapshot,
                round_trips,
                ..
            } => {
                self.hosts_ok += 1;
                self.round_trips += round_trips;
                self.vms += snapshot.vms.len();
                if !snapshot.warnings.is_empty() {
                    self.hosts_with_warnings += 1;
                    for w in &snapshot.warnings {
                        self.warnings.push(format!("{address}: {w}"));
                    }
                }
            }
            HostOutcome::Failed {
                kind,
                message,
                round_trips,
                ..
            } => {
                self.hosts_failed += 1;
                self.round_trips += round_trips;
                self.failures.push(HostFailure {
                    address: address.to_string(),
                    kind: *kind,
                    message: message.clone(),
                });
            }
        }
    }

    /// Counts the mechanism one host authenticated with.
    pub(super) fn add_auth(&mut self, auth: Option<crate::transport::AuthUsed>) {
        if let Some(auth) = auth {
            *self
                .authentication
                .entry(auth.as_str().to_string())
                .or_default() += 1;
        }
    }

    pub fn is_interrupted(&self) -> bool {
        self.status == "interrupted"
    }

    /// Every host collected, without warnings, and every VM-owning cluster
    /// node among them.
    pub fn is_clean(&self) -> bool {
        self.hosts_failed == 0
            && self.hosts_with_warnings == 0
            && self.incomplete_coverage.is_empty()
    }

    /// The one-line summary printed under cron.
    pub fn line(&self) -> String {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.failures {
            *kinds.entry(f.kind.as_str()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let mut line = format!(
            "run {} {}: {} hosts, {} ok, {} failed",
            self.run_id, self.status, self.hosts_total, self.hosts_ok, self.hosts_failed
        );
        if !kinds.is_empty() {
            line.push_str(&format!(" ({})", kinds.join(", ")));
        }
        line.push_str(&format!(
            ", {} with warnings, {} VMs, {:.1} s",
            self.hosts_with_warnings, self.vms, self.duration_secs
        ));
        if !self.incomplete_coverage.is_empty() {
            line.push_str(&format!(
                ", incomplete coverage: {} uncollected cluster node(s)",
                self.incomplete_coverage.len()
            ));
        }
        line
    }
}
