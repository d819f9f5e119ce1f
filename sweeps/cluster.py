"""Dask clusters on SLURM and PBS (dask-jobqueue) from an experiment's ``[cluster]`` table.

The ``[cluster]`` table of an experiment definition describes one batch job (one node or part
of one) and how many of them to run::

    [cluster]
    queue = "compute"            # or `partition`; default: the scheduler's default queue
    account = "proj123"
    cores = 16                   # cores per job
    processes = 4                # Dask worker processes per job (must divide cores)
    memory = "32GB"              # memory per job
    walltime = "04:00:00"        # per worker job, HH:MM:SS
    jobs = 8                     # a fixed number of jobs, replaced when they end ...
    # adaptive = { minimum = 1, maximum = 20 }   # ... or an adaptive range
    job_extra_directives = ["--qos=normal"]
    job_script_prologue = ["module load python", "source ~/venv/bin/activate"]
    interface = "ib0"            # network interface of scheduler and workers (default: none)
    local_directory = "$TMPDIR"  # worker scratch space
    log_directory = "logs"       # job logs (driver log default: next to the store)
    python = "/path/to/venv/bin/python"   # default: the Python running the driver
    # job_name = "sweeps-worker"; lifetime_margin = "5m"; lifetime_stagger = "2m"
    # driver_walltime = "24:00:00"; driver_memory = "2GB"   (the job of `sweeps submit`)

Workers leave gracefully before their walltime (dask ``--lifetime`` with a stagger, derived
from ``walltime``: by default they leave between ``walltime - margin - 2*stagger`` and
``walltime - margin`` with ``margin = min(5 min, walltime/10)`` and ``stagger = min(2 min,
walltime/20)``), and the cluster keeps the requested number of jobs by submitting new ones, so
a job hitting its walltime (or cancelled with ``scancel``) costs no lost work: a fixed ``jobs``
count is kept by ``adapt(minimum=jobs, maximum=jobs)``, which resubmits ended jobs.
``--lifetime-restart`` is deliberately not used: it would restart the worker inside the same,
expiring, job. SLURM jobs inherit the submitting environment; PBS worker jobs do not, so give
PBS a ``job_script_prologue`` that activates the environment.

Execution: :class:`JobqueueExecutor` is the :class:`sweeps.execution.DaskExecutor` backend for
``--cluster slurm|pbs``; :func:`client_for` gives ``(cluster, Client)`` for interactive use.
``sweeps submit`` uses :func:`submit_driver` to run the driver itself as a batch job.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dask.utils import parse_bytes, parse_timedelta

from sweeps.execution import DaskExecutor

logger = logging.getLogger(__name__)

KINDS = ("slurm", "pbs")

_WALLTIME_RE = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
_INT_FIELDS = ("cores", "processes", "jobs")
_STR_FIELDS = ("queue", "account", "memory", "walltime", "interface", "local_directory",
               "log_directory", "python", "job_name", "driver_walltime", "driver_memory")
_LIST_FIELDS = ("job_extra_directives", "job_script_prologue")
_DURATION_FIELDS = ("lifetime_margin", "lifetime_stagger")
_KNOWN_KEYS = ("kind", "partition", "adaptive", *_INT_FIELDS, *_STR_FIELDS, *_LIST_FIELDS,
               *_DURATION_FIELDS)


class ClusterConfigError(ValueError):
    """A ``[cluster]`` setting is invalid; the message names the field and what is allowed."""


class PreflightError(ClusterConfigError):
    """The requested jobs can never start on this cluster (checked before submitting)."""


class SubmitError(RuntimeError):
    """The batch system refused a submission."""


def _fail(field: str, message: str) -> ClusterConfigError:
    return ClusterConfigError(f"cluster.{field}: {message}")


def parse_walltime(text: str, field: str = "walltime") -> int:
    """Seconds in a ``HH:MM:SS`` duration (hours may exceed 24).

    >>> parse_walltime("01:30:00")
    5400
    """
    match = _WALLTIME_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise _fail(field, f"{text!r} is not a duration HH:MM:SS (e.g. '04:00:00')")
    hours, minutes, seconds = (int(g) for g in match.groups())
    seconds_total = 3600 * hours + 60 * minutes + seconds
    if seconds_total <= 0:
        raise _fail(field, f"{text!r} must be longer than zero")
    return seconds_total


def format_walltime(seconds: float) -> str:
    """``HH:MM:SS`` for a number of seconds (rounded down).

    >>> format_walltime(5400)
    '01:30:00'
    """
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass(frozen=True)
class AdaptiveRange:
    """Adaptive number of worker jobs, between ``minimum`` and ``maximum``."""

    minimum: int
    maximum: int


@dataclass(frozen=True)
class ClusterConfig:
    """Validated settings of one dask-jobqueue cluster; see the module docstring for the table.

    Build with :meth:`from_mapping`; never invalid once built. ``jobs`` and ``adaptive`` are
    exclusive (``jobs`` is ``None`` when ``adaptive`` is set). Durations ``lifetime_margin``
    and ``lifetime_stagger`` are seconds, ``None`` meaning derived from ``walltime``.
    """

    kind: str
    queue: str | None = None
    account: str | None = None
    cores: int = 1
    processes: int = 1
    memory: str = "2GB"
    walltime: str = "01:00:00"
    jobs: int | None = 1
    adaptive: AdaptiveRange | None = None
    job_extra_directives: tuple[str, ...] = ()
    job_script_prologue: tuple[str, ...] = ()
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    python: str | None = None
    job_name: str = "sweeps-worker"
    lifetime_margin: float | None = None
    lifetime_stagger: float | None = None
    driver_walltime: str | None = None
    driver_memory: str = "2GB"

    @classmethod
    def from_mapping(cls, table: Mapping | None, kind: str | None = None) -> ClusterConfig:
        """Validate a ``[cluster]`` table (a plain mapping, e.g. from ``tomllib``).

        Parameters
        ----------
        table : mapping or None
            The table; ``None`` means all defaults.
        kind : {"slurm", "pbs"}, optional
            Batch system; overrides the table's own ``kind`` key.

        Raises
        ------
        ClusterConfigError
            One line naming the first invalid field and the allowed values.
        """
        if table is None:
            table = {}
        if not isinstance(table, Mapping):
            raise ClusterConfigError(f"cluster: expected a table, got {type(table).__name__}")
        for key in table:
            if key not in _KNOWN_KEYS:
                close = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise _fail(str(key), f"unknown setting{hint} (allowed: {', '.join(sorted(_KNOWN_KEYS))})")
        values = dict(table)
        if "partition" in values:
            if "queue" in values:
                raise _fail("partition", "give either 'queue' or 'partition', not both")
            values["queue"] = values.pop("partition")
        kind = kind if kind is not None else values.pop("kind", None)
        values.pop("kind", None)
        if kind not in KINDS:
            raise _fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        for name in _INT_FIELDS:
            if name in values and (type(values[name]) is not int or values[name] < 1):
                raise _fail(name, f"expected a positive integer, got {values[name]!r}")
        for name in _STR_FIELDS:
            if name in values and (not isinstance(values[name], str) or not values[name].strip()):
                raise _fail(name, f"expected a non-empty string, got {values[name]!r}")
        for name in _LIST_FIELDS:
            if name in values:
                items = values[name]
                if not isinstance(items, list | tuple) or not all(isinstance(s, str) for s in items):
                    raise _fail(name, f"expected a list of strings, got {items!r}")
                values[name] = tuple(items)
        for name in _DURATION_FIELDS:
            if name in values:
                values[name] = _parse_duration(name, values[name])
        if "adaptive" in values:
            if "jobs" in values:
                raise _fail("adaptive", "give either 'jobs' or 'adaptive', not both")
            values["adaptive"] = _parse_adaptive(values["adaptive"])
            values["jobs"] = None
        config = cls(kind=kind, **values)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.cores % self.processes:
            raise _fail("processes", f"{self.processes} does not divide cores={self.cores}")
        for name in ("memory", "driver_memory"):
            try:
                nbytes = parse_bytes(getattr(self, name))
            except ValueError:
                nbytes = 0
            if nbytes <= 0:
                raise _fail(name, f"{getattr(self, name)!r} is not an amount of memory like '4GB'")
        parse_walltime(self.walltime)
        if self.driver_walltime is not None:
            parse_walltime(self.driver_walltime, "driver_walltime")
        lifetime, stagger = self.worker_lifetime
        if lifetime - stagger <= 0:
            raise _fail("walltime", f"{self.walltime} leaves no worker lifetime after "
                        f"lifetime_margin={self._margin:g}s and 2 x lifetime_stagger="
                        f"{self._stagger:g}s; use a longer walltime or smaller margins")

    @property
    def _margin(self) -> float:
        walltime = parse_walltime(self.walltime)
        return self.lifetime_margin if self.lifetime_margin is not None else min(300, walltime / 10)

    @property
    def _stagger(self) -> float:
        walltime = parse_walltime(self.walltime)
        return self.lifetime_stagger if self.lifetime_stagger is not None else min(120, walltime / 20)

    @property
    def worker_lifetime(self) -> tuple[int, int]:
        """``(lifetime, stagger)`` in seconds for ``dask worker --lifetime/--lifetime-stagger``.

        A worker leaves at ``lifetime ± stagger``, so at the latest ``margin`` before walltime.
        """
        stagger = int(self._stagger)
        return int(parse_walltime(self.walltime) - self._margin - stagger), stagger

    def to_mapping(self) -> dict:
        """The canonical ``[cluster]`` table of this configuration (``None`` fields omitted)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, AdaptiveRange):
                value = dataclasses.asdict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def with_overrides(self, overrides: Mapping) -> ClusterConfig:
        """A new, re-validated configuration with ``overrides`` (e.g. from the CLI) applied.

        Keys are those of the table; ``None`` values are ignored. ``jobs`` replaces ``adaptive``
        and vice versa; ``partition`` is ``queue``.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        base = self.to_mapping()
        if "partition" in given:
            base.pop("queue", None)
        if "jobs" in given:
            base.pop("adaptive", None)
        if "adaptive" in given:
            base.pop("jobs", None)
        kind = given.pop("kind", base.pop("kind"))
        return ClusterConfig.from_mapping({**base, **given}, kind)


def _parse_duration(field: str, value) -> float:
    try:
        seconds = parse_timedelta(value, default="seconds")
    except (ValueError, TypeError, KeyError):
        seconds = None
    if seconds is None or seconds < 0 or isinstance(value, bool):
        raise _fail(field, f"{value!r} is not a duration like '5m', '90s' or a number of seconds")
    return float(seconds)


def _parse_adaptive(value) -> AdaptiveRange:
    if not isinstance(value, Mapping) or set(value) != {"minimum", "maximum"}:
        raise _fail("adaptive", f"expected {{ minimum = N, maximum = M }}, got {value!r}")
    lo, hi = value["minimum"], value["maximum"]
    if type(lo) is not int or type(hi) is not int or lo < 0 or hi < 1 or lo > hi:
        raise _fail("adaptive", f"need integers 0 <= minimum <= maximum, maximum >= 1; got {lo!r}, {hi!r}")
    return AdaptiveRange(lo, hi)


# --------------------------------------------------------------------------- dask-jobqueue


def _cluster_class(kind: str):
    from dask_jobqueue import PBSCluster, SLURMCluster

    return {"slurm": SLURMCluster, "pbs": PBSCluster}[kind]


def _job_kwargs(config: ClusterConfig) -> dict:
    """Keyword arguments shared by the dask-jobqueue cluster and job classes."""
    lifetime, stagger = config.worker_lifetime
    return {
        "queue": config.queue,
        "account": config.account,
        "cores": config.cores,
        "processes": config.processes,
        "memory": config.memory,
        "walltime": config.walltime,
        "job_extra_directives": list(config.job_extra_directives),
        "job_script_prologue": list(config.job_script_prologue),
        "interface": config.interface,
        "local_directory": config.local_directory,
        "log_directory": config.log_directory,
        "python": config.python or sys.executable,
        "job_name": config.job_name,
        "worker_extra_args": ["--lifetime", f"{lifetime}s", "--lifetime-stagger", f"{stagger}s"],
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
        raise _fail("interface", f"{interface!r} is not a network interface of this host "
                    f"(available: {', '.join(available)})")


def make_cluster(config: ClusterConfig):
    """Start a dask-jobqueue cluster (scheduler here, workers as batch jobs) and scale it.

    A fixed ``jobs`` count is kept with ``adapt(minimum_jobs=jobs, maximum_jobs=jobs)``: jobs
    that end (walltime, worker lifetime, ``scancel``) are replaced. ``adaptive`` maps to
    ``adapt(minimum_jobs, maximum_jobs)``.

    Returns
    -------
    dask_jobqueue.SLURMCluster or dask_jobqueue.PBSCluster
    """
    _check_interface(config.interface)
    cluster = _cluster_class(config.kind)(**_job_kwargs(config))
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
    """

    name = "jobqueue"

    def __init__(self, kind: str | None, table: Mapping | None = None,
                 overrides: Mapping | None = None, *, window: int | None = None,
                 check: bool = True):
        super().__init__(window)
        self.config = ClusterConfig.from_mapping(table, kind).with_overrides(overrides or {})
        if check:
            preflight(self.config)

    def make_cluster(self):
        return make_cluster(self.config)

    def nthreads(self) -> int:
        """Worker threads of all planned jobs (the jobs may still be queued)."""
        jobs = self.config.adaptive.maximum if self.config.adaptive else self.config.jobs
        return max(1, jobs * self.config.cores)

    def describe(self) -> str:
        c = self.config
        jobs = f"{c.adaptive.minimum}-{c.adaptive.maximum}" if c.adaptive else str(c.jobs)
        return (f"{c.kind} ({jobs} jobs x {c.cores} cores, {c.memory}, {c.walltime}"
                f"{', queue ' + c.queue if c.queue else ''})")


