//! One function per step of the ladder. Each records its outcome in the
//! `Ladder` and returns what the next step needs, or `None` to stop.

use super::remedy::{self, *};
use super::{Ladder, StepStatus};
use crate::error::{ErrorKind, HasKind};
use crate::inventory::classes::{MsclusterCluster, Win32Service};
use crate::inventory::discover;
use crate::inventory::fault::{FaultClass, classify};
use crate::inventory::queries;
use crate::transport::{
    AuthUsed, Connection, Scheme, TlsFailure, TransportConfig, TransportError, probe,
};
use crate::wsman::{Client, ClientOptions, ParseError, WsmanError};
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
    let proof = match client.identify().await {
        Ok(info) => Ok([info.product_vendor, info.product_version]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")),
        // A reply came back through the authenticated (sealed) channel but
        // is not Windows' IdentifyResponse (OMI answers in its own
        // namespace) or is a fault: a root/cimv2 select proves the logon
        // and the channel instead.
        Err(e @ (WsmanError::Fault(_) | WsmanError::Parse(ParseError::UnexpectedBody { .. }))) => {
            let q = &queries::COMPUTER_SYSTEM;
            client
                .enumerate_wql(q.namespace, q.wql)
                .await
                .map(|_| format!("root/cimv2 select answered (Identify did not: {e})"))
        }
        Err(e) => Err(e),
    };
    match proof {
        Ok(product) => {
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

/// What step 5 learnt, for the steps after it.
pub(super) struct Providers {
    /// The Hyper-V namespace answered.
    pub hyperv: bool,
    /// `root` lists `MSCluster` (`None`: `root` could not be read).
    pub mscluster: Option<bool>,
}

/// Step 5: the Hyper-V namespace answers. Which one (v2, or the 2008 R2
/// provider) and whether it exists at all is asked with `__NAMESPACE`, as
/// collection does (`inventory::discover`): a fault never says a namespace
/// is missing, and a fault on a namespace that exists is that host's error.
pub(super) async fn hyperv_namespace(l: &mut Ladder, client: &mut Client) -> Providers {
    let root = match discover::root_providers(client).await {
        Ok(root) => root,
        Err(e) => {
            let remedy = (classify(&e) == FaultClass::AccessDenied).then_some(REMEDY_HYPERV_DENIED);
            l.record(
                HYPERV_NAMESPACE,
                StepStatus::Fail,
                format!("listing the namespaces in root: {e}"),
                remedy,
            );
            return Providers {
                hyperv: false,
                mscluster: None,
            };
        }
    };
    let mscluster = Some(root.mscluster);
    if !root.virtualization {
        l.record(
            HYPERV_NAMESPACE,
            StepStatus::Fail,
            "root lists no `virtualization` namespace: the Hyper-V role is not installed",
            Some(REMEDY_NO_HYPERV),
        );
        return Providers {
            hyperv: false,
            mscluster,
        };
    }
    let v2 = &queries::V2_COMPUTER_SYSTEM;
    let v1 = &queries::V1_COMPUTER_SYSTEM;
    let result = match client.enumerate_wql(v2.namespace, v2.wql).await {
        Ok(_) => Ok("root/virtualization/v2 readable"),
        Err(e) if classify(&e) == FaultClass::AccessDenied => Err(e),
        // Not listed: the 2008 R2 provider; listed (or unknown): the v2
        // error is the host's.
        Err(e) => match discover::lists_v2(client).await {
            Ok(false) => client
                .enumerate_wql(v1.namespace, v1.wql)
                .await
                .map(|_| "root/virtualization readable (Windows Server 2008 R2)"),
            _ => Err(e),
        },
    };
    match result {
        Ok(readable) => {
            l.pass(HYPERV_NAMESPACE, readable);
            Providers {
                hyperv: true,
                mscluster,
            }
        }
        Err(e) => {
            let remedy = match classify(&e) {
                FaultClass::AccessDenied => Some(REMEDY_HYPERV_DENIED),
                FaultClass::ProviderFailure => Some(REMEDY_VMMS),
                _ => None,
            };
            l.record(HYPERV_NAMESPACE, StepStatus::Fail, e.to_string(), remedy);
            Providers {
                hyperv: false,
                mscluster,
            }
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

/// Step 7: the cluster namespace. Not listed in `root`: a standalone host
/// (normal). Listed but denied: a warning (VMs are still collected); any
/// other fault a warning with the host's text.
pub(super) async fn cluster_namespace(
    l: &mut Ladder,
    client: &mut Client,
    mscluster: Option<bool>,
) {
    match mscluster {
        Some(false) => {
            return l.pass(
                CLUSTER_NAMESPACE,
                "standalone host (root lists no MSCluster namespace)",
            );
        }
        Some(true) => {}
        None => {
            return l.record(
                CLUSTER_NAMESPACE,
                StepStatus::Skip,
                "needs the namespace list of root",
                None,
            );
        }
    }
    let q = &queries::CLUSTER;
    match client.enumerate_wql(q.namespace, q.wql).await {
        Ok(rows) if rows.is_empty() => {
            l.pass(CLUSTER_NAMESPACE, "standalone host (not in a cluster)");
        }
        Ok(rows) => {
            let name = rows
                .first()
                .and_then(|i| MsclusterCluster::from_instance(i).ok())
                .and_then(|c| c.name)
                .unwrap_or_else(|| "?".to_string());
            l.pass(CLUSTER_NAMESPACE, format!("node of cluster {name}"));
        }
        Err(e) if classify(&e) == FaultClass::AccessDenied => l.record(
            CLUSTER_NAMESPACE,
            StepStatus::Warn,
            format!("{e} (VMs are still collected; clustered-VM ownership will be missing)"),
            Some(REMEDY_CLUSTER_DENIED),
        ),
        Err(e) => l.record(CLUSTER_NAMESPACE, StepStatus::Warn, e.to_string(), None),
    }
}
