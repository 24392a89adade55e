//! The simulated estate: pure data, deterministic from a seed. Tests write
//! their expected values from this definition, never from client output.

mod advance;
mod demo;
mod prng;
mod scale;

pub use prng::SplitMix64;

/// Windows Server release of a host; decides which WMI properties exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WindowsRelease {
    W2008R2,
    W2012,
    W2012R2,
    W2016,
    W2019,
    W2022,
}

impl WindowsRelease {
    pub fn os_caption(self) -> &'static str {
        match self {
            WindowsRelease::W2008R2 => "Microsoft Windows Server 2008 R2 Datacenter",
            WindowsRelease::W2012 => "Microsoft Windows Server 2012 Datacenter",
            WindowsRelease::W2012R2 => "Microsoft Windows Server 2012 R2 Datacenter",
            WindowsRelease::W2016 => "Microsoft Windows Server 2016 Datacenter",
            WindowsRelease::W2019 => "Microsoft Windows Server 2019 Datacenter",
            WindowsRelease::W2022 => "Microsoft Windows Server 2022 Datacenter",
        }
    }

    pub fn os_version(self) -> &'static str {
        match self {
            WindowsRelease::W2008R2 => "6.1.7601",
            WindowsRelease::W2012 => "6.2.9200",
            WindowsRelease::W2012R2 => "6.3.9600",
            WindowsRelease::W2016 => "10.0.14393",
            WindowsRelease::W2019 => "10.0.17763",
            WindowsRelease::W2022 => "10.0.20348",
        }
    }

    pub fn os_build(self) -> &'static str {
        match self {
            WindowsRelease::W2008R2 => "7601",
            WindowsRelease::W2012 => "9200",
            WindowsRelease::W2012R2 => "9600",
            WindowsRelease::W2016 => "14393",
            WindowsRelease::W2019 => "17763",
            WindowsRelease::W2022 => "20348",
        }
    }

    /// Default configuration version of a new VM on this release.
    pub fn default_vm_version(self) -> &'static str {
        match self {
            WindowsRelease::W2008R2 | WindowsRelease::W2012 | WindowsRelease::W2012R2 => "5.0",
            WindowsRelease::W2016 => "8.0",
            WindowsRelease::W2019 => "9.0",
            WindowsRelease::W2022 => "10.0",
        }
    }
}

/// Which Hyper-V WMI namespace the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HyperVNamespace {
    /// `root/virtualization/v2` (2012 and later).
    V2,
    /// `root/virtualization` (2008 R2).
    V1,
    /// Hyper-V role not installed.
    None,
}

/// Display language of the host (localizes Caption/Description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    Fr,
    Ja,
}

/// `Msvm_ComputerSystem.EnabledState` of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VmState {
    Running,
    Off,
    Paused,
    Saved,
    Starting,
    Stopping,
}

impl VmState {
    pub fn enabled_state(self) -> u16 {
        match self {
            VmState::Running => 2,
            VmState::Off => 3,
            VmState::Paused => 32768,
            VmState::Saved => 32769,
            VmState::Starting => 32770,
            VmState::Stopping => 32774,
        }
    }
}

/// Certificate the HTTPS listener presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsCertMode {
    #[default]
    Good,
    /// Self-signed leaf: unknown authority.
    SelfSigned,
    /// Signed by the CA, but for another name and address.
    WrongName,
    /// Signed by the CA, `not_after` in the past.
    Expired,
}

/// Misbehaviour a test can switch on per host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostFaults {
    /// Every login fails (401), whatever the password.
    pub reject_auth: bool,
    /// `root/MSCluster` answers access denied.
    pub cluster_access_denied: bool,
    /// Accept TCP connections but never answer.
    pub stall: bool,
    /// Send the response headers and half the body, then close.
    pub close_mid_body: bool,
    /// Valid sealing/HTTP, broken XML inside.
    pub malformed_xml: bool,
    /// Claim and stream a 64 MiB body.
    pub huge_body: bool,
    /// The SOAP reply carries a DOCTYPE with an entity.
    pub doctype_body: bool,
    /// Sealed replies carry a signature that does not verify.
    pub truncated_signature: bool,
    /// Do not listen at all (connection refused).
    pub refuse_connections: bool,
    pub tls: TlsCertMode,
    /// Accept plain SOAP over HTTP (AllowUnencrypted=true).
    pub allow_unencrypted: bool,
    /// Extra delay before each response, on top of `SimConfig::latency`.
    pub latency_extra_ms: u64,
    /// The Virtual Machine Management service is stopped: Hyper-V queries
    /// fail with a provider fault, and Win32_Service says `Stopped`.
    pub vmms_stopped: bool,
    /// WMI is slower than the request's OperationTimeout: every Enumerate
    /// answers a `w:TimedOut` fault (2150858793).
    pub operation_timeout: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCpu {
    pub name: String,
    pub manufacturer: String,
    pub cores: u32,
    pub logical: u32,
    pub max_clock_mhz: u32,
    /// `SocketDesignation`, e.g. `CPU1`.
    pub socket: String,
}

