"""Connectivity layouts: the kernel-form arrays of each and its flip routine, in one registry.

Weights are kept pre-major (the targets of one neuron are contiguous) because a flip of
neuron ``pre`` reads exactly the targets of ``pre``. The post neurons are cut into
*segments* (the post populations when weights are shared per population block, else a
single segment); every layout holds

``group``     int32 (N,), the weight group (population) of every pre neuron;
``seg_start`` int64 (S + 1,), the first post neuron of every segment, then N;
``scale``     (G, S) of the weight dtype, the weight of one stored unit from group ``g``
              onto segment ``s`` (0: the block is empty and skipped).

and its own storage of the stored units (see each class). A flip of ``pre`` changes the
field of every post neuron ``t`` of segment ``s`` by ``+-scale[group[pre], s] * unit``.

Each layout is a ``NamedTuple`` of arrays: numba compiles one specialisation of a kernel per
layout class, and :func:`apply_flip` picks the class's ``add_segment`` (and ``prefetch``) at
compile time, so no layout test runs in the hot loop. Adding a layout means adding a class
here and to :data:`REGISTRY` (and a case to ``tests/engine/test_layouts.py``).
"""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import overload

from binnet_core import _build_kernels as bk
from binnet_core._prefetch import prefetch_row


def _segment_of(seg_start, post):
    """Segment of every post neuron index in ``post``."""
    return np.searchsorted(seg_start, post, side="right") - 1


