"""Models: one declaration per model, and the registry that finds it.

A model is one :class:`Model` declaration (see ``tests/toymodel.py`` for a complete model in one
file): its ``builder`` (``builder(params, seed, weight_mode=..., ram_budget_gb=...)`` returns an
initialized network with the engine's interface, including ``reset(state=None, seed=None)``),
its populations (``layout_fn(params)``, without building connectivity), its ``parameters``
(units and long names, used for the store's coordinates), optional checks (``validate_fn``,
``memory_fn``), an optional ``theory`` (mean-field fixed points, for ``initial = "meanfield"``)
and an optional ``cost`` (updates and contacts, for the run-time prediction of
``sweeps validate``).  The sweep code asks the declaration and knows nothing else about a model.

``experiment.model`` names a registered model (``clustered_ei``: :mod:`sweeps.clustered_model`)
or ``"package.module:NAME"`` where ``NAME`` is a :class:`Model` or, in the older form, a
builder function with optional ``layout`` and ``validate`` attributes.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.grid import Grid

__all__ = ["FixedPoint", "Layout", "Model", "ModelCost", "ModelError", "Parameter", "PointModel", "PopulationInfo",
           "check_model", "experiment_layout", "resolve"]

logger = logging.getLogger(__name__)

#: Registered model names -> the declaration's dotted path.
REGISTERED = {"clustered_ei": "sweeps.clustered_model:MODEL", "null": "sweeps.null_model:MODEL"}


class ModelError(ValueError):
    """An unknown model or invalid model parameters; ``field`` names the definition field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class PopulationInfo:
    """One population: name, cell type ("E", "I" or None), cluster index or None, size."""

    name: str
    cell_type: str | None
    cluster: int | None
    size: int


@dataclass(frozen=True)
class Layout:
    """The populations of a network, in network order."""

    populations: tuple[PopulationInfo, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.populations)

    @property
    def clusters(self) -> tuple[int, ...]:
        """Sorted cluster indices that occur (empty for unclustered models)."""
        return tuple(sorted({p.cluster for p in self.populations if p.cluster is not None}))

    @classmethod
    def from_populations(cls, populations) -> Layout:
        """Build from engine population objects or mappings (name, cell_type, cluster, N)."""

        def get(pop, key, default=None):
            if isinstance(pop, Mapping):
                return pop.get(key, default)
            return getattr(pop, key, default)

        infos = []
        for pop in populations:
            size = get(pop, "N", None)
            size = get(pop, "size", 0) if size is None else size
            cluster = get(pop, "cluster")
            infos.append(
                PopulationInfo(
                    str(get(pop, "name")),
                    get(pop, "cell_type"),
                    None if cluster is None else int(cluster),
                    int(size),
                )
            )
        return cls(tuple(infos))


@dataclass(frozen=True)
class Parameter:
    """A model parameter as the store shows it: units and a long name."""

    name: str
    units: str = "1"
    long_name: str = ""


@dataclass(frozen=True)
class FixedPoint:
    """A mean-field fixed point: one rate per population (focus clusters first) and stability."""

    rates: np.ndarray
    stable: bool


@dataclass(frozen=True)
class ModelCost:
    """What one network costs: updates per ms of model time, expected contacts, neurons."""

    updates_per_ms: float
    contacts: float
    neurons: int


@dataclass(frozen=True)
class PointModel:
    """A model that computes its own variables per point (no network, no standard measurements).

    Attributes
    ----------
    variables : callable
        ``variables(experiment)`` -> list of :class:`~sweeps.measurements.VariableSpec`.
    simulate : callable
        ``simulate(params, seeds, experiment)`` -> dict of variable name -> array; ``seeds``
        is the point's :class:`~sweeps.seeds.PointSeeds` (results must depend on nothing else).
    """

    variables: Callable[[Any], list]
    simulate: Callable[[dict, Any, Any], dict]


