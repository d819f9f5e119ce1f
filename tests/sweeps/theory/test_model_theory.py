"""A model declares its own theory (ModelTheory): [theory] and `sweeps theory` compute and store it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sweeps
from sweeps.errors import DefinitionError
from sweeps.models.model import ModelTheory, TheoryResult, TheoryVariable
from sweeps.spec.definition import parse_experiment
from tests.reference import toymodel


def _compute(parameter_sets, focus_counts, names, threads):
    values = {
        "toy_drive": lambda p, n: p["R_Eplus"] * p["g"] * n,  # depends on both swept axes
        "toy_inhibition": lambda p, n: p["g"] + n,  # declared independent of R_Eplus
    }
    return TheoryResult({name: np.array([[values[name](p, n) for n in focus_counts] for p in parameter_sets])
                         for name in names})


#: the toy model of the tests with a theory of two quantities, declared here, not in the package
MODEL = dataclasses.replace(toymodel.MODEL, sweep_theory=ModelTheory((
    TheoryVariable("toy_drive", "R_Eplus x g x focus count", np.nan),
    TheoryVariable("toy_inhibition", "g + focus count", np.nan, independent_of=("R_Eplus",)),
), _compute))

DEFINITION = """\
[experiment]
name = "toy_theory"
model = "{model}"
seed = 3

[parameters]
N_E = 40
N_I = 10
Q = 2

[sweep]
R_Eplus = [1.0, 2.0, 3.0]
g = [1.0, 1.5]
networks = 2

[simulation]
duration = "10 ms"
sample_interval = "2 ms"

[theory]
focus_counts = [1, 2]
"""


def test_a_model_declared_outside_the_package_gets_its_theory_in_the_store(tmp_path):
    text = DEFINITION.format(model=f"{__name__}:MODEL")
    ds = sweeps.run(text, tmp_path / "t.zarr", progress=False)
    drive = ds.toy_drive.transpose("R_Eplus", "g", "network", "focus_count").values
    expected = (ds.R_Eplus.values[:, None, None, None] * ds.g.values[None, :, None, None]
                * ds.focus_count.values[None, None, None, :])
    np.testing.assert_array_equal(drive, np.broadcast_to(expected, drive.shape))
    assert "R_Eplus" not in ds.toy_inhibition.dims
    np.testing.assert_array_equal(ds.toy_inhibition.sel(network=0).transpose("g", "focus_count").values,
                                  ds.g.values[:, None] + ds.focus_count.values[None, :])
    assert ds.toy_drive.attrs["long_name"] == "R_Eplus x g x focus count"
    assert (ds.status.values == 1).all()


def test_theory_of_a_model_without_one_is_refused_at_validation():
    with pytest.raises(DefinitionError, match=r"^theory: model .* declares no theory"):
        parse_experiment(DEFINITION.format(model="tests.reference.toymodel:MODEL"))
