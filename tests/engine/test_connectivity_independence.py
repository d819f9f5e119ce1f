"""Contacts are independent across neurons, not only right on average.

The marginal tests (``tests/engine/test_connectivity.py``) pass for a build in which every post neuron
draws the same partners. Here the spread of degrees and the overlap of the partner sets of
two post neurons are compared with their known distributions, for a block between two
different populations (no autapses to remove):

* in-degree of a post neuron and out-degree of a pre neuron: the sum of independent
  per-pair counts (or of multinomial cells for a fixed in-degree);
* overlap of post neurons ``2i`` and ``2i + 1``: ``X = sum_j a_j b_j`` over the pre neurons
  ``j``, where ``a`` and ``b`` are their contact counts; disjoint pairs are independent.

Each sample mean must lie within 5 standard errors of its expectation, each sample variance
within 5 standard errors of the variance (standard error of the sample variance from the
fourth central moment).
"""

from __future__ import annotations

import numpy as np
import pytest

from binnet_core import (
    BinaryNetwork,
    BinaryNeuronPopulation,
    FixedIndegreeSynapse,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)

N_PRE, N_POST = 300, 600
Z = 5.0


def counts(make, mode, seed=3):
    """Contact counts ``C[post, pre]`` of one block between two populations."""
    net = BinaryNetwork()
    pre = net.add_population(BinaryNeuronPopulation(net, N=N_PRE, initializer=0))
    post = net.add_population(BinaryNeuronPopulation(net, N=N_POST, initializer=0))
    net.add_synapse(make(net, pre, post))
    net.initialize(weight_mode=mode, seed=seed)
    return np.rint(net.weight_matrix().toarray()[N_PRE:, :N_PRE] / 0.5).astype(np.int64)


def binomial_moments(n, q):
    """Mean, variance and fourth central moment of Binomial(n, q)."""
    var = n * q * (1 - q)
    return n * q, var, var * (1 + 3 * (n - 2) * q * (1 - q))


def poisson_moments(rate):
    return rate, rate, rate * (1 + 3 * rate)


def assert_mean(sample, mean, var):
    se = np.sqrt(var / sample.size)
    assert abs(sample.mean() - mean) < Z * se, (sample.mean(), mean, se)


def assert_spread(sample, var, mu4):
    """Sample variance within Z standard errors: Var(s^2) ~ (mu4 - var^2) / n."""
    se = np.sqrt((mu4 - var**2) / sample.size)
    assert abs(sample.var(ddof=1) - var) < Z * se, (sample.var(ddof=1), var, se)


def overlaps(c):
    """``sum_j a_j b_j`` of post neurons 2i and 2i + 1 (independent pairs)."""
    return np.einsum("ij,ij->i", c[0::2], c[1::2])


def overlap_moments(m1, m2):
    """Mean and variance of ``sum_j a_j b_j`` over N_PRE independent cells with
    ``E[a] = m1`` and ``E[a^2] = m2`` (the same for ``b``)."""
    return N_PRE * m1**2, N_PRE * (m2**2 - m1**4)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("p", [0.1, 0.4])
def test_bernoulli_contacts_are_independent_across_neurons(p, mode):
    c = counts(lambda n, a, b: PairwiseBernoulliSynapse(n, a, b, p=p, j=0.5), mode)
    mean, var, mu4 = binomial_moments(N_PRE, p)
    assert_mean(c.sum(axis=1), mean, var)  # in-degrees
    assert_spread(c.sum(axis=1), var, mu4)
    mean, var, mu4 = binomial_moments(N_POST, p)
    assert_mean(c.sum(axis=0), mean, var)  # out-degrees
    assert_spread(c.sum(axis=0), var, mu4)
    mean, var = overlap_moments(p, p)
    assert_mean(overlaps(c), mean, var)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("rate", [0.2, 1.5])
def test_poisson_contacts_are_independent_across_neurons(rate, mode):
    c = counts(lambda n, a, b: PoissonSynapse(n, a, b, rate=rate, j=0.5), mode)
    for sums, n in ((c.sum(axis=1), N_PRE), (c.sum(axis=0), N_POST)):
        mean, var, mu4 = poisson_moments(n * rate)
        assert_mean(sums, mean, var)
        assert_spread(sums, var, mu4)
    mean, var = overlap_moments(rate, rate + rate**2)
    assert_mean(overlaps(c), mean, var)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_indegree_partners_are_independent_across_post_neurons(multapses, mode):
    p = 0.1
    k = round(p * N_PRE)
    c = counts(lambda n, a, b: FixedIndegreeSynapse(n, a, b, p=p, j=0.5, multapses=multapses),
               mode)
    assert (c.sum(axis=1) == k).all()
    q = k / N_PRE  # each post neuron picks a given pre neuron k / N_PRE times on average
    if multapses:  # k uniform draws per post neuron: out-degree ~ Binomial(N_POST k, 1/N_PRE)
        mean, var, mu4 = binomial_moments(N_POST * k, 1 / N_PRE)
    else:  # a k-subset per post neuron: out-degree ~ Binomial(N_POST, k / N_PRE)
        mean, var, mu4 = binomial_moments(N_POST, q)
    assert_mean(c.sum(axis=0), mean, var)
    assert_spread(c.sum(axis=0), var, mu4)
    expected = k * q  # E[sum_j a_j b_j] = N_PRE q^2
    if multapses:  # a, b independent multinomials: E[a_j^2] = q (1 - 1/N) + q^2 and
        # E[a_j a_l] = k (k - 1) / N^2 for j != l
        m2 = q * (1 - 1 / N_PRE) + q**2
        e_x2 = N_PRE * m2**2 + N_PRE * (N_PRE - 1) * (k * (k - 1) / N_PRE**2) ** 2
        variance = e_x2 - expected**2
    else:  # overlap of two independent k-subsets: hypergeometric
        variance = k * q * (1 - q) * (N_PRE - k) / (N_PRE - 1)
    assert_mean(overlaps(c), expected, variance)
