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


# --- the reference's start choices: stability filter, a pool of focus counts, degenerate starts ---

FIGURE4 = {"N_E": 8000, "N_I": 2000, "Q": 20, "R_Eplus": 7.25, "R_j": 0.79, "p0_ee": 0.2, "p0_ie": 0.2,
           "p0_ei": 0.2, "p0_ii": 0.2}


def _plans(exp, indices=None):
    from sweeps.execution.initial import plan_start
    from sweeps.plan import SweepPlan

    plan = SweepPlan.build(exp)
    grid = plan.grid
    return [plan_start(plan.model, plan.layout, grid.parameters(i), exp.simulation,
                       grid.run_options(i).get("focus_count", exp.simulation.focus_count), grid.seeds(i))
            for i in (indices if indices is not None else grid)]


def _figure4(sweep, simulation):
    params = "\n".join(f"{k} = {v}" for k, v in FIGURE4.items())
    return parse_experiment(f"""
[experiment]
name = "fig4"
model = "clustered_ei"
seed = 1
[parameters]
{params}
kappa = 0.5
[sweep]
{sweep}
[simulation]
duration = "20 ms"
sample_interval = "10 ms"
initial = "meanfield"
{simulation}
""")


def test_figure4_point_whose_fixed_point_is_homogeneous_is_labelled():
    """At the paper's Figure 4 parameters the only fixed point of every focus count is the
    homogeneous state: not `FIXED_POINT`, but `HOMOGENEOUS_FIXED_POINT`, no focus clusters, and
    one start for all focus counts (bit-identical activities: copies)."""
    from sweeps.execution.initial import HOMOGENEOUS_FIXED_POINT, start_copies

    plans = _plans(_figure4("focus_count = [1, 2, 3]\ninits = 1", ""))
    assert [p.source for p in plans] == [HOMOGENEOUS_FIXED_POINT] * 3
    assert all(p.focus_clusters == () and p.stable == 1 for p in plans)
    assert [p.focus_count for p in plans] == [1, 2, 3]
    assert start_copies(plans, [0, 0, 0]) == [None, 0, 0]
    pooled = _plans(_figure4("inits = 4", "focus_counts = [1, 2, 3, 4, 5]"))
    assert {p.key() for p in pooled} == {plans[0].key()}  # the pool merges the identical fixed points
    assert all(p.focus_count == 1 and p.source == HOMOGENEOUS_FIXED_POINT for p in pooled)


def test_pool_draws_one_qualifying_fixed_point_per_init_reproducibly():
    from sweeps.execution.initial import FIXED_POINT

    exp = toy(sweep="inits = 40", parameters="stable_focus_max = 1",
              simulation='initial = "meanfield"\ninitial_mode = "exact"\nfocus_counts = [0, 1, 2, 3]\n'
                         'fixed_point_stability = "any"')
    plans = _plans(exp)
    counts = [p.focus_count for p in plans]
    assert set(counts) == {0, 1, 2, 3}  # uniform over the candidates: 40 draws see all four
    assert [p.focus_count for p in _plans(exp)] == counts  # seeds by role: the same draws again
    assert all(len(p.focus_clusters) == p.focus_count and p.source == FIXED_POINT for p in plans)
    assert [p.stable for p in plans] == [int(n <= 1) for n in counts]
    unstable = toy(sweep="inits = 20", parameters="stable_focus_max = 1",
                   simulation='initial = "meanfield"\nfocus_counts = [1, 2, 3]\nfixed_point_stability = "unstable"')
    assert {p.focus_count for p in _plans(unstable)} == {2, 3}
    assert {p.stable for p in _plans(unstable)} == {0}
    stable = toy(sweep="inits = 20", parameters="stable_focus_max = 1",
                 simulation='initial = "meanfield"\nfocus_counts = [1, 2, 3]')
    assert {p.focus_count for p in _plans(stable)} == {1}
    # what a point stores about its start
    values = simulate_point(exp, int(np.argmax(np.array(counts) == 2)))
    assert values["initial_focus_count"] == 2 and values["initial_stable"] == 0
    assert values["start_copy"] == 0 and values["focus_cluster"].sum() == 2
    on = values["focus_cluster"].astype(bool)
    np.testing.assert_array_equal(values["initial_rates"],
                                  np.float32([0.6 if f else 0.1 for f in on] + [0.4 if f else 0.2 for f in on]))


@pytest.mark.parametrize("simulation, field", [
    ('focus_counts = [1, 2]', "simulation.focus_counts"),  # needs meanfield
    ('initial = "meanfield"\nfocus_counts = [1, 1]', "simulation.focus_counts"),
    ('initial = "meanfield"\nfocus_counts = []', "simulation.focus_counts"),
    ('initial = "meanfield"\nfocus_counts = [1, 9]', "simulation.focus_counts"),  # Q = 4
    ('initial = "meanfield"\nfocus_counts = [1]\nfocus_count = 1', "simulation.focus_counts"),
    ('initial = "meanfield"\nfixed_point_stability = "metastable"', "simulation.fixed_point_stability"),
])
def test_bad_start_choices_name_the_field(simulation, field):
    with pytest.raises(DefinitionError) as err:
        toy(simulation=simulation)
    assert err.value.field == field


def test_pool_and_focus_axis_exclude_each_other():
    with pytest.raises(DefinitionError, match="exclude each other"):
        toy(sweep="focus_count = [1, 2]", simulation='initial = "meanfield"\nfocus_counts = [1, 2]')


def test_identical_starts_are_simulated_once_and_marked(tmp_path, monkeypatch, capsys):
    """focus counts 1 and 2 both fall back to the homogeneous state: per network and init one
    simulation, the copy holds the same measurements and start_copy = 1; validate counts them."""
    from sweeps.execution import task

    calls = []
    record = task._record
    monkeypatch.setattr(task, "_record", lambda *a, **k: calls.append(1) or record(*a, **k))
    text = TOY.format(sweep="focus_count = [0, 1, 2, 3]\nnetworks = 2\ninits = 2", parameters="stable_focus_max = 0",
                      simulation='initial = "meanfield"', model="tests.reference.toymodel:MODEL")
    path = tmp_path / "d.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    assert "starts: 12 of 16 points start from the same state" in capsys.readouterr().out
    store = tmp_path / "d.zarr"
    assert main(["run", str(path), "--store", str(store), "--threads", "1"]) == 0
    assert len(calls) == 4  # 2 networks x 2 inits, one start each
    ds = open_results(store).load()
    assert bool((ds["status"] == 1).all())
    np.testing.assert_array_equal(ds["start_copy"].values.any(axis=(1, 2)), [False, True, True, True])
    assert (ds["initial_source"].sel(focus_count=0) == FIXED_POINT).all()
    assert (ds["initial_source"].sel(focus_count=[1, 2, 3]) == FALLBACK_HOMOGENEOUS).all()
    for n in (1, 2, 3):
        np.testing.assert_array_equal(ds["activity"].sel(focus_count=n).values, ds["activity"].sel(focus_count=0).values)
    # the same numbers as simulating each point on its own
    alone = simulate_point(parse_experiment(text), 15)
    np.testing.assert_array_equal(alone["activity"], ds["activity"].isel(focus_count=3, network=1, init=1).values)
