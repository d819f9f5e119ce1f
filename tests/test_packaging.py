"""pyproject.toml: optional extras with clear errors, license, bounds that hold for the tested
versions; SLURM walltimes."""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from sweeps.cli import main
from sweeps.errors import MissingDependencyError, require_optional
from sweeps.execution.batch.config import ClusterConfig, parse_walltime

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(items) -> dict[str, Requirement]:
    return {Requirement(r).name: Requirement(r) for r in items}


def test_extras_and_core_dependencies():
    core = requirements(PROJECT["dependencies"])
    extras = {name: requirements(items) for name, items in PROJECT["optional-dependencies"].items()}
    assert not {"dask-jobqueue", "h5netcdf", "h5py"} & set(core)
    assert set(extras["cluster"]) == {"dask-jobqueue"} and set(extras["netcdf"]) == {"h5netcdf", "h5py"}
    for extra in ("cluster", "netcdf", "docs"):  # CI installs the test extra: every optional part is tested
        assert set(extras[extra]) <= set(extras["test"]), extra
    for name in ("zarr", "numba", "dask", "distributed"):
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in core[name].specifier), name


def test_license_and_classifiers():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # SPDX string instead
    assert "Programming Language :: Python :: 3.11" in PROJECT["classifiers"]
    assert "urls" not in PROJECT  # no public address yet: no URL rather than one that points nowhere


def test_constraints_satisfy_the_bounds_and_are_installed_here():
    bounds = requirements(PROJECT["dependencies"]) | requirements(PROJECT["optional-dependencies"]["test"])
    pins = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    for name in ("zarr", "numba", "dask", "distributed", "dask-jobqueue", "h5netcdf"):
        assert bounds[name].specifier.contains(pins[name]), (name, pins[name], str(bounds[name].specifier))
    for name in ("zarr", "numba", "dask"):  # the suite runs with the pinned versions
        assert metadata.version(name) == pins[name], name


@pytest.mark.parametrize("module, extra, argv", [
    ("dask_jobqueue", "cluster", ["run", "{definition}", "--store", "{store}", "--cluster", "slurm"]),
    ("h5netcdf", "netcdf", ["export", "{store}", "{out}"]),
])
def test_missing_extra_is_one_line_naming_the_install(module, extra, argv, monkeypatch, toy_definition,
                                                      store_path, tmp_path, capsys):
    if extra == "netcdf":
        assert main(["run", str(toy_definition()), "--store", str(store_path), "--threads", "1", "--limit", "1"]) == 0
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match=rf"pip install 'binnet-sweeps\[{extra}\]'"):
        require_optional(module, extra, "this")
    args = [a.format(definition=toy_definition(), store=store_path, out=tmp_path / "o.nc") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pip install 'binnet-sweeps[{extra}]'" in err[0], err


def test_slurm_day_walltimes():
    assert parse_walltime("1-00:00:00") == 86400 and parse_walltime("2-12:30:00") == 2 * 86400 + 12 * 3600 + 1800
    config = ClusterConfig.from_mapping({"walltime": "1-00:00:00", "driver_walltime": "3-00:00:00"}, "slurm")
    assert config.walltime == "24:00:00" and config.driver_walltime == "72:00:00"  # PBS and SLURM read these
    with pytest.raises(ValueError, match="D-HH:MM:SS"):
        parse_walltime("1-25")
