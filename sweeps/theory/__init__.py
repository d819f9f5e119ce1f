"""Theory over a sweep's grid: the variables a model declares it can predict, for every point."""

from sweeps.spec.theory import Theory, parse_theory
from sweeps.theory.compute import (
    FOCUS_DIM,
    THEORY_ATTR,
    bifurcation_line,
    theory_dataset,
    write_theory,
)

__all__ = ["FOCUS_DIM", "THEORY_ATTR", "Theory", "bifurcation_line", "parse_theory", "theory_dataset", "write_theory"]
