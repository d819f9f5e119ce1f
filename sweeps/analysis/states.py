"""Inferred cluster states: which populations are active when, and how long each state lasts.

Two methods cut an activity trace of shape (T, C) into segments of constant active set
(``infer_states(trace, method=...)``):

* ``"active_set_em"`` (default; :class:`ActiveSetEM` for its options): the active-set EM of
  :mod:`sweeps.analysis.active_set` on one-sample segments, each segment's set reduced to its
  clearly active populations (at most 2), neighbours with the same set merged. This is the
  paper's analysis of Figure 3's dwell times (see docs/STATISTICS.md). Its variants, as the
  paper's code offers them: ``ActiveSetEM(segmentation="pelt")`` classifies PELT segments
  instead of single samples, ``ActiveSetEM(merge_after_em=True)`` removes short flickers and
  weak boundaries after the EM.
* ``"pelt"`` (:class:`Pelt`): change points by PELT (the :mod:`ruptures` library, least-squares
  cost on the multivariate trace, through its C implementation ``KernelCPD(kernel="linear")``),
  each segment labelled by the set of clusters whose mean activity over the segment exceeds
  ``threshold``, neighbours with the same set merged. Needs the optional extra
  ``pip install -e ".[states]"``.

  PELT penalty: each channel is divided by its noise level ``s_c``, estimated robustly from
  its first differences (``median |diff| / (0.6745 sqrt 2)``), so that a spurious split of
  the ``C`` non-constant channels lowers the least-squares cost by about ``C``; PELT gets the
  penalty ``penalty * C * log(T)`` (``penalty = 2``: BIC-like). The segmentation therefore
  depends neither on the units nor on the noise level of a channel.

Dwell times: :func:`dwell_times` per state label (censored segments left out),
:func:`dwell_summary` the paper's per-trace summary (mean, standard deviation and median of all
dwell times, the first and last segment left out when there are more than two).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sweeps.analysis.active_set import ActiveSetEM, active_set_segments
from sweeps.errors import MissingDependencyError, OptionError
from sweeps.measure.recording import active_clusters
from sweeps.measure.registry import NO_CLUSTER

__all__ = ["METHODS", "ActiveSetEM", "DwellSummary", "Pelt", "Segments", "change_points",
           "cluster_traces", "dwell_summary", "dwell_times", "excitatory_traces",
           "hysteresis_segments", "infer_states"]


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


@dataclass(frozen=True)
class Pelt:
    """Options of the PELT method (module docstring).

    Attributes
    ----------
    threshold : float, default 0.3
        A cluster is active in a segment when its mean activity there exceeds this value.
    penalty : float, default 2
        Penalty factor; larger gives fewer change points.
    min_size : int, default 2
        Shortest segment in samples.
    """

    threshold: float = 0.3
    penalty: float = 2.0
    min_size: int = 2

    def __post_init__(self):
        if not (isinstance(self.penalty, int | float) and math.isfinite(self.penalty) and self.penalty > 0):
            raise OptionError("Pelt.penalty", f"must be a finite number > 0, got {self.penalty!r}")
        if not (isinstance(self.min_size, int) and not isinstance(self.min_size, bool) and self.min_size >= 1):
            raise OptionError("Pelt.min_size", f"must be an integer >= 1, got {self.min_size!r}")
        if not (isinstance(self.threshold, int | float) and math.isfinite(self.threshold)):
            raise OptionError("Pelt.threshold", f"must be a finite number, got {self.threshold!r}")


#: method names of :func:`infer_states` and their option classes
METHODS = {"active_set_em": ActiveSetEM, "pelt": Pelt}


def _options(method) -> ActiveSetEM | Pelt:
    if isinstance(method, ActiveSetEM | Pelt):
        return method
    if isinstance(method, str) and method in METHODS:
        return METHODS[method]()
    raise OptionError("method", f"unknown state-inference method {method!r}; give a name or an "
                      "ActiveSetEM / Pelt instance", allowed=tuple(METHODS))


def infer_states(trace: np.ndarray, method: str | ActiveSetEM | Pelt = "active_set_em") -> Segments:
    """Segment an activity trace into states of constant active set.

    Parameters
    ----------
    trace : ndarray, shape (T, C)
        Activity per population at each sample (see :func:`excitatory_traces`); finite.
    method : {"active_set_em", "pelt"} or ActiveSetEM or Pelt, default "active_set_em"
        A method name (default options) or an options instance (module docstring).

    Returns
    -------
    Segments
    """
    opts = _options(method)
    trace = np.asarray(trace, np.float64)
    if trace.ndim != 2 or trace.shape[0] < 1 or trace.shape[1] < 1:
        raise OptionError("trace", f"must have shape (T, C) with T, C >= 1, got {trace.shape}")
    if not np.isfinite(trace).all():
        raise OptionError("trace", "must be finite (a point without traces, e.g. not run yet?)")
    if isinstance(opts, ActiveSetEM):
        bounds, active = active_set_segments(trace, opts)
        return Segments(bounds[:-1], bounds[1:], active)
    bounds = np.r_[0, change_points(trace, opts.penalty, opts.min_size), trace.shape[0]]
    c = trace.shape[1]
    means = np.array([trace[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return _merge(bounds, means.reshape(len(bounds) - 1, c) > opts.threshold)


def change_points(trace: np.ndarray, penalty: float = 2.0, min_size: int = 2) -> np.ndarray:
    """Sample indices where PELT starts a new segment (excluding 0 and T).

    See :class:`Pelt` for the parameters and the module docstring for the penalty.
    """
    try:
        import ruptures
    except ImportError as err:  # optional extra
        raise MissingDependencyError('PELT state inference needs ruptures: pip install -e ".[states]"') from err
    trace = np.asarray(trace, np.float64)
    Pelt(penalty=penalty, min_size=min_size)  # checks the options
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


@dataclass(frozen=True)
class DwellSummary:
    """The paper's per-trace dwell-time summary (:func:`dwell_summary`); times in ms."""

    n_states: int
    n_episodes: int
    n_state_changes: int
    n_dwells: int
    mean_ms: float
    std_ms: float
    median_ms: float


