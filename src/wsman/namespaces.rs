//! The one namespace table every envelope is built from (pypsrp's
//! `NAMESPACES`), and the classification of namespace URIs met in replies.
//! Replies are matched on the URI, never on the prefix.

pub const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
pub const ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
pub const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
pub const WSMV: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd";
pub const WSMAN_FAULT: &str = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const CIM: &str = "http://schemas.dmtf.org/wbem/wscim/1/common";
pub const IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";

/// `wsa:ReplyTo` address: replies come back on the same HTTP exchange.
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";
/// `wsman:Filter@Dialect` for WQL.
pub const WQL_DIALECT: &str = "http://schemas.microsoft.com/wbem/wsman/1/WQL";
/// Prefix of every WMI resource URI; the WMI namespace follows.
pub const WMI_RESOURCE_BASE: &str = "http://schemas.microsoft.com/wbem/wsman/1/wmi/";

/// Prefixes declared on every request envelope, in one place.
pub const PREFIXES: [(&str, &str); 6] = [
    ("s", SOAP),
    ("wsa", ADDRESSING),
    ("wsen", ENUMERATION),
    ("wsman", WSMAN),
    ("wsmv", WSMV),
    ("wsmid", IDENTITY),
];

/// A namespace URI met in a reply, reduced to what the parsers care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// No namespace (unqualified element, e.g. `XmlFragment` children).
    None,
    Soap,
    Addressing,
    Enumeration,
    Wsman,
    Wsmv,
    Fault,
    Xsi,
    Cim,
    Identity,
    /// Anything else (WMI class namespaces, vendor extensions).
    Other,
}

impl Ns {
    pub fn of(uri: &str) -> Ns {
        match uri {
            SOAP => Ns::Soap,
            ADDRESSING => Ns::Addressing,
            ENUMERATION => Ns::Enumeration,
            WSMAN => Ns::Wsman,
            WSMV => Ns::Wsmv,
            WSMAN_FAULT => Ns::Fault,
            XSI => Ns::Xsi,
            CIM => Ns::Cim,
            IDENTITY => Ns::Identity,
            _ => Ns::Other,
        }
    }
}

/// The "all classes" resource URI WQL needs for a WMI namespace:
/// `root\virtualization\v2` or `root/virtualization/v2` becomes
/// `http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*`.
pub fn wql_resource_uri(namespace: &str) -> String {
    let trimmed = namespace.trim_matches(|c| c == '/' || c == '\\');
    let mut uri = String::with_capacity(WMI_RESOURCE_BASE.len() + trimmed.len() + 2);
    uri.push_str(WMI_RESOURCE_BASE);
    for c in trimmed.chars() {
        uri.push(if c == '\\' { '/' } else { c });
    }
    uri.push_str("/*");
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wql_resource_uri_uses_namespace_wildcard() {
        assert_eq!(
            wql_resource_uri("root/virtualization/v2"),
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*"
        );
    }

    #[test]
    fn wql_resource_uri_turns_backslashes_into_slashes() {
        assert_eq!(
            wql_resource_uri("root\\cimv2"),
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*"
        );
        assert_eq!(
            wql_resource_uri("/root/MSCluster/"),
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/MSCluster/*"
        );
    }

    #[test]
    fn ns_classifies_by_uri_not_prefix() {
        assert_eq!(
            Ns::of("http://schemas.xmlsoap.org/ws/2004/09/enumeration"),
            Ns::Enumeration
        );
        assert_eq!(
            Ns::of("http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"),
            Ns::Wsman
        );
        assert_eq!(Ns::of("http://example.com/n"), Ns::Other);
    }
}
