"""Malformed definitions run through the CLI: one line naming the field, exit 2, no store.

Every case is a file written to a temporary directory and run as ``sweeps run FILE --store
PATH`` through ``sweeps.cli.main`` in the test process (all cases are run up front and each
parametrised test checks one of them); a case of each way out (an error of the definition, of
the command line, of a resource) also runs as ``python -m sweeps`` in a process of its own,
which must exit with the same code and write the same streams.
"""

from __future__ import annotations

import concurrent.futures
import socket

import pytest

from tests.reliability.conftest import run_cli, run_cli_in_process

BASE = {
    "experiment": 'name = "bad"\nmodel = "clustered_ei"\nseed = 1',
    "parameters": "N_E = 400\nN_I = 100\nQ = 4",
    "sweep": "R_Eplus = [1.0, 2.0]",
    "simulation": 'duration = "100 ms"\nsample_interval = "10 ms"',
}


def definition(**tables: str | None) -> str:
    """BASE with tables replaced (None drops one); ``extra`` is appended verbatim."""
    extra = tables.pop("extra", "")
    merged = {**BASE, **tables}
    return "\n".join(f"[{name}]\n{body}\n" for name, body in merged.items() if body is not None) + extra


def params(extra: str) -> str:
    return BASE["parameters"] + "\n" + extra


def simulation(extra: str) -> str:
    return BASE["simulation"] + "\n" + extra


def adaptive(variable: str) -> str:
    """BASE as an adaptive sweep refining on ``variable`` (everything else valid)."""
    return definition(sweep="R_Eplus = [1.0, 1.5, 2.0, 2.5, 3.0]\nnetworks = 2",
                      extra=f'[sweep.adaptive]\nvariable = "{variable}"\nbudget = "100 %"\nbatch = 2\n')


