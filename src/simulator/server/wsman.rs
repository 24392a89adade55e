//! WS-Management dispatch for one authenticated request: Identify,
//! Enumerate, Pull, Release; everything else is `ActionNotSupported`.

use super::cache::{Generation, Items};
use crate::simulator::LoggedRequest;
use crate::simulator::classes::{Namespace, QueryFault, has_namespace, is_namespace_select};
use crate::simulator::estate::SimHost;
use crate::simulator::soap::ns;
use crate::simulator::soap::request::{self, Body, Request};
use crate::simulator::soap::response::{self, Cause, Fault, Speaker};
use std::collections::HashMap;
use std::sync::Arc;

/// An open enumeration on this connection.
pub struct Cursor {
    items: Items,
    pos: usize,
}

/// Enumeration contexts of one connection (contexts are per connection,
/// as on Windows where they belong to the shell/session).
#[derive(Default)]
pub struct Contexts {
    open: HashMap<String, Cursor>,
}

/// Bound on open enumerations per connection.
const MAX_CONTEXTS: usize = 64;

impl Contexts {
    fn insert(&mut self, c: Cursor) -> String {
        if self.open.len() >= MAX_CONTEXTS
            && let Some(k) = self.open.keys().next().cloned()
        {
            self.open.remove(&k);
        }
        let id = format!("uuid:{}", uuid::Uuid::new_v4().to_string().to_uppercase());
        self.open.insert(id.clone(), c);
        id
    }
}

pub struct Ctx<'a> {
    pub generation: &'a Generation,
    pub host_index: usize,
    pub host: &'a SimHost,
    /// Sealed HTTP or HTTPS (packet privacy).
    pub encrypted: bool,
    pub page_size: usize,
}

pub struct Outcome {
    pub status: u16,
    pub xml: String,
    pub log: LoggedRequest,
}

fn fault_of(q: QueryFault) -> Fault {
    Fault::Refused(match q {
        QueryFault::InvalidNamespace => Cause::InvalidNamespace,
        QueryFault::InvalidClass => Cause::InvalidClass,
        QueryFault::InvalidQuery => Cause::InvalidQuery,
    })
}

/// The host as its faults name and word it.
pub fn speaker<'a>(host: &SimHost, machine: &'a str) -> Speaker<'a> {
    Speaker {
        machine,
        release: host.release,
        locale: host.locale,
    }
}

pub fn dispatch(
    ctx: &Ctx<'_>,
    contexts: &mut Contexts,
    body: &[u8],
    log: LoggedRequest,
) -> Outcome {
    let machine = ctx.host.fqdn();
    let who = speaker(ctx.host, &machine);
    let req = match request::parse(body) {
        Ok(r) => r,
        Err(_) => {
            return Outcome {
                status: 500,
                xml: response::fault(Fault::SchemaValidation, None, &who, None),
                log,
            };
        }
    };
    let log = LoggedRequest {
        action: req.log_action(),
        resource_uri: req.resource_uri.clone(),
        filter: req.filter.clone(),
        ..log
    };
    let rel = req.message_id.as_deref();
    let fault = |f: Fault, log: LoggedRequest| Outcome {
        status: 500,
        xml: response::fault(f, rel, &who, req.filter.as_deref()),
        log,
    };
    let ok = |xml: String, log: LoggedRequest| Outcome {
        status: 200,
        xml,
        log,
    };
    match (req.action.as_deref(), &req.body) {
        (None, Body::Identify) => ok(response::identify(), log),
        (Some(ns::ACTION_ENUMERATE), Body::Enumerate) => match enumerate(ctx, contexts, &req) {
            Ok(xml) => ok(xml, log),
            Err(f) => fault(f, log),
        },
        (Some(ns::ACTION_PULL), Body::Pull) => match pull(ctx, contexts, &req) {
            Ok(xml) => ok(xml, log),
            Err(f) => fault(f, log),
        },
        (Some(ns::ACTION_RELEASE), Body::Release) => {
            let known = req
                .context
                .as_ref()
                .and_then(|c| contexts.open.remove(c))
                .is_some();
            if known {
                ok(response::release(rel), log)
            } else {
                fault(Fault::InvalidEnumerationContext, log)
            }
        }
        _ => fault(Fault::ActionNotSupported, log),
    }
}

/// `…/wmi/<namespace>/*` → the namespace path.
fn namespace_of(uri: &str) -> Option<&str> {
    let n = ns::WMI_BASE.len();
    if !uri.get(..n)?.eq_ignore_ascii_case(ns::WMI_BASE) {
        return None;
    }
    uri.get(n..)?.strip_suffix("/*")
}

