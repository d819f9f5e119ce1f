"""How much two threads of this machine can gain, on two kinds of work.

``vector``: an L1-resident vectorised multiply-add loop, the instruction mix of a dense flip.
``scalar``: a chain of dependent integer operations, the kind of work an update does.
Two vCPUs that are separate cores double both; two hyper-threads of one core share its
vector units, so the vector loop barely gains. The engine benchmark prints both next to
its own two-thread figure, measured in the same run.
"""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np
from numba import njit


@njit(nogil=True)
def _vector(field, row, repeats):
    for r in range(repeats):
        w = np.float32(1e-7) * np.float32(r & 1)
        for t in range(field.size):
            field[t] += w * row[t]


@njit(nogil=True)
def _scalar(seed, repeats):
    x = np.uint64(seed)
    for _ in range(repeats):
        x = x * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)
        x ^= x >> np.uint64(29)
    return x


def _gain(work, args, repeats):
    """Median (one thread, both jobs) / (two threads, one job each)."""
    work(*args[0])
    ratios = []
    for _ in range(repeats):
        started = time.perf_counter()
        for a in args:
            work(*a)
        serial = time.perf_counter() - started
        threads = [threading.Thread(target=work, args=a) for a in args]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ratios.append(serial / (time.perf_counter() - started))
    return statistics.median(ratios)


def two_thread_gains(repeats=5):
    """``{"vector": x, "scalar": y}``: throughput of two threads over one, medians."""
    vector_args = [(np.zeros(4000, np.float32), np.ones(4000, np.uint8), 50_000) for _ in range(2)]
    scalar_args = [(seed, 100_000_000) for seed in (1, 2)]
    return {"vector": _gain(_vector, vector_args, repeats),
            "scalar": _gain(_scalar, scalar_args, repeats)}
