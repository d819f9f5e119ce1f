"""Line plot of a variable against one axis with its bootstrap band (Python and CLI)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from zarr.errors import UnstableSpecificationWarning

from sweeps.analysis.datasets import select, summarize
from sweeps.analysis.plots import line_ci, plot_command
from sweeps.cli import main
from tests.test_analysis import synthetic_results


def test_line_and_band_show_summarize():
    ds = select(synthetic_results(), V_th=1.1)
    fig = line_ci(ds, "score", "R_Eplus", n_boot=200)
    ax = fig.axes[0]
    expected = summarize(ds, "score", n_boot=200)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected["mean"].values)
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    vertices = band.get_paths()[0].vertices
    assert vertices[:, 1].min() == pytest.approx(float(expected["lower"].min()))
    assert vertices[:, 1].max() == pytest.approx(float(expected["upper"].max()))
    assert "95 % bootstrap CI over seed" in ax.get_title()
    assert ax.get_ylabel() == "planted score"


def test_one_remaining_dim_gives_one_line_per_value_and_more_are_refused():
    ds = synthetic_results()
    fig = line_ci(ds, "score", "R_Eplus", n_boot=50)
    assert len(fig.axes[0].lines) == ds.sizes["V_th"]
    with pytest.raises(ValueError, match="still has dims"):
        line_ci(ds, "activity", "R_Eplus", n_boot=10)
    with pytest.raises(ValueError, match="unknown x axis 'g'"):
        line_ci(ds, "score", "g", n_boot=10)


def test_sweeps_plot_ci_writes_a_png(tmp_path, capsys):
    path = tmp_path / "store.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        warnings.simplefilter("ignore", xr.SerializationWarning)
        synthetic_results().to_zarr(path, consolidated=False, zarr_format=3)
    out = tmp_path / "line.png"
    assert main(["plot", str(path), "--var", "score", "--x", "R_Eplus", "--ci", "0.9",
                 "--point", "V_th=1.1", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["plot", str(path), "--var", "score", "--x", "R_Eplus", "--y", "V_th", "--ci", "0.9",
                 "-o", str(tmp_path / "bad.png")]) == 2
    assert "--ci draws a line" in capsys.readouterr().err
    with pytest.raises(ValueError, match="fixes the plotted axis"):
        plot_command(path, tmp_path / "bad.png", var="score", x="R_Eplus", ci=0.95,
                     point=["R_Eplus=7"])
