//! The simulator driven over loopback by a minimal hand-rolled client (raw
//! and SPNEGO NTLM, sealing, plain bodies, faults), independent of the
//! product's `transport`/`wsman` layers.

use super::framing;
use super::ntlm::acceptor::tests::{client_authenticate, negotiate_token};
use super::ntlm::crypto::{Direction, Key16};
use super::ntlm::seal::SealingKey;
use super::ntlm::spnego;
use super::soap::ns;
use super::{DEFAULT_PASSWORD, Estate, SimConfig, SimEndpoint, Simulator};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

struct Raw {
    send: SendRequest<Full<Bytes>>,
    host: String,
}

struct Reply {
    status: u16,
    www_auth: Option<Vec<u8>>,
    content_type: String,
    body: Vec<u8>,
}

impl Raw {
    async fn connect(ep: &SimEndpoint) -> Raw {
        let tcp = tokio::net::TcpStream::connect(ep.http).await.unwrap();
        let (send, conn) = http1::handshake(TokioIo::new(tcp)).await.unwrap();
        tokio::spawn(conn);
        Raw {
            send,
            host: ep.http.to_string(),
        }
    }

    async fn post(&mut self, auth: Option<&[u8]>, content_type: &str, body: Vec<u8>) -> Reply {
        let mut req = http::Request::post("/wsman")
            .header("Host", &self.host)
            .header("Content-Type", content_type);
        if let Some(a) = auth {
            req = req.header("Authorization", format!("Negotiate {}", B64.encode(a)));
        }
        let resp = self
            .send
            .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let www_auth = resp
            .headers()
            .get("WWW-Authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Negotiate "))
            .map(|t| B64.decode(t).unwrap());
        let content_type = resp
            .headers()
            .get("Content-Type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            www_auth,
            content_type,
            body,
        }
    }
}

struct Keys {
    out: SealingKey,
    inb: SealingKey,
}

impl Keys {
    fn new(exported: &Key16) -> Keys {
        Keys {
            out: SealingKey::new(exported, Direction::ClientToServer),
            inb: SealingKey::new(exported, Direction::ServerToClient),
        }
    }

    fn seal(&mut self, xml: &str) -> Vec<u8> {
        let mut data = xml.as_bytes().to_vec();
        let sig = self.out.seal(&mut data);
        framing::wrap(&sig, &data)
    }

    fn unseal(&mut self, body: &[u8]) -> String {
        let parts = framing::unwrap(body).unwrap();
        let mut data = parts.ciphertext.to_vec();
        self.inb.unseal(&mut data, parts.signature).unwrap();
        String::from_utf8(data).unwrap()
    }
}

fn envelope(action: &str, resource: &str, body: &str) -> String {
    format!(
        "<s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\" xmlns:w=\"{}\" xmlns:n=\"{}\"><s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:00000000-0000-0000-0000-000000000001</a:MessageID><w:ResourceURI>{resource}</w:ResourceURI></s:Header><s:Body>{body}</s:Body></s:Envelope>",
        ns::SOAP,
        ns::WSA,
        ns::WSMAN,
        ns::WSEN
    )
}

fn enumerate(namespace: &str, wql: &str, optimize: bool) -> String {
    let opt = if optimize {
        "<w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>"
    } else {
        ""
    };
    envelope(
        ns::ACTION_ENUMERATE,
        &format!("{}{namespace}/*", ns::WMI_BASE),
        &format!(
            "<n:Enumerate>{opt}<w:Filter Dialect=\"{}\">{wql}</w:Filter></n:Enumerate>",
            ns::WQL_DIALECT
        ),
    )
}

fn pull(context: &str) -> String {
    envelope(
        ns::ACTION_PULL,
        &format!("{}root/cimv2/*", ns::WMI_BASE),
        &format!(
            "<n:Pull><n:EnumerationContext>{context}</n:EnumerationContext><n:MaxElements>2</n:MaxElements></n:Pull>"
        ),
    )
}

fn context_of(xml: &str) -> Option<String> {
    let start = xml.find("<n:EnumerationContext>")? + "<n:EnumerationContext>".len();
    let end = xml[start..].find("</n:EnumerationContext>")? + start;
    Some(xml[start..end].to_string()).filter(|s| !s.is_empty())
}

