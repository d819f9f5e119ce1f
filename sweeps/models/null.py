"""The null model (``model = "null"``): a point that costs nothing, for framework benchmarks.

It builds no network and skips the standard measurements (:class:`~sweeps.models.model.PointModel`):
each point stores ``value``, a uniform draw from the point's recording seed plus the sum of its
numeric parameters (so results depend on the seeds and parameters exactly as a real model's
do), and with ``keep_traces`` a ``trace`` of ``n_samples`` draws.  One population ``X`` of
``N`` neurons (parameter ``N``, default 1).  Test hook: a point whose parameter ``x`` equals
``fail_x`` raises ``ValueError`` (a failing point).
"""

from __future__ import annotations

import numpy as np

from sweeps.measure.registry import VariableSpec
from sweeps.models.model import Model, Parameter, PointModel
from sweeps.spec.seeds import RECORDING

__all__ = ["MODEL"]


def _variables(experiment) -> list[VariableSpec]:
    specs = [VariableSpec("value", (), np.dtype(np.float64), "1", "seeded draw plus parameter sum", np.nan)]
    if experiment.output.keep_traces:
        specs.append(VariableSpec("trace", ("time",), np.dtype(np.float32), "1", "seeded draws per sample", np.nan))
    return specs


def _simulate(params: dict, seeds, experiment) -> dict[str, np.ndarray]:
    if params.get("fail_x") is not None and params.get("x") == params["fail_x"]:
        raise ValueError(f"null model fails at x={params['x']}")
    rng = seeds.rng(RECORDING)
    offset = sum(float(v) for v in params.values() if isinstance(v, int | float) and not isinstance(v, bool))
    values = {"value": np.float64(rng.random() + offset)}
    if experiment.output.keep_traces:
        values["trace"] = rng.random(experiment.simulation.n_samples).astype(np.float32)
    return values


def _layout(params: dict) -> list[dict]:
    return [{"name": "X", "cell_type": None, "cluster": None, "N": int(params.get("N", 1))}]


def _build(params: dict, seed, weight_mode: str = "auto", ram_budget_gb: float = 12.0):
    raise TypeError("the null model builds no network (it computes its points itself)")


MODEL = Model("null", _build, _layout, parameters=(Parameter("x", "1", "a swept value"),
                                                    Parameter("y", "1", "another swept value")),
              structural=("N",), point=PointModel(_variables, _simulate))
