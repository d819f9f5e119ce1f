"""BinaryNetwork against the NumPy reference; API additions; reproducibility."""

from __future__ import annotations

import concurrent.futures
import logging
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import binnet_core
from binnet_core import (
    AllToAllSynapse,
    BackgroundActivity,
    BinaryNetwork,
    BinaryNeuronPopulation,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)
from binnet_core.layouts import DenseMatrix, PackedCounts, SparseTargets
from tests.reference import naive


def two_population_network(seed=0, weight_mode="dense", n=(40, 20), p=0.3, dtype=np.float32):
    net = BinaryNetwork("test")
    e = net.add_population(BinaryNeuronPopulation(net, N=n[0], threshold=0.05, tau=10.0,
                                                  initializer=0.3))
    i = net.add_population(BinaryNeuronPopulation(net, N=n[1], threshold=0.0, tau=5.0,
                                                  initializer=0.3))
    net.add_synapse(PoissonSynapse(net, e, e, rate=p, j=0.11))
    net.add_synapse(PairwiseBernoulliSynapse(net, e, i, p=p, j=0.13))
    net.add_synapse(PairwiseBernoulliSynapse(net, i, e, p=p, j=-0.21))
    net.add_synapse(PoissonSynapse(net, i, i, rate=p, j=-0.17))
    net.initialize(weight_mode=weight_mode, seed=seed, weight_dtype=dtype)
    return net


# --------------------------------------------------------------- reference dynamics
@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 2**32), sparse_input=st.booleans(),
       mode=st.sampled_from(["dense", "sparse"]))
def test_update_sequence_matches_numpy_reference(n, seed, sparse_input, mode):
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.5)
    thresholds = rng.normal(0.0, 0.5, n)
    initial = (rng.random(n) < 0.5).astype(np.int8)
    neurons = rng.integers(0, n, 5 * n)
    net = BinaryNetwork("ref")
    for k in range(n):  # one population per neuron: per-neuron thresholds
        net.add_population(BinaryNeuronPopulation(net, N=1, threshold=thresholds[k],
                                                  initializer=[initial[k]]))
    matrix = sp.csr_matrix(w) if sparse_input else w
    net.initialize(weights=matrix, weight_mode=mode, autapse=True, weight_dtype=np.float64)
    expected_states, expected_field = naive.update_sequence(w, initial, thresholds, neurons)
    for k, neuron in enumerate(neurons):
        net.update_sequence([neuron])
        np.testing.assert_array_equal(net.state, expected_states[k])
    np.testing.assert_allclose(net.field, expected_field, atol=1e-9)


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_cached_field_equals_w_times_s_after_a_million_updates(mode):
    net = two_population_network(seed=3, weight_mode=mode, n=(300, 100))
    net.run(1_000_000)
    assert 0 < net.state.sum() < net.N  # the dynamics did something
    exact = net.weight_matrix() @ net.state.astype(np.float64)
    np.testing.assert_allclose(net.field, exact, atol=1e-4)


def test_dense_and_sparse_hold_the_same_network():
    dense = two_population_network(seed=11, weight_mode="dense")
    sparse = two_population_network(seed=11, weight_mode="sparse")
    assert (dense.weight_matrix() != sparse.weight_matrix()).nnz == 0
    np.testing.assert_array_equal(dense.state, sparse.state)
    assert dense.connectivity_stats()["connected_pairs"] == sparse.connectivity_stats()["connected_pairs"]


# ------------------------------------------------------------------- reproducibility
def _fingerprint(seed, steps=20_000, mode="dense"):
    net = two_population_network(seed=seed, weight_mode=mode)
    net.run(steps)
    return net.state.copy(), net.field.copy(), net.up_transitions


