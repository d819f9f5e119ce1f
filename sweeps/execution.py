"""Execution backends and the sweep driver.

Backends share one small base class, :class:`Executor`, with named hooks (in the style of
dask-jobqueue): ``start()``, ``stop()``, ``submit(fn, *args)``, ``nthreads()`` and
``describe()``.

* :class:`LocalThreads` (the default): an embedded thread pool, no server.  The engine's
  kernels release the GIL, so threads run points in parallel.
* :class:`LocalProcesses`: a :class:`distributed.LocalCluster` of single-threaded worker
  processes on 127.0.0.1.
* :class:`Scheduler`: a running ``dask scheduler`` at ``tcp://HOST:PORT``.
* Batch systems: :mod:`sweeps.cluster` subclasses :class:`DaskExecutor` and implements
  :meth:`DaskExecutor.make_cluster` (e.g. a dask-jobqueue ``SLURMCluster``).

Every Dask worker imports the engine when it starts (:class:`WarmNumbaCaches`, a
:class:`distributed.WorkerPlugin`); each process compiles (or loads from the numba cache) only
the kernels of the layouts its points use, on their first use.

The driver (:func:`run_sweep`) keeps a bounded number of tasks in flight, resubmits tasks lost
with their worker (``retries``), and hands completed results, batch by batch, to its writer
thread (region writes, data before status; see :mod:`sweeps.store`), so submission never
waits for the disk.  Writing in the driver, rather than workers writing their own regions,
keeps one writer per store (no two processes read-modify-write one chunk, the lock covers
all writes, and a crash is handled in one place).  A task returns one columnar
:class:`~sweeps.simulate.PointBatch` (a stacked array per variable, not a dict of small
arrays per point), and the driver handles batches without per-point loops: the writer
thread needs about 0.04 ms of CPU per point of the tiny clustered network (41
variables), the whole driver process about 0.25 ms (``benchmarks/bench_scale.py``), far below
what a point costs its worker.  The experiment is sent to the workers once
(:meth:`Executor.share`: Dask scatters it), not pickled into every task.  A task runs one or more
networks, each built once with all its pending inits (and focus counts); backends with a per-task overhead (``task_seconds > 0``, the Dask ones)
group tiny networks so that a task lasts about ``task_seconds``; results do not depend on it.  Ctrl-C (``KeyboardInterrupt``)
cancels the tasks in flight, writes what has completed and releases the lock, so the store
stays consistent and resumable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import itertools
import logging
import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sweeps.grid import Grid
from sweeps.growth import grow_to
from sweeps.models import experiment_layout
from sweeps.simulate import PointBatch, run_batch, schema_dtypes, schema_variables
from sweeps.store import (
    StoreError,
    StoreLock,
    StoreMismatchError,
    SweepStore,
    software,
    software_changes,
    utc_now,
)

__all__ = [
    "ClientExecutor",
    "DaskExecutor",
    "Executor",
    "LocalProcesses",
    "LocalThreads",
    "RunSummary",
    "Scheduler",
    "WarmNumbaCaches",
    "run_sweep",
]

logger = logging.getLogger(__name__)

#: most networks grouped into one task (points costing nothing: tasks of ~1,000 points)
_MAX_GROUPS_PER_TASK = 1024

#: how often the driver asks the backend for its workers (the in-flight window follows them)
_WINDOW_CHECK_SECONDS = 1.0


class Executor:
    """Base class of execution backends (override the hooks).

    Parameters
    ----------
    window : int, optional
        Maximum number of tasks in flight; default ``max(8, 4 * nthreads())``.
    """

    name = "executor"
    #: Aim for tasks of about this many seconds by grouping points (0: one point per task).
    task_seconds = 0.0

    def __init__(self, window: int | None = None):
        self._window = window

    def start(self) -> None:
        """Hook: acquire resources (pools, clusters, clients)."""

    def stop(self) -> None:
        """Hook: release resources."""

    def submit(self, fn, *args):
        """Hook: run ``fn(*args)`` asynchronously; return a future with ``add_done_callback``."""
        raise NotImplementedError

    def share(self, obj):
        """Hook: ``obj`` as an argument of many tasks, sent to the workers once (default: as is)."""
        return obj

    def nthreads(self) -> int:
        """Hook: total worker threads (used to size the window)."""
        return 1

    def describe(self) -> str:
        """Hook: one line for logs and run records."""
        return self.name

    @property
    def window(self) -> int:
        return self._window or max(8, 4 * self.nthreads())

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class LocalThreads(Executor):
    """An embedded thread pool in the driver process (no server).

    Parameters
    ----------
    threads : int, optional
        Number of threads; default: the number of CPUs available to this process.
    """

    name = "threads"

    def __init__(self, threads: int | None = None, window: int | None = None):
        super().__init__(window)
        self.threads = threads or len(os.sched_getaffinity(0))
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._blas = None

    def start(self) -> None:
        from threadpoolctl import threadpool_limits

        # One BLAS thread per task thread, as in Dask's worker processes (OMP_NUM_THREADS=1):
        # no oversubscription, and the same summation order, so measurements that use BLAS
        # (correlation matrices) are bit-identical on every backend.
        self._blas = threadpool_limits(limits=1)
        self._pool = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="sweeps")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._blas is not None:
            self._blas.restore_original_limits()
            self._blas = None

    def submit(self, fn, *args):
        return self._pool.submit(fn, *args)

    def nthreads(self) -> int:
        return self.threads

    def describe(self) -> str:
        return f"local threads ({self.threads})"


class WarmNumbaCaches:
    """Dask worker plugin: import the engine when a worker starts (or joins); kernels then
    compile or load lazily, per layout, in the first task that uses them."""

    name = "sweeps-warm-numba-caches"

    async def setup(self, worker) -> None:
        await asyncio.to_thread(importlib.import_module, "binnet_core")


def _worker_plugin():
    from distributed.diagnostics.plugin import WorkerPlugin

    class _Plugin(WarmNumbaCaches, WorkerPlugin):
        pass

    return _Plugin()


class DaskExecutor(Executor):
    """Base of Dask backends: a :class:`distributed.Client` on the cluster of :meth:`make_cluster`.

    Subclasses override :meth:`make_cluster` (return a cluster object, or an address string).
    """

    name = "dask"
    task_seconds = 0.25

    def __init__(self, window: int | None = None):
        super().__init__(window)
        self.client = None
        self.cluster = None

    def make_cluster(self):
        """Hook: return a Dask cluster object or a scheduler address."""
        raise NotImplementedError

    def start(self) -> None:
        from distributed import Client

        target = self.make_cluster()
        if not isinstance(target, str):
            self.cluster = target
        self.client = Client(target)
        self.client.register_plugin(_worker_plugin())
        logger.info("%s: dashboard at %s", self.describe(), self.client.dashboard_link)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def share(self, obj):
        """Scatter ``obj`` to every worker once; tasks then get a reference, not a pickled copy
        (workers that join later fetch it from a peer).  Without workers yet (an adaptive
        cluster starting from none) ``obj`` itself, sent with each task: a scatter would wait
        for workers that only the submitted tasks make the cluster ask for."""
        if not self.client.nthreads():
            return obj
        return self.client.scatter(obj, broadcast=True, hash=False)

    def nthreads(self) -> int:
        return max(1, sum(self.client.nthreads().values())) if self.client else 1


class LocalProcesses(DaskExecutor):
    """A :class:`distributed.LocalCluster` of ``processes`` single-threaded workers on 127.0.0.1."""

    name = "processes"

    def __init__(self, processes: int | None = None, window: int | None = None):
        super().__init__(window)
        self.processes = processes or len(os.sched_getaffinity(0))

    def make_cluster(self):
        from distributed import LocalCluster

        return LocalCluster(
            n_workers=self.processes, threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address="127.0.0.1:0",
        )

    def describe(self) -> str:
        return f"local processes ({self.processes})"


class Scheduler(DaskExecutor):
    """A running Dask scheduler, e.g. ``tcp://127.0.0.1:8786``."""

    name = "scheduler"

    def __init__(self, address: str, window: int | None = None):
        super().__init__(window)
        self.address = address

    def make_cluster(self) -> str:
        return self.address

    def describe(self) -> str:
        return f"dask scheduler {self.address}"


