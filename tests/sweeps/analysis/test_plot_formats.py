"""Figure formats from the file extension, wrapped labels, bands from too few networks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from zarr.errors import UnstableSpecificationWarning

from sweeps.analysis.datasets import select
from sweeps.analysis.plots import line_ci, phase_diagram, plot_command
from sweeps.cli import main
from tests.sweeps.analysis.test_datasets import synthetic_results

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "svg": b"<?xml"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "store.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        warnings.simplefilter("ignore", xr.SerializationWarning)
        synthetic_results().to_zarr(path, consolidated=False, zarr_format=3)
    return path


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_format_from_the_extension(fmt, store, tmp_path, capsys):
    out = tmp_path / f"phase.{fmt}"
    assert main(["plot", str(store), "--var", "score", "--x", "R_Eplus", "--y", "V_th", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(MAGIC[fmt])


def test_unknown_extension_is_refused_before_drawing(store, tmp_path, capsys):
    assert main(["plot", str(store), "--var", "score", "--x", "R_Eplus", "--y", "V_th",
                 "-o", str(tmp_path / "phase.jpeg")]) == 2
    assert ".png, .pdf, .svg" in capsys.readouterr().err and not (tmp_path / "phase.jpeg").exists()


def test_long_labels_are_wrapped_inside_the_figure():
    ds = synthetic_results()
    ds["score"].attrs["long_name"] = "a very long description of the planted score variable, " * 3
    ds["R_Eplus"].attrs["long_name"] = "relative strength of the excitatory weights inside a cluster, " * 2
    fig = phase_diagram(ds, "score", "R_Eplus", "V_th")
    ax = fig.axes[0]
    assert "\n" in ax.get_xlabel()
    assert max(len(line) for line in ax.get_xlabel().splitlines()) <= 45
    colorbar = fig.axes[1]
    assert "\n" in colorbar.get_ylabel()
    fig.canvas.draw()
    box = fig.bbox
    for text in (ax.xaxis.label, colorbar.yaxis.label):
        extent = text.get_window_extent()
        assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()


def test_band_from_one_network_is_refused_or_marked():
    ds = select(synthetic_results(), V_th=1.1)
    one = ds.isel(seed=[0])
    with pytest.raises(ValueError, match="at least 2 ok networks"):
        line_ci(one, "score", "R_Eplus", n_boot=20)
    # one R_Eplus value with a single ok network: no band there, a hollow marker and a note
    status = ds.status.copy()
    status[{"R_Eplus": 0, "seed": slice(1, None)}] = 0
    marked = ds.assign(status=status)
    ax = line_ci(marked, "score", "R_Eplus", n_boot=20).axes[0]
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0]
    xs = band.get_paths()[0].vertices[:, 0]
    assert float(ds.R_Eplus[0]) not in xs and float(ds.R_Eplus[1]) in xs
    assert "< 2 networks" in ax.get_title() and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [float(ds.R_Eplus[0])])


def test_plot_command_writes_pdf_for_a_ci_line(store, tmp_path):
    out = plot_command(store, tmp_path / "line.pdf", var="score", x="R_Eplus", ci=0.9, point=["V_th=1.1"])
    assert out.read_bytes().startswith(b"%PDF")
