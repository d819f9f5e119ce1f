"""``key=value`` overrides, ``--json``, ``--version``, exit codes of ``sweeps``."""

from __future__ import annotations

import json

import pytest
import zarr

from sweeps.cli import main
from sweeps.spec.overrides import apply_overrides, dumps_toml, parse_override


def test_parse_override_takes_toml_values_and_bare_words():
    assert parse_override('simulation.duration="1 s"') == (["simulation", "duration"], "1 s")
    assert parse_override("sweep.R_Eplus=[1,2,3]") == (["sweep", "R_Eplus"], [1, 2, 3])
    assert parse_override("sweep.g={start=1.0, stop=1.2, step=0.1}") == (["sweep", "g"], {"start": 1.0, "stop": 1.2, "step": 0.1})
    assert parse_override("experiment.name=run2") == (["experiment", "name"], "run2")
    assert parse_override("parameters.flag=true") == (["parameters", "flag"], True)


def test_apply_overrides_round_trips_through_toml():
    import tomllib

    from tests.conftest import TOY_TOML

    text = TOY_TOML.format(extra_parameters="", extra_output="")
    new = apply_overrides(text, ['simulation.duration="10 ms"', "sweep.R_Eplus=[1,2]", "cluster.adaptive.maximum=3"],
                          "toy.toml")
    doc = tomllib.loads(new)
    assert doc["simulation"]["duration"] == "10 ms" and doc["sweep"]["R_Eplus"] == [1, 2]
    assert doc["cluster"] == {"adaptive": {"maximum": 3}}
    expected = tomllib.loads(text)
    expected["simulation"]["duration"], expected["sweep"]["R_Eplus"] = "10 ms", [1, 2]
    expected["cluster"] = {"adaptive": {"maximum": 3}}
    assert doc == expected and new.startswith("# toy.toml with overrides: ")
    assert tomllib.loads(dumps_toml(expected)) == expected
    assert apply_overrides(text, []) == text


def test_validate_json_with_overrides(toy_definition, capsys):
    definition = toy_definition()
    assert main(["validate", str(definition), "sweep.R_Eplus=[1,2]", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["points"] == 12 and report["dimensions"] == {"R_Eplus": 2, "g": 3, "seed": 2}
    assert report["overrides"] == ["sweep.R_Eplus=[1,2]"]
    # an override after the options, and a bad one
    assert main(["validate", str(definition), "--json", "sweep.R_Eplus=[1]", 'simulation.duration="10 ms"']) == 0
    assert json.loads(capsys.readouterr().out)["points"] == 6
    assert main(["validate", str(definition), "sweep.R_Eplus=[1,"]) == 2
    assert "sweep.R_Eplus" in capsys.readouterr().err
    assert main(["validate", str(definition), "nokey=1"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(definition), "notanoverride"])
    assert exc.value.code == 2


def test_run_with_overrides_limit_json_status_and_show(toy_definition, store_path, capsys):
    definition = toy_definition()
    args = ["run", str(definition), "sweep.R_Eplus=[1.0,2.0]", "sweep.replicates=1", "--store", str(store_path),
            "--threads", "1"]
    assert main([*args, "--limit", "2"]) == 0  # did its share: exit 0
    capsys.readouterr()
    group = zarr.open_group(str(store_path), mode="r")
    assert "R_Eplus = [1.0, 2.0]" in group.attrs["sweeps_definition"]
    run = group.attrs["runs"][-1]
    assert run["overrides"] == ["sweep.R_Eplus=[1.0,2.0]", "sweep.replicates=1"]
    assert "replicates = 1" in run["definition"]
    assert main(["status", str(store_path), "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert (status["points"], status["ok"], status["todo"], status["failed"]) == (6, 2, 4, 0)
    assert main(["show", str(store_path), "--json"]) == 0
    show = json.loads(capsys.readouterr().out)
    assert show["dimensions"]["R_Eplus"]["values"] == [1.0, 2.0] and show["points"] == 6 and show["ok"] == 2
    assert show["variables"]["synapse_count"]["dtype"] == "int64"
    assert main([*args, "--limit", "100"]) == 0  # the rest: complete
    assert main([*args, "--limit", "1"]) == 0  # nothing left to do
    capsys.readouterr()


def test_limit_run_with_a_failure_exits_1(toy_definition, store_path):
    definition = toy_definition(extra_parameters="fail_g = 1.0")
    assert main(["run", str(definition), "--store", str(store_path), "--threads", "1", "--limit", "2"]) == 1


def test_version_and_exit_codes_in_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("sweeps ")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out and "130" in out and "--limit" in out