@dataclass(frozen=True)
class Model:
    """A model declaration (see the module docstring).

    Attributes
    ----------
    name : str
    builder : callable
        ``builder(params, seed, weight_mode=..., ram_budget_gb=...)`` -> initialized network.
    layout_fn : callable, optional
        ``layout_fn(params)`` -> populations (mappings or objects with name, cell_type,
        cluster, N); without it one network is built to read them.
    validate_fn, memory_fn : callable, optional
        Raise ``ValueError`` for invalid parameters / a network over the memory budget.
    parameters : tuple of Parameter
        Units and long names of the parameters (others: units "1").
    theory : callable, optional
        ``theory(params, focus_count)`` -> sequence of fixed points with ``rates`` (one per
        population, in network order, the first ``focus_count`` clusters being the focus ones)
        and ``stable``.
    cost : callable, optional
        ``cost(params)`` -> :class:`ModelCost`.
    structural : tuple of str
        Parameters that set the populations (their number or sizes, e.g. ``N_E``, ``Q``):
        they cannot be swept, since one store holds one population layout.
    point : PointModel, optional
        A model that measures itself: its own variables and a function computing them per
        point, instead of building a network and the standard measurements.
    """

    name: str
    builder: Callable[..., Any]
    layout_fn: Callable[[dict], Any] | None = None
    validate_fn: Callable[[dict], Any] | None = None
    memory_fn: Callable[..., Any] | None = None
    parameters: tuple[Parameter, ...] = ()
    theory: Callable[[dict, int], Any] | None = None
    cost: Callable[[dict], ModelCost] | None = None
    structural: tuple[str, ...] = ()
    point: PointModel | None = None

    def units(self, name: str) -> str:
        """Units of parameter ``name`` ("1" when not declared)."""
        return next((p.units for p in self.parameters if p.name == name), "1")

    def long_name(self, name: str) -> str:
        """Long name of parameter ``name`` (the name itself when not declared)."""
        return next((p.long_name or name for p in self.parameters if p.name == name), name)

    def build(self, params: dict, seed: np.random.SeedSequence, weight_mode: str, ram_budget_gb: float):
        """Build an initialized network for one grid point."""
        return self.builder(dict(params), seed, weight_mode=weight_mode, ram_budget_gb=ram_budget_gb)

    def validate(self, params: dict) -> None:
        """Raise ``ValueError`` if ``params`` are invalid for this model."""
        if self.validate_fn is not None:
            self.validate_fn(dict(params))

    def check_memory(self, params: dict, weight_mode: str, ram_budget_gb: float) -> None:
        """Raise ``ValueError`` if the network would not fit ``ram_budget_gb`` (cheap estimate)."""
        if self.memory_fn is not None:
            self.memory_fn(dict(params), weight_mode, ram_budget_gb)

    def layout(self, params: dict, seed: np.random.SeedSequence | None = None) -> Layout:
        """Population layout, without building connectivity when the model allows it."""
        if self.layout_fn is not None:
            return Layout.from_populations(self.layout_fn(dict(params)))
        logger.info("model %s has no layout(); building one network to read its populations", self.name)
        net = self.build(params, seed or np.random.SeedSequence(0), "auto", 12.0)
        return Layout.from_populations(net.populations)


def resolve(name: str) -> Model:
    """Resolve a registered model name or a ``"package.module:function"`` path.

    Raises
    ------
    ModelError
        If the model is unknown or cannot be imported.
    """
    field = "experiment.model"
    path = REGISTERED.get(name, name)
    if ":" not in path:
        raise ModelError(field, f"unknown model {name!r}; allowed: {', '.join(REGISTERED)} or 'package.module:function'")
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(field, f"cannot import {module_name!r} for model {name!r}: {err}") from None
    builder = getattr(module, attr, None)
    if isinstance(builder, Model):
        return builder
    if not callable(builder):
        raise ModelError(field, f"{module_name!r} has no callable {attr!r} (model {name!r})")
    return Model(name, builder, getattr(builder, "layout", None), getattr(builder, "validate", None))


def _refuse_structural(experiment, model: Model) -> None:
    for dim in experiment.dimensions:
        for name in dim.values:
            if name in model.structural:
                field = f"sweep.{name}" if dim.kind == "axis" else f"sweep.zip {dim.name}.{name}"
                raise ModelError(field, f"{name} sets the populations of model {model.name!r} (structural "
                                 f"parameters: {', '.join(model.structural)}) and cannot be swept: one store "
                                 f"holds one population layout; fix {name} in [parameters] and run one "
                                 "sweep per value")