# --------------------------------------------------------------------------- preflight


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


def _pbs_bytes(text: str) -> int:
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
        memory_mb = _pbs_bytes(memory) // 2**20  # 0: a unit we do not know, not checked
        nodes.append(NodeResources(None, int(cpus), memory_mb, memory_at_least=memory_mb == 0))
    return nodes


def _job_memory_mb(kind: str, memory: str) -> int:
    """Memory per job in MiB exactly as dask-jobqueue will request it (rounded up)."""
    from dask_jobqueue.pbs import pbs_format_bytes_ceil
    from dask_jobqueue.slurm import slurm_format_bytes_ceil

    nbytes = parse_bytes(memory)
    if kind == "slurm":
        text = slurm_format_bytes_ceil(nbytes)
        scale = {"K": 1, "M": 2**10, "G": 2**20}[text[-1]]  # KiB per unit
        return math.ceil(int(text[:-1]) * scale / 2**10)
    return math.ceil(_pbs_bytes(pbs_format_bytes_ceil(nbytes)) / 2**20)


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


def _run(command: Sequence[str]) -> str:
    if shutil.which(command[0]) is None:
        raise PreflightError(f"cluster.kind: '{command[0]}' not found on this host; "
                             "is the batch system available here?")
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        first = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise PreflightError(f"cluster.kind: '{shlex.join(command)}' failed: "
                             f"{first[0] if first else f'exit code {done.returncode}'}")
    return done.stdout


