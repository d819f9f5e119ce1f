"""Sphinx configuration of the API reference (``docs/api``), built from the docstrings.

Build: ``python -m sphinx -W --keep-going -b html docs/api docs/api/_build`` (needs the
``docs`` extra: ``pip install -e ".[docs]"``); ``pytest -m docs`` does the same as a test.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

project = "binnet-sweeps"
author = "binnet-sweeps contributors"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # dataclass fields: autodoc documents them already
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the signatures show them; numpy docstrings describe the types
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
nitpicky = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
suppress_warnings = ["ref.python"]  # the same short name in two modules (e.g. Status)
