"""Connectivity of an explicit weight matrix ``W[post, pre]`` (``initialize(weights=W)``).

A matrix exported from a network built from synapse objects (``weight_matrix()``), or from
another tool, often holds one weight per population block: every nonzero entry of the block
is an integer multiple ``count * j`` of one weight ``j``. Such a matrix gets the count
layouts of synapse-built networks (``scale[pre_pop, post_pop] = j``; 4-bit or 8-bit dense
counts, or sparse indices when every count is 1), which read a half or a quarter of the
bytes of the float layouts. The detection is exact: a block qualifies only if ``j * count``,
computed as the kernels compute it, equals the stored float weight for every entry, so the
dynamics are bit-identical to the float layouts. Otherwise the float layouts are used (one
segment, ``scale = 1``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from binnet_core import layouts
from binnet_core.connectivity import Connectivity, choose_layout

_NIBBLE_MAX = 15
_U8_MAX = 255


def _without_diagonal(weights, autapse) -> sp.csc_matrix:
    """``weights`` as CSC without explicit zeros and duplicates (diagonal dropped unless kept)."""
    coo = sp.coo_matrix(weights)
    keep = coo.data != 0
    if not autapse:
        keep &= coo.row != coo.col
    csc = sp.csc_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
    csc.sum_duplicates()
    csc.eliminate_zeros()
    csc.sort_indices()
    return csc


def _block(weights, pre, post, autapse):
    """Block ``W[post, pre]`` (slices) of an ndarray, diagonal zeroed unless kept."""
    block = weights[post, pre]
    if not autapse and pre == post:
        block = block.copy()
        np.fill_diagonal(block, 0)
    return block


def _as_counts(values, units, dtype):
    """Counts with ``units * counts == values`` as the kernels compute it, or None."""
    counts = np.rint(values / units)
    exact = units.astype(dtype) * counts.astype(dtype) == values.astype(dtype)  # in dtype
    if counts.size and (counts.min() < 1 or not exact.all()):
        return None
    return counts


def _unit(values):
    """The weight of which a block's nonzero ``values`` are multiples (if they are)."""
    magnitudes = np.unique(np.abs(values))
    step = magnitudes[0] if magnitudes.size == 1 else min(magnitudes[0], np.diff(magnitudes).min())
    first = np.rint(magnitudes[0] / step)  # the count of the smallest entry
    return np.sign(values[0]) * magnitudes[0] / first


def _block_values(weights, views, group, autapse):
    """``(k, m, values, where)`` for each nonempty block: pre population ``k``, post ``m``.

    ``values`` are the block's nonzero entries (float64); ``where`` their positions in
    ``weights.data`` for CSC input (None for an ndarray).
    """
    if not sp.issparse(weights):
        for k, (a0, a1) in enumerate(views):
            for m, (b0, b1) in enumerate(views):
                block = _block(weights, slice(a0, a1), slice(b0, b1), autapse)
                values = block[block != 0].astype(np.float64)
                if values.size:
                    yield k, m, values, None
        return
    for k, (a0, a1) in enumerate(views):
        lo, hi = weights.indptr[a0], weights.indptr[a1]
        posts = group[weights.indices[lo:hi]].astype(np.int32)
        order = np.argsort(posts, kind="stable")  # radix sort: linear in the entries
        bounds = np.searchsorted(posts[order], np.arange(len(views) + 1))
        for m in range(len(views)):
            where = lo + order[bounds[m]:bounds[m + 1]]
            if where.size:
                yield k, m, weights.data[where].astype(np.float64), where


def shared_blocks(weights, views, group, dtype, autapse):
    """``(scale, counts, top, contacts)`` when every block is ``count * scale[pre, post]``.

    Returns None when some block is not. ``scale`` has one weight per (pre population, post
    population) block (0 for empty blocks). Every entry must be a positive integer multiple
    of it once both are cast to ``dtype`` and multiplied as the kernels do. ``counts`` is
    aligned with ``weights.data`` for CSC input (None for an ndarray, whose blocks are read
    again when needed).
    """
    scale = np.zeros((len(views), len(views)), dtype=dtype)
    entry_counts = np.zeros(weights.nnz, np.uint16) if sp.issparse(weights) else None
    top = contacts = 0
    for k, m, values, where in _block_values(weights, views, group, autapse):
        unit = _unit(values)
        counts = _as_counts(values, np.full(values.size, unit), dtype)
        if counts is None or counts.max() > np.iinfo(np.uint16).max:
            return None
        scale[k, m] = unit
        top = max(top, int(counts.max()))
        contacts += int(counts.sum())
        if where is not None:
            entry_counts[where] = counts
    return scale, entry_counts, top, contacts


