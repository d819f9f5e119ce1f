"""Experiment definitions: TOML files -> frozen, validated :class:`Experiment` objects.

Over 600 lines on purpose: the definition's types and one parsing function per TOML table,
next to the reference of every key below; reading single fields lives in :mod:`sweeps.spec.fields`.

A definition is a TOML file (read with :mod:`tomllib`) with these tables::

    [experiment]
    name = "quickstart"            # required, letters/digits/_-.
    model = "clustered_ei"         # a registered model or "package.module:builder"
    seed = 1234                    # required root seed (integer >= 0)
    description = "..."            # optional

    [parameters]                   # fixed model parameters, passed to the model as a dict
    N_E = 800
    connection_type = "poisson"

    [sweep]                        # one dimension per axis, in file order
    R_Eplus = [1.0, 3.0, 7.25]                 # explicit list
    g = {start = 1.0, stop = 1.4, step = 0.2}  # stop included when it falls on the grid
    kappa = {linspace = [0.0, 1.0, 3]}         # numpy.linspace(a, b, n)
    m_X = {geomspace = [0.01, 0.1, 3]}         # numpy.geomspace(a, b, n) (end values)
    p = {logspace = [-2, -1, 3]}               # numpy.logspace(a, b, n) (exponents)
    networks = 3                               # dimension `network` (0..n-1): connectivity seeds
    inits = 2                                  # dimension `init` (0..m-1): initial state and
                                               # update-order seeds of each network
    # replicates = 3                           # older form: dimension `seed`, one network each
                                               # (same seeds as networks = 3, other name)

    [[sweep.zip]]                  # zipped axes: one dimension named `name`, lists of equal length;
    name = "coupling"              # a list may repeat values, the tuples must be distinct
    R_Eplus = [3.0, 7.25]
    g = [1.0, 1.2]

    [sweep.adaptive]               # optional: refine the swept lattice in rounds within a budget
    variable = "mean_active_clusters"  # (keys and meaning: sweeps.spec.adaptive, docs/ADAPTIVE.md)
    budget = "25 %"
    batch = 40

    [simulation]
    duration = "1 s"               # "<x> ms" | "<x> s" | "<n> steps"; or steps = <n>
    warmup = "200 ms"              # default "0 ms"
    sample_interval = "10 ms"      # same kind (time or steps) as duration; the measured window
                                   # holds floor(duration / sample_interval) samples
    weight_mode = "auto"           # auto | dense | sparse
    ram_budget_gb = 12.0
    initial = "default"            # "default" (the model's) | "meanfield" (fixed point of the
                                   # model's theory) | [a_0, ..., a_{P-1}] one activity per population
    initial_mode = "bernoulli"     # bernoulli | exact (exactly round(a N) neurons on)
    focus_count = 1                # focus clusters of a mean-field start; or swept:
                                   # [sweep] focus_count = [1, 2, 3]  (see sweeps/initial.py)
    # focus_counts = [1, 2, 3, 4, 5]  # or a pool: each init draws one fixed point uniformly
                                   # from those of all these focus counts (identical ones merged)
    fixed_point_stability = "stable"  # stable | unstable | any: which fixed points may start a run

    [output]
    keep_traces = true             # store per-population activity traces
    cluster_threshold = 0.3        # activity above which a cluster becomes active ...
    cluster_off_threshold = 0.2    # ... and below which it is inactive again (default: 2/3 of
                                   # cluster_threshold)
    correlation_neurons = 100      # neurons sampled per population for correlations
    min_episode = "200 ms"         # shortest single-cluster episode for episode statistics
    points_per_chunk = "auto"      # grid points per Zarr chunk, or an integer >= 1
    raster_neurons = 0             # spike rasters: neurons per population (evenly spaced), or
    # raster_stride = 20           # every 20th neuron (ids 0, 20, 40, ...); 0: no raster
    raster_events = 1000           # up-transition times kept per raster neuron (all counted)
    raster_networks = 1            # rasters for networks 0..n-1 ...
    raster_inits = 1               # ... and inits 0..m-1 (every parameter set)

    [cluster]                      # optional, checked by sweeps.execution.batch.config

    [theory]                       # optional: mean-field theory per point (sweeps.theory.compute)
    focus_counts = [1, 2]

    [limits]                       # optional: how large a sweep may be (sweeps.spec.limits)
    points = 10000000              # grid points
    point_memory_gb = 16.0         # one point's recording and results
    store_gb = 1000.0              # the store, uncompressed
    core_hours = 100000.0          # predicted single-core hours

Every problem raises :class:`DefinitionError` with a one-line message that names the field
and the allowed values.  Model parameters are validated by the model itself (see
:func:`sweeps.models.model.check_model`) at every parameter set of grids with up to 1,024 of them,
and beyond at the grid's check points (every value of every axis and every corner), so
nothing runs if any value is invalid; in such a large grid a point invalid only through an
interior combination of values fails at run time with the model's message.  Structural
parameters of a model (e.g. ``N_E``, ``N_I``, ``Q``) cannot be swept.  Swept parameters and
zip names become arrays of the store: they are names (letters, digits, ``_ - .``, not starting
with ``__``) that no variable, inner dimension or coordinate of the store uses
(:meth:`sweeps.plan.SweepPlan.build`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sweeps.errors import DefinitionError, ModelError
from sweeps.measure.measurements import REGISTRY
from sweeps.measure.registry import OptionError, Options
from sweeps.models.checks import check_model
from sweeps.spec.adaptive import Adaptive, parse_adaptive
from sweeps.spec.fields import axis_values, check_keys, optional, require, typename
from sweeps.spec.grid import GridShape
from sweeps.spec.limits import Limits, parse_limits
from sweeps.spec.quantity import Quantity, parse_quantity
from sweeps.spec.theory import Theory, parse_theory
from sweeps.spec.types import DimensionKind, FixedPointStability, InitialMode, Start, StartKind

__all__ = [
    "DefinitionError",
    "Dimension",
    "DimensionKind",
    "Experiment",
    "FixedPointStability",
    "InitialMode",
    "Output",
    "Quantity",
    "Simulation",
    "Start",
    "StartKind",
    "load_experiment",
    "parse_experiment",
]

_TABLES = ("experiment", "parameters", "sweep", "simulation", "output", "cluster", "theory", "limits")
_EXPERIMENT_KEYS = ("name", "model", "seed", "description")
_SIMULATION_KEYS = ("duration", "steps", "warmup", "sample_interval", "weight_mode", "ram_budget_gb",
                    "initial", "initial_mode", "focus_count", "focus_counts", "fixed_point_stability")
INITIAL_FORMS = (StartKind.DEFAULT, StartKind.MEANFIELD)  # the string forms of simulation.initial
WEIGHT_MODES = ("auto", "dense", "sparse")
SEED_DIM = "seed"
#: Replicate dimensions: ``[sweep]`` key -> (dimension name, kind), in grid order.
REPLICATE_KEYS = {"networks": ("network", DimensionKind.NETWORK), "inits": ("init", DimensionKind.INIT)}
_RESERVED_DIMS = (SEED_DIM, "network", "init")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Dimension:
    """One grid dimension: a plain axis, a zip of axes, or a replicate dimension.

    Attributes
    ----------
    name : str
        Dimension name in the store.
    values : dict[str, tuple]
        Parameter name -> values along the dimension (one entry for a plain axis, several for a
        zip, none for ``seed``).
    size : int
        Length of the dimension.
    """

    name: str
    values: dict[str, tuple]
    size: int
    kind: DimensionKind  # a plain string ("axis", ...) is converted

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DimensionKind(self.kind))

    def coordinate(self) -> np.ndarray:
        """The dimension coordinate: the axis values, or 0..size-1 for zips and seeds."""
        if self.kind == DimensionKind.AXIS:
            return np.asarray(self.values[self.name])
        return np.arange(self.size)


@dataclass(frozen=True)
class Simulation:
    """Simulation lengths and engine options."""

    duration: Quantity
    warmup: Quantity
    sample_interval: Quantity
    weight_mode: str = "auto"
    ram_budget_gb: float = 12.0
    initial: Start = Start()  # the model's default, a mean-field fixed point or one activity per population
    initial_mode: InitialMode = InitialMode.BERNOULLI
    focus_count: int = 1  # focus clusters of a mean-field start, unless swept
    focus_counts: tuple[int, ...] | None = None  # a pool: each init draws one fixed point of these
    fixed_point_stability: FixedPointStability = FixedPointStability.STABLE

    @property
    def n_samples(self) -> int:
        """Number of samples in the measured window."""
        return int(math.floor(self.duration.value / self.sample_interval.value + 1e-9))

    def sample_times(self) -> np.ndarray:
        """Sample times after warm-up, in the unit of ``sample_interval``."""
        return self.sample_interval.value * np.arange(1, self.n_samples + 1)


class Output(Options):
    """What to measure and keep: the ``[output]`` options by name, ``output["name"]``.

    The options are those declared in the measurement registry
    (:data:`sweeps.measure.measurements.REGISTRY`), measurements registered elsewhere included.
    """

    keep_traces = property(lambda self: self.values["keep_traces"])
    cluster_threshold = property(lambda self: self.values["cluster_threshold"])
    cluster_off_threshold = property(lambda self: self.values["cluster_off_threshold"])
    correlation_neurons = property(lambda self: self.values["correlation_neurons"])  # per population
    points_per_chunk = property(lambda self: self.values["points_per_chunk"])  # None: automatic
    min_episode_ms = property(lambda self: self.values["min_episode_ms"])


@dataclass(frozen=True)
class Experiment(GridShape):
    """A validated experiment definition.

    Attributes
    ----------
    name, model, seed, description
        From ``[experiment]``; ``seed`` is the root seed.
    parameters : dict
        Fixed model parameters.
    dimensions : tuple of Dimension
        Grid dimensions in order; the replicate dimensions (``network``, ``init`` or ``seed``)
        come last.
    simulation : Simulation
    output : Output
    cluster : dict
        The ``[cluster]`` table, verbatim.
    text : str
        The definition text; ``sha256`` its hash.
    """

    name: str
    model: str
    seed: int
    description: str
    parameters: dict[str, Any]
    dimensions: tuple[Dimension, ...]
    simulation: Simulation
    output: Output
    cluster: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    source: str = "<string>"
    theory: Theory | None = None  # the [theory] table; not part of identity()
    overrides: tuple[str, ...] = ()  # command-line key=value overrides applied to the file's text
    adaptive: Adaptive | None = None  # [sweep.adaptive]: refine the lattice in rounds (budget not in identity())
    limits: Limits = Limits()  # the [limits] table; not part of identity()

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Experiment:
        """Validate a definition given as a dict with the TOML file's tables.

        ``{"experiment": {"name": ..., "model": ..., "seed": ...}, "sweep": {...}, ...}``;
        the stored definition text is the dict as JSON.
        """
        if not isinstance(document, dict):
            raise DefinitionError("definition", f"must be a dict of tables, got {typename(document)}")
        try:
            text = json.dumps(document, indent=1)
        except (TypeError, ValueError) as err:
            raise DefinitionError("definition", f"must hold only tables, lists, strings, numbers and booleans ({err})") from None
        return _from_document(json.loads(text), text, "<dict>")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    @property
    def swept_parameters(self) -> tuple[str, ...]:
        return tuple(p for d in self.dimensions for p in d.values)

    def identity(self) -> dict[str, Any]:
        """The parts that decide the results (everything but description and [cluster])."""
        return {
            "model": self.model,
            "seed": self.seed,
            "parameters": _jsonable(self.parameters),
            "sweep": {
                d.name: _jsonable(d.values[d.name]) if d.kind == DimensionKind.AXIS else _jsonable(d.values) if d.kind == DimensionKind.ZIP
                else d.size
                for d in self.dimensions
            },
            "seeding": "by role and coordinates (network, init)",
            "dimension_order": list(self.dims),
            "simulation": {
                "duration": str(self.simulation.duration),
                "warmup": str(self.simulation.warmup),
                "sample_interval": str(self.simulation.sample_interval),
                "weight_mode": self.simulation.weight_mode,
                "ram_budget_gb": self.simulation.ram_budget_gb,
                "initial": _jsonable(self.simulation.initial.to_json()),
                "initial_mode": self.simulation.initial_mode,
                "focus_count": self.simulation.focus_count,
                **self._start_choice(),
            },
            "output": _jsonable(self._output_identity()),
            **({"adaptive": self.adaptive.identity()} if self.adaptive is not None else {}),
        }

    def _output_identity(self) -> dict[str, Any]:
        """The ``[output]`` values; without rasters (``raster_neurons = 0``) the raster options
        change nothing and are left out (older stores keep their identity)."""
        values = dict(self.output.values)
        if not values.get("raster_neurons") and not values.get("raster_stride"):
            values = {k: v for k, v in values.items() if not k.startswith("raster_")}
        return values


    def _start_choice(self) -> dict[str, Any]:
        """The start-choice keys, only where they differ from the default (older stores keep
        their identity)."""
        sim, keys = self.simulation, {}
        if sim.focus_counts is not None:
            keys["focus_counts"] = list(sim.focus_counts)
        if sim.fixed_point_stability != FixedPointStability.STABLE:
            keys["fixed_point_stability"] = sim.fixed_point_stability.value
        return keys


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> Experiment:
    """Read and validate an experiment definition file.

    Parameters
    ----------
    path : str or Path
        A TOML file.
    overrides : sequence of str
        ``key=value`` overrides (dotted keys, TOML values; :mod:`sweeps.spec.overrides`); the
        experiment's ``text`` is then the resulting definition.

    Returns
    -------
    Experiment

    Raises
    ------
    DefinitionError
        If the file cannot be read or is invalid (one-line message naming the field).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise DefinitionError("file", f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DefinitionError("file", f"{path} is not UTF-8 text (byte {err.start} is {err.object[err.start]:#04x}); "
                              "a definition is a TOML file in UTF-8") from None
    if not overrides:
        return parse_experiment(text, source=str(path))
    from sweeps.spec.overrides import apply_overrides

    experiment = parse_experiment(apply_overrides(text, overrides, str(path)), source=str(path))
    return dataclasses.replace(experiment, overrides=tuple(overrides))


def parse_experiment(text: str, source: str = "<string>") -> Experiment:
    """Parse and validate definition text (see the module docstring for the schema)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DefinitionError("syntax", f"invalid TOML: {err}") from None
    return _from_document(doc, text, source)


def _from_document(doc: dict, text: str, source: str) -> Experiment:
    check_keys("", doc, _TABLES)
    for table in _TABLES:
        if table in doc and not isinstance(doc[table], dict):
            raise DefinitionError(table, f"must be a table [{table}], got {typename(doc[table])}")
    if "experiment" not in doc:
        raise DefinitionError("experiment", "missing table [experiment] (name, model, seed)")

    exp = doc["experiment"]
    check_keys("experiment", exp, _EXPERIMENT_KEYS)
    name = require(exp, "experiment", "name", str)
    if not _NAME_RE.match(name):
        raise DefinitionError("experiment.name", f"{name!r} must start with a letter and use only letters, digits, _ - .")
    model = require(exp, "experiment", "model", str)
    seed = require(exp, "experiment", "seed", int)
    if seed < 0:
        raise DefinitionError("experiment.seed", f"must be an integer >= 0, got {seed}")
    description = optional(exp, "experiment", "description", str, "")

    parameters = dict(doc.get("parameters", {}))
    for key, value in parameters.items():
        if not isinstance(value, bool | int | float | str):
            raise DefinitionError(f"parameters.{key}", f"must be a number, string or boolean, got {typename(value)}")
    if "focus_count" in parameters:
        raise DefinitionError("parameters.focus_count", "is not a model parameter; set it in [simulation] or [sweep]")
    sweep = dict(doc.get("sweep", {}))
    adaptive_table = sweep.pop("adaptive", None)
    dimensions = _parse_sweep(sweep, parameters)
    limits = parse_limits(doc.get("limits", {}))
    limits.check_points(math.prod(d.size for d in dimensions), " x ".join(f"{d.name}={d.size}" for d in dimensions))
    simulation = _parse_simulation(doc.get("simulation", {}))
    output = _parse_output(doc.get("output", {}))

    _check_focus_axis(dimensions, simulation)
    theory = parse_theory(doc.get("theory"))

    experiment = Experiment(
        name=name,
        model=model,
        seed=seed,
        description=description,
        parameters=parameters,
        dimensions=dimensions,
        simulation=simulation,
        output=output,
        cluster=dict(doc.get("cluster", {})),
        text=text,
        source=source,
        theory=theory,
        adaptive=parse_adaptive(adaptive_table, dimensions, theory),
        limits=limits,
    )
    try:
        layout = check_model(experiment)
    except ModelError as err:
        raise DefinitionError(err.field, str(err)) from None
    if layout is not None and "correlation_neurons" in doc.get("output", {}):
        _check_sampled_neurons(output.correlation_neurons, layout)
    return experiment


def _check_sampled_neurons(per_population: int, layout) -> None:
    """A given ``correlation_neurons`` must not exceed the largest population (every
    population samples ``min(correlation_neurons, size)`` neurons; the default is capped so)."""
    largest = max(layout.populations, key=lambda p: p.size, default=None)
    if largest is not None and per_population > largest.size:
        raise DefinitionError("output.correlation_neurons", f"{per_population} is more than the largest population "
                              f"({largest.name}: {largest.size} neurons); at most {largest.size} "
                              "(each population samples min(correlation_neurons, its size))")


def _parse_sweep(sweep: dict, parameters: dict) -> tuple[Dimension, ...]:
    dims: list[Dimension] = []
    seen: dict[str, str] = {}

    def claim(param: str, where: str) -> None:
        _check_name(where, param)
        if param in parameters:
            raise DefinitionError(where, f"{param!r} is also fixed in [parameters]; set it in one place")
        if param in _RESERVED_DIMS:
            raise DefinitionError(where, f"{param!r} is reserved for replicates; use sweep.networks or sweep.inits")
        if param in seen:
            raise DefinitionError(where, f"{param!r} is already swept in {seen[param]}")
        seen[param] = where

    counts = {}
    for key in ("replicates", *REPLICATE_KEYS):
        counts[key] = optional(sweep, "sweep", key, int, None)
        if counts[key] is not None and counts[key] < 1:
            raise DefinitionError(f"sweep.{key}", f"must be an integer >= 1, got {counts[key]}")
    if counts["replicates"] is not None and (counts["networks"] or counts["inits"]):
        raise DefinitionError("sweep.replicates", "cannot be combined with networks/inits: replicates = n "
                              "is the older form of networks = n (dimension 'seed'); use networks and inits")
    for key, spec in sweep.items():
        if key == "replicates" or key in REPLICATE_KEYS:
            continue
        if key == "zip":
            if not isinstance(spec, list) or not all(isinstance(z, dict) for z in spec):
                raise DefinitionError("sweep.zip", "must be an array of tables [[sweep.zip]] with name and lists")
            for i, table in enumerate(spec):
                dims.append(_parse_zip(f"sweep.zip[{i}]", table, claim, seen))
            continue
        where = f"sweep.{key}"
        claim(key, where)
        values = axis_values(where, spec)
        dims.append(Dimension(key, {key: values}, len(values), DimensionKind.AXIS))
    names = [d.name for d in dims]
    for dim_name in names:
        if names.count(dim_name) > 1:
            raise DefinitionError("sweep.zip", f"dimension name {dim_name!r} used twice")
    if counts["networks"] is None and counts["inits"] is None:
        dims.append(Dimension(SEED_DIM, {}, counts["replicates"] or 1, DimensionKind.SEED))
    for key, (dim_name, kind) in REPLICATE_KEYS.items():
        if counts[key] is not None:
            dims.append(Dimension(dim_name, {}, counts[key], kind))
    return tuple(dims)


def _check_name(where: str, name: str) -> None:
    """A swept parameter becomes a store array: a plain name (no ``/``, not ``__...``)."""
    if not _NAME_RE.match(name) or name.startswith("__"):
        raise DefinitionError(where, f"{name!r} cannot name an array of the store: use letters, digits, _ - . "
                              "(starting with a letter or _, not with __)")


def _parse_zip(where: str, table: dict, claim, seen: dict) -> Dimension:
    name = require(table, where, "name", str)
    _check_name(f"{where}.name", name)
    if not _NAME_RE.match(name) or name in _RESERVED_DIMS:
        raise DefinitionError(f"{where}.name", f"{name!r} is not a valid dimension name (not seed, network, init)")
    if name in seen:
        raise DefinitionError(f"{where}.name", f"{name!r} clashes with a swept parameter")
    members = {k: v for k, v in table.items() if k != "name"}
    if len(members) < 2:
        raise DefinitionError(where, "a zip needs at least two parameters with lists of equal length")
    values: dict[str, tuple] = {}
    for param, spec in members.items():
        claim(param, f"{where}.{param}")
        values[param] = axis_values(f"{where}.{param}", spec, distinct=False)
    lengths = {p: len(v) for p, v in values.items()}
    if len(set(lengths.values())) != 1:
        raise DefinitionError(where, f"zipped lists must have equal lengths, got {lengths}")
    rows = list(zip(*values.values(), strict=True))  # a column may repeat a value, a row may not
    repeated = sorted({i for i, row in enumerate(rows) if rows.index(row) != i})
    if repeated:
        first = rows[repeated[0]]
        raise DefinitionError(where, f"entry {repeated[0]} {dict(zip(values, first, strict=True))} repeats entry "
                              f"{rows.index(first)}; the tuples of a zip must be distinct")
    return Dimension(name, values, next(iter(lengths.values())), DimensionKind.ZIP)


def _check_focus_axis(dimensions: tuple[Dimension, ...], simulation: Simulation) -> None:
    """``focus_count`` values are integers >= 0 and need ``initial = "meanfield"``."""
    for dim in dimensions:
        if "focus_count" not in dim.values:
            continue
        where = "sweep.focus_count" if dim.kind == DimensionKind.AXIS else f"sweep.zip {dim.name}.focus_count"
        values = dim.values["focus_count"]
        if not all(isinstance(v, int) and v >= 0 for v in values):
            raise DefinitionError(where, f"must be integers >= 0, got {list(values)}")
        if simulation.initial.kind != StartKind.MEANFIELD:
            raise DefinitionError(where, "a focus_count axis needs simulation.initial = \"meanfield\"")
        if simulation.focus_counts is not None:
            raise DefinitionError(where, "a focus_count axis and simulation.focus_counts (a pool) exclude each other")


#: limits per point, checked before anything runs: samples of the measured window (the traces
#: hold one value per sample and population), model time of a run or warm-up (10^9 ms is ~12
#: days of model time: about a day of computing for the reference network), update steps
MAX_SAMPLES = 10**7
MAX_MODEL_MS = 1e9
MAX_STEPS = 1e13


def _parse_simulation(sim: dict) -> Simulation:
    check_keys("simulation", sim, _SIMULATION_KEYS)
    if ("duration" in sim) == ("steps" in sim):
        raise DefinitionError("simulation.duration", "give exactly one of duration (\"1 s\", \"500 ms\") or steps (integer)")
    if "steps" in sim:
        optional(sim, "simulation", "steps", int, None)
        duration = parse_quantity("simulation.steps", sim["steps"])
    else:
        duration = parse_quantity("simulation.duration", sim["duration"])
    warmup = parse_quantity("simulation.warmup", sim.get("warmup", "0 ms"))
    if "sample_interval" not in sim:
        raise DefinitionError("simulation.sample_interval", "missing (e.g. \"10 ms\" or \"1000 steps\")")
    interval = parse_quantity("simulation.sample_interval", sim["sample_interval"])
    if interval.value <= 0 or duration.value <= 0:
        raise DefinitionError("simulation.sample_interval", "duration and sample_interval must be > 0")
    if interval.is_time != duration.is_time:
        raise DefinitionError("simulation.sample_interval", f"must be in the same kind of unit as the duration ({duration.unit}), got {interval}")
    if duration.value < interval.value:
        raise DefinitionError("simulation.duration", f"run of {duration} is shorter than one sample interval ({interval})")
    for where, length in (("simulation.duration", duration), ("simulation.warmup", warmup)):
        limit = MAX_MODEL_MS if length.is_time else MAX_STEPS
        if length.value > limit:
            raise DefinitionError(where, f"{length} is longer than the limit of {limit:g} {length.unit} per point")
    samples = duration.value / interval.value
    if samples > MAX_SAMPLES:
        raise DefinitionError("simulation.sample_interval", f"{interval} gives {samples:.3g} samples of a {duration} run, "
                                                            f"more than the limit of {MAX_SAMPLES} per point")
    weight_mode = optional(sim, "simulation", "weight_mode", str, "auto")
    if weight_mode not in WEIGHT_MODES:
        raise DefinitionError("simulation.weight_mode", f"{weight_mode!r} is not one of {', '.join(WEIGHT_MODES)}")
    budget = float(optional(sim, "simulation", "ram_budget_gb", (int, float), 12.0))
    if not (math.isfinite(budget) and budget > 0):
        raise DefinitionError("simulation.ram_budget_gb", f"must be a finite number > 0, got {budget}")
    initial = sim.get("initial", StartKind.DEFAULT.value)
    if isinstance(initial, list):
        if not initial or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in initial):
            raise DefinitionError("simulation.initial", f"a list must hold one activity per population, got {initial!r}")
        if not all(0.0 <= v <= 1.0 for v in initial):
            raise DefinitionError("simulation.initial", f"activities must lie in [0, 1], got {initial!r}")
        start = Start.given(initial)
    elif initial in INITIAL_FORMS:
        start = Start(StartKind(initial))
    else:
        raise DefinitionError("simulation.initial", f"{initial!r} is not one of {', '.join(INITIAL_FORMS)} "
                              "or a list of activities (one per population)")
    initial_mode = optional(sim, "simulation", "initial_mode", str, InitialMode.BERNOULLI.value)
    if initial_mode not in tuple(InitialMode):
        raise DefinitionError("simulation.initial_mode", f"{initial_mode!r} is not one of {', '.join(InitialMode)}")
    focus_count = optional(sim, "simulation", "focus_count", int, 1)
    for key in ("focus_count", "focus_counts", "fixed_point_stability"):
        if key in sim and start.kind != StartKind.MEANFIELD:
            raise DefinitionError(f"simulation.{key}", "needs simulation.initial = \"meanfield\"")
    pool = optional(sim, "simulation", "focus_counts", list, None)
    if pool is not None:
        if "focus_count" in sim:
            raise DefinitionError("simulation.focus_counts", "give focus_count (one) or focus_counts (a pool), not both")
        if not pool or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in pool):
            raise DefinitionError("simulation.focus_counts", f"must be a non-empty list of integers >= 0, got {pool!r}")
        if len(set(pool)) != len(pool):
            raise DefinitionError("simulation.focus_counts", f"duplicate values in {pool!r}")
        pool = tuple(pool)
    stability = optional(sim, "simulation", "fixed_point_stability", str, FixedPointStability.STABLE.value)
    if stability not in tuple(FixedPointStability):
        raise DefinitionError("simulation.fixed_point_stability",
                              f"{stability!r} is not one of {', '.join(FixedPointStability)}")
    return Simulation(duration, warmup, interval, weight_mode, budget, start, InitialMode(initial_mode), focus_count,
                      pool, FixedPointStability(stability))


def _parse_output(out: dict) -> Output:
    options = REGISTRY.options
    check_keys("output", out, tuple(options))
    given = {key: optional(out, "output", key, option.types, None) for key, option in options.items() if key in out}
    try:
        return Output(REGISTRY.resolve_options(given))
    except OptionError as err:
        raise DefinitionError(f"output.{err.key}", err.message) from None
