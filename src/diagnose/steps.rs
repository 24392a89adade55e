//! One function per step of the ladder. Each records its outcome in the
//! `Ladder` and returns what the next step needs, or `None` to stop.

use super::remedy::{self, *};
use super::{Ladder, StepStatus};
use crate::error::{ErrorKind, HasKind};
use crate::inventory::classes::{MsclusterCluster, Win32Service};
use crate::inventory::queries;
use crate::transport::{
    AuthUsed, Connection, Scheme, TlsFailure, TransportConfig, TransportError, probe,
};
use crate::wsman::{Client, ClientOptions, WsmanError};
use std::sync::Arc;

pub(super) const TCP: &str = "tcp";
pub(super) const LISTENER: &str = "listener";
pub(super) const AUTHENTICATION: &str = "authentication";
pub(super) const TRANSPORT_SECURITY: &str = "transport security";
pub(super) const HYPERV_NAMESPACE: &str = "hyper-v namespace";
pub(super) const VMMS_SERVICE: &str = "vmms service";
pub(super) const CLUSTER_NAMESPACE: &str = "cluster namespace";

/// Step 1: the name resolves and the port accepts a TCP connection.
pub(super) async fn tcp(l: &mut Ladder, cfg: &TransportConfig) -> Option<()> {
    let target = &cfg.target;
    let limit = cfg.timeouts.connect;
    let listener_remedy = remedy::listener(target.scheme);
    match probe::tcp(target, limit).await {
        Ok(addr) => {
            l.pass(TCP, format!("{addr} accepts connections"));
            Some(())
        }
        Err(e @ TransportError::NameNotResolved { .. }) => {
            l.fail(TCP, e.to_string(), Some(REMEDY_NAME_NOT_RESOLVED))
        }
        Err(TransportError::Timeout { .. }) => l.fail(
            TCP,
            format!(
                "no answer from {} within {} s (firewall?)",
                target.dial_text(),
                limit.as_secs()
            ),
            Some(listener_remedy),
        ),
        Err(e) => l.fail(TCP, e.to_string(), Some(listener_remedy)),
    }
}

/// Step 2: over HTTP, an unauthenticated POST gets 401 offering Negotiate. Over
/// HTTPS the TLS handshake comes first, so this waits for step 4.
pub(super) async fn listener(l: &mut Ladder, cfg: &TransportConfig) -> Option<()> {
    if cfg.target.scheme == Scheme::Https {
        l.pass(LISTENER, "port open (verified with TLS below)");
        return Some(());
    }
    match probe::http_listener(cfg).await {
        Ok(reply) if reply.offers_negotiate() => {
            l.pass(
                LISTENER,
                format!("WinRM answers and offers: {}", reply.offer_list()),
            );
            Some(())
        }
        Ok(reply) if reply.status == 401 => l.fail(
            LISTENER,
            format!(
                "WinRM answers but does not offer Negotiate (offers: {})",
                reply.offer_list()
            ),
            Some(REMEDY_NEGOTIATE),
        ),
        Ok(reply) => l.fail(
            LISTENER,
            format!(
                "expected 401 from /wsman, got HTTP {} (is this a WinRM listener?)",
                reply.status
            ),
            Some(REMEDY_LISTENER_HTTP),
        ),
        Err(e) => l.fail(
            LISTENER,
            format!("the port is open but WinRM did not answer: {e}"),
            Some(REMEDY_LISTENER_HTTP),
        ),
    }
}

/// Steps 3 and 4: an authenticated Identify, sealed over HTTP or inside verified
/// TLS: proves the account and the channel together.
pub(super) async fn authenticate(
    l: &mut Ladder,
    cfg: &Arc<TransportConfig>,
    opts: &ClientOptions,
) -> Option<Client> {
    let https = cfg.target.scheme == Scheme::Https;
    let mut client = Client::new(Connection::new(cfg.clone()), opts.clone());
    match client.identify().await {
        Ok(info) => {
            l.pass(AUTHENTICATION, mechanism_detail(client.connection(), cfg));
            let how = if https {
                "TLS certificate verified"
            } else {
                match client.connection().stats().auth {
                    Some(AuthUsed::Kerberos) => {
                        "SOAP bodies sealed with the Kerberos session key (AllowUnencrypted can stay false)"
                    }
                    _ => "SOAP bodies sealed with NTLM (AllowUnencrypted can stay false)",
                }
            };
            let product = [info.product_vendor, info.product_version]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            l.pass(TRANSPORT_SECURITY, format!("{how}; {product}"));
            Some(client)
        }
        Err(e) => {
            client.close().await;
            let (name, remedy) = identify_failure(&e, cfg);
            if name == TRANSPORT_SECURITY && https {
                l.record(
                    AUTHENTICATION,
                    StepStatus::Skip,
                    "needs a verified TLS channel first",
                    None,
                );
            }
            l.fail(name, e.to_string(), Some(&remedy))
        }
    }
}

