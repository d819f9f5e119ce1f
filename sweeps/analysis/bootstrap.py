"""Balanced (hierarchical) bootstrap of a mean over nested replicate levels (pure numpy).

Values are arranged with the nested levels as the last axes, outermost first, e.g.
``(..., network, init)``. The point estimate is the balanced mean: the mean over the
innermost level first, then over the next one, and so on, so every unit of a level weighs the
same whatever the number of valid units below it (NaN marks a missing value). A bootstrap
replicate resamples the outer units with replacement, then inside each drawn unit its inner
units with replacement, down to the innermost level, and takes the balanced mean of the draw.
The interval is the percentile interval of the replicates.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["balanced_mean", "bootstrap_means", "percentile_interval"]


def balanced_mean(values: np.ndarray, n_levels: int) -> np.ndarray:
    """Mean over the last ``n_levels`` axes, innermost first, ignoring NaN."""
    out = np.asarray(values, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        for _ in range(n_levels):
            out = np.nanmean(out, axis=-1)
    return out


def bootstrap_means(values: np.ndarray, n_levels: int, n_boot: int,
                    rng: np.random.Generator, block: int = 100) -> np.ndarray:
    """Balanced means of ``n_boot`` hierarchical resamples, shape ``(n_boot, *leading)``.

    Parameters
    ----------
    values : ndarray
        Nested levels as the last ``n_levels`` axes, outermost first.
    n_levels : int
        Number of nested levels (>= 1).
    n_boot : int
        Number of bootstrap replicates.
    rng : numpy.random.Generator
        Source of the resampling indices (draw order fixed: reproducible for a seed).
    block : int
        Replicates drawn at once (bounds the memory to ``block`` resampled copies).
    """
    values = np.asarray(values, np.float64)
    sizes = values.shape[values.ndim - n_levels:]
    lead = values.ndim - n_levels
    out = np.empty((n_boot,) + values.shape[:lead])
    for first in range(0, n_boot, block):
        b = min(block, n_boot - first)
        index = []
        for level, size in enumerate(sizes):
            draw = rng.integers(0, size, size=(b,) + sizes[:level + 1])
            # shape (b, n_1, ..., n_level, 1, ..., 1) so the levels broadcast together
            index.append(draw.reshape(draw.shape + (1,) * (n_levels - level - 1)))
        resampled = values[(Ellipsis, *index)]  # (..., b, n_1, ..., n_L)
        out[first:first + b] = np.moveaxis(balanced_mean(resampled, n_levels), -1, 0)
    return out


def percentile_interval(replicates: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` percentiles ``(1 - ci) / 2`` and ``(1 + ci) / 2`` over axis 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lower, upper = np.nanquantile(replicates, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return lower, upper
