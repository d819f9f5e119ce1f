"""Analysis API on synthetic Datasets shaped like the results store."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sweeps.analysis.datasets import average_seeds, best_point, only_ok, select

R_EPLUS = np.linspace(1.0, 13.0, 7)  # ... 7.0, 9.0 ...; 7.25 is not on the grid
V_TH = np.array([0.8, 1.0, 1.1, 1.3])
OPTIMUM = {"R_Eplus": R_EPLUS[3], "V_th": 1.1}


def synthetic_results(n_time=40, chunked=True, status_codes=True):
    """A Dataset like an opened store: swept R_Eplus x V_th x seed, inner population/time.

    ``score`` has its seed-averaged maximum at OPTIMUM; one failed point carries a much
    larger planted value and one ok point is NaN. ``status`` is int8 with CF flag attributes
    (as ``sweeps.store.sweep_store`` writes it) or, with ``status_codes=False``, strings.
    """
    rng = np.random.default_rng(0)
    r, v = np.meshgrid(R_EPLUS, V_TH, indexing="ij")
    base = -((r - OPTIMUM["R_Eplus"]) ** 2) - 10 * (v - OPTIMUM["V_th"]) ** 2
    score = base[..., None] + 0.01 * rng.standard_normal((*base.shape, 3))
    status = np.full(score.shape, "ok", dtype="<U6")
    status[0, 0, 1], score[0, 0, 1] = "failed", 1e6
    score[6, 3, 2] = np.nan
    populations = ["E0", "E1", "I0", "I1"]
    time = np.arange(n_time) * 10.0
    phase = np.arange(4) + (r * 0.1 + v)[..., None, None, None]  # [R, V, 1, 1, population]
    activity = 0.25 + 0.2 * np.sin(time[:, None] / 50.0 + phase)
    activity = np.broadcast_to(activity, (*score.shape, n_time, 4)).astype(np.float32)
    point = ("R_Eplus", "V_th", "seed")
    ds = xr.Dataset(
        {
            "score": (point, score, {"units": "1", "long_name": "planted score"}),
            "mean_activity_E": (point, 0.03 + 0.001 * r[..., None] + 0 * score,
                                {"units": "1", "long_name": "mean fraction of active E neurons"}),
            "synapse_count": (point, np.full(score.shape, 1000, np.int64),
                              {"units": "1", "long_name": "number of synapses"}),
            "activity": ((*point, "time", "population"), activity,
                         {"units": "1", "long_name": "fraction of active neurons"}),
            "status": (point, np.where(status == "ok", 1, 2).astype(np.int8),
                       {"long_name": "point status", "flag_values": [0, 1, 2],
                        "flag_meanings": "todo ok failed"})
            if status_codes else (point, status),
            "error": (point, np.where(status == "ok", "", "boom").astype(object),
                      {"long_name": "error message of a failed point"}),
        },
        coords={
            "R_Eplus": ("R_Eplus", R_EPLUS, {"units": "1", "long_name": "E cluster contrast"}),
            "V_th": ("V_th", V_TH, {"units": "mV", "long_name": "threshold"}),
            "seed": ("seed", np.arange(3), {"units": "1", "long_name": "replicate seed"}),
            "population": ("population", populations),
            "time": ("time", time, {"units": "ms", "long_name": "time after warm-up"}),
        },
        attrs={"experiment": "synthetic"},
    )
    return ds.chunk({"R_Eplus": 1, "V_th": 1, "seed": 1}) if chunked else ds


def test_best_point_finds_planted_optimum_after_seed_average():
    best = best_point(average_seeds(synthetic_results()), "score")
    assert best.coords == pytest.approx(OPTIMUM)
    assert set(best.coords) == {"R_Eplus", "V_th"}
    assert best.value == pytest.approx(0.0, abs=0.03)


def test_best_point_ignores_failed_points_and_nan_and_can_minimize():
    ds = synthetic_results()
    coords, value = best_point(ds, "score")
    assert {k: coords[k] for k in OPTIMUM} == pytest.approx(OPTIMUM)
    assert value < 1.0  # the failed point's 1e6 is not chosen
    worst = best_point(ds, "score", maximize=False)
    assert worst.coords["R_Eplus"] in (R_EPLUS[0], R_EPLUS[-1]) and np.isfinite(worst.value)
    expected = np.nanmin(np.where(ds.status.values == 1, ds.score.values, np.nan))
    assert worst.value == expected


def test_best_point_with_callable_score_and_zipped_coordinate():
    ds = synthetic_results().assign_coords(label=("V_th", ["a", "b", "c", "d"]))
    best = best_point(ds, lambda d: -abs(d.mean_activity_E.mean("seed") - 0.035))
    assert best.coords["R_Eplus"] == 5.0 and best.coords["label"] in "abcd"
    assert best.value == pytest.approx(0.0, abs=1e-12)


def test_best_point_errors():
    ds = synthetic_results()
    with pytest.raises(ValueError, match="unknown variable 'nope'; allowed: .*mean_activity_E"):
        best_point(ds, "nope")
    with pytest.raises(ValueError, match="inner dims"):
        best_point(ds, "activity")
    with pytest.raises(ValueError, match="no grid point"):
        best_point(ds, lambda d: d.score * np.nan)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)),
                  elements=st.floats(-1e6, 1e6) | st.just(np.nan)),
       st.booleans())
def test_best_point_value_is_the_extreme_valid_score(values, maximize):
    dims = ("a", "b", "seed")
    ds = xr.Dataset({"s": (dims, values)},
                    coords={d: np.arange(n) * 0.5 for d, n in zip(dims, values.shape, strict=True)})
    if np.all(np.isnan(values)):
        with pytest.raises(ValueError, match="no grid point"):
            best_point(ds, "s", maximize)
        return
    best = best_point(ds, "s", maximize)
    assert best.value == (np.nanmax(values) if maximize else np.nanmin(values))
    assert ds.s.sel(best.coords).item() == best.value


def test_average_seeds_masks_failed_points_and_keeps_attrs():
    ds = synthetic_results()
    avg = average_seeds(ds)
    assert "seed" not in avg.dims and "status" not in avg
    assert avg.attrs == ds.attrs
    assert avg.score.attrs == ds.score.attrs and avg.V_th.attrs["units"] == "mV"
    # the failed point's seed is left out of its mean
    assert float(avg.score[0, 0]) == pytest.approx(float(ds.score[0, 0, [0, 2]].mean()))
    assert float(avg.synapse_count[1, 1]) == 1000
    assert average_seeds(avg) is avg


def test_only_ok_with_string_status_and_uncoded_integers():
    ds = synthetic_results(status_codes=False)
    assert ds.status.dtype.kind == "U"
    assert np.isnan(float(only_ok(ds).score[0, 0, 1]))
    assert not np.isnan(float(only_ok(ds).score[0, 0, 0]))
    best = best_point(ds, "score")
    assert best.value < 1.0 and {k: best.coords[k] for k in OPTIMUM} == pytest.approx(OPTIMUM)
    coded = synthetic_results()
    with pytest.raises(ValueError, match="flag_values and flag_meanings"):
        only_ok(coded.assign(status=(coded.status.dims, coded.status.values)))


def test_select_nearest_within_tolerance():
    ds = synthetic_results()
    one = select(ds, R_Eplus=7.0 + 1e-9, V_th=1.1, seed=2)
    assert one.score.dims == ()
    assert float(one.score) == ds.score.values[3, 2, 2]
    assert select(ds, R_Eplus=7.1, tolerance=0.2).R_Eplus.item() == 7.0
    many = select(ds, V_th=[0.8, 1.3], population="E1")
    assert list(many.V_th.values) == [0.8, 1.3] and many.activity.dims[-1] == "time"


def test_select_errors_name_allowed_values():
    ds = synthetic_results()
    with pytest.raises(ValueError, match=r"R_Eplus=7.25 not on the grid .*allowed values: 1, 3, 5, 7"):
        select(ds, R_Eplus=7.25)
    with pytest.raises(ValueError, match="unknown axis 'g'; allowed: .*R_Eplus.*V_th"):
        select(ds, g=1.0)
    with pytest.raises(ValueError, match="'E9' not on the grid; allowed values: E0, E1, I0, I1"):
        select(ds, population="E9")


def test_select_zipped_axes_share_a_dim():
    ds = xr.Dataset({"x": ("point", np.arange(4.0))},
                    coords={"g": ("point", [1.0, 1.0, 2.0, 2.0]),
                            "V_th": ("point", [0.5, 1.0, 0.5, 1.0])})
    assert select(ds, g=2.0, V_th=0.5).x.item() == 2.0
    assert list(select(ds, g=1.0).x.values) == [0.0, 1.0]
    with pytest.raises(ValueError, match="no grid point on 'point'"):
        select(ds.isel(point=[0, 3]), g=1.0, V_th=1.0)
