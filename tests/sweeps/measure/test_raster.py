"""Spike rasters: the stored up-transition times against a naive extraction from the state
trace of a re-simulation, the raster points, the cap, and no effect on the other variables."""
from __future__ import annotations

import numpy as np
import pytest

from sweeps.errors import SweepsError
from sweeps.execution import task
from sweeps.execution.initial import start as start_network
from sweeps.execution.task import TIMING_VARIABLES, _build, _start_plan
from sweeps.measure.raster import raster_neurons
from sweeps.models.model import Layout
from sweeps.plan import SweepPlan
from sweeps.spec.definition import parse_experiment
from tests.reference.points import simulate_point

DEFINITION = """\
[experiment]
name = "raster"
model = "clustered_ei"
seed = 5

[parameters]
N_E = 160
N_I = 40
Q = 4
R_Eplus = 2.0
m_X = 0.1

[sweep]
kappa = [0.0, 1.0]
networks = 2
inits = 2

[simulation]
duration = "200 ms"
warmup = "10 ms"
sample_interval = "2 ms"

[output]
correlation_neurons = 8
{output}
"""


def experiment(output: str = "raster_neurons = 7\nraster_events = 40"):
    return parse_experiment(DEFINITION.format(output=output))


def naive_raster(plan: SweepPlan, index: int) -> list[np.ndarray]:
    """Re-simulate point ``index`` with the whole state logged after every update of the window
    and list, per raster neuron, the times (ms after warm-up) of its 0 -> 1 flips."""
    exp = plan.experiment
    net, _ = _build(plan, index)
    layout = Layout.from_populations(net.populations)
    start_network(net, layout, _start_plan(plan, index, layout), exp.simulation, plan.grid.seeds(index))
    net.run(net.ms_to_steps(10.0))
    steps = exp.simulation.n_samples * net.ms_to_steps(2.0)
    before = net.state.copy()
    net.enable_step_logging(steps)
    net.run(steps)
    states = np.vstack([before[None, :], net.consume_step_log()])  # row u: after update u
    ids, _ = raster_neurons([p.N for p in net.populations], exp.output["raster_neurons"])
    events = []
    for neuron in ids:
        trace = states[:, neuron]
        updates = [u for u in range(1, len(trace)) if trace[u - 1] == 0 and trace[u] == 1]
        events.append(np.array(updates) / net.updates_per_ms)
    return events


def test_raster_equals_the_up_transitions_of_a_resimulated_state_trace(monkeypatch):
    monkeypatch.setattr(task, "RASTER_BLOCK_UPDATES", 3000)  # several diff-log blocks
    exp = experiment()
    plan = SweepPlan.build(exp)
    index = next(i for i in plan.grid if plan.grid.network(i) == 0 and plan.grid.init(i) == 0
                 and plan.grid.parameters(i)["kappa"] == 1.0)
    values = simulate_point(exp, index)
    expected = naive_raster(plan, index)
    assert values["raster_times"].shape == (len(expected), 40)
    assert sum(len(e) for e in expected) > 100  # the comparison has events to compare
    for row, (times, count) in enumerate(zip(values["raster_times"], values["raster_count"], strict=True)):
        assert count == len(expected[row])
        kept = expected[row][:40]
        np.testing.assert_allclose(times[: kept.size], kept.astype(np.float32), rtol=0, atol=0)
        assert np.isnan(times[kept.size:]).all()


def test_the_cap_keeps_the_first_events_and_counts_all():
    values = simulate_point(experiment("raster_neurons = 7\nraster_events = 2"), 0)
    full = simulate_point(experiment("raster_neurons = 7\nraster_events = 200"), 0)
    assert (values["raster_count"] == full["raster_count"]).all()
    assert (full["raster_count"] > 2).any()
    np.testing.assert_array_equal(values["raster_times"], full["raster_times"][:, :2])


def test_only_the_chosen_points_record_a_raster_and_the_rest_is_unchanged():
    exp = experiment("raster_neurons = 7\nraster_events = 40\nraster_inits = 1\nraster_networks = 2")
    plan = SweepPlan.build(exp)
    plain = SweepPlan.build(experiment(""))
    assert "raster_times" not in plain.dtypes and "raster_times" in plan.dtypes
    for index in plan.grid:
        (with_raster,) = task.run_points(plan, [index])
        (without,) = task.run_points(plain, [index])
        chosen = plan.grid.init(index) == 0
        counts = with_raster.values["raster_count"]
        assert (counts >= 0).all() if chosen else (counts == -1).all()
        assert np.isnan(with_raster.values["raster_times"]).all() != chosen
        for name, value in without.values.items():
            if name not in TIMING_VARIABLES:
                np.testing.assert_array_equal(with_raster.values[name], value, err_msg=name)


def test_raster_neurons_are_evenly_spaced_per_population():
    ids, pops = raster_neurons([10, 4, 3], 4)
    assert ids.tolist() == [0, 2, 5, 7, 10, 11, 12, 13, 14, 15, 16]
    assert pops.tolist() == [0] * 4 + [1] * 4 + [2] * 3
    ids, pops = raster_neurons([10, 4, 3], stride=3)  # the reference's stride: ids % 3 == 0
    assert ids.tolist() == [0, 3, 6, 9, 12, 15] and pops.tolist() == [0, 0, 0, 0, 1, 2]


def test_a_stride_chooses_every_nth_neuron_of_the_network():
    values = simulate_point(experiment("raster_stride = 20\nraster_events = 5"), 0)
    assert values["raster_count"].shape == (10,)  # 200 neurons
    with pytest.raises(SweepsError, match="not both"):
        experiment("raster_stride = 20\nraster_neurons = 2")


@pytest.mark.parametrize("option", ["raster_neurons = -1", "raster_events = 0", "raster_inits = 0"])
def test_bad_raster_options_are_refused_naming_the_key(option):
    with pytest.raises(SweepsError, match=option.split(" ")[0]):
        experiment(option)


def test_a_sweep_stores_the_rasters_with_their_neurons(tmp_path):
    import sweeps

    text = DEFINITION.format(output="raster_neurons = 3\nraster_events = 25")
    ds = sweeps.run(text, tmp_path / "r.zarr", backend="threads", progress=False)
    assert ds["raster_times"].dims[-2:] == ("raster_neuron", "raster_event")
    assert ds["raster_times"].attrs["units"] == "ms"
    ids, pops = raster_neurons([40] * 4 + [10] * 4, 3)
    assert ds["raster_neuron"].values.tolist() == ids.tolist()
    assert ds["raster_population"].values.tolist() == [ds["population"].values[p] for p in pops]
    first = ds.isel(network=0, init=0)
    assert (first["raster_count"] >= 0).all()  # the fill -1 of the points without one reads as NaN
    assert ds.isel(init=1)["raster_count"].isnull().all() and ds.isel(init=1)["raster_times"].isnull().all()
    point = simulate_point(parse_experiment(text), 0)  # the store holds what the task measured
    np.testing.assert_array_equal(ds["raster_times"].isel(kappa=0, network=0, init=0), point["raster_times"])
