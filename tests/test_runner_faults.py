"""Faults of a real `spatiallab run`: the driver killed, interrupted or out of disk, a worker process killed mid-cell,
a Ray worker killed mid-task, a contradicting resume, --overwrite of an earlier run.

Every test runs the command line in a subprocess and delivers real signals; nothing of the runner is mocked. Each
compares against one uninterrupted serial ``--threads 1`` run of the same small grid (the module's ``serial``,
trained in the background beside the first test that reads it): a cell's numbers depend only on its configuration
and thread count, so a run that survived a fault must agree with it to every digit. The two-node Ray cluster is in
test_ray_cluster.py.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

# The console script beside this interpreter (a pyenv shim in front of it would be the process we signal instead).
SPATIALLAB = str(Path(sys.executable).with_name("spatiallab"))
# Four cells (dense x {original, shuffled} x seeds 0, 1) of about a second each: long enough to be killed mid-run.
GRID = ["--models", "dense", "--seeds", "2", "--epochs", "2", "--train-limit", "300", "--test-limit", "100",
        "--no-report"]  # fmt: skip
CELL_IDS = {f"mnist-sample__dense__{condition}__seed{seed}" for condition in ("original", "shuffled") for seed in (0, 1)}
RUN_TIMEOUT = 240  # seconds for one whole run of GRID (a cold TensorFlow import alone takes ~10 s on 2 busy cores)
POLL = 0.02  # seconds between looks at the run folder or /proc


# -- running the command line ---------------------------------------------------------------------------------------


def cli_environment(**extra: str) -> dict:
    """This environment without any Ray setting (no RAY_ADDRESS may redirect --ray), plus ``extra``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("RAY_")}
    environment.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", **extra)
    return environment


def _default_signals() -> None:
    # A test started from a background job inherits SIGINT ignored; the driver must see it as Ctrl-C does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Driver:
    """``spatiallab run ARGS`` started in its own process group, its output in files beside the run."""

    def __init__(self, arguments: list, log_dir: Path, environment: dict | None = None, prefix: list | None = None):
        log_dir.mkdir(parents=True, exist_ok=True)
        tag = f"{time.monotonic_ns()}"
        self.stdout_path, self.stderr_path = log_dir / f"stdout-{tag}.txt", log_dir / f"stderr-{tag}.txt"
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [*(prefix or []), SPATIALLAB, "run", *map(str, arguments)], stdout=stdout, stderr=stderr,
                stdin=subprocess.DEVNULL, env=environment or cli_environment(), start_new_session=True,
                preexec_fn=_default_signals,  # noqa: PLW1509  (it only resets two signal dispositions)
            )  # fmt: skip
        self.pid = self.process.pid
        self.returncode: int | None = None  # set by run_to_end

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.end()
            pytest.fail(f"spatiallab run did not end within {timeout} s; stderr:\n{self.stderr[-3000:]}")

    def end(self) -> None:
        """SIGKILL the driver's process group (the driver, its workers, a local Ray it started) if still there."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")


def run_to_end(arguments: list, log_dir: Path, environment: dict | None = None, prefix: list | None = None,
               timeout: float = RUN_TIMEOUT) -> Driver:  # fmt: skip
    """Run ``spatiallab run ARGS`` to its end; the Driver's ``returncode`` says how it ended."""
    driver = Driver(arguments, log_dir, environment, prefix)
    try:
        driver.returncode = driver.wait(timeout)
    finally:
        driver.end()  # whatever it left running in its group
    return driver


