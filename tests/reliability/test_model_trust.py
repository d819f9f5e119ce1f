"""Custom models: a definition runs a module only if it names it explicitly and the module is on
the import path (never implicitly from the current directory); stores never import a model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sweeps import LocalThreads, load_experiment, run_sweep
from tests.conftest import ROOT, TOY_TOML, subprocess_env
from tests.reliability.conftest import toy

EVIL = """\
from pathlib import Path
Path({marker!r}).write_text("imported")
from tests.reference.toymodel import MODEL
"""


def _cli(*args, cwd, pythonpath):
    env = {**subprocess_env(), "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    return subprocess.run([sys.executable, "-m", "sweeps", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_validate_never_imports_a_module_from_the_current_directory(tmp_path, reliability):
    reliability.bad_input()
    marker = tmp_path / "marker"
    (tmp_path / "localmodel.py").write_text(EVIL.format(marker=str(marker)))
    definition = tmp_path / "exp.toml"
    definition.write_text(TOY_TOML.format(extra_parameters="", extra_output="").replace(
        "tests.reference.toymodel:build", "localmodel:MODEL"))
    refused = _cli("validate", definition, cwd=tmp_path, pythonpath=[ROOT])
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "experiment.model" in refused.stderr and "not from the current directory" in refused.stderr
    assert not marker.exists()
    chosen = _cli("validate", definition, cwd=tmp_path, pythonpath=[ROOT, tmp_path])  # an explicit choice
    assert chosen.returncode == 0, chosen.stderr
    assert marker.exists()


@pytest.mark.parametrize("model", ["..x:y", ".toymodel:MODEL", "tests/reference/toymodel.py:MODEL",
                                   "tests.reference.toymodel:", "a b:c"])
def test_a_model_that_is_no_absolute_module_path_is_one_line(model, tmp_path, reliability):
    reliability.bad_input()
    definition = tmp_path / "exp.toml"
    definition.write_text(TOY_TOML.format(extra_parameters="", extra_output="").replace(
        "tests.reference.toymodel:build", model))
    refused = _cli("validate", definition, cwd=tmp_path, pythonpath=[ROOT])
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "experiment.model" in refused.stderr


READ_ONLY = """\
import sys
from sweeps.cli import main
store, out = sys.argv[1], sys.argv[2]
codes = [main(["status", store]), main(["status", store, "--verify"]), main(["show", store]),
         main(["export", store, out])]
import sweeps
sweeps.open_results(store).load()
print(codes, sorted(m for m in sys.modules if m.startswith("tests")))
"""


def test_reading_a_store_never_imports_its_model(tmp_path, reliability):
    definition, store = toy(tmp_path / "toy.toml", ""), tmp_path / "r.zarr"
    assert run_sweep(load_experiment(definition), store, LocalThreads(1), limit=2).executed == 2
    proc = subprocess.run([sys.executable, "-c", READ_ONLY, str(store), str(tmp_path / "r.nc")], cwd=tmp_path,
                          env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[1, 1, 0, 0] []"
