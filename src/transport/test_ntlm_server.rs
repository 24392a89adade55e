//! An in-process sspi NTLM acceptor standing in for Windows in the
//! transport's own tests (the independent peers live in `tests/`).

use sspi::{
    AcquireCredentialsHandleResult, AuthIdentity, AuthIdentityBuffers, BufferType, CredentialUse,
    DataRepresentation, Ntlm, SecurityBuffer, ServerRequestFlags, Sspi, SspiImpl, Username,
};

pub(super) struct TestNtlmServer {
    pub(super) ntlm: Ntlm,
    handle: Option<AuthIdentityBuffers>,
}

impl TestNtlmServer {
    /// Accepts `user` (in `domain`, or local when empty) with `password`.
    pub(super) fn new(user: &str, domain: &str, password: &str) -> TestNtlmServer {
        let mut ntlm = Ntlm::new();
        let identity = AuthIdentity {
            username: Username::new(user, Some(domain).filter(|d| !d.is_empty())).unwrap(),
            password: password.to_string().into(),
        };
        let AcquireCredentialsHandleResult {
            credentials_handle, ..
        } = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Inbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .unwrap();
        TestNtlmServer {
            ntlm,
            handle: credentials_handle,
        }
    }

    /// One acceptor leg: the client's token in, the server's token out.
    pub(super) fn step(&mut self, token: &[u8]) -> Result<Vec<u8>, sspi::Error> {
        let mut input = vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)];
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let builder = self
            .ntlm
            .accept_security_context()
            .with_credentials_handle(&mut self.handle)
            .with_context_requirements(ServerRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input)
            .with_output(&mut output);
        let status = self
            .ntlm
            .accept_security_context_impl(builder)?
            .resolve_to_result()?
            .status;
        if matches!(
            status,
            sspi::SecurityStatus::CompleteNeeded | sspi::SecurityStatus::CompleteAndContinue
        ) {
            self.ntlm.complete_auth_token(&mut [])?;
        }
        Ok(output
            .into_iter()
            .next()
            .map(|b| b.buffer)
            .unwrap_or_default())
    }
}
