"""Runs an experiment's cells: in this process, in local worker processes, or as Ray tasks. Nothing else knows which.

Every path calls the same ``execute_cell`` with the same thread budget, so a cell's numbers depend only on its
configuration and its thread count: a serial ``--threads 1`` run, ``--workers 2 --threads 1`` and a Ray run with one
CPU per cell agree to every digit on the TensorFlow CPU backend. Worker processes and Ray tasks start with this
process's ``KERAS_BACKEND``, so every cell trains on the backend the run records. (JAX has no thread setting: its
cells use every core their process may use, see ``training.apply_thread_budget``.)

- In process (``Execution()``, the default): epoch-level progress; used when the thread budget can still be applied
  here (TensorFlow fixes its thread pools at its first operation, torch its inter-op pool), otherwise one worker
  process is used.
- Worker processes (``workers=N``): a ``ProcessPoolExecutor`` (spawn) whose workers get the data once and start
  with the thread variables set; a worker that dies (killed, out of memory) breaks its pool, so the cells in flight
  are trained again one at a time, and a cell whose own worker dies ``MAX_ATTEMPTS`` times is recorded as failed.
- Ray (``ray_address="local"`` or ``"HOST:PORT"``): one task per cell with ``num_cpus=threads`` and the same
  thread variables; Ray retries a task whose worker died; results and model files travel back to the driver, which
  writes them, so the nodes need no shared filesystem.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import os
import socket
import sys
import traceback
from collections.abc import Callable

MAX_ATTEMPTS = 3  # tries per cell when its worker process dies
# ``workers="auto"`` (``choose_workers``): worker processes only for cells big enough to pay a worker's start-up (a
# backend import and the data's transfer, about 4 s): a cell's data (bytes of its arrays) times its epochs at least
# this. The bundled sample's default run (10 MB x 3 epochs) is above it; a test's few hundred images are far below.
AUTO_MIN_CELL_WORK = 20_000_000
# The memory a worker process needs, estimated: the backend and the model, plus this many times the data's bytes (its
# float32 copies, permuted copies and the backend's buffers; measured: about 1.8 GB per worker for full MNIST).
WORKER_BASE_BYTES = 900 * 2**20
WORKER_DATA_FACTOR = 16


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux's MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def array_bytes(payload) -> int:
    """The bytes of the NumPy arrays in ``payload`` (dicts, lists, tuples and dataclasses such as ``data.Dataset``
    searched through): what every worker process receives, without copying it."""
    import numpy as np

    if isinstance(payload, np.ndarray):
        return payload.nbytes
    if isinstance(payload, dict):
        return sum(array_bytes(value) for value in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(array_bytes(value) for value in payload)
    if dataclasses.is_dataclass(payload) and not isinstance(payload, type):
        return sum(array_bytes(getattr(payload, field.name)) for field in dataclasses.fields(payload))
    return 0


def choose_workers(cells: int, data_bytes: int, epochs: int, backend: str, cores: int,
                   memory: int | None) -> tuple[int, str]:  # fmt: skip
    """How many cells ``workers="auto"`` trains at once, and why.

    One worker process per core, each cell with one thread (two 1-thread cells on two cores trained the full-MNIST
    grid faster than one 2-thread cell at a time: benchmarks/RESULTS.md, "Speed"), unless: the backend cannot be
    given a thread budget (JAX: each cell would use every core), there is one core or one cell, the cells are too
    small to pay a worker's start-up (``data_bytes * epochs < AUTO_MIN_CELL_WORK``), or the memory available holds
    fewer workers (``WORKER_BASE_BYTES + WORKER_DATA_FACTOR * data_bytes`` each; ``memory`` None: not checked).

    Args:
        cells: cells to train. data_bytes: the size of the data every worker receives (``array_bytes`` of the
        experiment's payload). epochs: epochs per cell. backend: the Keras backend's name. cores: ``available_cores()``.
        memory: ``available_memory()``.

    Returns:
        (workers >= 1, the reason, starting "auto: ").
    """
    if backend == "jax":
        return 1, "auto: one cell at a time: JAX takes no thread budget, so each cell uses every core"
    if cores < 2 or cells < 2:
        return 1, f"auto: one cell at a time: {cores} core(s), {cells} cell(s)"
    if data_bytes * epochs < AUTO_MIN_CELL_WORK:
        return 1, (f"auto: one cell at a time: cells this small ({data_bytes / 1e6:.1f} MB of data x {epochs} "
                   f"epoch(s)) train faster than a worker process starts")  # fmt: skip
    workers = min(cores, cells)
    per_worker = WORKER_BASE_BYTES + WORKER_DATA_FACTOR * data_bytes
    if memory is not None and memory // per_worker < workers:
        fits = max(1, memory // per_worker)
        return fits, (f"auto: {fits} cell(s) at a time: {memory / 2**30:.1f} GiB of memory available, about "
                      f"{per_worker / 2**30:.1f} GiB per worker process")  # fmt: skip
    return workers, (f"auto: {workers} cells at a time in worker processes, 1 thread each ({cores} cores; cells "
                     f"of {data_bytes / 1e6:.0f} MB of data x {epochs} epoch(s))")  # fmt: skip


@dataclasses.dataclass
class Execution:
    """Where and how cells run.

    Attributes:
        workers: cells trained at once in separate processes (1: one at a time), or "auto" (``choose_workers``,
            settled by ``resolved`` once the data are loaded; the command line's default).
        threads: CPU threads per cell; None: the backend's default for one worker, else cores // workers.
        ray_address: None (no Ray), "local" (a private single-node Ray instance on 127.0.0.1) or the address of
            a running cluster ("HOST:PORT", from ``ray start --head``).
        ray_cpus: CPUs of the private local Ray instance (default: the cores available here).
    """

    workers: int | str = 1
    threads: int | None = None
    ray_address: str | None = None
    ray_cpus: int | None = None
    reason: str | None = None  # why ``resolved`` chose its number of workers (None: given)

    def __post_init__(self):
        if self.workers != "auto" and (not isinstance(self.workers, int) or self.workers < 1):
            raise ValueError(f"workers must be >= 1 or 'auto'; got {self.workers!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1; got {self.threads}")

    def resolved(self, experiment, payload: dict, cells: int) -> "Execution":
        """This execution with ``workers="auto"`` settled by ``choose_workers`` for ``cells`` cells of
        ``experiment`` (its configuration's epochs) on ``payload``; itself when workers is a number or Ray runs the
        cells (Ray places them). The choice and its reason go into results.json (``describe``)."""
        import keras

        if self.workers != "auto":
            return self
        if self.ray_address is not None:
            return dataclasses.replace(self, workers=1, reason="auto: Ray places the cells")
        data_bytes = array_bytes(payload)
        workers, reason = choose_workers(cells, data_bytes, getattr(experiment.config, "epochs", None) or 1,
                                         keras.backend.backend(), available_cores(), available_memory())  # fmt: skip
        return dataclasses.replace(self, workers=workers, reason=reason)

    @property
    def cell_threads(self) -> int | None:
        """The per-cell thread budget actually applied (``workers`` settled: see ``resolved``)."""
        if self.threads is not None:
            return self.threads
        if self.ray_address is not None or self.workers > 1:
            return max(1, available_cores() // self.workers) if self.ray_address is None else 1
        return None

    def describe(self) -> dict:
        """A JSON-ready record of this choice (stored in results.json)."""
        mode = "ray" if self.ray_address is not None else ("workers" if self.workers > 1 else "serial")
        described = {"mode": mode, "workers": self.workers, "threads_per_cell": self.cell_threads,
                     "ray_address": self.ray_address, "cores": available_cores()}  # fmt: skip
        return {**described, "reason": self.reason} if self.reason else described


@dataclasses.dataclass
class CellOutput:
    """What ``Experiment.run_cell`` returns: the cell's JSON-ready result and, optionally, its trained model."""

    result: dict
    model_bytes: bytes | None = None


class RunProgress:
    """Receives progress events; the default ignores them (the CLI and the web lab subclass it).

    ``epoch_ended`` arrives only for cells trained in this process.
    """

    def precision_chosen(self, choice: dict) -> None:
        """Once the data are loaded, before any cell: the precision the cells train in and why
        (``training.choose_precision``'s ``{"requested", "used", "reason"}``; a resumed run's own choice)."""

    def execution_chosen(self, described: dict) -> None:
        """Once the data are loaded, before any cell: where the cells run (``Execution.describe()``; its "reason"
        says what ``workers="auto"`` chose and why)."""

    def start(self, total_cells: int, already_done: int) -> None: ...

    def cell_started(self, key: dict) -> None: ...

    def epoch_ended(self, key: dict, epoch: int, logs: dict) -> None: ...

    def cell_finished(self, key: dict, cell: dict) -> None: ...

    def stop(self) -> None: ...


def _ran_on() -> dict:
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    ray = sys.modules.get("ray")  # only a process that Ray started has it imported; never import it here
    if ray is not None and ray.is_initialized():
        where["node_id"] = ray.get_runtime_context().get_node_id()
    return where


def execute_cell(experiment, key: dict, payload: dict, threads: int | None, on_epoch_end=None) -> dict:
    """Train one cell here, under a budget of ``threads`` CPU threads. A cell that fails (an exception from the
    backend, a NaN loss, a file that cannot be written) is returned as failed with its reason, wherever it runs.

    Returns:
        {"key", "cell": the result dict with "status" ("ok" or "failed"), "reason" when failed, "threads" and
        "ran_on" (host, pid and, under Ray, node_id); "model_bytes": the Keras file or None}.

    Raises:
        training.ThreadBudgetError: the budget cannot be applied in this process (the runner then uses a worker).
        KeyboardInterrupt, SystemExit: the run was interrupted.
    """
    from spatiallab import training

    thread_record = training.apply_thread_budget(threads)
    try:
        output = experiment.run_cell(key, payload, on_epoch_end)
        cell = {**key, "status": "ok", **output.result}
        model_bytes = output.model_bytes
    except Exception as error:  # noqa: BLE001 (any failure of one cell is that cell's, recorded with its reason)
        cell = {**key, "status": "failed", "reason": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=8)}  # fmt: skip
        model_bytes = None
    cell.update(threads=thread_record, ran_on=_ran_on())
    return {"key": key, "cell": cell, "model_bytes": model_bytes}


# -- worker processes ---------------------------------------------------------------------------------------------

_worker_state: dict = {}


def _init_worker(experiment, payload: dict, threads: int | None) -> None:
    _worker_state.update(experiment=experiment, payload=payload, threads=threads)


def _worker_cell(key: dict) -> dict:
    return execute_cell(_worker_state["experiment"], key, _worker_state["payload"], _worker_state["threads"])


def _cell_environment(threads: int | None) -> dict[str, str]:
    """The environment a cell's new process (worker or Ray task) starts with: this process's Keras backend, so every
    cell trains on the backend the run records (a Ray node may default to another), and the thread budget."""
    import keras

    from spatiallab import training

    return {"KERAS_BACKEND": keras.backend.backend(), **training.thread_environment(threads)}


@contextlib.contextmanager
def _environment(variables: dict[str, str]):
    """``os.environ`` with ``variables`` set while the block runs (worker processes started then inherit them before
    any of their imports), as it was afterwards."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop a pool now: pending cells are cancelled and running workers terminated (their cells are lost, and a
    resumed run trains them again)."""
    processes = list(getattr(pool, "_processes", {}).values())  # the executor has no public way to terminate them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _pool_round(experiment, payload, batch: list[dict], width: int, threads, finished,
                progress) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Train ``batch`` in a fresh pool of ``width`` workers, recording each cell that finishes.

    Returns:
        (cells that were in flight when a worker died, cells not yet started then); both empty when all finished.
    """
    queue, in_flight, lost = list(batch), {}, []
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=width, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
        initargs=(experiment, payload, threads),
    )  # fmt: skip
    try:
        while queue or in_flight:
            while queue and len(in_flight) < width:
                try:
                    future = pool.submit(_worker_cell, queue[0])
                except concurrent.futures.process.BrokenProcessPool:  # a worker died after the last wait()
                    return list(in_flight.values()), queue
                in_flight[future] = queue.pop(0)
                progress.cell_started(in_flight[future])
            done, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                key = in_flight.pop(future)
                if isinstance(future.exception(), concurrent.futures.process.BrokenProcessPool):
                    lost.append(key)
                    continue
                outcome = future.result()
                finished(key, outcome["cell"], outcome["model_bytes"])
                progress.cell_finished(key, outcome["cell"])
            if lost:  # every other cell in flight dies with the pool; keep those that finished meanwhile
                for future, key in list(in_flight.items()):
                    if future.done() and future.exception() is None:
                        outcome = future.result()
                        finished(key, outcome["cell"], outcome["model_bytes"])
                        progress.cell_finished(key, outcome["cell"])
                    else:
                        lost.append(key)
                return lost, queue
        return [], []
    finally:
        _stop_pool(pool)


def _run_in_workers(experiment, payload, pending, execution, finished, progress, workers: int) -> None:
    """Worker processes. When one dies, its pool dies with it and every cell in flight is lost; the runner cannot
    tell which cell killed it, so those cells are then trained one at a time (a death there is that cell's own) and
    only such a death counts against the cell's ``MAX_ATTEMPTS``; the others resume in parallel."""
    threads = execution.cell_threads
    deaths = {id(key): 0 for key in pending}
    queue, suspects = list(pending), []
    with _environment(_cell_environment(threads)):
        while queue or suspects:
            if suspects:
                key = suspects.pop(0)
                if _pool_round(experiment, payload, [key], 1, threads, finished, progress)[0]:
                    deaths[id(key)] += 1
                    if deaths[id(key)] < MAX_ATTEMPTS:
                        suspects.insert(0, key)
                    else:
                        cell = {**key, "status": "failed", "ran_on": None,
                                "reason": f"its worker process died {MAX_ATTEMPTS} times (killed, out of memory, "
                                          f"or it could not start)"}  # fmt: skip
                        finished(key, cell, None)
                        progress.cell_finished(key, cell)
                continue
            lost, queue = _pool_round(experiment, payload, queue, workers, threads, finished, progress)
            suspects += lost  # cells never started in the broken pool stay in the parallel queue


# -- Ray ----------------------------------------------------------------------------------------------------------


def _start_ray(execution: Execution):
    try:
        import ray
    except ImportError:
        raise RuntimeError('--ray needs Ray: pip install "spatiallab[ray]"') from None
    if execution.ray_address == "local":
        # A private single-node instance, kept on loopback (Ray binds a single node to the machine's network address
        # unless this variable is 0 when it starts); never a cluster named by RAY_ADDRESS. The variable is set only
        # while Ray starts: a worker node started later with it refuses to join a multi-node cluster.
        previous = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        try:
            ray.init(address="local", num_cpus=execution.ray_cpus or available_cores(), include_dashboard=False,
                     _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)  # fmt: skip
        finally:
            if previous is None:
                os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
            else:
                os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = previous
        return ray
    try:
        ray.init(address=execution.ray_address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError) as error:
        raise RuntimeError(
            f"--ray {execution.ray_address}: cannot connect to that Ray cluster ({error}). Check that `ray start "
            f"--head` runs there and the port is reachable; a cluster with token authentication (Ray turns it on "
            f"once ~/.ray/auth_token exists) also needs RAY_AUTH_MODE=token in this command's environment"
        ) from None
    return ray


def _run_on_ray(experiment, payload, pending, execution, finished, progress) -> None:
    ray = _start_ray(execution)
    try:
        threads = execution.cell_threads
        task = ray.remote(execute_cell).options(
            num_cpus=threads, max_retries=MAX_ATTEMPTS - 1,
            runtime_env={"env_vars": _cell_environment(threads)},
        )  # fmt: skip
        largest = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node.get("Alive")), default=0)
        if threads > largest:
            raise RuntimeError(f"--threads {threads}: no node of the Ray cluster has that many CPUs (the largest has "
                               f"{largest:g}); a cell could never start")  # fmt: skip
        payload_ref = ray.put(payload)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // threads))
        queue, in_flight = list(pending), {}
        while queue or in_flight:
            while queue and len(in_flight) < slots:
                key = queue.pop(0)
                in_flight[task.remote(experiment, key, payload_ref, threads)] = key
                progress.cell_started(key)
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            key = in_flight.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
                cell, model_bytes = outcome["cell"], outcome["model_bytes"]
            except ray.exceptions.RayError as error:  # the task's worker or node kept dying (retries exhausted)
                cell = {**key, "status": "failed", "ran_on": None, "reason": f"Ray task failed: {error}"}
                model_bytes = None
            finished(key, cell, model_bytes)
            progress.cell_finished(key, cell)
    finally:
        ray.shutdown()


