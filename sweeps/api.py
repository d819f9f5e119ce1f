"""The Python-first entry points: :func:`run` (blocking) and :func:`start` (a handle).

From a notebook::

    import sweeps

    ds = sweeps.run("experiments/quickstart.toml", "results/quickstart.zarr")
    ds.mean_activity_E.sel(seed=0).plot()

    handle = sweeps.start(definition_dict, "results/big.zarr", client=client)  # once the store exists
    handle.progress            # Progress(ok=120, failed=0, todo=880, total=1000)
    handle.dataset()           # the results so far (points not yet ok are NaN)
    handle.cancel()            # stop: submitted points finish, the rest stays todo (resumable)
    ds = handle.result()       # wait for the end

``backend="processes"`` starts worker processes that import the main script again (the
``spawn`` start method): in a script, the sweep must sit under ``if __name__ == "__main__":``.
Without that guard, :func:`run` and :func:`start` refuse before anything starts
(:class:`MainGuardError`); notebooks and ``python -c`` need no guard.

``definition`` is an :class:`~sweeps.spec.definition.Experiment`, a path to a TOML file, TOML text,
or a dict with the file's tables.  ``backend`` picks where points run when no ``client`` is
given: ``"threads"`` (default), ``"processes"``, a scheduler address ``"tcp://HOST:PORT"``,
``"slurm"``/``"pbs"`` (dask-jobqueue with the definition's ``[cluster]`` table), any other
name registered in :data:`sweeps.execution.backends.EXECUTORS`, or an
:class:`~sweeps.execution.executors.Executor`.  An existing :class:`distributed.Client` is used as it
is (neither restarted nor closed).
"""

from __future__ import annotations

import ast
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sweeps.errors import DefinitionError, SweepsError
from sweeps.execution.backends import executor_for
from sweeps.execution.driver import RunSummary, run_sweep
from sweeps.execution.executors import ClientExecutor, Executor, LocalProcesses
from sweeps.spec.definition import Experiment, load_experiment, parse_experiment
from sweeps.store.results import open_results
from sweeps.store.sweep_store import Status, SweepStore

__all__ = ["MainGuardError", "Progress", "SweepRun", "as_experiment", "make_executor", "run", "start"]


class MainGuardError(SweepsError, RuntimeError):
    """``backend="processes"`` called at the top level of a script without a main guard."""


