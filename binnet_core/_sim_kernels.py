"""Hot simulation kernels (numba, ``nogil``, cached).

One kernel, :func:`simulate`, performs asynchronous Glauber updates. It takes only arrays
and scalars. The connectivity arrives in one of three pre-major layouts (see
``binnet_core.connectivity``):

``packed`` shared weights stored as 4-bit contact counts, two per byte: for segment ``s``
           of ``m`` neurons and ``h = ceil(m / 2)``, byte ``packed_start[s] + k`` of row
           ``pre`` holds the count onto post neuron ``k`` in its low nibble and onto
           ``k + h`` in its high nibble. A flip adds ``delta * scale[group[pre], s]`` times
           each count: half the bytes of ``dense``, two contiguous vectorised sweeps.
``dense``  ``dense[pre, post]`` holds a contact count (``uint8``) or a float weight; the
           field change of a flip is ``delta * scale[group[pre], seg] * dense[pre, t]`` for
           every post neuron ``t`` of segment ``seg``: contiguous reads, vectorised.
``sparse`` for each ``pre`` and segment ``seg`` the targets ``seg_start[seg] + idx[k]`` for
           ``k in ptr[pre, seg] .. ptr[pre, seg + 1]``; each contact adds
           ``delta * scale[group[pre], seg]`` (times ``vals[k]`` when per-contact float
           weights are given).

``packed`` and ``dense`` share the array ``dense``; ``packed_start`` is empty unless the
counts are packed. Segments are the post populations when weights are shared per population
block (only a count or an index per contact is stored), or a single segment for general
weight matrices.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from binnet_core._prefetch import prefetch_row
from binnet_core._rng import bounded, low32, next_u64, to_unit


@njit(inline="always")
def _add_packed_row(field, lo, hi, dense, pre, start, w):
    """``field[lo:hi] += w * counts`` from the 4-bit counts at ``dense[pre, start:]``.

    Unsigned indices and no slices: no wrap-around checks and no reference counting in the
    loops, which LLVM vectorises; the narrow casts keep them in 8- and 32-bit lanes.
    """
    half = np.uint64((hi - lo + 1) // 2)
    lo = np.uint64(lo)
    hi = np.uint64(hi)
    start = np.uint64(start)
    for t in range(half):
        field[lo + t] += w * np.float32(np.uint8(dense[pre, start + t]) & np.uint8(15))
    mid = lo + half
    for t in range(hi - mid):
        field[mid + t] += w * np.float32(np.uint8(dense[pre, start + t]) >> np.uint8(4))


@njit(inline="always")
def _add_row(field, lo, hi, dense, pre, w):
    """``field[lo:hi] += w * dense[pre, lo:hi]`` (indices as in :func:`_add_packed_row`)."""
    lo = np.uint64(lo)
    for t in range(np.uint64(hi) - lo):
        field[lo + t] += w * dense[pre, lo + t]


@njit(inline="always")
def _apply_flip(pre, positive, field, group, seg_start, scale, dense, packed_start, idx, ptr,
                vals):
    if dense.shape[0] > 0:  # all of the row's cache lines in flight at once
        prefetch_row(dense, pre)
    g = group[pre]
    for s in range(seg_start.size - 1):
        w = scale[g, s]
        if w == 0:
            continue
        if not positive:
            w = -w
        lo = seg_start[s]
        hi = seg_start[s + 1]
        if packed_start.size > 0:
            _add_packed_row(field, lo, hi, dense, pre, packed_start[s], w)
        elif dense.shape[0] > 0:
            _add_row(field, lo, hi, dense, pre, w)
        elif vals.size == 0:
            base = np.uint64(lo)
            for k in range(ptr[pre, s], ptr[pre, s + 1]):
                field[base + np.uint64(idx[k])] += w
        else:
            base = np.uint64(lo)
            for k in range(ptr[pre, s], ptr[pre, s + 1]):
                field[base + np.uint64(idx[k])] += w * vals[k]


@njit(cache=True, nogil=True)
def simulate(
    steps,
    sequence,
    rng_state,
    state,
    field,
    thresholds,
    pop_of,
    pop_start,
    pop_size,
    alias_accept,
    alias_other,
    on_probability,
    pop_active,
    pop_up,
    group,
    seg_start,
    scale,
    dense,
    packed_start,
    idx,
    ptr,
    vals,
    log_ids,
    log_deltas,
    log_pos,
):
    """Perform asynchronous updates in place.

    Parameters
    ----------
    steps : int
        Number of updates drawn from the random stream (ignored when ``sequence`` is
        non-empty).
    sequence : int64 array
        Explicit neurons to update in order; empty for random updates.
    rng_state : uint64 array (1,)
        splitmix64 state, advanced in place.
    state, field, thresholds : arrays (N,)
        Binary states (int8), cached input field and thresholds.
    pop_of : int32 array (N,)
        Population index of every neuron.
    pop_start, pop_size : int64 arrays (P,)
        Population slices.
    alias_accept, alias_other : uint64 / int64 arrays (P,)
        Walker alias table of population update masses ``N_pop / tau_pop``.
    on_probability : float64 array (P,)
        For stochastic populations the probability of being on after an update; negative
        for threshold units.
    pop_active, pop_up : int64 arrays (P,)
        Active-neuron counts and cumulative 0->1 flips per population, updated in place.
    group, seg_start, scale, dense, packed_start, idx, ptr, vals
        Connectivity (see module docstring).
    log_ids, log_deltas : int32 / int8 arrays
        Diff-log buffers; written from ``log_pos`` when non-empty.
    log_pos : int
        Next free diff-log slot.

    Returns
    -------
    int
        The new diff-log position.
    """
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
        p_on = on_probability[pop]
        if p_on >= 0.0:
            new = 1 if to_unit(next_u64(rng_state)) < p_on else 0
        else:
            new = 1 if field[neuron] > thresholds[neuron] else 0
        delta = new - state[neuron]
        if delta != 0:
            state[neuron] = new
            pop_active[pop] += delta
            if delta > 0:
                pop_up[pop] += 1
            _apply_flip(neuron, delta > 0, field, group, seg_start, scale, dense, packed_start, idx,
                        ptr, vals)
        if logging:
            log_ids[log_pos] = neuron
            log_deltas[log_pos] = delta
            log_pos += 1
    return log_pos
