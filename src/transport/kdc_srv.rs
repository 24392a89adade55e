//! The realm's KDC from DNS (`_kerberos._tcp.<realm>` SRV, RFC 4120 7.2.3.2),
//! the last resort when neither `kdc` nor krb5.conf names one. An Active
//! Directory domain publishes these records for its domain controllers.
//!
//! A small UDP client rather than a resolver crate: one question, one
//! record type, answers of a few hundred bytes. Each realm is looked up once
//! per process (found or not), so a run over many hosts asks DNS once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const TYPE_SRV: u16 = 33;
const CLASS_IN: u16 = 1;
/// Per name server; a resolver that does not answer in this time is down.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest UDP answer read (EDNS is not asked for, so 512 suffices; more
/// room costs nothing).
const MAX_ANSWER: usize = 4096;

/// The realm's KDC as `host:port`, or `None` when DNS has no record (or no
/// name server answered). Cached per realm for the process.
pub async fn lookup(realm: &str) -> Option<String> {
    let realm = realm.to_ascii_uppercase();
    // One look-up at a time: hosts collected at once wait for the first
    // answer instead of each asking DNS.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    if let Some(hit) = cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&realm)
    {
        return hit.clone();
    }
    let servers = name_servers(&resolv_conf());
    let found = lookup_with(&realm, &servers).await;
    tracing::debug!(realm = %realm, kdc = ?found, "KDC from DNS SRV");
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(realm, found.clone());
    found
}

fn cache() -> &'static Mutex<HashMap<String, Option<String>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<String>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The resolver configuration: `HVINV_RESOLV_CONF` names another file
/// (tests point it at their own DNS responder), else /etc/resolv.conf.
fn resolv_conf() -> String {
    let path =
        std::env::var("HVINV_RESOLV_CONF").unwrap_or_else(|_| "/etc/resolv.conf".to_string());
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `nameserver` lines of a resolv.conf, port 53 unless written as
/// `[addr]:port` or `addr:port` (an extension tests use).
fn name_servers(conf: &str) -> Vec<SocketAddr> {
    conf.lines()
        .filter_map(|l| l.split(['#', ';']).next())
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|v| {
            let v = v.trim();
            v.parse::<SocketAddr>()
                .ok()
                .or_else(|| v.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
        })
        .collect()
}

/// Asks each server in turn; the first that answers decides.
pub async fn lookup_with(realm: &str, servers: &[SocketAddr]) -> Option<String> {
    let name = format!("_kerberos._tcp.{}", realm.trim_end_matches('.'));
    for server in servers {
        match tokio::time::timeout(QUERY_TIMEOUT, ask(&name, *server)).await {
            Ok(Ok(records)) => return best(records),
            Ok(Err(why)) => tracing::debug!(%server, %why, "DNS SRV query failed"),
            Err(_) => tracing::debug!(%server, "DNS SRV query timed out"),
        }
    }
    None
}

/// One SRV record: (priority, weight, port, target).
type Srv = (u16, u16, u16, String);

/// Lowest priority first, then highest weight (no random weighting: one
/// KDC per run is enough, and a stable choice makes errors reproducible).
/// A single target "." means "no KDC here" (RFC 2782).
fn best(mut records: Vec<Srv>) -> Option<String> {
    records.retain(|r| !r.3.is_empty());
    records.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    records.first().map(|(_, _, port, target)| {
        if target.contains(':') {
            format!("[{target}]:{port}")
        } else {
            format!("{target}:{port}")
        }
    })
}

async fn ask(name: &str, server: SocketAddr) -> Result<Vec<Srv>, String> {
    let id: u16 = rand::random();
    let query = encode_query(id, name)?;
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|_| "bind address")?
    } else {
        "[::]:0".parse().map_err(|_| "bind address")?
    };
    let sock = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| e.to_string())?;
    sock.connect(server).await.map_err(|e| e.to_string())?;
    sock.send(&query).await.map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; MAX_ANSWER];
    loop {
        let n = sock.recv(&mut buf).await.map_err(|e| e.to_string())?;
        // Answers to other queries (or spoofed ones) carry another id.
        if let Some(records) = decode_answer(id, &buf[..n]) {
            return records;
        }
    }
}

