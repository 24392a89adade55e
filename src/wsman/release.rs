//! WS-Enumeration Release: frees a server-side context we abandon.

use super::Action;
use super::escape::push_escaped;
use super::request::{MessageContext, Request};

pub fn build(ctx: &MessageContext<'_>, resource_uri: &str, context: &str) -> Request {
    ctx.build(Action::Release, resource_uri, |out| {
        out.push_str("<wsen:Release><wsen:EnumerationContext>");
        push_escaped(out, context);
        out.push_str("</wsen:EnumerationContext></wsen:Release>");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::ClientOptions;

    #[test]
    fn release_body_names_the_context() {
        let opts = ClientOptions::default();
        let ctx = MessageContext {
            to: "http://hv1:5985/wsman",
            session_id: "uuid:S",
            opts: &opts,
        };
        let req = build(&ctx, "urn:r", "uuid:C");
        assert_eq!(req.action, Action::Release);
        assert!(req.xml.contains(
            "<s:Body><wsen:Release><wsen:EnumerationContext>uuid:C</wsen:EnumerationContext></wsen:Release></s:Body>"
        ));
    }
}
