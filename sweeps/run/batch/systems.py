"""Batch systems: one :class:`BatchSystem` subclass each, found by ``cluster.kind`` in :data:`BATCH_SYSTEMS`.

A batch system is what differs between SLURM and PBS for this package: the submission tool
and its job-id output, the directives of the driver job (:func:`sweeps.run.batch.submit.driver_job_script`),
the memory a job really requests, how to list the nodes for the preflight check, and the
dask-jobqueue cluster class of the worker jobs. ``[cluster] kind`` validation, ``--cluster``
choices, :func:`~sweeps.run.batch.submit.preflight`, :func:`~sweeps.run.batch.submit.submit_driver`,
:mod:`sweeps.run.batch.jobqueue` and :func:`sweeps.run` all look the kind up here, so adding
one is a subclass plus :func:`register_batch_system`. This module imports nothing heavy
(the CLI reads the names at start).
"""

from __future__ import annotations

import logging
import math
import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sweeps.run.batch.config import ClusterConfig
    from sweeps.run.batch.submit import NodeResources

__all__ = ["BATCH_SYSTEMS", "BatchSystem", "Pbs", "Slurm", "batch_system", "register_batch_system"]

logger = logging.getLogger(__name__)


class BatchSystem:
    """Base class of batch systems (override the hooks)."""

    #: the ``cluster.kind`` / ``--cluster`` name
    name = "batch"
    #: the command submitting a job script (must be on the PATH, or a path)
    submit_tool = ""
    #: what the job's log file name holds in place of the job id (replaced once it is known)
    log_marker = ""

    def submit_command(self, script_path: str) -> list[str]:
        """Hook: the command submitting ``script_path``."""
        return [self.submit_tool, script_path]

    def parse_job_id(self, stdout: str) -> str:
        """Hook: the job id in the output of :meth:`submit_command`."""
        return stdout.strip()

    def directives(self, config: ClusterConfig, *, log: str, walltime: str) -> list[str]:
        """Hook: the lines of the driver job script after ``#!``: directives (1 core,
        ``driver_memory``, ``walltime``, output to ``log``, the current directory), then
        anything the system needs before the prologue."""
        raise NotImplementedError

    def memory_mb(self, memory: str) -> int:
        """Hook: memory per job in MiB exactly as the job will request it."""
        from dask.utils import parse_bytes

        return math.ceil(parse_bytes(memory) / 2**20)

    def query_nodes(self) -> list[NodeResources] | None:
        """Hook: the nodes of the live system (for :func:`~sweeps.run.batch.submit.preflight`);
        None: resources are not checked."""
        return None

    def jobqueue_cluster_class(self):
        """Hook: the dask-jobqueue cluster class of the worker jobs."""
        raise NotImplementedError(f"batch system {self.name!r} has no dask-jobqueue cluster class")


def _queue_and_account(config, queue_flag: str) -> list[str]:
    """Account and queue directives (account first), as the original insert order gave."""
    return ([f"-A {config.account}"] if config.account else []) + (
        [f"{queue_flag} {config.queue}"] if config.queue else [])


class Slurm(BatchSystem):
    """SLURM: ``sbatch``, ``sinfo``, dask-jobqueue's ``SLURMCluster``."""

    name = "slurm"
    submit_tool = "sbatch"
    log_marker = "%j"

    def submit_command(self, script_path: str) -> list[str]:
        return [self.submit_tool, "--parsable", script_path]

    def parse_job_id(self, stdout: str) -> str:
        return stdout.strip().split(";")[0]  # --parsable: "jobid[;cluster]"

    def directives(self, config: ClusterConfig, *, log: str, walltime: str) -> list[str]:
        from pathlib import Path

        from dask.utils import parse_bytes
        from dask_jobqueue.slurm import slurm_format_bytes_ceil

        directives = ["-J sweeps-driver", *_queue_and_account(config, "-p"), f"-o {log}", "-n 1",
                      "--cpus-per-task=1",
                      f"--mem={slurm_format_bytes_ceil(parse_bytes(config.driver_memory))}",
                      f"-t {walltime}", f"--chdir={Path.cwd()}"]
        return [f"#SBATCH {d}" for d in [*directives, *config.job_extra_directives]]

    def memory_mb(self, memory: str) -> int:
        from dask.utils import parse_bytes
        from dask_jobqueue.slurm import slurm_format_bytes_ceil

        text = slurm_format_bytes_ceil(parse_bytes(memory))
        scale = {"K": 1, "M": 2**10, "G": 2**20}[text[-1]]  # KiB per unit
        return math.ceil(int(text[:-1]) * scale / 2**10)

    def query_nodes(self) -> list[NodeResources]:
        from sweeps.run.batch import submit

        return submit.parse_sinfo(submit._run(["sinfo", "-h", "-o", "%P %c %m %l"]))

    def jobqueue_cluster_class(self):
        from dask_jobqueue import SLURMCluster

        return SLURMCluster


class Pbs(BatchSystem):
    """PBS Pro / Torque: ``qsub``, ``pbsnodes -a``, dask-jobqueue's ``PBSCluster``."""

    name = "pbs"
    submit_tool = "qsub"
    log_marker = "${PBS_JOBID}"

    def directives(self, config: ClusterConfig, *, log: str, walltime: str) -> list[str]:
        import shlex
        from pathlib import Path

        directives = ["-N sweeps-driver", *_queue_and_account(config, "-q"), "-V", "-j oe",
                      f"-l select=1:ncpus=1:mem={self.memory_mb(config.driver_memory)}mb",
                      f"-l walltime={walltime}"]
        return [*(f"#PBS {d}" for d in [*directives, *config.job_extra_directives]),
                f"cd {shlex.quote(str(Path.cwd()))}", f'exec >"{log}" 2>&1']

    def memory_mb(self, memory: str) -> int:
        from dask.utils import parse_bytes
        from dask_jobqueue.pbs import pbs_format_bytes_ceil

        from sweeps.run.batch.submit import _pbs_bytes

        return math.ceil(_pbs_bytes(pbs_format_bytes_ceil(parse_bytes(memory))) / 2**20)

    def query_nodes(self) -> list[NodeResources] | None:
        from sweeps.run.batch import submit

        if shutil.which("pbsnodes") is None:
            logger.warning("pbsnodes not found: resource requests are not checked")
            return None
        return submit.parse_pbsnodes(submit._run(["pbsnodes", "-a"]))

    def jobqueue_cluster_class(self):
        from dask_jobqueue import PBSCluster

        return PBSCluster


#: Batch systems by ``cluster.kind``.
BATCH_SYSTEMS: dict[str, BatchSystem] = {"slurm": Slurm(), "pbs": Pbs()}


def register_batch_system(system: BatchSystem, name: str | None = None) -> BatchSystem:
    """Add ``system`` to :data:`BATCH_SYSTEMS` as ``name`` (default: ``system.name``); returns it."""
    BATCH_SYSTEMS[name or system.name] = system
    return system


def batch_system(kind: str) -> BatchSystem:
    """The batch system ``kind`` of :data:`BATCH_SYSTEMS` (``KeyError`` if there is none)."""
    return BATCH_SYSTEMS[kind]
