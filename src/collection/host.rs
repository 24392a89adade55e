//! One host: connect, authenticate, run the fixed queries, within the
//! host's deadline, retrying once when the failure is connection-level.

use crate::error::{ErrorKind, HasKind};
use crate::inventory;
use crate::store::HostOutcome;
use crate::transport::{AuthUsed, Connection, TransportConfig};
use crate::wsman::{Client, ClientOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One configured host, ready to collect.
#[derive(Debug, Clone)]
pub struct HostPlan {
    /// The address as configured: how the host is named in outcomes and reports.
    pub address: String,
    pub transport: Arc<TransportConfig>,
    /// The most this host may take, retries included.
    pub timeout: Duration,
    /// Licence region (config `region`); `None` is `"default"`. Stored
    /// with the host's facts, so a host moved between regions is counted
    /// where it was at each run.
    pub region: Option<String>,
}

/// Collects one host. Retries once, after a short back-off, when the failure
/// is connection-level and the host's deadline leaves room.
pub async fn collect_host_within_deadline(host: &HostPlan, opts: &ClientOptions) -> HostOutcome {
    collect_host_with_auth(host, opts).await.0
}

/// Like `collect_host_within_deadline`, also saying which mechanism (NTLM
/// or Kerberos) the last attempt authenticated with, if it got that far.
pub async fn collect_host_with_auth(
    host: &HostPlan,
    opts: &ClientOptions,
) -> (HostOutcome, Option<AuthUsed>) {
    let start = Instant::now();
    let deadline = start + host.timeout;
    let mut round_trips = 0;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut client = Client::new(Connection::new(host.transport.clone()), opts.clone());
        let outcome = tokio::time::timeout(remaining, inventory::collect_host(&mut client)).await;
        let stats = client.connection().stats();
        round_trips += stats.round_trips;
        let auth = stats.auth;
        if let Some(auth) = auth {
            match client.connection().kerberos_fallback_reason() {
                Some(why) => tracing::info!(
                    host = %host.address,
                    "authenticated with {} (Kerberos not used: {why})",
                    auth.as_str()
                ),
                None => {
                    tracing::info!(host = %host.address, "authenticated with {}", auth.as_str())
                }
            }
        }
        client.close().await;
        let (kind, message) = match outcome {
            Ok(Ok(mut snapshot)) => {
                snapshot.region = host.region.clone();
                let outcome = HostOutcome::Ok {
                    snapshot,
                    round_trips,
                    duration: start.elapsed(),
                };
                return (outcome, auth);
            }
            Ok(Err(e)) => (e.kind(), e.to_string()),
            Err(_) => (
                ErrorKind::Timeout,
                format!(
                    "host did not finish within its {} s deadline",
                    host.timeout.as_secs()
                ),
            ),
        };
        let backoff = Duration::from_millis(500 * attempt);
        let room = deadline.saturating_duration_since(Instant::now());
        if attempt >= 2 || !kind.is_retryable() || room <= backoff * 2 {
            let outcome = HostOutcome::Failed {
                kind,
                message,
                round_trips,
                duration: start.elapsed(),
            };
            return (outcome, auth);
        }
        tracing::info!(host = %host.address, %kind, "retrying after {message}");
        tokio::time::sleep(backoff).await;
    }
}
