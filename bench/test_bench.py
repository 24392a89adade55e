"""Checks of the harness itself: `python3 -m unittest discover -s bench`."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import measure  # noqa: E402
import simulator  # noqa: E402


class FloorTest(unittest.TestCase):
    def test_eight_hosts_half_clustered_need_11_trips_on_average(self):
        # Cluster node: 1 NTLM leg + 4 cimv2 + 4 v2 + 3 cluster = 12;
        # standalone: 1 + 4 + 4 + 1 (invalid namespace) = 10.
        f = floor.round_trip_floor(hosts=8, vms=20, latency_ms=20, concurrency=4)
        self.assertEqual(f.trips_per_host, 11)
        self.assertEqual(f.waves, 2)
        self.assertAlmostEqual(f.secs, 11 * 0.020 * 2)

    def test_cluster_vm_resources_over_one_page_cost_a_pull(self):
        # 4 nodes x 30 VMs = 120 cluster resources: two pages of 100.
        f = floor.round_trip_floor(hosts=8, vms=30, latency_ms=10, concurrency=8)
        self.assertEqual(f.extra_pages_per_host, 0.5)
        self.assertEqual(f.trips_per_host, 11.5)

    def test_a_partial_last_group_has_a_smaller_cluster(self):
        # Hosts 0 and 1 form a 2-node cluster: 2 x 60 = 120 resources, 2 pages each.
        f = floor.round_trip_floor(hosts=2, vms=60, latency_ms=10, concurrency=8)
        self.assertEqual(f.extra_pages_per_host, 1)
        self.assertEqual(f.waves, 1)


class ConfigTest(unittest.TestCase):
    def test_concurrency_line_is_rewritten_and_password_read_from_comment(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "c.toml"
            p.write_text(
                "# export HVINV_SIM_PASSWORD='pa ss'\n\n[defaults]\nusername = 'A\\b'\nconcurrency = 64\n\n"
                '[[host]]\naddress = "127.0.20.1"\nport = 5985\n'
            )
            simulator.set_concurrency(p, 256)
            defaults, hosts = simulator.hosts_of(p)
            self.assertEqual(defaults["concurrency"], 256)
            self.assertEqual(hosts, [("127.0.20.1", 5985)])
            self.assertEqual(simulator.sim_password(p), "pa ss")


class MeasureTest(unittest.TestCase):
    def test_child_memory_and_cpu_are_the_childs_own(self):
        # The child holds 150 MB and spins for 0.3 s; the harness holds neither.
        code = "import time\nb = bytearray(150_000_000)\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
        m = measure.run_measured("child", [sys.executable, "-c", code], dict(os.environ), 30, os.getpid())
        self.assertEqual(m.exit_code, 0)
        self.assertGreaterEqual(m.peak_rss_bytes, 150_000_000)
        self.assertGreaterEqual(m.cpu_secs, 0.28)
        self.assertFalse(m.timed_out)

    def test_runqueue_wait_is_read_for_every_thread(self):
        waits = measure.runq_wait(os.getpid())
        self.assertIn(threading.get_native_id(), waits)
        self.assertTrue(all(w >= 0 for w in waits.values()))

    def test_a_child_over_its_time_is_killed(self):
        m = measure.run_measured("child", [sys.executable, "-c", "import time; time.sleep(30)"], dict(os.environ), 0.5, os.getpid())
        self.assertTrue(m.timed_out)
        self.assertLess(m.wall_secs, 10)


ROOT = Path(__file__).resolve().parent.parent
BINARY = next((b for b in (ROOT / "target/release/hvinv", ROOT / "target/debug/hvinv") if b.is_file()), None)
VENV_PYTHON = ROOT / ".venv/bin/python"


@unittest.skipUnless(BINARY and VENV_PYTHON.is_file(), "needs a built hvinv and the project's .venv")
class AgainstSimulatorTest(unittest.TestCase):
    def test_peer_collects_what_the_estate_defines_with_hvinvs_selects(self):
        args = SimpleNamespace(
            binary=BINARY, hosts=8, vms_per_host=3, latency_ms=0, base_address="127.0.21.1",
            port=0, https_port=0, timeout_secs=30,
        )  # fmt: skip
        with tempfile.TemporaryDirectory() as d:
            sim = simulator.Simulator(args, Path(d))
            try:
                sim.wait_ready(timeout=30)
                env = dict(os.environ, HVINV_SIM_PASSWORD=simulator.sim_password(sim.config))
                argv = [str(VENV_PYTHON), str(ROOT / "bench/peer_pypsrp.py"), "--config", str(sim.config), "--threads", "4"]
                m = measure.run_measured("peer", argv, env, 60, sim.pid)
            finally:
                sim.stop()
        out = json.loads(m.stdout)
        self.assertEqual(m.exit_code, 0, m.stderr_tail)
        self.assertEqual((out["ok"], out["failed"], out["vms"]), (8, 0, 8 * 3))
        # Four cluster nodes (4 cimv2 + 4 v2 + 3 cluster selects), four standalone (4 + 4 + 1).
        self.assertEqual(out["selects"], 4 * 11 + 4 * 9)
        # Everything fits one page: no Pulls.
        self.assertEqual(out["soap_requests"], out["selects"])

    def test_hvinv_needs_no_more_round_trips_than_the_floor_counts(self):
        args = SimpleNamespace(
            binary=BINARY, hosts=8, vms_per_host=3, latency_ms=0, base_address="127.0.21.1",
            port=0, https_port=0, timeout_secs=30,
        )  # fmt: skip
        with tempfile.TemporaryDirectory() as d:
            sim = simulator.Simulator(args, Path(d))
            try:
                sim.wait_ready(timeout=30)
                env = dict(os.environ, HVINV_SIM_PASSWORD=simulator.sim_password(sim.config))
                argv = [str(BINARY), "collect", "--config", str(sim.config), "--db", str(Path(d) / "t.db"), "--json"]
                m = measure.run_measured("hvinv", argv, env, 60, sim.pid)
            finally:
                sim.stop()
        out = json.loads(m.stdout)
        self.assertEqual((out["hosts_ok"], out["vms"]), (8, 8 * 3), m.stderr_tail)
        expected = floor.round_trip_floor(hosts=8, vms=3, latency_ms=0, concurrency=8).trips_per_host
        self.assertEqual(out["round_trips"], 8 * expected)


if __name__ == "__main__":
    unittest.main()
