"""Models: one declaration per model, and the registry that finds it.

A model is one :class:`Model` declaration (see ``tests/reference/toymodel.py`` for a complete model in one
file): its ``builder`` (``builder(params, seed, weight_mode=..., ram_budget_gb=...)`` returns an
initialized network with the engine's interface, including ``reset(state=None, seed=None)``),
its populations (``layout_fn(params)``, without building connectivity), its ``parameters``
(units and long names, used for the store's coordinates), optional checks (``validate_fn``,
``memory_fn``), an optional ``theory`` (mean-field fixed points, for ``initial = "meanfield"``)
and an optional ``cost`` (updates and contacts, for the run-time prediction of
``sweeps validate``).  The sweep code asks the declaration and knows nothing else about a model.

``experiment.model`` names a registered model (``clustered_ei``: :mod:`sweeps.models.clustered_ei`)
or ``"package.module:NAME"`` where ``NAME`` is a :class:`Model` or, in the older form, a
builder function with optional ``layout`` and ``validate`` attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Layout", "Model", "ModelCost", "ModelTheory", "Parameter", "PointModel",
           "PopulationInfo", "TheoryResult", "TheoryVariable"]

logger = logging.getLogger(__name__)



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
class ModelCost:
    """What one network costs: updates per ms of model time, expected contacts, neurons and,
    optionally, expected state flips per ms of model time (None: as the reference network)."""

    updates_per_ms: float
    contacts: float
    neurons: int
    flips_per_ms: float | None = None


@dataclass(frozen=True)
class PointModel:
    """A model that computes its own variables per point (no network, no standard measurements).

    Attributes
    ----------
    variables : callable
        ``variables(experiment)`` -> list of :class:`~sweeps.measure.measurements.VariableSpec`.
    simulate : callable
        ``simulate(params, seeds, experiment)`` -> dict of variable name -> array; ``seeds``
        is the point's :class:`~sweeps.spec.seeds.PointSeeds` (results must depend on nothing else).
    """

    variables: Callable[[Any], list]
    simulate: Callable[[dict, Any, Any], dict]


@dataclass(frozen=True)
class TheoryVariable:
    """One quantity a model's theory predicts at every parameter set and focus count.

    Attributes
    ----------
    name, long_name, units : str
        The store variable and its attributes.
    fill : float or int
        Value of entries with nothing to report (padding along ``extra_dim``).
    extra_dim : str, optional
        A trailing dimension of data-dependent length (e.g. one entry per fixed point).
    independent_of : tuple of str
        Swept parameters the quantity does not depend on: it is stored without those axes
        (e.g. a bifurcation value of ``R_Eplus`` over the other parameters).
    """

    name: str
    long_name: str
    fill: float | int
    units: str = "1"
    extra_dim: str | None = None
    independent_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class TheoryResult:
    """Arrays of some :class:`TheoryVariable` (``(sets, focus counts[, extra])`` each) and the
    reasons for entries that could not be computed."""

    arrays: Mapping[str, np.ndarray]
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelTheory:
    """What a model predicts over a table of parameter sets (the ``[theory]`` table).

    ``compute(parameter_sets, focus_counts, names, threads)`` returns a
    :class:`TheoryResult` with the variables ``names`` (all with the same
    ``independent_of``) for every parameter set (a list of dicts) and focus count.
    """

    variables: tuple[TheoryVariable, ...]
    compute: Callable[[list[dict], list[int], tuple[str, ...], int], TheoryResult]

    def variable(self, name: str) -> TheoryVariable:
        return next(v for v in self.variables if v.name == name)


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
    sweep_theory : ModelTheory, optional
        Quantities the model predicts over a grid (``[theory]`` and ``sweeps theory``).
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
    sweep_theory: ModelTheory | None = None

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