def test_same_seed_is_bit_identical_and_ignores_global_numpy_state():
    np.random.seed(1)
    a = _fingerprint(5)
    before = np.random.get_state()[1].copy()
    np.random.seed(999)
    b = _fingerprint(5)
    np.random.seed(1)
    _fingerprint(5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global state untouched
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = _fingerprint(6)
    assert not np.array_equal(a[0], c[0]) or not np.array_equal(a[1], c[1])


def test_same_seed_is_bit_identical_in_threads_and_processes():
    reference = _fingerprint(7)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(_fingerprint, [7, 7]))
    code = ("import numpy as np, sys; from tests.engine.test_engine import _fingerprint; "
            "s, f, u = _fingerprint(7); sys.stdout.write(s.tobytes().hex() + ' ' + f.tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    state_hex, field_hex = out.stdout.split()
    for result in threaded:
        np.testing.assert_array_equal(result[0], reference[0])
        np.testing.assert_array_equal(result[1], reference[1])
    assert state_hex == reference[0].tobytes().hex()
    assert field_hex == reference[1].tobytes().hex()


def test_result_does_not_depend_on_batch_size_or_run_splitting():
    a = two_population_network(seed=2)
    a.run(30_000, batch_size=1)
    b = two_population_network(seed=2)
    for _ in range(3):
        b.run(10_000, batch_size=777)
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(a.field, b.field)


def test_no_python_work_per_update_or_batch(monkeypatch):
    from binnet_core._sim_kernels import BoundSimulation, simulate

    calls = []
    real = BoundSimulation.__call__

    def counting(self, *args):
        calls.append(args[0])
        return real(self, *args)

    monkeypatch.setattr(BoundSimulation, "__call__", counting)
    net = two_population_network()
    net.run(1_000_000, batch_size=1)
    assert len(calls) == 1 and calls[0] == 1_000_000
    # the compiled specialisation itself, entered without numba's per-call argument typing
    assert net._bound._entry is not simulate and net._bound._entry.__name__ == "simulate"


@pytest.mark.parametrize("replace", ["connectivity", "state", "field"])
def test_replaced_arrays_are_used_by_the_next_run(replace):
    """The kernel bound at the first run is bound again when an array is replaced."""
    net, other = two_population_network(seed=1), two_population_network(seed=2, weight_mode="sparse")
    net.run(1000)  # binds the kernel to the current arrays
    if replace == "connectivity":  # another network, another layout type
        net.connectivity = other.connectivity
        net.field[:] = other.weight_matrix() @ net.state.astype(np.float64)
    else:
        setattr(net, replace, getattr(net, replace).copy())
    before_state, before_field = net.state.copy(), net.field.copy()
    neurons = np.arange(net.N)
    net.update_sequence(neurons)
    states, _ = naive.update_sequence(net.weight_matrix().toarray(), before_state,
                                      net.thresholds, neurons)
    np.testing.assert_array_equal(net.state, states[-1])
    change = net.weight_matrix() @ (net.state - before_state).astype(np.float64)
    np.testing.assert_allclose(net.field - before_field, change, atol=1e-5)
    assert np.any(net.state != before_state)


def test_population_update_rates_follow_n_over_tau():
    net = BinaryNetwork("rates")
    a = net.add_population(BinaryNeuronPopulation(net, N=300, threshold=1.0, tau=10.0, initializer=0))
    b = net.add_population(BinaryNeuronPopulation(net, N=100, threshold=-1.0, tau=2.0, initializer=0))
    net.initialize(seed=4)
    assert net.updates_per_ms == pytest.approx(300 / 10 + 100 / 2)
    net.enable_diff_logging(200_000)
    net.run(200_000)
    ids, _ = net.consume_diff_log()
    share_b = np.mean(ids[0] >= 300)
    assert share_b == pytest.approx(50 / 80, abs=4 * np.sqrt(0.625 * 0.375 / 200_000))
    counts = np.bincount(ids[0][ids[0] < 300], minlength=300)  # uniform inside a population
    assert counts.min() > 0 and counts.std() / counts.mean() < 0.2
    assert b.N == 100 and a.N == 300


def test_model_time_helpers():
    net = two_population_network()
    assert net.updates_per_ms == pytest.approx(40 / 10 + 20 / 5)
    assert net.ms_to_steps(250) == 2000
    assert net.steps_to_ms(2000) == pytest.approx(250)


def test_recorders_sample_at_their_interval():
    net = two_population_network()
    activity = binnet_core.PopulationActivityRecorder(100)
    neurons = binnet_core.NeuronRecorder([0, 5, 50], 250)
    net.run(1000, recorders=[activity, neurons])
    np.testing.assert_array_equal(activity.times, np.arange(100, 1001, 100))
    assert activity.values.shape == (10, 2)
    np.testing.assert_allclose(activity.values[-1], net.population_activity())
    np.testing.assert_array_equal(neurons.state[-1], net.state[[0, 5, 50]])
    assert neurons.field.dtype == net.field.dtype  # as recorded, no float64 copy
    np.testing.assert_array_equal(neurons.field[-1], net.field[[0, 5, 50]])
    np.testing.assert_array_equal(neurons.times, [250, 500, 750, 1000])
    later = binnet_core.PopulationActivityRecorder(300)  # counted from the start of the run
    net.run(50)
    net.run(1000, recorders=[later])
    np.testing.assert_array_equal(later.times, [1350, 1650, 1950])


# ---------------------------------------------------------------------- diff logs
def test_diff_log_population_rates_match_reference_replay():
    net = two_population_network(seed=9)
    initial = net.state.copy()
    net.enable_diff_logging(5000)
    net.run(5000)
    updates, deltas = net.consume_diff_log()
    rates = net.population_rates_from_diff_logs(initial, updates, deltas, sample_interval=7)
    expected = naive.population_rates(initial, updates[0], deltas[0], [(0, 40), (40, 60)], 7)
    np.testing.assert_allclose(rates, expected, atol=1e-6)
    states = BinaryNetwork.reconstruct_states_from_diff_logs(initial, updates, deltas)
    np.testing.assert_array_equal(states[-1], net.state)


def test_diff_log_keeps_neuron_ids_above_65535():
    net = BinaryNetwork("big")
    net.add_population(BinaryNeuronPopulation(net, N=70_000, threshold=-1.0, initializer=0))
    net.initialize(weight_mode="sparse", seed=0)
    net.enable_diff_logging(4)
    net.update_sequence([65_535, 65_536, 69_999, 3])
    updates, deltas = net.consume_diff_log()
    assert updates.tolist() == [[65_535, 65_536, 69_999, 3]]
    assert deltas.tolist() == [[1, 1, 1, 1]]
    times, ids = BinaryNetwork.extract_spike_events_from_diff_logs(updates, deltas)
    assert ids.tolist() == [65_535, 65_536, 69_999, 3]
    states = BinaryNetwork.reconstruct_states_from_diff_logs(np.zeros(70_000, np.int8), updates, deltas)
    assert states[-1, 69_999] == 1 and states[-1].sum() == 4


def test_diff_log_overflow_is_refused_before_any_update():
    net = two_population_network()
    net.enable_diff_logging(10)
    before = net.state.copy()
    with pytest.raises(RuntimeError, match="enable_diff_logging"):
        net.run(11)
    np.testing.assert_array_equal(net.state, before)
    assert net.sim_steps == 0


# ------------------------------------------------------------------ defects, misc.
def test_background_activity_really_drives_the_network():
    net = BinaryNetwork("driven")
    drive = net.add_population(BackgroundActivity(net, N=50, Activity=0.4))
    target = net.add_population(BinaryNeuronPopulation(net, N=20, threshold=1.0, initializer=0))
    net.add_synapse(AllToAllSynapse(net, drive, target, j=0.1))
    net.initialize(seed=1)
    assert net.state[:50].sum() == 20  # exactly round(0.4 * 50) background units on
    np.testing.assert_allclose(net.field[50:], 2.0, rtol=1e-6)  # 20 active x 0.1
    net.run(5000)
    assert net.state[:50].sum() == 20  # clamped
    assert net.state[50:].all()  # 2.0 > 1.0: driven on


def test_stochastic_background_switches_with_its_probability():
    net = BinaryNetwork("noisy")
    net.add_population(BackgroundActivity(net, N=1000, Activity=0.25, Stochastic=True))
    net.initialize(seed=2)
    net.run(50_000)
    assert net.population_activity()[0] == pytest.approx(0.25, abs=0.05)


def test_weight_mode_choice_is_logged_not_printed(capsys, caplog):
    with caplog.at_level(logging.INFO, logger="binnet_core"):
        net = two_population_network(weight_mode="auto")
    assert capsys.readouterr().out == ""
    assert any(f"-> {net.weight_mode}" in r.getMessage() for r in caplog.records)


def test_shared_weights_store_counts_and_general_matrices_store_floats():
    net = two_population_network(weight_mode="dense")
    c = net.connectivity
    counts = c.arrays.counts
    assert c.shared_weights and isinstance(c.arrays, PackedCounts) and counts.dtype == np.uint8
    assert counts.flags.c_contiguous and counts.shape == (60, 30)  # two 4-bit counts a byte
    w = net.weight_matrix().toarray()
    pre = 3  # pre-major: row `pre` of the store holds column `pre` of W
    expected = c.arrays.byte_counts()[pre].astype(np.float64) * np.r_[[0.11] * 40, [0.13] * 20]
    np.testing.assert_allclose(w[:, pre], expected, rtol=1e-6)
    m = BinaryNetwork("w")
    m.add_population(BinaryNeuronPopulation(m, N=4, threshold=0.0, initializer=0))
    w = np.sqrt(np.arange(16.0)).reshape(4, 4)  # no common weight: floats
    m.initialize(weights=w, autapse=True)
    floats = m.connectivity.arrays
    assert isinstance(floats, DenseMatrix) and floats.matrix.dtype == np.float32
    assert not m.connectivity.shared_weights
    np.testing.assert_array_equal(m.weight_matrix().toarray(), w.astype(np.float32))


def test_sparse_generation_memory_is_linear_in_synapses():
    import tracemalloc

    net = BinaryNetwork("large sparse")
    a = net.add_population(BinaryNeuronPopulation(net, N=12_000, threshold=0.0, initializer=0))
    b = net.add_population(BinaryNeuronPopulation(net, N=12_000, threshold=0.0, initializer=0))
    for pre, post in ((a, a), (a, b), (b, a), (b, b)):
        net.add_synapse(PairwiseBernoulliSynapse(net, pre, post, p=0.005, j=0.1))
    tracemalloc.start()
    net.initialize(weight_mode="sparse", seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    c = net.connectivity
    assert isinstance(c.arrays, SparseTargets)  # one index copy, no floats, no dense
    assert c.synapse_count == pytest.approx(0.005 * 24_000**2, rel=0.02)
    assert peak < 3 * c.nbytes + 10 * 24_000 * 8  # a pairs-sized temporary would be >= 576 MB
    assert peak < 50e6


@pytest.mark.parametrize("call, match", [
    (lambda net: net.run(-1), "steps"),
    (lambda net: net.run(10, batch_size=0), "batch_size"),
    (lambda net: net.update_sequence([0, 60]), r"\[0, 59\]"),
    (lambda net: net.update_sequence([0.5]), "integer"),
    (lambda net: net.initialize(weights=np.zeros((3, 3))), r"shape \(60, 60\)"),
    (lambda net: net.initialize(weights=np.full((60, 60), np.nan)), "finite"),
    (lambda net: net.initialize(weights=np.zeros((60, 60), dtype=complex)), "dtype"),
    (lambda net: net.initialize(weight_mode="fast"), "weight_mode"),
    (lambda net: net.initialize(weight_dtype=np.int32), "weight_dtype"),
    (lambda net: net.initialize(ram_budget_gb=-1), "ram_budget_gb"),
    (lambda net: net.initialize(ram_budget_gb=1e-9), "ram_budget_gb"),
    (lambda net: net.initialize(seed=-3), "seed"),
])
def test_bad_input_is_refused_before_any_state_changes(call, match):
    net = two_population_network(seed=1)
    net.run(100)
    state, field, steps = net.state.copy(), net.field.copy(), net.sim_steps
    with pytest.raises(ValueError, match=match):
        call(net)
    np.testing.assert_array_equal(net.state, state)
    np.testing.assert_array_equal(net.field, field)
    assert net.sim_steps == steps


@pytest.mark.parametrize("make, match", [
    (lambda net: BinaryNeuronPopulation(net, N=0), "N"),
    (lambda net: BinaryNeuronPopulation(net, N=3, tau=0), "tau"),
    (lambda net: BinaryNeuronPopulation(net, N=3, tau=float("nan")), "tau"),
    (lambda net: BinaryNeuronPopulation(net, N=3, threshold=float("nan")), "threshold"),
    (lambda net: BackgroundActivity(net, N=3, Activity=1.5), "Activity"),
])
def test_bad_population_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(BinaryNetwork())


@pytest.mark.parametrize("kwargs, match", [
    ({"p": -0.1}, "p"), ({"p": float("nan")}, "p"), ({"j": float("inf")}, "j"),
])
def test_bad_synapse_arguments(kwargs, match):
    net = BinaryNetwork()
    pop = net.add_population(BinaryNeuronPopulation(net, N=3))
    with pytest.raises(ValueError, match=match):
        PairwiseBernoulliSynapse(net, pop, pop, **kwargs)


def test_run_before_initialize_is_refused():
    net = BinaryNetwork()
    net.add_population(BinaryNeuronPopulation(net, N=3))
    with pytest.raises(RuntimeError, match="initialize"):
        net.run(1)
