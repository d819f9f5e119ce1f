"""Model registry: a model name or a dotted path -> builder, layout and parameter validation.

Registered models:

``clustered_ei``
    :class:`binnet_core.clustered.ClusteredEINetwork` with :func:`binnet_core.clustered.population_layout`
    and :func:`binnet_core.clustered.validate_parameters`.

Custom models are given as ``"package.module:function"``.  The function is called as
``builder(params: dict, seed: numpy.random.SeedSequence, weight_mode=..., ram_budget_gb=...)``
and returns an initialized network (a :class:`binnet_core.BinaryNetwork` or an object with the
same interface).  Optional attributes on the function:

``builder.layout(params)``
    the populations without building connectivity (otherwise one network is built to read them);
``builder.validate(params)``
    raises ``ValueError`` for invalid parameters (called for every grid point before any work).

The registered model also estimates its connectivity size at validation, so a network larger
than ``simulation.ram_budget_gb`` is refused before any work.

This is the only module besides :mod:`sweeps.simulate` that imports :mod:`binnet_core`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.grid import Grid

__all__ = ["Layout", "Model", "ModelError", "PopulationInfo", "check_model", "experiment_layout", "resolve"]

logger = logging.getLogger(__name__)

REGISTERED = ("clustered_ei",)


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
class Model:
    """A resolved model."""

    name: str
    builder: Callable[..., Any]
    layout_fn: Callable[[dict], Any] | None = None
    validate_fn: Callable[[dict], Any] | None = None
    memory_fn: Callable[..., Any] | None = None

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


def _clustered_builder(params: dict, seed, weight_mode: str = "auto", ram_budget_gb: float = 12.0):
    from binnet_core.clustered import ClusteredEINetwork

    return ClusteredEINetwork(params, seed=seed, weight_mode=weight_mode, ram_budget_gb=ram_budget_gb)


def _clustered_layout(params: dict) -> list[dict]:
    from binnet_core.clustered import population_layout

    layout = population_layout(params)
    return [
        {"name": name, "cell_type": kind, "cluster": int(cluster), "N": int(size)}
        for name, kind, cluster, size in zip(
            layout["names"], layout["cell_types"], layout["clusters"], layout["sizes"], strict=True
        )
    ]


def resolve(name: str) -> Model:
    """Resolve a registered model name or a ``"package.module:function"`` path.

    Raises
    ------
    ModelError
        If the model is unknown or cannot be imported.
    """
    field = "experiment.model"
    if name == "clustered_ei":
        try:
            from binnet_core import clustered
        except ImportError as err:
            raise ModelError(field, f"model 'clustered_ei' needs binnet_core.clustered ({err})") from None
        return Model(name, _clustered_builder, _clustered_layout, clustered.validate_parameters,
                     clustered.estimate_connectivity_bytes)
    if ":" not in name:
        raise ModelError(field, f"unknown model {name!r}; allowed: {', '.join(REGISTERED)} or 'package.module:function'")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(field, f"cannot import {module_name!r} for model {name!r}: {err}") from None
    builder = getattr(module, attr, None)
    if not callable(builder):
        raise ModelError(field, f"{module_name!r} has no callable {attr!r} (model {name!r})")
    return Model(name, builder, getattr(builder, "layout", None), getattr(builder, "validate", None))


def _distinct_points(grid: Grid):
    """One point per distinct parameter set (replicates share parameters)."""
    return (i for i in grid if grid.is_first_replicate(i))


def check_model(experiment) -> None:
    """Validate the model and its parameters at every grid point, and a constant layout.

    Raises
    ------
    ModelError
        Naming the field and the grid point.
    """
    model = resolve(experiment.model)
    grid = Grid.from_experiment(experiment)
    first_layout = None
    for index in _distinct_points(grid):
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
            continue
        try:
            layout = model.layout(params)
        except ValueError as err:
            raise ModelError(where, str(err).splitlines()[0]) from None
        if first_layout is None:
            first_layout = layout
        elif layout.names != first_layout.names:
            raise ModelError("sweep", f"the populations change across the grid at {grid.label(index, replicate=False)}; "
                             "swept parameters must keep the population layout fixed")


def experiment_layout(experiment) -> Layout:
    """The population layout shared by all grid points of ``experiment``."""
    grid = Grid.from_experiment(experiment)
    return resolve(experiment.model).layout(grid.parameters(0), grid.seeds(0).connectivity)
