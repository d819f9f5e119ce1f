"""Bootstrap resampling: nested replicate means and percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest

from sweeps.analysis.bootstrap import bootstrap_means, percentile_interval


def test_nested_bootstrap_variance_is_the_two_stage_formula():
    """Resampling networks, then inits inside each drawn network, has the exact variance

    ``Var* = (1/n) mean_i (ybar_i - ybar)^2 + (1/n^2) sum_i (1/m) mean_j (y_ij - ybar_i)^2``

    (ddof 0 throughout); flat resampling of all n*m values would give ``var(y) / (n m)``.
    """
    rng = np.random.default_rng(3)
    n_trials, n, m = 200, 6, 4
    y = rng.normal(0, 1.0, (n_trials, n, 1)) + rng.normal(0, 2.0, (n_trials, n, m))
    reps = bootstrap_means(y, 2, 2000, np.random.default_rng(4))
    ybar_i = y.mean(axis=2)
    exact = ybar_i.var(axis=1) / n + (y.var(axis=2) / m).sum(axis=1) / n**2
    ratio = reps.var(axis=0) / exact
    # relative SE of a variance from 2000 replicates: about sqrt(2 / 2000) per trial
    assert abs(ratio.mean() - 1) < 4 * np.sqrt(2 / 2000) / np.sqrt(n_trials) + 0.01
    flat = y.reshape(n_trials, -1).var(axis=1) / (n * m)
    assert abs((reps.var(axis=0) / flat).mean() - 1) > 0.1  # the nesting matters here


def test_percentile_interval_is_numpy_percentile_and_skips_nan():
    replicates = np.random.default_rng(0).normal(size=(1001, 3))
    lower, upper = percentile_interval(replicates, 0.9)
    np.testing.assert_allclose(lower, np.percentile(replicates, 5, axis=0))
    np.testing.assert_allclose(upper, np.percentile(replicates, 95, axis=0))
    replicates[::2, 0] = np.nan
    lower, _ = percentile_interval(replicates, 0.9)
    assert lower[0] == pytest.approx(np.percentile(replicates[1::2, 0], 5))
