"""Mean-field theory in sweeps: the [theory] table, `sweeps theory`, the store, the plot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from binnet_core import meanfield as mf
from sweeps import open_results
from sweeps.analysis.datasets import only_ok
from sweeps.analysis.plots import plot_command
from sweeps.cli import main
from sweeps.errors import DefinitionError
from sweeps.spec.definition import parse_experiment
from sweeps.theory.compute import bifurcation_line

DEFINITION = """\
[experiment]
name = "theory"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 8000
N_I = 2000
Q = 20
connection_type = "poisson"
[sweep]
R_Eplus = [1.0, 3.0, 7.25]
kappa = [0.0, 1.0]
replicates = 2
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
{theory}
"""


ZIPPED = """\
[experiment]
name = "zipped"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 800
N_I = 200
Q = 4
kappa = 1.0
[sweep]
R_Eplus = [1.0, 3.5]
[[sweep.zip]]
name = "pair"
R_j = [0.5, 0.75]
V_th = [1.0, 1.0001]
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
[theory]
focus_counts = [1]
"""


def _write(tmp_path, theory="[theory]\nfocus_counts = [0, 1, 2]"):
    path = tmp_path / "theory.toml"
    path.write_text(DEFINITION.format(theory=theory))
    return path


@pytest.mark.parametrize("theory, field", [
    ("[theory]\nfocus_counts = [1, 21]", "theory.focus_counts"),   # Q = 20
    ("[theory]\nfocus_counts = [1, 1]", "theory.focus_counts"),
    ("[theory]\nfocus_counts = [-1]", "theory.focus_counts"),
    ("[theory]\nfocus_counts = []", "theory.focus_counts"),
    ("[theory]\nfocus = [1]", "theory.focus"),
])
def test_bad_theory_table_names_the_field(theory, field):
    with pytest.raises(DefinitionError) as err:
        parse_experiment(DEFINITION.format(theory=theory))
    assert err.value.field == field


def test_theory_table_is_not_part_of_the_identity():
    with_theory = parse_experiment(DEFINITION.format(theory="[theory]\nfocus_counts = [1]"))
    without = parse_experiment(DEFINITION.format(theory=""))
    assert with_theory.theory.focus_counts == (1,) and without.theory is None
    assert with_theory.identity() == without.identity()


def test_sweeps_theory_writes_only_the_theory(tmp_path, capsys):
    store = tmp_path / "s.zarr"
    assert main(["theory", str(_write(tmp_path)), "--store", str(store)]) == 0
    assert "mean-field theory for 12 grid points" in capsys.readouterr().out
    ds = open_results(store)
    assert int((ds["status"] == 1).sum()) == 0  # nothing simulated
    # theory needs no simulated point: masking by status leaves it alone
    np.testing.assert_array_equal(only_ok(ds)["mf_rate_E_focus"].values,
                                  ds["mf_rate_E_focus"].values)
    rate = ds["mf_rate_E_focus"]
    assert rate.dims == ("R_Eplus", "kappa", "focus_count")
    assert rate.attrs["units"] == "1" and "stable" in rate.attrs["long_name"]
    base = {"N_E": 8000, "N_I": 2000, "Q": 20, "connection_type": "poisson"}
    several_stable = 0
    for r in (1.0, 3.0, 7.25):
        for kappa in (0.0, 1.0):
            for n in (0, 1, 2):
                points = mf.fixed_points(dict(base, R_Eplus=r, kappa=kappa), n)
                at = {"R_Eplus": r, "kappa": kappa, "focus_count": n}
                assert int(ds["mf_fixed_points"].sel(at)) == len(points)
                assert int(ds["mf_stable_points"].sel(at)) == sum(p.stable for p in points)
                got = ds["mf_point_stable"].sel(at).values
                np.testing.assert_array_equal(got[:len(points)], [p.stable for p in points])
                assert (got[len(points):] == -1).all()
                if n > 0:
                    got = ds["mf_point_E_focus"].sel(at).values
                    np.testing.assert_allclose(got[:len(points)], [p.rates[0] for p in points],
                                               atol=1e-12)
                    assert np.isnan(got[len(points):]).all()
                stable = [p for p in points if p.stable]
                several_stable += len(stable) > 1
                best = max(stable, key=lambda p: p.rates[0])
                expected = best.group_rates
                for group in ("E_focus", "E_other", "I_focus", "I_other"):
                    got = float(ds[f"mf_rate_{group}"].sel(at))
                    if math.isnan(expected[group]):
                        assert math.isnan(got)
                    else:
                        assert got == pytest.approx(expected[group], abs=1e-12)
    assert several_stable > 0  # the choice of the state is tested
    bif = ds["mf_bifurcation_R_Eplus"]
    assert bif.dims == ("kappa", "focus_count")
    for kappa in (0.0, 1.0):
        expected = mf.bifurcation(dict(base, kappa=kappa), 1)
        got = float(bif.sel(kappa=kappa, focus_count=1))
        assert got == pytest.approx(expected, abs=1e-12) or (math.isnan(got) and math.isnan(expected))


def test_run_writes_theory_before_simulating_and_plot_draws_the_line(tmp_path):
    store = tmp_path / "s.zarr"
    path = tmp_path / "t.toml"
    path.write_text(ZIPPED)
    assert main(["run", str(path), "--store", str(store), "--threads", "1"]) == 0
    ds = open_results(store)
    assert bool((ds["status"] == 1).all())
    assert ds["mf_bifurcation_R_Eplus"].dims == ("pair", "focus_count")
    line = bifurcation_line(ds, "R_Eplus", "pair")
    assert line is not None
    np.testing.assert_allclose(line[0], ds["mf_bifurcation_R_Eplus"].sel(focus_count=1).values)
    out = plot_command(store, tmp_path / "p.png", var="mean_activity_E", x="R_Eplus", y="pair")
    assert out.stat().st_size > 0


GROWING = """\
[experiment]
name = "growing"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 800
N_I = 200
Q = 4
connection_type = "poisson"
[sweep]
R_Eplus = {r_eplus}
kappa = {kappa}
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
[theory]
focus_counts = [0, 1, 2]
"""

THEORY_VARIABLES = ("mf_rate_E_focus", "mf_rate_E_other", "mf_rate_I_focus", "mf_rate_I_other",
                    "mf_fixed_points", "mf_stable_points", "mf_point_E_focus", "mf_point_stable",
                    "mf_bifurcation_R_Eplus")


def _theory_of(store):
    ds = open_results(store)
    return {name: ds[name].load() for name in THEORY_VARIABLES}


@pytest.mark.parametrize("command", ["theory", "run"])
def test_a_grown_store_gets_theory_for_its_new_points(tmp_path, command):
    """Growth (sweeps.store.growth) adds axis values: the new points get theory, the old ones keep
    theirs bit for bit, and the store holds what a fresh store of the grown definition holds."""
    small, grown = tmp_path / "small.toml", tmp_path / "grown.toml"
    small.write_text(GROWING.format(r_eplus="[1.0, 3.0]", kappa="[0.0]"))
    # a value inserted in the middle of R_Eplus and one at its end (both appended to the
    # store's axis), another kappa, and 3 fixed points where the small grid has 1 at most
    grown.write_text(GROWING.format(r_eplus="[1.0, 2.0, 3.0, 3.5]", kappa="[0.0, 1.0]"))
    store, fresh = tmp_path / "s.zarr", tmp_path / "fresh.zarr"
    args = ["--threads", "1"] if command == "run" else []
    assert main([command, str(small), "--store", str(store), *args]) == 0
    before = _theory_of(store)
    assert main([command, str(grown), "--store", str(store), *args]) == 0
    assert main(["theory", str(grown), "--store", str(fresh)]) == 0
    after, expected = _theory_of(store), _theory_of(fresh)
    covered = open_results(store).attrs["sweeps_theory"]
    assert main([command, str(grown), "--store", str(store), *args]) == 0  # nothing new
    assert open_results(store).attrs["sweeps_theory"] == covered
    assert list(after["mf_rate_E_focus"]["R_Eplus"].values) == [1.0, 3.0, 2.0, 3.5]
    assert int(expected["mf_fixed_points"].max()) > int(before["mf_fixed_points"].max())
    for name in THEORY_VARIABLES:
        old = after[name].sel({d: before[name][d] for d in ("R_Eplus", "kappa") if d in before[name].dims})
        if "mf_point" in old.dims:  # a wider mf_point dimension: the old points are padded
            width = before[name].sizes["mf_point"]
            pad = old.isel(mf_point=slice(width, None)).values
            assert (np.isnan(pad) if pad.dtype.kind == "f" else pad == -1).all()
            old = old.isel(mf_point=slice(0, width))
        np.testing.assert_array_equal(old.values, before[name].values, err_msg=name)
        order = [d for d in ("R_Eplus", "kappa") if d in after[name].dims]
        np.testing.assert_array_equal(after[name].sortby(order).values,
                                      expected[name].sortby(order).values, err_msg=name)


def test_other_focus_counts_replace_the_theory(tmp_path):
    """The [theory] table is not part of the identity: a store's theory for other focus
    counts is recomputed as a whole (the focus_count dimension changes)."""
    one, three = tmp_path / "one.toml", tmp_path / "three.toml"
    definition = GROWING.format(r_eplus="[1.0, 3.5]", kappa="[0.0]")
    one.write_text(definition.replace("focus_counts = [0, 1, 2]", "focus_counts = [1]"))
    three.write_text(definition)
    store, fresh = tmp_path / "s.zarr", tmp_path / "fresh.zarr"
    assert main(["theory", str(one), "--store", str(store)]) == 0
    assert main(["run", str(three), "--store", str(store), "--threads", "1"]) == 0
    assert main(["theory", str(three), "--store", str(fresh)]) == 0
    after, expected = _theory_of(store), _theory_of(fresh)
    for name in THEORY_VARIABLES:
        assert after[name].identical(expected[name]), name


EVERYTHING = """\
[experiment]
name = "everything"
model = "clustered_ei"
seed = 3
[parameters]
N_E = 400
N_I = 100
Q = 4
[sweep]
focus_count = [0, 1, 2]
networks = 2
inits = 2
[[sweep.zip]]
name = "pair"
kappa = [0.0, 1.0]
R_Eplus = [3.0, 3.5]
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
initial = "meanfield"
[theory]
focus_counts = [1, 2]
"""


def test_theory_with_a_focus_count_axis_networks_inits_and_a_zip_runs_end_to_end(tmp_path, capsys):
    """What `sweeps validate` accepts runs: a swept focus_count is a start option, not a model
    parameter of the theory, and the theory's own focus counts go to `mf_focus_count`."""
    path, store = tmp_path / "e.toml", tmp_path / "e.zarr"
    path.write_text(EVERYTHING)
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--store", str(store), "--threads", "1"]) == 0
    ds = open_results(store)
    assert bool((ds["status"] == 1).all()) and ds.sizes["focus_count"] == 3
    rate = ds["mf_rate_E_focus"]
    assert "focus_count" not in rate.dims and rate.dims[-1] == "mf_focus_count"
    assert list(ds["mf_focus_count"].values) == [1, 2]
    base = {"N_E": 400, "N_I": 100, "Q": 4}
    for pair, (kappa, r) in enumerate([(0.0, 3.0), (1.0, 3.5)]):
        for n in (1, 2):
            points = mf.fixed_points(dict(base, kappa=kappa, R_Eplus=r), n)
            at = {"pair": pair, "mf_focus_count": n, "network": 1, "init": 0}
            assert int(ds["mf_fixed_points"].sel(at)) == (len(points) if points.reason is None else -1)
    assert ds["mf_bifurcation_R_Eplus"].dims == ("pair", "network", "init", "mf_focus_count")
    assert main(["theory", str(path), "--store", str(store)]) == 0  # again: nothing clashes
    assert "2 focus counts" in capsys.readouterr().out
