"""The batch system itself: preflight checks against ``sinfo`` / ``pbsnodes`` and the driver job.

:func:`preflight` reports, before anything is submitted, requests that no node can satisfy
(a job asking for more cores than any node has waits forever and dask-jobqueue says nothing).
:func:`submit_driver` submits the whole sweep driver (``python -m sweeps run ... --cluster
KIND``) as one batch job for ``sweeps submit``, so nothing has to stay open on the login node.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sweeps.errors import PreflightError, SubmitError
from sweeps.execution.batch.config import ClusterConfig, format_walltime, parse_walltime
from sweeps.execution.batch.systems import NodeResources, batch_system

logger = logging.getLogger(__name__)


def _job_memory_mb(kind: str, memory: str) -> int:
    """Memory per job in MiB exactly as the batch system ``kind`` will request it (rounded up)."""
    return batch_system(kind).memory_mb(memory)


def check_resources(nodes: Sequence[NodeResources], config: ClusterConfig, *,
                    driver: bool = False) -> list[NodeResources]:
    """Raise :class:`PreflightError` if the jobs of ``config`` fit on none of ``nodes``.

    Parameters
    ----------
    nodes : sequence of NodeResources
        From :func:`parse_sinfo` / :func:`parse_pbsnodes`.
    config : ClusterConfig
    driver : bool
        Also check the driver job of :func:`submit_driver` (1 core, ``driver_memory``,
        ``driver_walltime``).

    Returns
    -------
    list of NodeResources
        The nodes (of the chosen partition) that can run a worker job.
    """
    partitions = sorted({n.partition for n in nodes if n.partition is not None})
    if config.queue is not None and partitions:
        nodes = [n for n in nodes if n.partition == config.queue]
        if not nodes:
            raise PreflightError(f"cluster.queue: partition {config.queue!r} does not exist "
                                 f"(available: {', '.join(partitions)})")
    elif any(n.default for n in nodes):
        nodes = [n for n in nodes if n.default]
    if not nodes:
        raise PreflightError("cluster: the batch system reports no nodes")
    where = f"partition {nodes[0].partition!r}" if nodes[0].partition else "any node"
    requests = [("cores", config.cores, config.memory, "memory", config.walltime, "walltime")]
    if driver:
        requests.append(("cores", 1, config.driver_memory, "driver_memory",
                         config.driver_walltime or config.walltime,
                         "driver_walltime" if config.driver_walltime else "walltime"))
    fitting = []
    for cores_field, cores, memory, memory_field, walltime, walltime_field in requests:
        memory_mb = _job_memory_mb(config.kind, memory)
        seconds = parse_walltime(walltime, walltime_field)
        max_cpus = max(nodes, key=lambda n: n.cpus)
        if not any(n.cpus >= cores or n.cpus_at_least for n in nodes):
            raise PreflightError(f"cluster.{cores_field}: {cores} cores per job, but the largest "
                                 f"node in {where} has {max_cpus.cpus} CPUs; such a job would "
                                 "wait forever")
        by_cpu = [n for n in nodes if n.cpus >= cores or n.cpus_at_least]
        if not any(n.memory_mb >= memory_mb or n.memory_at_least for n in by_cpu):
            largest = max(n.memory_mb for n in by_cpu)
            raise PreflightError(f"cluster.{memory_field}: {memory} ({memory_mb} MB) per job, but "
                                 f"nodes with at least {cores} CPUs in {where} have at most {largest} MB; "
                                 "such a job would wait forever")
        limits = [n.time_limit for n in nodes]
        if None not in limits and seconds > max(limits):
            raise PreflightError(f"cluster.{walltime_field}: {walltime} exceeds the time limit "
                                 f"{format_walltime(max(limits))} of {where}")
        if not fitting:
            fitting = [n for n in by_cpu if n.memory_mb >= memory_mb or n.memory_at_least]
    return fitting


def preflight(config: ClusterConfig, *, driver: bool = False) -> list[NodeResources]:
    """Check against the live batch system that the requested jobs can ever start.

    The submission command (``sbatch`` / ``qsub``) must exist. The nodes come from the batch
    system's :meth:`~sweeps.execution.batch.systems.BatchSystem.query_nodes`: SLURM: ``sinfo``; PBS:
    ``pbsnodes -a`` (skipped with a warning when unavailable, as queue limits are not
    checked). Raises :class:`PreflightError` before anything is submitted; returns the nodes
    that can run a worker job.
    """
    system = batch_system(config.kind)
    tool = system.submit_tool
    if shutil.which(tool) is None:
        raise PreflightError(f"cluster.kind: '{tool}' not found on this host; "
                             "is the batch system available here?")
    nodes = system.query_nodes()
    if nodes is None:
        return []
    fitting = check_resources(nodes, config, driver=driver)
    logger.info("preflight: %d node type(s) can run a job of %d cores, %s",
                len(fitting), config.cores, config.memory)
    return fitting


# --------------------------------------------------------------------------- driver job


@dataclass(frozen=True)
class SubmittedDriver:
    """A submitted driver job: its id, its log file and the script that was submitted."""

    job_id: str
    log_path: Path
    script_path: Path


def driver_log_directory(config: ClusterConfig, store_path: str | os.PathLike) -> Path:
    """Where driver logs and scripts go: ``log_directory``, else next to the store."""
    if config.log_directory is not None:
        return Path(config.log_directory).expanduser().resolve()
    return Path(store_path).expanduser().resolve().parent


def _driver_log_template(config: ClusterConfig, store_path) -> str:
    marker = batch_system(config.kind).log_marker
    return str(driver_log_directory(config, store_path) / f"sweeps-driver-{marker}.log")


def driver_job_script(definition_path: str | os.PathLike, store_path: str | os.PathLike,
                      config: ClusterConfig, extra_cli_args: Sequence[str] = ()) -> str:
    """Batch script running the whole sweep driver as one job (1 core).

    The job runs ``python -m sweeps run FILE --store PATH --cluster KIND [extra_cli_args]``
    with absolute paths, the configured prologue, queue, account, extra directives,
    ``driver_memory`` and ``driver_walltime`` (default: ``walltime``). Its output goes to
    ``<log directory>/sweeps-driver-<job id>.log``.
    """
    definition = Path(definition_path).expanduser().resolve()
    store = Path(store_path).expanduser().resolve()
    walltime = config.driver_walltime or config.walltime
    log = _driver_log_template(config, store)
    lines = ["#!/usr/bin/env bash", *batch_system(config.kind).directives(config, log=log, walltime=walltime)]
    lines += list(config.job_script_prologue)
    command = [config.python or sys.executable, "-m", "sweeps", "run", str(definition),
               "--store", str(store), "--cluster", config.kind, *extra_cli_args]
    lines.append("exec " + shlex.join(command))
    return "\n".join(lines) + "\n"


def submit_driver(definition_path: str | os.PathLike, store_path: str | os.PathLike,
                  config: ClusterConfig, extra_cli_args: Sequence[str] = (), *,
                  check: bool = True) -> SubmittedDriver:
    """Submit the sweep driver as a batch job (``sbatch`` / ``qsub``) and return at once.

    Parameters
    ----------
    definition_path, store_path : path
    config : ClusterConfig
    extra_cli_args : sequence of str
        Further ``sweeps run`` arguments (e.g. cluster overrides), passed through verbatim.
    check : bool
        Run :func:`preflight` for the worker and the driver jobs first.

    Raises
    ------
    PreflightError, SubmitError
    """
    if check:
        preflight(config, driver=True)
    system = batch_system(config.kind)
    tool = system.submit_tool
    if shutil.which(tool) is None:
        raise SubmitError(f"'{tool}' not found on this host")
    log_dir = driver_log_directory(config, store_path)
    log_dir.mkdir(parents=True, exist_ok=True)
    script = driver_job_script(definition_path, store_path, config, extra_cli_args)
    with tempfile.NamedTemporaryFile("w", dir=log_dir, prefix="sweeps-driver-", suffix=".sh",
                                     delete=False) as handle:
        handle.write(script)
    script_path = Path(handle.name)
    command = system.submit_command(str(script_path))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        first = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise SubmitError(f"{shlex.join(command)} failed: "
                          f"{first[0] if first else f'exit code {done.returncode}'}")
    job_id = system.parse_job_id(done.stdout)
    log = _driver_log_template(config, store_path).replace(system.log_marker, job_id)
    logger.info("submitted driver job %s, log %s", job_id, log)
    return SubmittedDriver(job_id, Path(log), script_path)

