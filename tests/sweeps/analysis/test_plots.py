"""Figures (phase diagram, traces, line with bootstrap band) render with Agg and show the right numbers."""
from __future__ import annotations

import warnings

import matplotlib.image as mpimg
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.figure import Figure
from zarr.errors import UnstableSpecificationWarning

from sweeps.analysis.datasets import average_seeds, select, summarize
from sweeps.analysis.plots import activity_traces, line_ci, parse_point, phase_diagram, plot_command
from sweeps.cli import main
from tests.sweeps.analysis.test_datasets import synthetic_results

POINT = {"R_Eplus": 7.0, "V_th": 1.1, "seed": 2}


def read_png(path):
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    return image


def assert_drawn(image):
    """Not blank: many distinct colours, not just the white background."""
    colours = np.unique(image[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) > 50
    assert (image[..., :3] < 0.9).any(axis=2).mean() > 0.05


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "store.zarr"
    with warnings.catch_warnings():  # string coordinates and the object `error` variable
        warnings.simplefilter("ignore", UnstableSpecificationWarning)
        warnings.simplefilter("ignore", xr.SerializationWarning)
        synthetic_results().to_zarr(path, consolidated=False, zarr_format=3)  # as sweeps.store.sweep_store
    return path


def test_phase_diagram_shows_seed_mean_with_labels():
    ds = synthetic_results()
    fig = phase_diagram(ds, "score", "R_Eplus", "V_th")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    expected = average_seeds(ds).score.transpose("V_th", "R_Eplus").values
    np.testing.assert_allclose(np.ma.filled(mesh.get_array(), np.nan).reshape(expected.shape),
                               expected)
    assert ax.get_xlabel() == "E cluster contrast"
    assert ax.get_ylabel() == "threshold [mV]"
    assert fig.axes[1].get_ylabel() == "planted score"  # the colorbar
    assert "mean over seed" in ax.get_title()
    assert ax.get_xscale() == "linear"


def test_phase_diagram_units_on_colorbar_and_selected_point_in_title():
    ds = synthetic_results()
    ds["score"].attrs["units"] = "Hz"
    fig = phase_diagram(select(ds, seed=1), "score", "V_th", "R_Eplus")
    assert fig.axes[1].get_ylabel() == "planted score [Hz]"
    assert fig.axes[0].get_title() == "seed=1"


def test_phase_diagram_log_and_categorical_axes():
    ds = xr.Dataset(
        {"rate": (("g", "connection_type"), np.arange(12.0).reshape(4, 3),
                  {"units": "1/s", "long_name": "rate"})},
        coords={"g": ("g", np.logspace(-1, 2, 4), {"units": "1", "long_name": "coupling"}),
                "connection_type": ["poisson", "bernoulli", "fixed_indegree"]},
    )
    ax = phase_diagram(ds, "rate", "g", "connection_type").axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["poisson", "bernoulli",
                                                             "fixed_indegree"]


@pytest.mark.parametrize(("width", "height", "dpi"), [(6.4, 4.8, 100), (5, 3, 80), (3, 4, 150)])
def test_plot_command_phase_png_has_requested_size(store, tmp_path, width, height, dpi):
    out = plot_command(store, tmp_path / "phase.png", var="score", x="R_Eplus", y="V_th",
                       width=width, height=height, dpi=dpi)
    image = read_png(out)
    assert image.shape[:2] == (round(height * dpi), round(width * dpi))
    assert_drawn(image)


def test_plot_command_traces_png(store, tmp_path):
    out = plot_command(store, tmp_path / "trace.png",
                       point=[f"{k}={v}" for k, v in POINT.items()], width=8, height=3, dpi=90)
    image = read_png(out)
    assert image.shape[:2] == (270, 720)
    assert_drawn(image)


def test_plot_command_phase_with_point_fixing_another_axis(store, tmp_path):
    out = plot_command(store, tmp_path / "p.png", var="mean_activity_E", x="R_Eplus", y="seed",
                       point=["V_th=1.0"])
    assert read_png(out).shape[:2] == (480, 640)


def test_activity_traces_image_is_the_selected_trace():
    ds = synthetic_results()
    fig = activity_traces(ds, POINT)
    ax = fig.axes[0]
    expected = select(ds, **POINT).activity.transpose("population", "time").values
    np.testing.assert_allclose(ax.images[0].get_array(), expected, rtol=1e-6)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["E0", "E1", "I0", "I1"]
    assert ax.get_xlabel() == "time after warm-up [ms]"
    assert ax.get_title() == "R_Eplus=7, V_th=1.1, seed=2"
    assert fig.axes[1].get_ylabel() == "fraction of active neurons"


def test_activity_traces_errors():
    ds = synthetic_results()
    with pytest.raises(ValueError, match=r"leaves axes \['seed'\] open.*seed: 0, 1, 2"):
        activity_traces(ds, {"R_Eplus": 7.0, "V_th": 1.1})
    with pytest.raises(ValueError, match="status 'failed', not ok"):
        activity_traces(ds, {"R_Eplus": 1.0, "V_th": 0.8, "seed": 1})
    with pytest.raises(ValueError, match=r"may not fix \['population'\]"):
        activity_traces(ds, {**POINT, "population": "E0"})
    with pytest.raises(ValueError, match="traces were not kept"):
        activity_traces(ds.drop_vars("activity"), POINT)


def test_plot_errors_name_allowed_values(store, tmp_path):
    ds = synthetic_results()
    out = tmp_path / "x.png"
    with pytest.raises(ValueError, match="unknown variable 'rate'; allowed: score, mean_activity_E"):
        phase_diagram(ds, "rate", "R_Eplus", "V_th")
    with pytest.raises(ValueError, match="unknown y axis 'time'; allowed: R_Eplus, V_th, seed"):
        phase_diagram(ds, "score", "R_Eplus", "time")
    with pytest.raises(ValueError, match="both 'V_th'"):
        phase_diagram(ds, "score", "V_th", "V_th")
    with pytest.raises(ValueError, match="has 1 value"):
        phase_diagram(select(ds, V_th=[1.0]), "score", "R_Eplus", "V_th")
    with pytest.raises(ValueError, match="--var needs both"):
        plot_command(store, out, var="score", x="R_Eplus")
    with pytest.raises(ValueError, match="give --var"):
        plot_command(store, out)
    with pytest.raises(ValueError, match="fixes the plotted axes"):
        plot_command(store, out, var="score", x="R_Eplus", y="V_th", point=["V_th=1"])
    with pytest.raises(ValueError, match="expected AXIS=VALUE"):
        plot_command(store, out, point=["R_Eplus"])
    with pytest.raises(ValueError, match="width, height and dpi"):
        plot_command(store, out, var="score", x="R_Eplus", y="V_th", dpi=0)
    assert not out.exists()


def test_parse_point():
    assert parse_point(["R_Eplus=7.25", "seed=3", "connection_type=poisson"]) == {
        "R_Eplus": 7.25, "seed": 3, "connection_type": "poisson"}
    assert isinstance(parse_point(["seed=3"])["seed"], int)
    assert parse_point({"g": 1}) == {"g": 1} and parse_point(None) == {}


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
