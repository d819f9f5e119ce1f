"""The shipped experiment definitions: valid, and none simulates bit-identical copies."""
from __future__ import annotations

from pathlib import Path

import pytest

from sweeps.execution.initial import count_start_copies
from sweeps.plan import SweepPlan
from sweeps.spec.definition import load_experiment

EXPERIMENTS = sorted((Path(__file__).resolve().parents[2] / "experiments").rglob("*.toml"))


def test_the_paper_definitions_are_shipped():
    names = {p.name for p in EXPERIMENTS if p.parent.name == "paper"}
    assert {"figure1.toml", "figure2_rates.toml", "figure2_bifurcation.toml", "figure3.toml",
            "figure3_dwell_times.toml", "figure4.toml", "figure_s1.toml", "figure_s2.toml",
            "figure_s3_rates.toml", "figure_s3_bifurcation.toml", "figure_s4.toml"} <= names


PAPER = [p for p in EXPERIMENTS if p.parent.name == "paper"]


@pytest.mark.parametrize("path", PAPER, ids=lambda p: p.name)
def test_every_paper_definition_names_its_reference_command_and_maps_its_options(path):
    header = path.read_text().split("\n[experiment]")[0]
    assert "Reference command:" in header and "-> " in header


@pytest.mark.parametrize(("name", "stride", "points"), [("figure1.toml", 2, 2), ("figure_s2.toml", 20, 27)])
def test_the_raster_figures_store_the_reference_strides(name, stride, points):
    plan = SweepPlan.build(load_experiment(PAPER[0].parent / name))
    assert plan.experiment.output["raster_stride"] == stride and len(plan.grid) == points
    assert "raster_times" in plan.dtypes
    assert plan.inner["raster_neuron"] == 10_000 // stride  # ids 0, stride, 2 stride, ... of N = 10^4


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_shipped_experiment_is_valid_and_simulates_no_copies(path):
    experiment = load_experiment(path)
    assert count_start_copies(SweepPlan.build(experiment)) == 0
    assert not any("focus_count" in d.values for d in experiment.dimensions)
