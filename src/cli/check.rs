//! `hvinv check`: the diagnostic ladder, host by host, in the order an
//! administrator would walk it. Every failed step prints what to change on
//! the host. It only reads (Identify and the same selects as `collect`), and
//! it never suggests AllowUnencrypted=true: hvinv seals or uses HTTPS.
//! It sends only selects from `inventory::queries`.

use super::config::HostConfig;
use crate::error::{ErrorKind, HasKind};
use crate::inventory::queries;
use crate::transport::{Connection, Scheme, TlsFailure, TransportError};
use crate::wsman::{Client, ClientOptions, WsmanError};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

pub const STEP_NAMES: [&str; 7] = [
    "tcp",
    "listener",
    "authentication",
    "transport security",
    "hyper-v namespace",
    "vmms service",
    "cluster namespace",
];

const REMEDY_LISTENER_HTTP: &str = "On the host, as administrator: `winrm quickconfig` (creates the HTTP listener on 5985 and opens the firewall). Check the address and port in the configuration.";
const REMEDY_LISTENER_HTTPS: &str = "On the host, as administrator, create the HTTPS listener with a Server Authentication certificate whose name is the host's: `winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname=\"<host fqdn>\";CertificateThumbprint=\"<thumbprint>\"}` and open the port: `New-NetFirewallRule -DisplayName 'WinRM HTTPS' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow`.";
const REMEDY_NEGOTIATE: &str = "Enable Negotiate authentication on the WinRM service: `winrm set winrm/config/service/auth @{Negotiate=\"true\"}`.";
const REMEDY_AUTH: &str = "Check the user name and password (DOMAIN\\user, user@domain, or a local user). The account must be in the host's Administrators group (or Remote Management Users with WMI Remote Enable). A local account other than the built-in Administrator also needs, on the host: `reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System /v LocalAccountTokenFilterPolicy /t REG_DWORD /d 1 /f`.";
const REMEDY_SEALING: &str = "hvinv seals every HTTP body with NTLM, which works with the default AllowUnencrypted=false: leave that setting false. Check that Negotiate is enabled (`winrm get winrm/config/service/auth`), or use the HTTPS listener (transport = \"https\").";
const REMEDY_NO_HYPERV: &str = "This host has no Hyper-V WMI namespace: it is not a Hyper-V host, or the role is missing. Install it with `Install-WindowsFeature Hyper-V -IncludeManagementTools -Restart`, or remove the host from the configuration.";
const REMEDY_HYPERV_DENIED: &str = "Give the account read access to Hyper-V: `Add-LocalGroupMember -Group 'Hyper-V Administrators' -Member '<account>'` (or Administrators), and WMI Remote Enable on root\\virtualization\\v2 (wmimgmt.msc > WMI Control > Security).";
const REMEDY_VMMS: &str = "Start the Hyper-V Virtual Machine Management service: `Start-Service vmms; Set-Service vmms -StartupType Automatic`.";
const REMEDY_CLUSTER_DENIED: &str = "Give the account read-only access to the cluster, on any node: `Grant-ClusterAccess -User '<account>' -ReadOnly`. The cluster namespace answers only over an encrypted channel, which hvinv always uses.";

fn tls_remedy(f: &TlsFailure, host: &str) -> String {
    match f {
        TlsFailure::UnknownAuthority => format!(
            "The listener's certificate is self-signed or from a CA this machine does not trust. Add the issuing CA with `ca_file = \"ca.pem\"`, or pin the certificate with `cert_thumbprint = \"<thumbprint>\"` (on the host: `Get-ChildItem WSMan:\\localhost\\Listener\\*\\CertificateThumbprint` or `winrm enumerate winrm/config/Listener`). Connecting to {host}."
        ),
        TlsFailure::NameMismatch => format!(
            "The certificate does not name {host}. Use the name on the certificate as the address, or reissue the listener's certificate for {host} and bind it: `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{{CertificateThumbprint=\"<new thumbprint>\"}}`."
        ),
        TlsFailure::Expired => "The listener's certificate has expired (or is not yet valid). Renew it and bind the new one: `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{CertificateThumbprint=\"<new thumbprint>\"}`; check this machine's clock too.".to_string(),
        TlsFailure::ThumbprintMismatch => "The certificate is not the one pinned by `cert_thumbprint`. If the certificate was renewed, update the pin with the new thumbprint; otherwise something else answers on that address.".to_string(),
        TlsFailure::Other(_) => "The TLS handshake failed. Windows Server 2012 R2 and older may offer only CBC cipher suites with RSA certificates: enable TLS 1.2 with ECDHE+AES-GCM suites on the host, or use sealed HTTP (transport = \"http\").".to_string(),
    }
}