# -- in this process ----------------------------------------------------------------------------------------------


def _run_here(experiment, payload, pending, execution, finished, progress) -> bool:
    """Train the cells in this process; False (nothing run) when the thread budget cannot be applied here."""
    from spatiallab import training

    for index, key in enumerate(pending):
        progress.cell_started(key)
        try:
            outcome = execute_cell(experiment, key, payload, execution.cell_threads,
                                   on_epoch_end=lambda epoch, logs, key=key: progress.epoch_ended(key, epoch, logs))
        except training.ThreadBudgetError:
            if index == 0:
                return False
            raise
        finished(key, outcome["cell"], outcome["model_bytes"])
        progress.cell_finished(key, outcome["cell"])
    return True


def run_cells(
    experiment,
    payload: dict,
    pending: list[dict],
    execution: Execution,
    finished: Callable[[dict, dict, bytes | None], None],
    progress: RunProgress,
) -> None:
    """Train every cell in ``pending`` as ``execution`` says, calling ``finished(key, cell, model_bytes)`` in this
    process as each one ends (in completion order, which may differ from ``pending``'s).

    Raises:
        RuntimeError: ``--ray`` without Ray installed, or Ray could not start or connect.
        Whatever ``finished`` raises (a full disk, say) stops the run; cells already written stay written.
    """
    if not pending:
        return
    if execution.ray_address is not None:
        _run_on_ray(experiment, payload, pending, execution, finished, progress)
    elif execution.workers > 1:
        _run_in_workers(experiment, payload, pending, execution, finished, progress, execution.workers)
    elif not _run_here(experiment, payload, pending, execution, finished, progress):
        _run_in_workers(experiment, payload, pending, execution, finished, progress, 1)
