"""Connectivity generation kernels (numba, ``nogil``, cached).

Every random number is counter-based (:func:`binnet_core._rng.counter_u64`): the contacts of
a block depend only on the block's key and on the (pre, post) position, so the dense and the
sparse layout of one seed hold the same network, and generation needs no temporaries of
size ``N_pre * N_post``.

Two generator families:

``pairs``     an independent contact count for every ordered pair, drawn by inverting a
              cumulative distribution given as uint64 thresholds ``thr`` (count = number of
              thresholds the pair's random word reaches). Bernoulli, binomial (Bernoulli with
              ``p > 1``), Poisson and all-to-all blocks are all of this form.
``indegree``  every post neuron draws ``k_in`` pre partners, with or without replacement.

Sparse output is written in two passes with the same random numbers: ``fill=False`` counts
the contacts of every (pre, segment), ``fill=True`` writes their targets at ``cursor``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from binnet_core._rng import bounded, counter_u64
from binnet_core._sim_kernels import _apply_flip


@njit(inline="always")
def _pair_count(word, thr):
    count = 0
    while count < thr.size and word >= thr[count]:
        count += 1
    return count


@njit(cache=True, nogil=True)
def pairs_dense(out, pre0, post0, n_pre, n_post, key, thr, skip_diagonal, value, cap):
    """Add ``count * value`` of every pair to ``out[pre0 + i, post0 + t]``.

    Returns the number of contacts drawn, or -1 if an entry would exceed ``cap``.
    """
    total = 0
    for i in range(n_pre):
        row = out[pre0 + i, post0:post0 + n_post]
        first = np.uint64(i) * np.uint64(n_post)
        for t in range(n_post):
            if skip_diagonal and t == i:
                continue
            count = _pair_count(counter_u64(key, first + np.uint64(t)), thr)
            if count:
                new = row[t] + count * value
                if new > cap:
                    return -1
                row[t] = new
                total += count
    return total


@njit(cache=True, nogil=True)
def pairs_sparse(
    fill, counts, cursor, idx, vals, pre0, seg, offset, n_pre, n_post, key, thr, skip_diagonal, value
):
    """Count (``fill=False``) or write (``fill=True``) the contacts of a pair block.

    Targets are stored relative to the segment start: ``offset + t``. With ``vals``
    non-empty, each contact also stores ``value``. Returns the number of contacts.
    """
    total = 0
    for i in range(n_pre):
        r = pre0 + i
        first = np.uint64(i) * np.uint64(n_post)
        for t in range(n_post):
            if skip_diagonal and t == i:
                continue
            count = _pair_count(counter_u64(key, first + np.uint64(t)), thr)
            if count == 0:
                continue
            total += count
            if not fill:
                counts[r, seg] += count
                continue
            for _ in range(count):
                k = cursor[r, seg]
                idx[k] = offset + t
                if vals.size:
                    vals[k] = value
                cursor[r, seg] = k + 1
    return total


@njit(inline="always")
def _draw_partners(t, k_in, n_pre, exclude, multapses, key, work, where, out):
    """Pre partners of post neuron ``t`` (excluding pre ``exclude`` when >= 0)."""
    n = n_pre - 1 if exclude >= 0 else n_pre
    first = np.uint64(t) * np.uint64(k_in)
    if multapses:
        for k in range(k_in):
            j = bounded(counter_u64(key, first + np.uint64(k)), n)
            if exclude >= 0 and j >= exclude:
                j += 1
            out[k] = j
        return
    if exclude >= 0:  # park the excluded neuron in the last slot, outside the draw range
        a = where[exclude]
        b = n_pre - 1
        other = work[b]
        work[a] = other
        where[other] = a
        work[b] = exclude
        where[exclude] = b
    for k in range(k_in):  # partial Fisher-Yates shuffle: a uniform k_in-subset
        r = k + bounded(counter_u64(key, first + np.uint64(k)), n - k)
        a = work[k]
        b = work[r]
        work[k] = b
        where[b] = k
        work[r] = a
        where[a] = r
        out[k] = b


@njit(cache=True, nogil=True)
def indegree_dense(out, pre0, post0, n_pre, n_post, k_in, multapses, diagonal, key, value, cap):
    """Fixed in-degree block into a dense pre-major matrix; -1 if an entry exceeds ``cap``."""
    work = np.arange(n_pre)
    where = np.arange(n_pre)
    partners = np.empty(k_in, dtype=np.int64)
    for t in range(n_post):
        _draw_partners(t, k_in, n_pre, t if diagonal else -1, multapses, key, work, where, partners)
        for k in range(k_in):
            r = pre0 + partners[k]
            new = out[r, post0 + t] + value
            if new > cap:
                return -1
            out[r, post0 + t] = new
    return n_post * k_in


@njit(cache=True, nogil=True)
def indegree_sparse(
    fill, counts, cursor, idx, vals, pre0, seg, offset, n_pre, n_post, k_in, multapses, diagonal,
    key, value
):
    """Fixed in-degree block, two-pass sparse output (see :func:`pairs_sparse`)."""
    work = np.arange(n_pre)
    where = np.arange(n_pre)
    partners = np.empty(k_in, dtype=np.int64)
    for t in range(n_post):
        _draw_partners(t, k_in, n_pre, t if diagonal else -1, multapses, key, work, where, partners)
        for k in range(k_in):
            r = pre0 + partners[k]
            if not fill:
                counts[r, seg] += 1
                continue
            c = cursor[r, seg]
            idx[c] = offset + t
            if vals.size:
                vals[c] = value
            cursor[r, seg] = c + 1
    return n_post * k_in


@njit(cache=True, nogil=True)
def initial_field(field, state, group, seg_start, scale, dense, idx, ptr, vals):
    """Set ``field = W @ state`` by pushing every active neuron (the flip rule from zero)."""
    field[:] = 0
    for pre in range(state.size):
        if state[pre]:
            _apply_flip(pre, True, field, group, seg_start, scale, dense, idx, ptr, vals)


@njit(cache=True, nogil=True)
def distinct_targets(idx, ptr):
    """Number of distinct targets over all (pre, segment) runs of sorted sparse targets."""
    total = 0
    for r in range(ptr.shape[0]):
        for s in range(ptr.shape[1] - 1):
            previous = -1
            for k in range(ptr[r, s], ptr[r, s + 1]):
                target = np.int64(idx[k])
                if target != previous:
                    total += 1
                    previous = target
    return total