def _main_script_call_unguarded() -> str | None:
    """The main script's path if this call comes from its top level outside an
    ``if __name__ == "__main__":`` block (its worker processes would run it again), else None."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(getattr(main, "__spec__", None), "name", "").endswith("__main__"):
        return None  # a notebook, python -c, python -m pkg: spawned workers do not run it again
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back
    if frame is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for stmt in tree.body:
        if stmt.lineno <= frame.f_lineno <= (stmt.end_lineno or stmt.lineno):
            guarded = isinstance(stmt, ast.If) and any(
                isinstance(node, ast.Name) and node.id == "__name__" for node in ast.walk(stmt.test))
            return None if guarded else path
    return None


def _check_main_guard(executor: Executor) -> None:
    """Refuse local worker processes from an unguarded script (see the module docstring)."""
    if not isinstance(executor, LocalProcesses):
        return
    import dask.config

    if dask.config.get("distributed.worker.multiprocessing-method", "spawn") == "fork":
        return
    script = _main_script_call_unguarded()
    if script is not None:
        raise MainGuardError(
            f'backend="processes": the worker processes import {script} again, which would start the '
            'sweep again in each of them. Put the call under if __name__ == "__main__": (see '
            'https://docs.python.org/3/library/multiprocessing.html#the-spawn-and-forkserver-start-methods), '
            'or use backend="threads". Nothing was started.')


def as_experiment(definition: Experiment | dict | str | Path) -> Experiment:
    """An :class:`Experiment` from an Experiment, a dict, a path or TOML text.

    A string holding a newline or a ``[`` table header is TOML text, any other string a path.
    """
    if isinstance(definition, Experiment):
        return definition
    if isinstance(definition, dict):
        return Experiment.from_dict(definition)
    if isinstance(definition, str) and ("\n" in definition or definition.lstrip().startswith("[")):
        return parse_experiment(definition)
    if isinstance(definition, str | Path):
        return load_experiment(definition)
    raise DefinitionError("definition", f"must be an Experiment, a dict, a path or TOML text, got {type(definition).__name__}")


def make_executor(experiment: Experiment, backend: str | Executor | None = None, client=None) -> Executor:
    """The executor for ``backend`` or ``client`` (see the module docstring)."""
    if client is not None:
        if backend is not None:
            raise ValueError("give either client or backend, not both")
        return ClientExecutor(client)
    if isinstance(backend, Executor):
        executor = backend
    elif isinstance(backend, str) and "://" in backend:
        executor = executor_for("scheduler", experiment, backend)
    else:
        executor = executor_for("threads" if backend is None else backend, experiment)
    _check_main_guard(executor)
    return executor


def run(definition: Experiment | dict | str | Path, store: str | Path, *, client=None,
        backend: str | Executor | None = None, progress: bool = True, limit: int | None = None) -> xr.Dataset:
    """Run (or resume) a sweep and return its results.

    Parameters
    ----------
    definition : Experiment, dict, str or Path
        The experiment: a TOML file path, TOML text, a dict of tables or an Experiment.
    store : str or Path
        Zarr store directory (created if missing; an existing one must match the definition).
    client : distributed.Client, optional
        Run on this client's cluster, used as it is.
    backend : str or Executor, optional
        Without ``client``: ``"threads"`` (default), ``"processes"``, ``"tcp://HOST:PORT"``,
        ``"slurm"``, ``"pbs"`` or an Executor.
    progress : bool
        Show a progress bar (a widget in Jupyter).
    limit : int, optional
        Run at most this many pending points.

    Returns
    -------
    xarray.Dataset
        The whole store (lazily loaded); ``status`` tells which points are ok (1) or failed (2).
    """
    experiment = as_experiment(definition)
    run_sweep(experiment, store, make_executor(experiment, backend, client), progress=progress, limit=limit)
    return open_results(store)


@dataclass(frozen=True)
class Progress:
    """Point counts of a store."""

    ok: int
    failed: int
    todo: int
    total: int

    def __str__(self) -> str:
        return f"{self.ok}/{self.total} points ok, {self.failed} failed, {self.todo} to do"


class SweepRun:
    """A sweep running in a background thread of this process (see :func:`start`)."""

    def __init__(self, experiment: Experiment, store: str | Path, executor: Executor, limit: int | None):
        self.experiment = experiment
        self.store = Path(store)
        self.summary: RunSummary | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()  # the store exists (created or opened)
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(executor, limit), name="sweeps-run", daemon=True)
        self._thread.start()

    def _main(self, executor: Executor, limit: int | None) -> None:
        try:
            self.summary = run_sweep(self.experiment, self.store, executor, progress=False, limit=limit,
                                     on_store_ready=self._ready.set, cancel=self._cancel)
        except BaseException as err:  # kept for result(); the thread itself ends quietly
            self._error = err
        finally:
            self._ready.set()

    def _wait_for_store(self) -> None:
        """Wait until the store exists; raise the run's error if it ended before."""
        self._ready.wait()
        if self._error is not None and not Path(self.store, "zarr.json").exists():
            raise self._error

    def cancel(self, wait: bool = True, timeout: float | None = None) -> RunSummary | None:
        """Stop the run: no new task is submitted, those submitted already (about two per worker
        thread) finish and are written, the rest stays todo (a later run resumes it).  With
        ``wait``: return the summary (``interrupted`` True) once the run has ended.
        """
        self._cancel.set()
        if not wait:
            return None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the sweep into {self.store} has not stopped yet ({self.progress})")
        return self.summary

    @property
    def cancelled(self) -> bool:
        """True if :meth:`cancel` was called."""
        return self._cancel.is_set()

    def done(self) -> bool:
        """True once the run has ended (finished or failed)."""
        return not self._thread.is_alive()

    @property
    def progress(self) -> Progress:
        """Points ok / failed / to do, as written to the store so far (an adaptive sweep: of the
        points chosen so far; the unsampled ones are not counted)."""
        total = self.experiment.n_points
        if not Path(self.store, "status", "zarr.json").exists():
            return Progress(0, 0, total, total)
        status = SweepStore.open(self.store, mode="r").status()
        ok, failed = int(np.sum(status == Status.OK)), int(np.sum(status == Status.FAILED))
        total -= int(np.sum(status == Status.UNSAMPLED))
        return Progress(ok, failed, total - ok - failed, total)

    def dataset(self) -> xr.Dataset:
        """The results written so far (points not yet ok hold fill values)."""
        return open_results(self.store)

    def result(self, timeout: float | None = None) -> xr.Dataset:
        """Wait for the end of the run and return the results; re-raises the run's error."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the sweep into {self.store} is still running ({self.progress})")
        if self._error is not None:
            raise self._error
        return open_results(self.store)

    def __repr__(self) -> str:
        state = "running" if not self.done() else ("failed" if self._error else "finished")
        return f"<SweepRun {self.experiment.name} into {self.store}: {state}, {self.progress}>"


def start(definition: Experiment | dict | str | Path, store: str | Path, *, client=None,
          backend: str | Executor | None = None, limit: int | None = None) -> SweepRun:
    """Start a sweep in the background; return once the store exists (for notebooks).

    Same parameters as :func:`run` (no progress bar: read ``handle.progress``).  Points run in a
    background thread; ``handle.dataset()`` works as soon as this returns.

    Returns
    -------
    SweepRun
        ``progress``, ``dataset()`` (results so far), ``done()``, ``cancel()``, ``result()`` (wait).

    Raises
    ------
    DefinitionError, StoreError, MainGuardError
        If the run cannot start (bad definition, store of another definition or locked, ...).
    """
    experiment = as_experiment(definition)
    handle = SweepRun(experiment, store, make_executor(experiment, backend, client), limit)
    handle._wait_for_store()
    return handle
