"""The sweep driver: run_sweep, its writer thread and the window of tasks in flight."""

from __future__ import annotations

import itertools
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from sweeps.errors import ArgumentError, StoreError
from sweeps.execution.cost import check_limits, format_duration
from sweeps.execution.executors import Executor, LocalThreads
from sweeps.execution.task import run_batch
from sweeps.plan import SweepPlan
from sweeps.store.batch import PointBatch
from sweeps.store.growth import open_store
from sweeps.store.lock import StoreLock
from sweeps.store.provenance import software, software_changes, utc_now
from sweeps.store.sweep_store import OK, SweepStore

__all__ = ["RunSummary", "run_sweep"]

logger = logging.getLogger(__name__)


#: how often the driver asks the backend for its workers (the in-flight window follows them)
_WINDOW_CHECK_SECONDS = 1.0
#: most networks grouped into one task (points costing nothing: tasks of ~1,000 points)
_MAX_GROUPS_PER_TASK = 1024


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
    adaptive: str | None = None  # an adaptive sweep: rounds and budget used (AdaptiveProgress)
    rounds_pending: bool = False  # an adaptive sweep stopped before it chose all its rounds

    @property
    def complete(self) -> bool:
        """True if every point of the grid (of an adaptive sweep: every point it chooses) is ok."""
        return self.already_ok + self.ok == self.total and not self.rounds_pending

    def __str__(self) -> str:
        """One sentence for people, e.g. ``executed 6 points (6 ok, 0 failed) in 2.1 s; 18/18 ok``."""
        text = (f"executed {self.executed} points ({self.ok} ok, {self.failed} failed) in {self.wall_seconds:.1f} s; "
                f"{self.already_ok + self.ok}/{self.total} {'chosen points ' if self.adaptive else ''}ok")
        if self.adaptive:
            text += f"; adaptive: {self.adaptive}"
        return text + (" (interrupted)" if self.interrupted else "")


