"""The ``[cluster]`` table of an experiment: validated :class:`ClusterConfig` and CLI overrides.

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

Settings the table (and the command line) leave out come from the site's dask-jobqueue
configuration (``jobqueue.yaml``, e.g. set up by the cluster's admins) and are passed to
dask-jobqueue as unset, so the site's file applies; only where neither sets them do the
defaults here apply (1 core, 1 process, 2GB, one hour).

Workers leave gracefully before their walltime (dask ``--lifetime`` with a stagger, derived
from ``walltime``: by default they leave between ``walltime - margin - 2*stagger`` and
``walltime - margin`` with ``margin = min(5 min, walltime/10)`` and ``stagger = min(2 min,
walltime/20)``), and the cluster keeps the requested number of jobs by submitting new ones, so
a job hitting its walltime (or cancelled with ``scancel``) costs no lost work: a fixed ``jobs``
count is kept by ``adapt(minimum=jobs, maximum=jobs)``, which resubmits ended jobs.
``--lifetime-restart`` is deliberately not used: it would restart the worker inside the same,
expiring, job. SLURM jobs inherit the submitting environment; PBS worker jobs do not, so give
PBS a ``job_script_prologue`` that activates the environment.

:func:`add_cluster_arguments` / :func:`overrides_from_args` give the command-line overrides
(``--queue``, ``--cores``, ``--jobs``, ...) of the table; :func:`override_arguments` turns
them back into flags (for the driver job of ``sweeps submit``).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sweeps.errors import ClusterConfigError
from sweeps.execution.batch.systems import BATCH_SYSTEMS

_WALLTIME_RE = re.compile(r"^(?:(\d+)-)?(\d+):([0-5]\d):([0-5]\d)$")
_INT_FIELDS = ("cores", "processes", "jobs")
_STR_FIELDS = ("queue", "account", "memory", "walltime", "interface", "local_directory",
               "log_directory", "python", "job_name", "driver_walltime", "driver_memory")
_LIST_FIELDS = ("job_extra_directives", "job_script_prologue")
_DURATION_FIELDS = ("lifetime_margin", "lifetime_stagger")
_SITE_FIELDS = ("cores", "processes", "memory", "walltime")
_KNOWN_KEYS = ("kind", "partition", "adaptive", *_INT_FIELDS, *_STR_FIELDS, *_LIST_FIELDS,
               *_DURATION_FIELDS)


def _fail(field: str, message: str) -> ClusterConfigError:
    return ClusterConfigError(f"cluster.{field}: {message}")


def parse_walltime(text: str, field: str = "walltime") -> int:
    """Seconds in a ``HH:MM:SS`` duration (hours may exceed 24) or SLURM's ``D-HH:MM:SS``.

    >>> parse_walltime("01:30:00")
    5400
    >>> parse_walltime("1-12:00:00")
    129600
    """
    match = _WALLTIME_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise _fail(field, f"{text!r} is not a duration HH:MM:SS or D-HH:MM:SS (e.g. '04:00:00', '1-00:00:00')")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    seconds_total = 86400 * days + 3600 * hours + 60 * minutes + seconds
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
    #: the keys set by the table or the command line; the others come from the site's
    #: dask-jobqueue configuration (jobqueue.yaml) where it sets them, else the defaults above
    given: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, table: Mapping | None, kind: str | None = None) -> ClusterConfig:
        """Validate a ``[cluster]`` table (a plain mapping, e.g. from ``tomllib``).

        Parameters
        ----------
        table : mapping or None
            The table; ``None`` means all defaults.
        kind : str, optional
            Batch system, a name of :data:`~sweeps.execution.batch.systems.BATCH_SYSTEMS` (``"slurm"``,
            ``"pbs"``); overrides the table's own ``kind`` key.

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
        if kind not in BATCH_SYSTEMS:
            raise _fail("kind", f"{kind!r} is not one of {', '.join(BATCH_SYSTEMS)}")
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
        given = frozenset(values)
        for name in _SITE_FIELDS:  # unset here: the site's jobqueue.yaml, if it sets one
            site = site_setting(kind, name)
            if name not in values and site is not None:
                values[name] = site
        config = cls(kind=kind, **values, given=given)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.cores % self.processes:
            raise _fail("processes", f"{self.processes} does not divide cores={self.cores}")
        for name in ("memory", "driver_memory"):
            try:
                from dask.utils import parse_bytes  # dask only when a [cluster] table is used

                nbytes = parse_bytes(getattr(self, name))
            except ValueError:
                nbytes = 0
            if nbytes <= 0:
                raise _fail(name, f"{getattr(self, name)!r} is not an amount of memory like '4GB'")
        for name in ("walltime", "driver_walltime"):  # D-HH:MM:SS as HH:MM:SS (PBS reads only that)
            if getattr(self, name) is not None:
                object.__setattr__(self, name, format_walltime(parse_walltime(getattr(self, name), name)))
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
            if value is None or (f.name not in self.given and f.name != "kind"):
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


def site_setting(kind: str, name: str):
    """The site's dask-jobqueue setting ``jobqueue.<kind>.<name>`` (jobqueue.yaml), or None.

    Values equal to dask-jobqueue's own defaults count as unset (this package's defaults apply).
    """
    import contextlib

    import dask.config

    with contextlib.suppress(ImportError):  # without the cluster extra: the site's file only
        import dask_jobqueue  # noqa: F401  (registers its defaults, which a site's file overrides)

    key = f"jobqueue.{kind}.{name}"
    value = dask.config.get(key, default=None)
    default = dask.config.get(key, default=None, config=dask.config.merge(*dask.config.defaults))
    return None if value == default else value


def _parse_duration(field: str, value) -> float:
    try:
        from dask.utils import parse_timedelta

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
