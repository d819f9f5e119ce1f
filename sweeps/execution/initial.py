"""Initial conditions of a run: the model's default, given activities, or a mean-field fixed point.

``[simulation] initial`` chooses:

``"default"``
    the model's own initial state (its populations' initializers), drawn from the point's start
    seed by ``net.reset(seed=start)``.
``[a_0, ..., a_{P-1}]``
    one initial activity per population (``P = 2Q`` for the clustered model, network order).
``"meanfield"``
    the rates of a fixed point of the model's theory.  Which fixed points qualify is
    ``[simulation] fixed_point_stability`` (``"stable"``, the default; ``"unstable"``; ``"any"``:
    the reference's ``--stability-filter``).  The focus count is the point's ``focus_count``
    (``[sweep] focus_count = [...]`` or ``[simulation] focus_count = n``, default 1), or, with
    ``[simulation] focus_counts = [1, 2, 3, 4, 5]``, a pool: as the reference
    (``pipelines/figure_helpers.py``: ``_load_fixpoint_candidates``,
    ``_deduplicate_candidates_by_focus``, ``_select_fixpoints``), the candidates are, per focus
    count of the pool, the qualifying fixed point with the highest excitatory rate; candidates
    with identical rates (the homogeneous state reached from several focus counts) are merged
    into one; each init draws one candidate uniformly (child ``POOL`` of its start seed).  For
    one focus count the same rule picks the fixed point (highest excitatory rate).  The theory
    puts the focus clusters first; which clusters of the network are the focus ones is drawn
    from the point's start seed (child ``FOCUS``), so every init starts a different set.
    Fallback when nothing qualifies: the stable homogeneous fixed point (focus count 0); when
    that is unstable too: the model's default initial state.  A start whose fixed point is
    the homogeneous state although a focus count > 0 was asked is labelled
    ``HOMOGENEOUS_FIXED_POINT``: no cluster starts elevated.

``[simulation] initial_mode``: ``"bernoulli"`` (each neuron on with its population's
activity) or ``"exact"`` (exactly ``round(a N)`` neurons on, at random positions).  The
states are drawn from child ``0`` of the start seed; the update order stays child ``2``.

Each point records ``initial_source`` (:class:`InitialSource`, :data:`SOURCES`), ``initial_activity`` per population
(the fractions actually started from), ``focus_cluster`` per cluster, and the fixed point it
started from: ``initial_focus_count``, ``initial_stable`` and ``initial_rates`` per population.

Points of one network and init whose starts are equal (:meth:`StartPlan.key`: the same
activities, e.g. the homogeneous state reached from several swept focus counts) would be
bit-identical runs: :func:`start_copies` finds them, the task simulates the first and stores
its measurements for the others with ``start_copy = 1``, and ``sweeps validate`` counts them.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
from dataclasses import dataclass

import numpy as np

from sweeps.measure.registry import VariableSpec
from sweeps.models.model import Layout, Model
from sweeps.spec.seeds import FOCUS, POOL, STATES, PointSeeds
from sweeps.spec.types import FixedPointStability, InitialMode, StartKind

__all__ = ["INITIAL_MODES", "SOURCES", "InitialMode", "InitialSource", "StartPlan", "count_start_copies",
           "initial_variable_specs", "plan_start", "start", "start_copies", "start_variables"]

logger = logging.getLogger(__name__)

INITIAL_MODES = tuple(InitialMode)  # the values of simulation.initial_mode (kept for older imports)


class InitialSource(enum.IntEnum):
    """Where a point's start came from; the values are the stored int8 ``initial_source`` codes."""

    DEFAULT = 0  # the model's default initial state
    GIVEN = 1  # the activities of simulation.initial
    FIXED_POINT = 2  # a fixed point of the point's focus count (passing fixed_point_stability)
    FALLBACK_HOMOGENEOUS = 3  # none qualifies: the stable homogeneous fixed point
    FALLBACK_DEFAULT = 4  # no stable fixed point at all: the model's default
    HOMOGENEOUS_FIXED_POINT = 5  # a focus count > 0 asked, its fixed point is the homogeneous state