fn encode_query(id: u16, name: &str) -> Result<Vec<u8>, String> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // recursion desired
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|n| *n < 64)
            .ok_or_else(|| format!("DNS label too long in {name}"))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&TYPE_SRV.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(q)
}

/// `None`: not the answer to query `id` (keep waiting). `Some(Err)`: the
/// server's error or a malformed answer. NXDOMAIN is an empty list.
fn decode_answer(id: u16, msg: &[u8]) -> Option<Result<Vec<Srv>, String>> {
    let head = msg.get(..12)?;
    let (got, flags) = (be16(head, 0)?, be16(head, 2)?);
    if got != id || flags & 0x8000 == 0 {
        return None;
    }
    Some(decode_records(msg, flags))
}

fn decode_records(msg: &[u8], flags: u16) -> Result<Vec<Srv>, String> {
    let bad = || "malformed DNS answer".to_string();
    match flags & 0x000f {
        0 => {}
        3 => return Ok(Vec::new()), // NXDOMAIN
        rcode => return Err(format!("DNS error (rcode {rcode})")),
    }
    let qd = be16(msg, 4).ok_or_else(bad)?;
    let an = be16(msg, 6).ok_or_else(bad)?;
    let mut at = 12;
    for _ in 0..qd {
        at = skip_name(msg, at).ok_or_else(bad)? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        at = skip_name(msg, at).ok_or_else(bad)?;
        let rtype = be16(msg, at).ok_or_else(bad)?;
        let len = usize::from(be16(msg, at + 8).ok_or_else(bad)?);
        let data = at + 10;
        if msg.len() < data + len {
            return Err(bad());
        }
        if rtype == TYPE_SRV && len >= 7 {
            let priority = be16(msg, data).ok_or_else(bad)?;
            let weight = be16(msg, data + 2).ok_or_else(bad)?;
            let port = be16(msg, data + 4).ok_or_else(bad)?;
            let target = read_name(msg, data + 6).ok_or_else(bad)?;
            out.push((priority, weight, port, target));
        }
        at = data + len;
    }
    Ok(out)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// The offset after the (possibly compressed) name at `at`.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l if l < 64 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
}

