//! One accepted connection: HTTP/1.1 keep-alive via hyper, one NTLM context,
//! sealing, fault injection, then WS-Man dispatch.

use super::Shared;
use super::body::SimBody;
use super::stats::add;
use super::wsman::{self, Contexts, Ctx};
use crate::simulator::LoggedRequest;
use crate::simulator::framing;
use crate::simulator::ntlm::crypto::Direction;
use crate::simulator::ntlm::spnego;
use crate::simulator::ntlm::{Acceptor, ServerIdentity, Session, Step};
use crate::simulator::soap::response::{self, Fault};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Largest request accepted (Windows' MaxEnvelopeSizekb default is 500 KiB;
/// sealing adds a little).
const MAX_REQUEST: usize = 600 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Size of the `huge_body` reply.
const HUGE: u64 = 64 * 1024 * 1024;
const SOAP_CT: &str = "application/soap+xml;charset=UTF-8";

/// Security state of one connection.
#[derive(Default)]
pub struct ConnState {
    acceptor: Acceptor,
    session: Option<Session>,
    contexts: Contexts,
    /// DER MechTypeList of the SPNEGO negTokenInit (for the mechListMIC).
    mech_types: Option<Vec<u8>>,
}

/// What this connection is.
#[derive(Clone, Copy)]
pub struct ConnInfo {
    pub host_index: usize,
    pub ip: IpAddr,
    /// SHA-256 of the certificate when the connection is TLS.
    pub tls_cert_hash: Option<[u8; 32]>,
}

fn plain(status: StatusCode) -> Response<SimBody> {
    let mut r = Response::new(SimBody::empty());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::SERVER,
        HeaderValue::from_static("Microsoft-HTTPAPI/2.0"),
    );
    r
}

fn unauthorized(token: Option<&[u8]>, close: bool) -> Response<SimBody> {
    let mut r = plain(StatusCode::UNAUTHORIZED);
    let value = match token {
        Some(t) => format!("Negotiate {}", B64.encode(t)),
        None => "Negotiate".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if close {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// The Negotiate token of an `Authorization` header, if that is its scheme.
fn negotiate_token(v: &HeaderValue) -> Option<Vec<u8>> {
    let s = v.to_str().ok()?;
    let (scheme, rest) = s.split_once(' ').unwrap_or((s, ""));
    if !scheme.eq_ignore_ascii_case("Negotiate") {
        return None;
    }
    B64.decode(rest.trim()).ok()
}

pub async fn handle(
    shared: Arc<Shared>,
    info: ConnInfo,
    state: Arc<Mutex<ConnState>>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, Infallible> {
    add(&shared.counters.requests, 1);
    let generation = shared.current();
    let Some(host) = generation.estate.hosts.get(info.host_index) else {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE));
    };
    let delay = shared.latency + Duration::from_millis(host.faults.latency_extra_ms);
    let (parts, body) = req.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_REQUEST as u64) {
        return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let bytes: Bytes =
        match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_REQUEST).collect()).await {
            Ok(Ok(c)) => c.to_bytes(),
            Ok(Err(_)) => return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE)),
            Err(_) => return Ok(plain(StatusCode::REQUEST_TIMEOUT)),
        };
    add(&shared.counters.bytes_in, bytes.len() as u64);
    let response = {
        let Ok(mut st) = state.lock() else {
            return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR));
        };
        respond(
            &shared,
            info,
            &generation,
            host,
            &parts.headers,
            &bytes,
            &mut st,
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let SimBody::Full(Some(b)) = response.body() {
        add(&shared.counters.bytes_out, b.len() as u64);
    }
    Ok(response)
}