fn step(
    name: &'static str,
    status: StepStatus,
    detail: impl Into<String>,
    remedy: Option<String>,
) -> Step {
    Step {
        name,
        status,
        detail: detail.into(),
        remedy,
    }
}

/// Walks the ladder for one host; stops at the first failed step and marks
/// the rest skipped.
pub async fn check_host(host: &HostConfig, opts: &ClientOptions) -> HostCheck {
    let mut steps = Vec::new();
    let cfg = &host.transport;
    let target = &cfg.target;
    let https = target.scheme == Scheme::Https;
    let connect_timeout = cfg.timeouts.connect;

    // 1. TCP
    let addr = match target.connect_to {
        Some(a) => a.to_string(),
        None => format!(
            "{}:{}",
            target.host.trim_start_matches('[').trim_end_matches(']'),
            target.port
        ),
    };
    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(&addr)).await;
    let stream = match tcp {
        Ok(Ok(s)) => {
            steps.push(step(
                "tcp",
                StepStatus::Pass,
                format!("{addr} accepts connections"),
                None,
            ));
            s
        }
        Ok(Err(e)) => {
            let remedy = if https {
                REMEDY_LISTENER_HTTPS
            } else {
                REMEDY_LISTENER_HTTP
            };
            steps.push(step(
                "tcp",
                StepStatus::Fail,
                format!("cannot connect to {addr}: {e}"),
                Some(remedy.into()),
            ));
            return finish(host, steps);
        }
        Err(_) => {
            let remedy = if https {
                REMEDY_LISTENER_HTTPS
            } else {
                REMEDY_LISTENER_HTTP
            };
            steps.push(step(
                "tcp",
                StepStatus::Fail,
                format!(
                    "no answer from {addr} within {} s (firewall?)",
                    connect_timeout.as_secs()
                ),
                Some(remedy.into()),
            ));
            return finish(host, steps);
        }
    };

    // 2. Listener: over HTTP, an unauthenticated POST must get 401 offering Negotiate.
    if !https {
        match probe_listener(stream, &target.host, target.port, connect_timeout).await {
            Ok(offer) if offer.to_ascii_lowercase().contains("negotiate") => steps.push(step(
                "listener",
                StepStatus::Pass,
                format!("WinRM answers and offers: {offer}"),
                None,
            )),
            Ok(offer) => {
                steps.push(step(
                    "listener",
                    StepStatus::Fail,
                    format!("WinRM answers but does not offer Negotiate (offers: {offer})"),
                    Some(REMEDY_NEGOTIATE.into()),
                ));
                return finish(host, steps);
            }
            Err(detail) => {
                steps.push(step(
                    "listener",
                    StepStatus::Fail,
                    detail,
                    Some(REMEDY_LISTENER_HTTP.into()),
                ));
                return finish(host, steps);
            }
        }
    } else {
        drop(stream);
        steps.push(step(
            "listener",
            StepStatus::Pass,
            "port open (verified with TLS below)",
            None,
        ));
    }

    // 3 + 4. Authentication and transport security: an authenticated, sealed
    // (or TLS-protected) Identify.
    let mut client = Client::new(Connection::new(cfg.clone()), opts.clone());
    match client.identify().await {
        Ok(info) => {
            steps.push(step(
                "authentication",
                StepStatus::Pass,
                format!("NTLMv2 as {}", account(host)),
                None,
            ));
            let how = if https {
                "TLS certificate verified".to_string()
            } else {
                "SOAP bodies sealed with NTLM (AllowUnencrypted can stay false)".to_string()
            };
            let product = [info.product_vendor, info.product_version]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            steps.push(step(
                "transport security",
                StepStatus::Pass,
                format!("{how}; {product}"),
                None,
            ));
        }
        Err(e) => {
            let (name, remedy) = match &e {
                WsmanError::Transport(TransportError::Tls(f)) => {
                    ("transport security", tls_remedy(f, &target.host))
                }
                WsmanError::Transport(TransportError::Auth(_)) => {
                    ("authentication", REMEDY_AUTH.to_string())
                }
                _ if e.kind() == ErrorKind::Auth => ("authentication", REMEDY_AUTH.to_string()),
                _ if e.kind() == ErrorKind::Tls => (
                    "transport security",
                    tls_remedy(&TlsFailure::Other(String::new()), &target.host),
                ),
                _ if e.kind() == ErrorKind::Timeout || e.kind() == ErrorKind::Unreachable => (
                    "listener",
                    if https {
                        REMEDY_LISTENER_HTTPS
                    } else {
                        REMEDY_LISTENER_HTTP
                    }
                    .to_string(),
                ),
                _ => ("transport security", REMEDY_SEALING.to_string()),
            };
            if name == "transport security" && https {
                steps.push(step(
                    "authentication",
                    StepStatus::Skip,
                    "needs a verified TLS channel first",
                    None,
                ));
            }
            steps.push(step(name, StepStatus::Fail, e.to_string(), Some(remedy)));
            client.close().await;
            return finish(host, steps);
        }
    }

    // 5. Hyper-V namespace (v2, else the 2008 R2 one).
    let mut hyperv_ok = false;
    let candidates = [
        (
            &queries::V2_COMPUTER_SYSTEM,
            "root/virtualization/v2 readable",
        ),
        (
            &queries::V1_COMPUTER_SYSTEM,
            "root/virtualization readable (Windows Server 2008 R2)",
        ),
    ];
    for (i, (q, readable)) in candidates.iter().enumerate() {
        let last = i + 1 == candidates.len();
        match client.enumerate_wql(q.namespace, q.wql).await {
            Ok(_) => {
                hyperv_ok = true;
                steps.push(step("hyper-v namespace", StepStatus::Pass, *readable, None));
                break;
            }
            // The v2 namespace is missing: try the 2008 R2 one.
            Err(e) if e.kind() == ErrorKind::Namespace && !last => continue,
            Err(e) => {
                let remedy = match e.kind() {
                    ErrorKind::AccessDenied => Some(REMEDY_HYPERV_DENIED.to_string()),
                    ErrorKind::Namespace => Some(REMEDY_NO_HYPERV.to_string()),
                    _ => None,
                };
                steps.push(step(
                    "hyper-v namespace",
                    StepStatus::Fail,
                    e.to_string(),
                    remedy,
                ));
                break;
            }
        }
    }

    // 6. VMMS: checked even when the namespace failed, since a stopped
    // service is a common reason for it.
    match client
        .enumerate_wql(queries::VMMS_SERVICE.namespace, queries::VMMS_SERVICE.wql)
        .await
    {
        Ok(items) => match items
            .first()
            .and_then(|i| i.text("State").map(str::to_string))
        {
            Some(state) if state.eq_ignore_ascii_case("Running") => steps.push(step(
                "vmms service",
                StepStatus::Pass,
                "Hyper-V Virtual Machine Management is running",
                None,
            )),
            Some(state) => steps.push(step(
                "vmms service",
                StepStatus::Fail,
                format!("Hyper-V Virtual Machine Management (vmms) is {state}"),
                Some(REMEDY_VMMS.into()),
            )),
            None => steps.push(step(
                "vmms service",
                if hyperv_ok {
                    StepStatus::Warn
                } else {
                    StepStatus::Fail
                },
                "no vmms service on this host",
                Some(REMEDY_NO_HYPERV.into()),
            )),
        },
        Err(e) => steps.push(step("vmms service", StepStatus::Warn, e.to_string(), None)),
    }

    // 7. Cluster namespace: absent is normal (standalone host).
    match client
        .enumerate_wql(queries::CLUSTER.namespace, queries::CLUSTER.wql)
        .await
    {
        Ok(items) => {
            let name = items
                .first()
                .and_then(|i| i.text("Name"))
                .unwrap_or("?")
                .to_string();
            steps.push(step(
                "cluster namespace",
                StepStatus::Pass,
                format!("node of cluster {name}"),
                None,
            ));
        }
        Err(e) if e.kind() == ErrorKind::Namespace => steps.push(step(
            "cluster namespace",
            StepStatus::Pass,
            "standalone host (no cluster namespace)",
            None,
        )),
        Err(e) if e.kind() == ErrorKind::AccessDenied => steps.push(step(
            "cluster namespace",
            StepStatus::Warn,
            format!("{e} (VMs are still collected; clustered-VM ownership will be missing)"),
            Some(REMEDY_CLUSTER_DENIED.into()),
        )),
        Err(e) => steps.push(step(
            "cluster namespace",
            StepStatus::Warn,
            e.to_string(),
            None,
        )),
    }
    client.close().await;
    finish(host, steps)
}

