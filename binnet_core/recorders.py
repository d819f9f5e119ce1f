"""Recorders: plain objects passed to ``BinaryNetwork.run(recorders=[...])``.

A recorder has an ``interval`` in update steps and a ``record(network)`` method that the
network calls after every ``interval`` updates of a run (counted from the start of that run).
Sample times are kept as ``network.sim_steps`` (``times``); convert with
``network.steps_to_ms``.
"""

from __future__ import annotations

import numpy as np

from binnet_core.validation import check_positive_int

__all__ = ["PopulationActivityRecorder", "NeuronRecorder", "MeanStateRecorder"]


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
    """States and input fields of selected neurons at each sample (``state``, ``field``: T x K)."""

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

    @property
    def state(self) -> np.ndarray:
        return np.asarray(self._state, dtype=np.int8).reshape(len(self._state), self.neurons.size)

    @property
    def field(self) -> np.ndarray:
        return np.asarray(self._field, dtype=np.float64).reshape(len(self._field), self.neurons.size)


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
