"""Recorders: plain objects passed to ``BinaryNetwork.run(recorders=[...])``.

A recorder has an ``interval`` in update steps and a ``record(network)`` method that the
network calls after every ``interval`` updates of a run (counted from the start of that run).
Sample times are kept as ``network.sim_steps`` (``times``); convert with
``network.steps_to_ms``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from binnet_core.validation import check_positive_int

__all__ = ["PopulationActivityRecorder", "NeuronRecorder", "MeanStateRecorder", "MomentRecorder"]


class Recorder:
    """Base class: sample every ``interval`` update steps."""

    def __init__(self, interval):
        self.interval = check_positive_int("interval", interval)
        self._times: list[int] = []

    @property
    def times(self) -> np.ndarray:
        """Sample times in update steps (int64)."""
        return np.asarray(self._times, dtype=np.int64)

    def record(self, network) -> None:
        self._times.append(network.sim_steps)
        self._sample(network)

    def _sample(self, network) -> None:
        raise NotImplementedError


class PopulationActivityRecorder(Recorder):
    """Fraction of active neurons of every population at each sample (``values``: T x P)."""

    def __init__(self, interval):
        super().__init__(interval)
        self._values: list[np.ndarray] = []

    def _sample(self, network):
        self._values.append(network.population_activity())

    @property
    def values(self) -> np.ndarray:
        if not self._values:
            return np.zeros((0, 0), dtype=np.float64)
        return np.asarray(self._values, dtype=np.float64)


class NeuronRecorder(Recorder):
    """States and input fields of selected neurons at each sample (``state``, ``field``: T x K).

    Both arrays keep the network's dtypes (``int8`` states; fields in the weight dtype,
    ``float32`` by default; ``int8`` and ``float32`` before the first sample): no float64 copy
    of T x K values is made.
    """

    def __init__(self, neurons, interval):
        super().__init__(interval)
        self.neurons = np.asarray(neurons, dtype=np.int64)
        if self.neurons.ndim != 1:
            raise ValueError("neurons must be a 1-D sequence of neuron ids")
        self._state: list[np.ndarray] = []
        self._field: list[np.ndarray] = []

    def _sample(self, network):
        self._state.append(network.state[self.neurons])
        self._field.append(network.field[self.neurons])

    def _stacked(self, samples: list[np.ndarray], empty_dtype) -> np.ndarray:
        if not samples:
            return np.zeros((0, self.neurons.size), empty_dtype)
        return np.stack(samples)

    @property
    def state(self) -> np.ndarray:
        return self._stacked(self._state, np.int8)

    @property
    def field(self) -> np.ndarray:
        return self._stacked(self._field, np.float32)


class MeanStateRecorder(Recorder):
    """Time-averaged state of every neuron over the samples (``mean``: N), O(N) memory."""

    def __init__(self, interval):
        super().__init__(interval)
        self._sum = None

    def _sample(self, network):
        if self._sum is None:
            self._sum = np.zeros(network.N, dtype=np.int64)
        self._sum += network.state

    @property
    def mean(self) -> np.ndarray:
        if self._sum is None:
            return np.zeros(0)
        return self._sum / len(self._times)


@njit(nogil=True, cache=True)
def _accumulate_moments(state, field, shift, state_sum, field_sum, field_sq):
    """Add one sample: ``state_sum += s``, ``field_sum += h - shift``, ``field_sq += (h - shift)^2``."""
    for i in range(state.size):
        state_sum[i] += state[i]
        d = field[i] - shift[i]
        field_sum[i] += d
        field_sq[i] += d * d


class MomentRecorder(Recorder):
    """Time mean of every neuron's state, time mean and variance of every input field.

    Running sums only (memory O(N), whatever the number of samples). The field sums are
    taken about each neuron's first sample, so the variance keeps its precision when the mean
    is large against the fluctuations.

    Attributes (after at least one sample)
    ----------
    state_mean : ndarray of float64, shape (N,)
        ``mean_t s_i(t)``.
    field_mean, field_variance : ndarray of float64, shape (N,)
        ``mean_t h_i(t)`` and ``mean_t (h_i(t) - mean_t h_i)^2`` (population variance over
        the samples).
    """

    def __init__(self, interval):
        super().__init__(interval)
        self._sums = None

    def _sample(self, network):
        if self._sums is None:
            n = network.N
            self._shift = np.array(network.field, dtype=np.float64)
            self._sums = (np.zeros(n, np.int64), np.zeros(n), np.zeros(n))
        _accumulate_moments(network.state, network.field, self._shift, *self._sums)

    def _require_samples(self):
        if self._sums is None:
            raise RuntimeError("MomentRecorder: no sample recorded yet")
        return len(self._times)

    @property
    def state_mean(self) -> np.ndarray:
        return self._sums[0] / self._require_samples()

    @property
    def field_mean(self) -> np.ndarray:
        return self._shift + self._sums[1] / self._require_samples()

    @property
    def field_variance(self) -> np.ndarray:
        n = self._require_samples()
        mean = self._sums[1] / n
        return np.maximum(self._sums[2] / n - mean * mean, 0.0)
