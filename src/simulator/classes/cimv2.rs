//! `root/cimv2`: host identity and hardware.

use super::value::{CimValue as V, Row, datetime_from, hash};
use super::{ClassDef, p};
use crate::simulator::estate::{SimHost, WindowsRelease::*};

pub static COMPUTER_SYSTEM: ClassDef = ClassDef {
    name: "Win32_ComputerSystem",
    props: &[
        p("AutomaticManagedPagefile", W2008R2),
        p("BootupState", W2008R2),
        p("Caption", W2008R2),
        p("CreationClassName", W2008R2),
        p("CurrentTimeZone", W2008R2),
        p("Description", W2008R2),
        p("DNSHostName", W2008R2),
        p("Domain", W2008R2),
        p("DomainRole", W2008R2),
        p("HypervisorPresent", W2012),
        p("Manufacturer", W2008R2),
        p("Model", W2008R2),
        p("Name", W2008R2),
        p("NumberOfLogicalProcessors", W2008R2),
        p("NumberOfProcessors", W2008R2),
        p("PartOfDomain", W2008R2),
        p("PrimaryOwnerName", W2008R2),
        p("Status", W2008R2),
        p("SystemFamily", W2016),
        p("SystemSKUNumber", W2016),
        p("SystemType", W2008R2),
        p("TotalPhysicalMemory", W2008R2),
        p("UserName", W2008R2),
        p("Workgroup", W2008R2),
    ],
};

pub fn computer_system(h: &SimHost) -> Vec<Row> {
    vec![
        Row::new()
            .set("AutomaticManagedPagefile", V::Bool(true))
            .set("BootupState", V::s("Normal boot"))
            .set("Caption", V::s(&h.name))
            .set("CreationClassName", V::s("Win32_ComputerSystem"))
            .set("CurrentTimeZone", V::Int(60))
            .set("Description", V::s("AT/AT COMPATIBLE"))
            .set("DNSHostName", V::s(h.name.to_lowercase()))
            .set("Domain", V::s(&h.domain))
            .set("DomainRole", V::UInt(3))
            .set("HypervisorPresent", V::Bool(true))
            .set("Manufacturer", V::s(&h.manufacturer))
            .set("Model", V::s(&h.model))
            .set("Name", V::s(&h.name))
            .set(
                "NumberOfLogicalProcessors",
                V::UInt(u64::from(h.total_logical())),
            )
            .set("NumberOfProcessors", V::UInt(h.cpus.len() as u64))
            .set("PartOfDomain", V::Bool(true))
            .set("PrimaryOwnerName", V::s("Windows User"))
            .set("Status", V::s("OK"))
            .set("SystemFamily", V::s(&h.model))
            .set("SystemType", V::s("x64-based PC"))
            .set("TotalPhysicalMemory", V::UInt(h.memory_bytes)),
    ]
}

pub static COMPUTER_SYSTEM_PRODUCT: ClassDef = ClassDef {
    name: "Win32_ComputerSystemProduct",
    props: &[
        p("Caption", W2008R2),
        p("Description", W2008R2),
        p("IdentifyingNumber", W2008R2),
        p("Name", W2008R2),
        p("SKUNumber", W2008R2),
        p("UUID", W2008R2),
        p("Vendor", W2008R2),
        p("Version", W2008R2),
    ],
};

pub fn computer_system_product(h: &SimHost) -> Vec<Row> {
    vec![
        Row::new()
            .set("Caption", V::s("Computer System Product"))
            .set("Description", V::s("Computer System Product"))
            .set("IdentifyingNumber", V::s(&h.serial))
            .set("Name", V::s(&h.model))
            .set("UUID", V::s(&h.uuid))
            .set("Vendor", V::s(&h.manufacturer))
            .set("Version", V::s("1.0")),
    ]
}

pub static BIOS: ClassDef = ClassDef {
    name: "Win32_BIOS",
    props: &[
        p("Caption", W2008R2),
        p("Manufacturer", W2008R2),
        p("Name", W2008R2),
        p("ReleaseDate", W2008R2),
        p("SerialNumber", W2008R2),
        p("SMBIOSBIOSVersion", W2008R2),
        p("SMBIOSMajorVersion", W2008R2),
        p("SMBIOSMinorVersion", W2008R2),
        p("Status", W2008R2),
        p("Version", W2008R2),
    ],
};

