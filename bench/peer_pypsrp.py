"""The benchmark's peer: what a competent Python collector over pypsrp does.

A thread pool walks the hosts; per host, one pypsrp `WSMan` object (one HTTP
session, one NTLM context, sealed with encryption="always") runs the same
WQL selects, in the same order and with the same fallbacks, as
`hvinv collect` (src/inventory/collect.rs): root/cimv2 computer system,
product, (BIOS only when the product serial is a placeholder), processors,
operating system; four root/virtualization/v2 selects (the vmms service
only when those fail, to say why); then root/MSCluster (stop at "invalid
namespace" or an empty cluster, else nodes and VM resources). Each select is
an Enumerate with OptimizeEnumeration, then Pulls until EndOfSequence.

Usage (the password comes from the environment, as for hvinv):
    HVINV_SIM_PASSWORD=... python peer_pypsrp.py --config sim.toml --threads 64 [--limit 200]

Prints one JSON object on stdout: hosts, ok, failed, vms, selects,
soap_requests, wall_secs, failures (the first few).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

from pypsrp.exceptions import WSManFaultError
from pypsrp.wsman import NAMESPACES, WSMan

WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN_NS = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
WMI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
MAX_ELEMENTS = 32000
# A bound on Pulls per select, so a server that never ends cannot hang us.
MAX_PULLS = 10_000

CIMV2 = "root/cimv2"
V2 = "root/virtualization/v2"
CLUSTER = "root/MSCluster"

# (property-list select, SELECT * fallback), as in src/inventory/queries.rs.
COMPUTER_SYSTEM = (
    "SELECT Name, DNSHostName, Domain, PartOfDomain, Manufacturer, Model, NumberOfProcessors, "
    "NumberOfLogicalProcessors, TotalPhysicalMemory FROM Win32_ComputerSystem",
    "SELECT * FROM Win32_ComputerSystem",
)
PRODUCT = (
    "SELECT UUID, IdentifyingNumber, Vendor FROM Win32_ComputerSystemProduct",
    "SELECT * FROM Win32_ComputerSystemProduct",
)
BIOS = ("SELECT SerialNumber FROM Win32_BIOS", "SELECT * FROM Win32_BIOS")
PROCESSOR = (
    "SELECT DeviceID, Name, Manufacturer, NumberOfCores, NumberOfLogicalProcessors, MaxClockSpeed, "
    "SocketDesignation FROM Win32_Processor",
    "SELECT * FROM Win32_Processor",
)
OPERATING_SYSTEM = (
    "SELECT Caption, Version, BuildNumber FROM Win32_OperatingSystem",
    "SELECT * FROM Win32_OperatingSystem",
)
VMMS_SERVICE = (
    "SELECT Name, State, StartMode FROM Win32_Service WHERE Name='vmms'",
    "SELECT * FROM Win32_Service WHERE Name='vmms'",
)
# Serials firmware ships unset (src/inventory/model.rs is_placeholder_serial).
PLACEHOLDER_SERIALS = {
    "to be filled by o.e.m.",
    "default string",
    "system serial number",
    "not specified",
    "not applicable",
    "none",
    "n/a",
    "chassis serial number",
}
HYPERV = [
    "SELECT * FROM Msvm_ComputerSystem",
    "SELECT * FROM Msvm_VirtualSystemSettingData WHERE VirtualSystemType='Microsoft:Hyper-V:System:Realized'",
    "SELECT * FROM Msvm_ProcessorSettingData",
    "SELECT * FROM Msvm_MemorySettingData",
]
CLUSTER_SELECTS = [
    "SELECT * FROM MSCluster_Cluster",
    "SELECT * FROM MSCluster_Node",
    "SELECT * FROM MSCluster_Resource WHERE Type='Virtual Machine'",
]


class Host:
    """Counters of one host's collection."""

    def __init__(self) -> None:
        self.selects = 0
        self.soap_requests = 0
        self.vms = 0


def enumerate_wql(wsman: WSMan, host: Host, namespace: str, wql: str) -> list[ET.Element]:
    """Enumerate, then Pull until EndOfSequence; returns the item elements."""
    resource_uri = WMI_PREFIX + namespace + "/*"
    enum = ET.Element("{%s}Enumerate" % WSEN)
    ET.SubElement(enum, "{%s}OptimizeEnumeration" % WSMAN_NS)
    ET.SubElement(enum, "{%s}MaxElements" % WSMAN_NS).text = str(MAX_ELEMENTS)
    ET.SubElement(enum, "{%s}Filter" % WSMAN_NS, Dialect=WQL_DIALECT).text = wql
    host.selects += 1
    host.soap_requests += 1
    body = wsman.enumerate(resource_uri, enum)
    response = body.find("wsen:EnumerateResponse", NAMESPACES)
    if response is None:
        raise ValueError("no EnumerateResponse")
    items_el = response.find("wsman:Items", NAMESPACES)
    items = list(items_el) if items_el is not None else []
    done = response.find("wsman:EndOfSequence", NAMESPACES) is not None
    context = (response.findtext("wsen:EnumerationContext", default="", namespaces=NAMESPACES) or "").strip()
    pulls = 0
    while not done:
        if not context or pulls >= MAX_PULLS:
            raise ValueError("enumeration neither ended nor continued")
        pull = ET.Element("{%s}Pull" % WSEN)
        ET.SubElement(pull, "{%s}EnumerationContext" % WSEN).text = context
        ET.SubElement(pull, "{%s}MaxElements" % WSEN).text = str(MAX_ELEMENTS)
        host.soap_requests += 1
        pulls += 1
        body = wsman.pull(resource_uri, pull)
        response = body.find("wsen:PullResponse", NAMESPACES)
        if response is None:
            raise ValueError("no PullResponse")
        items_el = response.find("wsen:Items", NAMESPACES)
        items.extend(items_el if items_el is not None else [])
        done = response.find("wsen:EndOfSequence", NAMESPACES) is not None
        context = (response.findtext("wsen:EnumerationContext", default="", namespaces=NAMESPACES) or "").strip()
    return items


