//! Where a host listens: its name and port, checked once (in the
//! configuration) and used as they are by every connection.

use std::fmt;
use std::net::Ipv6Addr;

/// A host name (DNS name or IP literal; IPv6 kept without brackets) and a
/// port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    host: String,
    port: u16,
}

/// Why a text is not a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAddress {
    #[error("must not be empty")]
    Empty,
    /// `hv01:5985`: the port has its own key, so one host is always written
    /// one way (outcomes and reports are kept per address).
    #[error(
        "`{text}` carries a port; write the host alone and the port in its own key: address = \"{host}\" and port = {port}"
    )]
    CarriesPort {
        text: String,
        host: String,
        port: String,
    },
    #[error("`{0}` is not a host name or an IP address (no scheme, path, user or spaces)")]
    NotAHost(String),
}

impl Address {
    /// Checks `host` (surrounding spaces and the brackets of an IPv6
    /// literal are dropped).
    pub fn new(host: &str, port: u16) -> Result<Address, BadAddress> {
        let text = host.trim();
        if text.is_empty() {
            return Err(BadAddress::Empty);
        }
        let host = match text.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((v6, "")) if v6.parse::<Ipv6Addr>().is_ok() => v6,
                Some((v6, tail)) if v6.parse::<Ipv6Addr>().is_ok() => {
                    return Err(carries_port(text, &format!("[{v6}]"), tail));
                }
                _ => return Err(BadAddress::NotAHost(text.to_string())),
            },
            None if text.parse::<Ipv6Addr>().is_ok() => text,
            None => match text.rsplit_once(':') {
                Some((name, tail)) if !name.contains(':') => {
                    return Err(carries_port(text, name, &format!(":{tail}")));
                }
                Some(_) => return Err(BadAddress::NotAHost(text.to_string())),
                None => text,
            },
        };
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/\\@?#[]".contains(c))
        {
            return Err(BadAddress::NotAHost(text.to_string()));
        }
        Ok(Address {
            host: host.to_string(),
            port,
        })
    }

    /// The name or IP literal (IPv6 without brackets): what the TLS server
    /// name, the SPN and DNS get.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same host on another port.
    pub fn with_port(&self, port: u16) -> Address {
        Address {
            host: self.host.clone(),
            port,
        }
    }
}

fn carries_port(text: &str, host: &str, tail: &str) -> BadAddress {
    match tail.strip_prefix(':') {
        Some(port) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
            BadAddress::CarriesPort {
                text: text.to_string(),
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: port.to_string(),
            }
        }
        _ => BadAddress::NotAHost(text.to_string()),
    }
}

/// `host:port`, IPv6 bracketed: as the HTTP `Host` header carries it.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ip_literals_are_hosts() {
        for (text, host) in [
            ("hv01", "hv01"),
            (" hv01.contoso.com ", "hv01.contoso.com"),
            ("10.0.0.5", "10.0.0.5"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
        ] {
            let a = Address::new(text, 5985).unwrap();
            assert_eq!(a.host(), host, "{text}");
        }
        assert_eq!(
            Address::new("2001:db8::1", 5986).unwrap().to_string(),
            "[2001:db8::1]:5986"
        );
        assert_eq!(Address::new("hv01", 5985).unwrap().to_string(), "hv01:5985");
    }

    #[test]
    fn a_port_inside_the_address_is_refused_with_the_fix() {
        for (text, host, port) in [
            ("hv01:5985", "hv01", "5985"),
            ("10.0.0.5:5986", "10.0.0.5", "5986"),
            ("[2001:db8::1]:5985", "2001:db8::1", "5985"),
        ] {
            let err = Address::new(text, 5985).unwrap_err();
            assert_eq!(
                err,
                BadAddress::CarriesPort {
                    text: text.into(),
                    host: host.into(),
                    port: port.into()
                }
            );
            let msg = err.to_string();
            assert!(msg.contains(&format!("port = {port}")), "{msg}");
        }
    }

    #[test]
    fn urls_and_junk_are_not_hosts() {
        for text in [
            "http://hv01",
            "hv01/wsman",
            "user@hv01",
            "hv 01",
            "hv01:",
            "hv01:http",
            "[hv01]",
            "fe80::1::2",
        ] {
            assert!(
                matches!(Address::new(text, 5985), Err(BadAddress::NotAHost(_))),
                "{text}"
            );
        }
        assert_eq!(Address::new("  ", 5985), Err(BadAddress::Empty));
    }
}