pub fn bios(h: &SimHost) -> Vec<Row> {
    vec![
        Row::new()
            .set("Caption", V::s("BIOS"))
            .set("Manufacturer", V::s(&h.manufacturer))
            .set("Name", V::s("BIOS"))
            .set("ReleaseDate", V::DateTime(datetime_from(hash(&h.serial))))
            .set("SerialNumber", V::s(&h.serial))
            .set("SMBIOSBIOSVersion", V::s("2.14.1"))
            .set("SMBIOSMajorVersion", V::UInt(3))
            .set("SMBIOSMinorVersion", V::UInt(2))
            .set("Status", V::s("OK"))
            .set("Version", V::s("DELL   - 1072009")),
    ]
}

pub static PROCESSOR: ClassDef = ClassDef {
    name: "Win32_Processor",
    props: &[
        p("AddressWidth", W2008R2),
        p("Architecture", W2008R2),
        p("Caption", W2008R2),
        p("CurrentClockSpeed", W2008R2),
        p("DeviceID", W2008R2),
        p("Family", W2008R2),
        p("L2CacheSize", W2008R2),
        p("L3CacheSize", W2008R2),
        p("Manufacturer", W2008R2),
        p("MaxClockSpeed", W2008R2),
        p("Name", W2008R2),
        p("NumberOfCores", W2008R2),
        p("NumberOfEnabledCore", W2016),
        p("NumberOfLogicalProcessors", W2008R2),
        p("ProcessorId", W2008R2),
        p("SocketDesignation", W2008R2),
        p("Status", W2008R2),
        p("ThreadCount", W2016),
        p("VirtualizationFirmwareEnabled", W2012),
    ],
};

pub fn processor(h: &SimHost) -> Vec<Row> {
    h.cpus
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Row::new()
                .set("AddressWidth", V::UInt(64))
                .set("Architecture", V::UInt(9))
                .set("Caption", V::s("Intel64 Family 6 Model 85 Stepping 7"))
                .set("CurrentClockSpeed", V::UInt(u64::from(c.max_clock_mhz)))
                .set("DeviceID", V::s(format!("CPU{i}")))
                .set("Family", V::UInt(179))
                .set("L2CacheSize", V::UInt(u64::from(c.cores) * 1024))
                .set("L3CacheSize", V::UInt(36_608))
                .set("Manufacturer", V::s(&c.manufacturer))
                .set("MaxClockSpeed", V::UInt(u64::from(c.max_clock_mhz)))
                .set("Name", V::s(&c.name))
                .set("NumberOfCores", V::UInt(u64::from(c.cores)))
                .set("NumberOfEnabledCore", V::UInt(u64::from(c.cores)))
                .set("NumberOfLogicalProcessors", V::UInt(u64::from(c.logical)))
                .set("ProcessorId", V::s("BFEBFBFF00050657"))
                .set("SocketDesignation", V::s(&c.socket))
                .set("Status", V::s("OK"))
                .set("ThreadCount", V::UInt(u64::from(c.logical)))
                // Hyper-V running: firmware virtualization reads false.
                .set("VirtualizationFirmwareEnabled", V::Bool(false))
        })
        .collect()
}

pub static OPERATING_SYSTEM: ClassDef = ClassDef {
    name: "Win32_OperatingSystem",
    props: &[
        p("BuildNumber", W2008R2),
        p("Caption", W2008R2),
        p("CSName", W2008R2),
        p("InstallDate", W2008R2),
        p("LastBootUpTime", W2008R2),
        p("Locale", W2008R2),
        p("Manufacturer", W2008R2),
        p("MUILanguages", W2008R2),
        p("OSArchitecture", W2008R2),
        p("OSLanguage", W2008R2),
        p("OSProductSuite", W2008R2),
        p("ProductType", W2008R2),
        p("SerialNumber", W2008R2),
        p("ServicePackMajorVersion", W2008R2),
        p("TotalVisibleMemorySize", W2008R2),
        p("Version", W2008R2),
    ],
};

