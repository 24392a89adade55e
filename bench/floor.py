"""The round-trip floor: the least time any client could take with this
query set, this latency and this concurrency bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The simulated estate's *definition* (src/simulator/estate/scale.rs and
# SimConfig::new in src/simulator/mod.rs): hosts come in groups of eight whose
# first four form a cluster; two sockets per host; 100 items per page.
SCALE_GROUP = 8
SCALE_CLUSTER_NODES = 4
SOCKETS_PER_HOST = 2
SIM_PAGE_SIZE = 100


@dataclass
class Floor:
    """The fewest round trips the protocol allows, and the time they take."""

    selects_per_host: float
    extra_pages_per_host: float
    trips_per_host: float
    waves: int
    latency_ms: float
    secs: float
    formula: str


def round_trip_floor(hosts: int, vms: int, latency_ms: float, concurrency: int) -> Floor:
    """From the estate definition and the selects of src/inventory/collect.rs
    on a healthy host: four root/cimv2 selects (computer system, product,
    processors, operating system; Win32_BIOS only when the product serial is
    a placeholder, which no simulated host has; the vmms service only when
    Hyper-V does not answer), four root/virtualization/v2 selects, then
    root/MSCluster (one select that answers "invalid namespace" on a
    standalone host; cluster, nodes and VM resources on a node). NTLM costs
    one extra round trip (NEGOTIATE -> challenge): the AUTHENTICATE message
    carries the first select."""

    def pages(rows: int) -> int:
        return max(1, math.ceil(rows / SIM_PAGE_SIZE))

    total_selects = 0
    total_extra = 0
    for i in range(hosts):
        group = i // SCALE_GROUP
        rows = [1, 1, SOCKETS_PER_HOST, 1, vms + 1, vms, vms, vms]
        if i % SCALE_GROUP < SCALE_CLUSTER_NODES:
            nodes = min(SCALE_CLUSTER_NODES, hosts - group * SCALE_GROUP)
            rows += [1, nodes, nodes * vms]
        else:
            rows += [0]  # the fault
        total_selects += len(rows)
        total_extra += sum(pages(r) - 1 for r in rows)
    per_host = (hosts + total_selects + total_extra) / max(1, hosts)
    waves = math.ceil(hosts / max(1, concurrency))
    return Floor(
        selects_per_host=total_selects / max(1, hosts),
        extra_pages_per_host=total_extra / max(1, hosts),
        trips_per_host=per_host,
        waves=waves,
        latency_ms=latency_ms,
        secs=per_host * latency_ms / 1000 * waves,
        formula=(
            "floor = (1 NTLM NEGOTIATE->challenge + 1 per select [AUTHENTICATE carries the first] + 1 per extra page)"
            " x latency x ceil(hosts / concurrency)"
        ),
    )