def wait_until(condition, driver: Driver, what: str, timeout: float = RUN_TIMEOUT, poll: float = POLL):
    """Poll ``condition()`` until it returns something true; fail if the driver ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if driver.process.poll() is not None:
            pytest.fail(f"the run ended (exit {driver.process.returncode}) before {what}; stderr:\n"
                        f"{driver.stderr[-3000:]}")  # fmt: skip
        time.sleep(poll)
    driver.end()
    pytest.fail(f"no {what} within {timeout} s; stderr:\n{driver.stderr[-3000:]}")


def finished_cell_files(run_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in (run_dir / "cells").glob("*.json")}


def cells_on_disk(run_dir: Path) -> dict[str, tuple[int, int | None]]:
    """``{cell id: (mtime_ns of its file, the pid that trained it)}`` for every cell file."""
    found = {}
    for stem, path in finished_cell_files(run_dir).items():
        cell = json.loads(path.read_text())
        found[stem] = (path.stat().st_mtime_ns, (cell.get("ran_on") or {}).get("pid"))
    return found


def temporary_files(root: Path) -> list[str]:
    """Every ``*.tmp`` under ``root``, hidden ones included (the atomic writer's are ``.<name>.<pid>.<tid>.tmp``)."""
    return sorted(os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names
                  if name.endswith(".tmp"))  # fmt: skip


def results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def numbers(record: dict) -> dict:
    """The measured values of every finished cell: test accuracy and loss, and the per-epoch history."""
    return {(cell["dataset"], cell["model"], cell["condition"], cell["seed"]):
            (cell["test_accuracy"], cell["test_loss"], cell["history"], cell["params"])
            for cell in record["cells"]}  # fmt: skip


def assert_complete_and_equal(run_dir: Path, reference: dict) -> dict:
    """The run in ``run_dir`` finished every cell, none failed, and its numbers are the reference's to every digit."""
    record = results(run_dir)
    assert record["failed_cells"] == [], record["failed_cells"]
    assert record["complete"] is True
    assert {cell["status"] for cell in record["cells"]} == {"ok"}
    assert set(finished_cell_files(run_dir)) == CELL_IDS
    assert numbers(record) == numbers(reference)
    return record


class SerialRun:
    """One uninterrupted serial ``--threads 1`` run of GRID, started at once and waited for only where it is first
    read: it trains while the test's own runs do (each uses one thread; CI has two cores)."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.driver = Driver([*GRID, "--threads", "1", "--out", run_dir], run_dir.parent)
        self._checked = False

    def folder(self) -> Path:
        """The finished run's folder, checked complete and serial: copy it before changing anything in it."""
        if not self._checked:
            try:
                returncode = self.driver.wait()
            finally:
                self.driver.end()
            assert returncode == 0, self.driver.stderr[-3000:]
            record = results(self.run_dir)
            assert record["complete"] and len(record["cells"]) == len(CELL_IDS), record.get("failed_cells")
            assert record["execution"]["mode"] == "serial" and record["execution"]["threads_per_cell"] == 1
            self._checked = True
        return self.run_dir

    def results(self) -> dict:
        return results(self.folder())


_serial_runs: dict[tuple, SerialRun] = {}


def serial_run(tmp_path_factory) -> SerialRun:
    """The test session's one SerialRun of GRID (test_ray_cluster.py shares it), started at the first call."""
    key = tuple(GRID)
    if key not in _serial_runs:
        _serial_runs[key] = SerialRun(tmp_path_factory.mktemp("serial") / "run")
    return _serial_runs[key]


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> SerialRun:
    run = serial_run(tmp_path_factory)
    yield run
    if run.driver.process.poll() is None:  # no test here read it (skipped, failed early): a later module starts anew
        run.driver.end()
        _serial_runs.clear()


# -- the driver killed or interrupted -------------------------------------------------------------------------------


def test_driver_killed_then_resumed_retrains_exactly_the_missing_cells(tmp_path, serial):
    run_dir = tmp_path / "run"
    driver = Driver([*GRID, "--threads", "1", "--out", run_dir], tmp_path)
    try:
        wait_until(lambda: finished_cell_files(run_dir), driver, "finished cell file")
        os.kill(driver.pid, signal.SIGKILL)
        assert driver.wait(30) == -signal.SIGKILL
    finally:
        driver.end()
    before = cells_on_disk(run_dir)
    assert 1 <= len(before) < len(CELL_IDS), f"the kill was not mid-run: {len(before)} cells were finished"
    assert {pid for _, pid in before.values()} == {driver.pid}  # serial: trained in the driver itself

    resumed = run_to_end(["--resume", run_dir, "--threads", "1", "--no-report"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = cells_on_disk(run_dir)
    assert set(after) == CELL_IDS
    assert {stem: after[stem] for stem in before} == before  # same files, same trainer: not one was retrained
    assert {pid for stem, (_, pid) in after.items() if stem not in before} == {resumed.pid}
    assert_complete_and_equal(run_dir, serial.results())


def test_interrupted_driver_says_how_to_resume_and_leaves_no_temporary_file(tmp_path):
    # SIGTERM (kill, a batch scheduler) and SIGINT (Ctrl-C), each to a driver of its own; the two run side by side
    run_dirs = {signum: tmp_path / signum.name / "run" for signum in (signal.SIGTERM, signal.SIGINT)}
    drivers = {signum: Driver([*GRID, "--threads", "1", "--out", run_dir], run_dir.parent)
               for signum, run_dir in run_dirs.items()}  # fmt: skip
    try:
        for signum, run_dir in run_dirs.items():
            wait_until(functools.partial(finished_cell_files, run_dir), drivers[signum], "finished cell file")
            os.kill(drivers[signum].pid, signum)
        returncodes = {signum: driver.wait(60) for signum, driver in drivers.items()}
    finally:
        for driver in drivers.values():
            driver.end()
    for signum, run_dir in run_dirs.items():
        driver, returncode = drivers[signum], returncodes[signum]
        finished = cells_on_disk(run_dir)
        assert len(finished) < len(CELL_IDS), f"{signum.name} came after the last cell; the grid is too short"
        assert returncode > 0, f"exit {returncode}: the driver died of {signum.name} instead of handling it"
        assert f"--resume {run_dir}" in driver.stderr
        assert "Traceback" not in driver.stderr, driver.stderr[-3000:]
        assert temporary_files(run_dir) == []
        record = results(run_dir)  # what was saved is whole: the summary parses and lists exactly the finished cells
        assert record["complete"] is False
        assert {cell["status"] for cell in record["cells"]} == {"ok"} and len(record["cells"]) == len(finished)
        for stem in finished:
            assert (run_dir / "models" / f"{stem}.keras").is_file()


# -- workers killed -------------------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from every thread's /proc children list)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(word) for word in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = children(frontier.pop())
        found += kids
        frontier += kids
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of ``pid`` in clock ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def busiest(pids: list[int], seconds: float = 0.3) -> int:
    """The pid that used the most CPU over the next ``seconds``: the one training a cell."""
    start = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    return max(pids, key=lambda pid: cpu_ticks(pid) - start[pid])


def pool_workers(driver_pid: int) -> list[int]:
    """The driver's spawned pool workers (not multiprocessing's resource tracker, its other spawned child)."""
    return [pid for pid in children(driver_pid)
            if "spawn_main" in command_line(pid) and "resource_tracker" not in command_line(pid)]  # fmt: skip


def process_state(pid: int) -> str:
    """The one-letter state of ``pid`` ("R", "S", "Z" for a zombie ...), or "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


class _TimingMissed(Exception):
    """The kill did not land where the scenario needs it (the test's timing, not the product): try again."""


def _kill_one_busy_worker(run_dir: Path, tmp_path: Path):
    """Run the grid with two workers and SIGKILL one mid-cell while the other waits on the driver.

    Returns (driver, its return code, the pool's first workers, the cells on disk at the kill).
    Raises _TimingMissed when the moment could not be made (a worker mid-cell with cells still to come).
    """
    driver = Driver([*GRID, "--workers", "2", "--threads", "1", "--out", run_dir], tmp_path)
    try:
        wait_until(lambda: finished_cell_files(run_dir), driver, "finished cell file")
        workers = wait_until(lambda: (found := pool_workers(driver.pid)) and len(found) == 2 and found, driver,
                             "two pool workers")  # fmt: skip
        # Hold the driver (as a slow disk would) and one worker mid-cell until the other has finished its cell and
        # waits to hand it over, then kill the held one: the pool breaks just as the driver goes on to save one cell
        # and submit the next, the moment a runner that guards only the results, not the submissions, gets wrong.
        # Two equal cells started together end together, so the held worker makes the moment; it does not happen
        # by itself.
        os.kill(driver.pid, signal.SIGSTOP)
        victim = None
        try:
            deadline = time.monotonic() + 60
            while victim is None and time.monotonic() < deadline:
                start = {pid: cpu_ticks(pid) for pid in workers}
                time.sleep(0.25)
                busy = [pid for pid in workers if cpu_ticks(pid) > start[pid]]
                if busy:
                    victim = max(busy, key=lambda pid: cpu_ticks(pid) - start[pid])
                    os.kill(victim, signal.SIGSTOP)
                else:  # both are waiting for the driver: let it hand out the next cells, then hold it again
                    os.kill(driver.pid, signal.SIGCONT)
                    time.sleep(0.05)
                    os.kill(driver.pid, signal.SIGSTOP)
            other, other_waits = next(pid for pid in workers if pid != victim), False
            # until the other worker waits for the driver
            while victim is not None and not other_waits and time.monotonic() < deadline:
                start = cpu_ticks(other)
                time.sleep(0.25)
                other_waits = cpu_ticks(other) == start
            at_kill = cells_on_disk(run_dir)
            if not other_waits or len(at_kill) >= len(CELL_IDS) - 1:
                raise _TimingMissed(f"held worker {victim} of {workers}, the other waiting: {other_waits}, "
                                    f"{len(at_kill)} cells on disk")  # fmt: skip
            os.kill(victim, signal.SIGKILL)
            while process_state(victim) not in ("Z", "") and time.monotonic() < deadline:
                time.sleep(POLL)
        finally:
            os.kill(driver.pid, signal.SIGCONT)
            if victim is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGCONT)
        return driver, driver.wait(), workers, at_kill
    finally:
        driver.end()


def test_worker_process_killed_mid_cell_its_cells_are_trained_again(tmp_path, serial):
    reference = serial.results()  # finished first: the kill's timing reads the workers' CPU use alone
    missed = []
    for attempt in range(3):  # the kill must land mid-cell with cells still to come; a missed moment is retried
        run_dir = tmp_path / f"run{attempt}"
        try:
            driver, returncode, workers, at_kill = _kill_one_busy_worker(run_dir, tmp_path)
            break
        except _TimingMissed as error:
            missed.append(str(error))
    else:
        pytest.fail(f"could not kill a worker mid-cell in 3 tries: {missed}")
    assert returncode == 0, driver.stderr[-3000:]
    record = assert_complete_and_equal(run_dir, reference)
    trainers = {cell["ran_on"]["pid"] for cell in record["cells"]}
    assert driver.pid not in trainers  # every cell ran in a worker process
    assert trainers - set(workers), "no cell was trained by a replacement worker after the kill"
    assert record["execution"]["mode"] == "workers" and record["execution"]["threads_per_cell"] == 1


def ray_environment(temp_root: str) -> dict:
    """For a private Ray on this machine: its files under ``temp_root`` (short: Ray's socket paths are limited to
    ~107 characters), a token of its own (so ~/.ray/auth_token is neither read nor written), no usage report."""
    return cli_environment(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_TMPDIR=temp_root, RAY_USAGE_STATS_ENABLED="0",
                           RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))  # fmt: skip


def test_ray_worker_killed_mid_task_its_cell_is_retried(tmp_path, serial):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'spatiallab[ray]')")
    reference = serial.results()  # finished first: the busiest Ray worker is the one training a cell
    run_dir = tmp_path / "run"
    temp_root = tempfile.mkdtemp(prefix="slray", dir="/tmp")
    driver = Driver([*GRID, "--threads", "1", "--out", run_dir, "--ray"], tmp_path, ray_environment(temp_root))
    ray_processes: dict[int, str] = {}
    try:
        wait_until(lambda: finished_cell_files(run_dir), driver, "finished cell file")

        def task_processes():
            return [pid for pid in descendants(driver.pid) if command_line(pid).startswith("ray::execute_cell")]

        victim = busiest(wait_until(task_processes, driver, "Ray worker running execute_cell", timeout=60))
        at_kill = cells_on_disk(run_dir)
        ray_processes.update({pid: command_line(pid) for pid in descendants(driver.pid)})
        os.kill(victim, signal.SIGKILL)
        returncode = driver.wait()
    finally:
        driver.end()
        for pid, started_as in ray_processes.items():  # any that left the driver's process group
            if command_line(pid) == started_as:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp_root, ignore_errors=True)
    assert len(at_kill) < len(CELL_IDS), "the Ray worker was killed after the last cell; the grid is too short"
    assert returncode == 0, driver.stderr[-3000:]
    record = assert_complete_and_equal(run_dir, reference)
    assert all(cell["ran_on"].get("node_id") for cell in record["cells"])
    assert record["execution"]["mode"] == "ray" and record["execution"]["ray_address"] == "local"


