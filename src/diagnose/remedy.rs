//! What to type on the host (or change in the configuration) when a step
//! of the ladder fails. None of them ever suggests AllowUnencrypted=true:
//! hvinv seals every HTTP body or uses HTTPS.

use crate::transport::{Scheme, TlsFailure};

pub(super) const REMEDY_LISTENER_HTTP: &str = "On the host, as administrator: `winrm quickconfig` (creates the HTTP listener on 5985 and opens the firewall). Check the address and port in the configuration.";
pub(super) const REMEDY_LISTENER_HTTPS: &str = "On the host, as administrator, create the HTTPS listener with a Server Authentication certificate whose name is the host's: `winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname=\"<host fqdn>\";CertificateThumbprint=\"<thumbprint>\"}` and open the port: `New-NetFirewallRule -DisplayName 'WinRM HTTPS' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow`.";
pub(super) const REMEDY_NEGOTIATE: &str = "Enable Negotiate authentication on the WinRM service: `winrm set winrm/config/service/auth @{Negotiate=\"true\"}`.";
pub(super) const REMEDY_AUTH: &str = "Check the user name and password (DOMAIN\\user, user@domain, or a local user). The account must be in the host's Administrators group (or Remote Management Users with WMI Remote Enable). A local account other than the built-in Administrator also needs, on the host: `reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System /v LocalAccountTokenFilterPolicy /t REG_DWORD /d 1 /f`.";
pub(super) const REMEDY_SEALING: &str = "hvinv seals every HTTP body with NTLM, which works with the default AllowUnencrypted=false: leave that setting false. Check that Negotiate is enabled (`winrm get winrm/config/service/auth`), or use the HTTPS listener (transport = \"https\").";
pub(super) const REMEDY_NO_HYPERV: &str = "This host has no Hyper-V WMI namespace: it is not a Hyper-V host, or the role is missing. Install it with `Install-WindowsFeature Hyper-V -IncludeManagementTools -Restart`, or remove the host from the configuration.";
pub(super) const REMEDY_HYPERV_DENIED: &str = "Give the account read access to Hyper-V: `Add-LocalGroupMember -Group 'Hyper-V Administrators' -Member '<account>'` (or Administrators), and WMI Remote Enable on root\\virtualization\\v2 (wmimgmt.msc > WMI Control > Security).";
pub(super) const REMEDY_VMMS: &str = "Start the Hyper-V Virtual Machine Management service: `Start-Service vmms; Set-Service vmms -StartupType Automatic`.";
pub(super) const REMEDY_CLUSTER_DENIED: &str = "Give the account read-only access to the cluster, on any node: `Grant-ClusterAccess -User '<account>' -ReadOnly`. The cluster namespace answers only over an encrypted channel, which hvinv always uses.";

pub(super) fn tls_remedy(f: &TlsFailure, host: &str) -> String {
    match f {
        TlsFailure::UnknownAuthority => format!(
            "The listener's certificate is self-signed or from a CA this machine does not trust. Add the issuing CA with `ca_file = \"ca.pem\"`, or pin the certificate with `cert_thumbprint = \"<thumbprint>\"` (on the host: `Get-ChildItem WSMan:\\localhost\\Listener\\*\\CertificateThumbprint` or `winrm enumerate winrm/config/Listener`). Connecting to {host}."
        ),
        TlsFailure::NameMismatch => format!(
            "The certificate does not name {host}. Use the name on the certificate as the address, or reissue the listener's certificate for {host} and bind it: `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{{CertificateThumbprint=\"<new thumbprint>\"}}`."
        ),
        TlsFailure::Expired => "The listener's certificate has expired (or is not yet valid). Renew it and bind the new one: `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{CertificateThumbprint=\"<new thumbprint>\"}`; check this machine's clock too.".to_string(),
        TlsFailure::ThumbprintMismatch => "The certificate is not the one pinned by `cert_thumbprint`. If the certificate was renewed, update the pin with the new thumbprint; otherwise something else answers on that address.".to_string(),
        TlsFailure::NoCommonProtocol(_) => "The host offers no TLS version or cipher suite hvinv accepts (TLS 1.2 or 1.3 with AES-GCM or ChaCha20). Windows Server 2008 R2, and 2012 or 2012 R2 before KB2919355, offer only CBC suites, and 2008 R2 has TLS 1.2 off on the server side: use sealed HTTP on port 5985 for such a host (transport = \"http\"; the SOAP bodies are still encrypted, AllowUnencrypted stays false), or enable TLS 1.2 with ECDHE+AES-GCM suites on it.".to_string(),
        TlsFailure::Other(_) => "The TLS handshake failed. Windows Server 2012 R2 and older may offer only CBC cipher suites with RSA certificates: enable TLS 1.2 with ECDHE+AES-GCM suites on the host, or use sealed HTTP (transport = \"http\").".to_string(),
    }
}

pub(super) const REMEDY_NAME_NOT_RESOLVED: &str = "The host name does not resolve from this machine. Check the spelling of `address` in the configuration and this machine's DNS (`nslookup <address>` must answer); if the name resolves only inside another network, keep it as `address` and set `connect_to = \"<IP>:<port>\"`.";

/// The listener remedy for the transport in use.
pub(super) fn listener(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Http => REMEDY_LISTENER_HTTP,
        Scheme::Https => REMEDY_LISTENER_HTTPS,
    }
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
            REMEDY_NAME_NOT_RESOLVED,
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        for f in [
            TlsFailure::UnknownAuthority,
            TlsFailure::NameMismatch,
            TlsFailure::Expired,
            TlsFailure::ThumbprintMismatch,
            TlsFailure::NoCommonProtocol("x".into()),
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