class PackedCounts(NamedTuple):
    """Shared weights as 4-bit contact counts, two per byte (dense, half a byte per pair).

    For segment ``s`` of ``m`` neurons and ``h = ceil(m / 2)``, byte ``packed_start[s] + k``
    of row ``pre`` of ``counts`` holds the count onto post neuron ``k`` of the segment in its
    low nibble and onto ``k + h`` in its high nibble: two contiguous vectorised sweeps.
    """

    group: np.ndarray
    seg_start: np.ndarray
    scale: np.ndarray
    counts: np.ndarray  # uint8 (N, packed_start[-1])
    packed_start: np.ndarray  # int64 (S + 1,)

    @staticmethod
    def prefetch(arrays, pre):
        prefetch_row(arrays.counts, pre)  # all of the row's cache lines in flight at once

    @staticmethod
    def add_segment(arrays, field, pre, s, lo, hi, w):
        """``field[lo:hi] += w * counts``; unsigned indices and no slices: no wrap-around
        checks and no reference counting in the loops, which LLVM vectorises."""
        half = np.uint64((hi - lo + 1) // 2)
        lo = np.uint64(lo)
        hi = np.uint64(hi)
        start = np.uint64(arrays.packed_start[s])
        counts = arrays.counts
        for t in range(half):
            field[lo + t] += w * np.float32(np.uint8(counts[pre, start + t]) & np.uint8(15))
        mid = lo + half
        for t in range(hi - mid):
            field[mid + t] += w * np.float32(np.uint8(counts[pre, start + t]) >> np.uint8(4))

    def byte_counts(self) -> np.ndarray:
        """The counts unpacked to one ``uint8`` per (pre, post) pair."""
        n = self.group.size
        out = np.empty((n, n), dtype=np.uint8)
        for s, (lo, hi) in enumerate(zip(self.seg_start[:-1], self.seg_start[1:])):
            half = (hi - lo + 1) // 2
            block = self.counts[:, self.packed_start[s]:self.packed_start[s] + half]
            out[:, lo:lo + half] = block & 15
            out[:, lo + half:hi] = (block >> 4)[:, :hi - lo - half]
        return out

    def entries(self):
        """``(pre, post, units)`` of every stored non-zero entry."""
        return DenseMatrix(self.group, self.seg_start, self.scale, self.byte_counts()).entries()

    def connected_pairs(self) -> int:
        return int(bk.nonzero_nibbles(self.counts))


class DenseMatrix(NamedTuple):
    """``matrix[pre, post]``: ``uint8`` contact counts (shared weights) or float weights."""

    group: np.ndarray
    seg_start: np.ndarray
    scale: np.ndarray
    matrix: np.ndarray  # (N, N)

    @staticmethod
    def prefetch(arrays, pre):
        prefetch_row(arrays.matrix, pre)

    @staticmethod
    def add_segment(arrays, field, pre, s, lo, hi, w):
        """``field[lo:hi] += w * matrix[pre, lo:hi]`` (indices as in :class:`PackedCounts`)."""
        lo = np.uint64(lo)
        matrix = arrays.matrix
        for t in range(np.uint64(hi) - lo):
            field[lo + t] += w * matrix[pre, lo + t]

    def entries(self):
        pre, post = np.nonzero(self.matrix)
        return pre, post, self.matrix[pre, post].astype(np.float64)

    def connected_pairs(self) -> int:
        return int(np.count_nonzero(self.matrix))


def _sparse_entries(a):
    runs = np.diff(a.ptr, axis=1)
    n, n_seg = runs.shape
    pre = np.repeat(np.repeat(np.arange(n), n_seg), runs.ravel())
    seg = np.repeat(np.tile(np.arange(n_seg), n), runs.ravel())
    return pre, a.seg_start[seg] + a.idx.astype(np.int64)


class SparseTargets(NamedTuple):
    """Shared weights as target lists: for each ``pre`` and segment ``s`` the targets
    ``seg_start[s] + idx[k]`` for ``k in ptr[pre, s] .. ptr[pre, s + 1]``, one entry per
    contact (``uint16`` indices when every segment has <= 65,536 neurons, else ``int32``)."""

    group: np.ndarray
    seg_start: np.ndarray
    scale: np.ndarray
    idx: np.ndarray
    ptr: np.ndarray  # int64 (N, S + 1)

    @staticmethod
    def prefetch(arrays, pre):
        pass

    @staticmethod
    def add_segment(arrays, field, pre, s, lo, hi, w):
        base = np.uint64(lo)
        idx = arrays.idx
        for k in range(arrays.ptr[pre, s], arrays.ptr[pre, s + 1]):
            field[base + np.uint64(idx[k])] += w

    def entries(self):
        pre, post = _sparse_entries(self)
        return pre, post, np.ones(post.size)

    def connected_pairs(self) -> int:
        return int(bk.distinct_targets(self.idx, self.ptr))


class SparseWeights(NamedTuple):
    """Target lists as :class:`SparseTargets` plus a float weight ``vals[k]`` per contact."""

    group: np.ndarray
    seg_start: np.ndarray
    scale: np.ndarray
    idx: np.ndarray
    ptr: np.ndarray
    vals: np.ndarray

    @staticmethod
    def prefetch(arrays, pre):
        pass

    @staticmethod
    def add_segment(arrays, field, pre, s, lo, hi, w):
        base = np.uint64(lo)
        idx = arrays.idx
        vals = arrays.vals
        for k in range(arrays.ptr[pre, s], arrays.ptr[pre, s + 1]):
            field[base + np.uint64(idx[k])] += w * vals[k]

    def entries(self):
        pre, post = _sparse_entries(self)
        return pre, post, self.vals.astype(np.float64)

    def connected_pairs(self) -> int:
        return int(bk.distinct_targets(self.idx, self.ptr))


#: Every layout the kernels accept.
REGISTRY = (PackedCounts, DenseMatrix, SparseTargets, SparseWeights)
#: The type of a connectivity in kernel form: one of :data:`REGISTRY`.
Layout = functools.reduce(operator.or_, REGISTRY)


def _routine(arrays, name):
    """The layout class's routine ``name`` for the numba type of ``arrays``."""
    if isinstance(arrays, types.BaseNamedTuple) and arrays.instance_class in REGISTRY:
        return getattr(arrays.instance_class, name)
    return None


def _prefetch(arrays, pre):
    """Prefetch the storage a flip of ``pre`` reads (compiled per layout)."""
    raise NotImplementedError("only callable from numba kernels")


def _add_segment(arrays, field, pre, s, lo, hi, w):
    """Add ``w`` times the units of ``pre`` onto segment ``s`` (compiled per layout)."""
    raise NotImplementedError("only callable from numba kernels")


@overload(_prefetch, inline="always")
def _prefetch_for_layout(arrays, pre):
    return _routine(arrays, "prefetch")


@overload(_add_segment, inline="always")
def _add_segment_for_layout(arrays, field, pre, s, lo, hi, w):
    return _routine(arrays, "add_segment")


@njit(inline="always")
def apply_flip(arrays, pre, positive, field):
    """Add (``positive``) or remove the input of neuron ``pre`` to/from ``field``."""
    _prefetch(arrays, pre)
    g = arrays.group[pre]
    seg_start = arrays.seg_start
    for s in range(seg_start.size - 1):
        w = arrays.scale[g, s]
        if w == 0:
            continue
        if not positive:
            w = -w
        _add_segment(arrays, field, pre, s, seg_start[s], seg_start[s + 1], w)


def entries(arrays):
    """``(pre, post, weight)`` (float64) of every stored entry; a pair may appear twice."""
    pre, post, units = arrays.entries()
    seg = _segment_of(arrays.seg_start, post)
    return pre, post, units * arrays.scale[arrays.group[pre], seg].astype(np.float64)


def nbytes(arrays) -> int:
    """Bytes held by the arrays of a layout."""
    return int(sum(a.nbytes for a in arrays))