/// Which step an Identify failure belongs to, and its remedy.
fn identify_failure(e: &WsmanError, cfg: &TransportConfig) -> (&'static str, String) {
    let host = cfg.target.host();
    match e {
        WsmanError::Transport(TransportError::Tls(f)) => (TRANSPORT_SECURITY, tls_remedy(f, host)),
        // Each Kerberos failure names its own remedy (KDC, principal,
        // password, clock).
        WsmanError::Transport(TransportError::Kerberos(f)) => (AUTHENTICATION, f.to_string()),
        _ => match e.kind() {
            ErrorKind::Auth => (AUTHENTICATION, REMEDY_AUTH.to_string()),
            ErrorKind::Tls => (
                TRANSPORT_SECURITY,
                tls_remedy(&TlsFailure::Other(String::new()), host),
            ),
            ErrorKind::NameNotResolved => (TCP, REMEDY_NAME_NOT_RESOLVED.to_string()),
            ErrorKind::Timeout | ErrorKind::Unreachable => {
                (LISTENER, remedy::listener(cfg.target.scheme).to_string())
            }
            _ => (TRANSPORT_SECURITY, REMEDY_SEALING.to_string()),
        },
    }
}

/// Which mechanism authenticated, as whom, and why not Kerberos when
/// `negotiate` fell back to NTLM.
fn mechanism_detail(conn: &Connection, cfg: &TransportConfig) -> String {
    match conn.stats().auth {
        Some(AuthUsed::Kerberos) => format!(
            "Kerberos ({}/{}) as {}",
            cfg.kerberos.spn_service(),
            cfg.target.host().to_ascii_lowercase(),
            account(cfg)
        ),
        _ => match conn.kerberos_fallback_reason() {
            Some(why) => format!("NTLMv2 as {} (Kerberos not used: {why})", account(cfg)),
            None => format!("NTLMv2 as {}", account(cfg)),
        },
    }
}

fn account(cfg: &TransportConfig) -> String {
    let c = &cfg.credentials;
    match &c.domain {
        Some(d) => format!("{d}\\{}", c.username),
        None => c.username.clone(),
    }
}

/// Step 5: the Hyper-V namespace answers: v2, else the 2008 R2 one. Returns
/// whether it did.
pub(super) async fn hyperv_namespace(l: &mut Ladder, client: &mut Client) -> bool {
    let v2 = &queries::V2_COMPUTER_SYSTEM;
    let v1 = &queries::V1_COMPUTER_SYSTEM;
    let result = match client.enumerate_wql(v2.namespace, v2.wql).await {
        Ok(_) => Ok("root/virtualization/v2 readable"),
        // The v2 namespace is missing: try the 2008 R2 one.
        Err(e) if e.kind() == ErrorKind::Namespace => client
            .enumerate_wql(v1.namespace, v1.wql)
            .await
            .map(|_| "root/virtualization readable (Windows Server 2008 R2)"),
        Err(e) => Err(e),
    };
    match result {
        Ok(readable) => {
            l.pass(HYPERV_NAMESPACE, readable);
            true
        }
        Err(e) => {
            let remedy = match e.kind() {
                ErrorKind::AccessDenied => Some(REMEDY_HYPERV_DENIED),
                ErrorKind::Namespace => Some(REMEDY_NO_HYPERV),
                _ => None,
            };
            l.record(HYPERV_NAMESPACE, StepStatus::Fail, e.to_string(), remedy);
            false
        }
    }
}

/// Step 6: the Hyper-V Virtual Machine Management service runs. Checked even
/// when the namespace failed, since a stopped service is a common reason.
pub(super) async fn vmms_service(l: &mut Ladder, client: &mut Client, hyperv_ok: bool) {
    let q = &queries::VMMS_SERVICE;
    let rows = match client.enumerate_wql(q.namespace, q.wql).await {
        Ok(rows) => rows,
        Err(e) => return l.record(VMMS_SERVICE, StepStatus::Warn, e.to_string(), None),
    };
    let service = rows
        .first()
        .and_then(|i| Win32Service::from_instance(i).ok());
    match service {
        Some(s) if s.is_running() => {
            l.pass(
                VMMS_SERVICE,
                "Hyper-V Virtual Machine Management is running",
            );
        }
        Some(Win32Service {
            state: Some(state), ..
        }) => l.record(
            VMMS_SERVICE,
            StepStatus::Fail,
            format!("Hyper-V Virtual Machine Management (vmms) is {state}"),
            Some(REMEDY_VMMS),
        ),
        _ => l.record(
            VMMS_SERVICE,
            if hyperv_ok {
                StepStatus::Warn
            } else {
                StepStatus::Fail
            },
            "no vmms service on this host",
            Some(REMEDY_NO_HYPERV),
        ),
    }
}

/// Step 7: the cluster namespace: absent is normal (a standalone host), denied
/// is a warning (VMs are still collected).
pub(super) async fn cluster_namespace(l: &mut Ladder, client: &mut Client) {
    let q = &queries::CLUSTER;
    match client.enumerate_wql(q.namespace, q.wql).await {
        Ok(rows) => {
            let name = rows
                .first()
                .and_then(|i| MsclusterCluster::from_instance(i).ok())
                .and_then(|c| c.name)
                .unwrap_or_else(|| "?".to_string());
            l.pass(CLUSTER_NAMESPACE, format!("node of cluster {name}"));
        }
        Err(e) if e.kind() == ErrorKind::Namespace => {
            l.pass(CLUSTER_NAMESPACE, "standalone host (no cluster namespace)");
        }
        Err(e) if e.kind() == ErrorKind::AccessDenied => l.record(
            CLUSTER_NAMESPACE,
            StepStatus::Warn,
            format!("{e} (VMs are still collected; clustered-VM ownership will be missing)"),
            Some(REMEDY_CLUSTER_DENIED),
        ),
        Err(e) => l.record(CLUSTER_NAMESPACE, StepStatus::Warn, e.to_string(), None),
    }
}