fn respond(
    shared: &Shared,
    info: ConnInfo,
    generation: &super::cache::Generation,
    host: &crate::simulator::SimHost,
    headers: &http::HeaderMap,
    body: &Bytes,
    st: &mut ConnState,
) -> Response<SimBody> {
    let nb_domain = host.domain.split('.').next().unwrap_or("").to_uppercase();
    let fqdn = host.fqdn();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let Some(token) = negotiate_token(auth) else {
            // Basic, Kerberos-only, garbage: offer Negotiate again.
            add(&shared.counters.auth_failures, 1);
            return unauthorized(None, false);
        };
        let id = ServerIdentity {
            nb_domain: &nb_domain,
            nb_computer: &host.name,
            dns_domain: &host.domain,
            dns_computer: &fqdn,
            tls_cert_hash: info.tls_cert_hash,
            reject_all: host.faults.reject_auth,
        };
        let wrapped = spnego::is_spnego(&token);
        let (ntlm, mic) = if wrapped {
            match spnego::parse(&token) {
                Ok(inc) => {
                    if inc.mech_types.is_some() {
                        st.mech_types = inc.mech_types;
                    }
                    (inc.token, inc.mech_list_mic)
                }
                Err(_) => {
                    add(&shared.counters.auth_failures, 1);
                    return unauthorized(None, true);
                }
            }
        } else {
            (token, None)
        };
        if wrapped && !ntlm.starts_with(b"NTLMSSP\0") {
            // A Kerberos (or other) optimistic token: ask for NTLM instead.
            return unauthorized(Some(&spnego::response(1, true, None, None)), false);
        }
        match st.acceptor.step(&ntlm, &id, &shared.accounts) {
            Ok(Step::Challenge(ch)) => {
                st.session = None;
                let out = if wrapped {
                    spnego::response(1, true, Some(&ch), None)
                } else {
                    ch
                };
                return unauthorized(Some(&out), false);
            }
            Ok(Step::Established(mut session)) => {
                let final_token = if wrapped {
                    match spnego_mic(&mut session, st.mech_types.as_deref(), mic.as_deref()) {
                        Ok(m) => Some(spnego::response(0, false, None, m.as_ref().map(|m| &m[..]))),
                        Err(()) => {
                            add(&shared.counters.auth_failures, 1);
                            return unauthorized(None, true);
                        }
                    }
                } else {
                    None
                };
                add(&shared.counters.handshakes, 1);
                st.session = Some(*session);
                let mut r = if body.is_empty() {
                    plain(StatusCode::OK)
                } else {
                    serve_soap(shared, info, generation, host, headers, body, st)
                };
                if let Some(t) = final_token
                    && let Ok(v) = HeaderValue::from_str(&format!("Negotiate {}", B64.encode(t)))
                {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                return r;
            }
            Err(_) => {
                add(&shared.counters.auth_failures, 1);
                st.session = None;
                return unauthorized(None, true);
            }
        }
    }
    if st.session.is_none() && unauthenticated_identify(headers, body) {
        let mut r = plain(StatusCode::OK);
        *r.body_mut() = SimBody::full(response::identify());
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(SOAP_CT));
        return r;
    }
    serve_soap(shared, info, generation, host, headers, body, st)
}

/// `WSMANIDENTIFY: unauthenticated` with an Identify body is answered
/// without authentication, as Windows does.
fn unauthenticated_identify(headers: &http::HeaderMap, body: &Bytes) -> bool {
    headers
        .get("WSMANIDENTIFY")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("unauthenticated"))
        && crate::simulator::soap::request::parse(body)
            .is_ok_and(|r| r.body == crate::simulator::soap::request::Body::Identify)
}

/// SPNEGO mechListMIC: verify the client's over the MechTypeList, answer
/// with ours, then restart both keystreams (sequence numbers continue).
fn spnego_mic(
    session: &mut Session,
    mech_types: Option<&[u8]>,
    mic: Option<&[u8]>,
) -> Result<Option<[u8; 16]>, ()> {
    let (Some(types), Some(mic)) = (mech_types, mic) else {
        return Ok(None);
    };
    session.inbound.verify(types, mic).map_err(|_| ())?;
    let ours = session.outbound.sign(types);
    let key = session.exported_session_key;
    session
        .inbound
        .reset_keystream(&key, Direction::ClientToServer);
    session
        .outbound
        .reset_keystream(&key, Direction::ServerToClient);
    Ok(Some(ours))
}

