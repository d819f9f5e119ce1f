"""Hot simulation kernels (numba, ``nogil``, cached).

:func:`simulate` performs asynchronous Glauber updates and :func:`initial_field` computes
``W @ state``. Both take the connectivity as one of the layout ``NamedTuple``s of
:mod:`binnet_core.layouts`; numba compiles one specialisation per layout (and dtype), only
for the layouts a process uses, and the flip routine is the layout's own, chosen at compile
time. The neurons and the dynamic state arrive as the ``NamedTuple``s :class:`Neurons` and
:class:`State`; every neuron kind is explicit (:class:`NeuronKind`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from binnet_core._rng import bounded, low32, next_u64, to_unit
from binnet_core.layouts import apply_flip
from binnet_core.populations import NeuronKind

_THRESHOLD = int(NeuronKind.THRESHOLD)
_STOCHASTIC = int(NeuronKind.STOCHASTIC)


class Neurons(NamedTuple):
    """Static description of the neurons (populations ``p = 0 .. P - 1``)."""

    pop_of: np.ndarray  # int32 (N,) population of every neuron
    pop_start: np.ndarray  # int64 (P,) first neuron of every population
    pop_size: np.ndarray  # int64 (P,)
    alias_accept: np.ndarray  # uint64 (P,) Walker alias table of the update masses N_p / tau_p
    alias_other: np.ndarray  # int64 (P,)
    kind: np.ndarray  # int8 (P,) NeuronKind of every population
    on_probability: np.ndarray  # float64 (P,) used by STOCHASTIC populations
    thresholds: np.ndarray  # (N,) of the weight dtype, used by THRESHOLD populations


class State(NamedTuple):
    """Dynamic state, updated in place by :func:`simulate`."""

    state: np.ndarray  # int8 (N,) binary states
    field: np.ndarray  # (N,) cached input field W @ state
    rng_state: np.ndarray  # uint64 (1,) splitmix64 state of the update order
    pop_active: np.ndarray  # int64 (P,) active neurons per population
    pop_up: np.ndarray  # int64 (P,) cumulative 0 -> 1 flips per population


@njit(cache=True, nogil=True)
def simulate(steps, sequence, neurons, dyn, arrays, log_ids, log_deltas, log_pos):
    """Perform asynchronous updates in place.

    Parameters
    ----------
    steps : int
        Number of updates drawn from the random stream (ignored when ``sequence`` is
        non-empty).
    sequence : int64 array
        Explicit neurons to update in order; empty for random updates.
    neurons : Neurons
    dyn : State
        Advanced in place.
    arrays : a layout of ``binnet_core.layouts``
        The connectivity.
    log_ids, log_deltas : int32 / int8 arrays
        Diff-log buffers; written from ``log_pos`` when non-empty.
    log_pos : int
        Next free diff-log slot.

    Returns
    -------
    int
        The new diff-log position.
    """
    state, field, rng_state = dyn.state, dyn.field, dyn.rng_state
    pop_active, pop_up = dyn.pop_active, dyn.pop_up
    pop_of, pop_start, pop_size = neurons.pop_of, neurons.pop_start, neurons.pop_size
    alias_accept, alias_other = neurons.alias_accept, neurons.alias_other
    kind, on_probability, thresholds = neurons.kind, neurons.on_probability, neurons.thresholds
    n_pop = pop_start.size
    logging = log_ids.size > 0
    explicit = sequence.size > 0
    n = sequence.size if explicit else steps
    for step in range(n):
        if explicit:
            neuron = sequence[step]
            pop = pop_of[neuron]
        else:
            x = next_u64(rng_state)
            col = bounded(x, n_pop)
            pop = col if low32(x) < alias_accept[col] else alias_other[col]
            neuron = pop_start[pop] + bounded(next_u64(rng_state), pop_size[pop])
        k = kind[pop]
        if k == _THRESHOLD:
            new = 1 if field[neuron] > thresholds[neuron] else 0
        elif k == _STOCHASTIC:
            new = 1 if to_unit(next_u64(rng_state)) < on_probability[pop] else 0
        else:  # CLAMPED
            new = state[neuron]
        delta = new - state[neuron]
        if delta != 0:
            state[neuron] = new
            pop_active[pop] += delta
            if delta > 0:
                pop_up[pop] += 1
            apply_flip(arrays, neuron, delta > 0, field)
        if logging:
            log_ids[log_pos] = neuron
            log_deltas[log_pos] = delta
            log_pos += 1
    return log_pos


@njit(cache=True, nogil=True)
def initial_field(field, state, arrays):
    """Set ``field = W @ state`` by pushing every active neuron (the flip rule from zero)."""
    field[:] = 0
    for pre in range(state.size):
        if state[pre]:
            apply_flip(arrays, pre, True, field)


class BoundSimulation:
    """:func:`simulate` bound to one network's neurons, state and connectivity.

    numba types every argument of every call, and NamedTuples in Python: about 6 us for
    these three, the time of ~150 updates, paid again on every recorder sample. The first
    call goes through the dispatcher (which compiles or loads the specialisation); later
    calls enter that specialisation directly. That is exact because the bound tuples are
    immutable and the other arguments always have the same types (an int, an int64
    sequence, int32 and int8 log buffers and an int), all made by the network.
    """

    def __init__(self, neurons: Neurons, dyn: State, arrays):
        self.neurons, self.dyn, self.arrays = neurons, dyn, arrays
        self._entry = None

    def __reduce__(self):  # copies and pickles resolve the specialisation again
        return BoundSimulation, (self.neurons, self.dyn, self.arrays)

    def __call__(self, steps, sequence, log_ids, log_deltas, log_pos):
        args = (steps, sequence, self.neurons, self.dyn, self.arrays, log_ids, log_deltas,
                log_pos)
        if self._entry is not None:
            return self._entry(*args)
        position = simulate(*args)
        compiled = simulate.overloads.get(tuple(simulate.typeof_pyval(a) for a in args))
        self._entry = simulate if compiled is None else compiled.entry_point  # None: numba changed
        return position
