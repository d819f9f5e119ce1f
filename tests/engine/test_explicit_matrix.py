"""Explicit weight matrices (``initialize(weights=W)``): layout choice and exact count layouts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from binnet_core import (
    BinaryNetwork,
    BinaryNeuronPopulation,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
    explicit,
)
from binnet_core.layouts import DenseMatrix, PackedCounts, SparseTargets


def _network(sizes, thresholds=None):
    net = BinaryNetwork("explicit")
    for k, n in enumerate(sizes):
        threshold = 0.0 if thresholds is None else thresholds[k]
        net.add_population(BinaryNeuronPopulation(net, N=n, threshold=threshold, initializer=0.5))
    return net


def _mostly_zeros(n, per_column, seed=0):
    rng = np.random.default_rng(seed)
    w = np.zeros((n, n))
    for pre in range(n):
        w[rng.choice(n, per_column, replace=False), pre] = rng.normal(0.0, 1.0, per_column)
    np.fill_diagonal(w, 0.0)
    return w


@pytest.mark.parametrize("as_sparse", [False, True])
def test_auto_falls_back_to_sparse_for_a_mostly_zero_matrix_over_the_budget(as_sparse):
    n = 2000
    w = _mostly_zeros(n, 5)
    dense_bytes = n * n * 4
    budget_gb = dense_bytes / 2 / 0.6 / 2**30  # dense needs twice what the budget allows
    net = _network([n])
    net.initialize(weights=sp.csr_matrix(w) if as_sparse else w, ram_budget_gb=budget_gb, seed=1)
    assert net.weight_mode == "sparse"
    np.testing.assert_array_equal(net.weight_matrix().toarray(), w.astype(np.float32))


def _populations(net):
    e = net.add_population(BinaryNeuronPopulation(net, N=41, threshold=0.05, tau=10.0,
                                                  initializer=0.3))
    i = net.add_population(BinaryNeuronPopulation(net, N=19, threshold=0.0, tau=5.0,
                                                  initializer=0.3))
    return e, i


def _built(seed, weight_mode, synapse, weight_dtype=np.float32):
    """A two-population network from synapse objects: ``synapse(net, pre, post, j)``."""
    net = BinaryNetwork("built")
    e, i = _populations(net)
    for pre, post, j in ((e, e, 0.11), (e, i, 0.13), (i, e, -0.21), (i, i, -0.17)):
        net.add_synapse(synapse(net, pre, post, j))
    net.initialize(weight_mode=weight_mode, seed=seed, weight_dtype=weight_dtype)
    return net


def _imported(seed, weight_mode, weights, weight_dtype=np.float32):
    net = BinaryNetwork("imported")
    _populations(net)
    net.initialize(weights=weights, weight_mode=weight_mode, seed=seed, weight_dtype=weight_dtype)
    return net


def _float_path(monkeypatch, *args):
    """The same import with the count detection switched off (the float layouts)."""
    with monkeypatch.context() as patch:
        patch.setattr(explicit, "shared_blocks", lambda *a, **k: None)
        net = _imported(*args)
    assert not net.connectivity.shared_weights
    return net


def _same_run(first, *others, steps=30_000):
    """Run the networks side by side: identical states and fields throughout."""
    for _ in range(4):
        for other in others:
            np.testing.assert_array_equal(first.state, other.state)
            np.testing.assert_array_equal(first.field, other.field)
        for net in (first, *others):
            net.run(steps)
    assert 0 < first.up_transitions.sum()


def poisson(net, pre, post, j):
    return PoissonSynapse(net, pre, post, rate=0.4, j=j)


def crowded(net, pre, post, j):  # up to ~30 contacts on a pair: 8-bit dense counts
    return PoissonSynapse(net, pre, post, rate=16.0 if pre is post else 0.4, j=j)


def bernoulli(net, pre, post, j):
    return PairwiseBernoulliSynapse(net, pre, post, p=0.3, j=j)


@pytest.mark.parametrize("synapse, mode, packed", [
    (poisson, "dense", True), (crowded, "dense", False), (bernoulli, "sparse", False),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_exported_matrix_runs_on_counts_bit_identically(synapse, mode, packed, dtype, as_sparse,
                                                        monkeypatch):
    built = _built(5, mode, synapse, dtype)
    w = built.weight_matrix()
    w = w if as_sparse else w.toarray()
    imported = _imported(5, "auto" if mode == "dense" else mode, w, dtype)
    c = imported.connectivity
    expected = PackedCounts if packed else DenseMatrix if mode == "dense" else SparseTargets
    assert c.shared_weights and c.layout == mode and isinstance(c.arrays, expected)
    stored = c.arrays[3]  # counts, matrix or idx
    assert stored.dtype == (np.uint16 if mode == "sparse" else np.uint8)
    assert c.synapse_count == built.connectivity.synapse_count
    assert (imported.weight_matrix() != built.weight_matrix()).nnz == 0
    floats = _float_path(monkeypatch, 5, mode, w, dtype)
    _same_run(imported, floats, built)


def test_sparse_import_with_multiple_contacts_keeps_float_weights(monkeypatch):
    """Sparse counts add the weight once per contact; only one contact a pair is exact."""
    w = _built(2, "dense", poisson).weight_matrix()
    assert w.data.max() > 0.2  # some pair has two contacts
    imported = _imported(2, "sparse", w)
    assert not imported.connectivity.shared_weights
    _same_run(imported, _float_path(monkeypatch, 2, "sparse", w))


@pytest.mark.parametrize("make", [
    lambda w: w * np.sqrt(np.arange(2, w.shape[1] + 2)),  # no common unit
    lambda w: np.where(np.arange(w.shape[0])[:, None] % 2, w, -w),  # two signs in a block
    # one row of doubled weights, each off by a bit: 2 j (1 + 2**-20)
    lambda w: w * np.where(np.arange(w.shape[0])[:, None] == 3, 2 + 2**-19, 1.0),
])
def test_matrices_without_one_weight_per_block_keep_float_weights(make):
    w = make(_built(1, "dense", bernoulli).weight_matrix().toarray())
    imported = _imported(1, "dense", w)
    assert not imported.connectivity.shared_weights
    assert imported.connectivity.arrays.matrix.dtype == np.float32
    np.testing.assert_array_equal(imported.weight_matrix().toarray(), w.astype(np.float32))