#: Grids with at most this many parameter sets are checked at every one of them.
EXHAUSTIVE_CHECKS = 1024


def check_model(experiment) -> None:
    """Validate the model and its parameters before any work, and a constant layout.

    Structural parameters (:attr:`Model.structural`) must not be swept.  The checks (the
    model's ``validate``, memory estimate, layout and start) run at the grid's check points
    (every parameter set of grids with at most :data:`EXHAUSTIVE_CHECKS` of them; beyond,
    :meth:`Grid.cross_points` and :meth:`Grid.corner_points`: every value of every axis and
    every corner, ``1 + sum(size - 1) + 2**dims`` points instead of every point), so a
    10^6-point grid validates in well under a second.  A parameter violating a constraint
    that is monotone in each parameter is always found; in a larger grid a point made
    invalid only by an interior combination of values fails at run time, with the model's
    message.

    Raises
    ------
    ModelError
        Naming the field and the grid point.
    """
    model = resolve(experiment.model)
    _refuse_structural(experiment, model)
    grid = Grid.from_experiment(experiment)
    first_layout = None
    if grid.n_parameter_points() <= EXHAUSTIVE_CHECKS:
        check_points = grid.parameter_points()
    else:
        check_points = sorted(set(grid.cross_points()) | set(grid.corner_points()))
    for index in check_points:
        params = grid.parameters(index)
        where = "parameters" if not experiment.swept_parameters else f"parameters at {grid.label(index, replicate=False)}"
        try:
            model.validate(params)
        except ValueError as err:
            raise ModelError(where, str(err).splitlines()[0]) from None
        sim = experiment.simulation
        try:
            model.check_memory(params, sim.weight_mode, sim.ram_budget_gb)
        except ValueError as err:
            at = f" (at {grid.label(index, replicate=False)})" if experiment.swept_parameters else ""
            raise ModelError("simulation.ram_budget_gb", str(err).splitlines()[0] + at) from None
        if model.layout_fn is None:
            _check_start(experiment, model, None, grid, index)
            continue
        try:
            layout = model.layout(params)
        except ValueError as err:
            raise ModelError(where, str(err).splitlines()[0]) from None
        _check_start(experiment, model, layout, grid, index)
        if first_layout is None:
            first_layout = layout
        elif layout != first_layout:
            raise ModelError("sweep", f"the populations (names or sizes) change across the grid at "
                             f"{grid.label(index, replicate=False)}; swept parameters must keep the "
                             "population layout fixed")


def _check_start(experiment, model: Model, layout: Layout | None, grid: Grid, index: int) -> None:
    """``simulation.initial`` and ``focus_count`` against the model's populations and theory."""
    sim = experiment.simulation
    if layout is None:  # an older model without layout(): populations unknown before a build
        if sim.initial != "default":
            raise ModelError("simulation.initial", f"model {experiment.model!r} declares no populations (layout)")
        return
    if isinstance(sim.initial, tuple) and len(sim.initial) != len(layout.populations):
        raise ModelError("simulation.initial", f"needs {len(layout.populations)} activities (one per population "
                         f"{', '.join(layout.names[:4])}{', ...' if len(layout.names) > 4 else ''}), got {len(sim.initial)}")
    if sim.initial != "meanfield":
        return
    if model.theory is None:
        raise ModelError("simulation.initial", f"model {experiment.model!r} declares no theory, so \"meanfield\" "
                         "is not available; use \"default\" or a list of activities")
    focus = grid.run_options(index).get("focus_count", sim.focus_count)
    swept = any("focus_count" in d.values for d in experiment.dimensions)
    q = len(layout.clusters)
    if not 0 <= focus <= q:
        field = "sweep.focus_count" if swept else "simulation.focus_count"
        raise ModelError(field, f"{focus} is outside 0..Q = 0..{q} (clusters of the model)")


def experiment_layout(experiment) -> Layout:
    """The population layout shared by all grid points of ``experiment``."""
    grid = Grid.from_experiment(experiment)
    return resolve(experiment.model).layout(grid.parameters(0), grid.seeds(0).connectivity)
