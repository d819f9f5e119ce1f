"""numba kernels of :func:`sweeps.measure.statistics.block_correlations` (arrays in, arrays out).

Private: they take only arrays and numbers, check nothing and trust their caller (the public
functions of :mod:`sweeps.measure.statistics` validate).  All ``nogil`` and cached.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def _popcount(typingctx, x):
    """Number of set bits of a uint64 (LLVM ``ctpop``: one ``popcnt`` instruction)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


#: Factors per ``log`` in the Fisher-z sums (see :func:`_z_add`).
Z_CHUNK = 32


@njit(inline="always")
def _z_add(r, limit, acc):
    """Add ``artanh(r)`` (``r`` clipped at ``+-limit``) to the running sum ``acc``.

    ``acc = (z, num, den, k)``: the sum is ``z + 0.5 log(num / den)`` with ``num``/``den`` the
    products of ``1 + r`` / ``1 - r`` over the ``k`` pairs since the last ``log``, because
    ``artanh r = 0.5 log((1 + r) / (1 - r))``; one ``log`` per ``Z_CHUNK`` pairs instead of one
    per pair, which had been most of the per-pair work (``benchmarks/bench_measurements.py``,
    docs/STATISTICS.md "Cost").  Each factor is at least ``1 - limit``
    (1e-6 for the Fisher clip), so a product of 32 stays above 1e-192: no underflow.  Each
    factor carries one rounding (``1 - r`` is exact near 1, ``1 + r`` near -1), a product of
    ``2 Z_CHUNK`` of them about ``2 Z_CHUNK`` units, so the sum is within ``n 2^-52`` plus a
    few ulp per ``log`` and addition of the artanh of the n clipped values (tested with 4 ulp
    of the larger of the sum and a chunk's largest possible log per chunk).
    """
    z, num, den, k = acc
    if r > limit:
        r = limit
    elif r < -limit:
        r = -limit
    num *= 1.0 + r
    den *= 1.0 - r
    k += 1
    if k == Z_CHUNK:
        return z + 0.5 * math.log(num / den), 1.0, 1.0, 0
    return z, num, den, k


@njit(inline="always")
def _z_total(acc):
    """The sum that :func:`_z_add` accumulated."""
    z, num, den, _ = acc
    return z + 0.5 * math.log(num / den)


@njit(cache=True, nogil=True)
def binary_block_r(packed, ones, n_samples, bounds, a, limit, values, z_row, r_row, ends):
    """r of the pairs of block row ``a`` (blocks (a, b), b >= a) of binary series, in place.

    packed : uint64 (K, W), neuron k's samples as bits (zero padding), neurons sorted by
    group and none constant; ones : int64 (K,), its number of 1s; bounds : int64 (G + 1,),
    group g's neurons are ``bounds[g]:bounds[g + 1]``.  Pearson r of a pair from integer
    counts: ``r = (T n11 - n_i n_j) / sqrt(n_i (T - n_i) n_j (T - n_j))`` with ``n11`` the
    popcount of the AND of the two rows; each unordered pair is visited once.

    Writes block b's r values to ``values[ends[b - 1]:ends[b]]`` (``ends[a - 1]`` read as 0),
    its Fisher-z sum over unordered pairs to ``z_row[b]`` and its sum of r to ``r_row[b]``.
    """
    n_groups = bounds.size - 1
    n_words = packed.shape[1]
    t = n_samples
    n = 0
    for b in range(a, n_groups):
        acc = (0.0, 1.0, 1.0, 0)
        r_total = 0.0
        for i in range(bounds[a], bounds[a + 1]):
            ni = ones[i]
            var_i = float(ni) * float(t - ni)  # exact integers below 2^53
            for j in range(i + 1 if a == b else bounds[b], bounds[b + 1]):
                both = 0
                for w in range(n_words):
                    both += _popcount(packed[i, w] & packed[j, w])
                num = float(t * np.int64(both) - ni * ones[j])  # exact: |num| <= T^2 / 4
                den = math.sqrt(var_i * (float(ones[j]) * float(t - ones[j])))
                r = num / den
                values[n] = r
                r_total += r
                acc = _z_add(r, limit, acc)
                n += 1
        z_row[b] = _z_total(acc)
        r_row[b] = r_total
        ends[b] = n


@njit(cache=True, nogil=True)
def dense_block_r(products, first, bounds, a, limit, values, z_row, r_row, ends):
    """:func:`binary_block_r` for r values from a matrix product, in place.

    products : float32 (R, C), the r of the sorted neurons ``first:first + R`` (rows) against
    the neurons ``first:first + C`` (columns, reaching the last neuron); group a's neurons
    lie in the rows.  Each unordered pair is read once (the upper triangle).
    """
    n_groups = bounds.size - 1
    n = 0
    for b in range(a, n_groups):
        acc = (0.0, 1.0, 1.0, 0)
        r_total = 0.0
        for i in range(bounds[a], bounds[a + 1]):
            for j in range(i + 1 if a == b else bounds[b], bounds[b + 1]):
                r = float(products[i - first, j - first])
                values[n] = r
                r_total += r
                acc = _z_add(r, limit, acc)
                n += 1
        z_row[b] = _z_total(acc)
        r_row[b] = r_total
        ends[b] = n
