"""Chunk layout of a store: whole grid points per chunk, by class of variable."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: automatic layout: a chunk of a data variable holds about this many bytes (uncompressed) ...
_TARGET_CHUNK_BYTES = 4 * 2**20
#: ... and at most this many points (scalars: 512 kB of float64 per chunk)
_MAX_POINTS_PER_CHUNK = 2**16
#: points per chunk of ``status`` and ``error`` (one int8 chunk of 1 MiB: ``sweeps status``
#: reads one file for a million points)
_STATUS_POINTS_PER_CHUNK = 2**20


def _point_bytes(spec, inner: dict[str, int]) -> int:
    return math.prod(inner[d] for d in spec.dims) * np.dtype(spec.dtype).itemsize


def _points_for(point_bytes: int) -> int:
    return int(max(1, min(_MAX_POINTS_PER_CHUNK, _TARGET_CHUNK_BYTES // max(point_bytes, 1))))


def _divisor_at_most(n: int, room: int) -> int:
    """The largest divisor of ``n`` that is <= ``room``, if it is at least ``room / 2``; else ``room``."""
    best = max((d for d in range(1, min(n, room) + 1) if n % d == 0), default=1)
    return best if 2 * best >= room else room


def point_chunks(shape: Sequence[int], per_chunk: int, divide: bool = False) -> tuple[int, ...]:
    """Chunk shape over the point dims holding at most ``per_chunk`` consecutive points.

    Trailing dimensions are taken whole while they fit, the next one partially, the leading
    ones with length 1; every chunk is therefore a contiguous range of point indices.  With
    ``divide``, the partial length is a divisor of the axis when one is at least half the
    room (chunks then tile the axis: no ragged last chunk).
    """
    chunks = [1] * len(shape)
    room = per_chunk
    for axis in reversed(range(len(shape))):
        take = min(shape[axis], room)
        if take < shape[axis]:
            chunks[axis] = max(_divisor_at_most(shape[axis], take) if divide else take, 1)
            break
        chunks[axis] = max(take, 1)
        room //= max(shape[axis], 1)
    return tuple(chunks)


@dataclass(frozen=True)
class ChunkLayout:
    """Point chunks of every array of a store (one class of variable, one chunk size).

    * ``status`` and ``error``: :data:`_STATUS_POINTS_PER_CHUNK` points per chunk;
    * data variables: about 4 MiB per chunk, at most :data:`_MAX_POINTS_PER_CHUNK` points
      (scalars in large blocks, traces in smaller blocks of whole points);
    * with ``output.points_per_chunk`` set, every array uses that many points per chunk.
    """

    status: tuple[int, ...]
    variables: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, experiment, specs, inner: dict[str, int]) -> ChunkLayout:
        shape, fixed = experiment.shape, experiment.output.points_per_chunk
        if fixed:
            chunks = point_chunks(shape, fixed)
            return cls(chunks, {s.name: chunks for s in specs})
        return cls(point_chunks(shape, _STATUS_POINTS_PER_CHUNK, divide=True),
                   {s.name: point_chunks(shape, _points_for(_point_bytes(s, inner)), divide=True) for s in specs})
