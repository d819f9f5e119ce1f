"""Mean-field summaries over many parameter sets (for sweeps and figures).

For each parameter set and focus count: the stable fixed point with the highest focus-E
rate (rates of the four groups, NaN where there is none), the number of fixed points and
of stable ones, and why a search did not converge. Distinct parameter sets are solved once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from binnet_core import meanfield as mf
from binnet_core.clustered import validate_parameters

__all__ = ["GROUPS", "TheoryTable", "theory_table", "bifurcation_table"]

#: Group names in the order of :attr:`TheoryTable.rates`' last axis.
GROUPS = ("E_focus", "E_other", "I_focus", "I_other")


@dataclass(frozen=True)
class TheoryTable:
    """Arrays over ``(parameter set, focus count)``.

    Attributes
    ----------
    rates : float64 (S, F, 4)
        Group rates (:data:`GROUPS`) of the stable fixed point with the highest focus-E rate.
    fixed_points, stable_points : int16 (S, F)
        Number of fixed points and of stable ones (-1 where the search did not converge).
    all_focus_E : float64 (S, F, K)
        Focus-E rate of every fixed point in increasing order (NaN-padded; ``K`` is the
        largest number found); ``all_stable`` int8 (S, F, K): 1 stable, 0 unstable, -1 none.
    reasons : list of str
        ``"set s, focus count n: reason"`` for each search that did not converge.
    """

    rates: np.ndarray
    fixed_points: np.ndarray
    stable_points: np.ndarray
    reasons: list
    all_focus_E: np.ndarray
    all_stable: np.ndarray


def _key(p: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in p.items()))


def theory_table(parameter_sets: Sequence[Mapping], focus_counts: Sequence[int]) -> TheoryTable:
    """Solve every parameter set for every focus count (bad input raises before any work)."""
    checked = [validate_parameters(p) for p in parameter_sets]
    counts = [int(n) for n in focus_counts]
    for p in checked:
        for n in counts:
            mf._check_focus_count(n, p["Q"])
    shape = (len(checked), len(counts))
    rates = np.full(shape + (4,), np.nan)
    n_fixed = np.full(shape, -1, dtype=np.int16)
    n_stable = np.full(shape, -1, dtype=np.int16)
    reasons = []
    all_focus = np.full(shape + (mf._MAX_ROOTS,), np.nan)
    all_stable = np.full(shape + (mf._MAX_ROOTS,), -1, dtype=np.int8)
    solved: dict = {}
    for s, p in enumerate(checked):
        key = _key(p)
        if key in solved:
            first = solved[key]
            rates[s], n_fixed[s], n_stable[s] = rates[first], n_fixed[first], n_stable[first]
            all_focus[s], all_stable[s] = all_focus[first], all_stable[first]
            continue
        solved[key] = s
        system = mf._system_of(p)
        q = system.Q
        for j, n in enumerate(counts):
            roots, max_real, _, status = mf._solve(system, n)
            if status != mf.kernels.OK:
                reasons.append(f"set {s}, focus count {n}: {mf.STATUS_REASONS[status]}")
                continue
            stable = max_real < 0
            n_fixed[s, j], n_stable[s, j] = len(roots), int(stable.sum())
            all_focus[s, j, :len(roots)] = roots[:, 0] if n > 0 else np.nan
            all_stable[s, j, :len(roots)] = stable
            if stable.any():
                x = roots[stable][np.argmax(roots[stable, 0])].copy()
                if n == 0 or n == q:  # homogeneous: one group only
                    x[[0, 2] if n == 0 else [1, 3]] = np.nan
                    if n == 0:
                        x[[1, 3]] = roots[stable][np.argmax(roots[stable, 0]), [0, 2]]
                rates[s, j] = x
    keep = max(1, int(n_fixed.max(initial=0)))
    return TheoryTable(rates=rates, fixed_points=n_fixed, stable_points=n_stable, reasons=reasons,
                       all_focus_E=all_focus[..., :keep], all_stable=all_stable[..., :keep])


def bifurcation_table(parameter_sets: Sequence[Mapping], focus_counts: Sequence[int]) -> np.ndarray:
    """:func:`~binnet_core.meanfield.bifurcation` for each set (its R_Eplus is ignored) and
    focus count: float64 (S, F), NaN where there is none below Q or no convergence."""
    out = np.full((len(parameter_sets), len(focus_counts)), math.nan)
    solved: dict = {}
    for s, p in enumerate(parameter_sets):
        base = dict(p, R_Eplus=1.0)
        key = _key(validate_parameters(base))
        for j, n in enumerate(focus_counts):
            if (key, n) not in solved:
                solved[key, n] = mf.bifurcation(base, int(n))
            out[s, j] = solved[key, n]
    return out