class ClientExecutor(DaskExecutor):
    """An existing :class:`distributed.Client`, used as it is (never closed here)."""

    name = "client"

    def __init__(self, client, window: int | None = None):
        super().__init__(window)
        self._given = client

    def start(self) -> None:
        self.client = self._given
        self.client.register_plugin(_worker_plugin())

    def stop(self) -> None:
        self.client = None  # the caller's client and cluster stay as they are

    def describe(self) -> str:
        return f"dask client of {self._given.scheduler.address}"


@dataclass
class RunSummary:
    """What one :func:`run_sweep` call did."""

    store: str
    total: int
    already_ok: int
    executed: int = 0
    ok: int = 0
    failed: int = 0
    interrupted: bool = False
    wall_seconds: float = 0.0
    compute_seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """True if every point of the grid is ok."""
        return self.already_ok + self.ok == self.total

    def __str__(self) -> str:
        """One sentence for people, e.g. ``executed 6 points (6 ok, 0 failed) in 2.1 s; 18/18 ok``."""
        text = (f"executed {self.executed} points ({self.ok} ok, {self.failed} failed) in {self.wall_seconds:.1f} s; "
                f"{self.already_ok + self.ok}/{self.total} ok")
        return text + (" (interrupted)" if self.interrupted else "")


