"""Side-by-side benchmark: `hvinv collect` against the simulator, then the
pypsrp peer against the same simulated estate (bench/README.md).

Run it through `bench/run`, which picks the interpreters. Everything it starts
is a child process that it stops itself; every address is on loopback.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from floor import round_trip_floor
from measure import ROOT, BenchError, Measure, db_bytes, run_measured, set_nice
from perf_profile import profile_hvinv
from report import report
from simulator import Simulator, set_concurrency, sim_password


def die(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(2)


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
    m = run_measured(label, argv, env | args.collect_env, args.timeout_secs, sim.pid)
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
    m = run_measured(f"pypsrp {threads} threads", argv, env, args.timeout_secs, sim.pid)
    m.hosts = sample or args.hosts
    m.extrapolated_from = sample or None
    m.summary = json_of(m.stdout)
    return m


def json_of(text: str) -> dict:
    """The JSON object a tool printed on stdout (pretty or one line)."""
    start = text.find("{")
    try:
        value = json.loads(text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--vms-per-host", type=int, default=20)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--concurrency", default="64", help="hvinv's bound; several, comma-separated, run in turn")
    ap.add_argument("--repeat", type=int, default=1, help="hvinv run pairs per concurrency; the median is shown")
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
    ap.add_argument("--no-warm-up", action="store_true", help="skip the unmeasured collect that warms the simulator")
    ap.add_argument("--profile", action="store_true", help="one more hvinv run under perf: CPU share per layer")
    ap.add_argument(
        "--collect-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for hvinv collect only (experiments, e.g. TOKIO_WORKER_THREADS=1)",
    )
    args = ap.parse_args()
    if any("=" not in kv for kv in args.collect_env):
        die("--collect-env takes KEY=VALUE")
    args.collect_env = dict(kv.split("=", 1) for kv in args.collect_env)
    if not args.binary.is_file():
        die(f"{args.binary} is missing: run `cargo build --release` first")
    try:
        args.concurrency = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    except ValueError:
        die("--concurrency takes comma-separated numbers, e.g. 64,256")
    if args.repeat < 1:
        die("--repeat must be at least 1")
    if args.hosts < 1 or not args.concurrency or min(args.concurrency) < 1 or args.vms_per_host < 0:
        die("--hosts and --concurrency must be at least 1")
    try:
        base = ipaddress.IPv4Address(args.base_address)
    except ValueError:
        die(f"--base-address {args.base_address!r} is not an IPv4 address")
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
    args = parse_args()
    set_nice(args.nice)
    info = machine()
    info["nice"] = args.nice
    info["collect_env"] = args.collect_env
    # HEAD may have moved since the binary was built: say when it was.
    info["binary_built"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(args.binary.stat().st_mtime))
    floors = {c: round_trip_floor(args.hosts, args.vms_per_host, args.latency_ms, c) for c in args.concurrency}
    with tempfile.TemporaryDirectory(prefix="hvinv-bench-") as tmp:
        workdir = Path(tmp)
        sim = Simulator(args, workdir)
        sim_line = ""
        try:
            sim.wait_ready(timeout=60 + args.hosts * 0.05)
            env = dict(os.environ, HVINV_SIM_PASSWORD=sim_password(sim.config))
            env.pop("RUST_LOG", None)
            if not args.no_warm_up:
                # The simulator renders each host's answers on first use; without
                # this, hvinv's first run would pay for that and the peer would not.
                print("bench: warming the simulator up (one unmeasured collect) ...", file=sys.stderr, flush=True)
                set_concurrency(sim.config, args.concurrency[0])
                warm_up = run_hvinv(args, sim, env, workdir / "warm-up.db", "warm-up")
                info["warm_up"] = {"wall_secs": warm_up.wall_secs, "simulator_cpu_secs": warm_up.sim_cpu_secs}
            runs = []
            repeats: dict[int, list[tuple[Measure, Measure]]] = {}
            for c in args.concurrency:
                set_concurrency(sim.config, c)
                for r in range(args.repeat):
                    db = workdir / f"bench-c{c}-{r}.db"
                    pair = []
                    for label, first in ((f"hvinv c{c} 1st run", True), (f"hvinv c{c} unchanged", False)):
                        print(f"bench: {label} ({r + 1}/{args.repeat}) ...", file=sys.stderr, flush=True)
                        m = run_hvinv(args, sim, env, db, label)
                        m.concurrency, m.first_run = c, first
                        pair.append(m)
                    repeats.setdefault(c, []).append((pair[0], pair[1]))
                # The table shows the pair whose first run has the median wall time.
                ordered = sorted(repeats[c], key=lambda p: p[0].wall_secs)
                runs.extend(ordered[(len(ordered) - 1) // 2])
            info["repeats"] = {
                str(c): [{"first_wall_secs": a.wall_secs, "first_cpu_secs": a.cpu_secs,
                          "unchanged_wall_secs": b.wall_secs, "unchanged_cpu_secs": b.cpu_secs} for a, b in pairs]
                for c, pairs in repeats.items()
            }  # fmt: skip
            peers = []
            for t in args.peer_threads:
                print(f"bench: pypsrp peer, {t} threads ...", file=sys.stderr, flush=True)
                peers.append(run_peer(args, sim, env, t))
            profile = {}
            if args.profile:
                print("bench: hvinv under perf ...", file=sys.stderr, flush=True)
                set_concurrency(sim.config, args.concurrency[0])
                profile = profile_hvinv(args, sim, env, workdir)
        finally:
            sim_line = sim.stop()
        result = report(args, floors, runs, peers, sim_line, info, profile)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        die(str(e))
