"""Inferred cluster states: change-point segmentation of stored activity traces.

The hysteresis rule of :mod:`sweeps.measure.measurements` decides sample by sample which clusters
are active. Here a trace of E activity per cluster, shape (T, C), is cut into segments with
a change-point method (PELT of the :mod:`ruptures` library, least-squares cost on the
multivariate trace, through its C implementation ``KernelCPD(kernel="linear")``), each segment is labelled by the set of clusters whose mean activity
over the segment exceeds a threshold, neighbouring segments with the same set are merged,
and the dwell time of each state (active set) is the length of its segments.

Penalty: each channel is divided by its noise level ``s_c``, estimated robustly from its
first differences (``median |diff| / (0.6745 sqrt 2)``), so that a spurious split of the
``C`` non-constant channels lowers the least-squares cost by about ``C``; PELT gets the
penalty ``penalty * C * log(T)`` (``penalty = 2``: BIC-like). The segmentation therefore
depends neither on the units nor on the noise level of a channel (a silent cluster and an
active one are judged by their own fluctuations).

Needs the optional extra ``pip install -e ".[states]"``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from sweeps.measure.recording import active_clusters
from sweeps.measure.registry import NO_CLUSTER

__all__ = ["Segments", "change_points", "cluster_traces", "dwell_times", "hysteresis_segments",
           "infer_states"]


@dataclass(frozen=True)
class Segments:
    """Consecutive segments ``[start, end)`` of samples, each with its set of active clusters.

    ``active`` has shape (n_segments, C). Segments cover every sample; neighbours differ in
    their active set.
    """

    start: np.ndarray
    end: np.ndarray
    active: np.ndarray

    def labels(self) -> list[str]:
        """State label per segment: ``"none"`` or the active clusters, e.g. ``"3+7"``."""
        return ["+".join(str(c) for c in np.flatnonzero(row)) or "none" for row in self.active]

    def __len__(self) -> int:
        return int(self.start.size)


def _merge(bounds: np.ndarray, active: np.ndarray) -> Segments:
    """Segments from boundaries ``[0, b1, ..., T]`` and active sets, equal neighbours merged."""
    keep = np.r_[True, np.any(active[1:] != active[:-1], axis=1)]
    starts = bounds[:-1][keep]
    ends = np.r_[starts[1:], bounds[-1]]
    return Segments(starts.astype(np.int64), ends.astype(np.int64), active[keep])


def noise_scale(trace: np.ndarray) -> np.ndarray:
    """Robust noise standard deviation per channel of a (T, C) trace, from first differences.

    ``median |diff| / (0.6745 sqrt 2)``; where that is 0 (a channel that mostly stays
    constant) the plain ``std(diff) / sqrt 2``.
    """
    diffs = np.diff(np.asarray(trace, np.float64), axis=0)
    if diffs.shape[0] == 0:
        return np.zeros(np.shape(trace)[1])
    robust = np.median(np.abs(diffs), axis=0) / (0.6745 * np.sqrt(2.0))
    return np.where(robust > 0, robust, diffs.std(axis=0) / np.sqrt(2.0))


def infer_states(trace: np.ndarray, threshold: float = 0.3, penalty: float = 2.0,
                 min_size: int = 2) -> Segments:
    """Segment a cluster-activity trace with PELT and label segments by their active clusters.

    Parameters
    ----------
    trace : ndarray, shape (T, C)
        E activity per cluster at each sample (see :func:`cluster_traces`).
    threshold : float, default 0.3
        A cluster is active in a segment when its mean activity there exceeds this value.
    penalty : float, default 2
        Penalty factor (see the module docstring); larger gives fewer change points.
    min_size : int, default 2
        Shortest segment in samples.

    Returns
    -------
    Segments
    """
    trace = np.asarray(trace, np.float64)
    if trace.ndim != 2 or trace.shape[0] < 1:
        raise ValueError(f"infer_states: trace must have shape (T, C) with T >= 1, got {trace.shape}")
    bounds = np.r_[0, change_points(trace, penalty, min_size), trace.shape[0]]
    c = trace.shape[1]
    means = np.array([trace[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return _merge(bounds, means.reshape(len(bounds) - 1, c) > threshold)


def change_points(trace: np.ndarray, penalty: float = 2.0, min_size: int = 2) -> np.ndarray:
    """Sample indices where PELT starts a new segment (excluding 0 and T).

    See :func:`infer_states` for the parameters and the module docstring for the penalty.
    """
    try:
        import ruptures
    except ImportError as err:  # optional extra
        raise ImportError('state inference needs ruptures: pip install -e ".[states]"') from err
    trace = np.asarray(trace, np.float64)
    if not penalty > 0 or min_size < 1:
        raise ValueError(f"infer_states: need penalty > 0 and min_size >= 1, got {penalty}, {min_size}")
    n, c = trace.shape
    scale = noise_scale(trace)
    moving = scale > 0
    if n < 2 * min_size or not moving.any():
        return np.zeros(0, np.int64)
    standardized = trace[:, moving] / scale[moving]
    pen = penalty * moving.sum() * np.log(n)
    # the linear kernel is the least-squares cost; with a penalty KernelCPD runs PELT in C
    algo = ruptures.KernelCPD(kernel="linear", min_size=min_size).fit(standardized)
    return np.asarray(algo.predict(pen=pen)[:-1], np.int64)


def hysteresis_segments(trace: np.ndarray, on: float = 0.3, off: float = 0.2) -> Segments:
    """Segments of constant active set under the hysteresis rule (for comparison)."""
    active = active_clusters(np.asarray(trace), on, off)
    n = active.shape[0]
    change = np.flatnonzero(np.any(active[1:] != active[:-1], axis=1)) + 1
    bounds = np.r_[0, change, n]
    return Segments(bounds[:-1].astype(np.int64), bounds[1:].astype(np.int64), active[bounds[:-1]])


def dwell_times(segments: Segments, sample_interval_ms: float,
                include_censored: bool = False) -> dict[str, np.ndarray]:
    """Dwell times (ms) per state label, in order of first occurrence.

    Segments touching the first or the last sample are censored (their true length is
    unknown) and left out unless ``include_censored``.
    """
    out: dict[str, list[float]] = {}
    total = int(segments.end[-1]) if len(segments) else 0
    for label, start, end in zip(segments.labels(), segments.start, segments.end, strict=True):
        if not include_censored and (start == 0 or end == total):
            continue
        out.setdefault(label, []).append(float(end - start) * sample_interval_ms)
    return {label: np.asarray(v) for label, v in out.items()}


def cluster_traces(ds: xr.Dataset) -> xr.DataArray:
    """E activity per cluster over time from the stored ``activity`` traces.

    ``A_c(t) = sum_{p in E, cluster c} N_p a_p(t) / sum N_p``, as
    :func:`sweeps.measure.measurements.cluster_activity`; dims ``(..., time, cluster)``.
    """
    if "activity" not in ds.data_vars:
        raise ValueError("cluster_traces: the store has no activity traces (output.keep_traces = false)")
    is_e = (ds["population_type"] == "E") & (ds["population_cluster"] >= 0)
    weights = ds["population_size"].where(is_e, 0).astype(np.float64)
    cluster = ds["population_cluster"].where(is_e, NO_CLUSTER)
    member = xr.concat([weights.where(cluster == c, 0.0) for c in ds["cluster"].values], dim="cluster")
    member = member.assign_coords(cluster=ds["cluster"].values)
    summed = xr.dot(ds["activity"].astype(np.float64), member, dim="population")
    return (summed / member.sum("population")).transpose(..., "time", "cluster")
