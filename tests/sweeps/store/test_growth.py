"""Grids that grow in place: added axis values / networks / inits run only the new points."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sweeps.cli import main
from sweeps.errors import StoreMismatchError
from sweeps.execution.driver import run_sweep
from sweeps.execution.executors import LocalThreads
from sweeps.execution.task import TIMING_VARIABLES
from sweeps.spec.definition import parse_experiment
from sweeps.store.results import open_results
from sweeps.store.sweep_store import SweepStore

TOY = """\
[experiment]
name = "grow"
model = "tests.reference.toymodel:MODEL"
seed = 5

[parameters]
N_E = 40
N_I = 10
Q = 2
{parameters}

[sweep]
R_Eplus = {r_eplus}
{replicas}

[simulation]
duration = "6 ms"
sample_interval = "2 ms"

[output]
correlation_neurons = 4
points_per_chunk = 4
"""


def toy(r_eplus="[1.0, 3.0]", replicas="networks = 1\ninits = 2", parameters=""):
    return parse_experiment(TOY.format(r_eplus=r_eplus, replicas=replicas, parameters=parameters))


def data(path):
    ds = open_results(path).load()
    return ds.drop_vars([v for v in TIMING_VARIABLES if v in ds])


def test_growth_keeps_existing_data_and_runs_only_new_points(tmp_path, capsys):
    store = tmp_path / "g.zarr"
    first = run_sweep(toy(), store, LocalThreads(1))
    assert first.executed == 4
    before = data(store)
    grown_definition = toy("[2.0, 1.0, 3.0, 0.5]", "networks = 2\ninits = 3")  # new values anywhere
    grown = run_sweep(grown_definition, store, LocalThreads(1))
    assert (grown.total, grown.already_ok, grown.executed, grown.ok) == (24, 4, 20, 20)
    after = data(store)
    assert list(after.R_Eplus.values) == [1.0, 3.0, 2.0, 0.5]  # store order: old values first
    assert after.sizes["network"] == 2 and after.sizes["init"] == 3
    old = after.sel(R_Eplus=[1.0, 3.0], network=[0], init=[0, 1])
    for name in before.data_vars:
        np.testing.assert_array_equal(old[name].values, before[name].values, err_msg=name)
    assert (after.status.values == 1).all()
    # the grown store holds what a fresh run of the new definition gives, point by point
    run_sweep(grown_definition, tmp_path / "fresh.zarr", LocalThreads(1))
    fresh = data(tmp_path / "fresh.zarr").sortby("R_Eplus")
    grown_sorted = after.sortby("R_Eplus")
    for name in fresh.data_vars:
        if name != "error":
            np.testing.assert_array_equal(grown_sorted[name].values, fresh[name].values, err_msg=name)
    # a rerun of the grown definition has nothing to do; status sees the grown grid
    assert run_sweep(grown_definition, store, LocalThreads(1)).executed == 0
    capsys.readouterr()
    assert main(["status", str(store)]) == 0
    assert "24 points: 0 todo, 24 ok, 0 failed" in capsys.readouterr().out
    assert len(SweepStore.open(store).attrs["growths"]) == 1


@pytest.mark.parametrize("change, field", [
    ({"r_eplus": "[1.0]"}, "sweep.R_Eplus: the store's values [3.0]"),
    ({"replicas": "networks = 1\ninits = 1"}, "sweep.inits: 1 is fewer than the store's 2"),
    ({"parameters": "g = 1.5"}, "parameters.g"),
    ({"replicas": "networks = 1\ninits = 2\ng = [1.2, 1.3]"}, "dimension_order"),
])
def test_other_changes_are_refused_naming_the_field_store_untouched(tmp_path, capsys, change, field):
    store = tmp_path / "g.zarr"
    run_sweep(toy(), store, LocalThreads(1))
    attrs = json.dumps(SweepStore.open(store).attrs, sort_keys=True)
    with pytest.raises(StoreMismatchError, match=field.replace("[", r"\[").replace("]", r"\]")):
        run_sweep(toy(**change), store, LocalThreads(1))
    path = tmp_path / "changed.toml"
    path.write_text(TOY.format(**{"r_eplus": "[1.0, 3.0]", "replicas": "networks = 1\ninits = 2",
                                  "parameters": "", **change}))
    capsys.readouterr()
    assert main(["run", str(path), "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field.split(":")[0] in err[0]
    reopened = SweepStore.open(store)
    assert reopened.shape == (2, 1, 2)
    assert json.dumps(reopened.attrs, sort_keys=True) == attrs


def test_a_zip_with_repeated_values_in_a_column_runs_and_grows(tmp_path):
    """Figure 3 of the reference pairs (kappa, R_j) = (0, 0.8), (0.5, 0.75), (1, 0.75): a column may
    repeat a value as long as the tuples are distinct; coordinates keep the pairs, growth works."""
    zipped = '[[sweep.zip]]\nname = "pair"\nkappa = [0.0, 0.5, 1.0]\nR_j = [0.8, 0.75, 0.75]'
    store = tmp_path / "z.zarr"
    small = toy("[3.0]", "networks = 1\ninits = 1\n" + zipped)
    assert small.dimensions[1].values == {"kappa": (0.0, 0.5, 1.0), "R_j": (0.8, 0.75, 0.75)}
    assert run_sweep(small, store, LocalThreads(1)).executed == 3
    before = data(store)
    assert list(before["R_j"].values) == [0.8, 0.75, 0.75] and list(before["kappa"].values) == [0.0, 0.5, 1.0]
    grown = run_sweep(toy("[3.0, 5.0]", "networks = 1\ninits = 2\n" + zipped), store, LocalThreads(1))
    assert grown.executed == 3 * 4 - 3
    after = data(store)
    assert list(after["R_j"].values) == [0.8, 0.75, 0.75]
    old = after.isel(R_Eplus=[0], init=[0])
    for name in before.data_vars:
        np.testing.assert_array_equal(old[name].values, before[name].values, err_msg=name)
    fresh = tmp_path / "fresh.zarr"
    run_sweep(toy("[3.0, 5.0]", "networks = 1\ninits = 2\n" + zipped), fresh, LocalThreads(1))
    np.testing.assert_array_equal(after["mean_activity_E"].values, data(fresh)["mean_activity_E"].values)
