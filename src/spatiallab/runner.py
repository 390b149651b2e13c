"""Runs an experiment's cells: in this process, in local worker processes, or as Ray tasks. Nothing else knows which.

Every path calls the same ``execute_cell`` with the same thread budget, so a cell's numbers depend only on its
configuration and its thread count: a serial ``--threads 1`` run, ``--workers 2 --threads 1`` and a Ray run with one
CPU per cell agree to every digit on the TensorFlow CPU backend.

- In process (``Execution()``, the default): epoch-level progress; used when the thread budget can still be applied
  here (TensorFlow fixes its thread pools at its first operation), otherwise one worker process is used.
- Worker processes (``workers=N``): a ``ProcessPoolExecutor`` (spawn) whose workers get the data once; a worker
  that dies (killed, out of memory) takes only its cells down: they are submitted again, at most ``MAX_ATTEMPTS``
  times each.
- Ray (``ray_address="local"`` or ``"HOST:PORT"``): one task per cell with ``num_cpus=threads`` and the same
  thread variables; Ray retries a task whose worker died; results and model files travel back to the driver, which
  writes them, so the nodes need no shared filesystem.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import socket
import traceback
from collections.abc import Callable

MAX_ATTEMPTS = 3  # tries per cell when its worker process dies


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclasses.dataclass
class Execution:
    """Where and how cells run.

    Attributes:
        workers: cells trained at once in separate processes (1: one at a time).
        threads: CPU threads per cell; None: the backend's default for one worker, else cores // workers.
        ray_address: None (no Ray), "local" (a private single-node Ray instance on 127.0.0.1) or the address of
            a running cluster ("HOST:PORT", from ``ray start --head``).
        ray_cpus: CPUs of the private local Ray instance (default: the cores available here).
    """

    workers: int = 1
    threads: int | None = None
    ray_address: str | None = None
    ray_cpus: int | None = None

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1; got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1; got {self.threads}")

    @property
    def cell_threads(self) -> int | None:
        """The per-cell thread budget actually applied."""
        if self.threads is not None:
            return self.threads
        if self.ray_address is not None or self.workers > 1:
            return max(1, available_cores() // self.workers) if self.ray_address is None else 1
        return None

    def describe(self) -> dict:
        """A JSON-ready record of this choice (stored in results.json)."""
        mode = "ray" if self.ray_address is not None else ("workers" if self.workers > 1 else "serial")
        return {"mode": mode, "workers": self.workers, "threads_per_cell": self.cell_threads,
                "ray_address": self.ray_address, "cores": available_cores()}  # fmt: skip


@dataclasses.dataclass
class CellOutput:
    """What ``Experiment.run_cell`` returns: the cell's JSON-ready result and, optionally, its trained model."""

    result: dict
    model_bytes: bytes | None = None


class RunProgress:
    """Receives progress events; the default ignores them (the CLI and the web lab subclass it).

    ``epoch_ended`` arrives only for cells trained in this process.
    """

    def start(self, total_cells: int, already_done: int) -> None: ...

    def cell_started(self, key: dict) -> None: ...

    def epoch_ended(self, key: dict, epoch: int, logs: dict) -> None: ...

    def cell_finished(self, key: dict, cell: dict) -> None: ...

    def stop(self) -> None: ...


def _ran_on() -> dict:
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    try:
        import ray

        if ray.is_initialized():
            where["node_id"] = ray.get_runtime_context().get_node_id()
    except ImportError:
        pass
    return where


def execute_cell(experiment, key: dict, payload: dict, threads: int | None, on_epoch_end=None) -> dict:
    """Train one cell here, under a budget of ``threads`` CPU threads; never raises for a failing cell.

    Returns:
        {"key", "cell": the result dict with "status" ("ok" or "failed"), "reason" when failed, "threads" and
        "ran_on" (host, pid and, under Ray, node_id); "model_bytes": the Keras file or None}.

    Raises:
        training.ThreadBudgetError: the budget cannot be applied in this process (the runner then uses a worker).
    """
    from spatiallab import training

    thread_record = training.apply_thread_budget(threads)
    try:
        output = experiment.run_cell(key, payload, on_epoch_end)
        cell = {**key, "status": "ok", **output.result}
        model_bytes = output.model_bytes
    except (ArithmeticError, ValueError, RuntimeError, MemoryError) as error:
        cell = {**key, "status": "failed", "reason": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=8)}  # fmt: skip
        model_bytes = None
    cell.update(threads=thread_record, ran_on=_ran_on())
    return {"key": key, "cell": cell, "model_bytes": model_bytes}


# -- worker processes ---------------------------------------------------------------------------------------------

_worker_state: dict = {}


def _init_worker(environment: dict, experiment, payload: dict, threads: int | None) -> None:
    os.environ.update(environment)
    _worker_state.update(experiment=experiment, payload=payload, threads=threads)


def _worker_cell(key: dict) -> dict:
    return execute_cell(_worker_state["experiment"], key, _worker_state["payload"], _worker_state["threads"])


def _run_in_workers(experiment, payload, pending, execution, finished, progress, workers: int) -> None:
    from spatiallab import training

    threads = execution.cell_threads
    environment = training.thread_environment(threads)
    attempts = {id(key): 0 for key in pending}
    queue = list(pending)
    while queue:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker,
            initargs=(environment, experiment, payload, threads),
        ) as pool:  # fmt: skip
            in_flight: dict[concurrent.futures.Future, dict] = {}
            broken = False
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < workers:
                    key = queue.pop(0)
                    attempts[id(key)] += 1
                    in_flight[pool.submit(_worker_cell, key)] = key
                    progress.cell_started(key)
                done, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    key = in_flight.pop(future)
                    try:
                        outcome = future.result()
                    except concurrent.futures.process.BrokenProcessPool:
                        broken = True
                        queue.insert(0, key)
                        continue
                    finished(key, outcome["cell"], outcome["model_bytes"])
                    progress.cell_finished(key, outcome["cell"])
            if broken:  # a worker died: every cell it or its siblings were training goes back to the queue
                queue[:0] = list(in_flight.values())
                for key in list(queue):
                    if attempts[id(key)] >= MAX_ATTEMPTS:
                        queue.remove(key)
                        cell = {**key, "status": "failed", "ran_on": None,
                                "reason": f"its worker process died {MAX_ATTEMPTS} times (killed or out of memory)"}
                        finished(key, cell, None)
                        progress.cell_finished(key, cell)


# -- Ray ----------------------------------------------------------------------------------------------------------


def _start_ray(execution: Execution):
    try:
        import ray
    except ImportError:
        raise RuntimeError('--ray needs Ray: pip install "spatiallab[ray]"') from None
    if execution.ray_address == "local":
        # A private single-node instance, kept on loopback; never a cluster named by RAY_ADDRESS.
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        ray.init(address="local", num_cpus=execution.ray_cpus or available_cores(), include_dashboard=False,
                 _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)  # fmt: skip
    else:
        ray.init(address=execution.ray_address, log_to_driver=False, configure_logging=False)
    return ray


def _run_on_ray(experiment, payload, pending, execution, finished, progress) -> None:
    from spatiallab import training

    ray = _start_ray(execution)
    try:
        threads = execution.cell_threads
        task = ray.remote(execute_cell).options(
            num_cpus=threads, max_retries=MAX_ATTEMPTS - 1,
            runtime_env={"env_vars": training.thread_environment(threads)},
        )  # fmt: skip
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
            except ray.exceptions.RayError as error:  # retries exhausted: the worker kept dying
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
