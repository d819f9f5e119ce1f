"""summarize / average_seeds: bootstrap intervals against cases with known distributions."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sweeps.analysis.bootstrap import balanced_mean
from sweeps.analysis.datasets import average_seeds, summarize


def normal_dataset(n_trials, n_networks, rng, mu=0.3, sigma=1.0, dim="network"):
    x = rng.normal(mu, sigma, (n_trials, n_networks))
    return xr.Dataset({"x": (("trial", dim), x, {"units": "1", "long_name": "x"})},
                      coords={"trial": np.arange(n_trials)}), x


def test_interval_matches_normal_theory_and_covers():
    """Percentile bootstrap of a mean of n normal values: half width and coverage.

    The bootstrap distribution of the mean has the plug-in standard error
    ``s0 / sqrt(n)`` (``s0``: standard deviation with ddof 0) and is close to normal, so the half
    width is about ``z_0.975 s0 / sqrt(n)``; coverage is about ``P(|t_{n-1}| < z sqrt((n-1)/n))``.
    """
    rng = np.random.default_rng(0)
    n_trials, n = 400, 20
    ds, x = normal_dataset(n_trials, n, rng)
    out = summarize(ds, "x", over="network", ci=0.95, n_boot=1000, seed=1)
    np.testing.assert_allclose(out["mean"], x.mean(axis=1))
    half = (out["upper"] - out["lower"]).values / 2
    ratio = half / (stats.norm.ppf(0.975) * x.std(axis=1) / np.sqrt(n))
    se_ratio = ratio.std() / np.sqrt(n_trials)
    assert abs(ratio.mean() - 1) < 4 * se_ratio + 0.01  # 1 %: skew of the resampled means
    covered = ((out["lower"] <= 0.3) & (0.3 <= out["upper"])).values
    expected = 2 * stats.t.cdf(stats.norm.ppf(0.975) * np.sqrt((n - 1) / n), n - 1) - 1
    se_cover = np.sqrt(expected * (1 - expected) / n_trials)
    assert abs(covered.mean() - expected) < 4 * se_cover
    assert out.attrs["over"] == ["network"] and out["mean"].attrs["units"] == "1"


def test_same_seed_same_interval_and_seed_alias():
    rng = np.random.default_rng(2)
    ds, _ = normal_dataset(3, 8, rng, dim="seed")  # older stores call the replicate dim `seed`
    a = summarize(ds, "x", n_boot=200, seed=5)
    b = summarize(ds, "x", over="seed", n_boot=200, seed=5)
    xr.testing.assert_identical(a, b)
    assert not a.identical(summarize(ds, "x", n_boot=200, seed=6))
    assert a.attrs["over"] == ["seed"]


def test_nested_mean_is_balanced_and_ignores_failed_points():
    y = np.array([[1.0, 1.0, 1.0, 1.0], [5.0, np.nan, np.nan, np.nan]])  # network 1: one init
    assert balanced_mean(y, 2) == pytest.approx(3.0)  # not (4 + 5) / 5
    ds = xr.Dataset({"x": (("network", "init"), y)})
    out = summarize(ds, "x", over=("network", "init"), n_boot=300)
    assert float(out["mean"]) == pytest.approx(3.0)
    assert 1.0 <= float(out["lower"]) <= float(out["upper"]) <= 5.0


def test_correlations_are_summarized_in_fisher_z():
    r = np.array([0.1, 0.9, 0.95])
    ds = xr.Dataset({"c": (("network",), r, {"aggregation": "fisher_z"}),
                     "m": (("network",), r)})
    assert float(summarize(ds, "c", n_boot=50)["mean"]) == pytest.approx(np.tanh(np.arctanh(r).mean()))
    assert float(summarize(ds, "m", n_boot=50)["mean"]) == pytest.approx(r.mean())
    assert float(summarize(ds, "m", n_boot=50, fisher=True)["mean"]) == pytest.approx(
        np.tanh(np.arctanh(r).mean()))
    avg = average_seeds(ds.rename(network="seed"))
    assert float(avg["c"]) == pytest.approx(np.tanh(np.arctanh(r).mean()))
    assert float(avg["m"]) == pytest.approx(r.mean())
    assert avg["c"].attrs["aggregation"] == "fisher_z"


def test_bad_arguments_name_the_field():
    ds = xr.Dataset({"x": (("network",), np.zeros(3))})
    with pytest.raises(ValueError, match="unknown variable 'y'.*x"):
        summarize(ds, "y")
    with pytest.raises(ValueError, match="over: 'init' is not a dim"):
        summarize(ds, "x", over=("network", "init"))
    with pytest.raises(ValueError, match="ci must be in"):
        summarize(ds, "x", ci=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        summarize(ds, "x", n_boot=0)
