"""Execution backends and the sweep driver.

Backends share one small base class, :class:`Executor`, with named hooks (in the style of
dask-jobqueue): ``start()``, ``stop()``, ``submit(fn, *args)``, ``nthreads()`` and
``describe()``.

* :class:`LocalThreads` (the default): an embedded thread pool, no server.  The engine's
  kernels release the GIL, so threads run points in parallel.
* :class:`LocalProcesses`: a :class:`distributed.LocalCluster` of single-threaded worker
  processes on 127.0.0.1.
* :class:`Scheduler`: a running ``dask scheduler`` at ``tcp://HOST:PORT``.
* Batch systems: :mod:`sweeps.execution.batch.jobqueue` subclasses :class:`DaskExecutor` and implements
  :meth:`DaskExecutor.make_cluster` (e.g. a dask-jobqueue ``SLURMCluster``).

Backends are found by name in :data:`sweeps.execution.backends.EXECUTORS` (``"threads"``, ``"processes"``,
``"scheduler"``; every batch system of :data:`sweeps.execution.batch.systems.BATCH_SYSTEMS` is one
too), which both the ``sweeps`` command and :func:`sweeps.run` consult through
:func:`executor_for`; :func:`register_executor` adds one.

Every Dask worker imports the engine when it starts (:class:`WarmNumbaCaches`, a
:class:`distributed.WorkerPlugin`); each process compiles (or loads from the numba cache) only
the kernels of the layouts its points use, on their first use.

The driver (:func:`run_sweep`) keeps a bounded number of tasks in flight, resubmits tasks lost
with their worker (``retries``), and hands completed results, batch by batch, to its writer
thread (region writes, data before status; see :mod:`sweeps.store.sweep_store`), so submission never
waits for the disk.  Writing in the driver, rather than workers writing their own regions,
keeps one writer per store (no two processes read-modify-write one chunk, the lock covers
all writes, and a crash is handled in one place).  A task returns one columnar
:class:`~sweeps.execution.task.PointBatch` (a stacked array per variable, not a dict of small
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
import contextlib
import importlib
import logging
import os
import signal
import socket
import threading

from sweeps.errors import ArgumentError

__all__ = [
    "ClientExecutor",
    "DaskExecutor",
    "Executor",
    "LocalProcesses",
    "LocalThreads",
    "Scheduler",
    "WarmNumbaCaches",
]

logger = logging.getLogger(__name__)




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

    def check(self) -> None:
        """Hook: refuse before any store is touched (raise :class:`~sweeps.errors.ArgumentError`),
        e.g. a scheduler that does not answer; quick (seconds at most)."""

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


def _stoppable(stop: threading.Event, fn, *args):
    """``fn(*args)`` with the engine's runs on this thread ended once ``stop`` is set
    (:mod:`binnet_core.stopping`: between two kernel slices, well under a second)."""
    from binnet_core.stopping import stop_when

    with stop_when(stop):
        return fn(*args)


class LocalThreads(Executor):
    """An embedded thread pool in the driver process (no server).

    :meth:`stop` (the end of a run, Ctrl-C or SIGTERM included) ends the tasks still running:
    their simulations stop between two kernel slices (:mod:`binnet_core.stopping`) and their
    points stay todo, so the driver exits within about a second even inside a point that
    would run for hours.

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
        self._stop = threading.Event()

    def start(self) -> None:
        from threadpoolctl import threadpool_limits

        # One BLAS thread per task thread, as in Dask's worker processes (OMP_NUM_THREADS=1):
        # no oversubscription, and the same summation order, so measurements that use BLAS
        # (correlation matrices) are bit-identical on every backend.
        self._blas = threadpool_limits(limits=1)
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(self.threads, thread_name_prefix="sweeps")

    def stop(self) -> None:
        if self._pool is not None:
            self._stop.set()  # tasks still running (an interrupted run) end at their next slice
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._blas is not None:
            self._blas.restore_original_limits()
            self._blas = None

    def submit(self, fn, *args):
        return self._pool.submit(_stoppable, self._stop, fn, *args)

    def nthreads(self) -> int:
        return self.threads

    def describe(self) -> str:
        return f"local threads ({self.threads})"


class WarmNumbaCaches:
    """Dask worker plugin: import the engine when a worker starts (or joins); kernels then
    compile or load lazily, per layout, in the first task that uses them.

    It also limits BLAS to one thread in the worker's process, as :class:`LocalThreads` does in
    the driver and Dask's nannies do through ``OMP_NUM_THREADS=1``: measurements that use BLAS
    (correlation matrices) sum in the same order, so they are bit-identical on every backend,
    also on workers started without a nanny or with several threads.
    """

    name = "sweeps-warm-numba-caches"

    async def setup(self, worker) -> None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # for the life of the worker process
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
        else:
            try:
                self.client = Client(target)
            except Exception as err:  # gone since check(): one line, the store stays as it is
                raise ArgumentError("scheduler", f"cannot connect to {target} ({_short(err)})") from None
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