def is_invalid_query(e: WSManFaultError) -> bool:
    # WMI's "invalid query" (0x80041017) arrives as a WMI error inside the fault.
    text = f"{e.code} {e.message}".lower()
    return "2147749911" in text or "80041017" in text or "invalid query" in text


def win32(wsman: WSMan, host: Host, select: tuple[str, str]) -> list[ET.Element]:
    """The property list; `SELECT *` when the host refuses the list."""
    listed, star = select
    try:
        return enumerate_wql(wsman, host, CIMV2, listed)
    except WSManFaultError as e:
        if not is_invalid_query(e):
            raise
        return enumerate_wql(wsman, host, CIMV2, star)


def serial_usable(product: list[ET.Element]) -> bool:
    if not product:
        return False
    # A property-list select answers a wsman:XmlFragment of unqualified elements.
    serial = next((c.text or "" for c in product[0] if c.tag.rpartition("}")[2] == "IdentifyingNumber"), "")
    t = serial.strip().lower()
    return bool(t) and not all(c in "0 -" for c in t) and t not in PLACEHOLDER_SERIALS


def collect(address: str, port: int, username: str, password: str, timeout: int) -> Host:
    host = Host()
    wsman = WSMan(
        address,
        port=port,
        username=username,
        password=password,
        ssl=False,
        auth="ntlm",
        encryption="always",
        cert_validation=False,
        no_proxy=True,
        connection_timeout=timeout,
        read_timeout=timeout,
        operation_timeout=max(1, timeout - 5),
    )
    with wsman:
        win32(wsman, host, COMPUTER_SYSTEM)
        product = win32(wsman, host, PRODUCT)
        if not serial_usable(product):
            win32(wsman, host, BIOS)
        win32(wsman, host, PROCESSOR)
        win32(wsman, host, OPERATING_SYSTEM)
        try:
            enumerate_wql(wsman, host, V2, HYPERV[0])
        except WSManFaultError:
            win32(wsman, host, VMMS_SERVICE)  # why Hyper-V does not answer
            raise
        host.vms = len(enumerate_wql(wsman, host, V2, HYPERV[1]))
        for wql in HYPERV[2:]:
            enumerate_wql(wsman, host, V2, wql)
        try:
            if enumerate_wql(wsman, host, CLUSTER, CLUSTER_SELECTS[0]):
                for wql in CLUSTER_SELECTS[1:]:
                    enumerate_wql(wsman, host, CLUSTER, wql)
        except WSManFaultError:
            pass  # standalone host ("invalid namespace"): normal, as in hvinv
    return host


def hosts_of(config_path: str) -> tuple[str, list[tuple[str, int]]]:
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    defaults = config.get("defaults", {})
    username = defaults.get("username", "")
    hosts = [(h["address"], int(h.get("port", defaults.get("port", 5985)))) for h in config.get("host", [])]
    return username, hosts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="the hvinv TOML written by `hvinv simulate --write-config`")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--limit", type=int, default=0, help="only the first N hosts (a sample)")
    ap.add_argument("--timeout", type=int, default=60, help="per-request timeout, seconds")
    args = ap.parse_args()

    password = os.environ.get("HVINV_SIM_PASSWORD")
    if password is None:
        print("peer_pypsrp: HVINV_SIM_PASSWORD must be set", file=sys.stderr)
        return 64
    username, hosts = hosts_of(args.config)
    if args.limit > 0:
        hosts = hosts[: args.limit]

    failures: list[str] = []
    done: list[Host] = []

    def one(target: tuple[str, int]) -> None:
        address, port = target
        try:
            done.append(collect(address, port, username, password, args.timeout))
        except Exception as e:  # noqa: BLE001 - a failed host is counted, not fatal
            failures.append(f"{address}: {type(e).__name__}: {e}")

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.threads)) as pool:
        list(pool.map(one, hosts))
    wall = time.monotonic() - start

    json.dump(
        {
            "hosts": len(hosts),
            "ok": len(done),
            "failed": len(failures),
            "vms": sum(h.vms for h in done),
            "selects": sum(h.selects for h in done),
            "soap_requests": sum(h.soap_requests for h in done),
            "wall_secs": wall,
            "failures": failures[:5],
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0 if not failures else 2


if __name__ == "__main__":
    sys.exit(main())