#: the toy model (tests/reference/toymodel.py): it accepts any parameter name, so a swept name
#: reaches the store's name checks
TOY = {"experiment": 'name = "bad"\nmodel = "tests.reference.toymodel:MODEL"\nseed = 1', "parameters": "N_E = 40\nN_I = 10\nQ = 2"}


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# (id, definition text (or bytes), extra CLI arguments, start of the field in the message (after
# "FILE: "; a line starting "error: " or "sweeps run: error: " as it is), words in the message)
CASES = [
    # syntax errors
    ("unterminated-string", '[experiment]\nname = "bad\n', (), "syntax", "invalid TOML"),
    ("missing-equals", definition(extra="[output]\nkeep_traces true\n"), (), "syntax", "invalid TOML"),
    ("duplicate-key", definition(parameters=params("N_E = 800")), (), "syntax", "invalid TOML"),
    ("table-twice", definition(extra='[simulation]\nweight_mode = "dense"\n'), (), "syntax", "invalid TOML"),
    # unknown keys, with a did-you-mean
    ("typo-experiment-key", definition(experiment=BASE["experiment"] + "\nsede = 2"), (), "experiment.sede", "did you mean 'seed'"),
    ("typo-simulation-key", definition(simulation='duraton = "1 s"\nsample_interval = "10 ms"'), (), "simulation.duraton", "did you mean 'duration'"),
    ("typo-output-key", definition(output="keep_trace = true"), (), "output.keep_trace", "did you mean 'keep_traces'"),
    ("typo-table", definition(simulations="x = 1"), (), "simulations", "did you mean 'simulation'"),
    ("typo-parameter", definition(parameters=params("tau_ee = 10.0")), (), "parameters", "did you mean 'tau_e'"),
    ("typo-range-key", definition(sweep="R_Eplus = {start = 1.0, stop = 2.0, steps = 0.5}"), (), "sweep.R_Eplus.steps", "did you mean 'step'"),
    # wrong types
    ("seed-string", definition(experiment='name = "bad"\nmodel = "clustered_ei"\nseed = "one"'), (), "experiment.seed", "must be int"),
    ("parameter-array", definition(parameters="N_E = [400]\nN_I = 100\nQ = 4"), (), "parameters.N_E", "number, string or boolean"),
    ("duration-float", definition(simulation='duration = 5.5\nsample_interval = "10 ms"'), (), "simulation.duration", '"500 ms"'),
    ("keep-traces-string", definition(output='keep_traces = "yes"'), (), "output.keep_traces", "must be bool"),
    ("budget-string", definition(simulation='duration = "100 ms"\nsample_interval = "10 ms"\nram_budget_gb = "lots"'), (), "simulation.ram_budget_gb", "must be int or float"),
    ("axis-scalar", definition(sweep="R_Eplus = 2.0"), (), "sweep.R_Eplus", "list or a range table"),
    ("experiment-not-table", 'experiment = "bad"\n', (), "experiment", "must be a table"),
    # empty or duplicated axis values
    ("empty-axis", definition(sweep="R_Eplus = []"), (), "sweep.R_Eplus", "empty axis"),
    ("duplicate-axis-values", definition(sweep="R_Eplus = [1.0, 2.0, 1.0]"), (), "sweep.R_Eplus", "duplicate values [1.0]"),
    ("duplicate-after-range", definition(sweep="R_Eplus = {linspace = [1.0, 1.0, 3]}"), (), "sweep.R_Eplus", "duplicate values"),
    ("zip-unequal", definition(sweep='[[sweep.zip]]\nname = "z"\nR_Eplus = [1.0, 2.0]\ng = [1.0]'), (), "sweep.zip[0]", "equal lengths"),
    # probabilities that leave [0, inf) after mixing
    ("negative-R-Iplus", definition(parameters=params("R_j = -2.0")), (), "parameters at R_Eplus=2.0", "R_Iplus"),
    ("zero-contrast", definition(sweep="R_Eplus = [0.0, 1.0]"), (), "parameters at R_Eplus=0.0", "0 < R"),
    ("negative-p0", definition(parameters=params("p0_ee = -0.1")), (), "parameters at R_Eplus=1.0", "p0_ee"),
    # R >= Q
    ("R-equals-Q", definition(sweep="R_Eplus = [1.0, 4.0]"), (), "parameters at R_Eplus=4.0", "< Q=4"),
    ("R-above-Q", definition(sweep="R_Eplus = {start = 2.0, stop = 6.0, step = 2.0}"), (), "parameters at R_Eplus=4.0", "< Q=4"),
    # Q must divide N_E and N_I
    ("Q-not-dividing-N_E", definition(parameters="N_E = 400\nN_I = 100\nQ = 3"), (), "parameters at R_Eplus=1.0", "Q=3 must divide N_E=400"),
    ("Q-not-dividing-N_I", definition(parameters="N_E = 400\nN_I = 102\nQ = 4"), (), "parameters at R_Eplus=1.0", "Q=4 must divide N_I=102"),
    # non-positive time constants
    ("tau_e-zero", definition(parameters=params("tau_e = 0.0")), (), "parameters at R_Eplus=1.0", "tau_e"),
    ("tau_i-negative", definition(parameters=params("tau_i = -5.0")), (), "parameters at R_Eplus=1.0", "tau_i"),
    ("tau_e-swept-zero", definition(sweep="R_Eplus = [2.0]\ntau_e = [10.0, 0.0]"), (), "parameters at R_Eplus=2.0, tau_e=0.0", "tau_e"),
    # a run shorter than one sample interval
    ("run-shorter-than-interval", definition(simulation='duration = "5 ms"\nsample_interval = "10 ms"'), (), "simulation.duration", "shorter than one sample interval"),
    ("steps-shorter-than-interval", definition(simulation='steps = 50\nsample_interval = "100 steps"'), (), "simulation.duration", "shorter than one sample interval"),
    ("zero-interval", definition(simulation='duration = "100 ms"\nsample_interval = "0 ms"'), (), "simulation.sample_interval", "> 0"),
    # axes too long to expand, or not finite (refused before anything is allocated)
    ("linspace-1e9", definition(sweep="R_Eplus = {linspace = [1.0, 2.0, 1000000000]}"), (), "sweep.R_Eplus.linspace", "more than the limit"),
    ("step-1e-10", definition(sweep="R_Eplus = {start = 1.0, stop = 2.0, step = 1e-10}"), (), "sweep.R_Eplus", "more than the limit"),
    ("step-nan", definition(sweep="R_Eplus = {start = 1.0, stop = 2.0, step = nan}"), (), "sweep.R_Eplus", "must be finite"),
    ("stop-inf", definition(sweep="R_Eplus = {start = 1.0, stop = inf, step = 0.5}"), (), "sweep.R_Eplus", "must be finite"),
    ("linspace-inf", definition(sweep="R_Eplus = {linspace = [1.0, inf, 3]}"), (), "sweep.R_Eplus.linspace", "must be finite"),
    ("duplicate-in-1e5-values", definition(sweep="g = [" + ", ".join(str(1.0 + i * 1e-5) for i in range(100_000)) + ", 1.0]\nR_Eplus = [2.0]"),
     (), "sweep.g", "duplicate values [1.0]"),
    # lengths beyond the per-point limits, or not finite (refused before a store exists)
    ("warmup-1e300-ms", definition(simulation='duration = "100 ms"\nwarmup = "1e300 ms"\nsample_interval = "10 ms"'), (), "simulation.warmup", "longer than the limit"),
    ("duration-1e12-s", definition(simulation='duration = "1e12 s"\nsample_interval = "10 ms"'), (), "simulation.duration", "longer than the limit"),
    ("duration-1e400-ms", definition(simulation='duration = "1e400 ms"\nsample_interval = "10 ms"'), (), "simulation.duration", "must be finite"),
    ("interval-1e-9-ms", definition(simulation='duration = "100 ms"\nsample_interval = "1e-9 ms"'), (), "simulation.sample_interval", "more than the limit"),
    ("steps-1e300", definition(simulation='duration = "1e300 steps"\nsample_interval = "1e299 steps"'), (), "simulation.duration", "longer than the limit"),
    # unknown model or backend
    ("unknown-model", definition(experiment='name = "bad"\nmodel = "clustred_ei"\nseed = 1'), (), "experiment.model", "allowed: clustered_ei"),
    ("unimportable-model", definition(experiment='name = "bad"\nmodel = "no_such_module:build"\nseed = 1'), (), "experiment.model", "cannot import"),
    ("unknown-weight-mode", definition(simulation='duration = "100 ms"\nsample_interval = "10 ms"\nweight_mode = "csr"'), (), "simulation.weight_mode", "auto, dense, sparse"),
    ("unknown-backend", definition(), ("--cluster", "lsf"), "sweeps run: error: argument --cluster", "choose from 'slurm', 'pbs'"),
    ("model-dotdot", definition(experiment='name = "bad"\nmodel = "..x:y"\nseed = 1'), (), "experiment.model", "is not 'package.module:NAME'"),
    ("scheduler-garbage", definition(), ("--scheduler", "garbage"), "error: scheduler", "not a scheduler address"),
    ("scheduler-unreachable", definition(), ("--scheduler", f"tcp://127.0.0.1:{closed_port()}"), "error: scheduler", "cannot connect"),
    # a file that is not UTF-8, a boolean where an integer is required
    ("not-utf8", definition().encode() + b"# caf\xe9\n", (), "file", "is not UTF-8 text"),
    ("N_E-true", definition(parameters="N_E = true\nN_I = 100\nQ = 4"), (), "parameters at R_Eplus=1.0", "N_E must be a positive integer, got a boolean"),
    # sizes, memory and cost beyond the [limits] (arithmetic only: nothing allocated)
    ("inits-1e12", definition(sweep="R_Eplus = [1.0, 2.0]\ninits = 1000000000000"), (), "limits.points", "2e+12 points"),
    ("grid-1e12", definition(sweep="R_Eplus = {linspace = [1.0, 2.0, 1000000]}\ng = {linspace = [1.0, 2.0, 1000000]}"),
     (), "limits.points", "1e+12 points"),
    ("point-memory", definition(parameters="N_E = 4000\nN_I = 1000\nQ = 500", simulation='duration = "1e9 ms"\nsample_interval = "100 ms"'),
     (), "limits.point_memory_gb", "one point needs about"),
    ("store-size", definition(extra="[limits]\nstore_gb = 1e-6\n"), (), "limits.store_gb", "the store would hold"),
    ("core-hours", definition(sweep="R_Eplus = {linspace = [1.0, 2.0, 1000]}\nnetworks = 1000", simulation='duration = "1e9 ms"\nsample_interval = "1000 s"'),
     (), "limits.core_hours", "core-hours, more than the limit of 100000"),
    ("limit-inf", definition(extra="[limits]\ncore_hours = inf\n"), (), "limits.core_hours", "finite number > 0"),
    ("limit-unknown", definition(extra="[limits]\ncore_hour = 10\n"), (), "limits.core_hour", "did you mean 'core_hours'"),
    ("correlation-neurons-1e9", definition(output="correlation_neurons = 1000000000"), (), "output.correlation_neurons",
     "more than the largest population (E0: 100 neurons)"),
    ("ram-budget-inf", definition(simulation=simulation("ram_budget_gb = inf")), (), "simulation.ram_budget_gb", "finite number > 0"),
    ("ram-budget-nan", definition(simulation=simulation("ram_budget_gb = nan")), (), "simulation.ram_budget_gb", "finite number > 0"),
    ("ram-budget-negative", definition(simulation=simulation("ram_budget_gb = -1")), (), "simulation.ram_budget_gb", "finite number > 0"),
    # swept names that are arrays of the store, or no array name at all
    ("axis-time", definition(**TOY, sweep="R_Eplus = [1.0, 2.0]\ntime = [1.0, 2.0]"), (), "sweep.time", "inner dimension"),
    ("axis-population", definition(**TOY, sweep="population = [1.0, 2.0]"), (), "sweep.population", "inner dimension"),
    ("axis-pair_type", definition(**TOY, sweep="pair_type = [1.0, 2.0]"), (), "sweep.pair_type", "inner dimension"),
    ("axis-population_size", definition(**TOY, sweep="population_size = [1.0, 2.0]"), (), "sweep.population_size", "array of every store"),
    ("axis-status", definition(**TOY, sweep="status = [1.0, 2.0]"), (), "sweep.status", "array of every store"),
    ("axis-variable", definition(**TOY, sweep="mean_activity_E = [1.0, 2.0]"), (), "sweep.mean_activity_E", "a variable"),
    ("axis-slash", definition(sweep='R_Eplus = [1.0, 2.0]\n"a/b" = [1.0, 2.0]'), (), "sweep.a/b", "cannot name an array"),
    ("axis-dunder", definition(**TOY, sweep='__x = [1.0, 2.0]'), (), "sweep.__x", "cannot name an array"),
    ("zip-time", definition(sweep='[[sweep.zip]]\nname = "time"\nR_Eplus = [1.0, 2.0]\ng = [1.0, 1.1]'), (), "sweep.zip[0].name", "inner dimension"),
    ("zip-slash", definition(sweep='[[sweep.zip]]\nname = "a/b"\nR_Eplus = [1.0, 2.0]\ng = [1.0, 1.1]'), (), "sweep.zip[0].name", "cannot name an array"),
    ("zipped-cluster", definition(**TOY, sweep='[[sweep.zip]]\nname = "z"\nR_Eplus = [1.0, 2.0]\ncluster = [1.0, 1.1]'), (),
     "sweep.zip[0].cluster", "inner dimension"),
    # an adaptive variable that is no deterministic result of the model: wall times, resources,
    # bookkeeping of the start, arrays and dimensions the store keeps itself
    *[(f"adaptive-variable-{name}", adaptive(name), (), "sweep.adaptive.variable", words)
      for name, words in (
          ("build_seconds", "timing or bookkeeping variable"), ("simulation_seconds", "timing or bookkeeping variable"),
          ("updates_per_second", "timing or bookkeeping variable"), ("connectivity_bytes", "timing or bookkeeping variable"),
          ("start_copy", "timing or bookkeeping variable"), ("initial_source", "timing or bookkeeping variable"),
          ("status", "kept by the store itself"), ("adaptive_round", "kept by the store itself"),
          ("network", "kept by the store itself"), ("mf_bifurcation_R_Eplus", "kept by the store itself"))],
    # a network larger than the RAM budget (refused before any work, not while building)
    ("over-ram-budget", definition(simulation='duration = "100 ms"\nsample_interval = "10 ms"\nram_budget_gb = 0.0001'), (), "simulation.ram_budget_gb", "too small"),
    ("dense-over-ram-budget", definition(parameters="N_E = 200000\nN_I = 50000\nQ = 4",
                                         simulation='duration = "100 ms"\nsample_interval = "10 ms"\nweight_mode = "dense"\nram_budget_gb = 8'),
     (), "simulation.ram_budget_gb", f"dense connectivity needs about {250_000 * 250_008 / 2 / 2**30:.3g} GiB"),  # 4-bit counts
]


