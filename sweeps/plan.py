"""The resolved sweep plan: everything a run decides once, before any point runs.

A :class:`SweepPlan` is built from a validated :class:`~sweeps.spec.definition.Experiment`
in one place (:meth:`SweepPlan.build`): the model is resolved, the grid expanded, the
population layout read (without building a network when the model declares its layout) and
the variables of a point listed with their dtypes and inner dimensions.  The driver builds
it once and ships it to the workers once; the store's schema (``SweepStore.create``), the
theory writer, ``sweeps validate`` and the tasks all take it, so no task resolves a model or
builds a grid again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sweeps.errors import DefinitionError
from sweeps.execution.initial import initial_variable_specs
from sweeps.measure import registry
from sweeps.measure.measurements import raster_shape, variable_specs
from sweeps.measure.recording import n_clusters_of
from sweeps.measure.registry import NO_CLUSTER, VariableSpec
from sweeps.models.model import Layout, Model
from sweeps.models.registry import resolve
from sweeps.spec.grid import Grid
from sweeps.spec.types import DimensionKind
from sweeps.store.status import ROUND_VARIABLE

if TYPE_CHECKING:
    from sweeps.spec.definition import Experiment

__all__ = ["STORE_NAMES", "SweepPlan", "reserved_names"]

#: arrays and groups of every store besides the point dimensions, the variables and the inner
#: dimensions: the point status and error, the population coordinates, the theory's record and
#: its focus dimension when ``focus_count`` is swept (:mod:`sweeps.store.sweep_store`,
#: :mod:`sweeps.theory.compute`), and the round of each point of an adaptive sweep
STORE_NAMES = ("status", "error", "population_type", "population_cluster", "population_size",
               "sweeps_theory", "mf_focus_count", ROUND_VARIABLE)


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """An experiment resolved for running.

    Attributes
    ----------
    experiment : Experiment
        The validated definition (axes in the store's order when the store grew).
    model : Model
        The resolved model declaration.
    grid : Grid
        The expanded grid: point index <-> coordinates, parameters and seeds.
    layout : Layout
        The populations shared by every point.
    variables : tuple of VariableSpec
        What one point stores (inner dimensions only), in store order.
    inner : Mapping[str, int]
        Sizes of the inner dimensions (``population``, ``cluster``, ``time``, ...).
    """

    experiment: Experiment
    model: Model
    grid: Grid
    layout: Layout
    variables: tuple[VariableSpec, ...]
    inner: Mapping[str, int]

    @classmethod
    def build(cls, experiment: Experiment) -> SweepPlan:
        """Resolve ``experiment``: the model once, the grid once, the layout once."""
        model = resolve(experiment.model)
        grid = Grid.from_experiment(experiment)
        layout = model.layout(grid.parameters(0), grid.seeds(0).connectivity)
        variables = _variables(experiment, model, layout)
        if experiment.adaptive is not None:
            _check_adaptive(experiment, model, variables)
        plan = cls(experiment, model, grid, layout, variables, _inner_sizes(experiment, layout))
        _check_swept_names(plan)
        return plan

    @property
    def dtypes(self) -> dict[str, np.dtype]:
        """Dtype of every variable one grid point produces."""
        return {s.name: np.dtype(s.dtype) for s in self.variables}

    @property
    def point_bytes(self) -> int:
        """Uncompressed bytes of one point's variables."""
        return sum(math.prod(self.inner[d] for d in s.dims) * np.dtype(s.dtype).itemsize for s in self.variables)


def _swept_names(experiment: Experiment):
    """(field, name) of every array the grid adds: axes, zip names and zipped parameters."""
    zips = 0
    for dim in experiment.dimensions:
        if dim.kind == DimensionKind.AXIS:
            yield f"sweep.{dim.name}", dim.name
        elif dim.kind == DimensionKind.ZIP:
            yield f"sweep.zip[{zips}].name", dim.name
            yield from ((f"sweep.zip[{zips}].{param}", param) for param in dim.values)
            zips += 1


def reserved_names(plan: SweepPlan) -> dict[str, str]:
    """Names of the store's arrays and groups that no swept name may take -> what they are."""
    theory = plan.model.sweep_theory
    theory_names = {n for v in theory.variables for n in (v.name, v.extra_dim) if n} if theory else set()
    taken = {s.name: "a variable" for s in plan.variables}
    taken |= dict.fromkeys(theory_names, "a theory variable or dimension")
    taken |= dict.fromkeys(plan.inner, "an inner dimension")
    taken |= dict.fromkeys(STORE_NAMES, "an array of every store")
    return taken


def _check_swept_names(plan: SweepPlan) -> None:
    """No swept name may be a variable, inner dimension or coordinate of the store (it would
    overwrite that array or give one dimension two lengths)."""
    taken = reserved_names(plan)
    for field, name in _swept_names(plan.experiment):
        if name in taken:
            raise DefinitionError(field, f"{name!r} is {taken[name]} of the store, which a swept name would "
                                  f"overwrite; choose another name (inner dimensions: {', '.join(plan.inner)})")


def _variables(experiment: Experiment, model: Model, layout: Layout) -> tuple[VariableSpec, ...]:
    if model.point is not None:  # a model that measures itself
        return tuple(model.point.variables(experiment))
    types = [p.cell_type for p in layout.populations]
    clusters = [NO_CLUSTER if p.cluster is None else p.cluster for p in layout.populations]
    specs = variable_specs(layout.names, n_clusters_of(types, clusters), experiment.simulation.n_samples,
                           experiment.output.keep_traces, experiment.output)
    return tuple(specs + initial_variable_specs())


def _check_adaptive(experiment: Experiment, model: Model, variables: tuple[VariableSpec, ...]) -> None:
    """The adaptive variable is a stored numeric scalar that is a result of the model (not a wall
    time, a resource or bookkeeping: ``VariableSpec.result``); theory seeding needs a
    bifurcation line."""
    numeric = {s.name: s for s in variables if not s.dims and np.dtype(s.dtype).kind in "iuf"}
    scalars = sorted(n for n, s in numeric.items() if s.result)
    name = experiment.adaptive.variable
    if name not in scalars:
        if name in numeric:
            why = "is a timing or bookkeeping variable, not a deterministic result of the model"
        elif name in STORE_NAMES or name in {d.name for d in experiment.dimensions} or name in {
                v.name for v in (model.sweep_theory.variables if model.sweep_theory else ())}:
            why = "is kept by the store itself (status, rounds, coordinates or theory), not a measured variable"
        else:
            why = "is not a numeric scalar variable of model " + repr(experiment.model)
        raise DefinitionError("sweep.adaptive.variable", f"{name!r} {why}; allowed: {', '.join(scalars)}",
                              allowed=scalars)
    theory = model.sweep_theory
    if experiment.adaptive.theory_seeding and (theory is None or all(
            v.name != "mf_bifurcation_R_Eplus" for v in theory.variables)):
        raise DefinitionError("sweep.adaptive.theory_seeding", f"model {experiment.model!r} declares no "
                              "bifurcation line (theory variable mf_bifurcation_R_Eplus)")


def _inner_sizes(experiment: Experiment, layout: Layout) -> dict[str, int]:
    sizes = {"time": experiment.simulation.n_samples, "population": len(layout.populations),
             "cluster": len(layout.clusters)}
    sizes.update(registry.inner_sizes(layout.names, [p.cell_type for p in layout.populations]))
    sizes["raster_neuron"], sizes["raster_event"] = raster_shape([p.size for p in layout.populations],
                                                                 experiment.output)
    return sizes