async fn sim(estate: Estate, page_size: usize) -> Simulator {
    let mut cfg = SimConfig::new(estate);
    cfg.http_port = 0;
    cfg.https_port = None;
    cfg.log_requests = true;
    cfg.page_size = page_size;
    cfg.threads = 1;
    Simulator::start(cfg).await.unwrap()
}

/// Raw NTLM handshake; the AUTHENTICATE leg carries `first` (sealed).
async fn login(raw: &mut Raw, first: Option<&str>) -> (Keys, Reply) {
    let r = raw
        .post(None, "application/soap+xml;charset=UTF-8", vec![])
        .await;
    assert_eq!(r.status, 401);
    let neg = negotiate_token();
    let r = raw
        .post(Some(&neg), "application/soap+xml;charset=UTF-8", vec![])
        .await;
    assert_eq!(r.status, 401);
    let challenge = r.www_auth.expect("challenge token");
    let (auth, exported) = client_authenticate(
        &neg,
        &challenge,
        "svc-inventory",
        "CONTOSO",
        DEFAULT_PASSWORD,
        None,
        false,
    );
    let mut keys = Keys::new(&exported);
    let r = match first {
        Some(xml) => {
            raw.post(Some(&auth), framing::CONTENT_TYPE, keys.seal(xml))
                .await
        }
        None => raw.post(Some(&auth), framing::CONTENT_TYPE, vec![]).await,
    };
    (keys, r)
}