#: ``initial_source`` codes (module-level aliases of the members).
DEFAULT, GIVEN, FIXED_POINT, FALLBACK_HOMOGENEOUS, FALLBACK_DEFAULT, HOMOGENEOUS_FIXED_POINT = InitialSource
#: Meaning of each ``initial_source`` code, as written to the variable's ``long_name``.
SOURCES = {
    DEFAULT: "model default",
    GIVEN: "given activities",
    FIXED_POINT: "fixed point of focus_count (fixed_point_stability)",
    FALLBACK_HOMOGENEOUS: "fallback: no qualifying fixed point for focus_count, stable homogeneous one",
    FALLBACK_DEFAULT: "fallback: no stable fixed point, model default",
    HOMOGENEOUS_FIXED_POINT: "fixed point of focus_count > 0 that is the homogeneous state (no cluster elevated)",
}
#: relative tolerance of equal rates (identical fixed points, a homogeneous state)
RATE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Candidate:
    """A fixed point a run may start from: rates in the theory's order (focus clusters first)."""

    rates: np.ndarray
    stable: bool
    focus_count: int


@dataclass(frozen=True)
class StartPlan:
    """How one point starts: ``activities`` per population (None: model default) and why; the
    fixed point started from (``focus_count`` -1 and ``stable`` -1 when none)."""

    activities: np.ndarray | None
    source: InitialSource
    focus_clusters: tuple[int, ...] = ()
    focus_count: int = -1
    stable: int = -1

    def key(self) -> bytes | None:
        """Equal keys at one network and init: bit-identical runs (same state, same update order)."""
        return None if self.activities is None else np.asarray(self.activities, np.float64).tobytes()


def initial_variable_specs() -> list[VariableSpec]:
    """The variables every point records about its start (inner dims only): inputs and
    bookkeeping, none a result of the model (``result=False``)."""
    meanings = "; ".join(f"{int(k)}: {v}" for k, v in SOURCES.items())
    return [
        VariableSpec("initial_source", (), np.dtype(np.int8), "1", f"initial state ({meanings})", -1,
                     result=False),
        VariableSpec("initial_activity", ("population",), np.dtype(np.float32), "1",
                     "fraction of active neurons at the start", np.nan, result=False),
        VariableSpec("focus_cluster", ("cluster",), np.dtype(np.int8), "1",
                     "1 for the focus clusters of a mean-field start", -1, result=False),
        VariableSpec("initial_focus_count", (), np.dtype(np.int8), "1",
                     "focus count of the fixed point started from (-1: not a fixed point)", -1, result=False),
        VariableSpec("initial_stable", (), np.dtype(np.int8), "1",
                     "fixed point started from: stable (1), unstable (0), none (-1)", -1, result=False),
        VariableSpec("initial_rates", ("population",), np.dtype(np.float32), "1",
                     "rates of the fixed point started from (NaN: not a fixed point)", np.nan, result=False),
        VariableSpec("start_copy", (), np.dtype(np.int8), "1",
                     "1: same network, init and start as another point: its run is copied, not simulated", -1,
                     result=False),
    ]


@functools.lru_cache(maxsize=256)
def _fixed_points(model: Model, params_json: str, focus_count: int) -> tuple:
    points = model.theory(json.loads(params_json), focus_count)
    return tuple((np.asarray(p.rates, dtype=np.float64), bool(p.stable)) for p in points)


def _excitatory(layout: Layout) -> np.ndarray:
    return np.array([p.cell_type == "E" for p in layout.populations])


def _best(model: Model, layout: Layout, params_json: str, focus_count: int,
          stability: FixedPointStability) -> Candidate | None:
    """The qualifying fixed point of ``focus_count`` with the highest excitatory rate (the
    reference's ``_deduplicate_candidates_by_focus``), or None."""
    e = _excitatory(layout)
    best, best_rate = None, -np.inf
    for rates, stable in _fixed_points(model, params_json, focus_count):
        peak = float(np.max(rates[e])) if e.any() else float(np.max(rates))
        if stability.admits(stable) and np.isfinite(peak) and peak > best_rate:
            best, best_rate = Candidate(rates, stable, focus_count), peak
    return best


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RATE_TOLERANCE, atol=RATE_TOLERANCE * 1e-3))


