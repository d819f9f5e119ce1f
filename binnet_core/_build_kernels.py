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
Pair blocks are generated one pre population at a time, row by row over all its blocks, so
every row of the output is written in one sweep.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from binnet_core._rng import bounded, counter_u64

_NEVER = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Contact counts of one row while it is generated: a pair may get up to 65,535 contacts.
COUNT_DTYPE = np.uint16


@njit(inline="always")
def _row_counts(key, first, n_post, thr, buf):
    """Contact counts of one pre neuron onto ``n_post`` targets into ``buf`` (``COUNT_DTYPE``);
    returns the sum.

    The first four thresholds are compared branch-free (vectorised); larger counts, rare
    for the probabilities used in practice, are resolved in a second pass when present.
    """
    t0 = thr[0]
    t1 = thr[1] if thr.size > 1 else _NEVER
    t2 = thr[2] if thr.size > 2 else _NEVER
    t3 = thr[3] if thr.size > 3 else _NEVER
    for t in range(n_post):  # kept free of reductions so that it vectorises
        word = counter_u64(key, first + np.uint64(t))
        buf[t] = (np.uint8(word >= t0) + np.uint8(word >= t1) + np.uint8(word >= t2)
                  + np.uint8(word >= t3))
    total = 0
    top = 0
    for t in range(n_post):
        total += buf[t]
        top |= buf[t]
    if top & 4 and thr.size > 4:
        for t in range(n_post):
            if buf[t] == 4:
                word = counter_u64(key, first + np.uint64(t))
                count = 4
                while count < thr.size and word >= thr[count]:
                    count += 1
                total += count - 4
                buf[t] = count
    return total


@njit(inline="always")
def _add_packed(row, counts, half):
    """Add ``counts`` (length ``2 * half``) to a row of 4-bit counts; True if one exceeds 15."""
    overflow = False
    for k in range(half):
        byte = np.uint8(row[k])  # a no-op cast; it types the float layouts that never get here
        low = (byte & 15) + counts[k]
        high = (byte >> 4) + counts[k + half]
        overflow |= (low | high) > 15
        row[k] = low | (high << 4)
    return overflow


@njit(cache=True, nogil=True)
def pairs_dense(out, pre0, n_pre, blocks, keys, thr, thr_len, values, cap, checked, packed,
                packed_start):
    """Add ``count * value`` of every pair of the pair blocks of one pre population.

    Parameters
    ----------
    out : 2-D array
        Dense pre-major matrix; row ``pre0 + i`` is written one full row at a time.
    pre0, n_pre : int
        The pre population's slice.
    blocks : int64 array (B, 4)
        Per block: post start, post size, skip-diagonal flag, post segment.
    keys : uint64 array (B,)
    thr, thr_len : uint64 array (B, K), int64 array (B,)
        Count thresholds of each block (row b uses ``thr[b, :thr_len[b]]``).
    values : array (B,) of out's dtype
        Value added per contact.
    cap : number
        Largest entry allowed.
    checked : bool
        Check entries against ``cap``; False when no entry can exceed it (one synapse per
        block and counts below the dtype's limit).
    packed : bool
        ``out`` holds 4-bit counts (see ``binnet_core.layouts.PackedCounts``) and segment
        ``s`` starts at byte ``packed_start[s]``; then ``values`` are 1 and ``cap`` is 15.

    Returns
    -------
    int
        Number of contacts, or -1 if an entry would exceed ``cap``.
    """
    size = max(1, blocks[:, 1].max()) if blocks.shape[0] else 1
    buf = np.zeros(size + 1, dtype=COUNT_DTYPE)  # one spare zero: the odd segment's last nibble
    total = 0
    overflow = False
    for i in range(n_pre):
        for b in range(blocks.shape[0]):
            post0, n_post = blocks[b, 0], blocks[b, 1]
            counts = buf[:n_post]
            total += _row_counts(keys[b], np.uint64(i) * np.uint64(n_post), n_post,
                                 thr[b, :thr_len[b]], counts)
            if blocks[b, 2]:
                total -= counts[i]
                counts[i] = 0
            if packed:
                half = (n_post + 1) // 2
                start = packed_start[blocks[b, 3]]
                buf[n_post] = 0
                overflow |= _add_packed(out[pre0 + i, start:start + half], buf, half)
                continue
            row = out[pre0 + i, post0:post0 + n_post]
            value = values[b]
            if checked:  # another synapse may already have written here: check the sum
                for t in range(n_post):
                    new = row[t] + counts[t] * value
                    overflow |= new > cap
                    row[t] = new
            else:
                for t in range(n_post):
                    row[t] += counts[t] * value
    return -1 if overflow else total


