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


def test_a_level_refines_the_cells_it_crosses_first():
    """Without a level the largest change is refined first; with one, the cell whose values
    reach the level, though it changes less."""
    lattice = Lattice((np.arange(9), np.arange(2)), 4)
    chosen = np.zeros((9, 2), bool)
    chosen[[0, 4, 8]] = True  # the coarse lattice: cells [0, 4] and [4, 8] along the first axis
    values = np.full((9, 2), np.nan)
    values[0], values[4], values[8] = 0.0, 0.3, 1.5  # big change above 0.5 in [4, 8]; 0.5 not in [0, 4]

    def refined(level):
        points = choose_round(lattice, 1, chosen, values, 2, level=level)
        return sorted({int(np.unravel_index(i, (9, 2))[0]) for i in points})

    assert refined(None) == [6]  # the middle of [4, 8]
    assert refined(0.2) == [2]  # 0.2 lies in [0, 0.3]: the cell [0, 4]
    assert refined(1.0) == [6]  # 1.0 lies in [0.3, 1.5]


def test_among_crossed_cells_the_one_with_a_value_nearest_the_level_goes_first():
    """Both cells reach the level 0.5: [0, 4] steps from 0 to 1 (the larger change), [4, 8]
    goes from 1 down to 0.45, a value next to the level; with the level [4, 8] is refined first,
    without one [0, 4]."""
    lattice = Lattice((np.arange(9), np.arange(2)), 4)
    chosen = np.zeros((9, 2), bool)
    chosen[[0, 4, 8]] = True
    values = np.full((9, 2), np.nan)
    values[0], values[4], values[8] = 0.0, 1.0, 0.45

    def refined(level):
        points = choose_round(lattice, 1, chosen, values, 2, level=level)
        return sorted({int(np.unravel_index(i, (9, 2))[0]) for i in points})

    assert refined(None) == [2]
    assert refined(0.5) == [6]