def _dense_counts(weights, views, shared, autapse, packed):
    """Pre-major counts: ``uint8`` per pair, or two 4-bit counts a byte with segment offsets."""
    scale, entry_counts = shared[:2]
    n = views[-1][1]
    counts = np.zeros((n, n), dtype=np.uint8)
    if sp.issparse(weights):
        pre = np.repeat(np.arange(n), np.diff(weights.indptr))
        counts[pre, weights.indices] = entry_counts
    else:
        for k, (a0, a1) in enumerate(views):
            for m, (b0, b1) in enumerate(views):
                if scale[k, m] != 0:
                    block = _block(weights, slice(a0, a1), slice(b0, b1), autapse)
                    counts[a0:a1, b0:b1] = np.rint(block / np.float64(scale[k, m])).T
    if not packed:
        return counts, np.zeros(0, dtype=np.int64)
    offsets = np.cumsum([0] + [(b - a + 1) // 2 for a, b in views], dtype=np.int64)
    out = np.zeros((n, int(offsets[-1])), dtype=np.uint8)
    for s, (lo, hi) in enumerate(views):
        half = (hi - lo + 1) // 2
        out[:, offsets[s]:offsets[s] + half] = counts[:, lo:lo + half]
        out[:, offsets[s]:offsets[s] + hi - lo - half] |= counts[:, lo + half:hi] << 4
    return out, offsets


def _sparse_counts(csc, group, seg_start):
    """Sparse runs of targets per (pre, post population), one entry per contact of count 1."""
    n, n_seg = group.size, seg_start.size - 1
    pre = np.repeat(np.arange(n), np.diff(csc.indptr))
    seg = group[csc.indices]
    per_run = np.bincount(pre * n_seg + seg, minlength=n * n_seg).reshape(n, n_seg)
    ptr = np.zeros((n, n_seg + 1), dtype=np.int64)
    ends = np.cumsum(per_run.ravel()).reshape(n, n_seg)
    ptr[:, 1:] = ends
    ptr[1:, 0] = ends[:-1, -1]
    index_dtype = np.uint16 if np.diff(seg_start).max() <= 65536 else np.int32
    idx = (csc.indices - seg_start[seg]).astype(index_dtype)
    return idx, ptr


def from_matrix(weights, group, *, requested, ram_budget_gb, dtype, autapse):
    """Connectivity of an explicit ``W[post, pre]`` (dense ndarray or scipy.sparse)."""
    started = time.perf_counter()
    dtype = np.dtype(dtype)
    n = group.size
    n_groups = int(group.max()) + 1
    seg_start = np.append(np.searchsorted(group, np.arange(n_groups)), n).astype(np.int64)
    views = [(int(a), int(b)) for a, b in zip(seg_start[:-1], seg_start[1:])]
    if sp.issparse(weights):
        weights = _without_diagonal(weights, autapse)
        nnz = weights.nnz
    else:
        nnz = int(np.count_nonzero(weights))
        if not autapse:
            nnz -= int(np.count_nonzero(np.diagonal(weights)))
    shared = shared_blocks(weights, views, group, dtype, autapse)
    scale, _, top, contacts = shared if shared is not None else (None, None, 0, nnz)
    counts_dense = shared is not None and top <= _U8_MAX
    counts_sparse = shared is not None and top <= 1
    packed = shared is not None and top <= _NIBBLE_MAX
    itemsize = dtype.itemsize
    if packed:
        dense_bytes = n * sum((b - a + 1) // 2 for a, b in views)
    else:
        dense_bytes = n * n * (1 if counts_dense else itemsize)
    if counts_sparse:
        index_bytes = 2 if max(b - a for a, b in views) <= 65536 else 4
        sparse_bytes = nnz * index_bytes + n * (n_groups + 1) * 8
    else:
        sparse_bytes = nnz * (4 + itemsize) + n * 2 * 8
    layout = choose_layout(requested, dense_bytes, sparse_bytes, ram_budget_gb)
    use_counts = counts_dense if layout == "dense" else counts_sparse
    if use_counts:
        if layout == "dense":
            dense, packed_start = _dense_counts(weights, views, shared, autapse, packed)
            if packed:
                arrays = layouts.PackedCounts(group, seg_start, scale, dense, packed_start)
            else:
                arrays = layouts.DenseMatrix(group, seg_start, scale, dense)
        else:
            csc = weights if sp.issparse(weights) else _without_diagonal(weights, autapse)
            idx, ptr = _sparse_counts(csc, group, seg_start)
            arrays = layouts.SparseTargets(group, seg_start, scale, idx, ptr)
        return Connectivity(layout, True, arrays, contacts, time.perf_counter() - started)
    scale = np.ones((n_groups, 1), dtype=dtype)
    seg_start = np.array([0, n], dtype=np.int64)
    if layout == "dense":
        matrix = weights.toarray() if sp.issparse(weights) else weights
        dense = np.ascontiguousarray(matrix.T, dtype=dtype)
        if not autapse:
            np.fill_diagonal(dense, 0)
        arrays = layouts.DenseMatrix(group, seg_start, scale, dense)
    else:
        csc = weights if sp.issparse(weights) else _without_diagonal(weights, autapse)
        idx = csc.indices.astype(np.int32)
        ptr = np.stack([csc.indptr[:-1], csc.indptr[1:]], axis=1).astype(np.int64)
        arrays = layouts.SparseWeights(group, seg_start, scale, idx, ptr, csc.data.astype(dtype))
    return Connectivity(layout, False, arrays, nnz, time.perf_counter() - started)