pub fn operating_system(h: &SimHost) -> Vec<Row> {
    use crate::simulator::estate::Locale;
    let (locale, lang, mui) = match h.locale {
        Locale::En => ("0409", 1033, "en-US"),
        Locale::Fr => ("040c", 1036, "fr-FR"),
        Locale::Ja => ("0411", 1041, "ja-JP"),
    };
    let seed = hash(&h.uuid);
    vec![
        Row::new()
            .set("BuildNumber", V::s(&h.os_build))
            .set("Caption", V::s(&h.os_caption))
            .set("CSName", V::s(&h.name))
            .set("InstallDate", V::DateTime(datetime_from(seed)))
            .set(
                "LastBootUpTime",
                V::DateTime(datetime_from(seed.rotate_left(17))),
            )
            .set("Locale", V::s(locale))
            .set("Manufacturer", V::s("Microsoft Corporation"))
            .set("MUILanguages", V::Array(vec![V::s(mui)]))
            .set("OSArchitecture", V::s("64-bit"))
            .set("OSLanguage", V::UInt(lang))
            .set("OSProductSuite", V::UInt(400))
            .set("ProductType", V::UInt(3))
            .set("SerialNumber", V::s("00430-00000-00000-AA000"))
            .set(
                "ServicePackMajorVersion",
                V::UInt(if h.release == W2008R2 { 1 } else { 0 }),
            )
            .set("TotalVisibleMemorySize", V::UInt(h.memory_bytes / 1024))
            .set("Version", V::s(&h.os_version)),
    ]
}

pub static SERVICE: ClassDef = ClassDef {
    name: "Win32_Service",
    props: &[
        p("AcceptPause", W2008R2),
        p("AcceptStop", W2008R2),
        p("Caption", W2008R2),
        p("DisplayName", W2008R2),
        p("ExitCode", W2008R2),
        p("Name", W2008R2),
        p("PathName", W2008R2),
        p("ProcessId", W2008R2),
        p("ServiceType", W2008R2),
        p("Started", W2008R2),
        p("StartMode", W2008R2),
        p("StartName", W2008R2),
        p("State", W2008R2),
        p("Status", W2008R2),
    ],
};

fn service(name: &str, display: &str, path: &str, running: bool, pid: u64) -> Row {
    Row::new()
        .set("AcceptPause", V::Bool(false))
        .set("AcceptStop", V::Bool(running))
        .set("Caption", V::s(display))
        .set("DisplayName", V::s(display))
        .set("ExitCode", V::UInt(if running { 0 } else { 1077 }))
        .set("Name", V::s(name))
        .set("PathName", V::s(path))
        .set("ProcessId", V::UInt(if running { pid } else { 0 }))
        .set("ServiceType", V::s("Own Process"))
        .set("Started", V::Bool(running))
        .set("StartMode", V::s("Auto"))
        .set("StartName", V::s("LocalSystem"))
        .set("State", V::s(if running { "Running" } else { "Stopped" }))
        .set("Status", V::s("OK"))
}

pub fn services(h: &SimHost) -> Vec<Row> {
    use crate::simulator::estate::HyperVNamespace;
    let mut rows = Vec::new();
    if h.namespace != HyperVNamespace::None {
        let running = h.vmms_running && !h.faults.vmms_stopped;
        rows.push(service(
            "vmms",
            "Hyper-V Virtual Machine Management",
            "C:\\Windows\\system32\\vmms.exe",
            running,
            2468,
        ));
    }
    rows.push(service(
        "WinRM",
        "Windows Remote Management (WS-Management)",
        "C:\\Windows\\System32\\svchost.exe -k NetworkService -p",
        true,
        1312,
    ));
    if h.cluster.is_some() {
        rows.push(service(
            "ClusSvc",
            "Cluster Service",
            "C:\\Windows\\Cluster\\clussvc.exe -s",
            true,
            2020,
        ));
    }
    rows
}
