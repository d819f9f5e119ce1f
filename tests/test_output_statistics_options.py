"""[output] options of the statistics: min_episode, correlation_neurons per population."""
from __future__ import annotations

import numpy as np
import pytest

from sweeps.errors import DefinitionError
from sweeps.run.task import _sample_neurons
from sweeps.spec.definition import parse_experiment
from sweeps.spec.seeds import RECORDING, point_seeds
from tests.test_definition import definition


def test_min_episode_is_a_model_time_with_a_default():
    assert parse_experiment(definition()).output.min_episode_ms == 200.0
    assert parse_experiment(definition(output='min_episode = "0.5 s"')).output.min_episode_ms == 500.0
    with pytest.raises(DefinitionError, match="output.min_episode.*model time"):
        parse_experiment(definition(output='min_episode = "100 steps"'))
    with pytest.raises(DefinitionError, match="output.min_episode"):
        parse_experiment(definition(output="min_episode = 200"))


class _Pop:
    def __init__(self, start, n):
        self.view, self.N = (start, start + n), n


def test_neurons_are_sampled_in_every_population():
    exp = parse_experiment(definition(output="correlation_neurons = 4"))
    pops = [_Pop(0, 10), _Pop(10, 3), _Pop(13, 7)]
    def rng(network):  # the recording stream of a point
        return point_seeds(exp.seed, network, 0).rng(RECORDING)

    neurons, which = _sample_neurons(rng(5), pops, exp.output.correlation_neurons)
    np.testing.assert_array_equal(np.bincount(which), [4, 3, 4])  # a small population whole
    for p, pop in enumerate(pops):
        inside = neurons[which == p]
        assert np.all((inside >= pop.view[0]) & (inside < pop.view[1]))
        assert len(set(inside)) == inside.size
    again, _ = _sample_neurons(rng(5), pops, 4)
    np.testing.assert_array_equal(neurons, again)  # seeded by the point's network and init
    assert not np.array_equal(neurons, _sample_neurons(rng(6), pops, 4)[0])
