"""The model registry: a registered name or a ``package.module:NAME`` path -> Model.

Trust model (docs/MODELS.md): a definition names its model.  A registered name
(:data:`REGISTERED`) resolves to a module of this package.  ``package.module:NAME`` imports
that module, which runs its code, as ``python -c "import package.module"`` would: only name
modules you trust.  The module is looked up on the import path of the installation and
``PYTHONPATH``, never implicitly in the current directory (``python -m sweeps`` puts it first
on ``sys.path``; it is left out of the model import unless ``PYTHONPATH`` names it).  Opening,
showing, exporting, plotting or checking a store never resolves a model.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys

from sweeps.errors import ModelError
from sweeps.models.model import Model

#: Registered model names -> the declaration's dotted path.
REGISTERED = {"clustered_ei": "sweeps.models.clustered_ei:MODEL", "null": "sweeps.models.null:MODEL"}


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@contextlib.contextmanager
def _without_current_directory():
    """``sys.path`` without the current directory (``""``, ``"."`` or its absolute path) unless
    ``PYTHONPATH`` names it explicitly."""
    cwd = os.path.realpath(os.getcwd())
    explicit = {os.path.realpath(p or ".") for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}

    def implicit(entry: str) -> bool:
        where = os.path.realpath(entry or ".")
        return where == cwd and where not in explicit

    saved = list(sys.path)
    sys.path[:] = [p for p in saved if not implicit(p)]
    try:
        yield
    finally:  # entries the import added (e.g. by a .pth file) are kept
        sys.path[:] = saved + [p for p in sys.path if p not in saved]


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
    if not _DOTTED.fullmatch(module_name) or not attr.isidentifier():
        raise ModelError(field, f"{name!r} is not 'package.module:NAME' (absolute module path, Python names)")
    try:
        with _without_current_directory():
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelError(field, f"cannot import {module_name!r} for model {name!r}: {err} (models are imported from "
                                "installed packages and PYTHONPATH, not from the current directory)") from None
    builder = getattr(module, attr, None)
    if isinstance(builder, Model):
        return builder
    if not callable(builder):
        raise ModelError(field, f"{module_name!r} has no callable {attr!r} (model {name!r})")
    return Model(name, builder, getattr(builder, "layout", None), getattr(builder, "validate", None))


