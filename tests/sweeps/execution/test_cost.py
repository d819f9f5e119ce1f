"""Run-time prediction from the model's declared cost (sweeps validate)."""

from __future__ import annotations

import pytest

from sweeps.cli import main
from sweeps.execution.cost import (
    BUILD_NS,
    FLIP_NS,
    MOMENT_NS,
    PAIR_NS,
    PAIR_SAMPLE_NS,
    POINT_SECONDS,
    RASTER_UPDATE_NS,
    REFERENCE_FLIPS_PER_UPDATE,
    SAMPLE_SECONDS,
    UPDATE_NS,
    format_duration,
    predict,
)
from sweeps.plan import SweepPlan
from sweeps.spec.definition import parse_experiment

TOY = """\
[experiment]
name = "cost"
model = "{model}"
seed = 1
[parameters]
N_E = 40
N_I = 10
[sweep]
g = [1.0, 1.5]
{replicas}
[simulation]
duration = "{duration}"
warmup = "10 ms"
sample_interval = "5 ms"
[output]
correlation_neurons = {neurons}
"""


def toy(replicas="networks = 3\ninits = 2", duration="100 ms", model="tests.reference.toymodel:MODEL",
        neurons=10):
    return parse_experiment(TOY.format(replicas=replicas, duration=duration, model=model,
                                       neurons=neurons))


def test_prediction_counts_one_build_per_network_and_every_update():
    p = predict(SweepPlan.build(toy()))
    n, contacts, per_ms = 50, 0.3 * 50 * 50, 40 / 10 + 10 / 5
    updates = (100 + 10) * per_ms
    assert (p.points, p.builds) == (12, 6)
    assert p.build_seconds == pytest.approx(6 * contacts * BUILD_NS * 1e-9)
    flips = updates * REFERENCE_FLIPS_PER_UPDATE  # the toy model declares no flip rate
    assert p.simulation_seconds == pytest.approx(
        12 * (updates * UPDATE_NS + flips * contacts / n * FLIP_NS) * 1e-9)
    # toy layout: E0, E1 of 20 neurons, I0, I1 of 5; 10 per population -> 10 + 10 + 5 + 5
    sampled, samples = 30, 100 / 5
    pairs = sampled * (sampled - 1) / 2
    assert p.correlation_seconds == pytest.approx(
        12 * (samples * (n * MOMENT_NS + SAMPLE_SECONDS * 1e9) + pairs * (PAIR_NS + samples * PAIR_SAMPLE_NS)) * 1e-9)
    assert p.seconds == pytest.approx(
        p.build_seconds + p.simulation_seconds + p.correlation_seconds + 12 * POINT_SECONDS)
    more_neurons = predict(SweepPlan.build(toy(neurons=20)))  # every neuron sampled: 50, quadratic in it
    moments = 12 * samples * (n * MOMENT_NS * 1e-9 + SAMPLE_SECONDS)
    assert more_neurons.correlation_seconds - moments == pytest.approx(
        (p.correlation_seconds - moments) * 50 * 49 / (30 * 29))
    assert more_neurons.simulation_seconds == p.simulation_seconds
    more_inits = predict(SweepPlan.build(toy("networks = 3\ninits = 4")))
    assert more_inits.build_seconds == pytest.approx(p.build_seconds)  # inits reuse the build
    assert more_inits.simulation_seconds == pytest.approx(2 * p.simulation_seconds)
    assert predict(SweepPlan.build(toy(model="tests.reference.toymodel:build"))) is None  # no declared cost


def test_validate_prints_the_prediction_and_how(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(TOY.format(replicas="networks = 3\ninits = 2", duration="100 ms",
                               model="tests.reference.toymodel:MODEL", neurons=10))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "12 points = 6 tasks" in out
    assert "run time: about" in out and "how: 6 builds x contacts" in out
    assert "sampled pairs x" in out
    assert "not included: the pair correlations each long single-cluster episode repeats" in out


def test_prediction_of_selected_points_adds_up_to_the_whole_grid():
    plan = SweepPlan.build(toy())
    whole = predict(plan)
    parts = [predict(plan, [i]) for i in range(len(plan.grid))]
    assert sum(q.simulation_seconds for q in parts) == pytest.approx(whole.simulation_seconds)
    assert sum(q.correlation_seconds for q in parts) == pytest.approx(whole.correlation_seconds)
    assert predict(plan, range(len(plan.grid))).build_seconds == pytest.approx(whole.build_seconds)


def test_rasters_add_their_diff_log_for_the_points_that_record_one():
    plain = predict(SweepPlan.build(toy()))
    plan = SweepPlan.build(toy(neurons="10\nraster_neurons = 2\nraster_networks = 2"))  # raster_inits = 1
    p = predict(plan)
    window = 100 * (40 / 10 + 10 / 5)  # updates of the measured window (the warm-up is not logged)
    raster_points = 2 * 2 * 1  # g values x raster networks x raster inits, of 2 x 3 x 2
    assert p.raster_seconds == pytest.approx(raster_points * window * RASTER_UPDATE_NS * 1e-9)
    assert p.seconds == pytest.approx(plain.seconds + p.raster_seconds)
    assert "rasters: window updates" in p.explain() and "rasters" not in plain.explain()
    parts = [predict(plan, [i]).raster_seconds for i in range(len(plan.grid))]
    assert sum(parts) == pytest.approx(p.raster_seconds)
    recording = [plan.grid.network(i) < 2 and plan.grid.init(i) < 1 for i in range(len(plan.grid))]
    assert [q > 0 for q in parts] == recording


def test_active_points_are_predicted_dearer_than_quiet_ones():
    from sweeps.models.clustered_ei import cost

    active, quiet = (cost({"R_Eplus": 7.25, "R_j": 0.79, "kappa": k, "p0_ee": p, "p0_ie": p, "p0_ei": p,
                           "p0_ii": p}) for k, p in ((1.0, 0.2), (0.0, 0.3)))
    assert active.flips_per_ms > 1.2 * quiet.flips_per_ms > 0


@pytest.mark.parametrize(("seconds", "text"), [(64, "1.1 min"), (59.4, "59 s"), (5, "5 s"), (600, "10 min"),
                                                (90 * 60, "1.5 h"), (3600 * 40.2, "40 h"), (119, "2 min")])
def test_format_duration_rounds_to_what_it_says(seconds, text):
    assert format_duration(seconds) == text