def _open_or_create(path: Path, experiment):
    """The store and the experiment in the store's axis order (a store may grow, see sweeps.growth)."""
    layout = experiment_layout(experiment)
    specs = schema_variables(experiment, layout)
    if Path(path, "zarr.json").exists():
        store = SweepStore.open(path)
        missing = sorted({s.name for s in specs} - set(store.variables))
        if missing:
            raise StoreMismatchError(f"{path} was written by a version without the variables {missing}; "
                                     "use a new store path")
        retired = sorted(set(store.variables) - {s.name for s in specs})
        if retired:
            raise StoreMismatchError(f"{path} was written by a version with the variables {retired}, which "
                                     "this version no longer computes; finish it with that version or use a "
                                     "new store path")
        return grow_to(store, experiment)
    if path.exists() and any(path.iterdir()):
        raise StoreError(f"{path} exists and is not a sweeps store")
    return SweepStore.create(path, experiment, layout, specs), experiment


def run_sweep(
    experiment,
    store: str | Path,
    executor: Executor | None = None,
    *,
    progress: bool = False,
    limit: int | None = None,
    retries: int = 2,
    flush_seconds: float = 2.0,
) -> RunSummary:
    """Run every point of ``experiment`` that is not ok in ``store`` (created if missing).

    Parameters
    ----------
    experiment : Experiment
        A validated definition (:func:`sweeps.load_experiment`).
    store : str or Path
        Zarr store directory.  An existing store must come from the same definition, or from one
        that the new definition only adds axis values or networks/inits to (the store grows).
    executor : Executor, optional
        Backend; default :class:`LocalThreads` with all CPUs.
    progress : bool
        Show a tqdm progress bar with ETA (for interactive use).
    limit : int, optional
        Run at most this many pending points (the rest stays todo).
    retries : int
        Resubmissions of a task whose worker was lost before the point is marked failed.
    flush_seconds : float
        Longest time a completed result waits in memory before it is written.

    Returns
    -------
    RunSummary

    Raises
    ------
    StoreLockedError, StoreMismatchError, StoreError
        If the store is in use, from another definition, or cannot be written.
    """
    path = Path(store)
    executor = executor or LocalThreads()
    started = time.monotonic()
    with StoreLock(path):
        sweep_store, experiment = _open_or_create(path, experiment)
        if experiment.theory is not None:  # theory first: it decides where to look
            from sweeps.theory import write_theory  # xarray and the mean field only when asked

            write_theory(path, experiment)  # (only new points of a grown store are computed)
            sweep_store = SweepStore.open(path)  # with the theory's attribute (else lost on update)
        pending = sweep_store.pending()
        summary = RunSummary(str(path), experiment.n_points, experiment.n_points - len(pending))
        if limit is not None:
            pending = pending[:limit]
        run_record = {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(), "backend": executor.describe(),
                      "started": utc_now(), "finished": None, **software()}
        runs = sweep_store.attrs.get("runs", [])
        before = runs[-1] if runs and "versions" in runs[-1] else sweep_store.attrs
        changes = software_changes(before, run_record)
        if changes:  # results of one store may then come from different code
            run_record["software_changes"] = changes
            logger.warning("%s was last run with other software: %s", path, "; ".join(changes))
        sweep_store.record_run(run_record)
        completed = False
        try:
            if pending:
                with executor:
                    _drive(experiment, sweep_store, executor, pending, summary, progress, retries, flush_seconds)
            completed = True
        except KeyboardInterrupt:
            summary.interrupted = True
            raise
        finally:
            summary.wall_seconds = time.monotonic() - started
            run_record.update(finished=utc_now(), **{k: v for k, v in asdict(summary).items() if k != "store"})
            try:
                sweep_store.record_run(run_record)
            except StoreError as err:
                if completed:
                    raise
                # already failing (e.g. disk full): keep that error, the record is provenance only
                logger.warning("could not record the run in %s: %s", path, err)
            logger.info("run into %s finished: %s", path, summary)
    return summary