/// Room the envelope around the items needs (headers, context, tags).
const ENVELOPE_OVERHEAD: usize = 2048;
/// Windows' MaxEnvelopeSizekb default (500 KiB on 2012 and later).
const DEFAULT_MAX_ENVELOPE: usize = 512_000;

/// End of the page starting at `start`: at most the page size and the
/// client's MaxElements, and (as Windows does) no more items than fit in
/// the client's MaxEnvelopeSize; always at least one item.
fn page_end(ctx: &Ctx<'_>, req: &Request, items: &[Arc<str>], start: usize) -> usize {
    let asked = req.max_elements.map_or(usize::MAX, |m| m as usize);
    let count = ctx.page_size.min(asked).max(1);
    let budget = req
        .max_envelope
        .map_or(DEFAULT_MAX_ENVELOPE, |m| m as usize)
        .min(DEFAULT_MAX_ENVELOPE)
        .saturating_sub(ENVELOPE_OVERHEAD);
    let mut end = start;
    let mut used = 0usize;
    for item in items.iter().skip(start).take(count) {
        if end > start && used + item.len() > budget {
            break;
        }
        used += item.len();
        end += 1;
    }
    end
}

fn enumerate(ctx: &Ctx<'_>, contexts: &mut Contexts, req: &Request) -> Result<String, Fault> {
    let uri = req
        .resource_uri
        .as_deref()
        .ok_or(Fault::DestinationUnreachable)?;
    let path = namespace_of(uri).ok_or(Fault::DestinationUnreachable)?;
    if req
        .filter_dialect
        .as_deref()
        .is_some_and(|d| d != ns::WQL_DIALECT)
    {
        return Err(Fault::DestinationUnreachable);
    }
    let missing = Fault::Refused(Cause::InvalidNamespace);
    let ns = Namespace::from_path(path).ok_or(missing)?;
    if !has_namespace(&ctx.generation.estate, ctx.host, ns) {
        return Err(missing);
    }
    let filter = req
        .filter
        .as_deref()
        .ok_or(Fault::Refused(Cause::InvalidQuery))?;
    if ctx.host.faults.operation_timeout {
        return Err(Fault::TimedOut);
    }
    match ns {
        Namespace::Cluster if !ctx.encrypted || ctx.host.faults.cluster_access_denied => {
            return Err(Fault::WmiAccessDenied);
        }
        Namespace::VirtualizationV1 | Namespace::VirtualizationV2
            if (ctx.host.faults.vmms_stopped || !ctx.host.vmms_running)
                && !is_namespace_select(filter) =>
        {
            return Err(Fault::Refused(Cause::ProviderLoadFailure));
        }
        _ => {}
    }
    let items = ctx
        .generation
        .select(ctx.host_index, ns, filter)
        .map_err(fault_of)?;
    let rel = req.message_id.as_deref();
    if !req.optimize {
        let id = contexts.insert(Cursor { items, pos: 0 });
        return Ok(response::enumerate(rel, None, Some(&id)));
    }
    let n = page_end(ctx, req, &items, 0);
    let page = items.get(..n).unwrap_or_default();
    if n < items.len() {
        let id = contexts.insert(Cursor {
            items: Arc::clone(&items),
            pos: n,
        });
        Ok(response::enumerate(rel, Some(page), Some(&id)))
    } else {
        Ok(response::enumerate(rel, Some(page), None))
    }
}

fn pull(ctx: &Ctx<'_>, contexts: &mut Contexts, req: &Request) -> Result<String, Fault> {
    let id = req
        .context
        .as_deref()
        .ok_or(Fault::InvalidEnumerationContext)?;
    let cursor = contexts
        .open
        .remove(id)
        .ok_or(Fault::InvalidEnumerationContext)?;
    let end = page_end(ctx, req, &cursor.items, cursor.pos);
    let page = cursor.items.get(cursor.pos..end).unwrap_or_default();
    let rel = req.message_id.as_deref();
    if end < cursor.items.len() {
        let items = Arc::clone(&cursor.items);
        let next = contexts.insert(Cursor { items, pos: end });
        Ok(response::pull(rel, page, Some(&next)))
    } else {
        Ok(response::pull(rel, page, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_comes_from_the_wildcard_uri_only() {
        assert_eq!(
            namespace_of("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/*"),
            Some("root/virtualization/v2")
        );
        assert_eq!(
            namespace_of("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_BIOS"),
            None
        );
        assert_eq!(namespace_of("http://x/*"), None);
    }
}
