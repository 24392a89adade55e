//! The only place that loops: Enumerate, Pull with the newest context
//! until EndOfSequence, Release when we give up on a live context.
//! Message files stay I/O-free (unlike WinRb's `WqlQuery`).

use super::cim::EnumerationPage;
use super::envelope::{ReplyBody, ReplyEnvelope};
use super::error::WsmanError;
use super::instance::Instance;
use super::namespaces::wql_resource_uri;
use super::parse_error::ParseError;
use super::request::{MessageContext, Request};
use super::{enumerate, pull, release};

/// A Pull that hit the server's OperationTimeout leaves the context valid
/// (MS-WSMV 3.1.4.1.6): retry it this many times in a row.
pub const MAX_PULL_TIMEOUT_RETRIES: usize = 2;
/// Consecutive pages with no items before we call the server broken.
pub const MAX_EMPTY_PAGES: usize = 64;

/// One request out, one parsed (fault-free, RelatesTo-checked) reply back.
pub(crate) trait Exchange {
    fn message_context(&self) -> MessageContext<'_>;
    async fn exchange(&mut self, req: Request) -> Result<ReplyEnvelope, WsmanError>;
}

fn expect_page(env: ReplyEnvelope) -> Result<EnumerationPage, WsmanError> {
    match env.body {
        ReplyBody::Page(p) => Ok(p),
        other => Err(ParseError::UnexpectedBody {
            expected: "EnumerateResponse or PullResponse",
            got: other.name(),
        }
        .into()),
    }
}

/// Whether the server may still hold the context after this error. On
/// transport failures and timeouts the connection is suspect, and the
/// server expires idle contexts anyway (EnumerationTimeoutms).
fn context_may_be_live(e: &WsmanError) -> bool {
    matches!(
        e,
        WsmanError::Fault(_)
            | WsmanError::Parse(_)
            | WsmanError::RelatesToMismatch { .. }
            | WsmanError::HttpStatus { .. }
    )
}

/// Best effort: the caller already has the error worth reporting.
async fn release_context<E: Exchange>(ex: &mut E, resource_uri: &str, context: &str) {
    let req = release::build(&ex.message_context(), resource_uri, context);
    if let Err(e) = ex.exchange(req).await {
        tracing::debug!(error = %e, "Release of an abandoned enumeration failed");
    }
}