#[tokio::test]
async fn sealed_request_on_the_authenticate_leg_is_answered_sealed() {
    let estate = Estate::demo(3);
    let host = estate.hosts[0].clone();
    let s = sim(estate, 100).await;
    let mut raw = Raw::connect(&s.endpoints()[0]).await;
    let (mut keys, r) = login(
        &mut raw,
        Some(&enumerate(
            "root/cimv2",
            "SELECT Name FROM Win32_ComputerSystem",
            true,
        )),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("multipart/encrypted"));
    let xml = keys.unseal(&r.body);
    assert!(
        xml.contains(&format!(
            "<w:XmlFragment><Name>{}</Name></w:XmlFragment>",
            host.name
        )),
        "{xml}"
    );
    assert!(xml.contains("<w:EndOfSequence/>"));
    assert!(xml.contains("<a:RelatesTo>uuid:00000000-0000-0000-0000-000000000001</a:RelatesTo>"));
    // Keystreams and sequence numbers carry on across messages.
    for _ in 0..3 {
        let r = raw
            .post(
                None,
                framing::CONTENT_TYPE,
                keys.seal(&enumerate("root/cimv2", "SELECT * FROM Win32_BIOS", true)),
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(keys.unseal(&r.body).contains(&host.serial));
    }
    s.shutdown().await;
}

#[tokio::test]
async fn empty_authenticate_then_enumerate_and_pull_with_fresh_contexts() {
    let estate = Estate::demo(3);
    let s = sim(estate, 2).await;
    let mut raw = Raw::connect(&s.endpoints()[0]).await;
    let (mut keys, r) = login(&mut raw, None).await;
    assert_eq!(
        (r.status, r.body.len()),
        (200, 0),
        "pypsrp's empty authenticated POST"
    );
    // Without OptimizeEnumeration the items come only by Pull.
    let r = raw
        .post(
            None,
            framing::CONTENT_TYPE,
            keys.seal(&enumerate(
                "root/cimv2",
                "SELECT Name FROM Win32_Service",
                false,
            )),
        )
        .await;
    let xml = keys.unseal(&r.body);
    assert!(!xml.contains("Items>"));
    let mut ctx = context_of(&xml).expect("context");
    let mut seen = 0;
    let mut contexts = vec![ctx.clone()];
    loop {
        let r = raw
            .post(None, framing::CONTENT_TYPE, keys.seal(&pull(&ctx)))
            .await;
        assert_eq!(r.status, 200);
        let xml = keys.unseal(&r.body);
        seen += xml.matches("<w:XmlFragment>").count();
        match context_of(&xml) {
            Some(next) => {
                assert!(!contexts.contains(&next), "a new context each page");
                contexts.push(next.clone());
                ctx = next;
            }
            None => {
                assert!(xml.contains("<n:EndOfSequence/>"));
                break;
            }
        }
    }
    // vmms, WinRM and ClusSvc on a cluster node.
    assert_eq!(seen, 3);
    // An old context is gone.
    let r = raw
        .post(None, framing::CONTENT_TYPE, keys.seal(&pull(&contexts[0])))
        .await;
    assert_eq!(r.status, 500);
    assert!(keys.unseal(&r.body).contains("InvalidEnumerationContext"));
    s.shutdown().await;
}

#[tokio::test]
async fn spnego_wrapped_ntlm_with_mech_list_mic() {
    let s = sim(Estate::demo(3), 100).await;
    let mut raw = Raw::connect(&s.endpoints()[1]).await;
    let neg = negotiate_token();
    let mech_types = vec![
        0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    let init = {
        let mut seq = vec![0xa0, mech_types.len() as u8];
        seq.extend(&mech_types);
        seq.extend([0xa2, (neg.len() + 2) as u8, 0x04, neg.len() as u8]);
        seq.extend(&neg);
        let mut a0 = vec![0x30, seq.len() as u8];
        a0.extend(seq);
        let mut inner = vec![
            0x06,
            0x06,
            0x2b,
            0x06,
            0x01,
            0x05,
            0x05,
            0x02,
            0xa0,
            a0.len() as u8,
        ];
        inner.extend(a0);
        let mut t = vec![0x60, inner.len() as u8];
        t.extend(inner);
        t
    };
    let r = raw.post(Some(&init), "application/soap+xml", vec![]).await;
    assert_eq!(r.status, 401);
    let resp = spnego::parse(&r.www_auth.unwrap()).unwrap();
    let (auth, exported) = client_authenticate(
        &neg,
        &resp.token,
        "svc-inventory",
        "CONTOSO",
        DEFAULT_PASSWORD,
        None,
        false,
    );
    let mut keys = Keys::new(&exported);
    let mic = keys.out.sign(&mech_types);
    keys.out
        .reset_keystream(&exported, Direction::ClientToServer);
    let token = spnego::response(1, false, Some(&auth), Some(&mic));
    let r = raw.post(Some(&token), framing::CONTENT_TYPE, vec![]).await;
    assert_eq!(r.status, 200);
    let server_mic = spnego::parse_mic_for_tests(&r.www_auth.unwrap());
    keys.inb
        .verify(&mech_types, &server_mic)
        .expect("server mechListMIC");
    keys.inb
        .reset_keystream(&exported, Direction::ServerToClient);
    let r = raw
        .post(
            None,
            framing::CONTENT_TYPE,
            keys.seal(&enumerate("root/cimv2", "SELECT * FROM Win32_BIOS", true)),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(keys.unseal(&r.body).contains("Win32_BIOS"));
    s.shutdown().await;
}

#[tokio::test]
async fn plain_body_over_http_is_refused_unless_allowed() {
    let mut estate = Estate::demo(3);
    estate.hosts[1].faults.allow_unencrypted = true;
    let s = sim(estate, 100).await;
    let eps = s.endpoints();
    for (i, expected) in [(0usize, 500u16), (1, 200)] {
        let mut raw = Raw::connect(&eps[i]).await;
        let (_keys, r) = login(&mut raw, None).await;
        assert_eq!(r.status, 200);
        let r = raw
            .post(
                None,
                "application/soap+xml;charset=UTF-8",
                enumerate("root/cimv2", "SELECT * FROM Win32_BIOS", true).into_bytes(),
            )
            .await;
        assert_eq!(r.status, expected, "host {i}");
        if expected == 500 {
            assert!(String::from_utf8_lossy(&r.body).contains("w:AccessDenied"));
        }
    }
    // Cluster data needs packet privacy even where plain SOAP is allowed.
    let mut raw = Raw::connect(&eps[1]).await;
    let _ = login(&mut raw, None).await;
    let r = raw
        .post(
            None,
            "application/soap+xml",
            enumerate("root/MSCluster", "SELECT * FROM MSCluster_Node", true).into_bytes(),
        )
        .await;
    assert_eq!(r.status, 500);
    assert!(String::from_utf8_lossy(&r.body).contains("w:AccessDenied"));
    s.shutdown().await;
}

#[tokio::test]
async fn other_actions_are_not_supported_and_logged() {
    let s = sim(Estate::demo(3), 100).await;
    let mut raw = Raw::connect(&s.endpoints()[0]).await;
    let (mut keys, _) = login(&mut raw, None).await;
    let get = envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
        &format!("{}root/cimv2/Win32_BIOS", ns::WMI_BASE),
        "",
    );
    let r = raw.post(None, framing::CONTENT_TYPE, keys.seal(&get)).await;
    assert_eq!(r.status, 500);
    assert!(keys.unseal(&r.body).contains("a:ActionNotSupported"));
    let log = s.request_log();
    assert_eq!(
        log.last().map(|l| l.action.as_str()),
        Some("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn wrong_password_gets_401_without_a_token_and_closes() {
    let s = sim(Estate::demo(3), 100).await;
    let mut raw = Raw::connect(&s.endpoints()[0]).await;
    let neg = negotiate_token();
    let r = raw.post(Some(&neg), "application/soap+xml", vec![]).await;
    let (auth, _) = client_authenticate(
        &neg,
        &r.www_auth.unwrap(),
        "svc-inventory",
        "CONTOSO",
        "wrong",
        None,
        false,
    );
    let r = raw.post(Some(&auth), "application/soap+xml", vec![]).await;
    assert_eq!(r.status, 401);
    assert!(r.www_auth.is_none());
    assert_eq!(s.stats().auth_failures, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn pages_shrink_to_fit_the_clients_max_envelope_size() {
    let estate = Estate::demo(3);
    let idx = estate
        .hosts
        .iter()
        .position(|h| h.name == "HV-BIG")
        .unwrap();
    let s = sim(estate, 100).await;
    let mut raw = Raw::connect(&s.endpoints()[idx]).await;
    let (mut keys, _) = login(&mut raw, None).await;
    let xml = enumerate(
        "root/virtualization/v2",
        "SELECT * FROM Msvm_ComputerSystem",
        true,
    )
    .replace(
        "</s:Header>",
        "<w:MaxEnvelopeSize>16384</w:MaxEnvelopeSize></s:Header>",
    );
    let r = raw.post(None, framing::CONTENT_TYPE, keys.seal(&xml)).await;
    let reply = keys.unseal(&r.body);
    let items = reply.matches("<p:Msvm_ComputerSystem ").count();
    assert!((1..100).contains(&items), "{items} items");
    assert!(reply.len() <= 16384, "{} bytes", reply.len());
    assert!(context_of(&reply).is_some());
    s.shutdown().await;
}

#[tokio::test]
async fn identify_is_answered_unauthenticated_when_asked() {
    let s = sim(Estate::demo(3), 100).await;
    let ep = &s.endpoints()[0];
    let tcp = tokio::net::TcpStream::connect(ep.http).await.unwrap();
    let (mut send, conn) = http1::handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let body = format!(
        "<s:Envelope xmlns:s=\"{}\" xmlns:wsmid=\"{}\"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>",
        ns::SOAP,
        ns::WSMID
    );
    let req = http::Request::post("/wsman")
        .header("Host", ep.http.to_string())
        .header("WSMANIDENTIFY", "unauthenticated")
        .header("Content-Type", "application/soap+xml;charset=UTF-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&b)
            .contains("<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn spnego_with_a_non_ntlm_optimistic_token_is_steered_to_ntlm() {
    let s = sim(Estate::demo(3), 100).await;
    let mut raw = Raw::connect(&s.endpoints()[0]).await;
    // negTokenInit whose mechToken is not NTLMSSP (say, a Kerberos AP-REQ).
    let fake = [0x6e, 0x03, 0x01, 0x02, 0x03];
    let mut seq = vec![0xa2, (fake.len() + 2) as u8, 0x04, fake.len() as u8];
    seq.extend(fake);
    let mut a0 = vec![0x30, seq.len() as u8];
    a0.extend(seq);
    let mut inner = vec![
        0x06,
        0x06,
        0x2b,
        0x06,
        0x01,
        0x05,
        0x05,
        0x02,
        0xa0,
        a0.len() as u8,
    ];
    inner.extend(a0);
    let mut t = vec![0x60, inner.len() as u8];
    t.extend(inner);
    let r = raw.post(Some(&t), "application/soap+xml", vec![]).await;
    assert_eq!(r.status, 401);
    let tok = r.www_auth.expect("negTokenResp");
    assert_eq!(tok.first(), Some(&0xa1));
    // It names the NTLM mechanism (OID 1.3.6.1.4.1.311.2.2.10).
    assert!(
        tok.windows(10)
            .any(|w| w == [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a])
    );
    s.shutdown().await;
}
