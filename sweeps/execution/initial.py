"""Initial conditions of a run: the model's default, given activities, or a mean-field fixed point.

``[simulation] initial`` chooses:

``"default"``
    the model's own initial state (its populations' initializers), drawn from the point's start
    seed by ``net.reset(seed=start)``.
``[a_0, ..., a_{P-1}]``
    one initial activity per population (``P = 2Q`` for the clustered model, network order).
``"meanfield"``
    the rates of a stable fixed point of the model's theory for the point's ``focus_count``
    (``[sweep] focus_count = [...]`` or ``[simulation] focus_count = n``, default 1).  The theory
    puts the focus clusters first; which clusters of the network are the focus ones is drawn
    from the point's start seed (child ``FOCUS``), so every init starts a different set.  Among
    several stable fixed points the one whose focus E populations stand out most (largest
    mean focus-E rate minus mean other-E rate, then the lowest mean E rate) is used.
    Fallback when the focus count has no stable fixed point: the stable homogeneous fixed
    point (focus count 0); when that is unstable too: the model's default initial state.

``[simulation] initial_mode``: ``"bernoulli"`` (each neuron on with its population's
activity) or ``"exact"`` (exactly ``round(a N)`` neurons on, at random positions).  The
states are drawn from child ``0`` of the start seed; the update order stays child ``2``.

Each point records ``initial_source`` (:class:`InitialSource`, :data:`SOURCES`), ``initial_activity`` per population
(the fractions actually started from) and ``focus_cluster`` per cluster.
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
from sweeps.spec.seeds import FOCUS, STATES, PointSeeds
from sweeps.spec.types import InitialMode, StartKind

__all__ = ["INITIAL_MODES", "SOURCES", "InitialMode", "InitialSource", "StartPlan", "initial_variable_specs", "plan_start", "start"]

logger = logging.getLogger(__name__)

INITIAL_MODES = tuple(InitialMode)  # the values of simulation.initial_mode (kept for older imports)


class InitialSource(enum.IntEnum):
    """Where a point's start came from; the values are the stored int8 ``initial_source`` codes."""

    DEFAULT = 0  # the model's default initial state
    GIVEN = 1  # the activities of simulation.initial
    FIXED_POINT = 2  # a stable fixed point of the point's focus_count
    FALLBACK_HOMOGENEOUS = 3  # no stable one for focus_count: the stable homogeneous fixed point
    FALLBACK_DEFAULT = 4  # no stable fixed point at all: the model's default


#: ``initial_source`` codes (module-level aliases of the members).
DEFAULT, GIVEN, FIXED_POINT, FALLBACK_HOMOGENEOUS, FALLBACK_DEFAULT = InitialSource
#: Meaning of each ``initial_source`` code, as written to the variable's ``long_name``.
SOURCES = {
    DEFAULT: "model default",
    GIVEN: "given activities",
    FIXED_POINT: "stable fixed point of focus_count",
    FALLBACK_HOMOGENEOUS: "fallback: no stable fixed point for focus_count, stable homogeneous one",
    FALLBACK_DEFAULT: "fallback: no stable fixed point, model default",
}


@dataclass(frozen=True)
class StartPlan:
    """How one point starts: ``activities`` per population (None: model default) and why."""

    activities: np.ndarray | None
    source: InitialSource
    focus_clusters: tuple[int, ...] = ()


def initial_variable_specs() -> list[VariableSpec]:
    """The variables every point records about its start (inner dims only)."""
    meanings = "; ".join(f"{int(k)}: {v}" for k, v in SOURCES.items())
    return [
        VariableSpec("initial_source", (), np.dtype(np.int8), "1", f"initial state ({meanings})", -1),
        VariableSpec("initial_activity", ("population",), np.dtype(np.float32), "1",
                     "fraction of active neurons at the start", np.nan),
        VariableSpec("focus_cluster", ("cluster",), np.dtype(np.int8), "1",
                     "1 for the focus clusters of a mean-field start", -1),
    ]


@functools.lru_cache(maxsize=256)
def _fixed_points(model: Model, params_json: str, focus_count: int) -> tuple:
    points = model.theory(json.loads(params_json), focus_count)
    return tuple((np.asarray(p.rates, dtype=np.float64), bool(p.stable)) for p in points)


def _choose(points: tuple, layout: Layout, focus_count: int) -> np.ndarray | None:
    """The most focused stable fixed point (see the module docstring), or None."""
    e = np.array([p.cell_type == "E" for p in layout.populations])
    focus = np.array([p.cluster in layout.clusters[:focus_count] for p in layout.populations])
    best, best_key = None, None
    for rates, stable in points:
        if not stable:
            continue
        focus_e, other_e = rates[e & focus], rates[e & ~focus]
        contrast = (focus_e.mean() if focus_e.size else 0.0) - (other_e.mean() if other_e.size else 0.0)
        key = (float(contrast), -float(rates[e].mean()))
        if best_key is None or key > best_key:
            best, best_key = rates, key
    return best


def plan_start(model: Model, layout: Layout, params: dict, simulation, focus_count: int,
               seeds: PointSeeds) -> StartPlan:
    """Decide the initial activities of one point (no network needed)."""
    initial = simulation.initial
    if initial.kind == StartKind.ACTIVITIES:
        return StartPlan(np.asarray(initial.activities, dtype=np.float64), GIVEN)
    if initial.kind != StartKind.MEANFIELD:
        return StartPlan(None, DEFAULT)
    params_json = json.dumps(params, sort_keys=True, default=str)
    rates = _choose(_fixed_points(model, params_json, focus_count), layout, focus_count)
    source = FIXED_POINT
    if rates is None and focus_count != 0:
        rates = _choose(_fixed_points(model, params_json, 0), layout, 0)
        source = FALLBACK_HOMOGENEOUS
        focus_count = 0
    if rates is None:
        return StartPlan(None, FALLBACK_DEFAULT)
    if source != FIXED_POINT:
        logger.info("no stable fixed point for focus_count at %s: %s", params, SOURCES[source])
    # theory cluster k (focus ones first) -> network cluster order[k]
    order = seeds.rng(FOCUS).permutation(np.asarray(layout.clusters))
    canonical = {(p.cell_type, p.cluster): k for k, p in enumerate(layout.populations)}
    where = {int(c): k for k, c in enumerate(order)}  # network cluster -> theory cluster
    activities = np.array([
        rates[k] if p.cluster is None else rates[canonical[(p.cell_type, layout.clusters[where[p.cluster]])]]
        for k, p in enumerate(layout.populations)
    ])
    return StartPlan(activities, source, tuple(int(c) for c in order[:focus_count]))


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


def start(net, model: Model, layout: Layout, params: dict, simulation, focus_count: int,
          seeds: PointSeeds) -> dict[str, np.ndarray]:
    """Reset ``net`` to the point's start; returns the start variables to store."""
    plan = plan_start(model, layout, params, simulation, focus_count, seeds)
    if plan.activities is None:
        net.reset(seed=seeds.start)
    else:
        state = draw_state(layout, plan.activities, simulation.initial_mode, seeds.rng(STATES))
        net.reset(state=state, seed=seeds.start)
    focus = np.array([int(c in plan.focus_clusters) for c in layout.clusters], dtype=np.int8)
    return {
        "initial_source": np.int8(plan.source),
        "initial_activity": np.asarray(net.population_activity(), dtype=np.float32),
        "focus_cluster": focus,
    }
