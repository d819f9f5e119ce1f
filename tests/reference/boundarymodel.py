"""A point model with a sharp, curved boundary, for the adaptive-sweep tests.

``model = "tests.reference.boundarymodel:MODEL"``, swept parameters ``x`` and ``y`` (in
[0, 1]).  Each point stores ``active``: 1 above the curve ``y = 0.25 + 0.5 x**2`` and 0 below
it, blurred over a width ``w`` (parameter, default 0.01) by a logistic step, plus a seeded
noise of amplitude ``noise`` (default 0.05) drawn from the point's recording seed and its
coordinates (so it differs between points and between networks).  No network is built.
"""

from __future__ import annotations

import numpy as np

from sweeps.measure.registry import VariableSpec
from sweeps.models.model import Model, Parameter, PointModel
from sweeps.spec.seeds import RECORDING

__all__ = ["MODEL", "boundary"]


def boundary(x):
    """The curve where ``active`` crosses 0.5: ``y = 0.25 + 0.5 x^2``."""
    return 0.25 + 0.5 * np.asarray(x, float) ** 2


def _variables(experiment) -> list[VariableSpec]:
    return [VariableSpec("active", (), np.dtype(np.float64), "1", "blurred step across the boundary", np.nan)]


def _simulate(params: dict, seeds, experiment) -> dict[str, np.ndarray]:
    x, y = float(params["x"]), float(params["y"])
    key = [int(seeds.rng(RECORDING).integers(2**32)), int(round(x * 1e9)), int(round(y * 1e9))]
    noise = float(params.get("noise", 0.05)) * (np.random.default_rng(key).random() - 0.5)
    step = 1.0 / (1.0 + np.exp(-(y - boundary(x)) / float(params.get("w", 0.01))))
    return {"active": np.float64(step + noise)}


def _layout(params: dict) -> list[dict]:
    return [{"name": "X", "cell_type": None, "cluster": None, "N": 1}]


def _build(params: dict, seed, weight_mode: str = "auto", ram_budget_gb: float = 12.0):
    raise TypeError("the boundary model builds no network (it computes its points itself)")


MODEL = Model("boundary", _build, _layout, parameters=(Parameter("x", "1", "first axis"),
                                                        Parameter("y", "1", "second axis")),
              point=PointModel(_variables, _simulate))
