//! The typed topology of one host, as collected. Plain data: the store
//! writes it, tests build it by hand. Holds no secrets.

use serde::{Deserialize, Serialize};

/// Which physical machine this is, across runs and addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostIdentity {
    /// `Win32_ComputerSystemProduct.UUID`, upper case, no braces; `None`
    /// when missing or a known firmware placeholder.
    pub uuid: Option<String>,
    pub serial: Option<String>,
}

impl HostIdentity {
    /// The store key: `uuid:<UUID>`, else `serial:<serial>`, else the name.
    pub fn key(&self, fallback_name: Option<&str>) -> Option<String> {
        if let Some(u) = &self.uuid {
            Some(format!("uuid:{u}"))
        } else if let Some(s) = &self.serial {
            Some(format!("serial:{s}"))
        } else {
            fallback_name.map(|n| format!("name:{}", n.to_ascii_uppercase()))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Processor {
    /// `SocketDesignation`, else `DeviceID`.
    pub socket: Option<String>,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub cores: Option<u32>,
    pub logical: Option<u32>,
    pub max_clock_mhz: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostSnapshot {
    pub identity: HostIdentity,
    /// NetBIOS name, as WMI reports it.
    pub name: Option<String>,
    /// Lower case `DNSHostName.Domain`.
    pub fqdn: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// `"<Caption> <Version>"`.
    pub os: Option<String>,
    pub os_build: Option<String>,
    pub sockets: Option<u32>,
    /// Sum of `NumberOfCores` over sockets.
    pub cores: Option<u32>,
    pub logical_processors: Option<u32>,
    pub memory_mb: Option<u64>,
    /// Sorted by socket.
    pub processors: Vec<Processor>,
    pub processor_vendor: Option<String>,
    pub processor_model: Option<String>,
    /// `root/virtualization/v2` or `root/virtualization`.
    pub hyperv_namespace: Option<String>,
    /// Sorted by GUID.
    pub vms: Vec<VmSnapshot>,
    pub cluster: Option<ClusterSnapshot>,
    pub warnings: Vec<String>,
    /// Licence region the operator gave the address (config `region`);
    /// not read from the host. `None` is the region `"default"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterNode {
    pub name: String,
    /// `up`, `down`, `paused`, `joining`, `unknown`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmOwner {
    /// `PrivateProperties.VmID`; `None` when the host did not say.
    pub vm_guid: Option<Guid>,
    /// The resource name (`Virtual Machine <name>`).
    pub resource: Option<String>,
    pub owner_node: Option<String>,
    /// `online`, `offline`, `failed`, …
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Upper case, as WMI reports it.
    pub name: String,
    pub fqdn: Option<String>,
    /// Sorted by name.
    pub nodes: Vec<ClusterNode>,
    /// Sorted by VM GUID, then resource name.
    pub vm_owners: Vec<VmOwner>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    Running,
    Off,
    Saved,
    Paused,
    Starting,
    Stopping,
    /// Also what a host that did not say is read as.
    #[default]
    Other,
}

impl VmState {
    /// Every state, in the order people read them.
    pub const ALL: [VmState; 7] = [
        VmState::Running,
        VmState::Off,
        VmState::Saved,
        VmState::Paused,
        VmState::Starting,
        VmState::Stopping,
        VmState::Other,
    ];

    /// The state named `s` as `as_str` spells it.
    pub fn parse(s: &str) -> Option<VmState> {
        VmState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// From `Msvm_ComputerSystem.EnabledState`: the CIM values v2 uses
    /// (2, 3, 4, 6 saved, 9 paused, 10) and the vendor values v1 uses
    /// (32768 paused, 32769 saved, 32770 starting, 32774 stopping, …).
    pub fn from_enabled_state(v: Option<u16>) -> VmState {
        match v {
            Some(2) => VmState::Running,
            Some(3) => VmState::Off,
            Some(6 | 32769) => VmState::Saved,
            Some(9 | 32768) => VmState::Paused,
            Some(10 | 32770 | 32777) => VmState::Starting,
            Some(4 | 32773 | 32774) => VmState::Stopping,
            _ => VmState::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Running => "running",
            VmState::Off => "off",
            VmState::Saved => "saved",
            VmState::Paused => "paused",
            VmState::Starting => "starting",
            VmState::Stopping => "stopping",
            VmState::Other => "other",
        }
    }
}

impl PartialEq<&str> for VmState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for VmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replication {
    /// Also what an absent `ReplicationMode` (before 2012) is read as.
    #[default]
    None,
    Primary,
    Replica,
    TestReplica,
    ExtendedReplica,
    Other,
}

impl Replication {
    /// Every mode, in the order `ReplicationMode` numbers them.
    pub const ALL: [Replication; 6] = [
        Replication::None,
        Replication::Primary,
        Replication::Replica,
        Replication::TestReplica,
        Replication::ExtendedReplica,
        Replication::Other,
    ];

    /// The mode named `s` as `as_str` spells it.
    pub fn parse(s: &str) -> Option<Replication> {
        Replication::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// From `Msvm_ComputerSystem.ReplicationMode`; absent (before 2012) is none.
    pub fn from_mode(v: Option<u16>) -> Replication {
        match v {
            None | Some(0) => Replication::None,
            Some(1) => Replication::Primary,
            Some(2) => Replication::Replica,
            Some(3) => Replication::TestReplica,
            Some(4) => Replication::ExtendedReplica,
            Some(_) => Replication::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Replication::None => "none",
            Replication::Primary => "primary",
            Replication::Replica => "replica",
            Replication::TestReplica => "test_replica",
            Replication::ExtendedReplica => "extended_replica",
            Replication::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VmSnapshot {
    /// `Msvm_ComputerSystem.Name`.
    pub guid: Guid,
    pub name: Option<String>,
    /// As read (upper case, no braces); `Guid::swapped` gives the other
    /// byte order.
    pub bios_guid: Option<Guid>,
    pub bios_serial: Option<String>,
    pub state: VmState,
    pub enabled_state: Option<u16>,
    pub health_state: Option<u16>,
    pub vcpus: Option<u32>,
    pub cpu_limit_pct: Option<f64>,
    pub cpu_reservation_pct: Option<f64>,
    pub cpu_weight: Option<u32>,
    pub memory_mb: Option<u64>,
    pub dynamic_memory: Option<bool>,
    pub replication: Replication,
    pub replication_mode: Option<u16>,
    pub generation: Option<u8>,
    pub version: Option<String>,
    pub clustered: bool,
}

/// A GUID as hvinv keys VMs and compares them: upper case, hyphenated, no
/// braces. Every way to build one normalises, so two spellings of the same
/// GUID are equal:
/// - [`Guid::parse`]: only a real GUID (8-4-4-4-12 hex; braces and
///   surrounding space allowed), else `None`;
/// - [`Guid::or_text`]: what a host sent where a GUID belongs: the GUID, or
///   the text upper case without its braces (it still identifies);
/// - [`Guid::from_stored`]: a value read back from the store, or typed by a
///   person: trimmed, braces stripped, upper case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Guid(String);

impl Guid {
    pub fn parse(s: &str) -> Option<Guid> {
        let t = s.trim();
        let t = t.strip_prefix('{').unwrap_or(t);
        let t = t.strip_suffix('}').unwrap_or(t);
        // Only the 8-4-4-4-12 form: WMI never sends others, and a looser
        // parse could take a computer name made of hex digits for a GUID.
        if t.len() != 36 {
            return None;
        }
        let u = uuid::Uuid::try_parse(t).ok()?;
        Some(Guid::of(u))
    }

    pub fn or_text(s: &str) -> Guid {
        Guid::parse(s).unwrap_or_else(|| Guid(s.trim_matches(['{', '}']).to_ascii_uppercase()))
    }

    pub fn from_stored(s: &str) -> Guid {
        Guid(
            s.trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_ascii_uppercase(),
        )
    }

    /// The first three fields byte-swapped (little-endian firmware order ↔
    /// RFC order): the other order a tool may print an SMBIOS UUID in.
    /// `None` unless this is a real GUID.
    pub fn swapped(&self) -> Option<Guid> {
        let u = uuid::Uuid::try_parse(&self.0).ok()?;
        Some(Guid::of(uuid::Uuid::from_bytes_le(*u.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    fn of(u: uuid::Uuid) -> Guid {
        Guid(
            u.hyphenated()
                .encode_upper(&mut uuid::Uuid::encode_buffer())
                .to_string(),
        )
    }
}

impl std::ops::Deref for Guid {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Guid {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Guid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Guid {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

/// For hand-built snapshots: normalised as a host's value would be.
impl From<&str> for Guid {
    fn from(s: &str) -> Guid {
        Guid::or_text(s)
    }
}

impl From<String> for Guid {
    fn from(s: String) -> Guid {
        Guid::or_text(&s)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Guid, D::Error> {
        String::deserialize(d).map(|s| Guid::from_stored(&s))
    }
}

/// Host UUIDs firmware vendors ship unset; keying hosts on them would merge
/// different machines.
pub fn is_placeholder_uuid(u: &str) -> bool {
    let hex: String = u.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let all_same = hex
        .chars()
        .next()
        .is_some_and(|first| hex.chars().all(|c| c.eq_ignore_ascii_case(&first)));
    all_same || u.eq_ignore_ascii_case("03000200-0400-0500-0006-000700080009")
}

/// Serials left at the firmware default.
pub fn is_placeholder_serial(s: &str) -> bool {
    let t = s.trim().to_ascii_lowercase();
    t.is_empty()
        || t.chars().all(|c| c == '0' || c == ' ' || c == '-')
        || [
            "to be filled by o.e.m.",
            "default string",
            "system serial number",
            "not specified",
            "not applicable",
            "none",
            "n/a",
            "chassis serial number",
        ]
        .contains(&t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_state_maps_v2_and_v1_values() {
        let cases = [
            (2, VmState::Running),
            (3, VmState::Off),
            (32768, VmState::Paused),
            (32769, VmState::Saved),
            (32770, VmState::Starting),
            (32774, VmState::Stopping),
            (4, VmState::Stopping),
            (10, VmState::Starting),
            (6, VmState::Saved),
            (9, VmState::Paused),
            (0, VmState::Other),
            (5, VmState::Other),
            (32771, VmState::Other),
        ];
        for (v, want) in cases {
            assert_eq!(VmState::from_enabled_state(Some(v)), want, "{v}");
        }
        for s in VmState::ALL {
            assert_eq!(VmState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(VmState::parse("Running"), None);
        assert_eq!(VmState::from_enabled_state(None), VmState::Other);
    }

    #[test]
    fn replication_mode_maps_0_to_4_and_others() {
        let want = [
            Replication::None,
            Replication::Primary,
            Replication::Replica,
            Replication::TestReplica,
            Replication::ExtendedReplica,
        ];
        for (i, w) in want.into_iter().enumerate() {
            assert_eq!(Replication::from_mode(Some(i as u16)), w);
        }
        assert_eq!(Replication::from_mode(Some(7)), Replication::Other);
        assert_eq!(Replication::from_mode(None), Replication::None);
        assert_eq!(Replication::TestReplica.as_str(), "test_replica");
        for r in Replication::ALL {
            assert_eq!(Replication::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert_eq!(Replication::parse("Primary"), None);
    }

    #[test]
    fn bios_guid_swap_matches_firmware_byte_order() {
        // virt-who's example: {78563412-AB90-EFCD-…} is 12345678-90AB-CDEF-….
        let g = Guid::parse("{78563412-ab90-efcd-1234-567890abcdef}").unwrap();
        assert_eq!(
            g.swapped().as_deref(),
            Some("12345678-90AB-CDEF-1234-567890ABCDEF")
        );
        assert_eq!(g.swapped().and_then(|s| s.swapped()), Some(g));
        assert_eq!(Guid::or_text("not-a-guid").swapped(), None);
    }

    #[test]
    fn guids_normalize_to_upper_without_braces() {
        assert_eq!(
            Guid::parse(" {9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab} ").as_deref(),
            Some("9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB")
        );
        assert_eq!(Guid::parse("HV01"), None);
        assert_eq!(Guid::parse("9f2c5b7a1e0d4c3b9a8f0123456789ab"), None);
        assert_eq!(Guid::parse("9F2C5B7A-1E0D-4C3B-9A8F-0123456789AZ"), None);
        // A host's non-GUID value is kept, upper case without braces (not
        // trimmed: the stored key of such a value must not change).
        assert_eq!(Guid::or_text("{abc }"), "ABC ");
        assert_eq!(
            Guid::or_text("{9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab}"),
            "9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB"
        );
        // Stored or typed values: trimmed, every brace at the ends dropped.
        assert_eq!(Guid::from_stored(" {{abc}} "), "ABC");
        let g: Guid = serde_json::from_str("\"{9f2c5b7a-1e0d-4c3b-9a8f-0123456789ab}\"").unwrap();
        assert_eq!(g, "9F2C5B7A-1E0D-4C3B-9A8F-0123456789AB");
    }

    #[test]
    fn placeholder_uuids_and_serials_are_recognised() {
        assert!(is_placeholder_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(is_placeholder_uuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
        assert!(is_placeholder_uuid("03000200-0400-0500-0006-000700080009"));
        assert!(!is_placeholder_uuid("4C4C4544-0042-3510-8058-B4C04F4A4E32"));
        assert!(is_placeholder_serial("To Be Filled By O.E.M."));
        assert!(is_placeholder_serial("0"));
        assert!(!is_placeholder_serial("B5XJNJ2"));
    }

    #[test]
    fn identity_key_prefers_uuid_then_serial_then_name() {
        let both = HostIdentity {
            uuid: Some("U".into()),
            serial: Some("S".into()),
        };
        assert_eq!(both.key(Some("h")).as_deref(), Some("uuid:U"));
        let serial = HostIdentity {
            uuid: None,
            serial: Some("S".into()),
        };
        assert_eq!(serial.key(None).as_deref(), Some("serial:S"));
        let none = HostIdentity {
            uuid: None,
            serial: None,
        };
        assert_eq!(none.key(Some("hv01")).as_deref(), Some("name:HV01"));
        assert_eq!(none.key(None), None);
    }
}
