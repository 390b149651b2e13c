"""Run a function in a child process under a time and a memory bound, for parsers that hostile input can make loop
or allocate without limit (LIEF on some malformed executables: see ``sections.parse_layout``).

One child process (``python -c`` with this module's ``_child_main``, talking over a socket pair) is started on the
first call and reused by the next ones, so a call costs a round trip through the socket, not a process start. (Not
``multiprocessing`` spawn: that re-imports the caller's main script in the child, which re-runs a script without a
``__main__`` guard.) A call that runs past its time bound has its child killed; a call that allocates past its memory
bound fails inside the child with MemoryError (the child sets ``RLIMIT_AS``, its address space, to what it holds plus
the bound before each call; LIEF's C++ allocations fail the same way), and that child is retired. A child that dies
(a crash in native code) is reported, never propagated. The next call after any of these starts a fresh child.

The child needs POSIX (elsewhere the call runs in process, unbounded); the memory bound also needs
``resource.RLIMIT_AS`` and ``/proc/self/statm`` (Linux); elsewhere only the time bound holds.
"""

from __future__ import annotations

import atexit
import multiprocessing.connection
import os
import pickle
import socket
import subprocess
import sys
import threading

# Seconds a fresh child may take to start and import this package (LIEF, NumPy, matplotlib) before its first call:
# a few seconds on a busy laptop; not part of any call's time bound.
START_SECONDS = 120


class Stopped(RuntimeError):
    """The call was stopped by its bound, or its child died. The message says which, as a verb phrase to follow
    the call's name: "was stopped at the 15 s time limit", "crashed its process (exit code -11)"."""


class TimeLimitExceeded(Stopped):
    pass


class MemoryLimitExceeded(Stopped):
    pass


class ChildDied(Stopped):
    pass


def _address_space() -> int | None:
    """Bytes of virtual address space this process holds now (Linux), or None where that cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit_memory(extra_bytes: int | None):
    """Cap this process's address space at what it holds now plus ``extra_bytes``; returns the limits to restore."""
    try:
        import resource
    except ImportError:  # not POSIX: time bound only
        return None
    held = _address_space()
    if extra_bytes is None or held is None:
        return None
    previous = resource.getrlimit(resource.RLIMIT_AS)
    hard = previous[1]
    soft = held + extra_bytes if hard == resource.RLIM_INFINITY else min(held + extra_bytes, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ValueError, OSError):  # a system that does not let RLIMIT_AS be set (macOS): time bound only
        return None
    return previous


def _restore_memory(previous) -> None:
    if previous is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, previous)


def _serve(connection) -> None:
    """The child's loop: (function, args, memory bound) in, ("ok" | "raised" | "memory", value) out, until EOF."""
    connection.send(("ready", None))  # this package (and LIEF) is imported by now
    while True:
        try:
            function, args, memory_bytes = connection.recv()
        except EOFError:  # the parent closed its end (or exited)
            return
        previous = _limit_memory(memory_bytes)
        try:
            reply = ("ok", function(*args))
        except MemoryError:
            reply = ("memory", None)
        except Exception as error:  # noqa: BLE001  the caller decides; it is re-raised there
            reply = ("raised", error)
        finally:
            _restore_memory(previous)
        try:
            connection.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError):  # an unpicklable exception or result
            connection.send(("raised", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
        if reply[0] == "memory":  # native code may have left state behind: a fresh child serves the next call
            return


def _child_main() -> None:
    """Entry point of the child: serve the socket whose descriptor is the last command-line argument."""
    _serve(multiprocessing.connection.Connection(int(sys.argv[-1])))


class BoundedWorker:
    """A reusable child process that runs one call at a time under a time and a memory bound (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self._connection = None

    def call(self, function, args: tuple, seconds: float, memory_bytes: int | None):
        """``function(*args)`` in the child; its result, or its exception re-raised here.

        Args:
            function: a module-level function (it is sent to the child by reference, as pickle does).
            args: picklable arguments.
            seconds: wall-clock bound on the call (the child's start, once, is not counted).
            memory_bytes: address space the call may add to what the child holds; None for no memory bound.

        Raises:
            TimeLimitExceeded, MemoryLimitExceeded, ChildDied (all ``Stopped``); or what ``function`` raised.
        """
        if os.name != "posix":  # no socket-passing child here (see the module docstring): unbounded, in process
            return function(*args)
        with self._lock:
            connection = self._started()
            try:
                connection.send((function, args, memory_bytes))
            except OSError:  # the child died between calls
                exitcode = self._retire(kill=False)
                raise ChildDied(f"lost its process (exit code {exitcode})") from None
            if not connection.poll(seconds):
                self._retire(kill=True)
                raise TimeLimitExceeded(f"was stopped at the {seconds:g} s time limit")
            try:
                status, value = connection.recv()
            except (EOFError, OSError):
                exitcode = self._retire(kill=False)
                raise ChildDied(f"crashed its process (exit code {exitcode})") from None
            if status == "memory":
                self._retire(kill=False)
                bound = f"the {memory_bytes / 2**20:,.0f} MiB memory limit" if memory_bytes else "the machine's memory"
                raise MemoryLimitExceeded(f"was stopped at {bound}")
            if status == "raised":
                raise value
            return value

    def close(self) -> None:
        with self._lock:
            self._retire(kill=True)

    def _started(self):
        """The connection to a running, ready child, started here if there is none."""
        if self._process is not None and self._process.poll() is None:
            return self._connection
        self._retire(kill=True)
        parent_end, child_end = socket.socketpair()
        # The child imports what this process can: its sys.path (a test's rootdir, say), from the same folder.
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p)}
        command = [sys.executable, "-c", "from spatiallab.binimage.bounded import _child_main; _child_main()",
                   str(child_end.fileno())]  # fmt: skip
        with child_end:
            self._process = subprocess.Popen(command, pass_fds=[child_end.fileno()], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, env=environment)  # fmt: skip
        self._connection = multiprocessing.connection.Connection(parent_end.detach())
        try:
            ready = self._connection.poll(START_SECONDS) and self._connection.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            exitcode = self._retire(kill=True)
            raise ChildDied(f"could not start its process within {START_SECONDS} s (exit code {exitcode})")
        return self._connection

    def _forget(self) -> None:
        """In a forked copy of this process: the child belongs to the parent; start afresh if needed."""
        self._lock = threading.Lock()
        self._process = self._connection = None

    def _retire(self, kill: bool) -> int | None:
        """Stop the child (killed, or left to exit on its own); its exit code (negative: the signal that ended it)."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()  # a child left to finish sees EOF and exits
        if process is None:
            return None
        if kill:
            process.kill()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


_WORKER = BoundedWorker()
atexit.register(_WORKER.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WORKER._forget)


def call(function, args: tuple, seconds: float, memory_bytes: int | None):
    """``BoundedWorker.call`` on the module's shared child process (see there)."""
    return _WORKER.call(function, args, seconds, memory_bytes)