/// Runs one WQL select in `namespace` and returns every instance.
pub(crate) async fn enumerate_wql<E: Exchange>(
    ex: &mut E,
    namespace: &str,
    wql: &str,
    max_instances: usize,
) -> Result<Vec<Instance>, WsmanError> {
    let resource_uri = wql_resource_uri(namespace);
    let req = enumerate::build(&ex.message_context(), &resource_uri, wql);
    let mut page = expect_page(ex.exchange(req).await?)?;
    let mut items: Vec<Instance> = Vec::new();
    let mut context: Option<String> = None;
    let mut empty_pages = 0usize;
    let mut timeouts = 0usize;
    let mut pulls = 0usize;
    loop {
        // A reply without a context keeps the previous one valid.
        if page.context.is_some() {
            context = page.context.take();
        }
        if items.len().saturating_add(page.items.len()) > max_instances {
            if let (false, Some(ctx)) = (page.end_of_sequence, context.as_deref()) {
                release_context(ex, &resource_uri, ctx).await;
            }
            return Err(WsmanError::TooManyInstances {
                limit: max_instances,
            });
        }
        empty_pages = if page.items.is_empty() {
            empty_pages + 1
        } else {
            0
        };
        items.append(&mut page.items);
        if page.end_of_sequence {
            return Ok(items);
        }
        let Some(ctx) = context.as_deref() else {
            return Err(ParseError::MissingElement("wsen:EnumerationContext").into());
        };
        if empty_pages > MAX_EMPTY_PAGES {
            release_context(ex, &resource_uri, ctx).await;
            return Err(WsmanError::EndlessEnumeration { pulls });
        }
        pulls += 1;
        let req = pull::build(&ex.message_context(), &resource_uri, ctx);
        page = match ex.exchange(req).await.and_then(expect_page) {
            Ok(p) => {
                timeouts = 0;
                p
            }
            Err(WsmanError::Fault(f))
                if f.is_timed_out() && timeouts < MAX_PULL_TIMEOUT_RETRIES =>
            {
                timeouts += 1;
                tracing::debug!(
                    retry = timeouts,
                    "Pull timed out on the server; pulling again"
                );
                EnumerationPage::default()
            }
            Err(e) => {
                if context_may_be_live(&e) {
                    release_context(ex, &resource_uri, ctx).await;
                }
                return Err(e);
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, HasKind};
    use crate::transport::TransportError;
    use crate::wsman::reply::interpret;
    use crate::wsman::{Action, ClientOptions};
    use std::collections::VecDeque;

    /// A scripted peer: answers each request with the next canned reply,
    /// with `RelatesTo` rewritten to the request's MessageID.
    struct Script {
        opts: ClientOptions,
        replies: VecDeque<Result<(u16, String), TransportError>>,
        sent: Vec<Request>,
    }

    impl Script {
        fn new(replies: Vec<Result<(u16, &str), TransportError>>) -> Self {
            Script {
                opts: ClientOptions::default(),
                replies: replies
                    .into_iter()
                    .map(|r| r.map(|(s, b)| (s, b.to_string())))
                    .collect(),
                sent: Vec::new(),
            }
        }

        fn actions(&self) -> Vec<Action> {
            self.sent.iter().map(|r| r.action).collect()
        }
    }

    /// Every fixture's RelatesTo is this placeholder.
    const FIXTURE_RELATES_TO: &str = "uuid:55F28C75-F63E-4F68-8360-A8C478003959";

    impl Exchange for Script {
        fn message_context(&self) -> MessageContext<'_> {
            MessageContext {
                to: "http://hv1:5985/wsman",
                session_id: "uuid:S",
                opts: &self.opts,
            }
        }

        async fn exchange(&mut self, req: Request) -> Result<ReplyEnvelope, WsmanError> {
            let id = req.message_id.clone().unwrap_or_default();
            self.sent.push(req);
            let (status, body) = self
                .replies
                .pop_front()
                .expect("script ran out of replies")?;
            let body = body.replace(FIXTURE_RELATES_TO, &id);
            interpret(status, body.as_bytes(), Some(&id))
        }
    }

    const PARTIAL: &str = include_str!("../../tests/fixtures/wsman/enumerate_response_partial.xml");
    const PULL_PARTIAL: &str = include_str!("../../tests/fixtures/wsman/pull_response_partial.xml");
    const PULL_LAST: &str =
        include_str!("../../tests/fixtures/wsman/pull_response_end_of_sequence.xml");
    const EOS: &str =
        include_str!("../../tests/fixtures/wsman/enumerate_response_end_of_sequence.xml");
    const ACCESS_DENIED: &str = include_str!("../../tests/fixtures/wsman/fault_access_denied.xml");
    const TIMED_OUT: &str = include_str!("../../tests/fixtures/wsman/fault_timed_out.xml");

    fn context_of(req: &Request) -> String {
        let start = req
            .xml
            .find("<wsen:EnumerationContext>")
            .expect("no context")
            + 25;
        let end = req
            .xml
            .find("</wsen:EnumerationContext>")
            .expect("no context end");
        req.xml[start..end].to_string()
    }

    async fn run(script: &mut Script, max: usize) -> Result<Vec<Instance>, WsmanError> {
        enumerate_wql(
            script,
            "root/virtualization/v2",
            "SELECT * FROM Msvm_ComputerSystem",
            max,
        )
        .await
    }

    #[tokio::test]
    async fn everything_in_the_enumerate_reply_needs_no_pull() {
        let mut s = Script::new(vec![Ok((200, EOS))]);
        let items = run(&mut s, 100).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(s.actions(), vec![Action::Enumerate]);
        assert!(
            s.sent[0]
                .xml
                .contains("/wmi/root/virtualization/v2/*</wsman:ResourceURI>")
        );
    }

    #[tokio::test]
    async fn pulls_until_end_of_sequence_with_the_newest_context() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Ok((200, PULL_PARTIAL)),
            Ok((200, PULL_LAST)),
        ]);
        let items = run(&mut s, 100).await.unwrap();
        assert_eq!(
            s.actions(),
            vec![Action::Enumerate, Action::Pull, Action::Pull]
        );
        // Contexts as written in the fixtures: each Pull uses the latest one.
        assert_eq!(
            context_of(&s.sent[1]),
            "uuid:8C3D2B1A-0001-4A5B-9C8D-000000000001"
        );
        assert_eq!(
            context_of(&s.sent[2]),
            "uuid:8C3D2B1A-0002-4A5B-9C8D-000000000002"
        );
        let names: Vec<_> = items.iter().filter_map(|i| i.text("ElementName")).collect();
        assert_eq!(names, vec!["HV01", "web-01", "db-01"]);
    }

    #[tokio::test]
    async fn fault_mid_enumeration_releases_the_context() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Ok((500, ACCESS_DENIED)),
            Ok((200, RELEASE_OK)),
        ]);
        let err = run(&mut s, 100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AccessDenied);
        assert_eq!(
            s.actions(),
            vec![Action::Enumerate, Action::Pull, Action::Release]
        );
        assert_eq!(
            context_of(&s.sent[2]),
            "uuid:8C3D2B1A-0001-4A5B-9C8D-000000000001"
        );
    }

    #[tokio::test]
    async fn exceeding_the_item_cap_releases_and_fails() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Ok((200, PULL_PARTIAL)),
            Ok((200, RELEASE_OK)),
        ]);
        let err = run(&mut s, 1).await.unwrap_err();
        assert!(matches!(err, WsmanError::TooManyInstances { limit: 1 }));
        assert_eq!(
            s.actions(),
            vec![Action::Enumerate, Action::Pull, Action::Release]
        );
        assert_eq!(
            context_of(&s.sent[2]),
            "uuid:8C3D2B1A-0002-4A5B-9C8D-000000000002"
        );
    }

    #[tokio::test]
    async fn transport_failure_does_not_send_release() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Err(TransportError::Timeout {
                what: "request",
                secs: 1.0,
            }),
        ]);
        let err = run(&mut s, 100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(s.actions(), vec![Action::Enumerate, Action::Pull]);
    }

    #[tokio::test]
    async fn server_timeout_on_pull_is_retried_with_the_same_context() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Ok((500, TIMED_OUT)),
            Ok((200, PULL_LAST)),
        ]);
        let items = run(&mut s, 100).await.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            s.actions(),
            vec![Action::Enumerate, Action::Pull, Action::Pull]
        );
        assert_eq!(context_of(&s.sent[1]), context_of(&s.sent[2]));
    }

    #[tokio::test]
    async fn repeated_server_timeouts_give_up() {
        let mut s = Script::new(vec![
            Ok((200, PARTIAL)),
            Ok((500, TIMED_OUT)),
            Ok((500, TIMED_OUT)),
            Ok((500, TIMED_OUT)),
            Ok((200, RELEASE_OK)),
        ]);
        let err = run(&mut s, 100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert_eq!(s.sent.len(), 5);
        assert_eq!(s.sent[4].action, Action::Release);
    }

    #[tokio::test]
    async fn fault_on_enumerate_needs_no_release() {
        let mut s = Script::new(vec![Ok((500, ACCESS_DENIED))]);
        let err = run(&mut s, 100).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AccessDenied);
        assert_eq!(s.actions(), vec![Action::Enumerate]);
    }

    #[tokio::test]
    async fn missing_context_without_end_of_sequence_is_an_error() {
        let no_ctx = PARTIAL.replace("uuid:8C3D2B1A-0001-4A5B-9C8D-000000000001", "");
        let mut s = Script::new(vec![Ok((200, &no_ctx))]);
        let err = run(&mut s, 100).await.unwrap_err();
        assert!(matches!(
            err,
            WsmanError::Parse(ParseError::MissingElement(_))
        ));
    }

    #[tokio::test]
    async fn endless_empty_pages_are_cut_off() {
        let empty = PULL_PARTIAL.replace(
            &PULL_PARTIAL
                [PULL_PARTIAL.find("<n:Items>").unwrap()..PULL_PARTIAL.find("</n:Items>").unwrap()],
            "<n:Items>",
        );
        let mut replies = vec![Ok((200, PARTIAL))];
        replies.extend((0..=MAX_EMPTY_PAGES).map(|_| Ok((200, empty.as_str()))));
        replies.push(Ok((200, RELEASE_OK)));
        let mut s = Script::new(replies);
        let err = run(&mut s, 100).await.unwrap_err();
        assert!(matches!(err, WsmanError::EndlessEnumeration { .. }));
        assert_eq!(s.actions().last(), Some(&Action::Release));
    }

    const RELEASE_OK: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse</a:Action><a:RelatesTo>uuid:55F28C75-F63E-4F68-8360-A8C478003959</a:RelatesTo></s:Header><s:Body><n:ReleaseResponse/></s:Body></s:Envelope>"#;
}