fn account(host: &HostConfig) -> String {
    let c = &host.transport.credentials;
    match &c.domain {
        Some(d) => format!("{d}\\{}", c.username),
        None => c.username.clone(),
    }
}

fn finish(host: &HostConfig, mut steps: Vec<Step>) -> HostCheck {
    for name in STEP_NAMES {
        if !steps.iter().any(|s| s.name == name) {
            steps.push(step(name, StepStatus::Skip, "not reached", None));
        }
    }
    steps.sort_by_key(|s| STEP_NAMES.iter().position(|n| *n == s.name));
    let ok = steps.iter().all(|s| s.status != StepStatus::Fail);
    HostCheck {
        address: host.address.clone(),
        ok,
        steps,
    }
}

/// An unauthenticated POST; returns the `WWW-Authenticate` offers of the 401.
async fn probe_listener(
    mut stream: TcpStream,
    host: &str,
    port: u16,
    limit: Duration,
) -> Result<String, String> {
    let request = format!(
        "POST /wsman HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 0\r\nConnection: close\r\nUser-Agent: hvinv-check\r\n\r\n"
    );
    let io = async {
        stream.write_all(request.as_bytes()).await?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        // Headers only: stop at the blank line or 8 KiB.
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf[..len]).into_owned())
    };
    let head = match tokio::time::timeout(limit, io).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return Err(format!("the port is open but the connection failed: {e}")),
        Err(_) => {
            return Err(format!(
                "the port is open but nothing answered within {} s",
                limit.as_secs()
            ));
        }
    };
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if !head.starts_with("HTTP/1.") {
        return Err("the port is open but does not speak HTTP (is it the WinRM port?)".into());
    }
    let offers: Vec<String> = head
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("www-authenticate")
                .then(|| value.split_whitespace().next().unwrap_or("").to_string())
        })
        .collect();
    if status != "401" {
        return Err(format!(
            "expected 401 from /wsman, got HTTP {status} (is this a WinRM listener?)"
        ));
    }
    Ok(offers.join(", "))
}

