"""The side-by-side table, the ratios, and the JSON result."""

from __future__ import annotations

from dataclasses import asdict

from floor import Floor
from measure import Measure


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
    args,
    floors: dict[int, Floor],
    runs: list[Measure],
    peers: list[Measure],
    sim_line: str,
    info: dict,
    profile: dict,
) -> dict:
    """`runs` are hvinv's, in pairs (first, unchanged) per concurrency."""
    firsts = [m for m in runs if m.first_run]
    cols = runs + peers
    expected_vms = args.hosts * args.vms_per_host
    cores = max(1, info.get("cpus") or 1)

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
            return f"{s['soap_requests'] / s['ok']:.2f} SOAP+auth"
        return "-"

    def over_floor(m: Measure) -> str:
        # The floor is hvinv's (its concurrency bound); the peer's bound is its thread count.
        f = floors.get(m.concurrency or 0)
        return f"{m.wall_secs / max(1e-9, f.secs):.2f}" if f else "-"

    rows = [
        ("hosts ok/collected", [ok_of(m) for m in cols]),
        ("VMs (expected)", [f"{vms_of(m)} ({m.hosts * args.vms_per_host})" for m in cols]),
        ("wall time", [f"{m.wall_secs:.2f} s" + (" (timed out)" if m.timed_out else "") for m in cols]),
        ("round-trip floor", [f"{floors[m.concurrency].secs:.2f} s" if m.concurrency else "-" for m in cols]),
        ("wall / floor", [over_floor(m) for m in cols]),
        ("CPU user+sys", [f"{m.cpu_secs:.2f} s" for m in cols]),
        ("CPU per host", [f"{m.cpu_secs / max(1, m.hosts) * 1000:.2f} ms" for m in cols]),
        ("peak RSS", [f"{m.peak_rss_bytes / 1e6:.1f} MB" for m in cols]),
        ("DB bytes added", [fmt_bytes(m.db_bytes_added) for m in cols]),
        ("voluntary context switches / host", [f"{m.voluntary_switches / max(1, m.hosts):.0f}" for m in cols]),
        ("round trips / host", [trips(m) for m in cols]),
        ("simulator CPU", [f"{m.sim_cpu_secs:.2f} s" for m in cols]),
        ("simulator, % of 1 core", [f"{100 * m.sim_cpu_secs / max(1e-9, m.wall_secs):.0f} %" for m in cols]),
        # Well under the machine's cores while wall time exceeds the floor:
        # something else held the CPUs (see the waits and the load average).
        ("cores used, tool+simulator", [f"{(m.cpu_secs + m.sim_cpu_secs) / max(1e-9, m.wall_secs):.2f}" for m in cols]),
        ("waited for a CPU, tool", [f"{m.runq_wait_secs:.2f} s" for m in cols]),
        ("waited for a CPU, simulator", [f"{m.sim_runq_wait_secs:.2f} s" for m in cols]),
        ("load average after", [f"{m.load_after:.1f}" for m in cols]),
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
        f"sealed HTTP (NTLM), concurrency {', '.join(str(c) for c in args.concurrency)}"
    )
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory_gib']} GiB, HEAD {info['git_commit']}, binary built {info.get('binary_built', '?')}"
        + (f", measured processes at nice {info['nice']}" if info.get("nice") else "")
    )
    if info.get("collect_env"):
        print(f"hvinv collect ran with {' '.join(f'{k}={v}' for k, v in info['collect_env'].items())}")
    print()
    print("".ljust(width0) + "".join(h.rjust(w) for h, w in zip(headers, widths)))
    for name, vals in rows:
        print(name.ljust(width0) + "".join(v.rjust(w) for v, w in zip(vals, widths)))
    print()
    any_floor = next(iter(floors.values()))
    print("round-trip floor:")
    print(f"  {any_floor.formula}")
    for c, floor in floors.items():
        print(
            f"  concurrency {c}: ({floor.trips_per_host:.2f} round trips per host: 1 + {floor.selects_per_host:.2f}"
            f" selects + {floor.extra_pages_per_host:.2f} extra pages) x {floor.latency_ms} ms x {floor.waves} waves"
            f" = {floor.secs:.2f} s"
        )
    print("CPU floor on this machine (hvinv CPU + simulator CPU during the run) / cores:")
    for m in firsts:
        cpu_floor = (m.cpu_secs + m.sim_cpu_secs) / cores
        print(f"  {m.label}: ({m.cpu_secs:.2f} s + {m.sim_cpu_secs:.2f} s) / {cores} = {cpu_floor:.2f} s")
    for c, reps in info.get("repeats", {}).items():
        if len(reps) > 1:
            firsts_w = ", ".join(f"{r['first_wall_secs']:.2f}" for r in reps)
            unch_w = ", ".join(f"{r['unchanged_wall_secs']:.2f}" for r in reps)
            print(f"repeats at concurrency {c} (the table shows the median first run): first runs {firsts_w} s;"
                  f" unchanged runs {unch_w} s")  # fmt: skip
    if "warm_up" in info:
        w = info["warm_up"]
        print(
            f"warm-up (unmeasured collect before the runs above): {w['wall_secs']:.2f} s,"
            f" simulator CPU {w['simulator_cpu_secs']:.2f} s (it renders each host's answers once)"
        )
    if sim_line:
        print(f"simulator, whole session: {sim_line.removeprefix('hvinv simulate: ')}")

    ratios: dict[str, float] = {}
    print()
    print("ratios (hvinv first runs):")
    for m in firsts:
        c = m.concurrency
        r = {
            "wall_over_floor": m.wall_secs / max(1e-9, floors[c].secs),
            "cpu_ms_per_host": m.cpu_secs / max(1, args.hosts) * 1000,
            "peak_mb": m.peak_rss_bytes / 1e6,
            "simulator_core_share": m.sim_cpu_secs / max(1e-9, m.wall_secs),
            "cpu_floor_secs": (m.cpu_secs + m.sim_cpu_secs) / cores,
        }
        ratios.update({f"hvinv_c{c}_{k}": v for k, v in r.items()})
        print(f"  concurrency {c}:")
        print(f"    wall / round-trip floor           {r['wall_over_floor']:.2f}   (target <= 1.3)")
        print(f"    CPU per host                      {r['cpu_ms_per_host']:.2f} ms   (target < 2 ms)")
        print(f"    peak RSS                          {r['peak_mb']:.1f} MB   (target < 100 MB at 5,000 hosts)")
        print(f"    simulator CPU                     {100 * r['simulator_core_share']:.0f} % of one core ({cores} cores)")
        for p in peers:
            t = p.argv[p.argv.index("--threads") + 1]
            s = scaled(p, args.hosts)
            speed = s["wall_secs"] / max(1e-9, m.wall_secs)
            cpu = s["cpu_secs"] / max(1e-9, m.cpu_secs)
            note = f" (peer extrapolated from {p.extrapolated_from} hosts)" if s["extrapolated"] else ""
            ratios[f"hvinv_c{c}_peer{t}_wall_ratio"] = speed
            ratios[f"hvinv_c{c}_peer{t}_cpu_ratio"] = cpu
            target = "   (target >= 20)" if t == "64" else ""
            print(f"    {f'pypsrp@{t} wall / hvinv wall':<34}{speed:.1f}x{target}{note}")
            print(f"    {f'pypsrp@{t} CPU / hvinv CPU':<34}{cpu:.1f}x{note}")
    if profile:
        print()
        print(f"where hvinv's CPU goes (perf, concurrency {args.concurrency[0]}, inclusive share of its samples):")
        for name, share in profile.get("layers", {}).items():
            print(f"  {share:5.1f} %  {name}")
        for name, share in profile.get("threads", {}).items():
            print(f"  {share:5.1f} %  thread {name}")
        if profile.get("hottest"):
            print("hottest functions (own samples):")
        for share, name in profile.get("hottest", []):
            print(f"  {share:5.1f} %  {name}")
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
        "floors": {str(c): asdict(f) for c, f in floors.items()},
        "runs": [
            {k: v for k, v in asdict(m).items() if k not in ("stdout",)} | {"cpu_secs": m.cpu_secs} for m in cols
        ],
        "ratios": ratios,
        "profile": profile,
        "simulator": sim_line,
        "problems": problems,
    }
