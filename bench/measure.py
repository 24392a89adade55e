"""Measuring one child process from the outside: wall time, its own CPU
and peak memory (wait4), and a live process's CPU from /proc."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


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
    # Time the tool's threads / the simulator's threads were runnable but
    # waiting for a CPU (schedstat): how much a busy machine held them back.
    runq_wait_secs: float = 0.0
    sim_runq_wait_secs: float = 0.0
    # Voluntary context switches (a thread blocked: channel hand-offs, I/O waits).
    voluntary_switches: int = 0
    # hvinv runs: the concurrency bound, and whether the database started empty.
    concurrency: int | None = None
    first_run: bool = False

    @property
    def cpu_secs(self) -> float:
        return self.user_secs + self.sys_secs


# Scheduling priority of every child (--nice): on a shared machine a negative
# value keeps other people's work from inflating wall times.
NICE = 0


def set_nice(value: int) -> None:
    """Children run at this priority. With autogroup scheduling, a process's
    nice only counts inside its session's group, so the group's nice is set
    too (negative values need root); a failure leaves the default."""
    global NICE
    NICE = value
    if value:
        try:
            Path("/proc/self/autogroup").write_text(str(value))
        except OSError:
            pass


PR_SET_PDEATHSIG = 1


def child_setup() -> None:
    # If the harness dies, its children get SIGTERM instead of running on
    # (the simulator stops cleanly on it).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
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


def runq_wait(pid: int) -> dict[int, int]:
    """Run-queue wait (ns) of each live thread of `pid`."""
    out: dict[int, int] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
            out[int(tid)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


class WaitWatch:
    """Polls a child's threads' run-queue wait until stopped; threads that end
    between polls lose at most one interval, so the sum is a lower bound."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.last: dict[int, int] = {}
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.poll, args=(interval,), daemon=True)
        self.thread.start()

    def poll(self, interval: float) -> None:
        while not self.stop_flag.is_set():
            self.last.update(runq_wait(self.pid))
            self.stop_flag.wait(interval)

    def stop(self) -> float:
        self.stop_flag.set()
        self.thread.join(timeout=5)
        return sum(self.last.values()) / 1e9


def run_measured(label: str, argv: list[str], env: dict, timeout: float, sim_pid: int) -> Measure:
    """Runs one child to completion (or kills it at `timeout`) and reads its
    own rusage with wait4, so nothing else's CPU or memory is counted."""
    m = Measure(label=label, argv=argv)
    out: list[str] = []
    err: list[str] = []
    sim_before = proc_cpu_secs(sim_pid)
    sim_wait_before = sum(runq_wait(sim_pid).values())
    start = time.monotonic()
    p = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT, preexec_fn=child_setup
    )
    watch = WaitWatch(p.pid)
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
        # Read the threads' waits just before they go: wait for exit without reaping.
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
        m.runq_wait_secs = watch.stop()
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        with lock:
            reaped = True
        timer.cancel()
        watch.stop()
    m.wall_secs = time.monotonic() - start
    m.sim_cpu_secs = proc_cpu_secs(sim_pid) - sim_before
    m.sim_runq_wait_secs = (sum(runq_wait(sim_pid).values()) - sim_wait_before) / 1e9
    m.load_after = os.getloadavg()[0]
    # Popen must not wait for a pid we already reaped.
    p.returncode = os.waitstatus_to_exitcode(status)
    m.exit_code = p.returncode
    m.user_secs = ru.ru_utime
    m.sys_secs = ru.ru_stime
    m.peak_rss_bytes = ru.ru_maxrss * 1024  # kilobytes on Linux
    m.voluntary_switches = ru.ru_nvcsw
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
