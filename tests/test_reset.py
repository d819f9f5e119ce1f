"""BinaryNetwork.reset: a built network restarted from new initial states is a fresh build."""

from __future__ import annotations

import numpy as np
import pytest

from binnet_core import (
    AllToAllSynapse,
    BackgroundActivity,
    BinaryNetwork,
    BinaryNeuronPopulation,
    PoissonSynapse,
)


def deterministic_network(seed, weight_mode="dense"):
    """All-to-all wiring (no random connectivity), random initial states, a clamped drive."""
    net = BinaryNetwork("reset")
    drive = net.add_population(BackgroundActivity(net, N=30, Activity=0.4))
    e = net.add_population(BinaryNeuronPopulation(net, N=40, threshold=0.6, tau=10.0, initializer=0.3))
    i = net.add_population(BinaryNeuronPopulation(net, N=20, threshold=0.2, tau=5.0, initializer=0.3))
    net.add_synapse(AllToAllSynapse(net, drive, e, j=0.05))
    net.add_synapse(AllToAllSynapse(net, e, e, j=0.03))
    net.add_synapse(AllToAllSynapse(net, e, i, j=0.04))
    net.add_synapse(AllToAllSynapse(net, i, e, j=-0.06))
    net.initialize(weight_mode=weight_mode, seed=seed)
    return net


def random_network(seed):
    net = BinaryNetwork("reset-random")
    e = net.add_population(BinaryNeuronPopulation(net, N=60, threshold=0.05, tau=10.0, initializer=0.3))
    i = net.add_population(BinaryNeuronPopulation(net, N=20, threshold=0.0, tau=5.0, initializer=0.3))
    for pre, post, j in ((e, e, 0.11), (e, i, 0.13), (i, e, -0.21), (i, i, -0.17)):
        net.add_synapse(PoissonSynapse(net, pre, post, rate=0.3, j=j))
    net.initialize(weight_mode="sparse", seed=seed)
    return net


def snapshot(net):
    return {
        "state": net.state.copy(), "field": net.field.copy(), "thresholds": net.thresholds.copy(),
        "active": net.population_activity().copy(), "up": net.up_transitions,
        "rng": net._rng_state.copy(), "steps": net.sim_steps,
    }


def assert_same(a, b):
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def after_run(net, steps=20_000):
    net.run(steps)
    return snapshot(net)


@pytest.mark.parametrize("weight_mode", ["dense", "sparse"])
def test_reset_of_a_used_network_is_a_fresh_build_of_the_new_seed(weight_mode):
    # the wiring does not depend on the seed, so build(seed=9).reset(seed=5) must equal build(seed=5)
    fresh = deterministic_network(5, weight_mode)
    reused = deterministic_network(9, weight_mode)
    reused.run(7_000)
    reused.reset(seed=5)
    assert_same(snapshot(reused), snapshot(fresh))
    assert_same(after_run(reused), after_run(fresh))


def test_reset_without_seed_replays_the_build_and_keeps_the_connectivity():
    net = random_network(3)
    first = after_run(net)
    connectivity = net.connectivity
    net.reset()
    assert net.connectivity is connectivity  # not rebuilt
    assert_same(after_run(net), first)
    net.reset(seed=4)
    assert not np.array_equal(after_run(net)["state"], first["state"])


def test_reset_to_a_given_state_recomputes_the_field():
    net = random_network(3)
    net.run(5_000)
    state = (np.arange(net.N) % 3 == 0).astype(np.int8)
    net.reset(state=state, seed=11)
    np.testing.assert_array_equal(net.state, state)
    expected = net.weight_matrix() @ state.astype(np.float64)
    np.testing.assert_allclose(net.field, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(net.population_activity(), [20 / 60, 7 / 20])
    assert net.sim_steps == 0 and not net.up_transitions.any()
    # the population views follow the new state array
    assert net.populations[0].state.base is net.state or np.shares_memory(net.populations[0].state, net.state)


def test_reset_refuses_a_bad_state():
    net = random_network(3)
    with pytest.raises(ValueError, match="state must hold 80 values 0 or 1"):
        net.reset(state=np.full(80, 2))
    with pytest.raises(ValueError, match="state must hold 80"):
        net.reset(state=np.zeros(79))
