"""The learner: a round chosen with a smaller limit is a prefix of the round with a larger one
(what makes a larger budget resume exactly), and rounds never repeat a point."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeps.adaptive import Lattice, choose_round


def _history(shape, spacing, seed, rounds, batch):
    """Run ``rounds`` rounds on random data; the chosen mask and the values."""
    rng = np.random.default_rng(seed)
    truth = rng.random(shape) * (rng.random(shape) < 0.3)  # sparse bumps: unequal losses
    lattice = Lattice(tuple(np.arange(n) for n in shape), spacing)
    chosen = np.zeros(shape, bool)
    for number in range(rounds):
        points = choose_round(lattice, number, chosen, np.where(chosen, truth, np.nan), batch)
        assert not chosen.ravel()[points].any()  # never a point twice
        chosen.ravel()[points] = True
    return lattice, chosen, np.where(chosen, truth, np.nan)


@settings(max_examples=30, deadline=None)
@given(nx=st.integers(3, 12), ny=st.integers(1, 12), spacing=st.integers(1, 5), seed=st.integers(0, 10**6),
       rounds=st.integers(1, 4), small=st.integers(0, 30), extra=st.integers(1, 30))
def test_a_round_with_a_smaller_limit_is_a_prefix_of_the_larger(nx, ny, spacing, seed, rounds, small, extra):
    lattice, chosen, values = _history((nx, ny), spacing, seed, rounds, 10)
    short = choose_round(lattice, rounds, chosen, values, small)
    long = choose_round(lattice, rounds, chosen, values, small + extra)
    assert len(short) <= small
    np.testing.assert_array_equal(long[: len(short)], short)
