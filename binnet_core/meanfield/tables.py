"""Mean-field summaries over many parameter sets (for sweeps and figures).

For each parameter set and focus count: the stable fixed point with the highest focus-E
rate (rates of the four groups, NaN where there is none), the number of fixed points and
of stable ones, and why a search did not converge. Distinct parameter sets are solved once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from binnet_core.clustered import (
    DEFAULT_PARAMETERS,
    ParameterTable,
    validate_parameter_table,
)
from binnet_core.meanfield import _kernels as kernels
from binnet_core.meanfield.solvers import (
    MAX_ROOTS,
    STATUS_REASONS,
    bifurcation,
    check_focus_count,
    solve_many,
)
from binnet_core.meanfield.systems import table_systems

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


def _distinct(table: ParameterTable) -> tuple[ParameterTable, np.ndarray]:
    """The distinct parameter sets of ``table`` (the first of each, in order) and, for each
    set, the index of its twin among them."""
    first: dict = {}
    index = np.empty(len(table), dtype=np.int64)
    for s, key in enumerate(zip(*(table.columns[name].tolist() for name in DEFAULT_PARAMETERS))):
        try:
            hash(key)
        except TypeError:  # e.g. a list of initial activities
            key = _key(table.row(s))
        index[s] = first.setdefault(key, len(first))
    return table.take(np.unique(index, return_index=True)[1]), index


def _summarise(solved, counts, q):
    """``(rates, fixed, stable, all focus-E (D, F, K), all stable, status)`` of one chunk."""
    ok = solved.status == kernels.OK
    found = (np.arange(MAX_ROOTS) < solved.count[..., None]) & ok[..., None]  # (D, F, K)
    stable = found & (solved.max_real < 0)
    n_fixed = np.where(ok, solved.count, -1).astype(np.int16)
    n_stable = np.where(ok, stable.sum(axis=-1), -1).astype(np.int16)
    focus = np.asarray(counts)[None, :]
    low, high = focus == 0, focus == q[:, None]  # homogeneous states: one group only
    low, high = np.broadcast_to(low, ok.shape), np.broadcast_to(high, ok.shape)
    all_focus = np.where(found & ~low[..., None], solved.roots[..., 0], np.nan)
    all_stable = np.where(found, stable, -1).astype(np.int8)
    # the stable fixed point with the highest focus-E rate (roots are sorted by it)
    has = stable.any(axis=-1)
    last = MAX_ROOTS - 1 - np.argmax(stable[..., ::-1], axis=-1)
    rates = np.take_along_axis(solved.roots, last[..., None, None], axis=2)[:, :, 0, :]
    rates = np.where(has[..., None], rates, np.nan)
    rates[high] = np.where([True, False, True, False], rates[high][:, [0, 0, 2, 2]], np.nan)
    rates[low] = np.where([False, True, False, True], rates[low][:, [0, 0, 2, 2]], np.nan)
    return rates, n_fixed, n_stable, all_focus, all_stable, solved.status


def theory_table(parameter_sets: Sequence[Mapping], focus_counts: Sequence[int], *,
                 threads: int = 1, chunk: int = 4096) -> TheoryTable:
    """Solve every parameter set for every focus count (bad input raises before any work).

    Identical sets are solved once, at most ``chunk`` distinct systems per compiled call;
    ``threads`` solve chunks side by side (the kernel releases the GIL). The results do not
    depend on ``threads`` or ``chunk``.
    """
    table = validate_parameter_table(parameter_sets)
    counts = [int(n) for n in focus_counts]
    for q in np.unique(table.columns["Q"]).tolist():
        for n in counts:
            check_focus_count(n, q)
    distinct, index = _distinct(table)
    size = max(1, min(chunk, math.ceil(len(distinct) / max(1, threads))))
    chunks = [distinct.take(slice(start, start + size)) for start in range(0, len(distinct), size)]

    def solve(part):
        coef, theta, tau, q = table_systems(part)
        return _summarise(solve_many(coef, theta, tau, q, counts), counts, q)

    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(solve, chunks))
    else:
        parts = [solve(part) for part in chunks]
    if not parts:  # no parameter sets
        shape = (0, len(counts))
        parts = [(np.empty(shape + (4,)), np.empty(shape, np.int16), np.empty(shape, np.int16),
                  np.empty(shape + (MAX_ROOTS,)), np.empty(shape + (MAX_ROOTS,), np.int8),
                  np.empty(shape, np.int64))]
    rates, n_fixed, n_stable, all_focus, all_stable, status = (np.concatenate(a)
                                                               for a in zip(*parts))
    keep = max(1, int(n_fixed.max(initial=0)))
    first = np.unique(index, return_index=True)[1]  # the first set of each distinct set
    reasons = [f"set {first[d]}, focus count {counts[j]}: {STATUS_REASONS[status[d, j]]}"
               for d, j in zip(*np.nonzero(status != kernels.OK))]
    return TheoryTable(rates=rates[index], fixed_points=n_fixed[index],
                       stable_points=n_stable[index], reasons=reasons,
                       all_focus_E=all_focus[index][..., :keep],
                       all_stable=all_stable[index][..., :keep])


def bifurcation_table(parameter_sets: Sequence[Mapping], focus_counts: Sequence[int], *,
                      threads: int = 1) -> np.ndarray:
    """:func:`~binnet_core.meanfield.solvers.bifurcation` for each set (its R_Eplus is ignored) and
    focus count: float64 (S, F), NaN where there is none below Q or no convergence.

    Identical sets are searched once; ``threads`` run searches side by side (same values).
    Bad input raises before any search.
    """
    counts = [int(n) for n in focus_counts]
    bases = [dict(p, R_Eplus=1.0) for p in parameter_sets]
    distinct, index = _distinct(validate_parameter_table(bases))
    for q in np.unique(distinct.columns["Q"]).tolist():
        for n in counts:
            check_focus_count(n, q)
    jobs = [(d, j) for d in range(len(distinct)) for j in range(len(counts))]

    def search(job):
        d, j = job
        return bifurcation(distinct.row(d), counts[j])

    if threads > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(threads) as pool:
            values = list(pool.map(search, jobs))
    else:
        values = [search(job) for job in jobs]
    found = np.array(values, dtype=np.float64).reshape(len(distinct), len(counts))
    return found[index] if len(distinct) else np.full((len(bases), len(counts)), math.nan)
