"""Every registered connectivity layout against the slow NumPy reference ``tests.reference.naive``.

Each case hands the engine an explicit ``W[post, pre]`` whose content selects one layout of
``binnet_core.layouts.REGISTRY``; weights and thresholds lie on a grid of 1/4, so the fields
are exact in float32 and ties ``h == theta`` occur. A new layout must get a case here.
"""

from __future__ import annotations

import numpy as np
import pytest

from binnet_core import BinaryNetwork, BinaryNeuronPopulation
from binnet_core.layouts import REGISTRY, DenseMatrix, PackedCounts, SparseTargets, SparseWeights
from tests.reference import naive

SIZES = (23, 9, 1)  # odd sizes: a half-filled last byte of 4-bit counts; a single neuron


def _counts(rng, n, top):
    """Random contact counts in ``0..top`` with about half the pairs empty."""
    counts = rng.integers(1, top + 1, size=(n, n)) * (rng.random((n, n)) < 0.5)
    np.fill_diagonal(counts, 0)
    return counts


def _block_weights(n):
    """One weight per (post population, pre population) block, of either sign."""
    block = np.array([[0.25, -0.5, 0.75], [0.5, -0.25, 0.25], [0.25, -0.75, 0.5]])
    group = np.repeat(np.arange(len(SIZES)), SIZES)
    return block[group][:, group]


def shared(top, crowded=False):
    """Counts up to ``top`` times the block weights; ``crowded``: one pair with 16 contacts."""
    def make(rng, n):
        counts = _counts(rng, n, top)
        if crowded:
            counts[0, 5] = 16  # beyond 4-bit counts
        return counts * _block_weights(n)
    return make


def floats(rng, n):
    """Entries of both signs in every block: no common weight, per-contact floats."""
    values = rng.choice([-0.75, -0.25, 0.25, 0.5], size=(n, n))
    return values * (_counts(rng, n, 1) > 0)


CASES = {
    "4-bit counts": (shared(3), "dense", PackedCounts),
    "8-bit counts": (shared(3, crowded=True), "dense", DenseMatrix),
    "dense floats": (floats, "dense", DenseMatrix),
    "sparse targets": (shared(1), "sparse", SparseTargets),
    "sparse floats": (floats, "sparse", SparseWeights),
}


def test_every_registered_layout_has_a_case():
    assert {layout for _, _, layout in CASES.values()} == set(REGISTRY)


def _network(weights, mode, seed):
    net = BinaryNetwork("layouts")
    for k, n in enumerate(SIZES):
        net.add_population(BinaryNeuronPopulation(net, N=n, threshold=0.25 * (k - 1),
                                                  initializer=0.5))
    net.initialize(weights=weights, weight_mode=mode, seed=seed)
    return net


@pytest.mark.parametrize("case", list(CASES))
def test_layout_field_and_updates_match_the_reference(case):
    make, mode, layout = CASES[case]
    rng = np.random.default_rng(list(CASES).index(case))
    n = sum(SIZES)
    weights = make(rng, n)
    net = _network(weights, mode, seed=3)
    assert type(net.connectivity.arrays) is layout
    np.testing.assert_array_equal(net.weight_matrix().toarray(), weights)
    flips = 0
    for _ in range(10):  # restarts from random states: many flips in both directions
        net.reset(state=rng.integers(0, 2, size=n), seed=1)
        initial = net.state.copy()
        np.testing.assert_array_equal(net.field, weights @ initial)
        neurons = rng.integers(0, n, size=300)
        net.update_sequence(neurons)
        states, field = naive.update_sequence(weights, initial, net.thresholds, neurons)
        np.testing.assert_array_equal(net.state, states[-1])
        np.testing.assert_array_equal(net.field, field)
        flips += np.count_nonzero(np.diff(np.vstack([initial, states]), axis=0))
    assert flips > 100