# -- resume and overwrite: what the folder holds decides ------------------------------------------------------------


def test_resume_refuses_a_contradicting_command_line_and_changes_nothing(tmp_path, serial):
    run_dir = tmp_path / "run"
    shutil.copytree(serial.folder(), run_dir)
    before = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}
    refused = run_to_end(["--resume", run_dir, "--epochs", "5"], tmp_path)
    assert refused.returncode != 0
    assert re.search(r"epochs\W.*\b2\b.*\b5\b", refused.stderr), refused.stderr[-3000:]
    assert "Traceback" not in refused.stderr
    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == before


def test_resume_of_a_folder_without_a_run_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "absent"):
        refused = run_to_end(["--resume", folder, "--no-report"], tmp_path, timeout=60)
        assert refused.returncode != 0
        assert str(folder) in refused.stderr and "results.json" in refused.stderr, refused.stderr[-3000:]
        assert "Traceback" not in refused.stderr
    assert list(empty.iterdir()) == [] and not (tmp_path / "absent").exists()


def test_overwrite_removes_what_the_earlier_run_wrote_and_keeps_the_users_files(tmp_path, serial):
    run_dir = tmp_path / "run"
    shutil.copytree(serial.folder(), run_dir)
    (run_dir / "report.html").write_text("<html>stale report</html>")
    (run_dir / "figures").mkdir()
    (run_dir / "figures" / "mnist-sample__dense__shuffled__seed1.png").write_bytes(b"stale figure")
    (run_dir / "notes.txt").write_text("my notes")
    # One cell, seed 0 on original pixels, 1 epoch: the earlier run's file of that cell (2 epochs) is stale too.
    driver = run_to_end(["--models", "dense", "--seeds", "1", "--conditions", "original", "--epochs", "1",
                         "--train-limit", "300", "--test-limit", "100", "--no-report", "--threads", "1",
                         "--out", run_dir, "--overwrite"], tmp_path)  # fmt: skip
    assert driver.returncode == 0, driver.stderr[-3000:]
    only = "mnist-sample__dense__original__seed0"
    assert sorted(path.name for path in (run_dir / "cells").iterdir()) == [f"{only}.json"]
    assert sorted(path.name for path in (run_dir / "models").iterdir()) == [f"{only}.keras"]
    assert not (run_dir / "report.html").exists() and not (run_dir / "figures").exists()
    assert (run_dir / "notes.txt").read_text() == "my notes"
    cell = json.loads((run_dir / "cells" / f"{only}.json").read_text())
    assert cell["epochs"] == 1 and cell["ran_on"]["pid"] == driver.pid  # retrained, not the stale 2-epoch cell
    record = results(run_dir)
    assert record["complete"] and record["config"]["epochs"] == 1 and len(record["cells"]) == 1


