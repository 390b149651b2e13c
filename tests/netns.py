"""Two network namespaces joined by a veth pair, for tests that need two machines' worth of network on one.

``namespace_pair()`` makes them (as root, with iproute2's ``ip netns``), yields a ``NamespacePair`` and, on the way
out, ends every process still running in either namespace (by pid: a process in one of these uniquely named
namespaces was started inside it by the test) and deletes both namespaces. The addresses, 10.213.X.1 and .2 on a
/24, exist only inside the namespaces; each namespace also has its own loopback, so nothing the test starts there
can reach, or be reached from, the host's network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

IP_TIMEOUT = 20  # seconds for one `ip` command


class NamespaceUnavailable(RuntimeError):
    """Network namespaces cannot be made here (not root, no iproute2, or the kernel or container forbids it)."""


@dataclasses.dataclass(frozen=True)
class NamespacePair:
    """Namespace names and their addresses: ``names[i]`` holds ``addresses[i]`` on its end of the veth pair."""

    names: tuple[str, str]
    addresses: tuple[str, str]

    def command(self, index: int, argv: list[str]) -> list[str]:
        """``argv`` run inside namespace ``index``."""
        return ["ip", "netns", "exec", self.names[index], *argv]

    def pids(self, index: int) -> list[int]:
        """The processes running in namespace ``index`` now."""
        listed = _ip(["netns", "pids", self.names[index]], check=False)
        return [int(word) for word in listed.stdout.split() if word.isdigit()]


def _ip(arguments: list[str], check: bool = True) -> subprocess.CompletedProcess:
    completed = subprocess.run(["ip", *arguments], check=False, capture_output=True, text=True, timeout=IP_TIMEOUT)
    if check and completed.returncode != 0:
        raise NamespaceUnavailable(f"`ip {' '.join(arguments)}` failed ({completed.returncode}): "
                                   f"{completed.stderr.strip() or completed.stdout.strip()}")  # fmt: skip
    return completed


def end_processes(pair: NamespacePair, grace_seconds: float = 3.0) -> list[int]:
    """SIGTERM every process in either namespace, SIGKILL those left after ``grace_seconds``; returns any survivors."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        pids = pair.pids(0) + pair.pids(1)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while pids and time.monotonic() < deadline:
            time.sleep(0.2)
            pids = pair.pids(0) + pair.pids(1)
        if not pids:
            return []
    return pair.pids(0) + pair.pids(1)


@contextlib.contextmanager
def namespace_pair() -> Iterator[NamespacePair]:
    """Make two fresh namespaces ``slA<tag>`` / ``slB<tag>`` joined by a veth pair; remove them on the way out.

    Raises:
        NamespaceUnavailable: before anything is left behind, when namespaces cannot be made here.
    """
    if os.geteuid() != 0:
        raise NamespaceUnavailable("network namespaces need root (ip netns add); this test runs as a user")
    if shutil.which("ip") is None:
        raise NamespaceUnavailable("iproute2's `ip` is not installed (apt-get install iproute2)")
    tag = f"{os.getpid() % 100000}{random.randrange(100, 1000)}"
    subnet = random.randrange(1, 255)
    pair = NamespacePair(names=(f"slA{tag}", f"slB{tag}"), addresses=(f"10.213.{subnet}.1", f"10.213.{subnet}.2"))
    veth = (f"slva{tag}", f"slvb{tag}")  # interface names: at most 15 characters
    made: list[str] = []
    try:
        for name in pair.names:
            _ip(["netns", "add", name])
            made.append(name)
        _ip(["link", "add", veth[0], "type", "veth", "peer", "name", veth[1]])
        for index in (0, 1):
            name = pair.names[index]
            _ip(["link", "set", veth[index], "netns", name])
            _ip(["-n", name, "addr", "add", f"{pair.addresses[index]}/24", "dev", veth[index]])
            _ip(["-n", name, "link", "set", "lo", "up"])
            _ip(["-n", name, "link", "set", veth[index], "up"])
        yield pair
    finally:
        survivors = end_processes(pair) if made else []
        _ip(["link", "del", veth[0]], check=False)  # only still here (in the host namespace) if setup failed early
        for name in made:
            _ip(["netns", "del", name], check=False)  # deleting a namespace deletes its end of the veth pair
        if survivors:
            raise RuntimeError(f"processes {survivors} survived SIGKILL in namespaces {pair.names}")
