"""Where hvinv's CPU goes: one collect run under `perf record`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from measure import run_measured

# Where hvinv's CPU goes: inclusive shares of these functions (substring of
# the symbol) in a call-graph profile, one line per layer.
PROFILE_POINTS = [
    ("transport: HTTP exchange, unseal included", "hvinv::transport::Connection::attempt"),
    ("transport: NTLM unseal (RC4 + HMAC-MD5)", "hvinv::transport::negotiate::Established::unseal"),
    ("transport: hyper connection task", "hvinv::transport::http::HttpConn::handshake"),
    ("wsman: reply parsing (XML -> CIM instances)", "hvinv::wsman::reply::interpret"),
    ("inventory: snapshot from instances", "hvinv::inventory::snapshot::build_snapshot"),
    ("store: record_host (runtime side)", "hvinv::store::Store>::record_host"),
    ("malloc (all callers)", "_int_malloc"),
]


TOP_FUNCTIONS = 15


def profile_hvinv(args, sim, env: dict, workdir: Path) -> dict:
    """One more first run under `perf record` (its own figures are not used:
    sampling slows it); returns the share of CPU per layer and per thread."""
    data = workdir / "perf.data"
    db = workdir / "profile.db"
    argv = [
        "perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", str(data), "--",
        str(args.binary), "collect", "--config", str(sim.config), "--db", str(db), "--json", "--no-progress",
    ]  # fmt: skip
    m = run_measured("hvinv under perf", argv, env | args.collect_env, args.timeout_secs, sim.pid)
    if m.exit_code != 0 or not data.exists():
        return {"error": f"perf record failed ({m.exit_code}): {m.stderr_tail[-300:]}"}

    def report_lines(*sort: str) -> list[str]:
        cmd = ["perf", "report", "-i", str(data), "--stdio", "-g", "none", *sort]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout_secs)
        return [line for line in r.stdout.splitlines() if line.strip() and not line.startswith("#")]

    layers: dict[str, float] = {}
    for line in report_lines("--children", "--sort", "symbol"):
        parts = line.split()
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        for name, needle in PROFILE_POINTS:
            if needle in line and name not in layers:
                layers[name] = float(parts[0].rstrip("%"))
    layers = {name: layers[name] for name, _ in PROFILE_POINTS if name in layers}
    threads: dict[str, float] = {}
    for line in report_lines("--no-children", "--sort", "comm"):
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith("%"):
            threads[" ".join(parts[1:])] = float(parts[0].rstrip("%"))
    # The hottest functions by their own samples: where a fix would start.
    hottest: list[tuple[float, str]] = []
    for line in report_lines("--no-children", "--sort", "dso,symbol"):
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].endswith("%") and len(hottest) < TOP_FUNCTIONS:
            # perf pads the symbol column and may add flag columns after it.
            symbol = re.split(r"\s{2,}", parts[3].removeprefix("[.] ").removeprefix("[k] ").strip())[0]
            hottest.append((float(parts[0].rstrip("%")), f"{symbol[:110]} ({parts[1]})"))
    return {"layers": layers, "threads": threads, "hottest": hottest}
