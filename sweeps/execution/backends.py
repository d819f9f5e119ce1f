"""Execution backends by name: one registry, used by the CLI and the Python API.

:data:`EXECUTORS` maps a name to a factory ``factory(experiment, value=None, **options)`` of an
:class:`~sweeps.execution.executors.Executor` (``"threads"``, ``"processes"``, ``"scheduler"``);
the batch systems of :data:`~sweeps.execution.batch.systems.BATCH_SYSTEMS` are backends too
(dask-jobqueue worker jobs).  Adding a backend is a class and one :func:`register_executor` line.
"""

from __future__ import annotations

from collections.abc import Callable

from sweeps.execution.executors import Executor, LocalProcesses, LocalThreads, Scheduler

__all__ = ["EXECUTORS", "backend_names", "executor_for", "register_executor"]

#: Execution backends by name: ``factory(experiment, value=None, **options) -> Executor``, where
#: ``value`` is the backend's one argument (threads, processes, scheduler address; None: its
#: default) and ``options`` e.g. the ``overrides`` of a ``[cluster]`` table.
EXECUTORS: dict[str, Callable[..., Executor]] = {
    "threads": lambda experiment, value=None, **options: LocalThreads(value),
    "processes": lambda experiment, value=None, *, dashboard=None, **options: LocalProcesses(value, dashboard=dashboard),
    "scheduler": lambda experiment, value=None, **options: Scheduler(value),
}


def register_executor(name: str, factory: Callable[..., Executor]) -> Callable[..., Executor]:
    """Make ``factory(experiment, value=None, **options)`` the backend ``name``; returns it."""
    EXECUTORS[name] = factory
    return factory


def _jobqueue_executor(kind: str):
    def factory(experiment, value=None, *, overrides=None, dashboard=None, **options):
        from sweeps.errors import require_optional

        require_optional("dask_jobqueue", "cluster", f"the {kind} backend")
        from sweeps.execution.batch.jobqueue import JobqueueExecutor  # dask-jobqueue only when used

        return JobqueueExecutor(kind, experiment.cluster, overrides or {}, dashboard=dashboard)

    return factory


def backend_names() -> list[str]:
    """Names :func:`executor_for` accepts: :data:`EXECUTORS`, then the batch systems."""
    from sweeps.execution.batch.systems import BATCH_SYSTEMS

    return [*EXECUTORS, *(kind for kind in BATCH_SYSTEMS if kind not in EXECUTORS)]


def executor_for(name: str, experiment, value=None, **options) -> Executor:
    """The backend ``name`` of :data:`EXECUTORS` (or a batch system: dask-jobqueue) for ``experiment``.

    Raises
    ------
    ValueError
        ``name`` is no backend; the message lists the names.
    """
    factory = EXECUTORS.get(name)
    if factory is None:
        from sweeps.execution.batch.systems import BATCH_SYSTEMS

        if name not in BATCH_SYSTEMS:
            names = ", ".join(repr(n) for n in backend_names() if n != "scheduler")
            raise ValueError(f"backend: {name!r} is not one of {names}, a scheduler address "
                             "'tcp://HOST:PORT' or an Executor")
        factory = _jobqueue_executor(name)
    return factory(experiment, value, **options)
