//! The `check` ladder: one host's WinRM set-up walked in the order an
//! administrator would fix it, each step one function (`steps.rs`), each
//! failure with what to change on the host (`remedy.rs`). It only reads:
//! unauthenticated probes through `transport::probe`, then Identify and
//! selects from `inventory::queries` read through the typed classes.
//! Sits above `inventory`, beside `collection`; `cli` prints the result.

mod remedy;
mod steps;

use crate::transport::TransportConfig;
use crate::wsman::ClientOptions;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: StepStatus,
    pub detail: String,
    /// What to run or change on the host, when the step did not pass.
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HostCheck {
    pub address: String,
    pub ok: bool,
    pub steps: Vec<Step>,
}

/// The ladder's steps, in order.
pub const STEP_NAMES: [&str; 7] = [
    steps::TCP,
    steps::LISTENER,
    steps::AUTHENTICATION,
    steps::TRANSPORT_SECURITY,
    steps::HYPERV_NAMESPACE,
    steps::VMMS_SERVICE,
    steps::CLUSTER_NAMESPACE,
];

/// Walks the ladder for one host (`address` as configured); stops at the
/// first failed step and marks the rest skipped.
pub async fn check_host(
    address: &str,
    transport: &Arc<TransportConfig>,
    opts: &ClientOptions,
) -> HostCheck {
    let mut ladder = Ladder::default();
    walk(&mut ladder, transport, opts).await;
    ladder.finish(address)
}

/// Each step records its result; `None` means "stop here".
async fn walk(l: &mut Ladder, cfg: &Arc<TransportConfig>, opts: &ClientOptions) -> Option<()> {
    steps::tcp(l, cfg).await?;
    steps::listener(l, cfg).await?;
    let mut client = steps::authenticate(l, cfg, opts).await?;
    let found = steps::hyperv_namespace(l, &mut client).await;
    steps::vmms_service(l, &mut client, found.hyperv).await;
    steps::cluster_namespace(l, &mut client, found.mscluster).await;
    client.close().await;
    Some(())
}

/// The steps recorded so far.
#[derive(Default)]
struct Ladder {
    steps: Vec<Step>,
}

impl Ladder {
    fn record(
        &mut self,
        name: &'static str,
        status: StepStatus,
        detail: impl Into<String>,
        remedy: Option<&str>,
    ) {
        self.steps.push(Step {
            name,
            status,
            detail: detail.into(),
            remedy: remedy.map(str::to_string),
        });
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.record(name, StepStatus::Pass, detail, None);
    }

    /// Records a failure; returns `None` so a step can `return l.fail(..)`.
    fn fail<T>(
        &mut self,
        name: &'static str,
        detail: impl Into<String>,
        remedy: Option<&str>,
    ) -> Option<T> {
        self.record(name, StepStatus::Fail, detail, remedy);
        None
    }

    fn finish(mut self, address: &str) -> HostCheck {
        for name in STEP_NAMES {
            if !self.steps.iter().any(|s| s.name == name) {
                self.record(name, StepStatus::Skip, "not reached", None);
            }
        }
        self.steps
            .sort_by_key(|s| STEP_NAMES.iter().position(|n| *n == s.name));
        let ok = self.steps.iter().all(|s| s.status != StepStatus::Fail);
        HostCheck {
            address: address.to_string(),
            ok,
            steps: self.steps,
        }
    }
}
