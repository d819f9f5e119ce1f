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
    assert {"figure3.toml", "figure3_dwell_times.toml", "figure4.toml", "figure_s4.toml"} <= names


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_shipped_experiment_is_valid_and_simulates_no_copies(path):
    experiment = load_experiment(path)
    assert count_start_copies(SweepPlan.build(experiment)) == 0
    assert not any("focus_count" in d.values for d in experiment.dimensions)
