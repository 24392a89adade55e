#!/usr/bin/env python3
"""Store and report benchmarks (bench/README.md, "Reports and store").

    bench/history --hosts 1000 --runs 4320            # generate (once), then measure
    bench/history --hosts 5000 --runs 4320 --skip history

Generates a quarter of half-hourly runs with `hvinv generate-history` into
bench/results/history-<hosts>x<runs>.db (kept and reused: delete it to
regenerate), then measures, each as a child process reaped with wait4:
the generation itself, `report pvu`, `report history` and `report coverage`
over the whole period (JSON to /dev/null), and the bytes an unchanged 1,000-host run adds
to a database (file plus WAL after a checkpoint).
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measured(argv: list[str]) -> dict:
    """Runs argv; wall, user+sys CPU and peak RSS of the child alone."""
    # stderr goes to a file, not a pipe: a pipe nobody reads until the
    # child exits fills at 64 KiB and stops the child.
    with tempfile.TemporaryFile() as errf:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errf)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"bench/history: {' '.join(argv)} exited {code}:\n{err[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
        "exit": code,
    }


def db_bytes(db: Path) -> int:
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(str(db) + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def generate(hvinv: str, db: Path, hosts: int, runs: int, extra: list[str]) -> list[str]:
    return [hvinv, "generate-history", "--db", str(db), "--hosts", str(hosts),
            "--runs", str(runs), *extra]


def growth(hvinv: str, hosts: int, workdir: Path) -> dict:
    """Bytes an unchanged run adds: two unchanged runs, then a third."""
    db = workdir / f"growth-{hosts}.db"
    for f in workdir.glob(f"growth-{hosts}.db*"):
        f.unlink()
    still = ["--migrate", "0", "--state-change", "0", "--vcpu-change", "0", "--fail", "0"]
    measured(generate(hvinv, db, hosts, 2, still))
    before = db_bytes(db)
    measured(generate(hvinv, db, hosts, 1, still + ["--start", "2026-09-01T00:00:00Z"]))
    after = db_bytes(db)
    return {"hosts": hosts, "bytes_before": before, "bytes_added": after - before}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=4320)
    ap.add_argument("--binary", default=str(ROOT / "target/release/hvinv"))
    ap.add_argument("--skip", action="append", default=[],
                    help="pvu, history, coverage or growth (repeatable)")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"bench/history: {a.binary} missing: cargo build --release")
    workdir = ROOT / "bench/results"
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"history-{a.hosts}x{a.runs}.db"
    out = {"hosts": a.hosts, "runs": a.runs, "load_before": os.getloadavg()}
    if not db.exists():
        out["generate"] = measured(generate(a.binary, db, a.hosts, a.runs, []))
    out["db_mb"] = round(db_bytes(db) / 1e6, 1)
    # The quarter the generator writes: 2026-08-01 + runs × 30 min.
    period = ["--from", "2026-08-01", "--to", "2026-12-31", "--format", "json"]
    if "pvu" not in a.skip:
        out["report_pvu"] = measured([a.binary, "report", "pvu", "--db", str(db), *period])
    if "history" not in a.skip:
        out["report_history"] = measured(
            [a.binary, "report", "history", "--db", str(db), *period])
    if "coverage" not in a.skip:
        out["report_coverage"] = measured(
            [a.binary, "report", "coverage", "--db", str(db), *period])
    if "growth" not in a.skip:
        out["unchanged_run"] = growth(a.binary, 1000, workdir)
    out["load_after"] = os.getloadavg()
    text = json.dumps(out, indent=2)
    print(text)
    if a.json_out:
        Path(a.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
