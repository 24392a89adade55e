"""Side-by-side benchmark: `hvinv collect` against the simulator, then the
pypsrp peer against the same simulated estate (bench/README.md).

Run it through `bench/run`, which picks the interpreters. Everything it starts
is a child process that it stops itself; every address is on loopback.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import platform
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The simulated estate's *definition* (src/simulator/estate/scale.rs and
# SimConfig::new in src/simulator/mod.rs): hosts come in groups of eight whose
# first four form a cluster; two sockets per host; 100 items per page.
SCALE_GROUP = 8
SCALE_CLUSTER_NODES = 4
SOCKETS_PER_HOST = 2
SIM_PAGE_SIZE = 100
# The simulator's published password (hvinv::simulator::DEFAULT_PASSWORD), used
# when the written config's comment cannot be read.
SIM_PASSWORD_FALLBACK = "Sim-Passw0rd!"


@dataclass
class Measure:
    """One child process, measured from the outside."""

    label: str
    argv: list[str]
    wall_secs: float = 0.0
    user_secs: float = 0.0
    sys_secs: float = 0.0
    peak_rss_bytes: int = 0
    exit_code: int | None = None
    timed_out: bool = False
    sim_cpu_secs: float = 0.0
    stdout: str = ""
    stderr_tail: str = ""
    summary: dict = field(default_factory=dict)
    db_bytes_added: int | None = None
    hosts: int = 0
    extrapolated_from: int | None = None
    # The machine's 1-minute load average at the end: others' work skews wall time.
    load_after: float = 0.0

    @property
    def cpu_secs(self) -> float:
        return self.user_secs + self.sys_secs


def die(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(2)


# Scheduling priority of every child (--nice): on a shared machine a negative
# value keeps other people's work from inflating wall times.
NICE = 0


def child_setup() -> None:
    # Thousands of simulated listeners need thousands of descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if NICE:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)


def proc_cpu_secs(pid: int) -> float:
    """utime+stime of a live process (all its threads) from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name may hold spaces: fields start after the last ')'.
    fields = text.rpartition(")")[2].split()
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reader(stream, sink: list[str]) -> threading.Thread:
    def pump() -> None:
        for line in iter(stream.readline, ""):
            sink.append(line)
        stream.close()

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def run_measured(label: str, argv: list[str], env: dict, timeout: float, sim_pid: int) -> Measure:
    """Runs one child to completion (or kills it at `timeout`) and reads its
    own rusage with wait4, so nothing else's CPU or memory is counted."""
    m = Measure(label=label, argv=argv)
    out: list[str] = []
    err: list[str] = []
    sim_before = proc_cpu_secs(sim_pid)
    start = time.monotonic()
    p = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT, preexec_fn=child_setup
    )
    threads = [reader(p.stdout, out), reader(p.stderr, err)]
    lock = threading.Lock()
    reaped = False

    def kill() -> None:
        with lock:
            if not reaped:
                m.timed_out = True
                os.kill(p.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        with lock:
            reaped = True
        timer.cancel()
    m.wall_secs = time.monotonic() - start
    m.sim_cpu_secs = proc_cpu_secs(sim_pid) - sim_before
    m.load_after = os.getloadavg()[0]
    # Popen must not wait for a pid we already reaped.
    p.returncode = os.waitstatus_to_exitcode(status)
    m.exit_code = p.returncode
    m.user_secs = ru.ru_utime
    m.sys_secs = ru.ru_stime
    m.peak_rss_bytes = ru.ru_maxrss * 1024  # kilobytes on Linux
    for t in threads:
        t.join(timeout=10)
    m.stdout = "".join(out)
    m.stderr_tail = "".join(err)[-2000:]
    return m


def db_bytes(db: Path) -> int:
    """Bytes the database holds once its WAL is folded in."""
    if db.exists():
        con = sqlite3.connect(db)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
    wal = db.with_name(db.name + "-wal")
    return sum(p.stat().st_size for p in (db, wal) if p.exists())


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
    """From the estate definition and the query order of
    src/inventory/collect.rs: six root/cimv2 selects, four
    root/virtualization/v2 selects, then root/MSCluster (one select that
    answers "invalid namespace" on a standalone host; cluster, nodes and VM
    resources on a node). NTLM costs one extra round trip (NEGOTIATE ->
    challenge): the AUTHENTICATE message carries the first select."""

    def pages(rows: int) -> int:
        return max(1, math.ceil(rows / SIM_PAGE_SIZE))

    total_selects = 0
    total_extra = 0
    for i in range(hosts):
        group = i // SCALE_GROUP
        rows = [1, 1, 1, SOCKETS_PER_HOST, 1, 1, vms + 1, vms, vms, vms]
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


class Simulator:
    """`hvinv simulate` as a child process, stopped in `stop` whatever happens."""

    def __init__(self, args, workdir: Path):
        self.config = workdir / "sim.toml"
        self.ca = workdir / "sim-ca.pem"
        self.lines: list[str] = []
        self.err: list[str] = []
        argv = [
            str(args.binary),
            "simulate",
            "--hosts", str(args.hosts),
            "--vms-per-host", str(args.vms_per_host),
            "--latency-ms", str(args.latency_ms),
            "--base-address", args.base_address,
            "--http-port", str(args.port),
            "--https-port", str(args.https_port),
            "--write-config", str(self.config),
            "--write-ca", str(self.ca),
            # A backstop: the simulator stops by itself even if we die.
            "--duration-secs", str(int(args.timeout_secs) * 4 + 600),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=child_setup,
        )
        reader(self.proc.stdout, self.lines)
        reader(self.proc.stderr, self.err)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                die(f"the simulator exited ({self.proc.returncode}): {''.join(self.err)[-1500:]}")
            if any("listening" in line for line in self.lines) and self.config.exists():
                break
            time.sleep(0.1)
        else:
            die(f"the simulator was not ready within {timeout:.0f} s")
        # The last host accepting proves every listener is up.
        _, hosts = hosts_of(self.config)
        if not hosts:
            die("the simulator wrote a config without hosts")
        address, port = hosts[-1]
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((address, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        die(f"the last simulated host {address}:{port} does not accept connections")

    def stop(self) -> str:
        """Stops the simulator; returns its closing statistics line."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        time.sleep(0.1)  # let the reader drain the last line
        served = [line.strip() for line in self.lines if "served" in line]
        return served[-1] if served else ""


def hosts_of(config: Path) -> tuple[dict, list[tuple[str, int]]]:
    with open(config, "rb") as f:
        data = tomllib.load(f)
    defaults = data.get("defaults", {})
    return defaults, [(h["address"], int(h.get("port", 5985))) for h in data.get("host", [])]


def set_concurrency(config: Path, concurrency: int) -> None:
    text = config.read_text()
    line = f"concurrency = {concurrency}"
    text, n = re.subn(r"(?m)^concurrency\s*=.*$", line, text)
    if n == 0:
        text = text.replace("[defaults]\n", f"[defaults]\n{line}\n", 1)
    config.write_text(text)


def sim_password(config: Path) -> str:
    found = re.search(r"HVINV_SIM_PASSWORD='([^']*)'", config.read_text())
    return found.group(1) if found else SIM_PASSWORD_FALLBACK


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "git_commit": commit.stdout.strip(),
    }


def run_hvinv(args, sim: Simulator, env: dict, db: Path, label: str) -> Measure:
    before = db_bytes(db)
    argv = [str(args.binary), "collect", "--config", str(sim.config), "--db", str(db), "--json", "--no-progress"]
    m = run_measured(label, argv, env, args.timeout_secs, sim.pid)
    m.db_bytes_added = db_bytes(db) - before
    m.hosts = args.hosts
    m.summary = json_of(m.stdout)
    return m


def run_peer(args, sim: Simulator, env: dict, threads: int) -> Measure:
    sample = args.peer_sample if 0 < args.peer_sample < args.hosts else 0
    argv = [
        args.peer_python,
        str(ROOT / "bench" / "peer_pypsrp.py"),
        "--config", str(sim.config),
        "--threads", str(threads),
        "--limit", str(sample),
    ]  # fmt: skip
    m = run_measured(f"pypsrp peer, {threads} threads", argv, env, args.timeout_secs, sim.pid)
    m.hosts = sample or args.hosts
    m.extrapolated_from = sample or None
    m.summary = json_of(m.stdout)
    return m


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


def profile_hvinv(args, sim: Simulator, env: dict, workdir: Path) -> dict:
    """One more first run under `perf record` (its own figures are not used:
    sampling slows it); returns the share of CPU per layer and per thread."""
    data = workdir / "perf.data"
    db = workdir / "profile.db"
    argv = [
        "perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-o", str(data), "--",
        str(args.binary), "collect", "--config", str(sim.config), "--db", str(db), "--json", "--no-progress",
    ]  # fmt: skip
    m = run_measured("hvinv under perf", argv, env, args.timeout_secs, sim.pid)
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
    return {"layers": layers, "threads": threads}


def json_of(text: str) -> dict:
    """The JSON object a tool printed on stdout (pretty or one line)."""
    start = text.find("{")
    try:
        value = json.loads(text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def scaled(m: Measure, total_hosts: int) -> dict:
    """Wall and CPU for the whole estate: measured, or extrapolated linearly
    from a sample (clearly flagged)."""
    k = total_hosts / m.hosts if m.extrapolated_from else 1.0
    return {"wall_secs": m.wall_secs * k, "cpu_secs": m.cpu_secs * k, "extrapolated": bool(m.extrapolated_from)}


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.2f} MB" if abs(n) >= 1e5 else f"{n} B"


def report(
    args, floor: Floor, runs: list[Measure], peers: list[Measure], sim_line: str, info: dict, profile: dict
) -> dict:
    first = runs[0]
    cols = runs + peers
    expected_vms = args.hosts * args.vms_per_host

    def vms_of(m: Measure) -> int:
        return int(m.summary.get("vms", 0))

    def ok_of(m: Measure) -> str:
        s = m.summary
        if "hosts_ok" in s:
            return f"{s['hosts_ok']}/{s.get('hosts_total', m.hosts)}"
        if "ok" in s:
            return f"{s['ok']}/{s.get('hosts', m.hosts)}"
        return f"exit {m.exit_code}"

    def trips(m: Measure) -> str:
        s = m.summary
        if "round_trips" in s and s.get("hosts_total"):
            return f"{s['round_trips'] / s['hosts_total']:.2f}"
        if "soap_requests" in s and s.get("ok"):
            return f"{s['soap_requests'] / s['ok']:.2f} SOAP + auth"
        return "-"

    rows = [
        ("hosts ok/collected", [ok_of(m) for m in cols]),
        ("VMs (expected)", [f"{vms_of(m)} ({m.hosts * args.vms_per_host})" for m in cols]),
        ("wall time", [f"{m.wall_secs:.2f} s" + (" (timed out)" if m.timed_out else "") for m in cols]),
        ("CPU user+sys", [f"{m.cpu_secs:.2f} s" for m in cols]),
        ("CPU per host", [f"{m.cpu_secs / max(1, m.hosts) * 1000:.2f} ms" for m in cols]),
        ("peak RSS", [f"{m.peak_rss_bytes / 1e6:.1f} MB" for m in cols]),
        ("DB bytes added", [fmt_bytes(m.db_bytes_added) for m in cols]),
        ("round trips / host", [trips(m) for m in cols]),
        ("simulator CPU", [f"{m.sim_cpu_secs:.2f} s" for m in cols]),
        ("simulator, % of 1 core", [f"{100 * m.sim_cpu_secs / max(1e-9, m.wall_secs):.0f} %" for m in cols]),
        # The floor assumes hvinv's concurrency bound; the peer's is its thread count.
        # Well under the machine's cores while wall time exceeds the floor:
        # something else held the CPUs (see the load average).
        ("cores used, tool+simulator", [f"{(m.cpu_secs + m.sim_cpu_secs) / max(1e-9, m.wall_secs):.2f}" for m in cols]),
        ("load average after", [f"{m.load_after:.1f}" for m in cols]),
        ("wall / floor", [f"{m.wall_secs / max(1e-9, floor.secs):.2f}" for m in runs] + ["-"] * len(peers)),
    ]
    if any(p.extrapolated_from for p in peers):
        rows.append(
            (
                f"wall, {args.hosts} hosts (extrap.)",
                ["-"] * len(runs) + [f"{scaled(p, args.hosts)['wall_secs']:.1f} s" for p in peers],
            )
        )
    headers = [m.label for m in cols]
    width0 = max(len(r[0]) for r in rows) + 2
    widths = [max(len(h), *(len(r[1][i]) for r in rows)) + 2 for i, h in enumerate(headers)]

    print()
    print(
        f"hvinv benchmark: {args.hosts} hosts x {args.vms_per_host} VMs, {args.latency_ms} ms simulated round trip, "
        f"sealed HTTP (NTLM), concurrency {args.concurrency}"
    )
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB, commit {info['git_commit']}"
        + (f", measured processes at nice {info['nice']}" if info.get("nice") else "")
    )
    print()
    print("".ljust(width0) + "".join(h.rjust(w) for h, w in zip(headers, widths)))
    for name, vals in rows:
        print(name.ljust(width0) + "".join(v.rjust(w) for v, w in zip(vals, widths)))
    print()
    print(f"round-trip floor: {floor.secs:.2f} s")
    print(f"  {floor.formula}")
    print(
        f"  = ({floor.trips_per_host:.2f} round trips per host: 1 + {floor.selects_per_host:.2f} selects"
        f" + {floor.extra_pages_per_host:.2f} extra pages) x {floor.latency_ms} ms x {floor.waves} waves"
    )
    cpu_floor = (first.cpu_secs + first.sim_cpu_secs) / max(1, info["cpus"] or 1)
    print(
        f"CPU floor of the first run on this machine: {cpu_floor:.2f} s"
        f" = (hvinv CPU {first.cpu_secs:.2f} s + simulator CPU {first.sim_cpu_secs:.2f} s) / {info['cpus']} cores"
    )
    if sim_line:
        print(f"simulator: {sim_line.removeprefix('hvinv simulate: ')}")

    ratios: dict[str, float] = {}
    ratios["hvinv_wall_over_floor"] = first.wall_secs / max(1e-9, floor.secs)
    ratios["hvinv_cpu_ms_per_host"] = first.cpu_secs / max(1, args.hosts) * 1000
    ratios["hvinv_peak_mb"] = first.peak_rss_bytes / 1e6
    ratios["simulator_core_share_during_hvinv"] = first.sim_cpu_secs / max(1e-9, first.wall_secs)
    ratios["cpu_floor_secs"] = cpu_floor
    print()
    print("ratios:")
    print(f"  hvinv wall / round-trip floor     {ratios['hvinv_wall_over_floor']:.2f}   (target <= 1.3)")
    print(f"  hvinv CPU per host                {ratios['hvinv_cpu_ms_per_host']:.2f} ms   (target < 2 ms)")
    print(f"  hvinv peak RSS                    {ratios['hvinv_peak_mb']:.1f} MB   (target < 100 MB at 5,000 hosts)")
    print(
        f"  simulator CPU during hvinv        {100 * ratios['simulator_core_share_during_hvinv']:.0f} % of one core"
        f" ({info['cpus']} cores)"
    )
    for p in peers:
        t = p.argv[p.argv.index("--threads") + 1]
        s = scaled(p, args.hosts)
        speed = s["wall_secs"] / max(1e-9, first.wall_secs)
        cpu = s["cpu_secs"] / max(1e-9, first.cpu_secs)
        note = f" (peer extrapolated from {p.extrapolated_from} hosts)" if s["extrapolated"] else ""
        ratios[f"peer{t}_wall_over_hvinv"] = speed
        ratios[f"peer{t}_cpu_over_hvinv"] = cpu
        target = "   (target >= 20)" if t == "64" else ""
        print(f"  pypsrp@{t} wall / hvinv wall      {speed:.1f}x{target}{note}")
        print(f"  pypsrp@{t} CPU / hvinv CPU        {cpu:.1f}x{note}")
    if profile:
        print()
        print("where hvinv's CPU goes (perf, inclusive share of the collector's samples):")
        for name, share in profile.get("layers", {}).items():
            print(f"  {share:5.1f} %  {name}")
        for name, share in profile.get("threads", {}).items():
            print(f"  {share:5.1f} %  thread {name}")
        if "error" in profile:
            print(f"  {profile['error']}")
    problems = []
    for m in cols:
        if m.exit_code != 0 or m.timed_out:
            problems.append(f"{m.label}: exit {m.exit_code}{' (timed out)' if m.timed_out else ''}: {m.stderr_tail[-500:]}")
        if vms_of(m) != m.hosts * args.vms_per_host:
            problems.append(f"{m.label}: {vms_of(m)} VMs, the estate defines {m.hosts * args.vms_per_host}")
    if problems:
        print()
        print("PROBLEMS (figures above are not comparable):")
        for p in problems:
            print(f"  {p}")
    return {
        "config": {
            "hosts": args.hosts,
            "vms_per_host": args.vms_per_host,
            "expected_vms": expected_vms,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "peer_threads": args.peer_threads,
            "peer_sample": args.peer_sample,
            "transport": "http, NTLM, sealed",
        },
        "machine": info,
        "floor": asdict(floor),
        "runs": [
            {k: v for k, v in asdict(m).items() if k not in ("stdout",)} | {"cpu_secs": m.cpu_secs} for m in cols
        ],
        "ratios": ratios,
        "profile": profile,
        "simulator": sim_line,
        "problems": problems,
    }


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--vms-per-host", type=int, default=20)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--peer-threads", default="16,64", help="comma-separated thread counts of the peer")
    ap.add_argument("--peer-sample", type=int, default=0, help="run the peer on the first N hosts and extrapolate")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--base-address", default="127.0.20.1")
    ap.add_argument("--port", type=int, default=5985, help="HTTP port of every simulated host")
    ap.add_argument("--https-port", type=int, default=5986)
    ap.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "hvinv")
    ap.add_argument("--peer-python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--timeout-secs", type=float, default=1200, help="the most one measured run may take")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--nice", type=int, default=0, help="priority of the measured processes (negative needs root)")
    ap.add_argument("--profile", action="store_true", help="one more hvinv run under perf: CPU share per layer")
    args = ap.parse_args()
    if not args.binary.is_file():
        die(f"{args.binary} is missing: run `cargo build --release` first")
    if args.hosts < 1 or args.concurrency < 1 or args.vms_per_host < 0:
        die("--hosts and --concurrency must be at least 1")
    base = ipaddress.IPv4Address(args.base_address)
    last = base + (args.hosts - 1) if int(base) + args.hosts - 1 <= 0xFFFFFFFF else None
    if not base.is_loopback or last is None or not last.is_loopback:
        die("every simulated host must be on 127.0.0.0/8: choose --base-address and --hosts accordingly")
    try:
        args.peer_threads = [int(t) for t in str(args.peer_threads).split(",") if t.strip()]
    except ValueError:
        die("--peer-threads takes comma-separated numbers, e.g. 16,64")
    if args.skip_peer:
        args.peer_threads = []
    elif not Path(args.peer_python).is_file():
        die(f"{args.peer_python} is missing (bench/run builds the virtualenv; or pass --skip-peer)")
    return args


def main() -> int:
    global NICE
    args = parse_args()
    NICE = args.nice
    info = machine()
    info["nice"] = args.nice
    floor = round_trip_floor(args.hosts, args.vms_per_host, args.latency_ms, args.concurrency)
    with tempfile.TemporaryDirectory(prefix="hvinv-bench-") as tmp:
        workdir = Path(tmp)
        sim = Simulator(args, workdir)
        sim_line = ""
        try:
            sim.wait_ready(timeout=60 + args.hosts * 0.05)
            set_concurrency(sim.config, args.concurrency)
            env = dict(os.environ, HVINV_SIM_PASSWORD=sim_password(sim.config))
            env.pop("RUST_LOG", None)
            db = workdir / "bench.db"
            runs = []
            for label in ("hvinv, first run", "hvinv, unchanged run"):
                print(f"bench: {label} ...", file=sys.stderr, flush=True)
                runs.append(run_hvinv(args, sim, env, db, label))
            peers = []
            for t in args.peer_threads:
                print(f"bench: pypsrp peer, {t} threads ...", file=sys.stderr, flush=True)
                peers.append(run_peer(args, sim, env, t))
            profile = {}
            if args.profile:
                print("bench: hvinv under perf ...", file=sys.stderr, flush=True)
                profile = profile_hvinv(args, sim, env, workdir)
        finally:
            sim_line = sim.stop()
        result = report(args, floor, runs, peers, sim_line, info, profile)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
