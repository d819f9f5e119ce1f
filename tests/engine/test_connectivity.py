"""Connectivity statistics of every generator, in both layouts."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from binnet_core import (
    AllToAllSynapse,
    BinaryNetwork,
    BinaryNeuronPopulation,
    FixedIndegreeSynapse,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)
from binnet_core.layouts import DenseMatrix


def block_counts(synapse_factory, n_pre=150, n_post=120, same=False, autapse=False, mode="dense",
                 seed=0):
    """Contact counts W[post, pre] / j of one block (pre == post population if ``same``)."""
    net = BinaryNetwork()
    pre = net.add_population(BinaryNeuronPopulation(net, N=n_pre, initializer=0))
    post = pre if same else net.add_population(BinaryNeuronPopulation(net, N=n_post, initializer=0))
    net.add_synapse(synapse_factory(net, pre, post))
    net.initialize(weight_mode=mode, autapse=autapse, seed=seed)
    w = net.weight_matrix().toarray()
    block = w[: n_pre, : n_pre] if same else w[n_pre:, :n_pre]
    return np.rint(block / 0.5).astype(int), net


def within_4_standard_errors(counts, mean, variance):
    se = np.sqrt(variance / counts.size)
    assert abs(counts.mean() - mean) < 4 * se, (counts.mean(), mean, se)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("p", [0.05, 0.3, 1.0, 1.7, 2.5, 3.7])
def test_bernoulli_expected_contacts_per_pair_equal_p(p, mode):
    counts, _ = block_counts(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=p, j=0.5), mode=mode)
    trials = max(1, int(np.ceil(p)))
    q = p / trials
    within_4_standard_errors(counts, p, trials * q * (1 - q) if q < 1 else 1e-12)
    assert counts.max() <= trials


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("rate", [0.1, 0.3, 2.175])
def test_poisson_contacts_per_pair(rate, mode):
    counts, _ = block_counts(lambda n, a, b: PoissonSynapse(n, a, b, rate=rate, j=0.5), mode=mode)
    within_4_standard_errors(counts, rate, rate)
    assert counts.var() == pytest.approx(rate, rel=0.1)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_indegree_is_exact_and_has_no_autapses(multapses, mode):
    counts, _ = block_counts(
        lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=0.2, j=0.5, multapses=multapses),
        same=True, mode=mode)
    assert (counts.sum(axis=1) == 30).all()  # round(0.2 * 150) for every post neuron
    assert np.diag(counts).sum() == 0
    if not multapses:
        assert counts.max() == 1


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_autapses_removed_unless_asked(mode):
    factory = lambda n, a, b: AllToAllSynapse(n, a, b, j=0.5)  # noqa: E731
    without, _ = block_counts(factory, same=True, mode=mode)
    with_, _ = block_counts(factory, same=True, autapse=True, mode=mode)
    assert np.diag(without).sum() == 0 and (np.diag(with_) == 1).all()
    assert without.sum() == 150 * 149 and with_.sum() == 150 * 150


def test_fixed_indegree_without_multapses_refuses_too_large_indegree():
    net = BinaryNetwork()
    a = net.add_population(BinaryNeuronPopulation(net, N=10, initializer=0))
    net.add_synapse(FixedIndegreeSynapse(net, a, a, p=1.0, j=1.0, multapses=False))
    with pytest.raises(ValueError, match="p <= 0.9"):
        net.initialize()


def test_two_weights_on_one_block_fall_back_to_float_weights():
    net = BinaryNetwork()
    a = net.add_population(BinaryNeuronPopulation(net, N=50, initializer=0))
    net.add_synapse(AllToAllSynapse(net, a, a, j=0.5))
    net.add_synapse(AllToAllSynapse(net, a, a, j=0.25))
    for mode in ("dense", "sparse"):
        net.initialize(weight_mode=mode, seed=0)
        assert not net.connectivity.shared_weights
        w = net.weight_matrix().toarray()
        np.testing.assert_allclose(w[~np.eye(50, dtype=bool)], 0.75)


def test_connectivity_stats():
    _, net = block_counts(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=2.5, j=0.5))
    stats = net.connectivity_stats()
    assert stats["synapse_count"] >= stats["connected_pairs"] > 0
    assert stats["density"] == pytest.approx(stats["connected_pairs"] / (270 * 269))
    assert stats["connectivity_bytes"] >= 270 * 270 / 2  # 4-bit counts
    assert stats["build_seconds"] > 0


# ---------------------------------------------------------------- 4-bit dense counts
def odd_sized_network(mode, synapses, sizes=(7, 13, 1), seed=4, threshold=0.1):
    net = BinaryNetwork()
    pops = [net.add_population(BinaryNeuronPopulation(net, N=n, threshold=threshold, initializer=0.5))
            for n in sizes]
    for make, pre, post in synapses:
        net.add_synapse(make(net, pops[pre], pops[post]))
    net.initialize(weight_mode=mode, seed=seed)
    return net


ODD_SYNAPSES = [
    (lambda n, a, b: PoissonSynapse(n, a, b, rate=2.0, j=0.5), 0, 0),
    (lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=1.7, j=-0.25), 1, 0),
    (lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=0.5, j=0.125), 0, 1),
    (lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=0.5, j=0.375, multapses=False), 1, 1),
    (lambda n, a, b: AllToAllSynapse(n, a, b, j=1.5), 2, 1),
    (lambda n, a, b: AllToAllSynapse(n, a, b, j=0.75), 1, 2),
]


def test_packed_counts_hold_the_sparse_network_for_odd_population_sizes():
    dense = odd_sized_network("dense", ODD_SYNAPSES)
    sparse = odd_sized_network("sparse", ODD_SYNAPSES)
    c = dense.connectivity
    assert c.arrays.packed_start.tolist() == [0, 4, 11, 12]  # ceil(7/2), ceil(13/2), ceil(1/2)
    assert c.arrays.counts.shape == (21, 12)
    assert (dense.weight_matrix() != sparse.weight_matrix()).nnz == 0
    assert c.connected_pairs() == sparse.connectivity.connected_pairs()
    np.testing.assert_array_equal(dense.field, sparse.field)


E_I_SYNAPSES = [
    (lambda n, a, b: PoissonSynapse(n, a, b, rate=0.2, j=0.1), 0, 0),
    (lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=0.3, j=0.1), 0, 1),
    (lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=0.5, j=-0.3), 1, 0),
    (lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=0.3, j=-0.2, multapses=False), 1, 1),
    (lambda n, a, b: AllToAllSynapse(n, a, b, j=0.05), 2, 0),
]


def test_packed_and_byte_counts_run_bit_identically():
    packed = odd_sized_network("dense", E_I_SYNAPSES, sizes=(301, 99, 1), threshold=-0.2)
    byte = odd_sized_network("dense", E_I_SYNAPSES, sizes=(301, 99, 1), threshold=-0.2)
    byte.connectivity = byte.connectivity.with_byte_counts()
    assert isinstance(byte.connectivity.arrays, DenseMatrix)
    assert byte.connectivity.arrays.matrix.shape == (401, 401)
    for net in (packed, byte):
        net.run(50_000)
    assert 0 < packed.up_transitions.sum() and 0 < packed.state.sum() < packed.N
    np.testing.assert_array_equal(packed.state, byte.state)
    np.testing.assert_array_equal(packed.field, byte.field)


@pytest.mark.parametrize("synapses", [
    [(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=16.0, j=0.5), 0, 1)],
    [(lambda n, a, b: AllToAllSynapse(n, a, b, j=0.5), 0, 0)] * 16,
    [(lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=16.0, j=0.5), 2, 0)],
], ids=["bernoulli", "sixteen-synapses", "indegree"])
def test_more_than_15_contacts_on_a_pair_fall_back_to_byte_counts(synapses, caplog):
    with caplog.at_level(logging.INFO, logger="binnet_core"):
        dense = odd_sized_network("dense", synapses)
    assert "storing 8-bit counts" in caplog.text
    c = dense.connectivity
    assert isinstance(c.arrays, DenseMatrix)
    assert c.arrays.matrix.shape == (21, 21) and c.arrays.matrix.max() == 16
    sparse = odd_sized_network("sparse", synapses)
    assert (dense.weight_matrix() != sparse.weight_matrix()).nnz == 0


def test_more_than_255_contacts_on_a_pair_need_the_sparse_layout():
    synapses = [(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=300.0, j=0.5), 0, 1)]
    with pytest.raises(ValueError, match="more than 255 contacts on one pair .* weight_mode='sparse'"):
        odd_sized_network("dense", synapses)
    sparse = odd_sized_network("sparse", synapses)  # counts above 255 were once wrapped to 0
    np.testing.assert_array_equal(sparse.weight_matrix().toarray()[7:20, :7], 300 * 0.5)
    too_many = [(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=70_000.0, j=0.5), 0, 1)]
    with pytest.raises(ValueError, match="up to 70000 contacts on one pair; at most 65535"):
        odd_sized_network("sparse", too_many)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_two_synapses_on_one_block_count_each_pair_once(mode):
    net = BinaryNetwork()
    a = net.add_population(BinaryNeuronPopulation(net, N=50, initializer=0))
    net.add_synapse(AllToAllSynapse(net, a, a, j=0.5))
    net.add_synapse(PairwiseBernoulliSynapse(net, a, a, p=0.5, j=0.5))
    net.initialize(weight_mode=mode, seed=0)
    stats = net.connectivity_stats()
    assert stats["connected_pairs"] == 50 * 49
    assert stats["synapse_count"] == pytest.approx(1.5 * 50 * 49, rel=0.05)