@njit(cache=True, nogil=True)
def pairs_sparse(fill, counts, cursor, idx, vals, pre0, n_pre, blocks, keys, thr, thr_len, values):
    """Count (``fill=False``) or write (``fill=True``) the contacts of the pair blocks of one
    pre population (arguments as :func:`pairs_dense`; ``blocks[:, 3]`` is the segment).

    Targets are stored relative to the segment start, one entry per contact (a pair with
    ``c`` contacts appears ``c`` times). With ``vals`` non-empty, each contact also stores
    its block's value. Returns the number of contacts.
    """
    size = max(1, blocks[:, 1].max()) if blocks.shape[0] else 1
    buf = np.empty(size, dtype=COUNT_DTYPE)
    stage = np.empty(size, dtype=idx.dtype)
    total = 0
    for i in range(n_pre):
        r = pre0 + i
        for b in range(blocks.shape[0]):
            n_post, seg = blocks[b, 1], blocks[b, 3]
            row = buf[:n_post]
            row_total = _row_counts(keys[b], np.uint64(i) * np.uint64(n_post), n_post,
                                    thr[b, :thr_len[b]], row)
            if blocks[b, 2]:
                row_total -= row[i]
                row[i] = 0
            total += row_total
            if not fill:
                counts[r, seg] += row_total
                continue
            start = cursor[r, seg]
            k = 0
            for t in range(n_post):  # branch-free compaction of the connected targets
                stage[k] = t
                k += row[t] > 0
            idx[start:start + k] = stage[:k]
            written = k
            level = 2
            while written < row_total:  # targets with several contacts: rare, short lists
                for j in range(k):
                    if row[stage[j]] >= level:
                        idx[start + written] = stage[j]
                        written += 1
                level += 1
            if vals.size:
                vals[start:start + row_total] = values[b]
            cursor[r, seg] = start + row_total
    return total


@njit(inline="always")
def _draw_partners(t, k_in, n_pre, skip_self, multapses, key, work, where, out):
    """Pre partners of post neuron ``t`` (excluding pre ``t`` when ``skip_self``)."""
    exclude = t
    n = n_pre - 1 if skip_self else n_pre
    first = np.uint64(t) * np.uint64(k_in)
    if multapses:
        for k in range(k_in):
            j = bounded(counter_u64(key, first + np.uint64(k)), n)
            if skip_self and j >= exclude:
                j += 1
            out[k] = j
        return
    if skip_self:  # park the excluded neuron in the last slot, outside the draw range
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
def indegree_partners(n_pre, n_post, k_in, multapses, diagonal, key):
    """Pre partners (``n_post x k_in``, local indices) of every post neuron of a block."""
    work = np.arange(n_pre)
    where = np.arange(n_pre)
    partners = np.empty((n_post, k_in), dtype=np.int64)
    for t in range(n_post):
        _draw_partners(t, k_in, n_pre, diagonal, multapses, key, work, where,
                       partners[t])
    return partners


@njit(cache=True, nogil=True)
def indegree_dense(out, pre0, post0, partners, value, cap, packed, packed_offset):
    """Add ``value`` per contact of a fixed in-degree block to a dense pre-major matrix.

    With ``packed`` the matrix holds 4-bit counts and the post segment starts at byte
    ``packed_offset`` (``value`` is 1, ``cap`` is 15). Returns the number of contacts, or -1 if an
    entry would exceed ``cap``.
    """
    half = (partners.shape[0] + 1) // 2
    for t in range(partners.shape[0]):
        for k in range(partners.shape[1]):
            r = pre0 + partners[t, k]
            if packed:
                byte = packed_offset + (t if t < half else t - half)
                shift = 0 if t < half else 4
                new = ((np.uint8(out[r, byte]) >> shift) & 15) + 1
                if new > cap:
                    return -1
                out[r, byte] += np.uint8(1 << shift)
                continue
            new = out[r, post0 + t] + value
            if new > cap:
                return -1
            out[r, post0 + t] = new
    return partners.size


@njit(cache=True, nogil=True)
def indegree_sparse(fill, counts, cursor, idx, vals, pre0, seg, offset, partners, value):
    """Count or write the contacts of a fixed in-degree block (see :func:`pairs_sparse`)."""
    for t in range(partners.shape[0]):
        for k in range(partners.shape[1]):
            r = pre0 + partners[t, k]
            if not fill:
                counts[r, seg] += 1
                continue
            c = cursor[r, seg]
            idx[c] = offset + t
            if vals.size:
                vals[c] = value
            cursor[r, seg] = c + 1
    return partners.size


@njit(cache=True, nogil=True)
def nonzero_nibbles(packed):
    """Number of non-zero 4-bit counts in a matrix of packed counts (no temporaries)."""
    total = 0
    for r in range(packed.shape[0]):
        row = packed[r]
        for k in range(row.size):
            total += ((row[k] & 15) != 0) + ((row[k] >> 4) != 0)
    return total


@njit(cache=True, nogil=True)
def distinct_targets(idx, ptr):
    """Number of distinct (pre, target) pairs over all (pre, segment) runs of sparse targets."""
    seen = np.full(int(idx.max()) + 1 if idx.size else 0, -1, dtype=np.int64)
    total = 0
    stamp = 0
    for r in range(ptr.shape[0]):
        for s in range(ptr.shape[1] - 1):
            stamp += 1
            for k in range(ptr[r, s], ptr[r, s + 1]):
                target = np.int64(idx[k])
                if seen[target] != stamp:
                    seen[target] = stamp
                    total += 1
    return total


@njit(cache=True, nogil=True)
def stream_keys(root, count):
    """Keys ``counter_u64(root, i)`` of ``count`` counter-based streams (uint64 array)."""
    keys = np.empty(count, dtype=np.uint64)
    for i in range(count):
        keys[i] = counter_u64(root, i)
    return keys
