//! Configuration values reach the wire as they were parsed: a certificate
//! thumbprint pasted from the Windows certificate dialog (with its invisible
//! U+200E mark) passes the configuration check and pins the TLS handshake.

use hvinv::cli::config::Config;
use hvinv::diagnose::{StepStatus, check_host};
use hvinv::simulator::{
    DEFAULT_ACCOUNT, DEFAULT_PASSWORD, Estate, SimConfig, Simulator, TlsCertMode,
};
use hvinv::wsman::ClientOptions;
use std::net::Ipv4Addr;
use std::path::Path;

fn env(name: &str) -> Option<String> {
    (name == "HVINV_TEST_PASSWORD").then(|| DEFAULT_PASSWORD.to_string())
}

/// The way the Windows dialog shows a SHA-1 thumbprint, copied with its mark.
fn as_pasted_from_windows(thumbprint: &str) -> String {
    let pairs: Vec<String> = thumbprint
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).to_lowercase())
        .collect();
    format!("\u{200e}{}", pairs.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbprint_pasted_with_its_u200e_mark_pins_the_certificate_end_to_end() {
    let mut estate = Estate::demo(33);
    // Self-signed: only the pin can make the handshake pass.
    estate.hosts[0].faults.tls = TlsCertMode::SelfSigned;
    let mut sim_cfg = SimConfig::new(estate);
    sim_cfg.base_address = Ipv4Addr::new(127, 0, 63, 1);
    sim_cfg.http_port = 0;
    sim_cfg.https_port = Some(0);
    let sim = Simulator::start(sim_cfg).await.unwrap();
    let ep = sim.endpoints().remove(0);
    let https = ep.https.expect("the simulator listens on HTTPS");

    let config_with = |thumbprint: &str| {
        format!(
            "[defaults]\nusername = '{DEFAULT_ACCOUNT}'\npassword_env = \"HVINV_TEST_PASSWORD\"\n\n\
             [[host]]\naddress = \"{}\"\ntransport = \"https\"\nport = {}\nconnect_to = \"{https}\"\n\
             cert_thumbprint = \"{thumbprint}\"\n",
            ep.tls_name,
            https.port()
        )
    };
    let check = |text: String| async move {
        let config = Config::parse(&text, "test.toml", Path::new("."), &env)
            .expect("the configuration check accepts the thumbprint");
        let host = &config.hosts[0];
        check_host(&host.address, &host.transport, &ClientOptions::default()).await
    };

    let pasted = as_pasted_from_windows(&sim.cert_thumbprint_sha1(0));
    assert!(pasted.starts_with('\u{200e}'));
    let c = check(config_with(&pasted)).await;
    assert!(c.ok, "{c:#?}");
    assert!(
        c.steps.iter().all(|s| s.status == StepStatus::Pass),
        "{c:#?}"
    );

    // The pin is what let the handshake through: another one fails it.
    let c = check(config_with(&as_pasted_from_windows(&"AB".repeat(20)))).await;
    let tls = c
        .steps
        .iter()
        .find(|s| s.name == "transport security")
        .unwrap();
    assert_eq!(tls.status, StepStatus::Fail, "{c:#?}");
    sim.shutdown().await;
}
