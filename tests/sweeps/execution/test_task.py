"""Point tasks: networks x inits, seeds by coordinates, one build per network, sampled neurons."""

from __future__ import annotations

import numpy as np
import pytest

from sweeps.errors import DefinitionError
from sweeps.execution import task as simulate
from sweeps.execution.task import TIMING_VARIABLES, _sample_neurons, run_points
from sweeps.plan import SweepPlan
from sweeps.spec.definition import parse_experiment
from sweeps.spec.grid import Grid
from sweeps.spec.seeds import RECORDING, point_seeds
from tests.reference.points import simulate_point
from tests.sweeps.spec.test_definition import definition

TOY = """\
[experiment]
name = "inits"
model = "tests.reference.toymodel:build"
seed = 11

[parameters]
N_E = 40
N_I = 10
Q = 2
{parameters}

[sweep]
{sweep}

[simulation]
duration = "10 ms"
sample_interval = "2 ms"
{simulation}

[output]
correlation_neurons = 6
"""


def toy(sweep: str, parameters: str = "", simulation: str = ""):
    return parse_experiment(TOY.format(sweep=sweep, parameters=parameters, simulation=simulation))


def find(experiment, network=0, init=0, **values) -> int:
    grid = Grid.from_experiment(experiment)
    matches = [i for i in grid if grid.network(i) == network and grid.init(i) == init
               and all(grid.parameters(i)[k] == v for k, v in values.items())]
    assert len(matches) == 1
    return matches[0]


def comparable(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in TIMING_VARIABLES}


def assert_same_values(a: dict, b: dict) -> None:
    a, b = comparable(a), comparable(b)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_networks_and_inits_are_the_last_dimensions():
    exp = toy("R_Eplus = [1.0, 2.0]\nnetworks = 3\ninits = 2")
    assert exp.dims == ("R_Eplus", "network", "init") and exp.shape == (2, 3, 2)
    assert toy("inits = 4").dims == ("init",)
    assert toy("R_Eplus = [1.0]").dims == ("R_Eplus", "seed")  # no replicate keys: as before
    assert toy("replicates = 3").shape == (3,)


@pytest.mark.parametrize("sweep, field", [
    ("replicates = 2\nnetworks = 2", "sweep.replicates"),
    ("networks = 0", "sweep.networks"),
    ("inits = 1.5", "sweep.inits"),
    ("network = [1, 2]", "sweep.network"),
])
def test_bad_replicate_keys_name_the_field(sweep, field):
    with pytest.raises(DefinitionError) as err:
        toy(sweep)
    assert str(err.value).startswith(field + ":") and "\n" not in str(err.value)


def test_replicates_are_networks_under_the_old_name():
    old, new = toy("R_Eplus = [2.0]\nreplicates = 2"), toy("R_Eplus = [2.0]\nnetworks = 2")
    assert_same_values(simulate_point(old, 1), simulate_point(new, 1))


def test_a_points_data_do_not_depend_on_the_grid_it_is_in():
    small = toy("R_Eplus = [2.0]\ninits = 2")
    large = toy("g = [1.3, 1.2]\nR_Eplus = [3.0, 2.0, 1.0]\nnetworks = 2\ninits = 3", parameters="")
    a = simulate_point(small, find(small, init=1, R_Eplus=2.0))
    b = simulate_point(large, find(large, init=1, R_Eplus=2.0, g=1.2))
    assert_same_values(a, b)
    other_init = simulate_point(large, find(large, init=2, R_Eplus=2.0, g=1.2))
    assert not np.array_equal(a["activity"], other_init["activity"])


def test_common_random_numbers_same_network_same_wiring_across_parameters(monkeypatch):
    built = []
    original = simulate._build

    def spy(plan, index):
        net, seconds = original(plan, index)
        built.append((plan.grid.parameters(index)["g"], plan.grid.network(index), net.W.copy()))
        return net, seconds

    monkeypatch.setattr(simulate, "_build", spy)
    exp = toy("g = [1.0, 2.0]\nnetworks = 2")
    run_points(SweepPlan.build(exp), list(Grid.from_experiment(exp)))
    wiring = {(g, n): w != 0 for g, n, w in built}
    np.testing.assert_array_equal(wiring[1.0, 0], wiring[2.0, 0])  # same draws, other weights
    assert not np.array_equal(wiring[1.0, 0], wiring[1.0, 1])


def test_each_network_is_built_once_and_results_equal_separate_builds(monkeypatch):
    exp = toy("R_Eplus = [1.0, 2.0]\nnetworks = 2\ninits = 3")
    grid = Grid.from_experiment(exp)
    separately = {i: simulate_point(exp, i) for i in grid}
    calls = []
    original = simulate._build
    monkeypatch.setattr(simulate, "_build", lambda plan, i: calls.append(i) or original(plan, i))
    order = [5, 0, 11, 3, 7, 1, 2, 4, 6, 8, 9, 10]  # any order: points are grouped by network
    results = run_points(SweepPlan.build(exp), order)
    assert len(calls) == 4  # 2 R_Eplus x 2 networks, not 12
    assert sorted(r.index for r in results) == list(range(12)) and all(r.ok for r in results)
    for r in results:
        assert_same_values(r.values, separately[r.index])


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


def test_record_point_measures_what_a_run_stores_for_that_point():
    exp = toy("R_Eplus = [1.0, 2.0]\nnetworks = 2\ninits = 2")
    plan = SweepPlan.build(exp)
    run = {r.index: r.values for r in run_points(plan, list(Grid.from_experiment(exp)))}
    for index in (0, 6):  # a later init of a network and another network and parameter
        recording = simulate.record_point(plan, index)
        # every neuron's series of the sampled neurons, as the run measured them
        assert recording.sampled_states.shape == (exp.simulation.n_samples, recording.sampled_neurons.size)
        values = simulate.measure(recording, exp.output)
        stored = {k: v for k, v in run[index].items() if k in values}
        assert_same_values(values, stored)
