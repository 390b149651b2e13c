"""`spatiallab run --ray HEAD:PORT` on a real two-node Ray cluster, made on this machine from two network namespaces.

The head runs in one namespace and a worker node in the other, one CPU each, joined only by a veth pair whose two
addresses exist nowhere else (tests/netns.py); the driver runs in the head's namespace. With ``--threads 1`` each
node takes one cell at a time, so a four-cell grid must use both, and the numbers must be a serial ``--threads 1``
run's to every digit. The nodes are stopped by pid (every process in the namespaces) and the namespaces deleted, also
when the test fails. ``ray stop`` is not used: it ends every Ray process on the machine by name, other users' too.

Needs root and iproute2 (skipped with the reason otherwise); deselect with ``-m "not cluster"``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import netns
from tests.test_runner_faults import (
    GRID,
    assert_complete_and_equal,
    cli_environment,
    run_to_end,
    serial,  # noqa: F401  (the fixture: the serial run, trained while the cluster starts)
)

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(480)]

RAY = str(Path(sys.executable).with_name("ray"))
PORT = 6379  # the head's GCS port; free, since the namespace has its own network stack
START_TIMEOUT = 120  # seconds for one `ray start`

# Run in the head's namespace: wait until both nodes are alive, then print {node id: node address}.
NODES_SCRIPT = """
import json, sys, time
import ray
ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False)
deadline = time.monotonic() + 60
while True:
    alive = {node["NodeID"]: node["NodeManagerAddress"] for node in ray.nodes() if node["Alive"]}
    if len(alive) >= 2 or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(json.dumps(alive))
"""


def _start(command: list[str], environment: dict, what: str) -> None:
    started = subprocess.run(command, check=False, env=environment, capture_output=True, text=True, timeout=START_TIMEOUT)
    if started.returncode != 0:
        pytest.fail(f"{what} did not start ({started.returncode}):\n{started.stdout[-2000:]}\n{started.stderr[-2000:]}")


@pytest.fixture
def cluster():
    """``(namespaces, head address "A:PORT", environment, {node id: node address})`` of a running two-node cluster."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'spatiallab[ray]')")
    with contextlib.ExitStack() as stack:
        # One temporary root per node (short: Ray's socket paths are limited to ~107 characters), removed last.
        head_temp, worker_temp = (stack.enter_context(tempfile.TemporaryDirectory(prefix=f"sl{role}", dir="/tmp"))
                                  for role in ("h", "w"))  # fmt: skip
        try:
            pair = stack.enter_context(netns.namespace_pair())
        except netns.NamespaceUnavailable as error:
            pytest.skip(f"cannot make network namespaces for a two-node cluster: {error}")
        head_ip, worker_ip = pair.addresses
        # A token of this cluster's own (neither reading nor writing ~/.ray/auth_token); no usage report. Not
        # RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0: in Ray 2.60 it stops any worker node from joining, Linux too.
        environment = cli_environment(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                                      RAY_USAGE_STATS_ENABLED="0")  # fmt: skip
        common = ["--num-cpus=1", "--disable-usage-stats", "--object-store-memory=100000000"]
        _start(pair.command(0, [RAY, "start", "--head", f"--node-ip-address={head_ip}", f"--port={PORT}",
                                "--include-dashboard=false", f"--temp-dir={head_temp}", *common]),
               environment, "the Ray head")  # fmt: skip
        _start(pair.command(1, [RAY, "start", f"--address={head_ip}:{PORT}", f"--node-ip-address={worker_ip}",
                                f"--temp-dir={worker_temp}", *common]),
               environment, "the Ray worker node")  # fmt: skip
        listed = subprocess.run(pair.command(0, [sys.executable, "-c", NODES_SCRIPT, f"{head_ip}:{PORT}"]),
                                check=False, env=environment, capture_output=True, text=True,
                                timeout=START_TIMEOUT)  # fmt: skip
        assert listed.returncode == 0, listed.stderr[-3000:]
        nodes = json.loads(listed.stdout.strip().splitlines()[-1])
        assert sorted(nodes.values()) == sorted(pair.addresses), f"the cluster's nodes: {nodes}"
        yield pair, f"{head_ip}:{PORT}", environment, nodes


def test_cells_run_on_both_nodes_and_equal_a_serial_run(tmp_path, serial, cluster):
    pair, head_address, environment, nodes = cluster
    reference = serial.results()
    run_dir = tmp_path / "run"
    driver = run_to_end([*GRID, "--threads", "1", "--out", run_dir, "--ray", head_address], tmp_path, environment,
                        prefix=pair.command(0, []))  # fmt: skip
    assert driver.returncode == 0, driver.stderr[-3000:]
    record = assert_complete_and_equal(run_dir, reference)
    used = {cell["ran_on"]["node_id"] for cell in record["cells"]}
    assert used <= nodes.keys(), f"cells ran on nodes {used}, not on this cluster's {nodes}"
    assert {nodes[node_id] for node_id in used} == set(pair.addresses)  # both namespaces trained cells
    assert record["execution"]["mode"] == "ray" and record["execution"]["ray_address"] == head_address