def run_sweep(
    experiment,
    store: str | Path,
    executor: Executor | None = None,
    *,
    progress: bool = False,
    limit: int | None = None,
    retries: int = 2,
    flush_seconds: float = 2.0,
    progress_interval: float | None = None,
    on_store_ready: Callable[[], None] | None = None,
    cancel: threading.Event | None = None,
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
    progress_interval : float, optional
        Without the bar: log a progress line (ok / failed / todo, rate, ETA) every this many
        seconds, for batch logs; None or 0: none.
    on_store_ready : callable, optional
        Called once the store exists (created, or opened and checked), before any point runs.
    cancel : threading.Event, optional
        Once set, no more tasks are submitted; those submitted already (at most the window:
        about two per worker thread) finish and are written, the rest stays todo; the summary
        is marked ``interrupted``.
    limit : int, optional
        Run at most this many pending points (an integer >= 1; the rest stays todo).
    retries : int
        Resubmissions of a task whose worker was lost before the point is marked failed.
    flush_seconds : float
        Longest time a completed result waits in memory before it is written.

    Returns
    -------
    RunSummary

    Raises
    ------
    ArgumentError
        ``limit`` is not an integer >= 1, or the executor refuses (:meth:`Executor.check`, e.g. a
        scheduler that does not answer); before the store is touched.
    DefinitionError
        The plan exceeds the definition's ``[limits]`` (:func:`check_limits`); before the store
        is touched.
    StoreLockedError, StoreMismatchError, StoreError
        If the store is in use, from another definition, or cannot be written.
    """
    path = Path(store)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1):
        raise ArgumentError("limit", f"must be an integer >= 1 (points to run) or None (all), got {limit!r}")
    executor = executor or LocalThreads()
    started = time.monotonic()
    executor.check()  # e.g. a scheduler that does not answer: before the store, lock or backend
    plan = SweepPlan.build(experiment)
    check_limits(plan)  # arithmetic only
    with StoreLock(path):
        sweep_store, plan = open_store(path, experiment, plan)
        experiment = plan.experiment
        if experiment.theory is not None:  # theory first: it decides where to look
            from sweeps.theory.compute import write_theory  # xarray and the theory only when asked

            write_theory(sweep_store, plan)  # (only new points of a grown store are computed)
        pending = sweep_store.pending()
        summary = RunSummary(str(path), experiment.n_points, experiment.n_points - len(pending))
        if experiment.adaptive is not None:  # the rounds choose what runs (run_rounds)
            summary.already_ok = int(np.count_nonzero(sweep_store.status() == OK))
        if limit is not None:
            pending = pending[:limit]
        run_record = {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(), "backend": executor.describe(),
                      "started": utc_now(), "finished": None, **software()}
        if getattr(experiment, "overrides", ()):  # command-line key=value: the definition this run used
            run_record.update(overrides=list(experiment.overrides), definition=experiment.text,
                              definition_sha256=experiment.sha256)
        runs = sweep_store.attrs.get("runs", [])
        before = runs[-1] if runs and "versions" in runs[-1] else sweep_store.attrs
        changes = software_changes(before, run_record)
        if changes:  # results of one store may then come from different code
            run_record["software_changes"] = changes
            logger.warning("%s was last run with other software: %s", path, "; ".join(changes))
        sweep_store.record_run(run_record)
        if on_store_ready is not None:
            on_store_ready()
        completed = False
        try:
            if experiment.adaptive is not None:
                _run_adaptive(plan, sweep_store, executor, summary, limit,
                              lambda points: _drive(plan, sweep_store, executor, points, summary, progress, retries,
                                                    flush_seconds, None if progress else progress_interval, cancel))
            elif pending:
                with executor:
                    _drive(plan, sweep_store, executor, pending, summary, progress, retries, flush_seconds,
                           None if progress else progress_interval, cancel)
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


def _run_adaptive(plan: SweepPlan, store: SweepStore, executor: Executor, summary: RunSummary, limit: int | None,
                  drive: Callable[[list[int]], None]) -> None:
    """The rounds of an adaptive sweep on one executor, started once for all rounds."""
    from sweeps.execution.adaptive import run_rounds

    def run_points(points: list[int]) -> bool:
        if points:
            drive(points)
        return not summary.interrupted

    with executor:
        state = run_rounds(plan, store, run_points, limit)
    reps = plan.experiment.n_points // state.lattice
    summary.total, summary.adaptive, summary.rounds_pending = state.chosen * reps, str(state), not state.finished


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


class _ProgressLog:
    """A log line every ``interval`` seconds: ok / failed / todo of this run, rate and ETA."""

    def __init__(self, total: int, interval: float | None):
        self.total, self.interval = total, interval
        self.ok = self.failed = 0
        self.started = self.last = time.monotonic()

    def add(self, results: PointBatch) -> None:
        ok = int(np.count_nonzero(results.ok))
        self.ok += ok
        self.failed += len(results) - ok

    def line(self) -> str:
        done = self.ok + self.failed
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        todo = self.total - done
        eta = format_duration(todo / rate) if rate > 0 else "unknown"
        return (f"progress: {self.ok} ok, {self.failed} failed, {todo} todo of {self.total}; "
                f"{rate:.3g} points/s; ETA {eta}")

    def maybe_log(self) -> None:
        if self.interval and time.monotonic() - self.last >= self.interval:
            self.last = time.monotonic()
            logger.info("%s", self.line())


def _drive(plan: SweepPlan, store: SweepStore, executor: Executor, pending: list[int], summary: RunSummary,
           progress: bool, retries: int, flush_seconds: float, progress_interval: float | None = None,
           cancel: threading.Event | None = None) -> None:
    """Submit ``pending`` with a bounded window; a writer thread writes results as they complete."""
    log_progress = _ProgressLog(len(pending), progress_interval)
    done: queue.Queue = queue.Queue()
    inflight: dict[Any, tuple[list[int], int]] = {}
    groups = plan.grid.network_groups(pending)  # the inits of one network together
    todo = iter(groups)
    group_size = len(pending) / max(len(groups), 1)
    buffer: list[PointBatch] = []  # task results not yet handed to the writer
    buffered = 0  # points in buffer
    flush_points = store.min_chunk_points  # write a whole chunk at once when possible
    last_flush = time.monotonic()
    per_task = 1
    collected = 0
    shared = executor.share(plan)  # sent to the workers once, not with every task

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
        if summary.interrupted:  # cancelled
            return
        if time.monotonic() - window_checked >= _WINDOW_CHECK_SECONDS:
            window, window_checked = executor.window, time.monotonic()
            if shared is plan:  # not shared yet (no workers at the start): try again
                shared = executor.share(plan)
        while len(inflight) < window and submit_next():
            pass

    writer = _Writer(store, summary)

    def flush() -> None:
        nonlocal buffer, buffered, last_flush
        writer.put(buffer)
        buffer, buffered = [], 0
        last_flush = time.monotonic()

    bar = tqdm(total=len(pending), disable=not progress, unit="pt", desc=plan.experiment.name)
    try:
        refill()
        while inflight:
            if cancel is not None and cancel.is_set() and not summary.interrupted:
                summary.interrupted = True  # from now on nothing new is submitted
                logger.info("run cancelled: waiting for the %d tasks submitted; the rest stays todo", len(inflight))
            try:
                future = done.get(timeout=max(0.01, flush_seconds - (time.monotonic() - last_flush)))
            except queue.Empty:
                future = None
            if future is not None:
                indices, attempt = inflight.pop(future)
                try:
                    results = future.result()
                except Exception as err:  # the task (not a simulation) failed: lost worker etc.
                    if attempt < retries and not summary.interrupted:
                        logger.warning("points %s: %s; resubmitting (attempt %d)", indices, err, attempt + 2)
                        shared = executor.share(plan)  # its copies may have gone with the worker
                        for index in indices:  # one point per task: a point that kills its worker
                            submit([index], attempt + 1)  # then fails alone, after `retries` more
                        continue
                    message = f"{type(err).__name__}: {err} (after {attempt + 1} attempts)"
                    results = PointBatch.failed(indices, message, plan.dtypes)
                buffer.append(results)
                buffered += len(results)
                collected += len(results)
                summary.compute_seconds += float(results.seconds.sum())
                bar.update(len(results))
                log_progress.add(results)
                if executor.task_seconds and summary.compute_seconds > 0:
                    per_point = summary.compute_seconds / collected
                    per_task = int(min(_MAX_GROUPS_PER_TASK, max(1, executor.task_seconds // (per_point * group_size))))
            refill()
            log_progress.maybe_log()
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