@functools.lru_cache(maxsize=256)
def _pool(model: Model, layout: Layout, params_json: str, focus_counts: tuple[int, ...],
          stability: FixedPointStability) -> tuple[Candidate, ...]:
    """The candidates of a pool of focus counts: one per focus count, identical ones merged
    (the first, i.e. the smallest focus count, is kept)."""
    candidates: list[Candidate] = []
    for n in sorted(focus_counts):
        best = _best(model, layout, params_json, n, stability)
        if best is not None and not any(_same(best.rates, c.rates) for c in candidates):
            candidates.append(best)
    return tuple(candidates)


def is_homogeneous(rates: np.ndarray, layout: Layout) -> bool:
    """Every cluster of each cell type at the same rate (no cluster elevated)."""
    for kind in {p.cell_type for p in layout.populations}:
        group = np.array([r for r, p in zip(rates, layout.populations, strict=True)
                          if p.cell_type == kind and p.cluster is not None])
        if group.size > 1 and np.ptp(group) > RATE_TOLERANCE * max(1.0, float(np.max(np.abs(group)))):
            return False
    return True


def plan_start(model: Model, layout: Layout, params: dict, simulation, focus_count: int,
               seeds: PointSeeds) -> StartPlan:
    """Decide the initial activities of one point (no network needed)."""
    initial = simulation.initial
    if initial.kind == StartKind.ACTIVITIES:
        return StartPlan(np.asarray(initial.activities, dtype=np.float64), GIVEN)
    if initial.kind != StartKind.MEANFIELD:
        return StartPlan(None, DEFAULT)
    params_json = json.dumps(params, sort_keys=True, default=str)
    stability = FixedPointStability(simulation.fixed_point_stability)
    pool = getattr(simulation, "focus_counts", None)
    if pool is not None:
        candidates = _pool(model, layout, params_json, tuple(pool), stability)
        pick = candidates[int(seeds.rng(POOL).integers(len(candidates)))] if candidates else None
    else:
        pick = _best(model, layout, params_json, focus_count, stability)
    source = FIXED_POINT
    if pick is None and (pool is not None or focus_count != 0 or stability != FixedPointStability.STABLE):
        pick = _best(model, layout, params_json, 0, FixedPointStability.STABLE)
        source = FALLBACK_HOMOGENEOUS
    if pick is None:
        return StartPlan(None, FALLBACK_DEFAULT)
    if source != FIXED_POINT:
        logger.info("no qualifying fixed point for focus_count at %s: %s", params, SOURCES[source])
    homogeneous = is_homogeneous(pick.rates, layout)
    if source == FIXED_POINT and pick.focus_count > 0 and homogeneous:
        source = HOMOGENEOUS_FIXED_POINT
    rates = _canonical(model, params_json, pick.rates) if homogeneous else pick.rates
    count = 0 if homogeneous else pick.focus_count  # a homogeneous state has no focus clusters
    # theory cluster k (focus ones first) -> network cluster order[k]
    order = seeds.rng(FOCUS).permutation(np.asarray(layout.clusters)) if count else np.asarray(layout.clusters)
    canonical = {(p.cell_type, p.cluster): k for k, p in enumerate(layout.populations)}
    where = {int(c): k for k, c in enumerate(order)}  # network cluster -> theory cluster
    activities = np.array([
        rates[k] if p.cluster is None else rates[canonical[(p.cell_type, layout.clusters[where[p.cluster]])]]
        for k, p in enumerate(layout.populations)
    ])
    return StartPlan(activities, source, tuple(int(c) for c in order[:count]), pick.focus_count, int(pick.stable))


