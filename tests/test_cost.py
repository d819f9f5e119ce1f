"""Run-time prediction from the model's declared cost (sweeps validate)."""

from __future__ import annotations

import pytest

from sweeps.cli import main
from sweeps.cost import BUILD_NS, FANOUT_NS, POINT_SECONDS, UPDATE_NS, predict
from sweeps.definition import parse_experiment

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
"""


def toy(replicas="networks = 3\ninits = 2", duration="100 ms", model="tests.toymodel:MODEL"):
    return parse_experiment(TOY.format(replicas=replicas, duration=duration, model=model))


def test_prediction_counts_one_build_per_network_and_every_update():
    p = predict(toy())
    n, contacts, per_ms = 50, 0.3 * 50 * 50, 40 / 10 + 10 / 5
    updates = (100 + 10) * per_ms
    assert (p.points, p.builds) == (12, 6)
    assert p.build_seconds == pytest.approx(6 * contacts * BUILD_NS * 1e-9)
    assert p.simulation_seconds == pytest.approx(12 * updates * (UPDATE_NS + FANOUT_NS * contacts / n) * 1e-9)
    assert p.seconds == pytest.approx(p.build_seconds + p.simulation_seconds + 12 * POINT_SECONDS)
    more_inits = predict(toy("networks = 3\ninits = 4"))
    assert more_inits.build_seconds == pytest.approx(p.build_seconds)  # inits reuse the build
    assert more_inits.simulation_seconds == pytest.approx(2 * p.simulation_seconds)
    assert predict(toy(model="tests.toymodel:build")) is None  # no declared cost


def test_validate_prints_the_prediction_and_how(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(TOY.format(replicas="networks = 3\ninits = 2", duration="100 ms", model="tests.toymodel:MODEL"))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "12 points = 6 tasks" in out
    assert "run time: about" in out and "how: 6 builds x contacts" in out
