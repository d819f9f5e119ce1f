"""Resume: a partial run then a rerun runs only the rest; a different definition is refused.

Interrupted drivers, killed workers and damaged stores: tests/reliability."""

from __future__ import annotations

import pytest

from sweeps import LocalThreads, load_experiment, open_results, run_sweep
from sweeps.errors import StoreMismatchError
from sweeps.store.sweep_store import SweepStore
from tests.sweeps.execution.test_executors import assert_same_data

SLOW = "sleep = 0.02"  # toy model: 20 ms per run() call, ~0.25 s per point


@pytest.fixture
def uninterrupted(toy_definition, tmp_path):
    path = tmp_path / "uninterrupted.zarr"
    assert run_sweep(load_experiment(toy_definition(SLOW)), path, LocalThreads(2)).complete
    return path


def test_partial_run_then_resume_runs_only_the_rest(toy_definition, store_path, uninterrupted):
    experiment = load_experiment(toy_definition(SLOW))
    first = run_sweep(experiment, store_path, LocalThreads(2), limit=7)
    assert (first.executed, first.complete) == (7, False)
    assert len(SweepStore.open(store_path).pending()) == 11
    second = run_sweep(experiment, store_path, LocalThreads(2))
    assert (second.already_ok, second.executed, second.complete) == (7, 11, True)
    third = run_sweep(experiment, store_path, LocalThreads(2))
    assert (third.executed, third.complete) == (0, True)
    assert_same_data(uninterrupted, store_path)
    assert [r["executed"] for r in open_results(store_path).attrs["runs"]] == [7, 11, 0]


def test_different_definition_is_refused(toy_definition, store_path, tmp_path):
    run_sweep(load_experiment(toy_definition()), store_path, LocalThreads(2), limit=2)
    changed = tmp_path / "changed.toml"
    changed.write_text(toy_definition().read_text().replace('duration = "20 ms"', 'duration = "40 ms"'))
    with pytest.raises(StoreMismatchError, match="simulation.duration: store has '20 ms', definition has '40 ms'"):
        run_sweep(load_experiment(changed), store_path, LocalThreads(2))
    assert len(SweepStore.open(store_path).pending()) == 16  # nothing touched


