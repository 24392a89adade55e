//! WS-Enumeration Enumerate with a WQL filter (MS-WSMV 3.1.4.1.13).

use super::Action;
use super::escape::push_escaped;
use super::namespaces::WQL_DIALECT;
use super::request::{MessageContext, Request};
use std::fmt::Write;

/// `resource_uri` is the namespace wildcard URI (`…/wmi/root/cimv2/*`);
/// the class is named in the WQL `FROM` clause.
pub fn build(ctx: &MessageContext<'_>, resource_uri: &str, wql: &str) -> Request {
    let max_elements = ctx.opts.max_elements;
    ctx.build(Action::Enumerate, resource_uri, |out| {
        out.push_str("<wsen:Enumerate><wsman:OptimizeEnumeration/>");
        // MaxElements sits in the wsman namespace inside Enumerate.
        let _ = write!(out, "<wsman:MaxElements>{max_elements}</wsman:MaxElements>");
        out.push_str("<wsman:Filter Dialect=\"");
        out.push_str(WQL_DIALECT);
        out.push_str("\">");
        push_escaped(out, wql);
        out.push_str("</wsman:Filter></wsen:Enumerate>");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::ClientOptions;

    #[test]
    fn enumerate_body_has_optimize_max_elements_and_escaped_wql_filter() {
        let opts = ClientOptions::default();
        let ctx = MessageContext {
            to: "http://hv1:5985/wsman",
            session_id: "uuid:S",
            opts: &opts,
        };
        let req = build(
            &ctx,
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*",
            "SELECT Name FROM Win32_Service WHERE Name='vmms' AND State<>\"x\" & 1",
        );
        assert_eq!(req.action, Action::Enumerate);
        assert!(req.xml.contains(
            "<s:Body><wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>32000</wsman:MaxElements>\
             <wsman:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/WQL\">\
             SELECT Name FROM Win32_Service WHERE Name=&apos;vmms&apos; AND State&lt;&gt;&quot;x&quot; &amp; 1\
             </wsman:Filter></wsen:Enumerate></s:Body>"
        ));
        let id = req.message_id.unwrap();
        assert!(
            req.xml
                .contains(&format!("<wsa:MessageID>{id}</wsa:MessageID>"))
        );
    }
}
