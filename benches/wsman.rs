//! WS-Man reply parsing throughput (plain `main`, no harness): an
//! EnumerateResponse holding 500 `Msvm_ComputerSystem`-like `SELECT *`
//! instances, parsed repeatedly; prints MB/s and instances/s.
//!
//! Run: `cargo bench --bench wsman`.

use hvinv::wsman::envelope::parse_enumeration_response;
use std::fmt::Write;
use std::time::{Duration, Instant};

const INSTANCES: usize = 500;

/// One instance shaped like a Windows Server 2022 `Msvm_ComputerSystem`
/// reply: ~35 properties, arrays, nils, datetimes, an escaped character.
fn instance(out: &mut String, i: usize) {
    let guid = format!("{:08X}-3F0B-4C52-9E7A-{:012X}", i * 7919, i * 104_729);
    let _ = write!(
        out,
        r#"<p:Msvm_ComputerSystem xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="p:Msvm_ComputerSystem_Type"><p:AssignedNumaNodeList>0</p:AssignedNumaNodeList><p:AssignedNumaNodeList>1</p:AssignedNumaNodeList><p:AvailableRequestedStates>2</p:AvailableRequestedStates><p:AvailableRequestedStates>3</p:AvailableRequestedStates><p:AvailableRequestedStates>32768</p:AvailableRequestedStates><p:Caption>Virtual Machine</p:Caption><p:CommunicationStatus xsi:nil="true"/><p:CreationClassName>Msvm_ComputerSystem</p:CreationClassName><p:Dedicated>0</p:Dedicated><p:Description>Microsoft Virtual Machine</p:Description><p:DetailedStatus xsi:nil="true"/><p:ElementName>vm-{i:04} &amp; co</p:ElementName><p:EnabledDefault>2</p:EnabledDefault><p:EnabledState>2</p:EnabledState><p:EnhancedSessionModeState>3</p:EnhancedSessionModeState><p:FailedOverReplicationType>0</p:FailedOverReplicationType><p:HealthState>5</p:HealthState><p:HwThreadsPerCoreRealized>1</p:HwThreadsPerCoreRealized><p:IdentifyingDescriptions xsi:nil="true"/><p:InstallDate><cim:Datetime>2025-06-{day:02}T08:15:30.1234Z</cim:Datetime></p:InstallDate><p:InstanceID xsi:nil="true"/><p:LastApplicationConsistentReplicationTime><cim:Datetime>1601-01-01T00:00:00Z</cim:Datetime></p:LastApplicationConsistentReplicationTime><p:LastReplicationTime><cim:Datetime>1601-01-01T00:00:00Z</cim:Datetime></p:LastReplicationTime><p:LastReplicationType>0</p:LastReplicationType><p:LastSuccessfulBackupTime xsi:nil="true"/><p:Name>{guid}</p:Name><p:NameFormat xsi:nil="true"/><p:NumberOfNumaNodes>1</p:NumberOfNumaNodes><p:OnTimeInMilliseconds>{on}</p:OnTimeInMilliseconds><p:OperationalStatus>2</p:OperationalStatus><p:OtherEnabledState xsi:nil="true"/><p:PrimaryOwnerContact xsi:nil="true"/><p:PrimaryOwnerName>CONTOSO\hvadmin</p:PrimaryOwnerName><p:ProcessID>{pid}</p:ProcessID><p:ReplicationHealth>0</p:ReplicationHealth><p:ReplicationMode>0</p:ReplicationMode><p:ReplicationState>0</p:ReplicationState><p:RequestedState>5</p:RequestedState><p:ResetCapability>1</p:ResetCapability><p:Status>OK</p:Status><p:StatusDescriptions>Operating normally</p:StatusDescriptions><p:TimeOfLastConfigurationChange><cim:Datetime>2026-11-20T10:11:12.5Z</cim:Datetime></p:TimeOfLastConfigurationChange><p:TimeOfLastStateChange><cim:Datetime>2026-11-21T10:11:12.5Z</cim:Datetime></p:TimeOfLastStateChange><p:TransitioningToState>5</p:TransitioningToState></p:Msvm_ComputerSystem>"#,
        day = 1 + i % 28,
        on = i * 3_600_000,
        pid = 4000 + i,
    );
}

fn reply() -> String {
    let mut out = String::with_capacity(INSTANCES * 4096);
    out.push_str(r#"<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse</a:Action><a:MessageID>uuid:A3559690-56D6-4534-877C-823027E0F49B</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>uuid:55F28C75-F63E-4F68-8360-A8C478003959</a:RelatesTo></s:Header><s:Body><n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items>"#);
    for i in 0..INSTANCES {
        instance(&mut out, i);
    }
    out.push_str("</w:Items><w:EndOfSequence/></n:EnumerateResponse></s:Body></s:Envelope>");
    out
}

/// CPU time of this thread: the machine may be shared, and wall time
/// then measures the neighbours as much as the parser.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the struct we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` for at least 3 s of wall time (and 5 rounds); returns
/// (rounds, CPU seconds of this thread).
fn time(mut f: impl FnMut()) -> (u32, f64) {
    let mut rounds = 0u32;
    let start = Instant::now();
    let cpu = thread_cpu();
    while start.elapsed() < Duration::from_secs(3) || rounds < 5 {
        f();
        rounds += 1;
    }
    let cpu = (thread_cpu() - cpu).as_secs_f64();
    // Fall back to wall time where the thread clock is unavailable.
    (
        rounds,
        if cpu > 0.0 {
            cpu
        } else {
            start.elapsed().as_secs_f64()
        },
    )
}

/// Baseline: quick-xml's namespace-resolving event loop alone, touching
/// every event, to show what the instance building itself costs.
fn raw_events(xml: &str) -> usize {
    use quick_xml::events::Event;
    let mut r = quick_xml::reader::NsReader::from_str(xml);
    let mut n = 0;
    loop {
        match r.read_resolved_event() {
            Ok((_, Event::Eof)) | Err(_) => return n,
            Ok(_) => n += 1,
        }
    }
}

fn main() {
    let xml = reply();
    // Check the workload before timing it.
    let page = parse_enumeration_response(&xml).expect("benchmark reply parses");
    assert_eq!(page.items.len(), INSTANCES);
    assert_eq!(page.items[7].text("ElementName"), Some("vm-0007 & co"));
    assert_eq!(page.items[0].array("AvailableRequestedStates").len(), 3);

    let (rounds, secs) = time(|| {
        let page = parse_enumeration_response(std::hint::black_box(&xml)).expect("parses");
        std::hint::black_box(page);
    });
    let mb = xml.len() as f64 * f64::from(rounds) / 1e6;
    let instances = INSTANCES as f64 * f64::from(rounds);
    println!(
        "wsman parse: {} instances, {:.1} KiB per reply, {rounds} rounds in {secs:.2} s CPU: {:.1} MB/s, {:.0} instances/s, {:.1} µs per reply",
        INSTANCES,
        xml.len() as f64 / 1024.0,
        mb / secs,
        instances / secs,
        secs * 1e6 / f64::from(rounds),
    );
    let (raw_rounds, raw_secs) = time(|| {
        std::hint::black_box(raw_events(std::hint::black_box(&xml)));
    });
    println!(
        "baseline quick-xml NsReader events only: {:.1} MB/s (CPU time)",
        xml.len() as f64 * f64::from(raw_rounds) / 1e6 / raw_secs
    );
}
