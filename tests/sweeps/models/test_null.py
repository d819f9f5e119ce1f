"""The null model: results depend on the point's seeds and parameters only."""

from __future__ import annotations

import numpy as np

from sweeps import LocalThreads, run_sweep
from tests.reference.points import simulate_point
from tests.sweeps.execution.test_scale import _store, null


def test_null_model_results_depend_on_seeds_and_parameters_only(tmp_path):
    experiment, _, _ = _store(tmp_path, null(a=3, b=2, r=2, traces="true"))
    summary = run_sweep(experiment, tmp_path / "s.zarr", LocalThreads(2))
    assert summary.complete
    from sweeps.store.results import open_results

    ds = open_results(tmp_path / "s.zarr")
    for index in (0, 7, 11):
        values = simulate_point(experiment, index)
        assert ds.value.values.ravel()[index] == values["value"]
        np.testing.assert_array_equal(ds.trace.values.reshape(12, -1)[index], values["trace"])
    assert (ds.value.values[..., 0] != ds.value.values[..., 1]).all()  # the seeds matter
