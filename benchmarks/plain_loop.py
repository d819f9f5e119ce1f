"""The plain reference loop the engine is compared with (one numba loop over the whole run).

A straightforward whole-run numba loop: NumPy's generator inside numba picks each update,
the weights are a float32 CSC matrix with int32 indices (8 bytes per synapse), and every
flip adds its column to the field. Kept only as a yardstick for the benchmarks.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True)
def _plain_run(steps, seed, state, field, thresholds, cdf, starts, sizes, data, indices, indptr):
    np.random.seed(seed)
    flips = 0
    for _ in range(steps):
        pop = np.searchsorted(cdf, np.random.random(), side="right")
        neuron = starts[pop] + np.random.randint(sizes[pop])
        new = 1 if field[neuron] > thresholds[neuron] else 0
        delta = new - state[neuron]
        if delta != 0:
            flips += 1
            state[neuron] = new
            for k in range(indptr[neuron], indptr[neuron + 1]):
                field[indices[k]] += delta * data[k]
    return flips


class PlainLoop:
    """Run a network's weights and thresholds through the plain loop."""

    def __init__(self, network):
        csc = network.weight_matrix().tocsc()
        self.data = csc.data.astype(np.float32)
        self.indices = csc.indices.astype(np.int32)
        self.indptr = csc.indptr.astype(np.int64)
        self.state = network.state.copy()
        self.field = network.field.astype(np.float32)
        self.thresholds = network.thresholds.astype(np.float32)
        sizes = np.array([p.N for p in network.populations], dtype=np.int64)
        mass = sizes / np.array([p.tau for p in network.populations])
        self.cdf = np.cumsum(mass / mass.sum())
        self.cdf[-1] = 1.0
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.sizes = sizes

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + self.indices.nbytes + self.indptr.nbytes

    def run(self, steps, seed=0) -> int:
        """Advance ``steps`` updates; return the number of flips."""
        return _plain_run(steps, seed, self.state, self.field, self.thresholds, self.cdf,
                          self.starts, self.sizes, self.data, self.indices, self.indptr)
