"""The model registry: a registered name or a ``package.module:NAME`` path -> Model."""

from __future__ import annotations

import importlib

from sweeps.errors import ModelError
from sweeps.models.model import Model

#: Registered model names -> the declaration's dotted path.
REGISTERED = {"clustered_ei": "sweeps.models.clustered_ei:MODEL", "null": "sweeps.models.null:MODEL"}


def resolve(name: str) -> Model:
    """Resolve a registered model name or a ``"package.module:function"`` path.

    Raises
    ------
    ModelError
        If the model is unknown or cannot be imported.
    """
    field = "experiment.model"
    path = REGISTERED.get(name, name)
    if ":" not in path:
        raise ModelError(field, f"unknown model {name!r}; allowed: {', '.join(REGISTERED)} or 'package.module:function'")
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(field, f"cannot import {module_name!r} for model {name!r}: {err}") from None
    builder = getattr(module, attr, None)
    if isinstance(builder, Model):
        return builder
    if not callable(builder):
        raise ModelError(field, f"{module_name!r} has no callable {attr!r} (model {name!r})")
    return Model(name, builder, getattr(builder, "layout", None), getattr(builder, "validate", None))


