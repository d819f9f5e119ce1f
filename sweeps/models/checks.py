"""Checks of an experiment against its model, before any work."""

from __future__ import annotations

from sweeps.errors import ModelError
from sweeps.models.model import Layout, Model
from sweeps.models.registry import resolve
from sweeps.spec.grid import Grid
from sweeps.spec.types import DimensionKind, StartKind


def _refuse_structural(experiment, model: Model) -> None:
    for dim in experiment.dimensions:
        for name in dim.values:
            if name in model.structural:
                field = f"sweep.{name}" if dim.kind == DimensionKind.AXIS else f"sweep.zip {dim.name}.{name}"
                raise ModelError(field, f"{name} sets the populations of model {model.name!r} (structural "
                                 f"parameters: {', '.join(model.structural)}) and cannot be swept: one store "
                                 f"holds one population layout; fix {name} in [parameters] and run one "
                                 "sweep per value")


#: Grids with at most this many parameter sets are checked at every one of them.
EXHAUSTIVE_CHECKS = 1024


def check_model(experiment) -> Layout | None:
    """Validate the model and its parameters before any work, and a constant layout; return
    that layout (None when the model declares none).

    Structural parameters (:attr:`Model.structural`) must not be swept.  The checks (the
    model's ``validate``, memory estimate, layout and start) run at the grid's check points
    (every parameter set of grids with at most :data:`EXHAUSTIVE_CHECKS` of them; beyond,
    :meth:`Grid.cross_points` and :meth:`Grid.corner_points`: every value of every axis and
    every corner, ``1 + sum(size - 1) + 2**dims`` points instead of every point), so a
    10^6-point grid validates in well under a second.  A parameter violating a constraint
    that is monotone in each parameter is always found; in a larger grid a point made
    invalid only by an interior combination of values fails at run time, with the model's
    message.

    Returns
    -------
    Layout or None

    Raises
    ------
    ModelError
        Naming the field and the grid point.
    """
    model = resolve(experiment.model)
    _refuse_structural(experiment, model)
    _check_theory(experiment, model, None)
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
        _check_theory(experiment, model, layout)
        if first_layout is None:
            first_layout = layout
        elif layout != first_layout:
            raise ModelError("sweep", f"the populations (names or sizes) change across the grid at "
                             f"{grid.label(index, replicate=False)}; swept parameters must keep the "
                             "population layout fixed")
    return first_layout


def _check_start(experiment, model: Model, layout: Layout | None, grid: Grid, index: int) -> None:
    """``simulation.initial`` and ``focus_count`` against the model's populations and theory."""
    sim = experiment.simulation
    if layout is None:  # an older model without layout(): populations unknown before a build
        if sim.initial.kind != StartKind.DEFAULT:
            raise ModelError("simulation.initial", f"model {experiment.model!r} declares no populations (layout)")
        return
    activities = sim.initial.activities
    if activities is not None and len(activities) != len(layout.populations):
        raise ModelError("simulation.initial", f"needs {len(layout.populations)} activities (one per population "
                         f"{', '.join(layout.names[:4])}{', ...' if len(layout.names) > 4 else ''}), got {len(activities)}")
    if sim.initial.kind != StartKind.MEANFIELD:
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
    if sim.focus_counts is not None and max(sim.focus_counts) > q:
        raise ModelError("simulation.focus_counts", f"{max(sim.focus_counts)} is outside 0..Q = 0..{q} "
                         "(clusters of the model)")


def _check_theory(experiment, model: Model, layout: Layout | None) -> None:
    """A ``[theory]`` table needs a model that declares one, and focus counts within its clusters."""
    if experiment.theory is None:
        return
    if model.sweep_theory is None:
        raise ModelError("theory", f"model {experiment.model!r} declares no theory (Model.sweep_theory), so "
                         "[theory] is not available")
    q = len(layout.clusters) if layout is not None else None
    if q is not None and max(experiment.theory.focus_counts) > q:
        raise ModelError("theory.focus_counts", f"{max(experiment.theory.focus_counts)} is outside 0..Q={q}")