def dwell_summary(segments: Segments, sample_interval_ms: float,
                  exclude_edges: bool = True) -> DwellSummary:
    """Dwell times of all states of one trace, pooled.

    ``n_states`` distinct active sets, ``n_episodes`` segments, ``n_state_changes =
    n_episodes - 1``; the dwell times are the segment lengths times ``sample_interval_ms``,
    the first and the last segment left out when ``exclude_edges`` and there are more than
    two segments (as the paper's analysis; with two or fewer all are kept). ``mean_ms``,
    ``std_ms`` (``ddof = 1``; 0 for one dwell time) and ``median_ms`` of those, NaN if none.
    """
    n = len(segments)
    lengths = (segments.end - segments.start).astype(np.float64) * sample_interval_ms
    used = lengths[1:-1] if exclude_edges and n > 2 else lengths
    return DwellSummary(
        n_states=int(np.unique(segments.active, axis=0).shape[0]) if n else 0,
        n_episodes=n,
        n_state_changes=max(n - 1, 0),
        n_dwells=int(used.size),
        mean_ms=float(used.mean()) if used.size else math.nan,
        std_ms=float(used.std(ddof=1)) if used.size > 1 else (0.0 if used.size else math.nan),
        median_ms=float(np.median(used)) if used.size else math.nan,
    )


def excitatory_traces(ds: xr.Dataset) -> xr.DataArray:
    """Activity of the excitatory populations over time from the stored ``activity`` traces.

    Dims ``(..., time, population)``, the populations whose ``population_type`` is ``"E"``
    (in the clustered model one per E cluster, in cluster order): the input of the paper's
    state inference.
    """
    if "activity" not in ds.data_vars:
        raise OptionError("store", "has no activity traces (set [output] keep_traces = true)")
    is_e = np.asarray(ds["population_type"].values == "E")
    if not is_e.any():
        raise OptionError("store", "has no excitatory populations (population_type 'E')")
    return ds["activity"].isel(population=np.flatnonzero(is_e)).transpose(..., "time", "population")


def cluster_traces(ds: xr.Dataset) -> xr.DataArray:
    """E activity per cluster over time from the stored ``activity`` traces.

    ``A_c(t) = sum_{p in E, cluster c} N_p a_p(t) / sum N_p``, as
    :func:`sweeps.measure.measurements.cluster_activity`; dims ``(..., time, cluster)``.
    """
    if "activity" not in ds.data_vars:
        raise OptionError("store", "has no activity traces (set [output] keep_traces = true)")
    is_e = (ds["population_type"] == "E") & (ds["population_cluster"] >= 0)
    weights = ds["population_size"].where(is_e, 0).astype(np.float64)
    cluster = ds["population_cluster"].where(is_e, NO_CLUSTER)
    member = xr.concat([weights.where(cluster == c, 0.0) for c in ds["cluster"].values], dim="cluster")
    member = member.assign_coords(cluster=ds["cluster"].values)
    summed = xr.dot(ds["activity"].astype(np.float64), member, dim="population")
    return (summed / member.sum("population")).transpose(..., "time", "cluster")
