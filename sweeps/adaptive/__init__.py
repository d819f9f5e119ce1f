"""The adaptive learner: which lattice points a round simulates (pure, deterministic numpy).

:mod:`~sweeps.adaptive.lattice` (the fine lattice in sorted coordinates and its cells),
:mod:`~sweeps.adaptive.loss` (how much a cell needs refining) and
:mod:`~sweeps.adaptive.learner` (the points of a round).  How the rounds run is
:mod:`sweeps.execution.adaptive`; the settings are :mod:`sweeps.spec.adaptive`.
"""

from sweeps.adaptive.lattice import Cell, Lattice
from sweeps.adaptive.learner import choose_round

__all__ = ["Cell", "Lattice", "choose_round"]
