"""The Python-first entry points: :func:`run` (blocking) and :func:`start` (a handle).

From a notebook::

    import sweeps

    ds = sweeps.run("experiments/quickstart.toml", "results/quickstart.zarr")
    ds.mean_activity_E.sel(seed=0).plot()

    handle = sweeps.start(definition_dict, "results/big.zarr", client=client)  # returns at once
    handle.progress            # Progress(ok=120, failed=0, todo=880, total=1000)
    handle.dataset()           # the results so far (points not yet ok are NaN)
    ds = handle.result()       # wait for the end

``definition`` is an :class:`~sweeps.spec.definition.Experiment`, a path to a TOML file, TOML text,
or a dict with the file's tables.  ``backend`` picks where points run when no ``client`` is
given: ``"threads"`` (default), ``"processes"``, a scheduler address ``"tcp://HOST:PORT"``,
``"slurm"``/``"pbs"`` (dask-jobqueue with the definition's ``[cluster]`` table), any other
name registered in :data:`sweeps.execution.backends.EXECUTORS`, or an
:class:`~sweeps.execution.executors.Executor`.  An existing :class:`distributed.Client` is used as it
is (neither restarted nor closed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sweeps.errors import DefinitionError
from sweeps.execution.backends import executor_for
from sweeps.execution.driver import RunSummary, run_sweep
from sweeps.execution.executors import ClientExecutor, Executor
from sweeps.spec.definition import Experiment, load_experiment, parse_experiment
from sweeps.store.results import open_results
from sweeps.store.sweep_store import Status, SweepStore

__all__ = ["Progress", "SweepRun", "as_experiment", "make_executor", "run", "start"]


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
        return backend
    if isinstance(backend, str) and "://" in backend:
        return executor_for("scheduler", experiment, backend)
    return executor_for("threads" if backend is None else backend, experiment)


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
        self._thread = threading.Thread(target=self._main, args=(executor, limit), name="sweeps-run", daemon=True)
        self._thread.start()

    def _main(self, executor: Executor, limit: int | None) -> None:
        try:
            self.summary = run_sweep(self.experiment, self.store, executor, progress=False, limit=limit)
        except BaseException as err:  # kept for result(); the thread itself ends quietly
            self._error = err

    def done(self) -> bool:
        """True once the run has ended (finished or failed)."""
        return not self._thread.is_alive()

    @property
    def progress(self) -> Progress:
        """Points ok / failed / to do, as written to the store so far."""
        total = self.experiment.n_points
        if not Path(self.store, "status", "zarr.json").exists():
            return Progress(0, 0, total, total)
        status = SweepStore.open(self.store, mode="r").status()
        ok, failed = int(np.sum(status == Status.OK)), int(np.sum(status == Status.FAILED))
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
    """Start a sweep in the background and return at once (for notebooks).

    Same parameters as :func:`run` (no progress bar: read ``handle.progress``).

    Returns
    -------
    SweepRun
        ``progress``, ``dataset()`` (results so far), ``done()``, ``result()`` (wait).
    """
    experiment = as_experiment(definition)
    return SweepRun(experiment, store, make_executor(experiment, backend, client), limit)
