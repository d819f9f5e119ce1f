"""Eigenvalue spectrum of a network's weight matrix ``W[post, pre]``.

The whole spectrum is ``numpy.linalg.eigvals`` of the dense matrix (``O(N^3)`` time and
``16 N^2`` bytes: about a minute and 1.6 GB at ``N = 10^4``); the ``k`` eigenvalues of largest
magnitude (or real part) come from ``scipy.sparse.linalg.eigs`` (ARPACK) on the sparse
matrix. The summaries are those the reference prints on each panel of its Figure S1:
the spectral radius ``max_i |lambda_i|``, ``rho_95``, the 95th percentile of ``|lambda_i|``
(linear interpolation, numpy's default; the whole spectrum only), and ``max_i Re lambda_i``.
The networks are the sweep's own: point ``index`` is built from its connectivity seed, so the
spectrum belongs to the network its simulations ran on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sweeps.errors import SweepsError

__all__ = ["Spectrum", "point_spectra", "weight_spectrum"]

#: ``which`` of :func:`weight_spectrum`: largest magnitude or largest real part
WHICH = ("LM", "LR")


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of one weight matrix of size ``n``, by decreasing magnitude.

    ``complete`` when all ``n`` were computed; otherwise the ``k`` of largest magnitude
    (``which = "LM"``) or largest real part (``"LR"``).
    """

    eigenvalues: np.ndarray
    n: int
    which: str = "LM"

    @property
    def complete(self) -> bool:
        return self.eigenvalues.size == self.n

    @property
    def radius(self) -> float:
        """Spectral radius ``max |lambda|`` (exact when complete or ``which = "LM"``)."""
        return float(np.abs(self.eigenvalues).max())

    @property
    def radius_95(self) -> float:
        """95th percentile of ``|lambda|`` over the whole spectrum (NaN when not complete)."""
        return float(np.percentile(np.abs(self.eigenvalues), 95)) if self.complete else float("nan")

    @property
    def max_real(self) -> float:
        """``max Re lambda`` (exact when complete or ``which = "LR"``)."""
        return float(self.eigenvalues.real.max())

    def summary(self) -> dict[str, float]:
        """``radius``, ``radius_95`` and ``max_real`` by name."""
        return {"radius": self.radius, "radius_95": self.radius_95, "max_real": self.max_real}


def weight_spectrum(matrix, k: int | None = None, which: str = "LM") -> Spectrum:
    """Eigenvalues of a square weight matrix (dense array or scipy.sparse).

    Parameters
    ----------
    matrix : ndarray or scipy.sparse matrix, shape (n, n)
    k : int, optional
        Only the ``k`` eigenvalues of largest magnitude / real part (ARPACK, ``1 <= k < n - 1``,
        from a fixed start vector; the ``k``-th may be either member of a complex-conjugate
        pair); None: all of them (dense).
    which : {"LM", "LR"}
        Largest magnitude or largest real part (with ``k``).
    """
    import scipy.sparse
    import scipy.sparse.linalg

    n = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape[1] != n:
        raise SweepsError(f"weight_spectrum: need a square matrix, got shape {matrix.shape}", field="matrix")
    if which not in WHICH:
        raise SweepsError(f"weight_spectrum: which must be one of {WHICH}, got {which!r}", field="which",
                          allowed=WHICH)
    if k is None:
        dense = matrix.toarray() if scipy.sparse.issparse(matrix) else np.asarray(matrix)
        values = np.linalg.eigvals(dense.astype(np.float64))
    else:
        if not 1 <= k < n - 1:
            raise SweepsError(f"weight_spectrum: k must be in [1, {n - 2}] for n = {n}, got {k}", field="k")
        sparse = scipy.sparse.csr_matrix(matrix, dtype=np.float64)
        start = np.full(n, 1.0 / np.sqrt(n))  # a fixed start vector: the same values on every call
        values = scipy.sparse.linalg.eigs(sparse, k=k, which=which, v0=start, return_eigenvectors=False)
    values = np.asarray(values, np.complex128)
    return Spectrum(values[np.argsort(-np.abs(values), kind="stable")], n, which)


def point_spectra(experiment, points: Sequence[int] | None = None, k: int | None = None,
                  which: str = "LM") -> dict[int, Spectrum]:
    """Spectra of the networks of a sweep's points, built as the run builds them.

    Parameters
    ----------
    experiment : Experiment
        A validated definition.
    points : sequence of int, optional
        Grid point indices; None: one per built network (every parameter set and network
        index; inits and run options share their network's build).
    k, which
        As :func:`weight_spectrum`.

    Returns
    -------
    dict of int to Spectrum
        By point index.
    """
    from sweeps.plan import SweepPlan

    plan = SweepPlan.build(experiment)
    grid, sim = plan.grid, experiment.simulation
    if plan.model.point is not None:
        raise SweepsError(f"model {experiment.model!r} measures itself: it has no weight matrix", field="model")
    if points is None:
        chosen = [group[0] for group in grid.network_groups(range(len(grid)))]
    else:
        chosen = [int(p) for p in points]
    bad = [p for p in chosen if not 0 <= p < len(grid)]
    if bad:
        raise SweepsError(f"point indices {bad} outside [0, {len(grid) - 1}]", field="points")
    spectra = {}
    for index in chosen:
        net = plan.model.build(grid.parameters(index), grid.seeds(index).connectivity, sim.weight_mode,
                               sim.ram_budget_gb)
        spectra[index] = weight_spectrum(net.weight_matrix(), k, which)
    return spectra
