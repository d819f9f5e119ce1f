"""Minimal stand-in for :mod:`sweeps.measurements` (same interface, fewer variables).

Used until the full measurements module is merged; :mod:`sweeps.simulate` imports from here in
one line.  ``Recording``, ``VariableSpec``, ``variable_specs`` and ``measure`` have the
signatures of :mod:`sweeps.measurements`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

POPULATION, CLUSTER, TIME = "population", "cluster", "time"
WIRING_KEYS = (
    "synapse_count",
    "connected_pairs",
    "density",
    "connectivity_bytes",
    "build_seconds",
    "simulation_seconds",
    "updates_per_second",
)


@dataclass(frozen=True, eq=False)
class Recording:
    """What one simulated network delivers to :func:`measure` (see sweeps.measurements)."""

    population_names: tuple[str, ...]
    population_sizes: np.ndarray
    population_types: tuple[str, ...]
    population_clusters: np.ndarray
    sample_interval_ms: float
    duration_ms: float
    activity: np.ndarray
    up_transitions: np.ndarray
    neuron_activity: np.ndarray
    sampled_neurons: np.ndarray
    sampled_clusters: np.ndarray
    sampled_states: np.ndarray
    sampled_fields: np.ndarray
    wiring: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VariableSpec:
    """One stored variable: name, inner dims, dtype, units, long name, fill value."""

    name: str
    dims: tuple[str, ...]
    dtype: np.dtype
    units: str
    long_name: str
    fill: Any


def n_clusters_of(population_types: Sequence[str], population_clusters: Sequence[int]) -> int:
    """Number of clusters: ``1 +`` the largest cluster index of an E population (0 if none)."""
    clusters = [int(c) for t, c in zip(population_types, population_clusters, strict=True) if t == "E"]
    return max(clusters, default=-1) + 1


def _spec(name, dims, dtype, units, long_name) -> VariableSpec:
    kind = np.dtype(dtype)
    return VariableSpec(name, dims, kind, units, long_name, np.nan if kind.kind == "f" else -1)


def variable_specs(population_names: Sequence[str], n_clusters: int, n_samples: int, keep_traces: bool) -> list[VariableSpec]:
    """Every variable :func:`measure` returns (inner dims only)."""
    specs = [_spec("activity", (TIME, POPULATION), "float32", "1", "fraction of active neurons per population")] if keep_traces else []
    return specs + [
        _spec("population_activity", (POPULATION,), "float64", "1", "time-averaged fraction of active neurons per population"),
        _spec("mean_activity_E", (), "float64", "1", "mean fraction of active excitatory neurons"),
        _spec("mean_activity_I", (), "float64", "1", "mean fraction of active inhibitory neurons"),
        _spec("synapse_count", (), "int64", "1", "number of synapses (contacts)"),
        _spec("connected_pairs", (), "int64", "1", "number of connected neuron pairs"),
        _spec("density", (), "float64", "1", "connection density (connected pairs / possible pairs)"),
        _spec("connectivity_bytes", (), "int64", "B", "memory used by the connectivity"),
        _spec("build_seconds", (), "float64", "s", "wall time to build the network"),
        _spec("simulation_seconds", (), "float64", "s", "wall time to simulate the network"),
        _spec("updates_per_second", (), "float64", "1/s", "neuron updates per second of wall time"),
    ]


def measure(recording: Recording, *, cluster_threshold: float = 0.3, keep_traces: bool = True) -> dict[str, np.ndarray]:
    """Compute the variables of :func:`variable_specs` for one grid point."""
    rec = recording
    sizes = np.asarray(rec.population_sizes, np.float64)
    types = np.asarray(rec.population_types)
    per_pop = np.mean(rec.activity, axis=0, dtype=np.float64)
    out: dict[str, Any] = {"population_activity": per_pop}
    if keep_traces:
        out["activity"] = rec.activity
    for kind in ("E", "I"):
        weights = np.where(types == kind, sizes, 0.0)
        out[f"mean_activity_{kind}"] = float(per_pop @ weights / weights.sum()) if weights.sum() else np.nan
    out.update({key: rec.wiring[key] for key in WIRING_KEYS})
    return {key: np.asarray(value) for key, value in out.items()}