class _Writer:
    """The thread that writes completed results, batch by batch, off the driver's loop.

    The driver hands over batches (:meth:`put`; blocks only when ``depth`` batches are
    waiting) and goes on submitting.  Batches are written in order by this one thread (data
    before status, see :meth:`SweepStore.write`); after a failed write nothing more is
    written and :meth:`close` raises the error.
    """

    def __init__(self, store: SweepStore, summary: RunSummary, depth: int = 4):
        self.store, self.summary = store, summary
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._loop, name="sweeps-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (batches := self._queue.get()) is not None:
            if self.error is not None:
                continue  # the batch stays not done (it reruns)
            try:
                batch = PointBatch.concat(batches)
                self.store.write(batch)
            except BaseException as err:  # StoreWriteError, or anything unexpected: stop writing
                self.error = err
                continue
            ok = int(batch.ok.sum())
            self.summary.ok += ok
            self.summary.failed += len(batch) - ok
            self.summary.executed += len(batch)

    def put(self, batches: list[PointBatch]) -> None:
        """Queue ``batches`` (the task results collected since the last call) as one write."""
        if self.error is not None:
            raise self.error
        if batches:
            self._queue.put(batches)

    def close(self) -> None:
        """Write what is queued, stop the thread, raise a write error if one happened."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


def _drive(experiment, store: SweepStore, executor: Executor, pending: list[int], summary: RunSummary,
           progress: bool, retries: int, flush_seconds: float) -> None:
    """Submit ``pending`` with a bounded window; a writer thread writes results as they complete."""
    done: queue.Queue = queue.Queue()
    inflight: dict[Any, tuple[list[int], int]] = {}
    groups = Grid.from_experiment(experiment).network_groups(pending)  # the inits of one network together
    todo = iter(groups)
    group_size = len(pending) / max(len(groups), 1)
    buffer: list[PointBatch] = []  # task results not yet handed to the writer
    buffered = 0  # points in buffer
    flush_points = store.min_chunk_points  # write a whole chunk at once when possible
    last_flush = time.monotonic()
    per_task = 1
    collected = 0
    shared = executor.share(experiment)  # sent to the workers once, not with every task

    def submit(indices: list[int], attempt: int) -> None:
        future = executor.submit(run_batch, shared, indices)
        inflight[future] = (indices, attempt)
        future.add_done_callback(done.put)

    def submit_next() -> bool:
        indices = [i for group in itertools.islice(todo, per_task) for i in group]
        if indices:
            submit(indices, 0)
        return bool(indices)

    window, window_checked = executor.window, time.monotonic()

    def refill() -> None:
        """Keep ``window`` tasks in flight; the window follows the workers present (adaptive)."""
        nonlocal window, window_checked, shared
        if time.monotonic() - window_checked >= _WINDOW_CHECK_SECONDS:
            window, window_checked = executor.window, time.monotonic()
            if shared is experiment:  # not shared yet (no workers at the start): try again
                shared = executor.share(experiment)
        while len(inflight) < window and submit_next():
            pass

    writer = _Writer(store, summary)

    def flush() -> None:
        nonlocal buffer, buffered, last_flush
        writer.put(buffer)
        buffer, buffered = [], 0
        last_flush = time.monotonic()

    bar = tqdm(total=len(pending), disable=not progress, unit="pt", desc=experiment.name)
    try:
        refill()
        while inflight:
            try:
                future = done.get(timeout=max(0.01, flush_seconds - (time.monotonic() - last_flush)))
            except queue.Empty:
                future = None
            if future is not None:
                indices, attempt = inflight.pop(future)
                try:
                    results = future.result()
                except Exception as err:  # the task (not a simulation) failed: lost worker etc.
                    if attempt < retries:
                        logger.warning("points %s: %s; resubmitting (attempt %d)", indices, err, attempt + 2)
                        shared = executor.share(experiment)  # its copies may have gone with the worker
                        for index in indices:  # one point per task: a point that kills its worker
                            submit([index], attempt + 1)  # then fails alone, after `retries` more
                        continue
                    message = f"{type(err).__name__}: {err} (after {attempt + 1} attempts)"
                    results = PointBatch.failed(indices, message, schema_dtypes(experiment))
                buffer.append(results)
                buffered += len(results)
                collected += len(results)
                summary.compute_seconds += float(results.seconds.sum())
                bar.update(len(results))
                if executor.task_seconds and summary.compute_seconds > 0:
                    per_point = summary.compute_seconds / collected
                    per_task = int(min(_MAX_GROUPS_PER_TASK, max(1, executor.task_seconds // (per_point * group_size))))
            refill()
            if buffered >= flush_points or (buffer and time.monotonic() - last_flush >= flush_seconds):
                flush()
    finally:
        for future in inflight:
            if future.done() and not future.cancelled() and future.exception() is None:
                buffer.append(future.result())  # completed but not yet collected
            else:
                future.cancel()
        bar.close()
        if writer.error is None:
            writer.put(buffer)
        writer.close()
