//! WS-Enumeration Pull with the newest context.

use super::Action;
use super::escape::push_escaped;
use super::request::{MessageContext, Request};
use std::fmt::Write;

pub fn build(ctx: &MessageContext<'_>, resource_uri: &str, context: &str) -> Request {
    let max_elements = ctx.opts.max_elements;
    ctx.build(Action::Pull, resource_uri, |out| {
        out.push_str("<wsen:Pull><wsen:EnumerationContext>");
        push_escaped(out, context);
        // MaxElements is in the wsen namespace inside Pull.
        let _ = write!(
            out,
            "</wsen:EnumerationContext><wsen:MaxElements>{max_elements}</wsen:MaxElements></wsen:Pull>"
        );
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::ClientOptions;

    #[test]
    fn pull_body_carries_context_and_wsen_max_elements() {
        let opts = ClientOptions {
            max_elements: 50,
            ..ClientOptions::default()
        };
        let ctx = MessageContext {
            to: "http://hv1:5985/wsman",
            session_id: "uuid:S",
            opts: &opts,
        };
        let req = build(&ctx, "urn:r", "uuid:C<1>");
        assert_eq!(req.action, Action::Pull);
        assert!(req.xml.contains(
            "<s:Body><wsen:Pull><wsen:EnumerationContext>uuid:C&lt;1&gt;</wsen:EnumerationContext>\
             <wsen:MaxElements>50</wsen:MaxElements></wsen:Pull></s:Body>"
        ));
    }
}
