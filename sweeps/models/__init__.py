"""Models: the declaration a model gives (populations, parameters, theory, cost) and the registry."""

from sweeps.errors import ModelError
from sweeps.models.checks import check_model
from sweeps.models.model import (
    Layout,
    Model,
    ModelCost,
    ModelTheory,
    Parameter,
    PointModel,
    PopulationInfo,
    TheoryResult,
    TheoryVariable,
)
from sweeps.models.registry import REGISTERED, resolve

__all__ = ["Layout", "Model", "ModelCost", "ModelError", "ModelTheory", "Parameter", "PointModel",
           "PopulationInfo", "REGISTERED", "TheoryResult", "TheoryVariable", "check_model", "resolve"]