/// Prints one host's result for a person.
pub fn print_text(check: &HostCheck, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {}",
        check.address,
        if check.ok { "OK" } else { "PROBLEM" }
    )?;
    for s in &check.steps {
        let mark = match s.status {
            StepStatus::Pass => "ok  ",
            StepStatus::Warn => "warn",
            StepStatus::Fail => "FAIL",
            StepStatus::Skip => "skip",
        };
        writeln!(out, "  [{mark}] {:<19} {}", s.name, s.detail)?;
        if let Some(r) = &s.remedy {
            writeln!(out, "         fix: {r}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_remedy_ever_suggests_allow_unencrypted_true() {
        let mut all = vec![
            REMEDY_LISTENER_HTTP,
            REMEDY_LISTENER_HTTPS,
            REMEDY_NEGOTIATE,
            REMEDY_AUTH,
            REMEDY_SEALING,
            REMEDY_NO_HYPERV,
            REMEDY_HYPERV_DENIED,
            REMEDY_VMMS,
            REMEDY_CLUSTER_DENIED,
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        for f in [
            TlsFailure::UnknownAuthority,
            TlsFailure::NameMismatch,
            TlsFailure::Expired,
            TlsFailure::ThumbprintMismatch,
            TlsFailure::Other("x".into()),
        ] {
            all.push(tls_remedy(&f, "hv01"));
        }
        for r in all {
            let squashed: String = r
                .to_ascii_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            assert!(!squashed.contains("allowunencrypted=\"true\""), "{r}");
            assert!(!squashed.contains("allowunencrypted=true"), "{r}");
        }
    }
}
