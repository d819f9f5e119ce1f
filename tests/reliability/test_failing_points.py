"""A point whose simulation raises is recorded as failed; the others finish."""

from __future__ import annotations

import numpy as np

from sweeps import open_results
from tests.reliability.conftest import N_POINTS, run_cli_in_process, toy


def test_failing_point_is_recorded_listed_and_the_exit_code_says_so(tmp_path, reference, reliability):
    # the toy builder raises FloatingPointError("NaN weights at g=1.1") for g == fail_g
    definition, store = toy(tmp_path / "toy.toml", "fail_g = 1.1"), tmp_path / "r.zarr"
    run = run_cli_in_process("run", definition, "--store", store, "--threads", "2")
    assert run.returncode == 1, run.stderr
    assert f"executed {N_POINTS} points (12 ok, 6 failed)" in run.stdout
    assert f"failures are listed by: sweeps status {store}" in run.stdout

    ds = open_results(store)
    expected_failed = np.isclose(ds.g.values, 1.1)[None, :, None] & np.ones(ds.status.shape, bool)
    for text in ds.error.values[expected_failed]:  # the message, then the full traceback
        message, _, trace = str(text).partition("\n\n")
        assert message == "FloatingPointError: NaN weights at g=1.1"
        assert trace.startswith("Traceback (most recent call last):")
        assert 'toymodel.py", line' in trace and "in __init__" in trace  # down to the raising frame
        assert trace.rstrip().endswith("FloatingPointError: NaN weights at g=1.1")
    assert set(ds.error.values[~expected_failed]) == {""}
    assert np.isnan(ds.mean_activity_E.values[expected_failed]).all()
    reliability.assert_nothing_lost(reference, store, expected_failed=expected_failed)

    status = run_cli_in_process("status", store)
    assert status.returncode == 1
    lines = status.stdout.splitlines()
    assert lines[0] == f"{store}: {N_POINTS} points: 0 todo, 12 ok, 6 failed"
    first = int(np.flatnonzero(expected_failed.ravel())[0])
    assert lines[1:] == [  # grouped by message: one line, with the first failed point
        f"  6 failed: FloatingPointError: NaN weights at g=1.1 (first: point {first}, R_Eplus[0], g[1], seed[0])"]