/// The name at `at`, following compression pointers (a bounded number, so
/// a pointer loop ends); the root name is "".
fn read_name(msg: &[u8], mut at: usize) -> Option<String> {
    let mut labels: Vec<String> = Vec::new();
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => return Some(labels.join(".")),
            l if l & 0xc0 == 0xc0 => {
                jumps += 1;
                if jumps > 16 {
                    return None;
                }
                at = usize::from(be16(msg, at)? & 0x3fff);
            }
            l if l < 64 => {
                let label = msg.get(at + 1..at + 1 + usize::from(l))?;
                labels.push(String::from_utf8_lossy(label).into_owned());
                at += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SRV answer built by hand from RFC 1035/2782, independent of the
    /// encoder above: header, the question, then `records` whose targets
    /// are written out (the first) or compressed against the question's
    /// `hvinv.test` suffix (the others).
    fn answer(id: u16, rcode: u16, records: &[(u16, u16, u16, &str)]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&(0x8180 | rcode).to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&(records.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        // question: _kerberos._tcp.hvinv.test SRV IN; "hvinv" starts at 12+15=27
        m.extend_from_slice(b"\x09_kerberos\x04_tcp\x05hvinv\x04test\x00\x00\x21\x00\x01");
        for (i, (prio, weight, port, host)) in records.iter().enumerate() {
            m.extend_from_slice(b"\xc0\x0c\x00\x21\x00\x01\x00\x00\x0e\x10");
            let mut rdata = Vec::new();
            rdata.extend_from_slice(&prio.to_be_bytes());
            rdata.extend_from_slice(&weight.to_be_bytes());
            rdata.extend_from_slice(&port.to_be_bytes());
            if host.is_empty() {
                rdata.push(0);
            } else if i == 0 {
                for l in host.split('.') {
                    rdata.push(l.len() as u8);
                    rdata.extend_from_slice(l.as_bytes());
                }
                rdata.push(0);
            } else {
                let first = host.strip_suffix(".hvinv.test").expect("test host");
                rdata.push(first.len() as u8);
                rdata.extend_from_slice(first.as_bytes());
                rdata.extend_from_slice(&[0xc0, 27]);
            }
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(&rdata);
        }
        m
    }

    #[test]
    fn the_query_is_the_srv_question_in_wire_form() {
        let q = encode_query(0xbeef, "_kerberos._tcp.HVINV.TEST").unwrap();
        let mut want = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"\x09_kerberos\x04_tcp\x05HVINV\x04TEST\x00\x00\x21\x00\x01");
        assert_eq!(q, want);
        assert!(encode_query(1, &"a".repeat(64)).is_err());
    }

    #[test]
    fn records_are_read_with_compressed_targets_and_the_best_one_wins() {
        let msg = answer(
            7,
            0,
            &[
                (10, 0, 88, "backup.hvinv.test"),
                (0, 10, 88, "dc2.hvinv.test"),
                (0, 50, 1088, "dc1.hvinv.test"),
            ],
        );
        let records = decode_answer(7, &msg).unwrap().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].3, "dc2.hvinv.test");
        assert_eq!(best(records).as_deref(), Some("dc1.hvinv.test:1088"));
    }

    #[test]
    fn other_ids_are_ignored_and_errors_and_absence_are_told_apart() {
        let msg = answer(7, 0, &[(0, 0, 88, "dc1.hvinv.test")]);
        assert!(decode_answer(8, &msg).is_none(), "another query's answer");
        assert_eq!(decode_answer(9, &answer(9, 3, &[])), Some(Ok(Vec::new())));
        assert!(matches!(decode_answer(9, &answer(9, 2, &[])), Some(Err(_))));
        // "." alone: the realm says it has no KDC over TCP.
        let none = decode_answer(5, &answer(5, 0, &[(0, 0, 0, "")])).unwrap();
        assert_eq!(best(none.unwrap()), None);
        for cut in 0..msg.len() {
            let _ = decode_answer(7, &msg[..cut]);
        }
    }

    #[test]
    fn a_pointer_loop_ends() {
        let mut msg = answer(7, 0, &[(0, 0, 88, "dc1.hvinv.test")]);
        let at = msg.len() - 16; // the target's first label
        msg[at] = 0xc0;
        msg[at + 1] = at as u8;
        assert!(read_name(&msg, at).is_none());
    }

    #[test]
    fn name_servers_come_from_resolv_conf() {
        let conf = "# comment\nsearch x\nnameserver 10.0.0.2\nnameserver ::1 # v6\nnameserver 127.0.0.1:5353\nnameserver bogus\n";
        assert_eq!(
            name_servers(conf),
            vec![
                "10.0.0.2:53".parse().unwrap(),
                "[::1]:53".parse().unwrap(),
                "127.0.0.1:5353".parse().unwrap(),
            ]
        );
    }

    /// A tiny DNS responder on loopback answers the query the client sends:
    /// the whole round trip, including the id check and the second server
    /// being asked when the first does not answer.
    #[tokio::test]
    async fn a_lookup_against_an_in_test_responder() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = responder.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = responder.recv_from(&mut buf).await.unwrap();
            let id = u16::from_be_bytes([buf[0], buf[1]]);
            assert!(
                buf[..n].ends_with(b"\x09_kerberos\x04_tcp\x05HVINV\x04TEST\x00\x00\x21\x00\x01")
            );
            // A stray answer with the wrong id first: must be ignored.
            let stray = answer(id.wrapping_add(1), 0, &[(0, 0, 1, "evil.hvinv.test")]);
            responder.send_to(&stray, from).await.unwrap();
            let good = answer(id, 0, &[(0, 0, 17088, "kdc.hvinv.test")]);
            responder.send_to(&good, from).await.unwrap();
        });
        let servers = [silent.local_addr().unwrap(), addr];
        let started = std::time::Instant::now();
        let got = lookup_with("HVINV.TEST", &servers).await;
        assert_eq!(got.as_deref(), Some("kdc.hvinv.test:17088"));
        assert!(
            started.elapsed() >= QUERY_TIMEOUT,
            "the silent server was asked first"
        );
        task.await.unwrap();
    }
}
