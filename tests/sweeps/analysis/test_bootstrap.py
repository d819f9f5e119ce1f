"""Bootstrap resampling: nested replicate means and percentile intervals."""

from __future__ import annotations

import numpy as np

from sweeps.analysis.bootstrap import bootstrap_means


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