def preflight(config: ClusterConfig, *, driver: bool = False) -> list[NodeResources]:
    """Check against the live batch system that the requested jobs can ever start.

    SLURM: ``sinfo``; PBS: ``pbsnodes -a`` (skipped with a warning when unavailable, as
    queue limits are not checked). Raises :class:`PreflightError` before anything is
    submitted; returns the nodes that can run a worker job.
    """
    if config.kind == "slurm":
        nodes = parse_sinfo(_run(["sinfo", "-h", "-o", "%P %c %m %l"]))
    else:
        if shutil.which("pbsnodes") is None:
            logger.warning("pbsnodes not found: resource requests are not checked")
            return []
        nodes = parse_pbsnodes(_run(["pbsnodes", "-a"]))
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
    marker = "%j" if config.kind == "slurm" else "${PBS_JOBID}"
    return str(driver_log_directory(config, store_path) / f"sweeps-driver-{marker}.log")


def driver_job_script(definition_path: str | os.PathLike, store_path: str | os.PathLike,
                      config: ClusterConfig, extra_cli_args: Sequence[str] = ()) -> str:
    """Batch script running the whole sweep driver as one job (1 core).

    The job runs ``python -m sweeps run FILE --store PATH --cluster KIND [extra_cli_args]``
    with absolute paths, the configured prologue, queue, account, extra directives,
    ``driver_memory`` and ``driver_walltime`` (default: ``walltime``). Its output goes to
    ``<log directory>/sweeps-driver-<job id>.log``.
    """
    from dask_jobqueue.slurm import slurm_format_bytes_ceil

    definition = Path(definition_path).expanduser().resolve()
    store = Path(store_path).expanduser().resolve()
    walltime = config.driver_walltime or config.walltime
    log = _driver_log_template(config, store)
    lines = ["#!/usr/bin/env bash"]
    if config.kind == "slurm":
        directives = ["-J sweeps-driver", f"-o {log}", "-n 1", "--cpus-per-task=1",
                      f"--mem={slurm_format_bytes_ceil(parse_bytes(config.driver_memory))}",
                      f"-t {walltime}", f"--chdir={Path.cwd()}"]
        if config.queue:
            directives.insert(1, f"-p {config.queue}")
        if config.account:
            directives.insert(1, f"-A {config.account}")
        lines += [f"#SBATCH {d}" for d in [*directives, *config.job_extra_directives]]
    else:
        memory_mb = _job_memory_mb("pbs", config.driver_memory)
        directives = ["-N sweeps-driver", "-V", "-j oe",
                      f"-l select=1:ncpus=1:mem={memory_mb}mb", f"-l walltime={walltime}"]
        if config.queue:
            directives.insert(1, f"-q {config.queue}")
        if config.account:
            directives.insert(1, f"-A {config.account}")
        lines += [f"#PBS {d}" for d in [*directives, *config.job_extra_directives]]
        lines += [f"cd {shlex.quote(str(Path.cwd()))}", f'exec >"{log}" 2>&1']
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
    log_dir = driver_log_directory(config, store_path)
    log_dir.mkdir(parents=True, exist_ok=True)
    script = driver_job_script(definition_path, store_path, config, extra_cli_args)
    with tempfile.NamedTemporaryFile("w", dir=log_dir, prefix="sweeps-driver-", suffix=".sh",
                                     delete=False) as handle:
        handle.write(script)
    script_path = Path(handle.name)
    command = ["sbatch", "--parsable", str(script_path)] if config.kind == "slurm" else [
        "qsub", str(script_path)]
    if shutil.which(command[0]) is None:
        raise SubmitError(f"'{command[0]}' not found on this host")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SubmitError(f"{shlex.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
    job_id = done.stdout.strip().split(";")[0]
    log = _driver_log_template(config, store_path).replace("%j", job_id)
    log = log.replace("${PBS_JOBID}", job_id)
    logger.info("submitted driver job %s, log %s", job_id, log)
    return SubmittedDriver(job_id, Path(log), script_path)


# --------------------------------------------------------------------------- CLI helpers

_CLI_OPTIONS = (
    ("--queue", "queue", str, "queue / partition of the worker jobs"),
    ("--account", "account", str, "account charged for the jobs"),
    ("--cores", "cores", int, "cores per job"),
    ("--processes-per-job", "processes", int, "Dask worker processes per job"),
    ("--memory", "memory", str, "memory per job, e.g. 16GB"),
    ("--walltime", "walltime", str, "walltime per worker job, HH:MM:SS"),
    ("--jobs", "jobs", int, "fixed number of worker jobs"),
    ("--interface", "interface", str, "network interface of scheduler and workers, e.g. ib0"),
    ("--local-directory", "local_directory", str, "worker scratch directory"),
    ("--log-directory", "log_directory", str, "directory for job logs"),
    ("--driver-walltime", "driver_walltime", str, "walltime of the submitted driver job"),
)


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``[cluster]`` override options (``--queue``, ``--jobs``, ...) to a parser."""
    group = parser.add_argument_group("cluster overrides (over the [cluster] table)")
    for flag, dest, kind, text in _CLI_OPTIONS:
        group.add_argument(flag, dest=f"cluster_{dest}", type=kind, default=None, help=text,
                           metavar=dest.upper())
    group.add_argument("--adapt", dest="cluster_adapt", metavar="MIN:MAX", default=None,
                       help="adaptive number of worker jobs")


def overrides_from_args(args: argparse.Namespace) -> dict:
    """The overrides given on the command line, as a mapping for ``with_overrides``."""
    out = {dest: getattr(args, f"cluster_{dest}", None) for _, dest, _, _ in _CLI_OPTIONS}
    adapt = getattr(args, "cluster_adapt", None)
    if adapt is not None:
        low, sep, high = adapt.partition(":")
        if not (sep and low.isdigit() and high.isdigit()):
            raise _fail("adaptive", f"--adapt {adapt!r}: expected MIN:MAX, e.g. 1:10")
        out["adaptive"] = {"minimum": int(low), "maximum": int(high)}
    return {k: v for k, v in out.items() if v is not None}


def override_arguments(overrides: Mapping) -> list[str]:
    """Command-line flags that reproduce ``overrides`` (inverse of :func:`overrides_from_args`).

    >>> override_arguments({"jobs": 4, "adaptive": {"minimum": 1, "maximum": 9}})
    ['--jobs', '4', '--adapt', '1:9']
    """
    flags = {dest: flag for flag, dest, _, _ in _CLI_OPTIONS}
    args = []
    for key, value in overrides.items():
        if key == "adaptive":
            args += ["--adapt", f"{value['minimum']}:{value['maximum']}"]
        elif key == "partition":
            args += ["--queue", str(value)]
        elif key in flags:
            args += [flags[key], str(value)]
        else:
            raise _fail(key, "cannot be given on the command line")
    return args
