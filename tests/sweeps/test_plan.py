"""The sweep plan: a run resolves its model and builds its grid once, in the driver, never in a task."""

from __future__ import annotations

import pytest

import sweeps
from sweeps.models import registry
from sweeps.plan import SweepPlan
from sweeps.spec.definition import parse_experiment
from sweeps.spec.grid import Grid
from tests.conftest import TOY_TOML


@pytest.fixture
def counted(monkeypatch):
    """Count model resolutions and grid constructions (every sweeps module that holds them)."""
    import sys

    calls = {"resolve": 0, "grid": 0}
    resolve = registry.resolve

    def counting_resolve(name):
        calls["resolve"] += 1
        return resolve(name)

    for module in [m for name, m in sys.modules.items() if name.startswith("sweeps")]:
        if getattr(module, "resolve", None) is resolve:
            monkeypatch.setattr(module, "resolve", counting_resolve)
    init = Grid.__init__

    def counting_init(self, *args, **kwargs):
        calls["grid"] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(Grid, "__init__", counting_init)
    return calls


def test_a_run_resolves_the_model_and_builds_the_grid_once(tmp_path, counted):
    text = TOY_TOML.format(extra_parameters="", extra_output="").replace("replicates = 2", "networks = 2\ninits = 2")
    experiment = parse_experiment(text)  # validation resolves too, before the run
    counted.update(resolve=0, grid=0)
    summary = sweeps.run_sweep(experiment, tmp_path / "s.zarr", sweeps.LocalThreads(2))
    assert summary.ok == experiment.n_points == 36
    assert counted == {"resolve": 1, "grid": 1}  # 36 points in 18 tasks: none resolved or expanded again
    counted.update(resolve=0, grid=0)
    sweeps.run_sweep(experiment, tmp_path / "s.zarr", sweeps.LocalThreads(2))  # resume: nothing to run
    assert counted == {"resolve": 1, "grid": 1}


def test_the_plan_lists_what_a_point_stores(toy_definition):
    plan = SweepPlan.build(sweeps.load_experiment(toy_definition()))
    assert plan.layout.names == ("E0", "E1", "I0", "I1")
    assert {s.name for s in plan.variables} >= {"mean_activity_E", "initial_source", "synapse_count"}
    assert plan.dtypes["status" if "status" in plan.dtypes else "synapse_count"].kind == "i"
    assert plan.inner["population"] == 4 and plan.inner["time"] == plan.experiment.simulation.n_samples
    assert len(plan.grid) == plan.experiment.n_points


def test_every_array_of_a_store_but_the_point_dimensions_is_a_reserved_name(tmp_path):
    """The names swept axes may not take (``reserved_names``) cover everything a store holds:
    a run with ``[theory]`` writes the theory too."""
    from sweeps.plan import reserved_names
    from sweeps.store.sweep_store import SweepStore

    experiment = sweeps.parse_experiment(
        '[experiment]\nname = "names"\nmodel = "clustered_ei"\nseed = 1\n[parameters]\nN_E = 80\nN_I = 20\nQ = 2\n'
        '[sweep]\nR_Eplus = [1.2, 1.5]\n[[sweep.zip]]\nname = "z"\ng = [1.0, 1.2]\nkappa = [0.0, 1.0]\n'
        '[simulation]\nduration = "20 ms"\nsample_interval = "2 ms"\n[output]\ncorrelation_neurons = 4\n'
        '[theory]\nfocus_counts = [1]\n')
    sweeps.run_sweep(experiment, tmp_path / "s.zarr", sweeps.LocalThreads(2), limit=1)
    store = SweepStore.open(tmp_path / "s.zarr", mode="r")
    names = {name for name, _ in store.group.members()}
    swept = set(store.dims) | {"g", "kappa"}
    assert names - swept <= set(reserved_names(SweepPlan.build(experiment))) | {"focus_count"}  # the theory's dim
    assert {"status", "error", "time", "population", "population_size", "sweeps_theory", "mf_rate_E_focus"} <= names
