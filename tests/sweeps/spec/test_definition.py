"""Experiment definitions: parsing, defaults, and one-line errors naming the field."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sweeps.errors import DefinitionError
from sweeps.spec.definition import Quantity, parse_experiment

BASE = {
    "experiment": 'name = "t"\nmodel = "tests.reference.toymodel:build"\nseed = 1',
    "parameters": "N_E = 40\nN_I = 10\nQ = 2",
    "sweep": "R_Eplus = [1.0, 2.0]",
    "simulation": 'duration = "20 ms"\nsample_interval = "2 ms"',
}


def definition(**tables: str | None) -> str:
    """A definition text: BASE with tables replaced (None drops a table)."""
    merged = {**BASE, **tables}
    return "\n".join(f"[{name}]\n{body}\n" for name, body in merged.items() if body is not None)


def test_full_schema_parses_into_frozen_objects():
    text = definition(
        sweep='R_Eplus = [1.0, 3.0, 7.25]\ng = {start = 1, stop = 3, step = 1}\n'
              'kappa = {linspace = [0.0, 1.0, 3]}\nm = {geomspace = [0.01, 1.0, 3]}\n'
              'p = {logspace = [-2, 0, 3]}\ncon = ["poisson", "bernoulli"]\nreplicates = 3\n'
              '[[sweep.zip]]\nname = "pair"\ntau_e = [10.0, 20.0]\ntau_i = [5.0, 10.0]',
        simulation='steps = 2000\nwarmup = "100 steps"\nsample_interval = "200 steps"\nweight_mode = "sparse"',
        output='keep_traces = false\npoints_per_chunk = 4',
        cluster='queue = "short"\ncores = 2',
    )
    exp = parse_experiment(text)
    assert exp.dims == ("R_Eplus", "g", "kappa", "m", "p", "con", "pair", "seed")
    assert exp.shape == (3, 3, 3, 3, 3, 2, 2, 3)
    values = {d.name: d.values for d in exp.dimensions}
    assert values["g"] == {"g": (1, 2, 3)}
    np.testing.assert_allclose(values["kappa"]["kappa"], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(values["m"]["m"], [0.01, 0.1, 1.0])
    np.testing.assert_allclose(values["p"]["p"], [0.01, 0.1, 1.0])
    assert values["pair"] == {"tau_e": (10.0, 20.0), "tau_i": (5.0, 10.0)}
    assert exp.simulation.duration == Quantity(2000, "steps")
    assert exp.simulation.n_samples == 10
    assert exp.output.keep_traces is False and exp.output.points_per_chunk == 4
    assert exp.cluster == {"queue": "short", "cores": 2}
    with pytest.raises(dataclasses.FrozenInstanceError):
        exp.seed = 2


def test_cluster_off_threshold_defaults_to_two_thirds_of_the_on_threshold():
    assert parse_experiment(definition()).output.cluster_off_threshold == 0.2
    out = parse_experiment(definition(output="cluster_threshold = 0.45")).output
    assert (out.cluster_threshold, out.cluster_off_threshold) == (0.45, 0.3)
    out = parse_experiment(definition(output="cluster_off_threshold = 0.3")).output
    assert out.cluster_off_threshold == 0.3  # equal to the on threshold: no hysteresis


def test_time_units_and_samples():
    exp = parse_experiment(definition(simulation='duration = "1 s"\nwarmup = "200 ms"\nsample_interval = "10 ms"'))
    sim = exp.simulation
    assert (sim.duration, sim.warmup, sim.sample_interval) == (Quantity(1000.0, "ms"), Quantity(200.0, "ms"), Quantity(10.0, "ms"))
    assert sim.n_samples == 100
    np.testing.assert_allclose(sim.sample_times()[[0, -1]], [10.0, 1000.0])


def test_range_with_float_step_includes_stop():
    exp = parse_experiment(definition(sweep="g = {start = 0.1, stop = 0.7, step = 0.1}"))
    assert exp.dimensions[0].values["g"] == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def test_identity_ignores_description_and_cluster_but_not_values():
    a = parse_experiment(definition())
    b = parse_experiment(definition(experiment=BASE["experiment"] + '\ndescription = "x"', cluster="cores = 4"))
    c = parse_experiment(definition(sweep="R_Eplus = [1.0, 2.5]"))
    assert a.identity() == b.identity()
    assert a.identity() != c.identity()
    assert a.sha256 != b.sha256


BAD = [
    # (tables to replace, field expected at the start of the message, words expected in it)
    ({"experiment": 'name = "t"\nmodel = "tests.reference.toymodel:build"\nseed = 1\nsede = 2'}, "experiment.sede", "did you mean 'seed'"),
    ({"simulation": 'duraton = "1 s"\nsample_interval = "1 ms"'}, "simulation.duraton", "did you mean 'duration'"),
    ({"output": "keep_trace = true"}, "output.keep_trace", "did you mean 'keep_traces'"),
    ({"simulations": "x = 1"}, "simulations", "did you mean 'simulation'"),
    ({"experiment": None}, "experiment", "missing table"),
    ({"experiment": 'model = "tests.reference.toymodel:build"\nseed = 1'}, "experiment.name", "missing"),
    ({"experiment": 'name = "t"\nseed = 1'}, "experiment.model", "missing"),
    ({"experiment": 'name = "t"\nmodel = "tests.reference.toymodel:build"'}, "experiment.seed", "missing"),
    ({"experiment": 'name = "t"\nmodel = "tests.reference.toymodel:build"\nseed = "one"'}, "experiment.seed", "must be int"),
    ({"experiment": 'name = "t"\nmodel = "tests.reference.toymodel:build"\nseed = -1'}, "experiment.seed", ">= 0"),
    ({"experiment": 'name = "a b"\nmodel = "tests.reference.toymodel:build"\nseed = 1'}, "experiment.name", "letters"),
    ({"experiment": 'name = "t"\nmodel = "nosuchmodel"\nseed = 1'}, "experiment.model", "allowed: clustered_ei"),
    ({"experiment": 'name = "t"\nmodel = "no_such_module:build"\nseed = 1'}, "experiment.model", "cannot import"),
    ({"experiment": 'name = "t"\nmodel = "tests.reference.toymodel:nothing"\nseed = 1'}, "experiment.model", "no callable"),
    ({"sweep": "R_Eplus = []"}, "sweep.R_Eplus", "empty axis"),
    ({"sweep": "R_Eplus = [1.0, 2.0, 1.0]"}, "sweep.R_Eplus", "duplicate values [1.0]"),
    ({"sweep": 'R_Eplus = [1.0, "a"]'}, "sweep.R_Eplus", "all be numbers or all strings"),
    ({"sweep": "R_Eplus = 3.0"}, "sweep.R_Eplus", "list or a range table"),
    ({"sweep": "R_Eplus = {start = 1, stop = 0, step = 1}"}, "sweep.R_Eplus", "stop >= start"),
    ({"sweep": "R_Eplus = {start = 1, stop = 2}"}, "sweep.R_Eplus.step", "missing"),
    ({"sweep": "R_Eplus = {linspace = [1, 2]}"}, "sweep.R_Eplus.linspace", "[start, stop, n]"),
    ({"sweep": "R_Eplus = {geomspace = [0, 2, 3]}"}, "sweep.R_Eplus.geomspace", "> 0"),
    ({"sweep": "R_Eplus = {linspace = [1, 2, 3], step = 1}"}, "sweep.R_Eplus", "exactly one"),
    ({"sweep": "R_Eplus = {stride = 1}"}, "sweep.R_Eplus.stride", "unknown key"),
    ({"sweep": "N_E = [40, 80]"}, "sweep.N_E", "also fixed in [parameters]"),
    ({"sweep": "seed = [1, 2]"}, "sweep.seed", "reserved"),
    ({"sweep": "replicates = 0"}, "sweep.replicates", ">= 1"),
    ({"sweep": '[[sweep.zip]]\nname = "z"\nR_Eplus = [1.0, 2.0]\ng = [1.0]'}, "sweep.zip[0]", "equal lengths"),
    ({"sweep": '[[sweep.zip]]\nname = "z"\nR_Eplus = [1.0, 2.0]'}, "sweep.zip[0]", "at least two"),
    ({"sweep": '[[sweep.zip]]\nname = "z"\nkappa = [0.0, 0.5, 0.0]\nR_j = [0.8, 0.75, 0.8]'}, "sweep.zip[0]",
     "entry 2 {'kappa': 0.0, 'R_j': 0.8} repeats entry 0"),
    ({"sweep": '[[sweep.zip]]\nR_Eplus = [1.0, 2.0]\ng = [1.0, 1.1]'}, "sweep.zip[0].name", "missing"),
    ({"simulation": 'duration = "10 ms"\nsample_interval = "20 ms"'}, "simulation.duration", "shorter than one sample interval"),
    ({"simulation": 'duration = "10 minutes"\nsample_interval = "1 ms"'}, "simulation.duration", "500 ms"),
    ({"simulation": 'duration = "10 ms"\nsteps = 100\nsample_interval = "1 ms"'}, "simulation.duration", "exactly one"),
    ({"simulation": 'duration = "10 ms"'}, "simulation.sample_interval", "missing"),
    ({"simulation": 'duration = "10 ms"\nsample_interval = "100 steps"'}, "simulation.sample_interval", "same kind"),
    ({"simulation": 'duration = "10 ms"\nsample_interval = "1 ms"\nweight_mode = "csr"'}, "simulation.weight_mode", "auto, dense, sparse"),
    ({"simulation": 'duration = "10 ms"\nsample_interval = "1 ms"\nram_budget_gb = 0'}, "simulation.ram_budget_gb", "> 0"),
    ({"output": "cluster_threshold = 1.5"}, "output.cluster_threshold", "(0, 1)"),
    ({"output": "cluster_off_threshold = 0.35"}, "output.cluster_off_threshold",
     "[0, cluster_threshold = 0.3]"),
    ({"output": "correlation_neurons = 1"}, "output.correlation_neurons", ">= 2"),
    ({"output": 'points_per_chunk = "many"'}, "output.points_per_chunk", '"auto"'),
    ({"parameters": "N_E = 41\nN_I = 10\nQ = 2"}, "parameters at R_Eplus=1.0", "N_E=41 is not divisible by Q=2"),
    ({"sweep": "g = [1.0, -1.0]"}, "parameters at g=-1.0", "g must be >= 0"),
    ({"parameters": "N_E = [40]\nN_I = 10"}, "parameters.N_E", "number, string or boolean"),
]


@pytest.mark.parametrize(("tables", "field", "words"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_definitions_name_the_field(tables, field, words):
    with pytest.raises(DefinitionError) as info:
        parse_experiment(definition(**tables))
    message = str(info.value)
    assert message.startswith(f"{field}: "), message
    assert words in message
    assert "\n" not in message


def test_syntax_error_is_one_line():
    with pytest.raises(DefinitionError) as info:
        parse_experiment('[experiment]\nname = "t\n')
    assert str(info.value).startswith("syntax: invalid TOML")
    assert "\n" not in str(info.value)
