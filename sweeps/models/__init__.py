"""Models: the declaration a model gives (populations, parameters, theory, cost) and the registry."""

from sweeps.errors import ModelError
from sweeps.models.checks import check_model, experiment_layout
from sweeps.models.model import (
    FixedPoint,
    Layout,
    Model,
    ModelCost,
    Parameter,
    PointModel,
    PopulationInfo,
)
from sweeps.models.registry import REGISTERED, resolve

__all__ = ["FixedPoint", "Layout", "Model", "ModelCost", "ModelError", "Parameter", "PointModel", "PopulationInfo",
           "REGISTERED", "check_model", "experiment_layout", "resolve"]
