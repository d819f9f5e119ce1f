"""Runs in slices and stop events: slicing never changes a run; a set stop event ends a run
between two slices, with the network as after its last whole slice."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import binnet_core.network as network_module
from binnet_core import ClusteredEINetwork, PopulationActivityRecorder
from binnet_core.recorders import MomentRecorder
from binnet_core.stopping import RunStopped, stop_when

PARAMETERS = {"N_E": 80, "N_I": 20, "Q": 2, "R_Eplus": 1.5}


def _run(chunk: int, steps: int, interval: int):
    original = network_module.MAX_CHUNK
    network_module.MAX_CHUNK = chunk
    try:
        net = ClusteredEINetwork(PARAMETERS, seed=5)
        activity, moments = PopulationActivityRecorder(interval), MomentRecorder(interval)
        net.run(steps // 3)  # a warm-up without recorders, then a recorded run
        net.run(steps, recorders=[activity, moments])
    finally:
        network_module.MAX_CHUNK = original
    return (net.state, net.field, net.up_transitions, net._rng_state, activity.values, activity.times,
            moments.state_mean, moments.field_mean, moments.field_variance)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 5000), steps=st.integers(700, 6000), interval=st.integers(1, 700))
def test_slices_of_any_size_give_bit_identical_runs(chunk, steps, interval):
    for got, expected in zip(_run(chunk, steps, interval), _run(1 << 40, steps, interval), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_a_set_stop_event_ends_the_run_between_slices(monkeypatch):
    monkeypatch.setattr(network_module, "MAX_CHUNK", 1000)
    stop = threading.Event()
    net = ClusteredEINetwork(PARAMETERS, seed=5)

    class StopAfter:  # sets the event at the second sample (after 2 slices of 1,000 updates)
        interval = 1000

        def record(self, network):
            if network.sim_steps == 2000:
                stop.set()

    with stop_when(stop), pytest.raises(RunStopped):
        net.run(10**12, recorders=[StopAfter()])  # hours without the event
    assert net.sim_steps == 2000  # stopped before the third slice
    reference = ClusteredEINetwork(PARAMETERS, seed=5)
    reference.run(2000)
    np.testing.assert_array_equal(net.state, reference.state)
    with pytest.raises(RunStopped):
        with stop_when(stop):
            net.run(1)
    net.run(1)  # outside the block the event is not consulted
    assert net.sim_steps == 2001
