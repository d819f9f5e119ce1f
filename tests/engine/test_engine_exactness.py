"""Exact update rule (ties h == theta stay off) in every layout; the kernel releases the GIL."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from binnet_core import (
    AllToAllSynapse,
    BinaryNetwork,
    BinaryNeuronPopulation,
    PairwiseBernoulliSynapse,
    PoissonSynapse,
)
from tests.engine.test_engine import two_population_network
from tests.reference import naive


def test_a_neuron_whose_field_equals_its_threshold_turns_off():
    net = BinaryNetwork("tie")
    pop = net.add_population(BinaryNeuronPopulation(net, N=4, threshold=0.5,
                                                    initializer=[1, 1, 1, 0]))
    net.add_synapse(AllToAllSynapse(net, pop, pop, j=0.25))
    net.initialize(seed=0)
    np.testing.assert_array_equal(net.field, [0.5, 0.5, 0.5, 0.75])
    net.update_sequence([0])  # h = 0.5 == theta: off
    assert net.state.tolist() == [0, 1, 1, 0]
    net.update_sequence([3])  # h = 0.5 == theta: stays off
    assert net.state.tolist() == [0, 1, 1, 0]
    net.update_sequence([0])  # h = 0.5: still off
    net.update_sequence([1])  # h = 0.25 < theta: off
    assert net.state.tolist() == [0, 0, 1, 0]


def tie_network(layout):
    """E/I network with weights and thresholds on a grid of 1/4: fields hit thresholds exactly."""
    net = BinaryNetwork("ties")
    e = net.add_population(BinaryNeuronPopulation(net, N=60, threshold=0.5, initializer=0.4))
    i = net.add_population(BinaryNeuronPopulation(net, N=30, threshold=1.0, initializer=0.4))
    net.add_synapse(PoissonSynapse(net, e, e, rate=0.3, j=0.25))
    net.add_synapse(PairwiseBernoulliSynapse(net, e, i, p=0.4, j=0.25))
    net.add_synapse(PoissonSynapse(net, i, e, rate=0.1, j=-0.5))
    net.add_synapse(PairwiseBernoulliSynapse(net, i, i, p=0.3, j=-0.25))
    if layout == "float":  # a second weight on one block: per-contact float weights
        net.add_synapse(PairwiseBernoulliSynapse(net, e, e, p=0.1, j=0.5))
    mode = {"packed": "dense", "bytes": "dense", "float": "dense", "matrix-dense": "dense",
            "matrix-sparse": "sparse"}.get(layout, layout)
    net.initialize(weight_mode=mode, seed=7)
    if layout == "bytes":
        net.connectivity = net.connectivity.with_byte_counts()
    if layout.startswith("matrix"):
        w = net.weight_matrix()
        matrix = w.toarray() if layout == "matrix-dense" else w
        net.initialize(weights=matrix, weight_mode=layout.split("-")[1], seed=7)
    return net


@pytest.mark.parametrize("layout", ["packed", "bytes", "sparse", "float", "matrix-dense",
                                    "matrix-sparse"])
def test_random_updates_with_ties_match_the_strict_reference(layout):
    net = tie_network(layout)
    w = net.weight_matrix().toarray()
    initial, thresholds = net.state.copy(), net.thresholds.astype(np.float64)
    net.enable_diff_logging(20_000)
    net.run(20_000)
    ids, deltas = net.consume_diff_log()
    neurons = ids[0]
    states, field = naive.update_sequence(w, initial, thresholds, neurons)
    before = np.vstack([initial, states[:-1]]).astype(np.float64)
    h = np.einsum("kj,kj->k", w[neurons], before)  # the field at each update
    assert np.count_nonzero(h == thresholds[neurons]) > 200  # many exact ties h == theta
    engine = BinaryNetwork.reconstruct_states_from_diff_logs(initial, ids, deltas)
    np.testing.assert_array_equal(engine, states)  # every update, not only the end
    np.testing.assert_array_equal(net.field, field)  # quarters: exact in float32


# ------------------------------------------------------------------------------ GIL
def test_two_runs_in_two_threads_progress_at_the_same_time():
    """Two ``run`` calls in two threads, each one kernel call, advance simultaneously.

    Two runs take the wall time of one only if neither kernel holds the GIL. Wall time
    itself depends on how many cores are free, so the test looks at what causes it: the
    main thread samples both workers' CPU clocks while they run. With the GIL released the
    OS interleaves (or parallelises) the workers and many samples catch both half-way; a
    kernel that holds the GIL runs them one after the other (and blocks the sampling
    thread meanwhile), so no sample sees both between 20 % and 80 % of their work.
    """
    nets = [two_population_network(seed=s, n=(400, 100)) for s in (1, 2)]
    for net in nets:
        net.run(1)  # compiled (or loaded from the cache) here, not inside the measurement
    steps = 4_000_000  # below MAX_CHUNK: one kernel call per run
    ready = threading.Barrier(3)
    clocks, cpu = [None, None], [None, None]

    def work(k):
        clocks[k] = time.pthread_getcpuclockid(threading.get_ident())
        ready.wait()
        start = time.thread_time()
        nets[k].run(steps)
        cpu[k] = (start, time.thread_time())

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    ready.wait()
    samples = []
    while all(thread.is_alive() for thread in threads):
        try:
            samples.append([time.clock_gettime(clock) for clock in clocks])
        except OSError:  # a worker ended between the check and the read
            break
        time.sleep(0.0005)
    for thread in threads:
        thread.join()
    samples = np.array(samples).reshape(-1, 2)
    (a0, a1), (b0, b1) = cpu
    progress = (samples - [a0, b0]) / [a1 - a0, b1 - b0]
    both_half_way = np.all((progress > 0.2) & (progress < 0.8), axis=1)
    assert np.count_nonzero(both_half_way) >= 3, (len(samples), progress[::10])
