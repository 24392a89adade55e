"""`hvinv simulate` as a child process, and the config it writes."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
import tomllib
from pathlib import Path

from measure import ROOT, BenchError, child_setup, reader

# The simulator's published password (hvinv::simulator::DEFAULT_PASSWORD), used
# when the written config's comment cannot be read.
SIM_PASSWORD_FALLBACK = "Sim-Passw0rd!"


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
                raise BenchError(f"the simulator exited ({self.proc.returncode}): {''.join(self.err)[-1500:]}")
            if any("listening" in line for line in self.lines) and self.config.exists():
                break
            time.sleep(0.1)
        else:
            raise BenchError(f"the simulator was not ready within {timeout:.0f} s")
        # The last host accepting proves every listener is up.
        _, hosts = hosts_of(self.config)
        if not hosts:
            raise BenchError("the simulator wrote a config without hosts")
        address, port = hosts[-1]
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((address, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"the last simulated host {address}:{port} does not accept connections")

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
