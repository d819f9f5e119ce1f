"""Batch systems: one :class:`BatchSystem` subclass each, found by ``cluster.kind`` in :data:`BATCH_SYSTEMS`.

A batch system is what differs between SLURM and PBS for this package: the submission tool
and its job-id output, the directives of the driver job (:func:`sweeps.execution.batch.submit.driver_job_script`),
the memory a job really requests, how to list the nodes for the preflight check, and the
dask-jobqueue cluster class of the worker jobs. ``[cluster] kind`` validation, ``--cluster``
choices, :func:`~sweeps.execution.batch.submit.preflight`, :func:`~sweeps.execution.batch.submit.submit_driver`,
:mod:`sweeps.execution.batch.jobqueue` and :func:`sweeps.run` all look the kind up here, so adding
one is a subclass plus :func:`register_batch_system`. This module imports nothing heavy
(the CLI reads the names at start).
"""

from __future__ import annotations

import logging
import math
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from sweeps.errors import PreflightError

__all__ = ["BATCH_SYSTEMS", "BatchSystem", "NodeResources", "Pbs", "Slurm", "batch_system", "parse_pbsnodes", "parse_sinfo",
           "register_batch_system", "run_query"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeResources:
    """What one kind of node offers. ``*_at_least`` marks values sinfo shows as ``N+``."""

    partition: str | None
    cpus: int
    memory_mb: int
    time_limit: int | None = None  # seconds; None: unlimited or unknown
    default: bool = False
    cpus_at_least: bool = False
    memory_at_least: bool = False


def _parse_count(text: str) -> tuple[int, bool]:
    return int(text.rstrip("+")), text.endswith("+")


def _parse_slurm_time(text: str) -> int | None:
    """Seconds in a SLURM time limit ``[D-]HH:MM:SS``, ``MM:SS``; None for unlimited."""
    if text.lower() in ("infinite", "unlimited", "n/a"):
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return (int(days) if days else 0) * 86400 + hours * 3600 + minutes * 60 + seconds


def parse_sinfo(text: str) -> list[NodeResources]:
    """Parse ``sinfo -h -o "%P %c %m %l"`` output (partition, CPUs, memory MB, time limit)."""
    nodes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        partition, cpus, memory, limit = line.split()
        cpus_n, cpus_plus = _parse_count(cpus)
        mem_n, mem_plus = _parse_count(memory)
        nodes.append(NodeResources(partition.rstrip("*"), cpus_n, mem_n, _parse_slurm_time(limit),
                                   partition.endswith("*"), cpus_plus, mem_plus))
    return nodes


_PBS_UNITS = {"b": 1, "kb": 2**10, "mb": 2**20, "gb": 2**30, "tb": 2**40}


def pbs_bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+)([kmgt]?b)", text.strip().lower())
    return int(match.group(1)) * _PBS_UNITS[match.group(2)] if match else 0


def parse_pbsnodes(text: str) -> list[NodeResources]:
    """Parse ``pbsnodes -a`` (PBS Pro ``resources_available.*`` or Torque ``np``/``physmem``)."""
    nodes = []
    for block in re.split(r"\n\s*\n", text.strip()):
        attrs = dict(re.findall(r"^\s+([\w.]+) = (.*)$", block, flags=re.M))
        cpus = attrs.get("resources_available.ncpus", attrs.get("np"))
        memory = attrs.get("resources_available.mem")
        if memory is None:
            found = re.search(r"physmem=(\w+)", attrs.get("status", ""))
            memory = found.group(1) if found else None
        if cpus is None or memory is None:
            continue
        memory_mb = pbs_bytes(memory) // 2**20  # 0: a unit we do not know, not checked
        nodes.append(NodeResources(None, int(cpus), memory_mb, memory_at_least=memory_mb == 0))
    return nodes


def run_query(command: Sequence[str]) -> str:
    """The output of a query command of the batch system (``sinfo``, ``pbsnodes``)."""
    if shutil.which(command[0]) is None:
        raise PreflightError(f"cluster.kind: '{command[0]}' not found on this host; "
                             "is the batch system available here?")
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        first = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise PreflightError(f"cluster.kind: '{shlex.join(command)}' failed: "
                             f"{first[0] if first else f'exit code {done.returncode}'}")
    return done.stdout



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

    def directives(self, config, *, log: str, walltime: str) -> list[str]:
        """Hook: the lines of the driver job script after ``#!``: directives (1 core,
        ``driver_memory``, ``walltime``, output to ``log``, the current directory), then
        anything the system needs before the prologue."""
        raise NotImplementedError

    def memory_mb(self, memory: str) -> int:
        """Hook: memory per job in MiB exactly as the job will request it."""
        from dask.utils import parse_bytes

        return math.ceil(parse_bytes(memory) / 2**20)

    def query_nodes(self) -> list[NodeResources] | None:
        """Hook: the nodes of the live system (for :func:`~sweeps.execution.batch.submit.preflight`);
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

    def directives(self, config, *, log: str, walltime: str) -> list[str]:
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
        return parse_sinfo(run_query(["sinfo", "-h", "-o", "%P %c %m %l"]))

    def jobqueue_cluster_class(self):
        from dask_jobqueue import SLURMCluster

        return SLURMCluster


class Pbs(BatchSystem):
    """PBS Pro / Torque: ``qsub``, ``pbsnodes -a``, dask-jobqueue's ``PBSCluster``."""

    name = "pbs"
    submit_tool = "qsub"
    log_marker = "${PBS_JOBID}"

    def directives(self, config, *, log: str, walltime: str) -> list[str]:
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

        return math.ceil(pbs_bytes(pbs_format_bytes_ceil(parse_bytes(memory))) / 2**20)

    def query_nodes(self) -> list[NodeResources] | None:
        if shutil.which("pbsnodes") is None:
            logger.warning("pbsnodes not found: resource requests are not checked")
            return None
        return parse_pbsnodes(run_query(["pbsnodes", "-a"]))

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