def _case(case):
    return case.values if hasattr(case, "values") else case


#: cases also run as ``python -m sweeps`` in a subprocess: one of each way out of ``main`` (a
#: definition error, bytes that are not UTF-8, a model imported from a file, an argparse error,
#: an ``error:`` line of a resource that cannot be reached)
IN_SUBPROCESS = ("unterminated-string", "not-utf8", "axis-time", "unknown-backend", "scheduler-unreachable")


def _run_case(root, case, runner):
    """Write ``case`` to its own directory under ``root`` and run it; id -> (directory, file, result)."""
    name, text, args, _, _ = _case(case)
    directory = root / name
    directory.mkdir()
    path = directory / "definition.toml"
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return name, (directory, path, runner("run", path, "--store", directory / "store.zarr", *args))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case run through ``sweeps.cli.main`` in this process; id -> (directory, file, result)."""
    root = tmp_path_factory.mktemp("bad-definitions")
    return dict(_run_case(root, case, run_cli_in_process) for case in CASES)


@pytest.fixture(scope="module")
def subprocess_outcomes(tmp_path_factory):
    """The cases of ``IN_SUBPROCESS`` run as ``python -m sweeps`` (two at a time)."""
    root = tmp_path_factory.mktemp("bad-definitions-subprocess")
    cases = [c for c in CASES if _case(c)[0] in IN_SUBPROCESS]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(pool.map(lambda case: _run_case(root, case, run_cli), cases))


def _check(outcome, field, words):
    """One line on stderr naming the field (after the file's name), exit 2, no store, no stdout."""
    directory, path, result = outcome
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    prefix = field if field.startswith(("error: ", "sweeps run: error: ")) else f"{path}: {field}"
    assert lines[0].startswith(prefix), lines[0]
    assert words in lines[0]
    assert result.returncode == 2
    assert sorted(p.name for p in directory.iterdir()) == ["definition.toml"]  # no store, no lock
    assert result.stdout == ""


@pytest.mark.parametrize(("name", "text", "args", "field", "words"), CASES, ids=[_case(c)[0] for c in CASES])
def test_bad_definition_gives_one_line_naming_the_field_and_no_store(name, text, args, field, words, outcomes, reliability):
    reliability.bad_input()
    _check(outcomes[name], field, words)


@pytest.mark.parametrize("name", IN_SUBPROCESS)
def test_bad_definition_in_a_process_of_its_own_exits_alike(name, outcomes, subprocess_outcomes):
    """``python -m sweeps``: the same exit code and streams as ``main`` in the test process."""
    (_, _, _, field, words), = (_case(c) for c in CASES if _case(c)[0] == name)
    _check(subprocess_outcomes[name], field, words)
    (_, path, result), (_, own_path, own) = outcomes[name], subprocess_outcomes[name]
    assert own.returncode == result.returncode
    assert (own.stdout, own.stderr) == (result.stdout, result.stderr.replace(str(path), str(own_path)))


def test_the_base_definition_is_valid(tmp_path):
    """Control: the cases fail because of their one defect, not because of the base."""
    path = tmp_path / "base.toml"
    path.write_text(definition())
    result = run_cli_in_process("validate", path)
    assert result.returncode == 0, result.stderr
    assert len(CASES) >= 30


def test_connectivity_estimate_refuses_what_the_engine_refuses():
    """The validation-time estimate gives the engine's own error (same layout, same bytes)."""
    from binnet_core.clustered import ClusteredEINetwork, estimate_connectivity_bytes

    for connection_type in ("poisson", "bernoulli", "fixed_indegree"):
        for weight_mode in ("auto", "dense", "sparse"):
            parameters = {"N_E": 400, "N_I": 100, "Q": 5, "R_Eplus": 2.5, "kappa": 0.5, "connection_type": connection_type}
            with pytest.raises(ValueError, match="too small") as estimated:
                estimate_connectivity_bytes(parameters, weight_mode, 1e-5)
            with pytest.raises(ValueError, match="too small") as built:
                ClusteredEINetwork(parameters, weight_mode=weight_mode, ram_budget_gb=1e-5, seed=1)
            assert str(estimated.value) == str(built.value)
            assert estimate_connectivity_bytes(parameters, weight_mode, 12.0) > 0



def test_limits_are_raised_in_the_definition_or_on_the_command_line(tmp_path):
    """Control: the definitions refused for their [limits] validate once the limit is raised."""
    cases = {c[0]: c[1] for c in map(_case, CASES)}
    for name, override in (("core-hours", "limits.core_hours=1e6"), ("store-size", "limits.store_gb=1")):
        path = tmp_path / f"{name}.toml"
        path.write_text(cases[name])
        result = run_cli_in_process("validate", path, override, "--json")
        assert result.returncode == 0, result.stderr
    path = tmp_path / "points.toml"
    path.write_text(definition(sweep="R_Eplus = [1.0, 2.0]\ninits = 3", extra="[limits]\npoints = 5\n"))
    result = run_cli_in_process("validate", path)
    assert result.returncode == 2 and "limits.points: the grid R_Eplus=2 x init=3 has 6 points" in result.stderr
    assert run_cli_in_process("validate", path, "limits.points=6").returncode == 0
