//! The one thing collection and discovery need from a connection: run a
//! WQL select. The WS-Man client implements it; tests use fakes.

use crate::wsman::{Client, Instance, WsmanError};
use std::future::Future;

/// Something that runs one WQL select: the WS-Man client, or a fake in tests.
pub trait WqlRunner {
    fn enumerate_wql(
        &mut self,
        namespace: &str,
        wql: &str,
    ) -> impl Future<Output = Result<Vec<Instance>, WsmanError>> + Send;
}

impl WqlRunner for Client {
    fn enumerate_wql(
        &mut self,
        namespace: &str,
        wql: &str,
    ) -> impl Future<Output = Result<Vec<Instance>, WsmanError>> + Send {
        Client::enumerate_wql(self, namespace, wql)
    }
}
