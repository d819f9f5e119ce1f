"""Dwell-time table of a store (sweeps.analysis.dwell): per point as infer_states + dwell_summary,
NaN for points without traces, and its command line."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from zarr.errors import UnstableSpecificationWarning

from sweeps.analysis.dwell import SUMMARY_FIELDS, dwell_table, main
from sweeps.analysis.states import ActiveSetEM, Pelt, dwell_summary, infer_states
from sweeps.errors import OptionError
from sweeps.store.results import open_results
from tests.sweeps.analysis.test_active_set import NOISE, planted

Q = 4


def store_dataset():
    """Activity of Q E and Q I populations for kappa (2) x network (2); one point not run."""
    rng = np.random.default_rng(7)
    activity = np.empty((2, 2, 300, 2 * Q), np.float32)
    for i in range(2):
        for j in range(2):
            plan = [(tuple(rng.choice(Q, size=rng.integers(0, 3), replace=False)), int(rng.integers(5, 60)))
                    for _ in range(12)]
            trace, _ = planted(plan, Q, NOISE, rng)
            activity[i, j, :, :Q] = trace[:300]
            activity[i, j, :, Q:] = 0.1 + NOISE * rng.standard_normal((300, Q))  # I: never used
    activity[1, 1] = np.nan  # a point not run
    names = [f"E{c}" for c in range(Q)] + [f"I{c}" for c in range(Q)]
    return xr.Dataset(
        {"activity": (("kappa", "network", "time", "population"), activity)},
        coords={"kappa": [0.0, 1.0], "network": [0, 1], "time": 10.0 * np.arange(1, 301),
                "population": names, "population_type": ("population", ["E"] * Q + ["I"] * Q),
                "population_cluster": ("population", list(range(Q)) * 2)})


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store.zarr"
    with warnings.catch_warnings():  # string coordinates, as sweeps.store writes them
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        store_dataset().to_zarr(path, consolidated=False, zarr_format=3)
    return path


def test_table_is_the_per_trace_summary_of_the_excitatory_populations(store):
    ds = open_results(store)
    table = dwell_table(ds).compute()
    assert set(table.data_vars) == set(SUMMARY_FIELDS) and set(table.dims) == {"kappa", "network"}
    raw = store_dataset()
    for kappa, network in [(0.0, 0), (0.0, 1), (1.0, 0)]:
        trace = raw["activity"].sel(kappa=kappa, network=network).values[:, :Q]
        expected = dwell_summary(infer_states(trace), 10.0)
        got = table.sel(kappa=kappa, network=network)
        for field in SUMMARY_FIELDS:
            np.testing.assert_allclose(float(got[field]), getattr(expected, field), rtol=1e-12)
    assert np.isnan(table.sel(kappa=1.0, network=1).to_array()).all()
    pelt = dwell_table(ds, Pelt(threshold=0.3)).compute()
    trace = raw["activity"].sel(kappa=0.0, network=0).values[:, :Q]
    assert float(pelt["n_episodes"].sel(kappa=0.0, network=0)) == len(infer_states(trace, "pelt"))


def test_errors_before_any_work(store):
    ds = open_results(store)
    not_run = ds.assign(activity=ds["activity"] * np.nan)  # no point would call the method
    with pytest.raises(OptionError, match="method: unknown"):
        dwell_table(not_run, "viterbi")
    with pytest.raises(OptionError, match="keep_traces"):
        dwell_table(ds.drop_vars("activity"))


def test_command_line(store, tmp_path, capsys):
    csv = tmp_path / "dwell.csv"
    assert main([str(store), "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "method active_set_em" in out and "over networks" in out
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("kappa,network,") and len(lines) == 5
    with pytest.raises(SystemExit) as exit_:
        main([str(store), "--threshold", "0.2"])  # a PELT option for the EM
    assert exit_.value.code == 2
    assert "--threshold belongs to --method pelt" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.zarr")]) == 2
    assert "not a sweeps store" in capsys.readouterr().err


def test_command_line_variants_of_the_em(store, tmp_path, capsys):
    """--segmentation pelt and --merge-after-em: the table of dwell_table with those options."""
    csv = tmp_path / "dwell.csv"
    argv = [str(store), "--segmentation", "pelt", "--merge-after-em", "--min-flicker-duration", "3",
            "--beta-merge", "1.5", "--pelt-penalty", "4", "--pelt-min-size", "2", "--csv", str(csv)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert ("method active_set_em, segmentation=pelt, pelt_penalty=4.0, pelt_min_size=2, merge_after_em=True, "
            "beta_merge=1.5, min_flicker_duration=3") in out
    opts = ActiveSetEM(segmentation="pelt", pelt_penalty=4.0, pelt_min_size=2, merge_after_em=True,
                       min_flicker_duration=3, beta_merge=1.5)
    expected = dwell_table(open_results(store), opts).compute().to_dataframe()
    got = pd.read_csv(csv, index_col=["kappa", "network"])[list(SUMMARY_FIELDS)]
    np.testing.assert_allclose(got.to_numpy(), expected[list(SUMMARY_FIELDS)].to_numpy(), rtol=1e-12)
    assert got.notna().to_numpy().sum() == 3 * len(SUMMARY_FIELDS)  # the point not run: NaN
    with pytest.raises(SystemExit) as exit_:
        main([str(store), "--method", "pelt", "--merge-after-em"])
    assert exit_.value.code == 2
    assert "--merge-after-em belongs to --method active_set_em" in capsys.readouterr().err
