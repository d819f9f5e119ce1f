"""Refused calls leave the network untouched; use before initialize(); step logs."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import binnet_core.network as network_module
from binnet_core import (
    AllToAllSynapse,
    BackgroundActivity,
    BinaryNetwork,
    BinaryNeuronPopulation,
    NeuronRecorder,
    PoissonSynapse,
    PopulationActivityRecorder,
)
from binnet_core.populations import Dynamics, NeuronKind, Population
from tests.engine.test_engine import two_population_network


def snapshot(net):
    """Everything a run can change, copied."""
    return (net.state.copy(), net.field.copy(), net.sim_steps, net.up_transitions,
            net.population_activity(), net._rng_state.copy(), net._diff_log_index,
            getattr(net, "_step_log_index", 0))


def assert_unchanged(net, before):
    for a, b in zip(snapshot(net), before):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------- defect 1: refused runs change nothing
@pytest.mark.parametrize("enable", ["enable_diff_logging", "enable_step_logging"])
def test_run_overflowing_a_log_is_refused_before_any_update_or_sample(enable):
    net = two_population_network(seed=1)
    net.run(100)
    getattr(net, enable)(10)
    before = snapshot(net)
    activity = PopulationActivityRecorder(5)
    with pytest.raises(RuntimeError, match=f"{enable}.*10 slots left, 11 updates"):
        net.run(11, recorders=[activity])
    assert_unchanged(net, before)
    assert activity.times.size == 0 and activity.values.size == 0  # no sample taken
    net.run(10, recorders=[activity])  # the log still has all its room
    assert activity.times.tolist() == [105, 110]


def test_run_longer_than_one_kernel_chunk_is_checked_as_a_whole(monkeypatch):
    monkeypatch.setattr(network_module, "MAX_CHUNK", 7)  # a run of 11 takes two kernel calls
    net = two_population_network(seed=2)
    net.enable_diff_logging(10)
    before = snapshot(net)
    with pytest.raises(RuntimeError, match="10 slots left, 11 updates"):
        net.run(11)
    assert_unchanged(net, before)
    net.run(10)  # in chunks of 7 and 3: the same updates as one call
    reference = two_population_network(seed=2)
    reference.enable_diff_logging(10)
    monkeypatch.setattr(network_module, "MAX_CHUNK", 1 << 22)
    reference.run(10)
    np.testing.assert_array_equal(net.consume_diff_log()[0], reference.consume_diff_log()[0])
    np.testing.assert_array_equal(net.state, reference.state)


def test_update_sequence_overflowing_the_step_log_changes_nothing():
    net = two_population_network(seed=3)
    net.enable_step_logging(2)
    before = snapshot(net)
    with pytest.raises(RuntimeError, match="enable_step_logging"):
        net.update_sequence([0, 1, 2])
    assert_unchanged(net, before)


def test_a_recorder_without_record_is_refused_before_any_update():
    net = two_population_network(seed=4)
    before = snapshot(net)
    ok = PopulationActivityRecorder(1)

    class NoRecord:
        interval = 1

    with pytest.raises(ValueError, match="record"):
        net.run(5, recorders=[ok, NoRecord()])
    assert_unchanged(net, before)
    assert ok.times.size == 0


# ----------------------------------------------- defect 4: use before initialize()
def uninitialized():
    net = BinaryNetwork()
    net.add_population(BinaryNeuronPopulation(net, N=3))
    return net


ACCESSORS = {
    "state": lambda net: net.state,
    "field": lambda net: net.field,
    "thresholds": lambda net: net.thresholds,
    "sim_steps": lambda net: net.sim_steps,
    "up_transitions": lambda net: net.up_transitions,
    "updates_per_ms": lambda net: net.updates_per_ms,
    "connectivity": lambda net: net.connectivity,
    "weight_mode": lambda net: net.weight_mode,
    "weights": lambda net: net.weights,
    "population_activity": lambda net: net.population_activity(),
    "ms_to_steps": lambda net: net.ms_to_steps(1.0),
    "steps_to_ms": lambda net: net.steps_to_ms(10),
    "connectivity_stats": lambda net: net.connectivity_stats(),
    "weight_matrix": lambda net: net.weight_matrix(),
    "run": lambda net: net.run(1),
    "update": lambda net: net.update(),
    "update_sequence": lambda net: net.update_sequence([0]),
    "enable_diff_logging": lambda net: net.enable_diff_logging(3),
    "consume_diff_log": lambda net: net.consume_diff_log(),
    "enable_step_logging": lambda net: net.enable_step_logging(3),
    "consume_step_log": lambda net: net.consume_step_log(),
    "population_rates_from_diff_logs": lambda net: net.population_rates_from_diff_logs(
        np.zeros(3), np.zeros((1, 1), int), np.zeros((1, 1), int)),
}


@pytest.mark.parametrize("name", list(ACCESSORS))
def test_every_accessor_before_initialize_raises_the_error_of_run(name):
    message = r"^Call initialize\(\) before {}: the network has no state yet\.$"
    with pytest.raises(RuntimeError, match=message.format(r"run\(\)")):
        uninitialized().run(1)
    named = {"weights": "weight_matrix", "update": "run"}.get(name, name)  # aliases
    with pytest.raises(RuntimeError, match=message.format(rf"{named}(\(\))?")):
        ACCESSORS[name](uninitialized())


def test_unknown_attributes_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'stat'"):
        uninitialized().stat  # noqa: B018
    assert not hasattr(uninitialized(), "stat")


# ---------------------------------------------------------------------- step logs
def test_step_log_holds_the_state_after_every_update():
    net = two_population_network(seed=5)
    net.enable_step_logging(300)
    recorder = NeuronRecorder(np.arange(net.N), 1)
    net.run(250, recorders=[recorder])
    expected = recorder.state
    states = net.consume_step_log()
    assert states.dtype == np.int8 and states.shape == (250, net.N)
    np.testing.assert_array_equal(states, expected)
    assert net.consume_step_log().shape == (0, net.N)  # consumed: logging stopped
    net.run(10)
    assert net.consume_step_log().shape == (0, net.N)


def test_step_and_diff_logs_together_record_the_same_updates():
    both = two_population_network(seed=6)
    both.enable_diff_logging(500)
    both.run(100)
    initial = both.state.copy()
    both.enable_step_logging(400)  # enabled later: starts from the state at that time
    both.run(150)
    both.update_sequence([3, 1, 4, 1, 5])
    both.run(150)
    updates, deltas = both.consume_diff_log()
    states = both.consume_step_log()
    assert updates.shape == (1, 405) and states.shape == (305, both.N)
    replayed = BinaryNetwork.reconstruct_states_from_diff_logs(initial, updates[:, 100:],
                                                               deltas[:, 100:])
    np.testing.assert_array_equal(states, replayed)
    np.testing.assert_array_equal(states[-1], both.state)
    alone = two_population_network(seed=6)  # logging does not change the dynamics
    alone.run(100)
    alone.enable_step_logging(305)
    alone.run(150)
    alone.update_sequence([3, 1, 4, 1, 5])
    alone.run(150)
    np.testing.assert_array_equal(alone.consume_step_log(), states)


def test_step_logging_zero_disables_and_negative_is_refused():
    net = BinaryNetwork()
    pop = net.add_population(BinaryNeuronPopulation(net, N=2, threshold=0.5, initializer=[1, 0]))
    net.add_synapse(AllToAllSynapse(net, pop, pop, j=1.0))
    net.initialize(seed=0)
    net.enable_step_logging(4)
    net.enable_step_logging(0)
    net.run(3)
    assert net.consume_step_log().shape == (0, 2)
    with pytest.raises(ValueError, match="steps"):
        net.enable_step_logging(-1)


# ------------------------------------------------------------------------- reset
def driven_network(seed):
    """Threshold units plus clamped and stochastic background (thresholds depend on state)."""
    net = BinaryNetwork("driven")
    e = net.add_population(BinaryNeuronPopulation(net, N=80, threshold=0.2, tau=10.0,
                                                  initializer=0.3))
    clamp = net.add_population(BackgroundActivity(net, N=20, Activity=0.4))
    noise = net.add_population(BackgroundActivity(net, N=10, Activity=0.3, Stochastic=True))
    net.add_synapse(PoissonSynapse(net, e, e, rate=0.2, j=0.05))
    net.add_synapse(AllToAllSynapse(net, clamp, e, j=0.02))
    net.add_synapse(AllToAllSynapse(net, noise, e, j=-0.03))
    net.initialize(seed=seed)
    return net


def trajectory(net, steps=30_000):
    net.enable_diff_logging(steps)
    net.run(steps)
    ids, deltas = net.consume_diff_log()
    return ids, deltas, net.state.copy(), net.field.copy(), net.up_transitions


def sparse_network(seed):
    return two_population_network(seed=seed, weight_mode="sparse")


@pytest.mark.parametrize("build", [two_population_network, sparse_network, driven_network])
def test_reset_with_the_build_seed_is_bit_identical_to_a_fresh_build(build):
    net = build(seed=8)
    connectivity = net.connectivity
    trajectory(net)  # move far away from the initial state
    net.enable_step_logging(100)
    net.reset(seed=8)
    assert net.connectivity is connectivity  # not rebuilt
    fresh = build(seed=8)
    assert_unchanged(net, snapshot(fresh))
    np.testing.assert_array_equal(net.thresholds, fresh.thresholds)
    assert net.consume_step_log().shape == (0, net.N)  # logs start over
    for a, b in zip(trajectory(net), trajectory(fresh)):
        np.testing.assert_array_equal(a, b)


def test_reset_without_a_seed_replays_the_build_and_keeps_the_connectivity():
    net = sparse_network(seed=3)
    connectivity = net.connectivity
    first = trajectory(net)
    net.reset()
    assert net.connectivity is connectivity  # not rebuilt
    for a, b in zip(trajectory(net), first):
        np.testing.assert_array_equal(a, b)
    net.reset(seed=4)
    assert not np.array_equal(trajectory(net)[2], first[2])


def test_reset_with_another_seed_takes_its_initial_state_and_update_order():
    net = driven_network(seed=1)
    other = driven_network(seed=2)
    net.run(5_000)
    net.reset(seed=2)
    np.testing.assert_array_equal(net.state, other.state)
    clamped = net.state[80:100] == 1  # on stays on, off stays off
    assert np.isnan(net.thresholds[80:]).all()  # background units have no threshold
    assert clamped.sum() == 8 and not np.array_equal(clamped, driven_network(1).state[80:100])
    exact = net.weight_matrix() @ net.state.astype(np.float64)
    np.testing.assert_allclose(net.field, exact, atol=1e-6)
    ids, *_ = trajectory(net)
    other_ids, *_ = trajectory(other)
    np.testing.assert_array_equal(ids, other_ids)  # the same neurons in the same order
    np.testing.assert_array_equal(net.state[80:100], clamped)  # clamped units never flip
    assert net.population_activity()[2] not in (0.0, 1.0)  # the stochastic ones do


def test_reset_to_an_explicit_state():
    net = two_population_network(seed=3)
    net.run(2_000)
    state = np.zeros(net.N, dtype=np.int8)
    state[::3] = 1
    net.reset(state=state, seed=5)
    np.testing.assert_array_equal(net.state, state)
    np.testing.assert_allclose(net.field, net.weight_matrix() @ state.astype(float), atol=1e-6)
    np.testing.assert_allclose(net.population_activity(),
                               [state[:40].mean(), state[40:].mean()])
    assert net.sim_steps == 0 and not net.up_transitions.any()
    assert np.shares_memory(net.populations[0].state, net.state)  # views follow the new state
    before = snapshot(net)
    for bad in (state[:-1], np.full(net.N, 2)):
        with pytest.raises(ValueError, match=f"state must hold {net.N} values 0 or 1"):
            net.reset(state=bad, seed=5)
        assert_unchanged(net, before)


# ------------------------------------------------------------------ neuron kinds
class AlwaysOn(Population):
    """A user-defined population: every update switches the unit on."""

    def dynamics(self):
        return Dynamics(NeuronKind.STOCHASTIC, on_probability=1.0)

    def initial_state(self, rng):
        return np.zeros(self.N, dtype=np.int8)


def test_a_population_declares_its_kind_and_the_parameter_of_that_kind():
    net = BinaryNetwork("kinds")
    net.add_population(AlwaysOn(net, N=4))
    net.add_population(BinaryNeuronPopulation(net, N=2, threshold=10.0, initializer=1))
    net.initialize(seed=0)
    net.update_sequence(np.arange(6))
    assert net.state.tolist() == [1, 1, 1, 1, 0, 0]
    assert np.isnan(net.thresholds[:4]).all() and net.thresholds[4:].tolist() == [10.0, 10.0]


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": NeuronKind.THRESHOLD}, "threshold must be given for THRESHOLD units"),
    ({"kind": NeuronKind.CLAMPED, "threshold": 0.5}, "threshold must be given for THRESHOLD"),
    ({"kind": NeuronKind.STOCHASTIC}, "on_probability must be given for STOCHASTIC"),
    ({"kind": NeuronKind.STOCHASTIC, "on_probability": 1.5}, r"on_probability must lie in \[0, 1\]"),
    ({"kind": NeuronKind.THRESHOLD, "threshold": float("inf")}, "threshold must be finite"),
    ({"kind": 7}, "kind must be one of"),
])
def test_dynamics_refuses_a_parameter_its_kind_does_not_use(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Dynamics(**kwargs)


# ------------------------------------------------------------------ copies
@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda net: pickle.loads(pickle.dumps(net))])
def test_a_copied_network_continues_exactly_as_the_original(duplicate):
    net = driven_network(seed=4)
    net.run(2_000)  # the kernel is bound to the original's arrays
    twin = duplicate(net)
    assert twin.state is not net.state
    a, b = trajectory(net, 5_000), trajectory(twin, 5_000)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
