"""Dask clusters on SLURM and PBS (dask-jobqueue) from a :class:`ClusterConfig`.

Workers are batch jobs started by dask-jobqueue; the scheduler runs in the driver. Workers
leave gracefully before their walltime (``dask worker --lifetime`` with a stagger, see
:attr:`ClusterConfig.worker_lifetime`) and a fixed ``jobs`` count is kept by resubmitting
ended jobs, so a job hitting its walltime (or cancelled with ``scancel``) loses no work.

Execution: :class:`JobqueueExecutor` is the :class:`sweeps.execution.executors.DaskExecutor` backend for
``--cluster slurm|pbs``; :func:`client_for` gives ``(cluster, Client)`` for interactive use.
Both check the request against the batch system first (:func:`sweeps.execution.batch.submit.preflight`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sweeps.errors import ClusterConfigError
from sweeps.execution.batch.config import ClusterConfig, site_setting
from sweeps.execution.batch.submit import preflight
from sweeps.execution.batch.systems import batch_system
from sweeps.execution.executors import DaskExecutor, dashboard_address

logger = logging.getLogger(__name__)


def _cluster_class(kind: str):
    return batch_system(kind).jobqueue_cluster_class()


def _job_kwargs(config: ClusterConfig) -> dict:
    """Keyword arguments shared by the dask-jobqueue cluster and job classes.

    Settings the definition and the command line leave unset are passed as None, so that
    dask-jobqueue takes them from the site's configuration (jobqueue.yaml); only where the site
    sets nothing either do this package's defaults (1 core, 2GB, one hour) apply.
    """
    lifetime, stagger = config.worker_lifetime

    def unless_site(name: str, value):
        return value if name in config.given or site_setting(config.kind, name) is None else None

    def given_list(name: str):
        return list(getattr(config, name)) if name in config.given else None

    site_args = site_setting(config.kind, "worker_extra_args") or []
    return {
        "queue": config.queue,
        "account": config.account,
        "cores": unless_site("cores", config.cores),
        "processes": unless_site("processes", config.processes),
        "memory": unless_site("memory", config.memory),
        "walltime": unless_site("walltime", config.walltime),
        "job_extra_directives": given_list("job_extra_directives"),
        "job_script_prologue": given_list("job_script_prologue"),
        "interface": config.interface,
        "local_directory": config.local_directory,
        "log_directory": config.log_directory,
        "python": config.python,
        "job_name": config.job_name,
        "worker_extra_args": [*site_args, "--lifetime", f"{lifetime}s", "--lifetime-stagger", f"{stagger}s"],
    }


def worker_job_script(config: ClusterConfig, scheduler_address: str = "tcp://127.0.0.1:8786") -> str:
    """The batch script one worker job would run, without starting anything.

    Parameters
    ----------
    config : ClusterConfig
    scheduler_address : str
        Address written into the script (the real one is only known once a cluster runs).
    """
    job_cls = _cluster_class(config.kind).job_cls
    return job_cls(scheduler=scheduler_address, name="sweeps-worker", **_job_kwargs(config)).job_script()


def _check_interface(interface: str | None) -> None:
    if interface is None:
        return
    import psutil

    available = sorted(psutil.net_if_addrs())
    if interface not in available:
        raise ClusterConfigError(f"cluster.interface: {interface!r} is not a network interface "
                                 f"of this host (available: {', '.join(available)})")


def make_cluster(config: ClusterConfig, dashboard: str | None = None):
    """Start a dask-jobqueue cluster (scheduler here, workers as batch jobs) and scale it.

    A fixed ``jobs`` count is kept with ``adapt(minimum_jobs=jobs, maximum_jobs=jobs)``: jobs
    that end (walltime, worker lifetime, ``scancel``) are replaced. ``adaptive`` maps to
    ``adapt(minimum_jobs, maximum_jobs)``.

    Returns
    -------
    dask_jobqueue.SLURMCluster or dask_jobqueue.PBSCluster
    """
    _check_interface(config.interface)
    kwargs = _job_kwargs(config)
    site = kwargs.get("scheduler_options") or site_setting(config.kind, "scheduler-options") or {}
    kwargs["scheduler_options"] = {**site, "dashboard_address": dashboard_address(dashboard)}
    cluster = _cluster_class(config.kind)(**kwargs)
    low, high = ((config.adaptive.minimum, config.adaptive.maximum) if config.adaptive
                 else (config.jobs, config.jobs))
    cluster.adapt(minimum_jobs=low, maximum_jobs=high)
    logger.info("%s cluster at %s: %s..%s jobs of %d cores, %s, walltime %s", config.kind,
                cluster.scheduler_address, low, high, config.cores, config.memory, config.walltime)
    return cluster


def client_for(config: ClusterConfig, *, check: bool = True):
    """Preflight-check, start the cluster and connect a client.

    Returns
    -------
    (cluster, distributed.Client)
        Close both (client first) when done.
    """
    from distributed import Client

    if check:
        preflight(config)
    cluster = make_cluster(config)
    try:
        client = Client(cluster)
    except BaseException:
        cluster.close()
        raise
    return cluster, client


class JobqueueExecutor(DaskExecutor):
    """Execution backend on SLURM or PBS: the hook :meth:`make_cluster` of :class:`DaskExecutor`.

    The configuration is validated, and checked against the batch system (:func:`preflight`),
    when the executor is built, so bad requests fail before any store is touched. ``start()``
    (inherited) then starts the dask-jobqueue cluster, connects a client and registers the
    worker plugins; ``stop()`` closes both and cancels the worker jobs.

    Parameters
    ----------
    kind : {"slurm", "pbs"} or None
        Batch system (``--cluster``); None: the table's ``kind``.
    table : mapping, optional
        The experiment's ``[cluster]`` table.
    overrides : mapping, optional
        Settings replacing those of the table (e.g. :func:`overrides_from_args`).
    window : int, optional
        Tasks in flight; default from the planned number of worker threads.
    check : bool
        Run :func:`preflight` now.
    dashboard : str, optional
        ``127.0.0.1:PORT`` of the scheduler's dashboard (default
        :data:`~sweeps.execution.executors.DEFAULT_DASHBOARD`).
    """

    name = "jobqueue"

    def __init__(self, kind: str | None, table: Mapping | None = None,
                 overrides: Mapping | None = None, *, window: int | None = None,
                 check: bool = True, dashboard: str | None = None):
        super().__init__(window)
        self.config = ClusterConfig.from_mapping(table, kind).with_overrides(overrides or {})
        self.dashboard = dashboard_address(dashboard)
        if check:
            preflight(self.config)

    def make_cluster(self):
        return make_cluster(self.config, self.dashboard)

    def nthreads(self) -> int:
        """Worker threads of all planned jobs (the jobs may still be queued)."""
        jobs = self.config.adaptive.maximum if self.config.adaptive else self.config.jobs
        return max(1, jobs * self.config.cores)

    def describe(self) -> str:
        c = self.config
        jobs = f"{c.adaptive.minimum}-{c.adaptive.maximum}" if c.adaptive else str(c.jobs)
        return (f"{c.kind} ({jobs} jobs x {c.cores} cores, {c.memory}, {c.walltime}"
                f"{', queue ' + c.queue if c.queue else ''})")