# -- folders that cannot be written ---------------------------------------------------------------------------------


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str):
    """A tmpfs of ``size`` at ``path`` (root only; the test is skipped where mounting is refused), always unmounted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        pytest.skip("no mount command here")
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                             check=False, capture_output=True, text=True, timeout=30)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], check=False, capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True, timeout=30)


def assert_clean_folder_error(driver: Driver, folder: Path, root: Path) -> None:
    assert driver.returncode not in (0, None)
    assert "Error:" in driver.stderr and str(folder) in driver.stderr, driver.stderr[-3000:]
    assert "Traceback" not in driver.stderr, driver.stderr[-3000:]
    assert temporary_files(root) == []


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    arguments = [*GRID, "--seeds", "1", "--threads", "1"]
    if os.geteuid() != 0:  # an ordinary user: a parent without write permission
        parent = tmp_path / "locked"
        parent.mkdir()
        parent.chmod(0o500)
        try:
            driver = run_to_end([*arguments, "--out", parent / "run"], tmp_path)
        finally:
            parent.chmod(0o700)
        assert_clean_folder_error(driver, parent / "run", parent)
        return
    with mounted_tmpfs(tmp_path / "mount", "1m") as mount:  # root ignores permissions: a read-only filesystem
        (mount / "locked").mkdir()
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=False, capture_output=True,
                                   text=True, timeout=30)  # fmt: skip
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only: {remounted.stderr.strip()}")
        driver = run_to_end([*arguments, "--out", mount / "locked" / "run"], tmp_path)
        assert_clean_folder_error(driver, mount / "locked" / "run", mount)
        assert list((mount / "locked").iterdir()) == []


def test_full_disk_is_a_clear_error_and_leaves_whole_files(tmp_path):
    with mounted_tmpfs(tmp_path / "mount", "200k") as mount:  # room for the header and samples, not for a model
        run_dir = mount / "run"
        driver = run_to_end([*GRID, "--seeds", "1", "--threads", "1", "--out", run_dir], tmp_path)
        assert_clean_folder_error(driver, run_dir, mount)
        assert "No space left on device" in driver.stderr
        record = results(run_dir)  # the atomic writes kept the last whole results.json
        assert record["complete"] is False and record["cells"] == []
