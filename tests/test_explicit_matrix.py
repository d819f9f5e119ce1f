"""Explicit weight matrices (``initialize(weights=W)``): layout choice and exact count layouts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from binnet_core import BinaryNetwork, BinaryNeuronPopulation


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
