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


@njit(inline="always")
def _z(num, den, limit):
    """``artanh(num / den)`` with ``|num / den|`` clipped at ``limit``.

    As ``sign(r) 0.5 log((1 + |r|) / (1 - |r|))``: one ``log``, half the time of libm's
    ``atanh`` or ``log1p`` here (measured).  The quotient carries at most 3 roundings, so
    ``|z - artanh r| <= 1.5 * 2^-52 + 2 ulp(z)`` (tested): absolute error of a few 1e-16,
    far below any r's own rounding.
    """
    r = abs(num / den)
    if r > limit:
        r = limit
    z = 0.5 * math.log((1.0 + r) / (1.0 - r))  # |r|: symmetric, 1 - r exact near 1
    return -z if num < 0 else z


@njit(cache=True, nogil=True)
def binary_block_z(packed, ones, n_samples, groups, n_groups, limit):
    """Fisher-z sums per block of groups of binary series, from bit-packed time series.

    packed : uint64 (K, W), neuron k's samples as bits (zero padding); ones : int64 (K,),
    its number of 1s; groups : int64 (K,).  Pearson r of a pair from integer counts:
    ``r = (T n11 - n_i n_j) / sqrt(n_i (T - n_i) n_j (T - n_j))`` with ``n11`` the popcount
    of the AND of the two rows.  Constant series (``n_i`` 0 or T) are skipped.
    Returns z_sum (G, G) over ordered pairs ``i != j``.
    """
    n_neurons, n_words = packed.shape
    t = n_samples
    var = np.empty(n_neurons)
    for i in range(n_neurons):
        var[i] = float(ones[i]) * float(t - ones[i])  # exact integers below 2^53
    z_sum = np.zeros((n_groups, n_groups))
    row = np.zeros(n_groups)
    for i in range(n_neurons):
        if var[i] == 0.0:
            continue
        row[:] = 0.0
        ni = ones[i]
        for j in range(i + 1, n_neurons):
            if var[j] == 0.0:
                continue
            both = 0
            for w in range(n_words):
                both += _popcount(packed[i, w] & packed[j, w])
            num = float(t * np.int64(both) - ni * ones[j])  # exact: |num| <= T^2 / 4
            row[groups[j]] += _z(num, math.sqrt(var[i] * var[j]), limit)
        gi = groups[i]
        for g in range(n_groups):
            z_sum[gi, g] += row[g]
            z_sum[g, gi] += row[g]
    return z_sum


@njit(cache=True, nogil=True)
def dense_block_z(products, col_groups, n_groups, limit):
    """Fisher-z sums of a block of r values per column group, the diagonal left out.

    products : float32 (R, C), r of R rows (one group, the first R columns) against the
    C columns; col_groups : int64 (C,).  Returns sums (G,).  Zero rows (constant
    series) give ``r = 0`` and add nothing.
    """
    n_rows, n_cols = products.shape
    sums = np.zeros(n_groups)
    for i in range(n_rows):
        for j in range(n_cols):
            if j == i:
                continue
            r = float(products[i, j])
            if r != 0.0:
                sums[col_groups[j]] += _z(r, 1.0, limit)
    return sums