/// An authenticated request: unseal, dispatch, seal, inject faults.
fn serve_soap(
    shared: &Shared,
    info: ConnInfo,
    generation: &super::cache::Generation,
    host: &crate::simulator::SimHost,
    headers: &http::HeaderMap,
    body: &Bytes,
    st: &mut ConnState,
) -> Response<SimBody> {
    let fqdn = host.fqdn();
    let Some(session) = st.session.as_mut() else {
        return unauthorized(None, false);
    };
    let user = session.user.clone();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let sealed = framing::is_sealed_content_type(ct);
    let tls = info.tls_cert_hash.is_some();
    let log = LoggedRequest {
        host_ip: info.ip,
        action: "unparsed".to_string(),
        resource_uri: None,
        filter: None,
        sealed,
        tls,
        authenticated_user: Some(user),
    };
    let plaintext: Vec<u8> = if sealed {
        let Ok(parts) = framing::unwrap(body) else {
            shared.record(log);
            return plain(StatusCode::BAD_REQUEST);
        };
        let mut data = parts.ciphertext.to_vec();
        if session.inbound.unseal(&mut data, parts.signature).is_err() {
            shared.record(log);
            let mut r = plain(StatusCode::BAD_REQUEST);
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        data
    } else {
        body.to_vec()
    };
    add(&shared.counters.soap_requests, 1);
    if !sealed && !tls && !host.faults.allow_unencrypted {
        // AllowUnencrypted=false: a plaintext body over HTTP is refused.
        let mut log = log;
        if let Ok(r) = crate::simulator::soap::request::parse(&plaintext) {
            log.action = r.log_action();
            log.resource_uri = r.resource_uri;
            log.filter = r.filter;
        }
        shared.record(log);
        let who = super::wsman::speaker(host, &fqdn);
        let xml = response::fault(Fault::AccessDenied, None, &who, None);
        return soap_response(500, xml.into_bytes(), SOAP_CT.to_string(), host);
    }
    let ctx = Ctx {
        generation,
        host_index: info.host_index,
        host,
        encrypted: sealed || tls,
        page_size: shared.page_size,
    };
    let out = wsman::dispatch(&ctx, &mut st.contexts, &plaintext, log);
    shared.record(out.log);
    let mut xml = out.xml.into_bytes();
    if host.faults.malformed_xml {
        // Valid transport, broken XML: cut the envelope and leave a tag open.
        xml.truncate(xml.len() / 2);
        xml.extend_from_slice(b"<unclosed attr=\"x\"><");
    }
    if host.faults.doctype_body {
        let mut d =
            b"<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY boom \"boom\">]>".to_vec();
        d.extend_from_slice(&xml);
        xml = d;
    }
    if sealed {
        let Some(session) = st.session.as_mut() else {
            return plain(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let mut sig = session.outbound.seal(&mut xml);
        if host.faults.truncated_signature {
            // The checksum no longer matches what the client computes.
            for b in sig.iter_mut().skip(4).take(8) {
                *b ^= 0x5A;
            }
        }
        let wrapped = framing::wrap(&sig, &xml);
        soap_response(out.status, wrapped, framing::CONTENT_TYPE.to_string(), host)
    } else {
        soap_response(out.status, xml, SOAP_CT.to_string(), host)
    }
}

fn soap_response(
    status: u16,
    body: Vec<u8>,
    ct: String,
    host: &crate::simulator::SimHost,
) -> Response<SimBody> {
    let len = body.len() as u64;
    let b = if host.faults.huge_body {
        SimBody::Huge {
            remaining: HUGE,
            total: HUGE,
        }
    } else if host.faults.close_mid_body {
        let half = body.len() / 2;
        let mut body = body;
        body.truncate(half);
        SimBody::Broken {
            first: Some(Bytes::from(body)),
            announced: len,
        }
    } else {
        SimBody::full(body)
    };
    let mut r = plain(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    *r.body_mut() = b;
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}