#: dashboard of the Dask backends that start a scheduler here (``--dashboard``); if the port is
#: taken, Dask picks another and the log line at the start names it
DEFAULT_DASHBOARD = "127.0.0.1:8787"


def dashboard_address(address: str | None) -> str:
    """``"127.0.0.1:PORT"`` from ``address`` (``":PORT"``, ``"PORT"``, ``"localhost:PORT"``,
    ``"127.0.0.1:PORT"``; None: :data:`DEFAULT_DASHBOARD`).

    Raises
    ------
    ValueError
        Another host: the dashboard is served on the loopback interface only.
    """
    if address is None:
        return DEFAULT_DASHBOARD
    host, _, port = str(address).rpartition(":")
    if host not in ("", "127.0.0.1", "localhost") or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"dashboard: {address!r} must be 127.0.0.1:PORT (the dashboard is served on "
                         "127.0.0.1 only; reach it from elsewhere through an ssh tunnel)")
    return f"127.0.0.1:{int(port)}"


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Processes started inside ignore SIGINT (inherited through exec): on Ctrl-C, which the
    terminal sends to every process of the group, the driver stops them in order instead of
    each worker printing its own KeyboardInterrupt traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class LocalProcesses(DaskExecutor):
    """A :class:`distributed.LocalCluster` of ``processes`` single-threaded workers on 127.0.0.1."""

    name = "processes"

    def __init__(self, processes: int | None = None, window: int | None = None, dashboard: str | None = None):
        super().__init__(window)
        self.processes = processes or len(os.sched_getaffinity(0))
        self.dashboard = dashboard_address(dashboard)

    def make_cluster(self):
        from distributed import LocalCluster

        with _workers_ignore_ctrl_c():
            return LocalCluster(
                n_workers=self.processes, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=self.dashboard,
            )

    def describe(self) -> str:
        return f"local processes ({self.processes})"


def _short(err: BaseException) -> str:
    """The first line of an error, at most 120 characters."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:120]}" if text else type(err).__name__


#: schemes of a scheduler address (``tcp://HOST:PORT``; a bare ``HOST:PORT`` is tcp)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
#: seconds :meth:`Scheduler.check` waits for the scheduler's port to accept a connection
CONNECT_TIMEOUT = 5.0


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a scheduler address ``SCHEME://HOST:PORT`` (or ``HOST:PORT``).

    Raises
    ------
    ArgumentError
        Not such an address (field ``scheduler``).
    """
    scheme, sep, location = str(address).partition("://")
    if not sep:
        scheme, location = "tcp", scheme
    host, _, port = location.rpartition(":")
    host = host.strip("[]")  # an IPv6 host: [::1]:8786
    if scheme not in SCHEDULER_SCHEMES or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ArgumentError("scheduler", f"{address!r} is not a scheduler address SCHEME://HOST:PORT "
                            f"(e.g. tcp://127.0.0.1:8786)", allowed=SCHEDULER_SCHEMES)
    return scheme, host, int(port)


async def _handshake(address: str) -> None:
    """Connect to ``address`` with dask's protocol (its handshake) and close again."""
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT)  # the handshake too
    await comm.close()


class Scheduler(DaskExecutor):
    """A running Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.

    Raises
    ------
    ArgumentError
        ``address`` is no scheduler address (:func:`scheduler_address`).
    """

    name = "scheduler"

    def __init__(self, address: str, window: int | None = None):
        super().__init__(window)
        scheduler_address(address)
        self.address = address

    def check(self) -> None:
        """Refuse a scheduler that does not answer as one within :data:`CONNECT_TIMEOUT`: a TCP
        connection (refused at once where nothing listens), then dask's handshake."""
        _, host, port = scheduler_address(self.address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
            with concurrent.futures.ThreadPoolExecutor(1) as pool:  # also under a running loop (Jupyter)
                pool.submit(asyncio.run, _handshake(self.address)).result()
        except Exception as err:  # refused, timed out, or a peer that is no dask scheduler
            reason = "no answer" if isinstance(err, TimeoutError) else err.strerror if isinstance(
                err, OSError) and err.strerror else _short(err)
            raise ArgumentError("scheduler", f"cannot connect to {self.address} ({reason}; timeout "
                                f"{CONNECT_TIMEOUT:g} s): start a scheduler there (dask scheduler) or give "
                                "another address") from None

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