def _canonical(model: Model, params_json: str, rates: np.ndarray) -> np.ndarray:
    """One set of rates for the homogeneous state whatever focus count found it (solves of
    different focus counts differ in the last bits): the focus-count-0 fixed point it equals."""
    for other, _ in _fixed_points(model, params_json, 0):
        if _same(rates, other):
            return other
    return np.array([float(f"{r:.12g}") for r in rates])


def start_copies(plans, inits) -> list[int | None]:
    """For each of ``plans`` (points of one built network, with their ``inits``): the position
    of an earlier plan it copies (same init, same start), or None."""
    first: dict[tuple, int] = {}
    copies = []
    for k, (plan, init) in enumerate(zip(plans, inits, strict=True)):
        key = (int(init), plan.key())
        copies.append(first.get(key))
        first.setdefault(key, k)
    return copies


def count_start_copies(sweep_plan) -> int:
    """Points of ``sweep_plan`` that would copy another point's run (``sweeps validate``).

    Copies arise from run options (a swept ``focus_count``) that lead to the same start; the
    plans of the points with every replicate index at 0 are compared, and the count is the
    same for every network and init (starts of distinct non-homogeneous fixed points never
    coincide; equal fixed points give equal starts for every seed).
    """
    grid, experiment = sweep_plan.grid, sweep_plan.experiment
    if experiment.simulation.initial.kind != StartKind.MEANFIELD or not any(
            "focus_count" in d.values for d in experiment.dimensions):
        return 0
    layout = sweep_plan.layout
    replicas = len(grid) // grid.n_parameter_points()
    groups: dict[tuple, list] = {}
    for index in grid.parameter_points():
        focus = grid.run_options(index).get("focus_count", experiment.simulation.focus_count)
        plan = plan_start(sweep_plan.model, layout, grid.parameters(index), experiment.simulation, focus,
                          grid.seeds(index))
        groups.setdefault(grid.build_key(index), []).append(plan)
    copies = sum(sum(c is not None for c in start_copies(plans, [0] * len(plans))) for plans in groups.values())
    return copies * replicas


def draw_state(layout: Layout, activities: np.ndarray, mode: InitialMode, rng: np.random.Generator) -> np.ndarray:
    """Binary states with the given activity per population (Bernoulli or exact fraction)."""
    parts = []
    for pop, activity in zip(layout.populations, activities, strict=True):
        if mode == InitialMode.EXACT:
            part = np.zeros(pop.size, np.int8)
            part[rng.permutation(pop.size)[: int(round(activity * pop.size))]] = 1
        else:
            part = (rng.random(pop.size) < activity).astype(np.int8)
        parts.append(part)
    return np.concatenate(parts)


def start_variables(plan: StartPlan, layout: Layout, activity, copy: bool) -> dict[str, np.ndarray]:
    """The start variables of a point (``activity``: the fractions active at the start)."""
    focus = np.array([int(c in plan.focus_clusters) for c in layout.clusters], dtype=np.int8)
    fixed = plan.source in (FIXED_POINT, FALLBACK_HOMOGENEOUS, HOMOGENEOUS_FIXED_POINT)
    rates = plan.activities if fixed else np.full(len(layout.populations), np.nan)
    return {
        "initial_source": np.int8(plan.source),
        "initial_activity": np.asarray(activity, dtype=np.float32),
        "focus_cluster": focus,
        "initial_focus_count": np.int8(plan.focus_count),
        "initial_stable": np.int8(plan.stable),
        "initial_rates": np.asarray(rates, dtype=np.float32),
        "start_copy": np.int8(copy),
    }


def start(net, layout: Layout, plan: StartPlan, simulation, seeds: PointSeeds) -> dict[str, np.ndarray]:
    """Reset ``net`` to the start ``plan``; returns the start variables to store."""
    if plan.activities is None:
        net.reset(seed=seeds.start)
    else:
        state = draw_state(layout, plan.activities, simulation.initial_mode, seeds.rng(STATES))
        net.reset(state=state, seed=seeds.start)
    return start_variables(plan, layout, net.population_activity(), copy=False)
