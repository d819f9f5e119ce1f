"""Model declarations and initial conditions: given activities, mean-field starts, fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from sweeps.cli import main
from sweeps.errors import DefinitionError
from sweeps.execution.driver import run_sweep
from sweeps.execution.executors import LocalThreads
from sweeps.execution.initial import FALLBACK_DEFAULT, FALLBACK_HOMOGENEOUS, FIXED_POINT, GIVEN
from sweeps.models.registry import resolve
from sweeps.spec.definition import parse_experiment
from sweeps.spec.grid import Grid
from sweeps.store.results import open_results
from tests.reference import toymodel
from tests.reference.points import simulate_point

TOY = """\
[experiment]
name = "start"
model = "{model}"
seed = 3

[parameters]
N_E = 40
N_I = 20
Q = 4
{parameters}

[sweep]
{sweep}

[simulation]
duration = "4 ms"
sample_interval = "2 ms"
{simulation}

[output]
correlation_neurons = 4
"""


def toy(sweep="inits = 2", simulation="", parameters="", model="tests.reference.toymodel:MODEL"):
    return parse_experiment(TOY.format(sweep=sweep, simulation=simulation, parameters=parameters, model=model))


def exact(activity, n):
    return int(round(activity * n)) / n


def test_a_model_is_one_declaration():
    model = resolve("tests.reference.toymodel:MODEL")
    assert model is toymodel.MODEL and model.theory is toymodel.theory
    assert model.units("sleep") == "s" and model.units("unknown") == "1"
    assert resolve("clustered_ei").units("tau_e") == "ms"  # declared by sweeps.models.clustered_ei
    assert resolve("clustered_ei").cost({"R_Eplus": 7.25}).updates_per_ms == 1200.0


def test_store_coordinates_take_units_from_the_declaration(tmp_path):
    exp = toy(sweep="sleep = [0.0]")
    run_sweep(exp, tmp_path / "s.zarr", LocalThreads(1))
    ds = open_results(tmp_path / "s.zarr")
    assert ds.sleep.attrs["units"] == "s" and ds.sleep.attrs["long_name"] == "pause per run call"
    assert int(ds.initial_source.values.ravel()[0]) == 0  # the model's default start


def test_given_activities_exact_fraction():
    activities = [0.5, 0.2, 0.0, 1.0, 0.4, 0.6, 0.2, 0.8]
    exp = toy(simulation=f"initial = {activities}\ninitial_mode = \"exact\"")
    values = simulate_point(exp, 1)
    sizes = [10] * 4 + [5] * 4
    np.testing.assert_array_equal(values["initial_activity"],
                                  np.float32([exact(a, n) for a, n in zip(activities, sizes)]))
    assert values["initial_source"] == GIVEN and not values["focus_cluster"].any()


def test_meanfield_start_draws_focus_clusters_per_init():
    exp = toy(sweep="focus_count = [0, 1, 2]\ninits = 6", simulation='initial = "meanfield"\ninitial_mode = "exact"')
    grid = Grid.from_experiment(exp)
    chosen = {}
    for index in grid:
        values = simulate_point(exp, index)
        focus = grid.run_options(index)["focus_count"]
        assert values["initial_source"] == FIXED_POINT
        clusters = np.flatnonzero(values["focus_cluster"])
        assert clusters.size == focus
        on = np.isin(np.arange(4), clusters)
        expected = [0.6 if f else 0.1 for f in on] + [0.4 if f else 0.2 for f in on]
        np.testing.assert_array_equal(values["initial_activity"], np.float32(expected))
        chosen.setdefault(focus, set()).add(tuple(clusters))
    assert len(chosen[1]) > 1 and len(chosen[2]) > 1  # the inits start different focus clusters


@pytest.mark.parametrize("stable_max, source", [(0, FALLBACK_HOMOGENEOUS), (-1, FALLBACK_DEFAULT)])
def test_fallback_without_a_stable_fixed_point_is_recorded(stable_max, source):
    exp = toy(sweep="focus_count = [2]", parameters=f"stable_focus_max = {stable_max}",
              simulation='initial = "meanfield"\ninitial_mode = "exact"')
    values = simulate_point(exp, 0)
    assert values["initial_source"] == source and not values["focus_cluster"].any()
    if source == FALLBACK_HOMOGENEOUS:
        np.testing.assert_array_equal(values["initial_activity"], np.float32([0.1] * 4 + [0.2] * 4))


@pytest.mark.parametrize("sweep, simulation, model, field", [
    ("focus_count = [0, 5]", 'initial = "meanfield"', "tests.reference.toymodel:MODEL", "sweep.focus_count"),
    ("inits = 1", 'initial = "meanfield"\nfocus_count = -1', "tests.reference.toymodel:MODEL", "simulation.focus_count"),
    ("focus_count = [1]", "", "tests.reference.toymodel:MODEL", "sweep.focus_count"),
    ("inits = 1", 'initial = "meanfield"', "tests.reference.toymodel:build", "simulation.initial"),
    ("inits = 1", "initial = [0.1, 0.1]", "tests.reference.toymodel:MODEL", "simulation.initial"),
    ("inits = 1", "initial = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1.5]", "tests.reference.toymodel:MODEL", "simulation.initial"),
    ("inits = 1", 'initial = "fixed"', "tests.reference.toymodel:MODEL", "simulation.initial"),
    ("inits = 1", 'initial_mode = "fraction"', "tests.reference.toymodel:MODEL", "simulation.initial_mode"),
])
def test_bad_start_input_one_line_exit_2_store_untouched(tmp_path, capsys, sweep, simulation, model, field):
    text = TOY.format(sweep=sweep, simulation=simulation, parameters="", model=model)
    with pytest.raises(DefinitionError) as err:
        parse_experiment(text)
    assert str(err.value).startswith(field + ":")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    store = tmp_path / "s.zarr"
    assert main(["run", str(path), "--store", str(store)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0]
    assert not store.exists()


def test_clustered_model_starts_at_its_fixed_point():
    exp = parse_experiment("""
[experiment]
name = "mf"
model = "clustered_ei"
seed = 1
[parameters]
N_E = 2000
N_I = 500
Q = 5
R_Eplus = 4.0
[sweep]
focus_count = [1]
inits = 2
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
initial = "meanfield"
initial_mode = "exact"
""")
    for index in range(2):
        values = simulate_point(exp, index)
        assert values["initial_source"] == FIXED_POINT
        focus = np.flatnonzero(values["focus_cluster"])
        assert focus.size == 1
        e = values["initial_activity"][:5]
        assert e[focus[0]] > np.delete(e, focus[0]).max()  # the focus cluster starts most active