/// A checkpoint (snapshot) of a VM, with its own (different) settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCheckpoint {
    pub guid: String,
    pub name: String,
    pub vcpus: u32,
    pub memory_mb: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimVm {
    /// Upper-case GUID: `Msvm_ComputerSystem.Name`, `VirtualSystemIdentifier`.
    pub guid: String,
    pub name: String,
    pub bios_guid: String,
    pub bios_serial: String,
    pub state: VmState,
    /// `HealthState`: 5 OK, 20 major failure, 25 critical.
    pub health_state: u16,
    pub vcpus: u32,
    /// Processor `Limit`, 0..=100000 (100000 = 100 %).
    pub cpu_limit: u64,
    pub cpu_reservation: u64,
    pub cpu_weight: u32,
    pub memory_mb: u64,
    pub dynamic_memory: bool,
    /// 0 none, 1 primary, 2 replica, 3 test replica, 4 extended replica.
    pub replication_mode: u16,
    /// VM generation, 1 or 2.
    pub generation: u8,
    /// Configuration version, e.g. `9.0`.
    pub version: String,
    pub checkpoints: Vec<SimCheckpoint>,
    /// Part of the host's failover cluster (a `Virtual Machine` resource).
    pub clustered: bool,
    /// A planned VM (import/migration in progress): only its setting data
    /// exists, typed `Microsoft:Hyper-V:System:Planned`.
    pub planned: bool,
    /// `OnTimeInMilliseconds` while running.
    pub uptime_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimHost {
    /// NetBIOS computer name, upper-case (`HV01`).
    pub name: String,
    /// DNS domain (`contoso.com`); the FQDN is `name.domain` in lower case.
    pub domain: String,
    /// `Win32_ComputerSystemProduct.UUID`.
    pub uuid: String,
    /// `Win32_BIOS.SerialNumber` and `IdentifyingNumber`.
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    pub release: WindowsRelease,
    pub os_caption: String,
    pub os_version: String,
    pub os_build: String,
    pub cpus: Vec<SimCpu>,
    pub memory_bytes: u64,
    pub namespace: HyperVNamespace,
    pub vmms_running: bool,
    pub locale: Locale,
    /// Name of the cluster this host is a node of.
    pub cluster: Option<String>,
    pub vms: Vec<SimVm>,
    pub faults: HostFaults,
}

impl SimHost {
    pub fn fqdn(&self) -> String {
        format!("{}.{}", self.name, self.domain).to_lowercase()
    }

    pub fn total_cores(&self) -> u32 {
        self.cpus.iter().map(|c| c.cores).sum()
    }

    pub fn total_logical(&self) -> u32 {
        self.cpus.iter().map(|c| c.logical).sum()
    }

    /// VMs that exist as `Msvm_ComputerSystem` rows (planned ones do not).
    pub fn realized_vms(&self) -> impl Iterator<Item = &SimVm> {
        self.vms.iter().filter(|v| !v.planned)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCluster {
    pub name: String,
    pub fqdn: String,
    /// Node computer names, in estate order.
    pub nodes: Vec<String>,
}

impl SimCluster {
    /// `(vm guid, vm name, owner node)` of every clustered VM, computed from
    /// the hosts' clustered VMs (the owner is the host that runs it).
    pub fn vm_owners(&self, estate: &Estate) -> Vec<(String, String, String)> {
        estate
            .hosts
            .iter()
            .filter(|h| h.cluster.as_deref() == Some(self.name.as_str()))
            .flat_map(|h| {
                h.realized_vms()
                    .filter(|v| v.clustered)
                    .map(move |v| (v.guid.clone(), v.name.clone(), h.name.clone()))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Estate {
    pub hosts: Vec<SimHost>,
    pub clusters: Vec<SimCluster>,
    /// Starts at 1; `advance` increments it.
    pub generation: u32,
    /// Seed the estate was built from (drives `advance`).
    pub seed: u64,
}

impl Estate {
    pub fn demo(seed: u64) -> Estate {
        demo::build(seed)
    }

    pub fn scale(hosts: usize, vms_per_host: usize, seed: u64) -> Estate {
        scale::build(hosts, vms_per_host, seed)
    }

    /// The next generation: live migrations, one VM added, one removed,
    /// one vCPU change. Deterministic.
    pub fn advance(&self) -> Estate {
        advance::next(self)
    }

    pub fn host(&self, name: &str) -> Option<&SimHost> {
        self.hosts
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }

    pub fn cluster(&self, name: &str) -> Option<&SimCluster> {
        self.clusters
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Every VM with the name of the host it is on.
    pub fn all_vms(&self) -> impl Iterator<Item = (&SimHost, &SimVm)> {
        self.hosts
            .iter()
            .flat_map(|h| h.vms.iter().map(move |v| (h, v)))
    }
}

/// Builds one VM with typical settings; constructors adjust fields after.
pub(crate) fn new_vm(rng: &mut SplitMix64, name: String, release: WindowsRelease) -> SimVm {
    let state = match rng.below(10) {
        0 => VmState::Off,
        1 => VmState::Saved,
        _ => VmState::Running,
    };
    let generation = if release >= WindowsRelease::W2012R2 && rng.chance(60) {
        2
    } else {
        1
    };
    let dynamic_memory = release > WindowsRelease::W2008R2 && rng.chance(40);
    SimVm {
        guid: rng.guid(),
        name,
        bios_guid: rng.guid(),
        bios_serial: rng.vm_serial(),
        state,
        health_state: 5,
        vcpus: *rng.pick(&[1, 2, 2, 4, 4, 8]).unwrap_or(&2),
        cpu_limit: 100_000,
        cpu_reservation: 0,
        cpu_weight: 100,
        memory_mb: *rng.pick(&[1024, 2048, 4096, 8192, 16384]).unwrap_or(&4096),
        dynamic_memory,
        replication_mode: 0,
        generation,
        version: release.default_vm_version().to_string(),
        checkpoints: Vec::new(),
        clustered: false,
        planned: false,
        uptime_ms: if state == VmState::Running {
            rng.range(60_000, 90 * 86_400_000)
        } else {
            0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_demo_estate() {
        assert_eq!(Estate::demo(7), Estate::demo(7));
        assert_ne!(Estate::demo(7), Estate::demo(8));
    }

    #[test]
    fn same_seed_gives_same_scale_estate() {
        assert_eq!(Estate::scale(20, 5, 3), Estate::scale(20, 5, 3));
    }
}
