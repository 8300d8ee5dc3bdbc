"""Executors: what carries a study's tasks to where they run and their outcomes back.

Three executors, chosen by name (`EXECUTORS`):
  * `serial`: runs each task in this process, in the order submitted;
  * `processes`: one `python -m planner._study_worker` per core, fed over pipes;
  * `dask`: a `distributed` cluster (an address, a Client, or a local cluster started here).
Each takes tasks with `submit` (never blocks) and hands back `(task, outcome)` pairs with `next`
(blocks until one has finished). They only move tasks and outcomes: every one of them runs
`tasks.execute`, so which executor ran a study does not change its table. A task an executor
loses (a worker died, a pickling error) comes back as a failed outcome, not an exception.
"Backend" in this project means a solver (HiGHS, CBC); these are executors.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from .tasks import Outcome, Task, execute, lost_outcome

EXECUTORS = ("serial", "processes", "dask")


@contextlib.contextmanager
def plain_main() -> Iterator[None]:
    """Start worker processes with a plain `__main__`.

    Dask's nanny starts workers with multiprocessing's spawn, which re-imports the caller's main
    module in every worker: that fails for scripts without a main guard, notebooks, Streamlit, and
    test runners that leave another module as `__main__`. While the workers start, `__main__` is an
    empty module, so nothing of the caller's is re-run.
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


class Executor:
    """Moves tasks to where they run and outcomes back. submit() never blocks; next() blocks
    until some submitted task has finished and returns (task, outcome)."""

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def next(self) -> tuple[Task, Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SerialExecutor(Executor):
    def __init__(self, catalog: Any, specs: dict[str, Any]):
        self.catalog, self.specs = catalog, specs
        self.pending: list[Task] = []

    def submit(self, task: Task) -> None:
        self.pending.append(task)

    def next(self) -> tuple[Task, Outcome]:
        task = self.pending.pop(0)
        return task, execute(task, self.catalog, self.specs)


# ------------------------------------------------------------------ worker processes over pipes
def write_frame(f: Any, obj: Any) -> None:
    """One pickled object, prefixed by its length (a pipe has no message boundaries)."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(len(data).to_bytes(8, "little"))
    f.write(data)
    f.flush()


def read_frame(f: Any) -> Any:
    """The next object written by `write_frame`; EOFError when the other side has gone."""
    head = f.read(8)
    if len(head) < 8:
        raise EOFError("worker closed its pipe")
    n = int.from_bytes(head, "little")
    data = f.read(n)
    if len(data) < n:
        raise EOFError("worker closed its pipe mid-message")
    return pickle.loads(data)  # noqa: S301 - our own worker process


@lru_cache(maxsize=4)
def worker_catalog(catalog_dir: str | None) -> Any:
    """The catalog, loaded once per worker process (Dask workers and planner._study_worker)."""
    from ..catalog import load_catalog

    return load_catalog(catalog_dir)


class ProcessExecutor(Executor):
    """One `python -m planner._study_worker` per core (a fresh interpreter: no fork after HiGHS
    threads exist, no re-import of the caller's __main__). Each worker receives the catalog
    folder and the specs once at start, then tasks one at a time over its stdin (so a free
    worker always takes the next task)."""

    def __init__(self, catalog_dir: str | None, specs: dict[str, Any], workers: int | None = None):
        self.n = max(1, workers or os.cpu_count() or 1)
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self.results: queue.Queue[tuple[Task, Outcome]] = queue.Queue()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.init = ("init", catalog_dir, specs)
        # one feeding thread per worker: each waits on its own worker's answer
        self.threads = [threading.Thread(target=self._feed, daemon=True) for _ in range(self.n)]
        for t in self.threads:
            t.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planner._study_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.procs.append(proc)
        write_frame(proc.stdin, self.init)
        return proc

    def _feed(self) -> None:
        proc: subprocess.Popen[bytes] | None = None
        while True:
            task = self.tasks.get()
            if task is None:
                break
            try:
                if proc is None or proc.poll() is not None:
                    proc = self._spawn()
                write_frame(proc.stdin, task)
                outcome = read_frame(proc.stdout)
            except (EOFError, OSError, pickle.PickleError) as exc:  # a worker died: that task fails
                outcome = lost_outcome(task, f"worker process failed: {type(exc).__name__}: {exc}")
                proc = None
            self.results.put((task, outcome))
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()

    def submit(self, task: Task) -> None:
        self.tasks.put(task)

    def next(self) -> tuple[Task, Outcome]:
        return self.results.get()

    def close(self) -> None:
        for _ in self.threads:
            self.tasks.put(None)
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    if p.stdin is not None:
                        p.stdin.close()
                    p.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    p.kill()
                    p.wait()
            for f in (p.stdin, p.stdout):
                if f is not None and not f.closed:
                    f.close()


# ------------------------------------------------------------------------------------- Dask
def _dask_execute(task: Task, specs: dict[str, Any], catalog_dir: str | None) -> Outcome:
    return execute(task, worker_catalog(catalog_dir), specs)


class DaskExecutor(Executor):
    """Dask distributed: `scheduler` is an address (tcp://host:8786), a distributed.Client, or
    "local-cluster" (a LocalCluster on loopback, one single-threaded worker per core).
    Specs are scattered to every worker once; each worker loads the catalog once (cached).
    """

    def __init__(
        self,
        catalog_dir: str | None,
        specs: dict[str, Any],
        scheduler: Any,
        workers: int | None = None,
    ):
        from distributed import Client, LocalCluster, as_completed

        self.cluster = None
        self.own_client = True
        if scheduler is None or scheduler == "local-cluster":
            with plain_main():
                self.cluster = LocalCluster(
                    n_workers=max(1, workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            self.client = Client(self.cluster)
        elif isinstance(scheduler, str):
            self.client = Client(scheduler)
        else:
            self.client, self.own_client = scheduler, False
        self.catalog_dir = catalog_dir
        self.specs = self.client.scatter(specs, broadcast=True, hash=False)
        self.futures = as_completed([], with_results=False)
        self.tasks: dict[str, Task] = {}

    def submit(self, task: Task) -> None:
        fut = self.client.submit(
            _dask_execute,
            task,
            self.specs,
            self.catalog_dir,
            pure=False,
            # unique even when a resumed or repeated study submits the same task again
            key=f"study-{task.kind}-{task.key}-{time.monotonic_ns()}",
        )
        self.tasks[str(fut.key)] = task
        self.futures.add(fut)

    def next(self) -> tuple[Task, Outcome]:
        fut = next(self.futures)
        task = self.tasks.pop(str(fut.key))
        try:
            outcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - a worker lost or a pickling failure
            outcome = lost_outcome(task, f"dask: {type(exc).__name__}: {exc}")
        fut.release()
        return task, outcome

    def close(self) -> None:
        try:
            if self.own_client:
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def make_executor(
    name: str,
    catalog: Any,
    catalog_dir: str | None,
    specs: dict[str, Any],
    scheduler: Any,
    workers: int | None,
) -> Executor:
    """The executor called `name` (one of EXECUTORS; checked by the caller)."""
    if name == "serial":
        return SerialExecutor(catalog, specs)
    if name == "processes":
        return ProcessExecutor(catalog_dir, specs, workers)
    return DaskExecutor(catalog_dir, specs, scheduler, workers)
